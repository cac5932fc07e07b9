//! The diff of one object: a server-side dry-run apply result (what the object becomes) against
//! the live object (what it is). Both come from the API server, so defaults the server fills in are
//! on both sides and never show as changes. Server-owned metadata, `status` and annotations
//! written by controllers are ignored. A changed field whose live value is owned by another field
//! manager (and not by eksync) is drift, attributed to that manager from the live `managedFields`.
//! Secret `data`/`stringData` values (and kubectl's last-applied annotation, which would carry them)
//! are masked in the result itself, so a diff can be logged or serialized safely.
//!
//! It does not decide what to do about a change (the executor does) and does not read anything.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::path::{FieldPath, Seg};

use super::FIELD_MANAGER;

/// Metadata fields the server owns; never a change.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Annotations written by controllers or clients, never by Git; never a change.
const CONTROLLER_ANNOTATIONS: &[&str] = &[
    "deployment.kubernetes.io/revision",
    "deprecated.daemonset.template.generation",
    "pv.kubernetes.io/bind-completed",
    "pv.kubernetes.io/bound-by-controller",
    "pv.kubernetes.io/provisioned-by",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/selected-node",
    "control-plane.alpha.kubernetes.io/leader",
];

/// kubectl's client-side apply record: it can hold a Secret's values.
pub(crate) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The text put in place of a Secret value.
pub const MASKED: &str = "(secret value hidden)";

/// What applying the object does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action", content = "wave")]
pub enum Action {
    /// The object does not exist yet.
    Create,
    /// A custom resource whose CRD is created earlier in the same plan (in this wave): it cannot
    /// be dry-run before the CRD exists, so it is shown as a create.
    CreateAfterCrd(usize),
    /// The object exists and some fields change.
    Update,
    /// Applying changes nothing.
    NoChange,
}

/// One changed field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Where, e.g. `spec.template.spec.containers[0].image`.
    pub path: String,
    /// The live value (`None`: absent in the live object).
    pub before: Option<Value>,
    /// The value after apply (`None`: apply removes it).
    pub after: Option<Value>,
    /// The field manager that owns the live value when it is not eksync: someone changed a field
    /// Git sets (drift), and applying takes it back.
    pub drift_by: Option<String>,
    /// The values are a Secret's and were replaced by [`MASKED`].
    pub masked: bool,
}

/// The diff of one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObjectDiff {
    #[serde(flatten)]
    pub action: Action,
    pub changes: Vec<FieldChange>,
}

impl ObjectDiff {
    /// A custom resource that waits for its CRD, created in `wave` of the same plan.
    pub fn create_after_crd(wave: usize) -> Self {
        ObjectDiff {
            action: Action::CreateAfterCrd(wave),
            changes: Vec::new(),
        }
    }

    /// True when applying would change something.
    pub fn has_changes(&self) -> bool {
        self.action != Action::NoChange
    }

    /// The diff without the change at `path` (e.g. `spec.replicas` after a replicas handover);
    /// an update left without changes becomes no change.
    pub fn ignoring(mut self, path: &str) -> Self {
        self.changes.retain(|c| c.path != path);
        if self.action == Action::Update && self.changes.is_empty() {
            self.action = Action::NoChange;
        }
        self
    }

    /// The changes that are drift (a field Git sets, changed by another manager).
    pub fn drift(&self) -> impl Iterator<Item = &FieldChange> {
        self.changes.iter().filter(|c| c.drift_by.is_some())
    }
}

/// Compares a dry-run apply result with the live object (`None`: the object does not exist).
pub fn diff(dry_run_result: &Value, live: Option<&Value>) -> ObjectDiff {
    let secret = is_secret(dry_run_result) || live.is_some_and(is_secret);
    let after = strip(dry_run_result);
    let mut changes = Vec::new();
    let action = match live {
        None => {
            leaves(&after, &mut Vec::new(), &mut |segs, v| {
                changes.push(FieldChange {
                    path: FieldPath(segs.to_vec()).to_string(),
                    before: None,
                    after: Some(v.clone()),
                    drift_by: None,
                    masked: false,
                });
            });
            Action::Create
        }
        Some(live_obj) => {
            let before = strip(live_obj);
            let managers = managers(live_obj);
            let mut raw = Vec::new();
            compare(&before, &after, &mut Vec::new(), &mut raw);
            for (segs, b, a) in raw {
                let drift_by = b
                    .as_ref()
                    .and_then(|_| drift_owner(&managers, live_obj, &segs));
                changes.push(FieldChange {
                    path: FieldPath(segs).to_string(),
                    before: b,
                    after: a,
                    drift_by,
                    masked: false,
                });
            }
            if changes.is_empty() {
                Action::NoChange
            } else {
                Action::Update
            }
        }
    };
    if secret {
        for c in &mut changes {
            mask_change(c);
        }
    }
    ObjectDiff { action, changes }
}

fn is_secret(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("Secret")
        && v.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

/// A copy without the fields that are never a change.
pub fn strip(obj: &Value) -> Value {
    let mut out = obj.clone();
    if let Some(m) = out.as_object_mut() {
        m.shift_remove("status");
        if let Some(meta) = m.get_mut("metadata").and_then(Value::as_object_mut) {
            for f in SERVER_METADATA {
                meta.shift_remove(*f);
            }
            if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                for a in CONTROLLER_ANNOTATIONS {
                    ann.shift_remove(*a);
                }
            }
            for f in ["annotations", "labels"] {
                if meta
                    .get(f)
                    .and_then(Value::as_object)
                    .is_some_and(Map::is_empty)
                {
                    meta.shift_remove(f);
                }
            }
        }
    }
    out
}

