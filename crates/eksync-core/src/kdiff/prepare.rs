//! What eksync sends for an object: the body from Git with the ownership label
//! (`app.kubernetes.io/managed-by: eksync`) added, fields the server owns dropped (an exported
//! manifest's `resourceVersion` would make the apply conditional), and `spec.replicas` left out when
//! a HorizontalPodAutoscaler in the repo targets the object (the replicas belong to the HPA, so
//! there is no endless diff and no tug of war; a warning says so when the manifest sets them).
//!
//! Leaving `spec.replicas` out of an apply when eksync applied it before would make the server
//! drop the field and default it (a scale-down to 1). `replicas_handover` gives the body that
//! first hands the live value to a separate field manager, as the server-side apply documentation
//! prescribes for handing replicas to an autoscaler.
//!
//! It does not substitute references (`values`) nor validate the body (`load`).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::kube::{split_api_version, ObjectKey};

use super::diff::owns;
use super::{FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_LABEL};
use crate::path::Seg;

/// The field manager that holds an HPA target's replicas between eksync letting go of them and
/// the autoscaler's first change.
pub const HANDOVER_MANAGER: &str = "eksync-handover";

/// Metadata fields Git must not send.
const DROPPED_METADATA: &[&str] = &[
    "resourceVersion",
    "uid",
    "managedFields",
    "creationTimestamp",
    "generation",
    "selfLink",
];

/// What `prepare` needs to know about the rest of the repo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrepareContext {
    /// Objects whose replicas an HPA in the repo owns.
    pub hpa_targets: BTreeSet<ObjectKey>,
    /// The source the objects belong to: set as the label [`SOURCE_LABEL`], so that several
    /// sources share a cluster and each lists (and prunes) only its own objects.
    pub source: Option<String>,
}

impl PrepareContext {
    /// Collects the scale targets of every HorizontalPodAutoscaler among the repo's bodies.
    pub fn from_bodies<'a>(bodies: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut hpa_targets = BTreeSet::new();
        for b in bodies {
            let (group, _) = split_api_version(str_at(b, &["apiVersion"]).unwrap_or_default());
            if group != "autoscaling" || str_at(b, &["kind"]) != Some("HorizontalPodAutoscaler") {
                continue;
            }
            let Some(target) = b.pointer("/spec/scaleTargetRef") else {
                continue;
            };
            let (tgroup, _) =
                split_api_version(str_at(target, &["apiVersion"]).unwrap_or_default());
            if let (Some(kind), Some(name)) = (str_at(target, &["kind"]), str_at(target, &["name"]))
            {
                hpa_targets.insert(ObjectKey {
                    group: tgroup.to_string(),
                    kind: kind.to_string(),
                    namespace: str_at(b, &["metadata", "namespace"]).map(str::to_string),
                    name: name.to_string(),
                });
            }
        }
        PrepareContext {
            hpa_targets,
            source: None,
        }
    }

    /// The same context, labelling objects with this source.
    pub fn with_source(mut self, source: &str) -> Self {
        self.source = Some(source.to_string());
        self
    }
}

/// The body to apply, and warnings for the person running eksync.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub body: Value,
    pub warnings: Vec<String>,
}

/// Prepares a body from Git for a server-side apply.
pub fn prepare(body: &Value, ctx: &PrepareContext) -> Prepared {
    let mut out = body.clone();
    let mut warnings = Vec::new();
    let key = super::live::object_key(body);
    let Some(root) = out.as_object_mut() else {
        return Prepared {
            body: out,
            warnings,
        };
    };
    root.shift_remove("status");
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        for f in DROPPED_METADATA {
            meta.shift_remove(*f);
        }
        let labels = meta
            .entry("labels")
            .or_insert_with(|| Value::Object(Map::new()));
        if !labels.is_object() {
            *labels = Value::Object(Map::new());
        }
        if let Some(labels) = labels.as_object_mut() {
            match labels.get(MANAGED_BY_LABEL).and_then(Value::as_str) {
                Some(MANAGED_BY_VALUE) => {}
                Some(other) => {
                    warnings.push(format!(
                        "label {MANAGED_BY_LABEL}={other} is replaced by {MANAGED_BY_VALUE}: eksync finds the objects it manages by this label"
                    ));
                    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
                }
                None => {
                    labels.insert(MANAGED_BY_LABEL.into(), MANAGED_BY_VALUE.into());
                }
            }
            if let Some(source) = &ctx.source {
                labels.insert(SOURCE_LABEL.into(), Value::String(source.clone()));
            }
        }
    }
    if key.as_ref().is_some_and(|k| ctx.hpa_targets.contains(k)) {
        if let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut) {
            if let Some(r) = spec.shift_remove("replicas") {
                warnings.push(format!(
                    "spec.replicas ({r}) is not applied: a HorizontalPodAutoscaler in the repo owns this workload's replicas"
                ));
            }
        }
    }
    Prepared {
        body: out,
        warnings,
    }
}

