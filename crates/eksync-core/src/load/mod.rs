//! The loader: repo files in memory -> [`Model`] + every diagnostic. It never stops at the first
//! problem and never panics on input; each diagnostic names file, document, line, column and field.
//!
//! It reads what an adapter hands it (a directory today, a Git commit later): it opens nothing
//! itself. It recognises eksctl `ClusterConfig`s, eksync's own kinds (`Settings` in `eksync.yaml`,
//! `IAMRolePolicy`) and treats every other document with apiVersion/kind/metadata.name as a
//! Kubernetes object. Checks that need the rendered stacks (reference targets) or the whole graph
//! (scheduling, dangling names) happen later, in `check` and `graph`.

mod cluster;
mod objects;
mod settings;
pub mod syntax;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::Value;
use std::collections::HashMap;

use super::diag::{self, Diagnostic, Location};
use super::model::{Model, Origin, Settings};
use super::path::FieldPath;
use super::yaml;

pub use crate::source::{SkipReason, SkippedFile, Source, SourceFile};

/// The result of loading: a model (possibly partial) and every diagnostic, sorted.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub model: Model,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diagnostics)
    }
}

/// The settings file at the repo root.
pub const SETTINGS_FILES: &[&str] = &["eksync.yaml", "eksync.yml"];

/// Positions for diagnostics: re-reads the (in-memory) text of a file on demand.
pub(crate) struct Ctx<'a> {
    texts: HashMap<&'a str, &'a str>,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    /// The location of `path` in document `doc` of `file`.
    pub fn loc(&self, file: &str, doc: usize, path: &FieldPath) -> Location {
        let pos = self
            .texts
            .get(file)
            .and_then(|t| yaml::locate(t, doc, path));
        match pos {
            Some(p) => Location::at(file, doc, p.line, p.column).with_field(path),
            None => Location {
                document: Some(doc),
                ..Location::file(file)
            }
            .with_field(path),
        }
    }

    pub fn origin_loc(&self, o: &Origin, path: &FieldPath) -> Location {
        self.loc(&o.file, o.document, path)
    }

    pub fn error(&mut self, code: &'static str, msg: impl Into<String>, at: Location) {
        self.diags.push(Diagnostic::error(code, msg).at(at));
    }

    pub fn warn(&mut self, code: &'static str, msg: impl Into<String>, at: Location) {
        self.diags.push(Diagnostic::warning(code, msg).at(at));
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Reports a file's syntax errors. JSON files are read by the YAML parser (JSON is YAML), but
    /// their authors are told about JSON.
    pub fn syntax_errors(&mut self, file: &str, errors: &[yaml::YamlError]) {
        for e in errors {
            let message = if file.ends_with(".json") {
                e.message.replacen("invalid YAML", "invalid JSON", 1)
            } else {
                e.message.clone()
            };
            let at = Location::at(file, e.document, e.pos.line, e.pos.column);
            self.error("E-yaml", message, at);
        }
    }
}

/// A parsed document waiting to be classified.
pub(crate) struct RawDoc {
    pub origin: Origin,
    pub value: Value,
    /// Where the document sits in its YAML document (non-root for items of a `kind: List`).
    pub base: FieldPath,
}

/// The set of valid patterns; invalid ones were reported, with their place, by `settings::load`.
fn globset(patterns: &[String]) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for g in patterns.iter().filter_map(|p| Glob::new(p).ok()) {
        b.add(g);
    }
    b.build().unwrap_or_else(|_| GlobSet::empty())
}

/// Loads a repo.
pub fn load(src: &Source) -> Loaded {
    let mut texts = HashMap::new();
    let mut ctx_diags = Vec::new();
    let mut utf8: Vec<(&str, &str)> = Vec::new();
    for f in &src.files {
        match std::str::from_utf8(&f.bytes) {
            Ok(t) => {
                texts.insert(f.path.as_str(), t);
                utf8.push((f.path.as_str(), t));
            }
            Err(e) => ctx_diags.push(
                Diagnostic::error(
                    "E-encoding",
                    format!(
                        "file is not valid UTF-8 (byte {}); save it as UTF-8",
                        e.valid_up_to()
                    ),
                )
                .at(first_invalid_byte(&f.path, &f.bytes, e.valid_up_to())),
            ),
        }
    }
    let mut ctx = Ctx {
        texts,
        diags: ctx_diags,
    };
    for s in &src.skipped {
        let msg = match &s.reason {
            SkipReason::TooLarge { size, limit } => {
                format!("file is {size} bytes, over the {limit}-byte limit; it was not read")
            }
            SkipReason::SymlinkOutsideRepo { target } => {
                format!(
                    "symbolic link points outside the repo (to `{target}`); it was not followed"
                )
            }
            SkipReason::Unreadable(why) => format!("file could not be read: {why}"),
        };
        ctx.error("E-file", msg, Location::file(&s.path));
    }

    // Settings first: they decide which files are manifests.
    let mut settings_files = utf8.iter().filter(|(p, _)| SETTINGS_FILES.contains(p));
    let settings_file = settings_files.next().map(|(p, t)| (*p, *t));
    if let Some((first, _)) = settings_file {
        for (other, _) in settings_files {
            // The whole file is the problem: point at its start.
            ctx.error(
                "E-settings",
                format!("both {first} and {other} exist and eksync reads only {first}; keep one"),
                Location::at(*other, 0, 1, 1),
            );
        }
    }
    let (settings, settings_origin) = match settings_file {
        Some((path, text)) => settings::load(path, text, &mut ctx),
        None => (Settings::default(), None),
    };
    let include = globset(&settings.include);
    let exclude = globset(&settings.exclude);

    let mut docs = Vec::new();
    for (path, text) in &utf8 {
        if SETTINGS_FILES.contains(path) || !include.is_match(path) || exclude.is_match(path) {
            continue;
        }
        let parsed = yaml::parse(text);
        ctx.syntax_errors(path, &parsed.errors);
        for d in parsed.docs {
            let origin = Origin {
                file: (*path).to_string(),
                document: d.index,
                line: d.pos.line,
            };
            expand_lists(origin, d.value, FieldPath::root(), &mut docs, &mut ctx);
        }
    }

    let mut model = Model {
        settings,
        ..Model::default()
    };
    let mut kube_docs = Vec::new();
    for d in docs {
        match classify(&d.value) {
            DocKind::Cluster => {
                if let Some(c) = cluster::load(d, &mut ctx) {
                    model.clusters.push(c);
                }
            }
            DocKind::Eksync => objects::load_eksync_kind(d, &utf8, &mut model, &mut ctx),
            DocKind::Kube => kube_docs.push(d),
        }
    }
    cluster::check_unique(&model.clusters, &mut ctx);
    objects::load_kube(kube_docs, &mut model, settings_origin.as_ref(), &mut ctx);

    let mut diagnostics = ctx.diags;
    diag::sort(&mut diagnostics);
    diagnostics.dedup();
    Loaded { model, diagnostics }
}

