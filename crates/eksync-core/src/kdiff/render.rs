//! A human rendering of an object diff, unified-diff-like: one hunk per changed field headed by
//! its path (and, for drift, the manager that changed it), `-` lines for the live value and `+`
//! lines for the value after apply. Multi-line strings (a ConfigMap's files) are diffed line by
//! line with `similar`. Secret values never appear: a masked field renders as
//! `data.password: changed` (or `added`/`removed`).
//!
//! A minimal line diff costs time quadratic in the size of the changed region, so a changed region
//! (what is left between the first and the last differing line) of more than [`MAX_DIFF_LINES`]
//! lines on either side is shown as one hunk: its removed lines, then its added lines. The result
//! is still a correct diff, only not a minimal one, and rendering stays linear in the input.
//!
//! It does not colour, page or print: the caller decides where the text goes.

use serde_json::Value;
use similar::{Algorithm, ChangeTag};

use super::diff::{Action, FieldChange, ObjectDiff};

/// Lines of context around each change.
const CONTEXT: usize = 3;

/// The largest changed region (in lines, on either side) diffed line by line; see the module doc.
pub const MAX_DIFF_LINES: usize = 2_000;

/// Renders a diff under a title such as `Deployment ci/web`.
pub fn render(title: &str, diff: &ObjectDiff) -> String {
    let mut out = String::new();
    match diff.action {
        Action::NoChange => {
            out.push_str(&format!("  {title}: no change\n"));
            return out;
        }
        Action::CreateAfterCrd(wave) => {
            out.push_str(&format!("+ {title}: create (CRD arrives in wave {wave})\n"));
            return out;
        }
        Action::Create => out.push_str(&format!("+ {title}: create\n")),
        Action::Update => out.push_str(&format!("~ {title}: update\n")),
    }
    for c in &diff.changes {
        render_change(&mut out, c);
    }
    out
}

/// The changed fields alone, one line per rendered line (no title line, no trailing spaces): what
/// a report lists under the object it belongs to.
pub fn change_lines(diff: &ObjectDiff) -> Vec<String> {
    let mut out = String::new();
    for c in &diff.changes {
        render_change(&mut out, c);
    }
    out.lines().map(|l| l.trim_end().to_string()).collect()
}

fn render_change(out: &mut String, c: &FieldChange) {
    if c.masked {
        let what = match (&c.before, &c.after) {
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            _ => "changed",
        };
        out.push_str(&format!("    {}: {what}{}\n", c.path, drift_note(c)));
        return;
    }
    out.push_str(&format!("  @@ {}{} @@\n", c.path, drift_note(c)));
    let before = c.before.as_ref().map(text).unwrap_or_default();
    let after = c.after.as_ref().map(text).unwrap_or_default();
    let (old, new) = (lines(&before), lines(&after));
    let same_start = old.iter().zip(&new).take_while(|(o, n)| o == n).count();
    let same_end = old
        .iter()
        .skip(same_start)
        .rev()
        .zip(new.iter().skip(same_start).rev())
        .take_while(|(o, n)| o == n)
        .count();
    let changed_old = old.len() - same_start - same_end;
    let changed_new = new.len() - same_start - same_end;
    if changed_old.max(changed_new) > MAX_DIFF_LINES {
        let context_start = same_start.saturating_sub(CONTEXT);
        for line in old.iter().take(same_start).skip(context_start) {
            push_line(out, " ", line);
        }
        for line in old.iter().skip(same_start).take(changed_old) {
            push_line(out, "-", line);
        }
        for line in new.iter().skip(same_start).take(changed_new) {
            push_line(out, "+", line);
        }
        for line in old.iter().skip(same_start + changed_old).take(CONTEXT) {
            push_line(out, " ", line);
        }
        return;
    }
    let ops = similar::capture_diff_slices(Algorithm::Myers, &old, &new);
    for (i, group) in similar::group_diff_ops(ops, CONTEXT).iter().enumerate() {
        if i > 0 {
            out.push_str("    ...\n");
        }
        for op in group {
            for change in op.iter_changes(&old, &new) {
                let sign = match change.tag() {
                    ChangeTag::Delete => "-",
                    ChangeTag::Insert => "+",
                    ChangeTag::Equal => " ",
                };
                push_line(out, sign, change.value());
            }
        }
    }
}

fn push_line(out: &mut String, sign: &str, line: &str) {
    out.push_str("  ");
    out.push_str(sign);
    out.push(' ');
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push('\n');
    }
}

