//! Loading Kubernetes objects and eksync's own kinds: identity, scope, namespace defaulting, name
//! and label syntax, value references, duplicates across files, and checks the API server would
//! make anyway (so a plan fails before anything is applied). Cross-object checks that need the graph
//! live in `graph`.

use globset::{Glob, GlobSetBuilder};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

use super::{decode, syntax, Ctx, RawDoc};
use crate::diag::{Diagnostic, Location};
use crate::kube::{self, ObjectKey, Scope};
use crate::model::{DriftMode, FoundRef, KubeObject, Model, Origin, RolePolicy};
use crate::path::{FieldPath, Seg};
use crate::{refs, yaml};

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RolePolicyDoc {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    metadata: EksyncMeta,
    spec: RolePolicySpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EksyncMeta {
    name: String,
    #[serde(default)]
    #[allow(dead_code)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    #[allow(dead_code)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RolePolicySpec {
    #[serde(default)]
    cluster: Option<String>,
    role_name: String,
    #[serde(default)]
    policy_document: Option<Value>,
    #[serde(default)]
    policy_document_file: Option<String>,
    #[serde(default)]
    mode: Option<ModeDoc>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "kebab-case")]
enum ModeDoc {
    Correct,
    DetectOnly,
}

/// Loads a document of eksync's own API group.
pub(super) fn load_eksync_kind(
    d: RawDoc,
    files: &[(&str, &str)],
    model: &mut Model,
    ctx: &mut Ctx,
) {
    let kind = d
        .value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match kind.as_str() {
        "IAMRolePolicy" => load_role_policy(d, files, model, ctx),
        "Settings" => {
            let at = ctx.origin_loc(&d.origin, &d.base.key("kind"));
            ctx.error(
                "E-settings",
                "Settings belong in eksync.yaml at the repo root",
                at,
            );
        }
        other => {
            let at = ctx.origin_loc(&d.origin, &d.base.key("kind"));
            ctx.error(
                "E-eksync-kind",
                format!("unknown eksync kind `{other}`; eksync.io/v1alpha1 has IAMRolePolicy and Settings"),
                at,
            );
        }
    }
}

fn load_role_policy(d: RawDoc, files: &[(&str, &str)], model: &mut Model, ctx: &mut Ctx) {
    let RawDoc {
        origin,
        value,
        base,
    } = d;
    let Some(doc) = decode::<RolePolicyDoc>(value.clone(), &origin, &base, "IAMRolePolicy", ctx)
    else {
        return;
    };
    let spec_path = base.key("spec");
    let name = doc.metadata.name;
    let name_ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !name_ok {
        let at = ctx.origin_loc(&origin, &base.key("metadata").key("name"));
        ctx.error(
            "E-name",
            format!(
                "`{name}` is not a valid IAM policy name (1-128 of letters, digits and +=,.@_-)"
            ),
            at,
        );
    }
    let document = match (doc.spec.policy_document, doc.spec.policy_document_file) {
        (Some(_), Some(_)) | (None, None) => {
            let at = ctx.origin_loc(&origin, &spec_path);
            ctx.error(
                "E-policy",
                "set exactly one of spec.policyDocument and spec.policyDocumentFile",
                at,
            );
            None
        }
        (Some(doc), None) => {
            check_policy(&doc, &origin, &spec_path.key("policyDocument"), ctx);
            Some(doc)
        }
        (None, Some(file)) => {
            let field = spec_path.key("policyDocumentFile");
            read_policy_file(&origin, &field, &file, files, ctx)
        }
    };
    let mut found = Vec::new();
    collect_refs(&value, &base, &origin, Quote::Text, &mut found, ctx);
    let mode = match doc.spec.mode {
        Some(ModeDoc::DetectOnly) => DriftMode::DetectOnly,
        _ => DriftMode::Correct,
    };
    // The name is the policy's identity (graph nodes, `IAMRolePolicy/<name>` in depends-on): a
    // second one would silently replace the first.
    let name_path = base.key("metadata").key("name");
    if let Some(first) = model.role_policies.iter().find(|p| p.name == name) {
        let first_at = ctx.origin_loc(&first.origin, &FieldPath::keys(&["metadata", "name"]));
        let d = Diagnostic::error(
            "E-duplicate",
            format!("IAMRolePolicy {name} is defined twice"),
        )
        .at(ctx.origin_loc(&origin, &name_path))
        .related(first_at, "first defined here");
        ctx.push(d);
        return;
    }
    if let Some(document) = document {
        model.role_policies.push(RolePolicy {
            name,
            cluster: doc.spec.cluster,
            role_name: doc.spec.role_name,
            document,
            mode,
            origin,
            refs: found,
        });
    }
}

