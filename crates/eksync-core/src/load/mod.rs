//! The loader: repo files in memory -> [`Model`] + every diagnostic. It never stops at the first
//! problem and never panics on input; each diagnostic names file, document, line, column and field.
//!
//! It reads what an adapter hands it (a directory today, a Git commit later): it opens nothing
//! itself. It recognises eksctl `ClusterConfig`s, eksync's own kinds (`Settings` in `eksync.yaml`,
//! `IAMRolePolicy`) and treats every other document with apiVersion/kind/metadata.name as a
//! Kubernetes object; the ServiceAccounts of a ClusterConfig's `iam.serviceAccounts` join those
//! objects (`irsa`). Checks that need the rendered stacks (reference targets) or the whole graph
//! (scheduling, dangling names) happen later, in `check` and `graph`.

mod cluster;
pub mod irsa;
mod objects;
mod settings;
pub mod syntax;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;

use super::diag::{self, Diagnostic, Location};
use super::model::{Model, Origin, Settings};
use super::path::{FieldPath, Seg};
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

/// Positions for diagnostics: re-reads the (in-memory) text of a file on demand, one document at
/// a time.
pub(crate) struct Ctx<'a> {
    texts: HashMap<&'a str, &'a str>,
    /// Where each file's documents start, learnt the first time a file needs a position.
    locators: RefCell<HashMap<&'a str, yaml::DocLocator<'a>>>,
    pub diags: Vec<Diagnostic>,
}

impl<'a> Ctx<'a> {
    /// The location of `path` in document `doc` of `file`.
    pub fn loc(&self, file: &str, doc: usize, path: &FieldPath) -> Location {
        let pos = self.texts.get_key_value(file).and_then(|(file, text)| {
            self.locators
                .borrow_mut()
                .entry(file)
                .or_insert_with(|| yaml::DocLocator::new(text))
                .locate(doc, path)
        });
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
            let mut d = Diagnostic::error("E-yaml", message).at(at);
            // A chart's templates (`{{ .Values.x }}`) are not YAML until Helm renders them.
            if let Some(dir) = self.chart_dir(file) {
                d = d.help(format!(
                    "this file is part of the Helm chart in `{dir}`, which eksync does not render; \
                     leave the chart out: add \"{dir}/**\" to `spec.exclude` in eksync.yaml"
                ));
            }
            self.push(d);
        }
    }

    /// The outermost folder above `file` that holds a Helm chart (`Chart.yaml`), if any: a chart
    /// holds every nested one (the `charts/` of a chart).
    pub fn chart_dir(&self, file: &str) -> Option<String> {
        let parts: Vec<&str> = file.split('/').collect();
        (1..parts.len()).map(|n| parts[..n].join("/")).find(|d| {
            ["Chart.yaml", "Chart.yml"]
                .iter()
                .any(|c| self.texts.contains_key(format!("{d}/{c}").as_str()))
        })
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

/// Whether the repo's settings load a file at this repo-relative path (`include` and `exclude`
/// of `eksync.yaml`; the settings file itself is always read).
pub fn settings_accept(settings: &Settings, path: &str) -> bool {
    SETTINGS_FILES.contains(&path)
        || (globset(&settings.include).is_match(path) && !globset(&settings.exclude).is_match(path))
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
        locators: RefCell::default(),
        diags: ctx_diags,
    };
    for s in &src.skipped {
        let mut d =
            Diagnostic::error("E-file", skip_message(&s.reason)).at(Location::file(&s.path));
        match &s.reason {
            SkipReason::TooLarge { size, .. } => {
                d = d.help(format!(
                    "raise the limit with `--max-file-size {size}` (or more), or leave the file out with `spec.exclude` in eksync.yaml"
                ));
            }
            SkipReason::NotRegular { .. } => {
                d = d.help(
                    "only regular files (or links to them) are read; remove it, rename it, or leave it out with `spec.exclude` in eksync.yaml",
                );
            }
            SkipReason::SymlinkOutsideRepo { .. } | SkipReason::Unreadable(_) => {}
        }
        ctx.push(d);
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
        let parsed = yaml::parse_as(text, yaml::Syntax::of_path(path));
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
    irsa::add_service_accounts(&mut model, &mut ctx);

    let mut diagnostics = ctx.diags;
    diag::sort(&mut diagnostics);
    diagnostics.dedup();
    Loaded { model, diagnostics }
}

/// Why a file was not read, in words.
fn skip_message(reason: &SkipReason) -> String {
    match reason {
        SkipReason::TooLarge { size, limit } => format!(
            "file is {size} bytes, over the {limit}-byte limit (--max-file-size); it was not read"
        ),
        SkipReason::SymlinkOutsideRepo { target } => {
            format!("symbolic link points outside the repo (to `{target}`); it was not followed")
        }
        SkipReason::NotRegular { what } => {
            format!("{what}, not a regular file; it was not read")
        }
        SkipReason::Unreadable(why) => format!("file could not be read: {why}"),
    }
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
            let d = decode_error(&e, origin, base, what, ctx);
            ctx.push(d);
            None
        }
    }
}

/// How many fields of the wrong type [`decode_all`] reports in one document before it stops.
const MAX_DECODE_ERRORS: usize = 100;

