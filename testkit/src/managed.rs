//! `metadata.managedFields`: parsing and rendering entries, and the ownership rules of
//! server-side apply (structured-merge-diff): Update entries own what they changed, Apply entries
//! own exactly what they applied, conflicts are 409s unless forced, removed fields leave every
//! set, fields a manager stops applying are pruned when nobody else owns them.
//!
//! It works on JSON values and field sets only; merging the applied object is `patch`'s job.

use serde_json::{json, Map, Value};

use crate::error::ApiError;
use crate::fieldset::{compare, display_path, FieldSet, Path};
use crate::schema::Schema;

/// One managedFields entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Manager name.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// apiVersion the manager used.
    pub api_version: String,
    /// Whole-second RFC 3339 time, absent for a co-owner that changed nothing.
    pub time: Option<String>,
    /// `status`, `scale`, or none.
    pub subresource: Option<String>,
    /// Owned fields.
    pub set: FieldSet,
}

impl Entry {
    fn same_id(&self, manager: &str, operation: &str, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }
}

/// Reads the entries of an object.
pub fn parse(obj: &Value) -> Vec<Entry> {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|e| Entry {
                    manager: e["manager"].as_str().unwrap_or_default().to_string(),
                    operation: e["operation"].as_str().unwrap_or_default().to_string(),
                    api_version: e["apiVersion"].as_str().unwrap_or_default().to_string(),
                    time: e["time"].as_str().map(str::to_string),
                    subresource: e["subresource"].as_str().map(str::to_string),
                    set: FieldSet::from_fields_v1(&e["fieldsV1"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Writes the entries into an object, sorted as the apiserver sorts them; no entries removes the
/// field.
pub fn render(obj: &mut Value, entries: &[Entry]) {
    let mut sorted: Vec<&Entry> = entries.iter().filter(|e| !e.set.is_empty()).collect();
    sorted.sort_by(|a, b| {
        let op = |e: &Entry| if e.operation == "Apply" { 0 } else { 1 };
        op(a)
            .cmp(&op(b))
            .then_with(|| a.time.is_some().cmp(&b.time.is_some()))
            .then_with(|| a.time.cmp(&b.time))
            .then_with(|| a.manager.cmp(&b.manager))
            .then_with(|| a.api_version.cmp(&b.api_version))
            .then_with(|| a.subresource.cmp(&b.subresource))
    });
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if sorted.is_empty() {
        meta.shift_remove("managedFields");
        return;
    }
    let list: Vec<Value> = sorted
        .iter()
        .map(|e| {
            let mut m = Map::new();
            m.insert("manager".into(), json!(e.manager));
            m.insert("operation".into(), json!(e.operation));
            m.insert("apiVersion".into(), json!(e.api_version));
            if let Some(t) = &e.time {
                m.insert("time".into(), json!(t));
            }
            m.insert("fieldsType".into(), json!("FieldsV1"));
            m.insert("fieldsV1".into(), e.set.to_fields_v1());
            if let Some(s) = &e.subresource {
                m.insert("subresource".into(), json!(s));
            }
            Value::Object(m)
        })
        .collect();
    meta.insert("managedFields".into(), Value::Array(list));
}

/// The object without the fields the server owns outright, for comparisons.
pub fn comparable(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "managedFields",
            "resourceVersion",
            "generation",
            "uid",
            "creationTimestamp",
            "selfLink",
        ] {
            meta.shift_remove(k);
        }
    }
    v
}

/// Paths no manager ever owns (the apiserver's stripped metadata): apiVersion, kind, metadata
/// itself, name, namespace, uid, resourceVersion, generation, creationTimestamp, selfLink,
/// managedFields.
pub fn stripped() -> FieldSet {
    let mut s = FieldSet::default();
    s.insert(&["f:apiVersion".to_string()]);
    s.insert(&["f:kind".to_string()]);
    s.insert(&["f:metadata".to_string()]);
    for f in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "selfLink",
        "managedFields",
        "clusterName",
    ] {
        s.insert(&["f:metadata".to_string(), format!("f:{f}")]);
    }
    s
}

fn strip_all(entries: &mut Vec<Entry>) {
    let s = stripped();
    for e in entries.iter_mut() {
        e.set = e.set.difference(&s);
    }
    entries.retain(|e| !e.set.is_empty());
}

/// Who writes and how.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    /// Manager name.
    pub manager: &'a str,
    /// apiVersion of the request.
    pub api_version: &'a str,
    /// Subresource written, if any.
    pub subresource: Option<&'a str>,
    /// Current time (whole-second RFC 3339).
    pub now: &'a str,
}