/// Resolves a policy file relative to the document's own file; it must stay inside the repo.
fn read_policy_file(
    origin: &Origin,
    field: &FieldPath,
    file: &str,
    files: &[(&str, &str)],
    ctx: &mut Ctx,
) -> Option<Value> {
    let dir = origin.file.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let mut parts: Vec<&str> = if file.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for p in file.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    let at = ctx.origin_loc(origin, field);
                    ctx.error(
                        "E-policy",
                        format!("policy file `{file}` points outside the repo"),
                        at,
                    );
                    return None;
                }
            }
            p => parts.push(p),
        }
    }
    let resolved = parts.join("/");
    let Some((_, text)) = files.iter().find(|(p, _)| *p == resolved) else {
        let at = ctx.origin_loc(origin, field);
        ctx.error(
            "E-policy",
            format!("policy file `{file}` (repo path `{resolved}`) does not exist"),
            at,
        );
        return None;
    };
    let parsed = yaml::parse_as(text, yaml::Syntax::of_path(&resolved));
    ctx.syntax_errors(&resolved, &parsed.errors);
    let doc = parsed.docs.into_iter().next()?;
    let file_origin = Origin {
        file: resolved,
        document: doc.index,
        line: doc.pos.line,
    };
    check_policy(&doc.value, &file_origin, &FieldPath::root(), ctx);
    Some(doc.value)
}

/// The shape IAM requires of a policy document.
fn check_policy(doc: &Value, origin: &Origin, path: &FieldPath, ctx: &mut Ctx) {
    let bad = |p: FieldPath, msg: String, ctx: &mut Ctx| {
        let at = ctx.origin_loc(origin, &p);
        ctx.error("E-policy", msg, at);
    };
    let Some(obj) = doc.as_object() else {
        bad(
            path.clone(),
            "a policy document must be a JSON object".into(),
            ctx,
        );
        return;
    };
    match obj.get("Version").and_then(Value::as_str) {
        Some("2012-10-17") | Some("2008-10-17") => {}
        _ => bad(
            path.key("Version"),
            "policy Version must be \"2012-10-17\"".into(),
            ctx,
        ),
    }
    let statements: Vec<(FieldPath, &Value)> = match obj.get("Statement") {
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, s)| (path.key("Statement").index(i), s))
            .collect(),
        Some(s @ Value::Object(_)) => vec![(path.key("Statement"), s)],
        _ => {
            bad(
                path.key("Statement"),
                "a policy document needs a Statement list".into(),
                ctx,
            );
            return;
        }
    };
    for (p, s) in statements {
        match s.get("Effect").and_then(Value::as_str) {
            Some("Allow") | Some("Deny") => {}
            other => bad(
                p.key("Effect"),
                format!(
                    "Effect must be Allow or Deny (got {})",
                    other.unwrap_or("nothing")
                ),
                ctx,
            ),
        }
        if s.get("Action").is_none() && s.get("NotAction").is_none() {
            bad(
                p.clone(),
                "a statement needs Action or NotAction".into(),
                ctx,
            );
        }
        if s.get("Resource").is_none() && s.get("NotResource").is_none() {
            bad(
                p.clone(),
                "a statement needs Resource or NotResource".into(),
                ctx,
            );
        }
    }
}

