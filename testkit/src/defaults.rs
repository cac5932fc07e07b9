//! Server defaults (the `SetDefaults_*` functions of kube-apiserver) for the recorded kinds:
//! Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, pod templates and containers,
//! Service, PersistentVolume(Claim), Secret, Namespace, CRDs, and `default`s from CRD schemas.
//!
//! Defaults run on every write before ownership is computed (as decoding does in the
//! apiserver). Server-assigned state that needs the store (uids, cluster IPs, statuses) is
//! `strategy`'s job, not this module's.

use base64::Engine as _;
use serde_json::{json, Map, Value};

fn obj(v: &mut Value) -> Option<&mut Map<String, Value>> {
    v.as_object_mut()
}

fn set_default(m: &mut Map<String, Value>, key: &str, value: Value) {
    if !m.contains_key(key) {
        m.insert(key.to_string(), value);
    }
}

fn child<'a>(m: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    m.get_mut(key).and_then(Value::as_object_mut)
}

/// Applies the defaults of `kind` to `v` in place.
pub fn apply_defaults(kind: &str, v: &mut Value, crd_schema: Option<&Value>) {
    drop_empty(kind, v);
    if let Some(schema) = crd_schema {
        schema_defaults(v, schema);
        return;
    }
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(root) = obj(v) else { return };
    match kind {
        "Deployment" => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(
                    spec,
                    "strategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
                );
                if let Some(st) = child(spec, "strategy") {
                    if st.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                        set_default(
                            st,
                            "rollingUpdate",
                            json!({"maxUnavailable": "25%", "maxSurge": "25%"}),
                        );
                    }
                }
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                template_defaults(spec);
            }
        }
        "ReplicaSet" => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "replicas", json!(1));
                template_defaults(spec);
            }
        }
        "DaemonSet" => {
            if let Some(spec) = child(root, "spec") {
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
                );
                set_default(spec, "revisionHistoryLimit", json!(10));
                template_defaults(spec);
            }
        }
        "StatefulSet" => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "podManagementPolicy", json!("OrderedReady"));
                set_default(
                    spec,
                    "updateStrategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
                );
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(
                    spec,
                    "persistentVolumeClaimRetentionPolicy",
                    json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
                );
                if let Some(vcts) = spec
                    .get_mut("volumeClaimTemplates")
                    .and_then(Value::as_array_mut)
                {
                    for t in vcts.iter_mut().filter_map(Value::as_object_mut) {
                        set_default(t, "kind", json!("PersistentVolumeClaim"));
                        set_default(t, "apiVersion", json!("v1"));
                        if let Some(s) = child(t, "spec") {
                            set_default(s, "volumeMode", json!("Filesystem"));
                        }
                        set_default(t, "status", json!({"phase": "Pending"}));
                    }
                }
                template_defaults(spec);
            }
        }
        "Job" => {
            if let Some(spec) = child(root, "spec") {
                job_spec_defaults(spec);
                template_defaults(spec);
            }
        }
        "CronJob" => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "concurrencyPolicy", json!("Allow"));
                set_default(spec, "suspend", json!(false));
                set_default(spec, "successfulJobsHistoryLimit", json!(3));
                set_default(spec, "failedJobsHistoryLimit", json!(1));
                if let Some(jt) = child(spec, "jobTemplate") {
                    set_default(jt, "metadata", json!({}));
                    if let Some(js) = child(jt, "spec") {
                        template_defaults(js);
                    }
                }
            }
        }
        "Service" => service_defaults(root),
        "PersistentVolume" => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "persistentVolumeReclaimPolicy", json!("Retain"));
                set_default(spec, "volumeMode", json!("Filesystem"));
                if let Some(hp) = child(spec, "hostPath") {
                    set_default(hp, "type", json!(""));
                }
            }
        }
        "PersistentVolumeClaim" => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "volumeMode", json!("Filesystem"));
            }
        }
        "Secret" => {
            set_default(root, "type", json!("Opaque"));
            if let Some(Value::Object(sd)) = root.shift_remove("stringData") {
                let data = root.entry("data").or_insert_with(|| json!({}));
                if let Some(d) = data.as_object_mut() {
                    for (k, v) in sd {
                        let s = v.as_str().unwrap_or_default();
                        d.insert(
                            k,
                            json!(base64::engine::general_purpose::STANDARD.encode(s)),
                        );
                    }
                }
            }
        }
        "Namespace" => {
            if let Some(meta) = child(root, "metadata") {
                let labels = meta.entry("labels").or_insert_with(|| json!({}));
                if let Some(l) = labels.as_object_mut() {
                    l.insert("kubernetes.io/metadata.name".into(), json!(name));
                }
            }
        }
        "CustomResourceDefinition" => {
            if let Some(spec) = child(root, "spec") {
                set_default(spec, "conversion", json!({"strategy": "None"}));
            }
        }
        _ => {}
    }
}

