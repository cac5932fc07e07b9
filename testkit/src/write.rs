//! The write side of the API: create (POST), update (PUT), patch (merge, strategic, JSON),
//! server-side apply, delete (propagation policies, finalizers, dry run) and deletecollection,
//! for main resources and the `status` and `scale` subresources.
//!
//! Each write runs: decode, check, default, ownership (`managed`), strategy, validation, then
//! store, in that order, so a rejected write changes nothing. Controllers react afterwards
//! (`controllers::settle`, called by the server).

use serde_json::{json, Value};

use crate::api::{present, scale_of, ApiRequest, State, Target};
use crate::defaults::apply_defaults;
use crate::error::{details, qualified, ApiError};
use crate::fieldset::{remove_paths, to_set};
use crate::managed::{self, comparable, Writer};
use crate::patch::{json_merge, json_patch, ssa_merge, strategic_merge, PatchError};
use crate::schema::Schema;
use crate::strategy::{self, name_suffix, prepare_create, prepare_update};
use crate::validation::{
    drop_unknown_top_level, prune_unknown, typed_check, validate, validate_name, validate_schema,
};

/// The outcome of a successful write.
#[derive(Debug, Clone)]
pub struct WriteResult {
    /// HTTP status.
    pub status: u16,
    /// Response body.
    pub body: Value,
    /// `Warning` headers.
    pub warnings: Vec<String>,
    /// True when the store changed.
    pub wrote: bool,
}

fn ok(status: u16, body: Value, wrote: bool) -> WriteResult {
    WriteResult {
        status,
        body,
        warnings: Vec::new(),
        wrote,
    }
}

/// The `openAPIV3Schema` of the CRD version serving a custom resource.
pub fn crd_schema(state: &State, t: &Target) -> Option<Value> {
    if !t.info.custom {
        return None;
    }
    state
        .store
        .list("apiextensions.k8s.io", "customresourcedefinitions", None)
        .into_iter()
        .find_map(|crd| {
            let spec = &crd["spec"];
            if spec["group"] != json!(t.info.group)
                || spec["names"]["plural"] != json!(t.info.resource)
            {
                return None;
            }
            spec["versions"]
                .as_array()?
                .iter()
                .find(|v| v["name"] == json!(t.info.version))
                .map(|v| v["schema"]["openAPIV3Schema"].clone())
        })
}

fn decode(req: &ApiRequest, kind: &str) -> Result<Value, ApiError> {
    let yaml = req.content_type.contains("yaml");
    let parsed: Result<Value, String> = if yaml {
        serde_yaml_ng::from_slice::<Value>(&req.body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice::<Value>(&req.body).map_err(|e| {
            if e.is_eof() {
                "unexpected end of JSON input".to_string()
            } else {
                e.to_string()
            }
        })
    };
    match parsed {
        Ok(v) if v.is_object() => Ok(v),
        Ok(_) => Err(ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {kind})"
        ))),
        Err(e) => {
            let text = String::from_utf8_lossy(&req.body);
            let snippet: String = text.chars().take(30).collect();
            let more = if text.chars().count() > 30 {
                " ..."
            } else {
                ""
            };
            Err(ApiError::bad_request(format!(
                "the object provided is unrecognized (must be of type {kind}): couldn't get version/kind; json parse error: {e} ({snippet}{more})"
            )))
        }
    }
}

fn set_meta(obj: &mut Value, key: &str, v: Value) {
    if let Some(m) = obj.as_object_mut() {
        let meta = m.entry("metadata").or_insert_with(|| json!({}));
        if let Some(mm) = meta.as_object_mut() {
            mm.insert(key.into(), v);
        }
    }
}