/// Whether a reference syntax error may quote the text it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quote {
    /// Quote it, and say at which character the problem starts.
    Text,
    /// Say only where (file, line, field): the text is a Secret's.
    Hidden,
}

/// Finds every `{{aws:...}}` reference in the strings of `v`; syntax errors become diagnostics.
pub(crate) fn collect_refs(
    v: &Value,
    path: &FieldPath,
    origin: &Origin,
    quote: Quote,
    out: &mut Vec<FoundRef>,
    ctx: &mut Ctx,
) {
    match v {
        Value::String(s) if refs::may_contain(s) => match refs::parse(s) {
            Ok(pieces) => out.extend(pieces.into_iter().filter_map(|p| match p {
                refs::Piece::Ref(r) => Some(FoundRef {
                    path: path.clone(),
                    value: r,
                }),
                refs::Piece::Text(_) => None,
            })),
            Err(e) => {
                let at = ctx.origin_loc(origin, path);
                let message = match quote {
                    Quote::Text => {
                        // The offset counts bytes; people count characters.
                        let character =
                            s.get(..e.offset).map_or(e.offset, |p| p.chars().count()) + 1;
                        format!("{} (at character {character})", e.message)
                    }
                    Quote::Hidden => {
                        "invalid `{{aws:...}}` reference in a Secret (its text is not \
                                      shown); check the reference syntax"
                            .to_string()
                    }
                };
                ctx.error("E-ref", message, at);
            }
        },
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_refs(item, &path.index(i), origin, quote, out, ctx);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                collect_refs(item, &path.key(k.as_str()), origin, quote, out, ctx);
            }
        }
        _ => {}
    }
}

/// The `exclude` pattern that leaves out a file that does not look like a manifest at all: a
/// Helm chart's files (the chart's folder, when the file is in one), or a document with neither
/// `apiVersion` nor `kind` (the file itself). `None` for a manifest with a field missing.
fn not_a_manifest(file: &str, value: &Value, ctx: &Ctx) -> Option<String> {
    if let Some(dir) = ctx.chart_dir(file) {
        return Some(format!("{dir}/**"));
    }
    let name = file.rsplit('/').next().unwrap_or(file);
    let helm_name = matches!(name, "Chart.yaml" | "Chart.yml")
        || (name.starts_with("values") && (name.ends_with(".yaml") || name.ends_with(".yml")));
    let no_type = value.get("apiVersion").is_none() && value.get("kind").is_none();
    (helm_name || no_type).then(|| file.to_string())
}

/// A CRD found in the repo: what it serves.
struct CrdInfo {
    versions: Vec<String>,
    scope: Scope,
}

