//! The inventory: the identities (apiVersion, kind, namespace, name) of the objects eksync applied
//! to one cluster, as plain serializable data, and the set arithmetic prune needs (what the
//! inventory holds that Git no longer does). Identities compare by group, kind, namespace and name,
//! not version: one object is served under several versions.
//!
//! Each entry may also carry a fingerprint of what eksync last sent and of the ownership it left
//! ([`fingerprint`]): an object whose desired body and live ownership both still match needs no
//! dry run to be known unchanged, so a no-op reconcile costs one LIST per kind and nothing per
//! object.
//!
//! It does not store itself (the Kubernetes adapter keeps it in a ConfigMap in the cluster) and
//! does not decide whether pruning is allowed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::kube::{get_str, split_api_version};

/// One applied object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InventoryEntry {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// [`fingerprint`] of the body eksync last applied and the ownership that apply left.
    #[serde(default, rename = "h", skip_serializing_if = "Option::is_none")]
    pub applied: Option<String>,
}

impl InventoryEntry {
    /// The identity of a body (`None` without apiVersion, kind or name).
    pub fn of(body: &Value) -> Option<Self> {
        Some(InventoryEntry {
            api_version: get_str(body, &["apiVersion"])?.to_string(),
            kind: get_str(body, &["kind"])?.to_string(),
            namespace: get_str(body, &["metadata", "namespace"]).map(str::to_string),
            name: get_str(body, &["metadata", "name"])?.to_string(),
            applied: None,
        })
    }

    /// The same entry with this fingerprint.
    pub fn with_applied(mut self, fingerprint: Option<String>) -> Self {
        self.applied = fingerprint;
        self
    }