/// Like [`decode`], but reports every field whose value has the wrong type, not only the first:
/// each failing field is reported, taken out (a list element takes its whole list, so that the
/// positions of later elements stay right) and the rest decoded again. The typed value is returned
/// only when the document had no error, so that later checks never see a document with holes.
pub(crate) fn decode_all<T: serde::de::DeserializeOwned>(
    mut value: Value,
    origin: &Origin,
    base: &FieldPath,
    what: &str,
    ctx: &mut Ctx,
) -> Option<T> {
    let mut removed: Vec<FieldPath> = Vec::new();
    let mut placeholders: Vec<FieldPath> = Vec::new();
    for _ in 0..MAX_DECODE_ERRORS {
        let e = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
            Ok(t) => return removed.is_empty().then_some(t),
            Err(e) => e,
        };
        let at = FieldPath::from_serde(e.path());
        let inner = e.inner().to_string();
        // A required field taken out after its own error: already reported. A placeholder (they are
        // strings: names, regions, keys) lets the rest of the document be checked.
        if let Some(name) = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            let field = at.key(name);
            if removed.contains(&field) {
                if placeholders.contains(&field) || !insert(&mut value, &field, Value::from("")) {
                    return None;
                }
                placeholders.push(field);
                continue;
            }
        }
        // A placeholder of the wrong type (a required object): its field was reported already.
        if placeholders.iter().any(|p| at.0.starts_with(&p.0)) {
            return None;
        }
        let d = decode_error(&e, origin, base, what, ctx);
        ctx.push(d);
        let mut field = at;
        while matches!(field.0.last(), Some(Seg::Index(_))) {
            field = field.parent();
        }
        if field.is_root() || !remove(&mut value, &field) {
            return None;
        }
        if !removed.contains(&field) {
            removed.push(field);
        }
    }
    None
}

/// The object holding the field at `path`, and the field's name.
fn parent_object<'v>(
    value: &'v mut Value,
    path: &FieldPath,
) -> Option<(&'v mut serde_json::Map<String, Value>, String)> {
    let Some((Seg::Key(last), parents)) = path.0.split_last() else {
        return None;
    };
    let mut cur = value;
    for seg in parents {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    cur.as_object_mut().map(|m| (m, last.clone()))
}

/// Takes the field at `path` out of `value`; false when there is none.
fn remove(value: &mut Value, path: &FieldPath) -> bool {
    parent_object(value, path).is_some_and(|(m, k)| m.shift_remove(&k).is_some())
}

/// Sets the field at `path` in an existing object; false when there is no such object.
fn insert(value: &mut Value, path: &FieldPath, v: Value) -> bool {
    parent_object(value, path)
        .map(|(m, k)| m.insert(k, v))
        .is_some()
}

/// The diagnostic for a failed typed decode, at the failing field.
fn decode_error(
    e: &serde_path_to_error::Error<serde_json::Error>,
    origin: &Origin,
    base: &FieldPath,
    what: &str,
    ctx: &Ctx,
) -> Diagnostic {
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
    d
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

/// What a document is as a list: `kind: List` (v1, as `kubectl get -o yaml` writes it) holds
/// objects of any kind; a typed list (`kind: DeploymentList` with `items`, as the API serves it
/// and kubectl accepts it) holds objects of its element kind, whose items may leave out the
/// `apiVersion` and `kind` they share with the list.
enum ListKind<'a> {
    NotAList,
    Any,
    Typed { kind: &'a str, api_version: &'a str },
}

fn list_kind(value: &Value) -> ListKind<'_> {
    let kind = value.get("kind").and_then(Value::as_str);
    let api_version = value.get("apiVersion").and_then(Value::as_str);
    match (kind, api_version) {
        (Some("List"), Some("v1")) => ListKind::Any,
        (Some(kind), Some(api_version)) if value.get("items").is_some() => {
            match kind.strip_suffix("List") {
                Some(element) if !element.is_empty() => ListKind::Typed {
                    kind: element,
                    api_version,
                },
                _ => ListKind::NotAList,
            }
        }
        _ => ListKind::NotAList,
    }
}

/// Flattens list documents (`kind: List` and typed lists such as `DeploymentList`) into their
/// items.
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
    let list = list_kind(&value);
    let list_name = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("List")
        .to_string();
    let element = match list {
        ListKind::NotAList => {
            out.push(RawDoc {
                origin,
                value,
                base,
            });
            return;
        }
        ListKind::Any => None,
        ListKind::Typed { kind, api_version } => Some((kind.to_string(), api_version.to_string())),
    };
    match value.get("items") {
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = base.key("items").index(i);
                let mut item = item.clone();
                if let (Some((kind, api_version)), Some(obj)) = (&element, item.as_object_mut()) {
                    match obj.get("kind") {
                        None => {
                            obj.insert("kind".into(), Value::String(kind.clone()));
                        }
                        Some(Value::String(k)) if k == kind => {}
                        Some(other) => {
                            let shown = match other {
                                Value::String(k) => format!("`{k}`"),
                                v => format!("`{}`", crate::text::clip_json(v, 60)),
                            };
                            let at = ctx.origin_loc(&origin, &path.key("kind"));
                            ctx.error(
                                "E-document",
                                format!(
                                    "a `{list_name}` holds {kind} objects, but this item is {shown}; move it out of the list or use `kind: List`"
                                ),
                                at,
                            );
                            continue;
                        }
                    }
                    obj.entry("apiVersion")
                        .or_insert_with(|| Value::String(api_version.clone()));
                }
                expand_lists(origin.clone(), item, path, out, ctx);
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
                format!("a `kind: {list_name}` needs `items`, a list of objects"),
                at,
            );
        }
    }
}

#[cfg(test)]
mod tests;