fn crds(docs: &[RawDoc]) -> HashMap<(String, String), CrdInfo> {
    let mut out = HashMap::new();
    for d in docs {
        let v = &d.value;
        if kube::get_str(v, &["kind"]) != Some("CustomResourceDefinition")
            || !kube::get_str(v, &["apiVersion"])
                .is_some_and(|a| a.starts_with("apiextensions.k8s.io/"))
        {
            continue;
        }
        let (Some(group), Some(kind)) = (
            kube::get_str(v, &["spec", "group"]),
            kube::get_str(v, &["spec", "names", "kind"]),
        ) else {
            continue;
        };
        let scope = if kube::get_str(v, &["spec", "scope"]) == Some("Cluster") {
            Scope::Cluster
        } else {
            Scope::Namespaced
        };
        let versions = kube::get(v, &["spec", "versions"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|ver| ver.get("served").and_then(Value::as_bool) != Some(false))
            .filter_map(|ver| ver.get("name").and_then(Value::as_str).map(str::to_string))
            .collect();
        out.insert(
            (group.to_string(), kind.to_string()),
            CrdInfo { versions, scope },
        );
    }
    out
}

/// Loads every Kubernetes object document.
/// `settings` is where `eksync.yaml`'s document starts, if the repo has one.
pub(super) fn load_kube(
    docs: Vec<RawDoc>,
    model: &mut Model,
    settings: Option<&Origin>,
    ctx: &mut Ctx,
) {
    let crd_table = crds(&docs);
    let assign = ClusterAssigner::new(model, settings, ctx);
    // Where each object was first defined: its document and its place in it.
    let mut seen: HashMap<(Option<String>, ObjectKey), (Origin, FieldPath)> = HashMap::new();
    for d in docs {
        let Some(obj) = load_object(
            d,
            &crd_table,
            &model.settings.default_namespace,
            &assign,
            ctx,
        ) else {
            continue;
        };
        let ident = (obj.cluster.clone(), obj.key.clone());
        let name = FieldPath::keys(&["metadata", "name"]);
        if let Some((first, first_base)) = seen.get(&ident) {
            let d = Diagnostic::error("E-duplicate", format!("{} is defined twice", obj.key))
                .at(ctx.origin_loc(&obj.origin, &obj.field(&name)))
                .related(
                    ctx.origin_loc(first, &first_base.join(&name)),
                    "first defined here",
                );
            ctx.push(d);
            continue;
        }
        seen.insert(ident, (obj.origin.clone(), obj.base.clone()));
        model.objects.push(obj);
    }
}

/// Decides which cluster a manifest belongs to.
struct ClusterAssigner {
    single: Option<String>,
    by_path: Vec<(String, globset::GlobSet)>,
    ambiguous: bool,
}

impl ClusterAssigner {
    fn new(model: &Model, settings: Option<&Origin>, ctx: &mut Ctx) -> Self {
        let mut by_path = Vec::new();
        for (i, c) in model.settings.clusters.iter().enumerate() {
            let mut b = GlobSetBuilder::new();
            for p in &c.paths {
                if let Ok(g) = Glob::new(p) {
                    b.add(g);
                }
            }
            if let Ok(set) = b.build() {
                by_path.push((c.name.clone(), set));
            }
            if model.cluster(&c.name).is_none() {
                let at = match settings {
                    Some(o) => ctx.origin_loc(
                        o,
                        &FieldPath::keys(&["spec", "clusters"]).index(i).key("name"),
                    ),
                    // Mappings come only from an eksync.yaml, so this is not expected.
                    None => Location::file(super::SETTINGS_FILES[0]),
                };
                ctx.error(
                    "E-settings",
                    format!(
                        "eksync.yaml maps paths to cluster `{}`, which no ClusterConfig defines",
                        c.name
                    ),
                    at,
                );
            }
        }
        let single = (model.clusters.len() == 1).then(|| model.clusters[0].name().to_string());
        ClusterAssigner {
            single,
            ambiguous: model.clusters.len() > 1 && by_path.is_empty(),
            by_path,
        }
    }

    fn cluster_for(&self, file: &str) -> Result<Option<String>, String> {
        if let Some((name, _)) = self.by_path.iter().find(|(_, set)| set.is_match(file)) {
            return Ok(Some(name.clone()));
        }
        if self.ambiguous {
            return Err("the repo defines several clusters; map this file to one with `spec.clusters` in eksync.yaml".into());
        }
        Ok(self.single.clone())
    }
}

fn load_object(
    d: RawDoc,
    crds: &HashMap<(String, String), CrdInfo>,
    default_ns: &str,
    assign: &ClusterAssigner,
    ctx: &mut Ctx,
) -> Option<KubeObject> {
    let RawDoc {
        origin,
        mut value,
        base,
    } = d;
    let field = |k: &[&str]| {
        let mut p = base.clone();
        p.0.extend(k.iter().map(|s| Seg::Key((*s).to_string())));
        p
    };
    // Present but not a string (`name: 2024` is a number to YAML): say that, not "missing".
    let mut wrong_type = false;
    for key in [&["apiVersion"][..], &["kind"], &["metadata", "name"]] {
        if let Some(v) = kube::get(&value, key).filter(|v| !v.is_string()) {
            let at = ctx.origin_loc(&origin, &field(key));
            let hint = if v.is_number() || v.is_boolean() {
                "; put it in quotes"
            } else {
                ""
            };
            ctx.error(
                "E-invalid-field",
                format!("{} must be a string, not `{v}`{hint}", key.join(".")),
                at,
            );
            wrong_type = true;
        }
    }
    if wrong_type {
        return None;
    }
    let mut missing = Vec::new();
    let api_version = value
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(str::to_string);
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .map(str::to_string);
    if api_version.is_none() {
        missing.push("apiVersion");
    }
    if kind.is_none() {
        missing.push("kind");
    }
    let meta_ok = value.get("metadata").is_some_and(Value::is_object);
    let name = kube::get_str(&value, &["metadata", "name"]).map(str::to_string);
    if name.is_none() {
        if kube::get(&value, &["metadata", "generateName"]).is_some() {
            let at = ctx.origin_loc(&origin, &field(&["metadata", "generateName"]));
            ctx.error(
                "E-name",
                "generateName makes a new object on every apply; eksync needs a fixed metadata.name",
                at,
            );
            return None;
        }
        missing.push("metadata.name");
    }
    if !missing.is_empty() {
        let at = ctx.origin_loc(
            &origin,
            // A mapping that lacks only its name is the place to add it; otherwise the document.
            &if meta_ok && missing == ["metadata.name"] {
                field(&["metadata"])
            } else {
                base.clone()
            },
        );
        let mut d = Diagnostic::error(
            "E-missing-field",
            format!(
                "not a Kubernetes object: missing {} (every document needs apiVersion, kind and metadata.name)",
                missing.join(", ")
            ),
        )
        .at(at);
        if let Some(pattern) = not_a_manifest(&origin.file, &value, ctx) {
            d = d.help(format!(
                "if this file is not a manifest for eksync (a Helm chart's values or Chart.yaml, \
                 some tool's configuration), leave it out: add \"{pattern}\" to `spec.exclude` \
                 in eksync.yaml"
            ));
        }
        ctx.push(d);
        return None;
    }
    let (api_version, kind, name) = (api_version?, kind?, name?);
    let (group, version) = kube::split_api_version(&api_version);
    let (group, version) = (group.to_string(), version.to_string());

    let scope = if let Some(b) = kube::builtin(&group, &kind) {
        if !b.versions.contains(&version.as_str()) {
            let at = ctx.origin_loc(&origin, &field(&["apiVersion"]));
            let served = b
                .versions
                .iter()
                .map(|v| {
                    if b.group.is_empty() {
                        v.to_string()
                    } else {
                        format!("{}/{v}", b.group)
                    }
                })
                .collect::<Vec<_>>()
                .join(" or ");
            ctx.error(
                "E-api-version",
                format!("{kind} is not served as `{api_version}`; use {served}"),
                at,
            );
            return None;
        }
        b.scope
    } else if let Some(crd) = crds.get(&(group.clone(), kind.clone())) {
        if !crd.versions.contains(&version) {
            let at = ctx.origin_loc(&origin, &field(&["apiVersion"]));
            ctx.error(
                "E-api-version",
                format!(
                    "the repo's CRD for {kind}.{group} serves {}, not `{version}`",
                    crd.versions.join(", ")
                ),
                at,
            );
            return None;
        }
        crd.scope
    } else if let Some(b) = kube::BUILTIN_KINDS
        .iter()
        .find(|b| b.kind == kind && !group.contains('.'))
    {
        let at = ctx.origin_loc(&origin, &field(&["apiVersion"]));
        let want = if b.group.is_empty() {
            b.versions[0].to_string()
        } else {
            format!("{}/{}", b.group, b.versions[0])
        };
        ctx.error(
            "E-api-version",
            format!("{kind} is not served as `{api_version}`; use {want}"),
            at,
        );
        return None;
    } else {
        let at = ctx.origin_loc(&origin, &field(&["kind"]));
        ctx.warn(
            "W-unknown-kind",
            format!(
                "{kind} ({api_version}) is neither a built-in kind nor defined by a CRD in the repo; its scope is taken from metadata.namespace and checked against the cluster later"
            ),
            at,
        );
        if kube::get(&value, &["metadata", "namespace"]).is_some() {
            Scope::Namespaced
        } else {
            Scope::Cluster
        }
    };

    let ns_value = kube::get(&value, &["metadata", "namespace"]).cloned();
    let namespace = match (scope, ns_value) {
        (Scope::Cluster, Some(_)) => {
            let at = ctx.origin_loc(&origin, &field(&["metadata", "namespace"]));
            ctx.error(
                "E-namespace",
                format!("{kind} is cluster-scoped; remove metadata.namespace"),
                at,
            );
            return None;
        }
        (Scope::Cluster, None) => None,
        (Scope::Namespaced, Some(Value::String(ns))) => {
            if let Err(why) = syntax::dns_label(&ns) {
                let at = ctx.origin_loc(&origin, &field(&["metadata", "namespace"]));
                ctx.error("E-namespace", format!("invalid namespace: {why}"), at);
                return None;
            }
            Some(ns)
        }
        (Scope::Namespaced, Some(_)) => {
            let at = ctx.origin_loc(&origin, &field(&["metadata", "namespace"]));
            ctx.error("E-namespace", "metadata.namespace must be a string", at);
            return None;
        }
        (Scope::Namespaced, None) => {
            if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), Value::String(default_ns.to_string()));
            }
            Some(default_ns.to_string())
        }
    };

    let name_check = match (group.as_str(), kind.as_str()) {
        ("", "Namespace") | ("", "Service") => syntax::dns_label(&name),
        ("rbac.authorization.k8s.io", _) => {
            if name.is_empty()
                || name.contains('/')
                || name.contains('%')
                || name == "."
                || name == ".."
            {
                Err(format!(
                    "`{name}` may not be empty, '.', '..' or contain '/' or '%'"
                ))
            } else {
                Ok(())
            }
        }
        _ => syntax::dns_subdomain(&name),
    };
    if let Err(why) = name_check {
        let at = ctx.origin_loc(&origin, &field(&["metadata", "name"]));
        ctx.error("E-name", format!("invalid {kind} name: {why}"), at);
    }
    check_metadata(&value, &origin, &base, ctx);

    let cluster = match assign.cluster_for(&origin.file) {
        Ok(c) => c,
        Err(why) => {
            let at = ctx.origin_loc(&origin, &base);
            ctx.error("E-cluster", why, at);
            None
        }
    };
    let mut found = Vec::new();
    // A Secret's text is secret material: a reference error in it must not quote it.
    let quote = if group.is_empty() && kind == "Secret" {
        Quote::Hidden
    } else {
        Quote::Text
    };
    collect_refs(&value, &base, &origin, quote, &mut found, ctx);
    let key = ObjectKey {
        group,
        kind,
        namespace,
        name,
    };
    check_object(&key, &value, &origin, &base, ctx);
    Some(KubeObject {
        key,
        api_version,
        cluster,
        body: value,
        origin,
        base,
        refs: found,
    })
}