    /// The object's key (group, kind, namespace, name).
    pub fn key(&self) -> crate::kube::ObjectKey {
        crate::kube::ObjectKey {
            group: split_api_version(&self.api_version).0.to_string(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    fn identity(&self) -> (&str, &str, Option<&str>, &str) {
        (
            split_api_version(&self.api_version).0,
            &self.kind,
            self.namespace.as_deref(),
            &self.name,
        )
    }
}

/// The applied objects of one cluster, sorted and without duplicates. Every way to make one
/// (`new`, deserializing) sorts, so lookups are binary searches: a reconcile of 10,000 objects
/// looks each up once, and a linear search made that quadratic (seconds per plan).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "InventoryWire")]
pub struct Inventory {
    pub entries: Vec<InventoryEntry>,
    /// The Git revision the last apply that changed something came from (`None`: a folder).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<crate::source::Revision>,
}

/// An inventory as stored, before it is sorted (a stored one may come from an older eksync or a
/// hand edit).
#[derive(Deserialize)]
struct InventoryWire {
    entries: Vec<InventoryEntry>,
    #[serde(default)]
    revision: Option<crate::source::Revision>,
}

impl From<InventoryWire> for Inventory {
    fn from(w: InventoryWire) -> Self {
        Inventory::new(w.entries).at_revision(w.revision)
    }
}

impl Inventory {
    /// The index of the entry with this identity (`entries` is sorted by identity).
    fn find(&self, entry: &InventoryEntry) -> Option<usize> {
        let id = entry.identity();
        self.entries
            .binary_search_by(|e| e.identity().cmp(&id))
            .ok()
    }

    /// An inventory of these entries (sorted, duplicates removed: the first of an identity wins,
    /// so put fresher entries first).
    pub fn new(entries: impl IntoIterator<Item = InventoryEntry>) -> Self {
        let mut entries: Vec<InventoryEntry> = entries.into_iter().collect();
        // A stable sort by identity keeps the caller's order inside an identity.
        entries.sort_by(|a, b| a.identity().cmp(&b.identity()));
        entries.dedup_by(|a, b| a.identity() == b.identity());
        Inventory {
            entries,
            revision: None,
        }
    }

    /// True when an object with the same identity is in the inventory.
    pub fn contains(&self, entry: &InventoryEntry) -> bool {
        self.find(entry).is_some()
    }

    /// The same inventory, recording this revision.
    pub fn at_revision(mut self, revision: Option<crate::source::Revision>) -> Self {
        self.revision = revision;
        self
    }

    /// The entry of the same identity, if any.
    pub fn get(&self, entry: &InventoryEntry) -> Option<&InventoryEntry> {
        self.find(entry).and_then(|i| self.entries.get(i))
    }

    /// The entries that `desired` no longer holds: candidates for pruning.
    pub fn missing_from(&self, desired: &Inventory) -> Vec<InventoryEntry> {
        self.entries
            .iter()
            .filter(|e| !desired.contains(e))
            .cloned()
            .collect()
    }
}

/// What an applied object looked like to eksync: a hash of the body it sent, and a hash of the
/// object's uid and of the fields eksync's apply owns (its `managedFields` entry). Another
/// manager taking a field eksync set, a changed desired body, or the object recreated all change
/// it; a controller writing status or fields eksync does not set do not. 96 bits in all: it
/// detects change, it is no security boundary.
pub fn fingerprint(sent: &Value, live: &Value) -> String {
    let ownership: Vec<Value> = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| {
            get_str(m, &["manager"]) == Some(super::FIELD_MANAGER)
                && get_str(m, &["operation"]) == Some("Apply")
                && m.get("subresource").is_none_or(|s| s.as_str() == Some(""))
        })
        .map(|m| {
            serde_json::json!([
                m.get("apiVersion"),
                canonical(m.get("fieldsV1").unwrap_or(&Value::Null))
            ])
        })
        .collect();
    let uid = get_str(live, &["metadata", "uid"]).unwrap_or_default();
    format!(
        "{}:{}",
        short_hash(&canonical(sent).to_string()),
        short_hash(&format!("{uid}\n{}", Value::Array(ownership)))
    )
}

/// The value with every object's keys sorted, so that equal documents hash equally.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn short_hash(text: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    hex::encode(&digest[..6])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn e(api: &str, kind: &str, ns: Option<&str>, name: &str) -> InventoryEntry {
        InventoryEntry {
            api_version: api.into(),
            kind: kind.into(),
            namespace: ns.map(str::to_string),
            name: name.into(),
            applied: None,
        }
    }

    /// A stored inventory out of order (an older eksync, a hand edit) is sorted when read, so
    /// lookups (binary searches) find every entry; duplicates keep the first.
    #[test]
    fn a_stored_inventory_is_sorted_when_read_and_every_entry_is_found() {
        let stored = json!({"entries": [
            {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "b", "name": "z"},
            {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "a", "name": "y", "h": "first"},
            {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "a", "name": "web"},
            {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "a", "name": "y", "h": "second"},
            {"apiVersion": "v1", "kind": "Namespace", "name": "a"}
        ], "revision": null});
        let inv: Inventory = serde_json::from_value(stored).expect("reads");
        assert_eq!(inv.entries.len(), 4);
        let mut sorted = inv.entries.clone();
        sorted.sort_by(|a, b| a.identity().cmp(&b.identity()));
        assert_eq!(inv.entries, sorted);
        for probe in [
            e("v1", "ConfigMap", Some("b"), "z"),
            e("apps/v1", "Deployment", Some("a"), "web"),
            e("v1", "Namespace", None, "a"),
        ] {
            assert!(inv.contains(&probe), "{probe:?}");
        }
        let y = inv
            .get(&e("v1", "ConfigMap", Some("a"), "y"))
            .expect("found");
        assert_eq!(y.applied.as_deref(), Some("first"));
        assert!(!inv.contains(&e("v1", "ConfigMap", Some("a"), "missing")));
        // The group, not the version, is the identity.
        assert!(inv.contains(&e("apps/v1beta2", "Deployment", Some("a"), "web")));
    }