/// Drops what Go's `omitempty` never serializes: empty labels, annotations, finalizers and
/// ownerReferences, and empty ConfigMap/Secret data. Deployment conditions always carry their
/// two times (null when unset).
fn drop_empty(kind: &str, v: &mut Value) {
    let empty = |x: &Value| {
        x.as_object().is_some_and(Map::is_empty)
            || x.as_array().is_some_and(Vec::is_empty)
            || x.is_null()
    };
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["labels", "annotations", "finalizers", "ownerReferences"] {
            if meta.get(k).is_some_and(empty) {
                meta.shift_remove(k);
            }
        }
    }
    if matches!(kind, "ConfigMap" | "Secret") {
        if let Some(m) = v.as_object_mut() {
            for k in ["data", "binaryData"] {
                if m.get(k).is_some_and(empty) {
                    m.shift_remove(k);
                }
            }
        }
    }
    if kind == "Deployment" {
        if let Some(conds) = v
            .pointer_mut("/status/conditions")
            .and_then(Value::as_array_mut)
        {
            for c in conds.iter_mut().filter_map(Value::as_object_mut) {
                c.entry("lastUpdateTime").or_insert(Value::Null);
                c.entry("lastTransitionTime").or_insert(Value::Null);
            }
        }
    }
}

fn job_spec_defaults(spec: &mut Map<String, Value>) {
    set_default(spec, "parallelism", json!(1));
    set_default(spec, "completions", json!(1));
    set_default(spec, "backoffLimit", json!(6));
    set_default(spec, "completionMode", json!("NonIndexed"));
    set_default(spec, "suspend", json!(false));
    set_default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
}

fn template_defaults(spec: &mut Map<String, Value>) {
    let Some(t) = child(spec, "template") else {
        return;
    };
    set_default(t, "metadata", json!({}));
    if let Some(ps) = child(t, "spec") {
        pod_spec_defaults(ps);
    }
}

fn pod_spec_defaults(ps: &mut Map<String, Value>) {
    set_default(ps, "restartPolicy", json!("Always"));
    set_default(ps, "terminationGracePeriodSeconds", json!(30));
    set_default(ps, "dnsPolicy", json!("ClusterFirst"));
    set_default(ps, "securityContext", json!({}));
    set_default(ps, "schedulerName", json!("default-scheduler"));
    for key in ["containers", "initContainers"] {
        if let Some(cs) = ps.get_mut(key).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                container_defaults(c);
            }
        }
    }
}

fn container_defaults(c: &mut Map<String, Value>) {
    if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
        }
    }
    set_default(c, "resources", json!({}));
    set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
    set_default(c, "terminationMessagePolicy", json!("File"));
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let tag_latest = {
        let last = image.rsplit('/').next().unwrap_or_default();
        !last.contains('@') && (!last.contains(':') || last.ends_with(":latest"))
    };
    set_default(
        c,
        "imagePullPolicy",
        json!(if tag_latest { "Always" } else { "IfNotPresent" }),
    );
}

fn service_defaults(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    set_default(spec, "type", json!("ClusterIP"));
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    set_default(spec, "sessionAffinity", json!("None"));
    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            set_default(p, "protocol", json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                set_default(p, "targetPort", port);
            }
        }
    }
    if ty == "LoadBalancer" || ty == "NodePort" {
        set_default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if ty == "LoadBalancer" {
        set_default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if ty != "ExternalName" {
        set_default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if !root.contains_key("status") {
        root.insert("status".into(), json!({"loadBalancer": {}}));
    }
}

/// Applies `default`s of a CRD structural schema.
pub fn schema_defaults(v: &mut Value, schema: &Value) {
    let (Some(m), Some(props)) = (
        v.as_object_mut(),
        schema.get("properties").and_then(Value::as_object),
    ) else {
        if let (Some(a), Some(items)) = (v.as_array_mut(), schema.get("items")) {
            for item in a {
                schema_defaults(item, items);
            }
        }
        return;
    };
    for (k, ps) in props {
        if !m.contains_key(k) {
            if let Some(d) = ps.get("default") {
                m.insert(k.clone(), d.clone());
            }
        }
        if let Some(child) = m.get_mut(k) {
            schema_defaults(child, ps);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_defaults_as_recorded() {
        let mut d = json!({"metadata": {"name": "web"}, "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}}});
        apply_defaults("Deployment", &mut d, None);
        assert_eq!(
            d["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
            json!("25%")
        );
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
            json!("IfNotPresent")
        );
        assert_eq!(
            d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"],
            json!("TCP")
        );
        assert_eq!(
            d["spec"]["template"]["spec"]["schedulerName"],
            json!("default-scheduler")
        );
    }

    #[test]
    fn secret_string_data_becomes_data() {
        let mut s = json!({"metadata": {"name": "s"}, "stringData": {"u": "admin"}});
        apply_defaults("Secret", &mut s, None);
        assert_eq!(
            s,
            json!({"metadata": {"name": "s"}, "type": "Opaque", "data": {"u": "YWRtaW4="}})
        );
    }
}