type RawChange = (Vec<Seg>, Option<Value>, Option<Value>);

fn compare(before: &Value, after: &Value, at: &mut Vec<Seg>, out: &mut Vec<RawChange>) {
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (k, bv) in b {
                at.push(Seg::Key(k.clone()));
                match a.get(k) {
                    Some(av) => compare(bv, av, at, out),
                    None => out.push((at.clone(), Some(bv.clone()), None)),
                }
                at.pop();
            }
            for (k, av) in a {
                if !b.contains_key(k) {
                    at.push(Seg::Key(k.clone()));
                    out.push((at.clone(), None, Some(av.clone())));
                    at.pop();
                }
            }
        }
        (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
            for (i, (bv, av)) in b.iter().zip(a).enumerate() {
                at.push(Seg::Index(i));
                compare(bv, av, at, out);
                at.pop();
            }
        }
        _ if before == after => {}
        _ => out.push((at.clone(), Some(before.clone()), Some(after.clone()))),
    }
}

/// Calls `f` for every leaf (scalar, empty map or empty list) with its path.
fn leaves(v: &Value, at: &mut Vec<Seg>, f: &mut dyn FnMut(&[Seg], &Value)) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, child) in m {
                at.push(Seg::Key(k.clone()));
                leaves(child, at, f);
                at.pop();
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, child) in a.iter().enumerate() {
                at.push(Seg::Index(i));
                leaves(child, at, f);
                at.pop();
            }
        }
        _ => f(at, v),
    }
}

/// `(manager, fieldsV1)` of the live object's managedFields entries.
fn managers(live: &Value) -> Vec<(String, Value)> {
    live.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| {
                    let m = e.get("manager").and_then(Value::as_str)?;
                    let fs = e.get("fieldsV1")?;
                    Some((m.to_string(), fs.clone()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The manager other than eksync that owns the live value at `segs`, unless eksync owns it too.
fn drift_owner(managers: &[(String, Value)], live: &Value, segs: &[Seg]) -> Option<String> {
    if managers
        .iter()
        .any(|(m, fs)| m == FIELD_MANAGER && owns(fs, live, segs))
    {
        return None;
    }
    managers
        .iter()
        .find(|(m, fs)| m != FIELD_MANAGER && owns(fs, live, segs))
        .map(|(m, _)| m.clone())
}

/// True when a `FieldsV1` set covers the path (walking the live object to key list items).
pub fn owns(fs: &Value, obj: &Value, segs: &[Seg]) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        return true;
    };
    let Some(set) = fs.as_object() else {
        return false;
    };
    if set.is_empty() {
        // A leaf: the manager owns this field as a whole (atomic map or list).
        return true;
    }
    match first {
        Seg::Key(k) => match set.get(&format!("f:{k}")) {
            Some(child) => owns(child, obj.get(k).unwrap_or(&Value::Null), rest),
            None => false,
        },
        Seg::Index(i) => {
            let Some(item) = obj.as_array().and_then(|a| a.get(*i)) else {
                return false;
            };
            set.iter()
                .find(|(key, _)| item_matches(key, item))
                .is_some_and(|(_, child)| owns(child, item, rest))
        }
    }
}

/// Whether a `k:{...}` (associative key) or `v:...` (set value) entry names this list item.
fn item_matches(key: &str, item: &Value) -> bool {
    if let Some(k) = key.strip_prefix("k:") {
        let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(k) else {
            return false;
        };
        return fields.iter().all(|(f, v)| item.get(f) == Some(v));
    }
    if let Some(v) = key.strip_prefix("v:") {
        return serde_json::from_str::<Value>(v).is_ok_and(|v| &v == item);
    }
    false
}

fn mask_change(c: &mut FieldChange) {
    if c.path == FieldPath::root().to_string() {
        // The whole object differs (one side is not an object at all): hide what the Secret side
        // holds, keep its shape.
        for v in [&mut c.before, &mut c.after].into_iter().flatten() {
            hide_secret_fields(v);
        }
        return;
    }
    let secret_field = c.path == "data"
        || c.path == "stringData"
        || c.path.starts_with("data.")
        || c.path.starts_with("data[")
        || c.path.starts_with("stringData.")
        || c.path.starts_with("stringData[")
        || c.path.contains(LAST_APPLIED);
    if c.path == "metadata.annotations" || c.path == "metadata" {
        // A whole annotations map (or metadata) added or removed: hide only kubectl's record.
        for v in [&mut c.before, &mut c.after].into_iter().flatten() {
            hide_last_applied(v);
        }
        return;
    }
    if !secret_field {
        return;
    }
    c.masked = true;
    for v in [&mut c.before, &mut c.after].into_iter().flatten() {
        *v = mask_value(v);
    }
}

/// Masks a whole Secret object's `data`, `stringData` and kubectl's record in its metadata.
fn hide_secret_fields(obj: &mut Value) {
    let Some(m) = obj.as_object_mut() else {
        return;
    };
    for f in ["data", "stringData"] {
        if let Some(v) = m.get_mut(f) {
            *v = mask_value(v);
        }
    }
    if let Some(meta) = m.get_mut("metadata") {
        hide_last_applied(meta);
    }
}

fn hide_last_applied(v: &mut Value) {
    let ann = match v.get_mut("annotations") {
        Some(a) => a,
        None => v,
    };
    if let Some(m) = ann.as_object_mut() {
        if let Some(x) = m.get_mut(LAST_APPLIED) {
            *x = Value::String(MASKED.into());
        }
    }
}

fn mask_value(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, _)| (k.clone(), Value::String(MASKED.into())))
                .collect(),
        ),
        _ => Value::String(MASKED.into()),
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