    fn live(uid: &str, fields: Value, others: Value) -> Value {
        let mut managed = vec![
            json!({"manager": "eksync", "operation": "Apply", "apiVersion": "v1", "fieldsV1": fields}),
            json!({"manager": "kube-controller-manager", "operation": "Update", "subresource": "status", "fieldsV1": {"f:status": {}}}),
        ];
        if let Value::Array(o) = others {
            managed.extend(o);
        }
        json!({"metadata": {"uid": uid, "managedFields": managed}})
    }

    #[test]
    fn fingerprints_change_with_what_matters_only() {
        let sent = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1", "b": "2"}});
        let fields = json!({"f:data": {"f:a": {}, "f:b": {}}});
        let base = fingerprint(&sent, &live("u1", fields.clone(), json!([])));
        let same = [
            // key order does not matter
            fingerprint(
                &json!({"kind": "ConfigMap", "data": {"b": "2", "a": "1"}, "apiVersion": "v1"}),
                &live("u1", json!({"f:data": {"f:b": {}, "f:a": {}}}), json!([])),
            ),
            // another manager owning other fields, a controller writing status
            fingerprint(
                &sent,
                &live(
                    "u1",
                    fields.clone(),
                    json!([{"manager": "kubectl-label", "operation": "Update", "fieldsV1": {"f:metadata": {"f:labels": {"f:x": {}}}}}]),
                ),
            ),
        ];
        for s in same {
            assert_eq!(s, base);
        }
        let changed = [
            // the desired body changed
            fingerprint(
                &json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}}),
                &live("u1", fields.clone(), json!([])),
            ),
            // someone took field b (eksync's set shrank)
            fingerprint(
                &sent,
                &live("u1", json!({"f:data": {"f:a": {}}}), json!([])),
            ),
            // the object was deleted and recreated
            fingerprint(&sent, &live("u2", fields.clone(), json!([]))),
        ];
        for c in changed {
            assert_ne!(c, base);
        }
        assert_eq!(base.len(), 25, "{base}");
    }

    #[test]
    fn fresher_entries_win_and_fingerprints_serialize_short() {
        let old = e("v1", "ConfigMap", Some("ci"), "a").with_applied(Some("old".into()));
        let new = e("v1", "ConfigMap", Some("ci"), "a").with_applied(Some("new".into()));
        let inv = Inventory::new([new.clone(), old]);
        assert_eq!(inv.entries, vec![new.clone()]);
        assert_eq!(inv.get(&e("v1", "ConfigMap", Some("ci"), "a")), Some(&new));
        assert_eq!(
            serde_json::to_value(&inv).expect("serializes")["entries"][0]["h"],
            json!("new")
        );
    }

    #[test]
    fn identity_ignores_version_and_prune_candidates_are_the_rest() {
        let applied = Inventory::new([
            e("apps/v1", "Deployment", Some("ci"), "web"),
            e("v1", "ConfigMap", Some("ci"), "old"),
            e("v1", "Namespace", None, "ci"),
            e("v1", "Namespace", None, "ci"),
        ]);
        assert_eq!(applied.entries.len(), 3);
        let desired = Inventory::new([
            e("apps/v1beta2", "Deployment", Some("ci"), "web"),
            e("v1", "Namespace", None, "ci"),
        ]);
        assert_eq!(
            applied.missing_from(&desired),
            vec![e("v1", "ConfigMap", Some("ci"), "old")]
        );
    }

    #[test]
    fn entries_from_bodies_and_json_shape() {
        let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ci"}});
        let entry = InventoryEntry::of(&body).expect("identity");
        assert_eq!(
            serde_json::to_value(Inventory::new([entry])).expect("serializes"),
            json!({"entries": [{"apiVersion": "v1", "kind": "Namespace", "name": "ci"}]})
        );
        assert_eq!(InventoryEntry::of(&json!({"kind": "X"})), None);
    }
}