/// Records an Update (create, PUT, non-apply PATCH) by `w`: it owns what it changed, and others
/// lose what it changed or removed.
pub fn update(entries: &mut Vec<Entry>, live: &Value, new: &Value, schema: &Schema, w: Writer) {
    let cmp = compare(&comparable(live), &comparable(new), schema);
    let changed = cmp.modified.union(&cmp.added);
    for e in entries.iter_mut() {
        if !e.same_id(w.manager, "Update", w.subresource) {
            e.set = e.set.difference(&changed).difference(&cmp.removed);
        }
    }
    let idx = match entries
        .iter()
        .position(|e| e.same_id(w.manager, "Update", w.subresource))
    {
        Some(i) => i,
        None => {
            entries.push(Entry {
                manager: w.manager.to_string(),
                operation: "Update".into(),
                api_version: w.api_version.to_string(),
                time: None,
                subresource: w.subresource.map(str::to_string),
                set: FieldSet::default(),
            });
            entries.len() - 1
        }
    };
    let e = &mut entries[idx];
    e.set = e.set.difference(&cmp.removed).union(&changed);
    e.api_version = w.api_version.to_string();
    // Writes through `/scale` are converted back from the Scale object, which loses the time.
    if !cmp.is_same() && w.subresource != Some("scale") {
        e.time = Some(w.now.to_string());
    }
    strip_all(entries);
}

/// Outcome of an apply's ownership step.
#[derive(Debug, Clone)]
pub struct ApplyOutcome {
    /// Fields to remove from the merged object (no longer applied, owned by nobody else).
    pub prune: FieldSet,
}

/// Records an Apply by `w` of `config_set` that turned `live` into `merged`. Returns a 409 for
/// conflicts unless `force`.
pub fn apply(
    entries: &mut Vec<Entry>,
    live: &Value,
    merged: &Value,
    config_set: &FieldSet,
    schema: &Schema,
    w: Writer,
    force: bool,
) -> Result<ApplyOutcome, ApiError> {
    let cmp = compare(&comparable(live), &comparable(merged), schema);
    let changed = cmp.modified.union(&cmp.added);
    let mut conflicts: Vec<(String, Path)> = Vec::new();
    for e in entries.iter() {
        if e.same_id(w.manager, "Apply", w.subresource) {
            continue;
        }
        let c = e.set.intersection(&changed).difference(&stripped());
        for p in c.paths() {
            conflicts.push((print_manager(e), p));
        }
    }
    if !force && !conflicts.is_empty() {
        return Err(conflict_error(&conflicts));
    }
    for e in entries.iter_mut() {
        if !e.same_id(w.manager, "Apply", w.subresource) {
            e.set = e.set.difference(&changed).difference(&cmp.removed);
        }
    }
    let old = entries
        .iter()
        .find(|e| e.same_id(w.manager, "Apply", w.subresource))
        .map(|e| e.set.clone())
        .unwrap_or_default();
    let others = entries
        .iter()
        .filter(|e| !e.same_id(w.manager, "Apply", w.subresource))
        .fold(FieldSet::default(), |acc, e| acc.union(&e.set));
    let prune = old.difference(config_set).difference(&others);
    match entries
        .iter_mut()
        .find(|e| e.same_id(w.manager, "Apply", w.subresource))
    {
        Some(e) => {
            e.set = config_set.clone();
            e.api_version = w.api_version.to_string();
        }
        None => entries.push(Entry {
            manager: w.manager.to_string(),
            operation: "Apply".into(),
            api_version: w.api_version.to_string(),
            time: None,
            subresource: w.subresource.map(str::to_string),
            set: config_set.clone(),
        }),
    }
    strip_all(entries);
    Ok(ApplyOutcome { prune })
}