fn name_of(obj: &Value) -> String {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// Checks that the namespace of a new object exists and is not terminating.
fn check_namespace(state: &State, t: &Target, name: &str) -> Result<(), ApiError> {
    if !t.info.namespaced {
        return Ok(());
    }
    let ns = t.namespace.clone().unwrap_or_default();
    let key = (
        String::new(),
        "namespaces".to_string(),
        String::new(),
        ns.clone(),
    );
    match state.store.get(&key) {
        None => Err(ApiError::not_found("", "namespaces", &ns)),
        Some(n) if n.pointer("/metadata/deletionTimestamp").is_some() => {
            let mut d = details(name, &t.info.group, &t.info.resource, None);
            if let Some(m) = d.as_object_mut() {
                m.insert(
                    "causes".into(),
                    json!([{"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}]),
                );
            }
            Err(ApiError::new(
                403,
                "Forbidden",
                format!(
                    "{} \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    qualified(&t.info.resource, &t.info.group)
                ),
                Some(d),
            ))
        }
        Some(_) => Ok(()),
    }
}

fn invalid(t: &Target, name: &str, errs: &[crate::error::FieldError]) -> ApiError {
    ApiError::invalid((&t.info.kind, &t.info.group), name, errs)
}

fn schema_for<'a>(t: &'a Target, crd: Option<&'a Value>) -> Schema<'a> {
    Schema {
        kind: &t.info.kind,
        crd,
    }
}

/// Fields a write through `sub` cannot set (the apiserver's reset fields): `status` for the main
/// resource of kinds with a status subresource; everything but `status` and annotations for
/// `/status`.
fn reset_fields(t: &Target, sub: Option<&str>) -> crate::fieldset::FieldSet {
    let mut s = crate::fieldset::FieldSet::default();
    match sub {
        Some("status") => {
            s.insert(&["f:spec".to_string()]);
            s.insert(&["f:metadata".to_string(), "f:labels".to_string()]);
        }
        None if t.info.has_sub("status") => s.insert(&["f:status".to_string()]),
        _ => {}
    }
    s
}

fn skeleton(t: &Target, name: &str) -> Value {
    let mut meta = serde_json::Map::new();
    meta.insert("name".into(), json!(name));
    if t.info.namespaced {
        meta.insert(
            "namespace".into(),
            json!(t.namespace.clone().unwrap_or_default()),
        );
    }
    let mut obj =
        json!({"apiVersion": t.info.api_version(), "kind": t.info.kind, "metadata": meta});
    if let Some(m) = obj.as_object_mut() {
        for field in zero_structs(t) {
            m.insert((*field).to_string(), json!({}));
        }
    }
    obj
}

/// The stored object of a named target, in the shape of the target's API (events are converted
/// between their two APIs).
fn stored(state: &State, t: &Target) -> Option<Value> {
    let obj = state.store.get(&t.key())?;
    Some(if crate::events::is_event(t) {
        crate::events::to_shape(obj, &t.info.group)
    } else {
        obj.clone()
    })
}

/// Top-level fields that are non-pointer structs in the Go type, so the empty object a create
/// starts from already holds them and the creator's Update entry has no `"."` for them. Only
/// the kinds the recordings create by POST are listed (Lease `spec`; Event `source` and
/// `deprecatedSource`).
fn zero_structs(t: &Target) -> &'static [&'static str] {
    match (t.info.group.as_str(), t.info.kind.as_str()) {
        ("coordination.k8s.io", "Lease") => &["spec"],
        ("", "Event") => &["source"],
        ("events.k8s.io", "Event") => &["deprecatedSource"],
        _ => &[],
    }
}

fn validate_all(
    t: &Target,
    obj: &Value,
    old: Option<&Value>,
    crd: Option<&Value>,
) -> Result<(), ApiError> {
    let mut errs = Vec::new();
    if old.is_none() {
        errs.extend(validate_name(&t.info.kind, &name_of(obj)));
    }
    errs.extend(validate(&t.info.kind, obj, old));
    if let Some(s) = crd {
        errs.extend(validate_schema(obj, s));
    }
    let event = crate::events::is_event(t);
    if event && old.is_none() {
        errs.extend(crate::events::validate_create(t, obj));
    }
    if errs.is_empty() {
        Ok(())
    } else if event {
        // Events are validated as the internal core type: the Status names no group.
        Err(ApiError::invalid((&t.info.kind, ""), &name_of(obj), &errs))
    } else {
        Err(invalid(t, &name_of(obj), &errs))
    }
}

/// Removes the fields of a built-in object that its type does not declare (any depth for kinds
/// with a typed schema, top level otherwise); returns their dotted paths.
fn drop_unknown_builtin(kind: &str, obj: &mut Value) -> Vec<String> {
    let paths = crate::builtin_schema::unknown_fields(kind, obj);
    if paths.is_empty() {
        return drop_unknown_top_level(kind, obj);
    }
    crate::builtin_schema::remove(obj, &paths);
    paths
        .iter()
        .map(|p| crate::builtin_schema::dotted(p))
        .collect()
}

/// POST.
pub fn create(
    state: &mut State,
    t: &Target,
    req: &ApiRequest,
    now: &str,
) -> Result<WriteResult, ApiError> {
    let crd = crd_schema(state, t);
    let mut obj = decode(req, &t.info.kind)?;
    let mut warnings = Vec::new();
    let strict = req.q("fieldValidation") == Some("Strict");
    let unknown = match &crd {
        Some(s) => prune_unknown(&mut obj, s),
        None => drop_unknown_builtin(&t.info.kind, &mut obj),
    };
    if let Some(first) = unknown.first() {
        if strict {
            return Err(ApiError::bad_request(format!(
                "{kind} in version \"{v}\" cannot be handled as a {kind}: strict decoding error: unknown field \"{first}\"",
                kind = t.info.kind,
                v = t.info.version
            )));
        }
        warnings.extend(
            unknown
                .iter()
                .map(|f| format!("299 - \"unknown field \\\"{f}\\\"\"")),
        );
    }
    if let Some(m) = obj.as_object_mut() {
        m.insert("apiVersion".into(), json!(t.info.api_version()));
        m.insert("kind".into(), json!(t.info.kind));
    }
    if t.info.namespaced {
        set_meta(
            &mut obj,
            "namespace",
            json!(t.namespace.clone().unwrap_or_default()),
        );
    }
    if name_of(&obj).is_empty() {
        if let Some(prefix) = obj
            .pointer("/metadata/generateName")
            .and_then(Value::as_str)
            .map(str::to_string)
        {
            set_meta(
                &mut obj,
                "name",
                json!(format!("{prefix}{}", name_suffix())),
            );
        }
    }
    let name = name_of(&obj);
    check_namespace(state, t, &name)?;
    let name_errs = validate_name(&t.info.kind, &name);
    if !name_errs.is_empty() {
        return Err(invalid(t, &name, &name_errs));
    }
    apply_defaults(&t.info.kind, &mut obj, crd.as_ref());
    let mut key = t.key();
    key.3 = name.clone();
    if state.store.get(&key).is_some() {
        return Err(ApiError::already_exists(
            &t.info.group,
            &t.info.resource,
            &name,
        ));
    }
    let schema = schema_for(t, crd.as_ref());
    let mut entries = Vec::new();
    let manager = req.manager();
    let api_version = t.info.api_version();
    managed::update(
        &mut entries,
        &skeleton(t, &name),
        &obj,
        &schema,
        Writer {
            manager: &manager,
            api_version: &api_version,
            subresource: None,
            now,
        },
    );
    if let Some(m) = obj.pointer_mut("/metadata").and_then(Value::as_object_mut) {
        m.shift_remove("managedFields");
        m.shift_remove("resourceVersion");
    }
    if t.info.has_sub("status") {
        if let Some(m) = obj.as_object_mut() {
            m.shift_remove("status");
        }
    }
    prepare_create(&t.info.kind, t.info.custom, &mut obj, &mut state.alloc, now);
    managed::render(&mut obj, &entries);
    crate::rbac::check_escalation(state, t, req, &obj, None)?;
    validate_all(t, &obj, None, crd.as_ref())?;
    if req.dry_run() {
        return Ok(WriteResult {
            status: 201,
            body: present(t, &obj),
            warnings,
            wrote: false,
        });
    }
    let stored = state.store.put(key, obj);
    Ok(WriteResult {
        status: 201,
        body: present(t, &stored),
        warnings,
        wrote: true,
    })
}

/// Finishes an update of an existing object: ownership, strategy, validation, no-op detection,
/// finalization and storage.
#[allow(clippy::too_many_arguments)]
fn finish_update(
    state: &mut State,
    t: &Target,
    req: &ApiRequest,
    live: &Value,
    mut new: Value,
    crd: Option<&Value>,
    now: &str,
    warnings: Vec<String>,
) -> Result<WriteResult, ApiError> {
    let name = t.name.clone().unwrap_or_default();
    if let Some(rv) = new
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
    {
        if Some(rv)
            != live
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
        {
            return Err(ApiError::stale(&t.info.group, &t.info.resource, &name));
        }
    }
    if let Some(m) = new.as_object_mut() {
        m.insert("apiVersion".into(), live["apiVersion"].clone());
        m.insert("kind".into(), json!(t.info.kind));
    }
    if t.info.namespaced {
        set_meta(
            &mut new,
            "namespace",
            json!(t.namespace.clone().unwrap_or_default()),
        );
    }
    set_meta(&mut new, "name", json!(name));
    apply_defaults(&t.info.kind, &mut new, crd);
    let sub = t.sub.as_deref();
    let target = if sub == Some("status") {
        strategy::Target::Status
    } else {
        strategy::Target::Main {
            status_sub: t.info.has_sub("status"),
        }
    };
    prepare_update(&t.info.kind, t.info.custom, live, &mut new, target);
    let schema = schema_for(t, crd);
    let mut entries = managed::parse(live);
    let manager = req.manager();
    let api_version = t.info.api_version();
    let writer = Writer {
        manager: &manager,
        api_version: &api_version,
        subresource: sub,
        now,
    };
    managed::update(&mut entries, live, &new, &schema, writer);
    managed::render(&mut new, &entries);
    set_meta(
        &mut new,
        "resourceVersion",
        live["metadata"]["resourceVersion"].clone(),
    );
    crate::rbac::check_escalation(state, t, req, &new, Some(live))?;
    validate_all(t, &new, Some(live), crd)?;
    let respond = |t: &Target, o: &Value| {
        if sub == Some("scale") {
            scale_of(o)
        } else {
            present(t, o)
        }
    };
    if comparable(&new) == comparable(live) && managed::parse(&new) == managed::parse(live) {
        return Ok(WriteResult {
            status: 200,
            body: respond(t, live),
            warnings,
            wrote: false,
        });
    }
    if req.dry_run() {
        return Ok(WriteResult {
            status: 200,
            body: respond(t, &new),
            warnings,
            wrote: false,
        });
    }
    let finalizers_empty = new
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if new.pointer("/metadata/deletionTimestamp").is_some() && finalizers_empty {
        if let Some(m) = new.pointer_mut("/metadata").and_then(Value::as_object_mut) {
            m.shift_remove("finalizers");
        }
        state.store.remove(&t.key());
        return Ok(WriteResult {
            status: 200,
            body: respond(t, &new),
            warnings,
            wrote: true,
        });
    }
    let stored = state.store.put(t.key(), new);
    Ok(WriteResult {
        status: 200,
        body: respond(t, &stored),
        warnings,
        wrote: true,
    })
}

/// PUT.
pub fn update(
    state: &mut State,
    t: &Target,
    req: &ApiRequest,
    now: &str,
) -> Result<WriteResult, ApiError> {
    let crd = crd_schema(state, t);
    let name = t.name.clone().unwrap_or_default();
    let live = stored(state, t)
        .ok_or_else(|| ApiError::not_found(&t.info.group, &t.info.resource, &name))?;
    let mut new = decode(req, &t.info.kind)?;
    let body_name = name_of(&new);
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let mut warnings = Vec::new();
    let unknown = match &crd {
        Some(s) => prune_unknown(&mut new, s),
        None => drop_unknown_builtin(&t.info.kind, &mut new),
    };
    warnings.extend(
        unknown
            .iter()
            .map(|f| format!("299 - \"unknown field \\\"{f}\\\"\"")),
    );
    if t.sub.as_deref() == Some("scale") {
        let replicas = new["spec"]["replicas"].clone();
        new = live.clone();
        new["spec"]["replicas"] = replicas;
    }
    if new.pointer("/metadata/managedFields").is_none() {
        if let Some(mf) = live.pointer("/metadata/managedFields") {
            set_meta(&mut new, "managedFields", mf.clone());
        }
    }
    finish_update(state, t, req, &live, new, crd.as_ref(), now, warnings)
}

/// PATCH with a merge, strategic merge or JSON patch.
pub fn patch(
    state: &mut State,
    t: &Target,
    req: &ApiRequest,
    now: &str,
) -> Result<WriteResult, ApiError> {
    let ct = req
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let kind = match ct.as_str() {
        "application/merge-patch+json" | "application/json-patch+json" => ct.clone(),
        "application/strategic-merge-patch+json" if !t.info.custom => ct.clone(),
        _ => return Err(ApiError::unsupported_media_type()),
    };
    let crd = crd_schema(state, t);
    let name = t.name.clone().unwrap_or_default();
    let live = stored(state, t)
        .ok_or_else(|| ApiError::not_found(&t.info.group, &t.info.resource, &name))?;
    let body: Value = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let scale = t.sub.as_deref() == Some("scale");
    let base = if scale { scale_of(&live) } else { live.clone() };
    let schema = schema_for(t, crd.as_ref());
    let patched = match kind.as_str() {
        "application/merge-patch+json" => Ok(json_merge(&base, &body)),
        "application/json-patch+json" => json_patch(&base, &body),
        _ => strategic_merge(&base, &body, &schema),
    };
    let patched = match patched {
        Ok(p) => p,
        Err(PatchError::Failed(_)) => {
            return Err(ApiError::new(
                422,
                "Invalid",
                "the server rejected our request due to an error in our request",
                Some(json!({})),
            ))
        }
        Err(PatchError::Invalid(m)) => return Err(ApiError::bad_request(m)),
    };
    let new = if scale {
        let mut n = live.clone();
        n["spec"]["replicas"] = patched["spec"]["replicas"].clone();
        if let Some(m) = n.pointer_mut("/metadata").and_then(Value::as_object_mut) {
            m.shift_remove("resourceVersion");
        }
        n
    } else {
        let mut n = patched;
        if body.pointer("/metadata/resourceVersion").is_none() {
            if let Some(m) = n.pointer_mut("/metadata").and_then(Value::as_object_mut) {
                m.shift_remove("resourceVersion");
            }
        }
        n
    };
    finish_update(state, t, req, &live, new, crd.as_ref(), now, Vec::new())
}

/// Server-side apply.
pub fn apply(
    state: &mut State,
    t: &Target,
    req: &ApiRequest,
    now: &str,
) -> Result<WriteResult, ApiError> {
    let manager = match req.q("fieldManager") {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => {
            return Err(ApiError::new(
                422,
                "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                Some(json!({"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [
                    {"reason": "FieldValueRequired", "message": "Required value: is required for apply patch", "field": "fieldManager"}]})),
            ))
        }
    };
    let ct = req
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    if ct != "application/apply-patch+yaml" {
        return Err(ApiError::unsupported_media_type());
    }
    let crd = crd_schema(state, t);
    let config: Value = serde_yaml_ng::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    if !config.is_object() {
        return Err(ApiError::bad_request("the apply patch must be an object"));
    }
    let name = t.name.clone().unwrap_or_default();
    let body_name = name_of(&config);
    if body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let kind = config["kind"].as_str().unwrap_or_default();
    let api_version = config["apiVersion"].as_str().unwrap_or_default();
    let (g, v) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    if kind.is_empty() {
        return Err(ApiError::bad_request(format!(
            "invalid object type: {g}/{v}, Kind="
        )));
    }
    let schema = schema_for(t, crd.as_ref());
    let typed_error = typed_check(&config, &schema).or_else(|| {
        if crd.is_some() {
            return None;
        }
        crate::builtin_schema::unknown_fields(&t.info.kind, &config)
            .first()
            .map(|p| {
                format!(
                    "{}: field not declared in schema",
                    crate::builtin_schema::smd_path(&config, p, &schema)
                )
            })
    });
    if let Some(e) = typed_error {
        let ns = config
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(ApiError::internal(format!(
            "failed to create typed patch object ({ns}/{name}; {g}/{v}, Kind={kind}): {e}"
        )));
    }
    let live = stored(state, t);
    if let (Some(l), Some(rv)) = (
        &live,
        config
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str),
    ) {
        // A resourceVersion in the applied configuration is a precondition.
        if l.pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            != Some(rv)
        {
            return Err(ApiError::stale(&t.info.group, &t.info.resource, &name));
        }
    }
    if live.is_none() {
        if t.sub.is_some() {
            return Err(ApiError::not_found(&t.info.group, &t.info.resource, &name));
        }
        crate::rbac::check_create_on_apply(state, t, req)?;
        check_namespace(state, t, &name)?;
    }
    let base = live.clone().unwrap_or_else(|| skeleton(t, &name));
    let config_set =
        to_set(&config, &schema).recursive_difference(&reset_fields(t, t.sub.as_deref()));
    let mut stripped_base = base.clone();
    if let Some(m) = stripped_base
        .pointer_mut("/metadata")
        .and_then(Value::as_object_mut)
    {
        m.shift_remove("managedFields");
    }
    let mut merged = ssa_merge(&stripped_base, &config, &schema);
    apply_defaults(&t.info.kind, &mut merged, crd.as_ref());
    let sub = t.sub.as_deref();
    let target = if sub == Some("status") {
        strategy::Target::Status
    } else {
        strategy::Target::Main {
            status_sub: t.info.has_sub("status"),
        }
    };
    if let Some(l) = &live {
        prepare_update(&t.info.kind, t.info.custom, l, &mut merged, target);
    }
    let api_version = t.info.api_version();
    let writer = Writer {
        manager: &manager,
        api_version: &api_version,
        subresource: sub,
        now,
    };
    let mut entries = managed::parse(&base);
    let force = req.q("force") == Some("true");
    let outcome = managed::apply(
        &mut entries,
        &stripped_base,
        &merged,
        &config_set,
        &schema,
        writer,
        force,
    )?;
    remove_paths(&mut merged, &outcome.prune, &schema);
    apply_defaults(&t.info.kind, &mut merged, crd.as_ref());
    if let Some(l) = &live {
        prepare_update(&t.info.kind, t.info.custom, l, &mut merged, target);
    }
    let changed = comparable(&merged) != comparable(&stripped_base);
    match &live {
        None => {
            managed::touch(&mut entries, &manager, "Apply", sub, now);
            if let Some(m) = merged
                .pointer_mut("/metadata")
                .and_then(Value::as_object_mut)
            {
                m.shift_remove("resourceVersion");
            }
            if t.info.has_sub("status") {
                if let Some(m) = merged.as_object_mut() {
                    m.shift_remove("status");
                }
            }
            prepare_create(
                &t.info.kind,
                t.info.custom,
                &mut merged,
                &mut state.alloc,
                now,
            );
            managed::render(&mut merged, &entries);
            crate::rbac::check_escalation(state, t, req, &merged, None)?;
            validate_all(t, &merged, None, crd.as_ref())?;
            if req.dry_run() {
                return Ok(ok(201, present(t, &merged), false));
            }
            let stored = state.store.put(t.key(), merged);
            Ok(ok(201, present(t, &stored), true))
        }
        Some(l) => {
            if changed {
                managed::touch(&mut entries, &manager, "Apply", sub, now);
            }
            managed::render(&mut merged, &entries);
            set_meta(
                &mut merged,
                "resourceVersion",
                l["metadata"]["resourceVersion"].clone(),
            );
            crate::rbac::check_escalation(state, t, req, &merged, Some(l))?;
            validate_all(t, &merged, Some(l), crd.as_ref())?;
            if !changed && managed::parse(&merged) == managed::parse(l) {
                return Ok(ok(200, present(t, l), false));
            }
            if req.dry_run() {
                return Ok(ok(200, present(t, &merged), false));
            }
            let stored = state.store.put(t.key(), merged);
            Ok(ok(200, present(t, &stored), true))
        }
    }
}

