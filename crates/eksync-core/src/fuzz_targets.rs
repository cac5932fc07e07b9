//! The bodies of the fuzz targets, shared by the `cargo fuzz` crate (`fuzz/`, one thin
//! `fuzz_target!` per function here) and by `tests/fuzz_corpus.rs`, which replays every committed
//! corpus file through the same function. Each body takes raw bytes, turns them into the input of
//! one parser or renderer that sees user input, runs it, and checks the few properties that must
//! hold for any input (a PR comment within GitHub's limit, idempotent normalization, no change
//! between a value and itself, diagnostics pointing into the source). A panic, an overflowed stack
//! or an endless loop here is a bug in the core.
//!
//! Inputs are plain bytes in readable formats, so that seeds are real repository files and the
//! replay needs no `arbitrary`: a repository is a [`split_files`] bundle, a pair of JSON values is
//! two values one after the other. It deliberately does not fuzz adapters (no I/O) nor generate
//! structured values: libFuzzer mutates the text the way a person (or an attacker) could.

use serde_json::Value;

use crate::path::FieldPath;
use crate::source::{Source, SourceFile};

/// A target's body: one input, any bytes.
pub type Target = fn(&[u8]);

/// Every target, by the name of its `fuzz/fuzz_targets/<name>.rs` file and corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("yaml", yaml),
    ("analyze", analyze),
    ("refs", refs),
    ("policy_normalize", policy_normalize),
    ("kdiff", kdiff),
    ("cfn_diff", cfn_diff),
    ("plan_markdown", plan_markdown),
    ("preview_markdown", preview_markdown),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// How a file starts in a bundle: a line `==> path <==` (as `head` prints several files).
const FILE_OPEN: &str = "==> ";
const FILE_CLOSE: &str = " <==";

/// Turns a bundle into files. A line `==> path <==` starts a file called `path`; bytes before the
/// first such line form `repo.yaml`. Paths are taken as written (empty ones are skipped); a path
/// given twice keeps both files, as a hostile reader could.
///
/// ```text
/// ==> eksync.yaml <==
/// apiVersion: eksync.io/v1alpha1
/// ...
/// ==> k8s/app.yaml <==
/// apiVersion: v1
/// ```
pub fn split_files(data: &[u8]) -> Vec<SourceFile> {
    let mut files = Vec::new();
    // The current file: its path, and whether a marker named it (a named file is kept even when
    // empty; the implicit `repo.yaml` only when it has bytes).
    let mut path = "repo.yaml".to_string();
    let mut named = false;
    let mut bytes = Vec::new();
    for line in data.split_inclusive(|b| *b == b'\n') {
        if let Some(p) = marker(line) {
            push_file(&mut files, &path, named, std::mem::take(&mut bytes));
            path = p;
            named = true;
            continue;
        }
        bytes.extend_from_slice(line);
    }
    push_file(&mut files, &path, named, bytes);
    files
}

fn push_file(files: &mut Vec<SourceFile>, path: &str, named: bool, bytes: Vec<u8>) {
    if path.is_empty() || (!named && bytes.is_empty()) {
        return;
    }
    files.push(SourceFile {
        path: path.to_string(),
        bytes,
    });
}