/// Stamps the time of the writer's entry (the object changed).
pub fn touch(
    entries: &mut [Entry],
    manager: &str,
    operation: &str,
    subresource: Option<&str>,
    now: &str,
) {
    if let Some(e) = entries
        .iter_mut()
        .find(|e| e.same_id(manager, operation, subresource))
    {
        e.time = Some(now.to_string());
    }
}

fn print_manager(e: &Entry) -> String {
    let mut s = format!("{:?}", e.manager);
    if let Some(sub) = &e.subresource {
        s.push_str(&format!(" with subresource {sub:?}"));
    }
    if e.operation == "Update" {
        s.push_str(&format!(" using {}", e.api_version));
    }
    s
}

fn conflict_error(conflicts: &[(String, Path)]) -> ApiError {
    let causes: Vec<Value> = conflicts
        .iter()
        .map(|(m, p)| {
            json!({"reason": "FieldManagerConflict", "message": format!("conflict with {m}"), "field": display_path(p)})
        })
        .collect();
    let message = if conflicts.len() == 1 {
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            conflicts[0].0,
            display_path(&conflicts[0].1)
        )
    } else {
        let mut managers: Vec<&String> = conflicts.iter().map(|(m, _)| m).collect();
        managers.sort();
        managers.dedup();
        let mut lines = Vec::new();
        for m in managers {
            lines.push(format!("conflicts with {m}:"));
            for (_, p) in conflicts.iter().filter(|(cm, _)| cm == m) {
                lines.push(format!("- {}", display_path(p)));
            }
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    ApiError::new(409, "Conflict", message, Some(json!({"causes": causes})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fieldset::to_set;

    fn w(manager: &str) -> Writer<'_> {
        Writer {
            manager,
            api_version: "apps/v1",
            subresource: None,
            now: "2026-01-01T00:00:00Z",
        }
    }

    #[test]
    fn apply_conflicts_then_force_takes_ownership() {
        let schema = Schema::builtin("Deployment");
        let live = json!({"spec": {"replicas": 2}});
        let cfg = json!({"spec": {"replicas": 2}});
        let mut entries = Vec::new();
        apply(
            &mut entries,
            &json!({}),
            &live,
            &to_set(&cfg, &schema),
            &schema,
            w("a"),
            false,
        )
        .expect("create");
        let cfg_b = json!({"spec": {"replicas": 4}});
        let merged = json!({"spec": {"replicas": 4}});
        let err = apply(
            &mut entries.clone(),
            &live,
            &merged,
            &to_set(&cfg_b, &schema),
            &schema,
            w("b"),
            false,
        )
        .expect_err("conflict");
        assert_eq!(err.code(), 409);
        let msg = err.to_status().expect("status")["message"].clone();
        assert_eq!(
            msg,
            json!("Apply failed with 1 conflict: conflict with \"a\": .spec.replicas")
        );
        apply(
            &mut entries,
            &live,
            &merged,
            &to_set(&cfg_b, &schema),
            &schema,
            w("b"),
            true,
        )
        .expect("forced");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].manager, "b");
    }

    #[test]
    fn same_value_is_shared_not_conflicting() {
        let schema = Schema::builtin("Deployment");
        let live = json!({"spec": {"replicas": 2}});
        let mut entries = Vec::new();
        apply(
            &mut entries,
            &json!({}),
            &live,
            &to_set(&live, &schema),
            &schema,
            w("a"),
            false,
        )
        .expect("a");
        apply(
            &mut entries,
            &live,
            &live,
            &to_set(&live, &schema),
            &schema,
            w("c"),
            false,
        )
        .expect("c");
        assert_eq!(entries.len(), 2);
    }
}
