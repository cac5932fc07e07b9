//! The inventory: the identities (apiVersion, kind, namespace, name) of the objects eksync applied
//! to one cluster, as plain serializable data, and the set arithmetic prune needs (what the
//! inventory holds that Git no longer does). Identities compare by group, kind, namespace and name,
//! not version: one object is served under several versions.
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
}

impl InventoryEntry {
    /// The identity of a body (`None` without apiVersion, kind or name).
    pub fn of(body: &Value) -> Option<Self> {
        Some(InventoryEntry {
            api_version: get_str(body, &["apiVersion"])?.to_string(),
            kind: get_str(body, &["kind"])?.to_string(),
            namespace: get_str(body, &["metadata", "namespace"]).map(str::to_string),
            name: get_str(body, &["metadata", "name"])?.to_string(),
        })
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

/// The applied objects of one cluster, sorted and without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub entries: Vec<InventoryEntry>,
}

impl Inventory {
    /// An inventory of these entries (sorted, duplicates removed).
    pub fn new(entries: impl IntoIterator<Item = InventoryEntry>) -> Self {
        let mut entries: Vec<InventoryEntry> = entries.into_iter().collect();
        entries.sort_by(|a, b| a.identity().cmp(&b.identity()).then_with(|| a.cmp(b)));
        entries.dedup_by(|a, b| a.identity() == b.identity());
        Inventory { entries }
    }

    /// True when an object with the same identity is in the inventory.
    pub fn contains(&self, entry: &InventoryEntry) -> bool {
        let id = entry.identity();
        self.entries.iter().any(|e| e.identity() == id)
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
        }
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