fn check_metadata(v: &Value, origin: &Origin, base: &FieldPath, ctx: &mut Ctx) {
    let meta = base.key("metadata");
    for (field, values_too) in [("labels", true), ("annotations", false)] {
        let Some(map) = kube::get(v, &["metadata", field]) else {
            continue;
        };
        let Some(map) = map.as_object() else {
            let at = ctx.origin_loc(origin, &meta.key(field));
            ctx.error(
                "E-label",
                format!("metadata.{field} must be a mapping of strings"),
                at,
            );
            continue;
        };
        for (k, val) in map {
            let p = meta.key(field).key(k.as_str());
            if let Err(why) = syntax::qualified_name(k) {
                let at = ctx.origin_loc(origin, &p);
                ctx.error(
                    "E-label",
                    format!("invalid {} {why}", &field[..field.len() - 1]),
                    at,
                );
            }
            match val {
                Value::String(s) if values_too => {
                    if let Err(why) = syntax::label_value(s) {
                        let at = ctx.origin_loc(origin, &p);
                        ctx.error("E-label", format!("invalid label `{k}`: {why}"), at);
                    }
                }
                Value::String(_) => {}
                other => {
                    let at = ctx.origin_loc(origin, &p);
                    ctx.error(
                        "E-label",
                        format!("{field} values must be strings; quote `{other}`"),
                        at,
                    );
                }
            }
        }
    }
}

