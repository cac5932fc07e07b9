//! The characters a YAML 1.2 stream may hold, checked before parsing: `c-printable` (tab, line
//! feed, carriage return and printable characters) everywhere, with the wider JSON set (any
//! character but C0 controls) inside quoted scalars; and, for JSON files, RFC 8259's rule that no
//! control character (U+0000 to U+001F, tab and line breaks included) stands unescaped in a string.
//!
//! The parser underneath reads a NUL as the end of the text (silently dropping everything after it)
//! and accepts other controls, so this check runs first and names the first offending character's
//! line and column. It builds no values; which spans are quoted comes from the scanner's tokens,
//! asked for only when a character's verdict depends on it.

use yaml_rust2::scanner::{Scanner, TScalarStyle, TokenType};

use super::Syntax;

/// The first character the stream may not hold, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Forbidden {
    /// Index of the character in the text, counted in characters.
    pub char_index: usize,
    /// 1-based line and column (columns count characters).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Where a character may stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Anywhere.
    Anywhere,
    /// Nowhere: C0 controls other than tab, line feed and carriage return.
    Nowhere,
    /// Only inside a quoted scalar (YAML keeps those JSON-compatible): DEL, C1 controls but NEL,
    /// U+FFFE and U+FFFF.
    QuotedOnly,
    /// Tab, line feed and carriage return: anywhere in YAML, but JSON strings must escape them.
    JsonEscaped,
}

fn class(c: char) -> Class {
    match c {
        '\t' | '\n' | '\r' => Class::JsonEscaped,
        '\u{0}'..='\u{1f}' => Class::Nowhere,
        '\u{85}' => Class::Anywhere,
        '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => Class::QuotedOnly,
        _ => Class::Anywhere,
    }
}

/// `U+0000 (NUL)`: the code point, and a name people know where there is one.
fn describe(c: char) -> String {
    let name = match c {
        '\u{0}' => Some("NUL"),
        '\u{7}' => Some("BEL"),
        '\u{8}' => Some("backspace"),
        '\t' => Some("tab"),
        '\n' => Some("line feed"),
        '\u{b}' => Some("vertical tab"),
        '\u{c}' => Some("form feed"),
        '\r' => Some("carriage return"),
        '\u{1b}' => Some("ESC"),
        '\u{7f}' => Some("DEL"),
        _ => None,
    };
    match name {
        Some(n) => format!("U+{:04X} ({n})", u32::from(c)),
        None => format!("U+{:04X}", u32::from(c)),
    }
}

/// How the character is written as an escape in a double-quoted YAML or JSON string.
fn escape(c: char, syntax: Syntax) -> String {
    match (c, syntax) {
        ('\t', _) => "\\t".into(),
        ('\n', _) => "\\n".into(),
        ('\r', _) => "\\r".into(),
        ('\u{0}', Syntax::Yaml) => "\\0".into(),
        (_, Syntax::Json) => format!("\\u{:04X}", u32::from(c)),
        (c, Syntax::Yaml) if u32::from(c) <= 0xff => format!("\\x{:02X}", u32::from(c)),
        (c, Syntax::Yaml) => format!("\\u{:04X}", u32::from(c)),
    }
}

fn message(c: Class, ch: char, syntax: Syntax) -> String {
    let (lang, esc) = match syntax {
        Syntax::Yaml => ("YAML", escape(ch, syntax)),
        Syntax::Json => ("JSON", escape(ch, syntax)),
    };
    let what = describe(ch);
    match c {
        Class::QuotedOnly => format!(
            "invalid {lang}: character {what} is not allowed outside a quoted string; remove it, or write it as \"{esc}\" inside a double-quoted string"
        ),
        Class::JsonEscaped => format!(
            "invalid JSON: control character {what} inside a string must be escaped; write it as \"{esc}\""
        ),
        Class::Nowhere | Class::Anywhere => format!(
            "invalid {lang}: control character {what} is not allowed; remove it, or write it as \"{esc}\" inside a double-quoted string"
        ),
    }
}

