//! Shortening text for people without breaking it: [`clip`] keeps at most a number of characters
//! (Unicode scalar values, never bytes) and marks a cut with `…`; [`clip_json`] does the same for a
//! JSON value shown inline (strings raw, `null` as `(none)`, anything else as compact JSON). Every
//! renderer that shows a user-controlled value of unbounded size goes through here instead of
//! slicing a `str` at a byte offset, which panics when the offset falls inside a multi-byte
//! character. [`md_cell`] makes any text safe for one Markdown table cell.
//!
//! It deliberately counts `char`s, not grapheme clusters or terminal columns: a cut may separate a
//! combining mark or an emoji's modifier from its base (the output is still valid UTF-8, just
//! visually shortened), and wide characters count as one. Beyond table cells it does not escape,
//! strip control characters or normalise anything: callers escape for their format (DOT, Mermaid)
//! themselves.

use serde_json::Value;

/// The mark put after clipped text (one character, U+2026).
pub const ELLIPSIS: char = '…';

/// `s` unchanged when it has at most `max_chars` characters; otherwise its first `max_chars`
/// characters followed by [`ELLIPSIS`]. Never panics and never splits a character.
pub fn clip(s: &str, max_chars: usize) -> String {
    // `char_indices().nth(n)` stops after n + 1 characters, so a huge string is not walked to its
    // end. The byte offset it yields is the start of a character, hence a valid slice boundary.
    match s.char_indices().nth(max_chars) {
        None => s.to_string(),
        Some((cut, _)) => {
            let mut out = String::with_capacity(cut + ELLIPSIS.len_utf8());
            out.push_str(s.get(..cut).unwrap_or_default());
            out.push(ELLIPSIS);
            out
        }
    }
}

/// Text for one Markdown table cell: `|` escaped and every line ending (`\n`, `\r\n` or a lone
/// `\r`, which CommonMark also ends a line with) turned into `<br>`, so a row stays one row.
pub fn md_cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\r', '\n'], "<br>")
}

/// A JSON value as one inline piece of text: a string as it is (no quotes), `null` as `(none)`,
/// anything else as compact JSON. Not clipped; see [`clip_json`].
pub fn json_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".to_string(),
        other => other.to_string(),
    }
}

