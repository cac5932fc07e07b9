//! The small slice of the Kubernetes type schema the server needs: how lists merge (atomic, keyed
//! map, set), which maps are atomic, key-field defaults, and numeric fields for SSA type errors.
//!
//! Built-in kinds use a hand-written table covering the fields eksync touches (containers,
//! ports, env, volumes, conditions, ...). CRD kinds read `x-kubernetes-*` markers from their
//! `openAPIV3Schema`. There is no full OpenAPI model: unknown lists are atomic, unknown maps are
//! granular, and field types are checked only where listed.

use serde_json::Value;

/// How a list merges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListType {
    /// Replaced as a whole (one leaf in managedFields).
    Atomic,
    /// Items keyed by these fields (`k:{...}`).
    Map(Vec<String>),
    /// Items are scalars keyed by value (`v:...`).
    Set,
}

/// Schema context for one object.
#[derive(Debug, Clone, Copy)]
pub struct Schema<'a> {
    /// Kind of the object.
    pub kind: &'a str,
    /// `openAPIV3Schema` of a CRD version, for custom resources.
    pub crd: Option<&'a Value>,
}

fn keys(k: &[&str]) -> ListType {
    ListType::Map(k.iter().map(|s| s.to_string()).collect())
}

impl<'a> Schema<'a> {
    /// Schema for a built-in kind.
    pub fn builtin(kind: &'a str) -> Self {
        Schema { kind, crd: None }
    }

    /// The CRD schema node at a field path (array items are stepped through).
    pub fn crd_node(&self, path: &[String]) -> Option<&'a Value> {
        let mut node = self.crd?;
        for name in path {
            while node.get("type").and_then(Value::as_str) == Some("array") {
                node = node.get("items")?;
            }
            node = node.get("properties")?.get(name.as_str())?;
        }
        Some(node)
    }

    /// How the list at `path` (field names from the root) merges.
    pub fn list_type(&self, path: &[String]) -> ListType {
        if self.crd.is_some() {
            if path.len() == 2 && path[0] == "metadata" {
                return self.meta_list(&path[1]);
            }
            let node = self.crd_node(path);
            return match node
                .and_then(|n| n.get("x-kubernetes-list-type"))
                .and_then(Value::as_str)
            {
                Some("map") => ListType::Map(
                    node.and_then(|n| n.get("x-kubernetes-list-map-keys"))
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|k| k.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                Some("set") => ListType::Set,
                _ => ListType::Atomic,
            };
        }
        let last = path.last().map(String::as_str).unwrap_or("");
        let parent = if path.len() >= 2 {
            path[path.len() - 2].as_str()
        } else {
            ""
        };
        if path.len() == 2 && path[0] == "metadata" {
            return self.meta_list(last);
        }
        match (parent, last) {
            (_, "containers") | (_, "initContainers") | (_, "ephemeralContainers") => {
                keys(&["name"])
            }
            ("containers", "ports")
            | ("initContainers", "ports")
            | ("ephemeralContainers", "ports") => keys(&["containerPort", "protocol"]),
            ("spec", "ports") if self.kind == "Service" => keys(&["port", "protocol"]),
            (_, "env") => keys(&["name"]),
            (_, "volumeMounts") => keys(&["mountPath"]),
            (_, "volumeDevices") => keys(&["devicePath"]),
            (_, "volumes") => keys(&["name"]),
            (_, "imagePullSecrets") => keys(&["name"]),
            (_, "hostAliases") => keys(&["ip"]),
            (_, "topologySpreadConstraints") => keys(&["topologyKey", "whenUnsatisfiable"]),
            (_, "resourceClaims") => keys(&["name"]),
            ("status", "conditions") => keys(&["type"]),
            _ => ListType::Atomic,
        }
    }

    fn meta_list(&self, name: &str) -> ListType {
        match name {
            "finalizers" => ListType::Set,
            "ownerReferences" => keys(&["uid"]),
            _ => ListType::Atomic,
        }
    }

    /// True when the items of the keyed list at `path` are atomic (one leaf per item).
    pub fn atomic_items(&self, path: &[String]) -> bool {
        path.len() == 2 && path[0] == "metadata" && path[1] == "ownerReferences"
    }

    /// True when the map at `path` is one atomic value.
    pub fn atomic_map(&self, path: &[String]) -> bool {
        if self.crd.is_some() {
            return self
                .crd_node(path)
                .and_then(|n| n.get("x-kubernetes-map-type"))
                .and_then(Value::as_str)
                == Some("atomic");
        }
        let last = path.last().map(String::as_str).unwrap_or("");
        if self.kind == "Event"
            && path.len() == 1
            && matches!(last, "involvedObject" | "regarding" | "related")
        {
            // ObjectReference is a `structType=atomic` struct.
            return true;
        }
        match last {
            "selector" => path.len() == 2 && path[0] == "spec",
            "nodeSelector" | "roleRef" | "podSelector" | "namespaceSelector" | "labelSelector" => {
                true
            }
            _ => false,
        }
    }

    /// Default of a list-map key field that the item omits (`protocol: TCP` for ports).
    pub fn key_default(&self, path: &[String], key: &str) -> Option<Value> {
        let last = path.last().map(String::as_str).unwrap_or("");
        (last == "ports" && key == "protocol" && self.crd.is_none()).then(|| Value::from("TCP"))
    }

    /// True when the field at `path` must be numeric (int or float).
    pub fn numeric(&self, path: &[String]) -> bool {
        if self.crd.is_some() {
            return matches!(
                self.crd_node(path)
                    .and_then(|n| n.get("type"))
                    .and_then(Value::as_str),
                Some("integer") | Some("number")
            );
        }
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        matches!(
            p.as_slice(),
            ["spec", "replicas"]
                | ["spec", "minReadySeconds"]
                | ["spec", "revisionHistoryLimit"]
                | ["spec", "progressDeadlineSeconds"]
                | ["spec", "parallelism"]
                | ["spec", "completions"]
                | ["spec", "backoffLimit"]
                | ["status", "replicas"]
                | ["status", "observedGeneration"]
                | ["metadata", "generation"]
        )
    }
}