/// Walks characters keeping the parser's idea of line and column (a line ends at `\n`, `\r\n`
/// or a lone `\r`; columns count characters from 0).
struct Cursor<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    index: usize,
    line: usize,
    col: usize,
}

impl Iterator for Cursor<'_> {
    /// The character, its index, line (1-based) and column (0-based).
    type Item = (char, usize, usize, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let c = self.chars.next()?;
        let here = (c, self.index, self.line, self.col);
        self.index += 1;
        let line_ends = c == '\n' || (c == '\r' && self.chars.peek() != Some(&'\n'));
        if line_ends {
            self.line += 1;
            self.col = 0;
        } else {
            self.col += 1;
        }
        Some(here)
    }
}

fn cursor(text: &str) -> Cursor<'_> {
    Cursor {
        chars: text.chars().peekable(),
        index: 0,
        line: 1,
        col: 0,
    }
}

/// The first character `text` may not hold, if any.
pub(super) fn first_forbidden(text: &str, syntax: Syntax) -> Option<Forbidden> {
    // One cheap pass decides whether the quoted spans are needed at all.
    let mut needs_spans = syntax == Syntax::Json;
    for (c, index, line, col) in cursor(text) {
        match class(c) {
            Class::Nowhere if !needs_spans => {
                return Some(Forbidden {
                    char_index: index,
                    line,
                    column: col + 1,
                    message: message(Class::Nowhere, c, syntax),
                });
            }
            Class::QuotedOnly => needs_spans = true,
            _ => {}
        }
    }
    if !needs_spans {
        return None;
    }
    let (starts, stop) = quoted_starts(text);
    let mut starts = starts.into_iter().peekable();
    let mut cur = cursor(text);
    let mut quote: Option<Quote> = None;
    while let Some((c, index, line, col)) = cur.next() {
        let scanned = stop.is_none_or(|s| (line, col) < s);
        let forbidden = |class: Class| Forbidden {
            char_index: index,
            line,
            column: col + 1,
            message: message(class, c, syntax),
        };
        match quote {
            None => {
                while starts.next_if(|s| (s.0, s.1) < (line, col)).is_some() {}
                if starts.next_if(|s| (s.0, s.1) == (line, col)).is_some() {
                    match c {
                        '"' => quote = Some(Quote::Double { escaped: false }),
                        '\'' => quote = Some(Quote::Single),
                        _ => {}
                    }
                    continue;
                }
                match class(c) {
                    Class::Nowhere => return Some(forbidden(Class::Nowhere)),
                    Class::QuotedOnly if scanned => return Some(forbidden(Class::QuotedOnly)),
                    _ => {}
                }
            }
            Some(q) => {
                match class(c) {
                    Class::Nowhere => return Some(forbidden(Class::Nowhere)),
                    Class::JsonEscaped if syntax == Syntax::Json => {
                        return Some(forbidden(Class::JsonEscaped))
                    }
                    _ => {}
                }
                quote = match q {
                    Quote::Double { escaped: true } => Some(Quote::Double { escaped: false }),
                    Quote::Double { escaped: false } => match c {
                        '\\' => Some(Quote::Double { escaped: true }),
                        '"' => None,
                        _ => Some(q),
                    },
                    // `''` is a quote inside a single-quoted scalar; a lone `'` ends it.
                    Quote::Single if c == '\'' => {
                        if cur.chars.peek() == Some(&'\'') {
                            cur.next();
                            Some(q)
                        } else {
                            None
                        }
                    }
                    Quote::Single => Some(q),
                };
            }
        }
    }
    None
}

#[derive(Debug, Clone, Copy)]
enum Quote {
    Double { escaped: bool },
    Single,
}

/// A line (1-based) and column (0-based), as the scanner counts them.
type LineCol = (usize, usize);