/// When `prepared` leaves out `spec.replicas` because an HPA owns them and the live object's
/// replicas are still owned by eksync, the minimal body to apply first with the field manager
/// [`HANDOVER_MANAGER`] (same value as live), so that eksync's next apply does not reset them.
/// `None` when nothing needs handing over.
pub fn replicas_handover(prepared: &Value, live: &Value, ctx: &PrepareContext) -> Option<Value> {
    let key = super::live::object_key(prepared)?;
    if !ctx.hpa_targets.contains(&key) || prepared.pointer("/spec/replicas").is_some() {
        return None;
    }
    let replicas = live.pointer("/spec/replicas")?;
    let path = [Seg::Key("spec".into()), Seg::Key("replicas".into())];
    let eksync_owns = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|entries| {
            entries.iter().any(|e| {
                e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER)
                    && e.get("fieldsV1").is_some_and(|fs| owns(fs, live, &path))
            })
        });
    if !eksync_owns {
        return None;
    }
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(key.name));
    if let Some(ns) = key.namespace {
        metadata.insert("namespace".into(), Value::String(ns));
    }
    Some(serde_json::json!({
        "apiVersion": prepared.get("apiVersion")?,
        "kind": key.kind,
        "metadata": metadata,
        "spec": {"replicas": replicas},
    }))
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    crate::kube::get_str(v, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(name: &str, replicas: Option<i64>) -> Value {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "ci", "resourceVersion": "9", "creationTimestamp": null},
            "spec": {"template": {}}, "status": {"replicas": 1}});
        if let Some(r) = replicas {
            d["spec"]["replicas"] = json!(r);
        }
        d
    }

    fn hpa(target: &str) -> Value {
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "h", "namespace": "ci"},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target}}})
    }

    #[test]
    fn adds_label_and_drops_server_fields() {
        let p = prepare(&deploy("web", Some(2)), &PrepareContext::default());
        assert_eq!(
            p.body["metadata"],
            json!({"name": "web", "namespace": "ci", "labels": {"app.kubernetes.io/managed-by": "eksync"}})
        );
        assert_eq!(p.body["spec"]["replicas"], json!(2));
        assert!(p.body.get("status").is_none());
        assert!(p.warnings.is_empty());
    }

    #[test]
    fn hpa_target_loses_replicas_with_a_warning() {
        let bodies = [hpa("web"), deploy("web", Some(3)), deploy("api", Some(3))];
        let ctx = PrepareContext::from_bodies(bodies.iter());
        assert_eq!(ctx.hpa_targets.len(), 1);
        let p = prepare(&bodies[1], &ctx);
        assert!(p.body["spec"].get("replicas").is_none());
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].contains("HorizontalPodAutoscaler"));
        let other = prepare(&bodies[2], &ctx);
        assert_eq!(other.body["spec"]["replicas"], json!(3));
        let unset = prepare(&deploy("web", None), &ctx);
        assert!(unset.warnings.is_empty());
    }

    #[test]
    fn handover_only_when_eksync_still_owns_the_replicas() {
        let bodies = [hpa("web"), deploy("web", Some(3))];
        let ctx = PrepareContext::from_bodies(bodies.iter());
        let prepared = prepare(&bodies[1], &ctx).body;
        let live = |manager: &str| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "ci", "managedFields": [
                    {"manager": manager, "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {}}}}
                ]},
                "spec": {"replicas": 4}})
        };
        assert_eq!(
            replicas_handover(&prepared, &live("eksync"), &ctx),
            Some(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "ci"}, "spec": {"replicas": 4}}))
        );
        assert_eq!(
            replicas_handover(&prepared, &live("horizontal-pod-autoscaler"), &ctx),
            None
        );
        let not_target = prepare(&deploy("api", None), &ctx).body;
        assert_eq!(replicas_handover(&not_target, &live("eksync"), &ctx), None);
    }

    #[test]
    fn another_managed_by_value_is_replaced_with_a_warning() {
        let mut d = deploy("web", None);
        d["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "Helm", "app": "web"});
        let p = prepare(&d, &PrepareContext::default());
        assert_eq!(
            p.body["metadata"]["labels"],
            json!({"app.kubernetes.io/managed-by": "eksync", "app": "web"})
        );
        assert_eq!(p.warnings.len(), 1);
    }
}