/// [`json_text`] clipped to `max_chars` characters (plus [`ELLIPSIS`] when cut).
pub fn clip_json(v: &Value, max_chars: usize) -> String {
    match v {
        Value::String(s) => clip(s, max_chars),
        other => clip(&json_text(other), max_chars),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clip_table() {
        let ascii_119 = "a".repeat(119);
        let e_at_120 = format!("{ascii_119}ébc");
        let e_at_119 = format!("{}é", "a".repeat(118));
        let cases: Vec<(&str, String, usize, String)> = vec![
            ("empty", String::new(), 10, String::new()),
            ("empty, zero", String::new(), 0, String::new()),
            ("zero keeps only the mark", "abc".into(), 0, "…".into()),
            ("shorter", "abc".into(), 10, "abc".into()),
            ("exactly max", "abcde".into(), 5, "abcde".into()),
            ("one over", "abcdef".into(), 5, "abcde…".into()),
            (
                // The two-byte `é` is character 120 (index 119), so byte 120 is inside it: a byte
                // slice at 120 would panic. Counting characters keeps it.
                "two-byte char is the 120th",
                e_at_120.clone(),
                120,
                format!("{ascii_119}é…"),
            ),
            (
                "two-byte char just after the cut",
                e_at_120.clone(),
                119,
                format!("{ascii_119}…"),
            ),
            (
                "string ends exactly at the multi-byte char",
                e_at_119.clone(),
                119,
                e_at_119.clone(),
            ),
            ("CJK", "日本語のテキスト".into(), 3, "日本語…".into()),
            ("emoji (4 bytes each)", "🦀🦀🦀🦀".into(), 2, "🦀🦀…".into()),
            ("emoji fits", "🦀🦀".into(), 2, "🦀🦀".into()),
            (
                // `e` + U+0301 is two chars: the cut keeps the base and drops the mark.
                "combining mark after the cut",
                "abe\u{301}x".into(),
                3,
                "abe…".into(),
            ),
            (
                "combining mark before the cut",
                "abe\u{301}x".into(),
                4,
                "abe\u{301}…".into(),
            ),
            (
                // Family emoji: man, ZWJ, woman (4 + 3 + 4 bytes).
                "zero-width joiner sequence",
                "\u{1F468}\u{200D}\u{1F469}".into(),
                2,
                "\u{1F468}\u{200D}…".into(),
            ),
            (
                "control chars, NUL and RTL marks count as chars",
                "\0\u{202E}\u{200F}\tz".into(),
                3,
                "\0\u{202E}\u{200F}…".into(),
            ),
            ("the mark itself is a char", "……".into(), 1, "……".into()),
            ("huge max", "abc".into(), usize::MAX, "abc".into()),
        ];
        for (name, input, max, want) in cases {
            let got = clip(&input, max);
            assert_eq!(got, want, "{name}");
            assert!(got.chars().count() <= max.saturating_add(1), "{name}");
        }
    }

    #[test]
    fn clip_of_a_huge_string_is_bounded() {
        let huge = "é🦀a".repeat(100_000);
        let got = clip(&huge, 120);
        assert_eq!(got.chars().count(), 121);
        assert!(got.ends_with(ELLIPSIS));
        assert!(huge.starts_with(got.trim_end_matches(ELLIPSIS)));
    }

    #[test]
    fn clip_json_table() {
        let long_e = format!("{}é{}", "a".repeat(119), "b".repeat(10));
        let cases: Vec<(&str, Value, usize, String)> = vec![
            ("string is raw", json!("x y"), 10, "x y".into()),
            ("null", Value::Null, 10, "(none)".into()),
            ("null clipped", Value::Null, 3, "(no…".into()),
            ("number", json!(42), 10, "42".into()),
            ("bool", json!(true), 10, "true".into()),
            (
                "object is compact",
                json!({"a": [1, "b"]}),
                40,
                r#"{"a":[1,"b"]}"#.into(),
            ),
            ("array clipped", json!([1, 2, 3, 4]), 4, "[1,2…".into()),
            (
                "string with a multi-byte char at the cut",
                json!(long_e),
                120,
                format!("{}é…", "a".repeat(119)),
            ),
            (
                // Compact JSON keeps non-ASCII characters as they are: `{"k":"` is 6 chars and
                // 113 `a`s make 119, so `ü` is the 120th char and byte 120 falls inside it (the
                // case `&s[..120]` panics on).
                "object with a multi-byte char at the cut",
                json!({"k": format!("{}üzz", "a".repeat(113))}),
                120,
                format!("{{\"k\":\"{}ü…", "a".repeat(113)),
            ),
        ];
        for (name, v, max, want) in cases {
            assert_eq!(clip_json(&v, max), want, "{name}");
        }
    }

    #[test]
    fn markdown_cells_stay_on_one_row() {
        let cases = [
            ("plain", "plain"),
            ("a|b", "a\\|b"),
            ("a\nb", "a<br>b"),
            ("a\r\nb", "a<br>b"),
            ("a\rb", "a<br>b"),
            ("\n\r\r\n", "<br><br><br>"),
            // Not line endings for CommonMark: kept.
            ("é|🦀\u{2028}\u{85}", "é\\|🦀\u{2028}\u{85}"),
        ];
        for (input, want) in cases {
            assert_eq!(md_cell(input), want, "{input:?}");
        }
    }

    #[test]
    fn json_text_is_not_clipped() {
        let s = "x".repeat(1000);
        assert_eq!(json_text(&json!(s)), s);
        assert_eq!(json_text(&Value::Null), "(none)");
        assert_eq!(json_text(&json!({"a": 1})), r#"{"a":1}"#);
    }
}