/// The line and column (in characters) of the first byte that is not UTF-8; `valid_up_to` is where
/// `std::str::from_utf8` stopped.
fn first_invalid_byte(file: &str, bytes: &[u8], valid_up_to: usize) -> Location {
    // The prefix is valid UTF-8, so the lossy conversion changes nothing.
    let valid = String::from_utf8_lossy(bytes.get(..valid_up_to).unwrap_or_default());
    let line = valid.matches('\n').count() + 1;
    let column = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location {
        line: Some(line),
        column: Some(column),
        ..Location::file(file)
    }
}

/// Decodes a document into a typed struct; a failure becomes one diagnostic at the failing field
/// (for an unknown field, the field itself).
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    value: Value,
    origin: &Origin,
    base: &FieldPath,
    what: &str,
    ctx: &mut Ctx,
) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(t) => Some(t),
        Err(e) => {
            let mut path = base.clone();
            path.0.extend(FieldPath::from_serde(e.path()).0);
            let inner = e.inner().to_string();
            let (code, msg) = if inner.starts_with("unknown field") {
                ("E-unknown-field", format!("{what}: {inner}"))
            } else if inner.starts_with("missing field") {
                ("E-missing-field", format!("{what}: {inner}"))
            } else {
                ("E-invalid-field", format!("{what}: {inner}"))
            };
            let at = ctx.origin_loc(origin, &path);
            let mut d = Diagnostic::error(code, msg).at(at);
            // `version: 1.30` is the number 1.3 to YAML: say so, since the message shows `1.3`.
            let unquoted = ["floating point", "integer", "boolean"]
                .iter()
                .any(|t| inner.starts_with(&format!("invalid type: {t}")));
            if unquoted && inner.ends_with("expected a string") {
                d = d.help("YAML reads this unquoted value as a number or boolean (an unquoted 1.30 is the number 1.3); put it in quotes");
            }
            ctx.push(d);
            None
        }
    }
}

enum DocKind {
    Cluster,
    Eksync,
    Kube,
}

fn classify(v: &Value) -> DocKind {
    let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if api.starts_with("eksctl.io/") {
        DocKind::Cluster
    } else if api.starts_with("eksync.io/") {
        DocKind::Eksync
    } else {
        DocKind::Kube
    }
}

/// Flattens `kind: List` documents (as `kubectl get -o yaml` writes them) into their items.
fn expand_lists(
    origin: Origin,
    value: Value,
    base: FieldPath,
    out: &mut Vec<RawDoc>,
    ctx: &mut Ctx,
) {
    if !value.is_object() {
        let at = ctx.origin_loc(&origin, &base);
        ctx.error(
            "E-document",
            "a document must be a mapping with apiVersion and kind",
            at,
        );
        return;
    }
    let is_list = value.get("kind").and_then(Value::as_str) == Some("List")
        && value.get("apiVersion").and_then(Value::as_str) == Some("v1");
    if !is_list {
        out.push(RawDoc {
            origin,
            value,
            base,
        });
        return;
    }
    match value.get("items") {
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                expand_lists(
                    origin.clone(),
                    item.clone(),
                    base.key("items").index(i),
                    out,
                    ctx,
                );
            }
        }
        // Without a list of items the objects meant to be here would be dropped unseen.
        other => {
            let at = ctx.origin_loc(
                &origin,
                &if other.is_some() {
                    base.key("items")
                } else {
                    base
                },
            );
            ctx.error(
                "E-document",
                "a `kind: List` needs `items`, a list of objects",
                at,
            );
        }
    }
}

#[cfg(test)]
mod tests;