/// The path of a `==> path <==` line.
fn marker(line: &[u8]) -> Option<String> {
    let line = std::str::from_utf8(line).ok()?;
    let line = line.strip_suffix('\n').unwrap_or(line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let path = line.strip_prefix(FILE_OPEN)?.strip_suffix(FILE_CLOSE)?;
    Some(path.trim().to_string())
}

/// A repository from a bundle.
pub fn source(data: &[u8]) -> Source {
    Source {
        files: split_files(data),
        skipped: Vec::new(),
    }
}

/// The two sides of a preview from one bundle: a file named `base:path` belongs to the base only,
/// `head:path` to the head only, any other to both.
pub fn two_sources(data: &[u8]) -> (Source, Source) {
    let mut base = Source::default();
    let mut head = Source::default();
    for f in split_files(data) {
        if let Some(p) = f.path.strip_prefix("base:") {
            base.files.push(SourceFile {
                path: p.to_string(),
                bytes: f.bytes,
            });
        } else if let Some(p) = f.path.strip_prefix("head:") {
            head.files.push(SourceFile {
                path: p.to_string(),
                bytes: f.bytes,
            });
        } else {
            base.files.push(f.clone());
            head.files.push(f);
        }
    }
    (base, head)
}

/// Up to two JSON values written one after the other (`{...} {...}`); reading stops at the first
/// error.
pub fn json_pair(data: &[u8]) -> (Option<Value>, Option<Value>) {
    let mut it = serde_json::Deserializer::from_slice(data).into_iter::<Value>();
    let first = it.next().and_then(Result::ok);
    let second = first.as_ref().and_then(|_| it.next()).and_then(Result::ok);
    (first, second)
}

/// `yaml::parse_as` in both syntaxes, and paths in the first parsed documents located with `locate`
/// and `DocLocator`, which must agree.
pub fn yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for syntax in [crate::yaml::Syntax::Yaml, crate::yaml::Syntax::Json] {
        let parsed = crate::yaml::parse_as(text, syntax);
        let locator = crate::yaml::DocLocator::new(text);
        // A few documents and paths each: `locate` re-reads the file, so all of them would cost
        // the square of the input.
        for doc in parsed.docs.iter().take(2) {
            for path in sample_paths(&doc.value, 3) {
                assert_eq!(
                    locator.locate(doc.index, &path),
                    crate::yaml::locate(text, doc.index, &path),
                    "DocLocator and locate disagree on document {} path {path}",
                    doc.index
                );
            }
        }
    }
}

/// The root, and the paths along the first entries of the value (at most `max`).
fn sample_paths(v: &Value, max: usize) -> Vec<FieldPath> {
    let mut out = vec![FieldPath::root()];
    let mut at = FieldPath::root();
    let mut cur = v;
    while out.len() < max {
        let next = match cur {
            Value::Object(m) => m.iter().next().map(|(k, v)| (at.key(k.clone()), v)),
            Value::Array(a) => a.first().map(|v| (at.index(0), v)),
            _ => None,
        };
        let Some((p, v)) = next else { break };
        out.push(p.clone());
        at = p;
        cur = v;
    }
    out
}

/// The whole offline pipeline (`analysis::analyze`) on a bundle. Every diagnostic with a location
/// points into a file of the source, at a 1-based line when it has one.
pub fn analyze(data: &[u8]) {
    let src = source(data);
    let a = crate::analysis::analyze(&src);
    for d in &a.diagnostics {
        let Some(loc) = &d.location else { continue };
        assert!(
            src.files.iter().any(|f| f.path == loc.file),
            "diagnostic {} names {:?}, which is not in the source",
            d.code,
            loc.file
        );
        assert_ne!(loc.line, Some(0), "lines are 1-based ({})", d.code);
    }
}

/// `refs::parse` of the input as one string, and `refs::render` of what it parsed, with every
/// value unknown and with every value known: an unknown value is shown as known after apply, and
/// text without a reference renders the same either way.
pub fn refs(data: &[u8]) {
    use crate::refs::{may_contain, parse, render, Piece};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(pieces) = parse(text) else { return };
    let has_ref = pieces.iter().any(|p| matches!(p, Piece::Ref(_)));
    assert!(
        may_contain(text) || !has_ref,
        "a string without `{{{{` holds no reference"
    );
    let (unknown, complete) = render(&pieces, &|_| None);
    assert_eq!(complete, !has_ref, "complete only when nothing is unknown");
    assert!(
        !has_ref || unknown.contains("(known after apply: {{aws:"),
        "an unknown value says it is known after apply"
    );
    let (known, complete) = render(&pieces, &|r| Some(r.to_string()));
    assert!(complete, "every value was known");
    if !has_ref {
        assert_eq!(known, unknown, "text renders the same whatever the values");
    }
}

/// `awsdiff::normalize_policy_text` on the input; a normalized document is a fixed point and equal
/// to itself.
pub fn policy_normalize(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = crate::awsdiff::normalize_policy_text(text) {
        assert_eq!(
            crate::awsdiff::normalize_json(&v),
            v,
            "normalization is idempotent"
        );
        assert!(crate::awsdiff::policies_equal(&v, &v));
    }
}