/// The lines of `s` with their endings (`\n`, `\r\n` or a lone `\r`), split as `similar` splits
/// them for a line diff.
fn lines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find(['\r', '\n']) {
        // `i` is the offset of an ASCII `\r` or `\n`, so `i + 1` (and `i + 2` after `\r\n`) is a
        // character boundary; `split_at_checked` would return `None` otherwise, never panic.
        let end = if rest.get(i..).is_some_and(|t| t.starts_with("\r\n")) {
            i + 2
        } else {
            i + 1
        };
        let Some((line, tail)) = rest.split_at_checked(end) else {
            break;
        };
        out.push(line);
        rest = tail;
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

fn drift_note(c: &FieldChange) -> String {
    match &c.drift_by {
        Some(m) => format!(" (drift: changed by {m}, taken back on apply)"),
        None => String::new(),
    }
}

/// A value as lines: strings as they are, everything else as pretty JSON.
fn text(v: &Value) -> String {
    let mut s = match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    };
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::diff::diff;
    use super::*;
    use serde_json::json;

    #[test]
    fn drift_and_multiline_strings() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf",
            "managedFields": [{"manager": "kubectl-edit", "operation": "Update", "fieldsV1": {"f:data": {"f:app.conf": {}}}}]},
            "data": {"app.conf": "a=1\nb=2\nc=3\nd=4\ne=5\nf=6\ng=7\nh=8\ni=9\n", "mode": "fast"}});
        let dry = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf"},
            "data": {"app.conf": "a=1\nb=2\nc=3\nd=4\ne=50\nf=6\ng=7\nh=8\ni=9\n", "mode": "slow"}});
        let text = render("ConfigMap ci/conf", &diff(&dry, Some(&live)));
        insta::assert_snapshot!(text, @r#"
        ~ ConfigMap ci/conf: update
          @@ data["app.conf"] (drift: changed by kubectl-edit, taken back on apply) @@
            b=2
            c=3
            d=4
          - e=5
          + e=50
            f=6
            g=7
            h=8
          @@ data.mode @@
          - fast
          + slow
        "#);
    }

    #[test]
    fn secrets_say_changed_never_the_value() {
        let s = |data: Value| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "data": data});
        let d = diff(
            &s(json!({"password": "bmV3", "token": "dG9r"})),
            Some(&s(json!({"password": "b2xk", "user": "dXNlcg=="}))),
        );
        let text = render("Secret ci/db", &d);
        insta::assert_snapshot!(text, @r"
        ~ Secret ci/db: update
            data.password: changed
            data.user: removed
            data.token: added
        ");
        for v in ["bmV3", "b2xk", "dXNlcg==", "dG9r"] {
            assert!(!text.contains(v));
        }
        let created = render("Secret ci/db", &diff(&s(json!({"password": "bmV3"})), None));
        assert!(created.contains("data.password: added"));
        assert!(!created.contains("bmV3"));
    }

    #[test]
    fn lines_split_like_similar() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("a", &["a"]),
            ("a\n", &["a\n"]),
            ("a\nb", &["a\n", "b"]),
            ("a\r\nb\rc\n\n", &["a\r\n", "b\r", "c\n", "\n"]),
            ("é\r🦀\r\n", &["é\r", "🦀\r\n"]),
            ("\r", &["\r"]),
        ];
        for (input, want) in cases {
            assert_eq!(lines(input), *want, "{input:?}");
            let td = similar::TextDiff::from_lines(*input, "");
            assert_eq!(td.old_slices(), *want, "{input:?}");
        }
    }

    fn cm(data: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"f": data}})
    }

    #[test]
    fn one_changed_line_in_a_huge_file_is_still_a_minimal_hunk() {
        let old: String = (0..50_000).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 25000\n", "line 25000 changed\n");
        let text = render("ConfigMap ci/big", &diff(&cm(&new), Some(&cm(&old))));
        let body: Vec<&str> = text.lines().skip(2).collect();
        assert_eq!(
            body,
            [
                "    line 24997",
                "    line 24998",
                "    line 24999",
                "  - line 25000",
                "  + line 25000 changed",
                "    line 25001",
                "    line 25002",
                "    line 25003",
            ],
            "{text}"
        );
    }

    #[test]
    fn a_huge_changed_region_is_one_block_of_removed_then_added_lines() {
        // Every line differs: a minimal diff would take minutes; the block is linear.
        let n = MAX_DIFF_LINES * 20;
        let old = format!("head\n{}tail\n", "ab\n".repeat(n));
        let new = format!("head\n{}tail\n", "cd\r\n".repeat(n + 1));
        let text = render("ConfigMap ci/big", &diff(&cm(&new), Some(&cm(&old))));
        let mut want = String::from("~ ConfigMap ci/big: update\n  @@ data.f @@\n    head\n");
        want.push_str(&"  - ab\n".repeat(n));
        want.push_str(&"  + cd\r\n".repeat(n + 1));
        want.push_str("    tail\n");
        assert_eq!(text, want);
    }

    #[test]
    fn just_under_the_limit_is_still_diffed_line_by_line() {
        // One line in the middle of the changed region is common: a minimal diff keeps it as
        // context, the block form would not.
        let half = MAX_DIFF_LINES / 2 - 1;
        let old = format!("{}same\n{}", "a\n".repeat(half), "a\n".repeat(half));
        let new = format!("{}same\n{}", "b\n".repeat(half), "b\n".repeat(half));
        let text = render("ConfigMap ci/c", &diff(&cm(&new), Some(&cm(&old))));
        let count = |line: &str| text.lines().filter(|l| *l == line).count();
        assert_eq!(count("    same"), 1, "{text}");
        assert_eq!(count("  - a"), 2 * half);
        assert_eq!(count("  + b"), 2 * half);
    }

    #[test]
    fn no_change_and_pending_crd() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        assert_eq!(
            render("ConfigMap ci/c", &diff(&cm, Some(&cm))),
            "  ConfigMap ci/c: no change\n"
        );
        assert_eq!(
            render("Widget ci/w", &ObjectDiff::create_after_crd(2)),
            "+ Widget ci/w: create (CRD arrives in wave 2)\n"
        );
    }
}