/// DELETE of one object.
pub fn delete(
    state: &mut State,
    t: &Target,
    req: &ApiRequest,
    now: &str,
) -> Result<WriteResult, ApiError> {
    let name = t.name.clone().unwrap_or_default();
    let opts: Value = if req.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&req.body).unwrap_or(json!({}))
    };
    let dry_run = req.dry_run()
        || opts["dryRun"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "All"));
    let policy = req
        .q("propagationPolicy")
        .map(str::to_string)
        .or_else(|| opts["propagationPolicy"].as_str().map(str::to_string))
        .or_else(|| match opts["orphanDependents"].as_bool() {
            Some(true) => Some("Orphan".to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "Background".to_string());
    let key = t.key();
    let live = state
        .store
        .get(&key)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&t.info.group, &t.info.resource, &name))?;
    if let Some(uid) = opts.pointer("/preconditions/uid").and_then(Value::as_str) {
        if live["metadata"]["uid"] != json!(uid) {
            return Err(ApiError::stale(&t.info.group, &t.info.resource, &name));
        }
    }
    let uid = live["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let success = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
        "details": details(&name, &t.info.group, &t.info.resource, Some(&uid))
    });
    if live.pointer("/metadata/deletionTimestamp").is_some() {
        return Ok(ok(200, present(t, &live), false));
    }
    let mut marked = live.clone();
    set_meta(&mut marked, "deletionTimestamp", json!(now));
    if t.info.kind == "Namespace" {
        if let Some(m) = marked.as_object_mut() {
            m.insert("status".into(), json!({"phase": "Terminating"}));
        }
        if dry_run {
            return Ok(ok(200, present(t, &marked), false));
        }
        let stored = state.store.put(key, marked);
        return Ok(ok(200, present(t, &stored), true));
    }
    set_meta(&mut marked, "deletionGracePeriodSeconds", json!(0));
    let mut finalizers: Vec<Value> = live
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    match policy.as_str() {
        "Foreground" => {
            if !finalizers.contains(&json!("foregroundDeletion")) {
                finalizers.push(json!("foregroundDeletion"));
            }
            set_meta(&mut marked, "finalizers", Value::Array(finalizers.clone()));
            if let Some(g) = live.pointer("/metadata/generation").and_then(Value::as_i64) {
                set_meta(&mut marked, "generation", json!(g + 1));
            }
        }
        "Orphan" if !dry_run => {
            for k in state.store.keys() {
                let Some(o) = state.store.get(&k) else {
                    continue;
                };
                let refs = o
                    .pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if refs.iter().any(|r| r["uid"] == json!(uid)) {
                    let mut o = o.clone();
                    let kept: Vec<Value> = refs
                        .into_iter()
                        .filter(|r| r["uid"] != json!(uid))
                        .collect();
                    if let Some(m) = o.pointer_mut("/metadata").and_then(Value::as_object_mut) {
                        if kept.is_empty() {
                            m.shift_remove("ownerReferences");
                        } else {
                            m.insert("ownerReferences".into(), Value::Array(kept));
                        }
                    }
                    state.store.put(k, o);
                }
            }
        }
        _ => {}
    }
    if finalizers.is_empty() {
        if dry_run {
            return Ok(ok(200, success, false));
        }
        state.store.remove(&key);
        return Ok(ok(200, success, true));
    }
    if dry_run {
        return Ok(ok(200, present(t, &marked), false));
    }
    let stored = state.store.put(key, marked);
    Ok(ok(200, present(t, &stored), true))
}

/// DELETE of a collection (each matching object is deleted as by `delete`).
pub fn delete_collection(
    state: &mut State,
    t: &Target,
    req: &ApiRequest,
    now: &str,
) -> Result<WriteResult, ApiError> {
    let listed = crate::api::list(state, t, req)?;
    let mut deleted = Vec::new();
    let mut wrote = false;
    for item in listed["items"].as_array().cloned().unwrap_or_default() {
        let mut one = t.clone();
        one.name = Some(name_of(&item));
        if t.namespace.is_none() && t.info.namespaced {
            one.namespace = item
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        let r = delete(state, &one, req, now)?;
        wrote |= r.wrote;
        deleted.push(item);
    }
    let rv = state.store.rv().to_string();
    Ok(ok(
        200,
        json!({"kind": format!("{}List", t.info.kind), "apiVersion": t.info.api_version(), "metadata": {"resourceVersion": rv}, "items": deleted}),
        wrote,
    ))
}