/// `kdiff::diff` of a dry-run result against a live object (absent when the input holds one JSON
/// value), rendered with `kdiff::render` and `kdiff::change_lines`.
pub fn kdiff(data: &[u8]) {
    let (Some(dry_run), live) = json_pair(data) else {
        return;
    };
    let d = crate::kdiff::diff(&dry_run, live.as_ref());
    let _ = crate::kdiff::render("Object fuzz/target", &d);
    let _ = crate::kdiff::change_lines(&d);
    if live.as_ref() == Some(&dry_run) {
        assert!(
            !d.has_changes(),
            "an object equal to its live self has no changes"
        );
    }
}

/// `awsdiff::diff_template` of two templates (deployed, desired); a template compared with itself
/// has no change.
pub fn cfn_diff(data: &[u8]) {
    let (Some(deployed), Some(desired)) = json_pair(data) else {
        return;
    };
    let d = crate::awsdiff::diff_template(&deployed, &desired);
    let _ = d.changed_properties("NodeGroup");
    let same = crate::awsdiff::diff_template(&desired, &desired);
    assert!(
        same.is_empty(),
        "a template compared with itself has no change"
    );
    assert!(same.unified.is_empty(), "no unified diff without a change");
}

/// The Markdown plan (with and without explanations) of the analysis of a bundle, and the other
/// renderings of the same plan.
pub fn plan_markdown(data: &[u8]) {
    use crate::report::{plan_json, plan_markdown, plan_text, render_stream, PlanView};
    let a = crate::analysis::analyze(&source(data));
    for explain in [false, true] {
        let _ = plan_markdown(&a, PlanView { explain });
        let _ = plan_text(&a, PlanView { explain });
    }
    let _ = plan_json(&a);
    let _ = render_stream(&a, Some("fuzz"));
    let _ = crate::report::diagnostics_text(&a.diagnostics);
}

/// The PR preview between the two sides of a bundle (see [`two_sources`]) as a Markdown comment,
/// within GitHub's limit and without one, and as text and JSON.
pub fn preview_markdown(data: &[u8]) {
    use crate::preview::render::{json, markdown, size, text, MarkdownOptions};
    let (base, head) = two_sources(data);
    let Ok(p) = crate::preview::between(&base, &head, crate::preview::Labels::default()) else {
        return;
    };
    let limited = MarkdownOptions::default();
    let fits = markdown(&p, &limited);
    if let Some(limit) = limited.limit {
        assert!(size(&fits) <= limit, "the comment fits GitHub's limit");
    }
    let _ = markdown(&p, &MarkdownOptions { limit: None });
    let _ = text(&p);
    let _ = json(&p);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_split_into_files() {
        let files = split_files(b"a: 1\n==> x/b.yaml <==\nb: 2\n==> c.json <==\n{}\n");
        let got: Vec<(&str, &[u8])> = files
            .iter()
            .map(|f| (f.path.as_str(), f.bytes.as_slice()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("repo.yaml", &b"a: 1\n"[..]),
                ("x/b.yaml", &b"b: 2\n"[..]),
                ("c.json", &b"{}\n"[..]),
            ]
        );
        // No leading text: no `repo.yaml`.
        let files = split_files(b"==> eksync.yaml <==\nk: v\n");
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "eksync.yaml");
    }

    #[test]
    fn preview_bundles_have_sides() {
        let (base, head) =
            two_sources(b"==> a.yaml <==\na\n==> base:b.yaml <==\nb\n==> head:c.yaml <==\nc\n");
        let names = |s: &Source| s.files.iter().map(|f| f.path.clone()).collect::<Vec<_>>();
        assert_eq!(names(&base), vec!["a.yaml", "b.yaml"]);
        assert_eq!(names(&head), vec!["a.yaml", "c.yaml"]);
    }

    #[test]
    fn json_pairs_are_two_values() {
        let (a, b) = json_pair(br#"{"a":1} [2]"#);
        assert_eq!(a, Some(serde_json::json!({"a": 1})));
        assert_eq!(b, Some(serde_json::json!([2])));
        assert_eq!(
            json_pair(b"{\"a\":1}"),
            (Some(serde_json::json!({"a": 1})), None)
        );
        assert_eq!(json_pair(b"nope"), (None, None));
    }

    #[test]
    fn every_target_is_named_once() {
        let mut names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TARGETS.len());
        assert!(target("yaml").is_some());
        assert!(target("nope").is_none());
    }
}
