//! Matching live objects to desired ones: the identity of a body, an index of the managed set the
//! adapter listed (one LIST per kind, so diffs need no GET per object), and whether a CRD body
//! from the repo defines a custom resource's kind (such an object waits for its CRD's wave instead
//! of failing its dry run).
//!
//! It does not fetch anything and does not decide waves.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::kube::{get_str, split_api_version, ObjectKey};

/// The identity of a body: group, kind, namespace, name (`None` without kind or name).
pub fn object_key(body: &Value) -> Option<ObjectKey> {
    let (group, _) = split_api_version(get_str(body, &["apiVersion"])?);
    Some(ObjectKey {
        group: group.to_string(),
        kind: get_str(body, &["kind"])?.to_string(),
        namespace: get_str(body, &["metadata", "namespace"]).map(str::to_string),
        name: get_str(body, &["metadata", "name"])?.to_string(),
    })
}

/// Live objects by identity. Objects without an identity are skipped.
pub fn index_live(objects: impl IntoIterator<Item = Value>) -> BTreeMap<ObjectKey, Value> {
    objects
        .into_iter()
        .filter_map(|o| object_key(&o).map(|k| (k, o)))
        .collect()
}

/// True when the object was not in the listed managed set (`live_from_list` is `None`) but the
/// dry run found it on the server: a dry-run create has no `resourceVersion`, a dry-run apply to
/// an existing object carries the object's. Such an object (created outside eksync, or without
/// the ownership label yet) must be read before diffing, or it would show as a create.
pub fn needs_live_read(dry_run_result: &Value, live_from_list: Option<&Value>) -> bool {
    live_from_list.is_none()
        && dry_run_result
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .is_some_and(|rv| !rv.is_empty())
}

/// True when `crd` (a CustomResourceDefinition body) serves `kind` in `api_version`.
pub fn crd_defines(crd: &Value, api_version: &str, kind: &str) -> bool {
    if get_str(crd, &["kind"]) != Some("CustomResourceDefinition") {
        return false;
    }
    let (group, version) = split_api_version(api_version);
    get_str(crd, &["spec", "group"]) == Some(group)
        && get_str(crd, &["spec", "names", "kind"]) == Some(kind)
        && crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .is_some_and(|vs| {
                vs.iter().any(|v| {
                    v.get("name").and_then(Value::as_str) == Some(version)
                        && v.get("served").and_then(Value::as_bool) != Some(false)
                })
            })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn index_by_identity() {
        let idx = index_live([
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ci"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ci"}}),
            json!({"kind": "Broken"}),
        ]);
        assert_eq!(idx.len(), 2);
        let desired = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "ci"}, "spec": {}});
        assert!(idx.contains_key(&object_key(&desired).expect("key")));
    }

    #[test]
    fn live_read_needed_only_for_unlisted_existing_objects() {
        let existing = json!({"metadata": {"name": "x", "resourceVersion": "12"}});
        let created = json!({"metadata": {"name": "x", "uid": "u"}});
        assert!(needs_live_read(&existing, None));
        assert!(!needs_live_read(&existing, Some(&existing)));
        assert!(!needs_live_read(&created, None));
    }

    #[test]
    fn crd_defines_group_kind_and_served_version() {
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "spec": {"group": "example.com", "names": {"kind": "Widget"},
                "versions": [{"name": "v1", "served": true}, {"name": "v0", "served": false}]}});
        assert!(crd_defines(&crd, "example.com/v1", "Widget"));
        assert!(!crd_defines(&crd, "example.com/v0", "Widget"));
        assert!(!crd_defines(&crd, "example.com/v2", "Widget"));
        assert!(!crd_defines(&crd, "example.org/v1", "Widget"));
        assert!(!crd_defines(&crd, "example.com/v1", "Gadget"));
    }
}