/// Checks the API server would make, so that a plan fails before anything is applied.
fn check_object(key: &ObjectKey, v: &Value, origin: &Origin, base: &FieldPath, ctx: &mut Ctx) {
    let at = |ctx: &Ctx, p: &[&str]| {
        let mut path = base.clone();
        path.0.extend(p.iter().map(|s| Seg::Key((*s).to_string())));
        ctx.origin_loc(origin, &path)
    };
    match (key.group.as_str(), key.kind.as_str()) {
        ("", "Secret") => {
            if let Some(data) = v.get("data").and_then(Value::as_object) {
                use base64::Engine;
                for (k, val) in data {
                    let ok = val.as_str().is_some_and(|s| {
                        base64::engine::general_purpose::STANDARD.decode(s).is_ok()
                    });
                    if !ok {
                        // Never echo the value: it is a secret.
                        let loc = at(ctx, &["data", k]);
                        ctx.error(
                            "E-secret",
                            format!("Secret data `{k}` is not valid base64 (use stringData for plain text)"),
                            loc,
                        );
                    }
                }
            }
        }
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            let selector =
                kube::get(v, &["spec", "selector", "matchLabels"]).and_then(Value::as_object);
            let labels = kube::get(v, &["spec", "template", "metadata", "labels"])
                .and_then(Value::as_object);
            match selector {
                None if kube::get(v, &["spec", "selector", "matchExpressions"]).is_none() => {
                    let loc = at(ctx, &["spec"]);
                    ctx.error(
                        "E-selector",
                        format!("{} needs spec.selector", key.kind),
                        loc,
                    );
                }
                Some(sel) => {
                    let matches = sel
                        .iter()
                        .all(|(k, want)| labels.and_then(|l| l.get(k)) == Some(want));
                    if !matches {
                        let loc = at(ctx, &["spec", "selector", "matchLabels"]);
                        ctx.error(
                            "E-selector",
                            "spec.selector does not match spec.template.metadata.labels; the API server rejects this",
                            loc,
                        );
                    }
                }
                None => {}
            }
        }
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            let role = kube::get_str(v, &["roleRef", "name"]);
            let groups: Vec<&str> = v
                .get("subjects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|s| s.get("kind").and_then(Value::as_str) == Some("Group"))
                .filter_map(|s| s.get("name").and_then(Value::as_str))
                .collect();
            if role == Some("cluster-admin") && !groups.is_empty() {
                let loc = at(ctx, &["subjects"]);
                ctx.warn(
                    "W-risk",
                    format!(
                        "risk: cluster-admin is bound to the whole group {}; every member can take over the cluster. Grant a Role limited to what is needed instead",
                        groups.join(", ")
                    ),
                    loc,
                );
            }
        }
        _ => {}
    }
}
