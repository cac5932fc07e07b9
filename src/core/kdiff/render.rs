//! A human rendering of an object diff, unified-diff-like: one hunk per changed field headed by
//! its path (and, for drift, the manager that changed it), `-` lines for the live value and `+`
//! lines for the value after apply. Multi-line strings (a ConfigMap's files) are diffed line by
//! line with `similar`. Secret values never appear: a masked field renders as
//! `data.password: changed` (or `added`/`removed`).
//!
//! It does not colour, page or print: the caller decides where the text goes.

use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::diff::{Action, FieldChange, ObjectDiff};

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
    let td = TextDiff::from_lines(&before, &after);
    for (i, group) in td.grouped_ops(3).iter().enumerate() {
        if i > 0 {
            out.push_str("    ...\n");
        }
        for op in group {
            for change in td.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => "-",
                    ChangeTag::Insert => "+",
                    ChangeTag::Equal => " ",
                };
                let line = change.value();
                out.push_str(&format!("  {sign} {}", line));
                if !line.ends_with('\n') {
                    out.push('\n');
                }
            }
        }
    }
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
