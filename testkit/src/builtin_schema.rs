//! Field knowledge of built-in kinds, taken from the `k8s-openapi` (v1_36) types: an object is
//! decoded into its typed struct and encoded again, and every non-null field that did not survive
//! the round trip is unknown to the schema. Used for SSA's "field not declared in schema" (500)
//! and for the unknown-field warnings / strict errors of POST and PUT.
//!
//! Kinds without a mapped type, and objects that do not decode (type errors), report nothing;
//! type errors are `validation::typed_check`'s job.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::schema::{ListType, Schema};

/// One step of a path to an unknown field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// Object field.
    Field(String),
    /// List index.
    Index(usize),
}

fn roundtrip<T: DeserializeOwned + Serialize>(v: &Value) -> Option<Value> {
    let typed: T = serde_json::from_value(v.clone()).ok()?;
    serde_json::to_value(typed).ok()
}

fn typed_roundtrip(kind: &str, v: &Value) -> Option<Value> {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    use k8s_openapi::api::{autoscaling::v2 as hpa, rbac::v1 as rbac, storage::v1 as storage};
    use k8s_openapi::api::{
        coordination::v1 as coord, networking::v1 as net, policy::v1 as policy,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as ext;
    match kind {
        "Deployment" => roundtrip::<apps::Deployment>(v),
        "StatefulSet" => roundtrip::<apps::StatefulSet>(v),
        "DaemonSet" => roundtrip::<apps::DaemonSet>(v),
        "ReplicaSet" => roundtrip::<apps::ReplicaSet>(v),
        "Job" => roundtrip::<batch::Job>(v),
        "CronJob" => roundtrip::<batch::CronJob>(v),
        "ConfigMap" => roundtrip::<core::ConfigMap>(v),
        "Secret" => roundtrip::<core::Secret>(v),
        "Service" => roundtrip::<core::Service>(v),
        "ServiceAccount" => roundtrip::<core::ServiceAccount>(v),
        "Namespace" => roundtrip::<core::Namespace>(v),
        "PersistentVolume" => roundtrip::<core::PersistentVolume>(v),
        "PersistentVolumeClaim" => roundtrip::<core::PersistentVolumeClaim>(v),
        "Pod" => roundtrip::<core::Pod>(v),
        "Role" => roundtrip::<rbac::Role>(v),
        "RoleBinding" => roundtrip::<rbac::RoleBinding>(v),
        "ClusterRole" => roundtrip::<rbac::ClusterRole>(v),
        "ClusterRoleBinding" => roundtrip::<rbac::ClusterRoleBinding>(v),
        "Ingress" => roundtrip::<net::Ingress>(v),
        "NetworkPolicy" => roundtrip::<net::NetworkPolicy>(v),
        "PodDisruptionBudget" => roundtrip::<policy::PodDisruptionBudget>(v),
        "HorizontalPodAutoscaler" => roundtrip::<hpa::HorizontalPodAutoscaler>(v),
        "StorageClass" => roundtrip::<storage::StorageClass>(v),
        "Lease" => roundtrip::<coord::Lease>(v),
        "CustomResourceDefinition" => roundtrip::<ext::CustomResourceDefinition>(v),
        _ => None,
    }
}

/// Paths of the non-null fields of `obj` that the typed schema of `kind` does not declare.
pub fn unknown_fields(kind: &str, obj: &Value) -> Vec<Vec<Seg>> {
    let mut probe = obj.clone();
    if let Some(m) = probe.as_object_mut() {
        // Decoding checks these against the type; they are not schema fields.
        m.shift_remove("apiVersion");
        m.shift_remove("kind");
    }
    let Some(rt) = typed_roundtrip(kind, &with_type_meta(kind, &probe)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk(&probe, &rt, &mut Vec::new(), &mut out);
    out
}

fn with_type_meta(kind: &str, v: &Value) -> Value {
    let api_version = match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        "Role" | "RoleBinding" | "ClusterRole" | "ClusterRoleBinding" => {
            "rbac.authorization.k8s.io/v1"
        }
        "Ingress" | "NetworkPolicy" => "networking.k8s.io/v1",
        "PodDisruptionBudget" => "policy/v1",
        "HorizontalPodAutoscaler" => "autoscaling/v2",
        "StorageClass" => "storage.k8s.io/v1",
        "Lease" => "coordination.k8s.io/v1",
        "CustomResourceDefinition" => "apiextensions.k8s.io/v1",
        _ => "v1",
    };
    let mut out = v.clone();
    if let Some(m) = out.as_object_mut() {
        m.insert("apiVersion".into(), Value::from(api_version));
        m.insert("kind".into(), Value::from(kind));
    }
    out
}

fn walk(v: &Value, rt: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match (v, rt) {
        (Value::Object(m), Value::Object(r)) => {
            for (k, x) in m {
                if x.is_null() || (path.is_empty() && matches!(k.as_str(), "apiVersion" | "kind")) {
                    continue;
                }
                path.push(Seg::Field(k.clone()));
                match r.get(k) {
                    Some(y) => walk(x, y, path, out),
                    None => out.push(path.clone()),
                }
                path.pop();
            }
        }
        (Value::Array(a), Value::Array(r)) => {
            for (i, (x, y)) in a.iter().zip(r).enumerate() {
                path.push(Seg::Index(i));
                walk(x, y, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// `spec.template.spec.containers[0].imagee`, as unknown-field warnings print it.
pub fn dotted(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Field(f) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(f);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// `.spec.template.spec.containers[name="web"].imagee`, as SSA prints paths (keyed list items
/// by their keys).
pub fn smd_path(obj: &Value, path: &[Seg], schema: &Schema) -> String {
    let mut s = String::new();
    let mut names: Vec<String> = Vec::new();
    let mut cur = obj;
    for seg in path {
        match seg {
            Seg::Field(f) => {
                s.push('.');
                s.push_str(f);
                names.push(f.clone());
                cur = &cur[f.as_str()];
            }
            Seg::Index(i) => {
                let item = &cur[*i];
                match schema.list_type(&names) {
                    ListType::Map(keys) => {
                        let mut ks = keys.clone();
                        ks.sort();
                        let parts: Vec<String> = ks
                            .iter()
                            .filter_map(|k| {
                                item.get(k)
                                    .cloned()
                                    .or_else(|| schema.key_default(&names, k))
                                    .map(|v| format!("{k}={v}"))
                            })
                            .collect();
                        s.push_str(&format!("[{}]", parts.join(",")));
                    }
                    ListType::Set => s.push_str(&format!("[={item}]")),
                    ListType::Atomic => s.push_str(&format!("[{i}]")),
                }
                cur = item;
            }
        }
    }
    s
}

/// Removes the given paths from `v` (deepest and last first, so indices stay valid).
pub fn remove(v: &mut Value, paths: &[Vec<Seg>]) {
    let mut sorted: Vec<&Vec<Seg>> = paths.iter().collect();
    sorted.sort_by(|a, b| {
        b.len()
            .cmp(&a.len())
            .then_with(|| format!("{b:?}").cmp(&format!("{a:?}")))
    });
    for p in sorted {
        remove_one(v, p);
    }
}

fn remove_one(v: &mut Value, path: &[Seg]) {
    match path {
        [] => {}
        [Seg::Field(f)] => {
            if let Some(m) = v.as_object_mut() {
                m.shift_remove(f.as_str());
            }
        }
        [Seg::Index(_)] => {}
        [first, rest @ ..] => {
            let next = match first {
                Seg::Field(f) => v.get_mut(f.as_str()),
                Seg::Index(i) => v.get_mut(*i),
            };
            if let Some(n) = next {
                remove_one(n, rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_unknown_nested_fields_only() {
        let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "labels": {"a": "b"}},
            "color": "red",
            "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                "spec": {"securityContext": {}, "containers": [{"name": "web", "imagee": "nginx", "resources": {}}]}}}});
        let u = unknown_fields("Deployment", &d);
        let shown: Vec<String> = u.iter().map(|p| dotted(p)).collect();
        assert_eq!(
            shown,
            vec![
                "color".to_string(),
                "spec.template.spec.containers[0].imagee".to_string()
            ]
        );
        let s = smd_path(&d, &u[1], &Schema::builtin("Deployment"));
        assert_eq!(s, ".spec.template.spec.containers[name=\"web\"].imagee");
        let mut cleaned = d.clone();
        remove(&mut cleaned, &u);
        assert!(unknown_fields("Deployment", &cleaned).is_empty());
        assert!(
            unknown_fields("Widget", &d).is_empty(),
            "unmapped kinds report nothing"
        );
    }
}