/// Where each quoted scalar starts, and where the scanner stopped on a syntax error, if it did
/// (the parser reports that error; nothing after it is judged here).
fn quoted_starts(text: &str) -> (Vec<LineCol>, Option<LineCol>) {
    let mut scanner = Scanner::new(text.chars());
    let mut starts = Vec::new();
    for token in scanner.by_ref() {
        if let TokenType::Scalar(TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted, _) =
            token.1
        {
            starts.push((token.0.line(), token.0.col()));
        }
    }
    let stop = scanner
        .get_error()
        .map(|e| (e.marker().line(), e.marker().col()));
    (starts, stop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, syntax: Syntax) -> Option<(usize, usize, String)> {
        first_forbidden(text, syntax).map(|f| (f.line, f.column, f.message))
    }

    #[test]
    fn c0_controls_are_refused_everywhere_with_their_position() {
        for (text, line, column) in [
            ("a: hello\0world\n", 1, 9),
            ("a: \"hello\0world\"\n", 1, 10),
            ("a: 'x'\nb: |\n  text\u{1b}[0m\n", 3, 7),
            ("# comment \u{7}\na: 1\n", 1, 11),
            ("a: 1\r\nb: \u{c}\n", 2, 4),
        ] {
            let got = at(text, Syntax::Yaml);
            let (l, c, msg) = got.unwrap_or_else(|| panic!("{text:?} was accepted"));
            assert_eq!((l, c), (line, column), "{text:?}: {msg}");
            assert!(
                msg.starts_with("invalid YAML: control character U+00"),
                "{msg}"
            );
        }
        let (_, _, msg) = at("a: x\0", Syntax::Yaml).expect("NUL refused");
        assert!(
            msg.contains("U+0000 (NUL)") && msg.contains("\"\\0\""),
            "{msg}"
        );
    }

    #[test]
    fn del_c1_and_noncharacters_are_refused_outside_quotes_only() {
        for text in [
            "a: \"del \u{7f} c1 \u{80} \u{9f} \u{fffe} \u{ffff}\"\n",
            "a: 'it''s \u{7f}'\n",
            "{\"a\": \"\u{9b}\"}",
            "a: \"escaped \\\" quote \u{7f}\"\n",
            "a: plain NEL \u{85} is printable\n",
            "a: tab\tand \u{feff} inside\n",
        ] {
            assert_eq!(at(text, Syntax::Yaml), None, "{text:?}");
        }
        for (text, line, column, what) in [
            ("a: plain \u{7f}\n", 1, 10, "U+007F (DEL)"),
            ("a: \"ok \u{7f}\"\nb: \u{9b}\n", 2, 4, "U+009B"),
            ("a: 'it''s'\nb: x\u{ffff}\n", 2, 5, "U+FFFF"),
            ("# \u{80} in a comment\n", 1, 3, "U+0080"),
        ] {
            let (l, c, msg) = at(text, Syntax::Yaml).unwrap_or_else(|| panic!("{text:?}"));
            assert_eq!((l, c), (line, column), "{text:?}: {msg}");
            assert!(
                msg.contains(what) && msg.contains("outside a quoted string"),
                "{msg}"
            );
        }
    }

    #[test]
    fn json_strings_must_escape_every_control_character() {
        assert_eq!(at("{\n\t\"a\": \"b\\tc\"\r\n}\n", Syntax::Json), None);
        for (text, line, column, what) in [
            ("{\"a\": \"b\tc\"}", 1, 9, "U+0009 (tab)"),
            ("{\"a\": \"line\nbreak\"}", 1, 12, "U+000A (line feed)"),
            ("{\"k\ty\": 1}", 1, 4, "U+0009 (tab)"),
        ] {
            let (l, c, msg) = at(text, Syntax::Json).unwrap_or_else(|| panic!("{text:?}"));
            assert_eq!((l, c), (line, column), "{text:?}: {msg}");
            assert!(
                msg.starts_with("invalid JSON: control character") && msg.contains(what),
                "{msg}"
            );
        }
        // The same text is fine YAML: a tab in a quoted scalar is allowed there.
        assert_eq!(at("{\"a\": \"b\tc\"}", Syntax::Yaml), None);
        let (_, _, msg) = at("{\"a\": \"\0\"}", Syntax::Json).expect("NUL refused");
        assert!(msg.contains("\"\\u0000\""), "{msg}");
    }
}
