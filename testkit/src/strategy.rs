//! Server-set state of writes (the apiserver's REST strategies and admission): uid,
//! creationTimestamp, generation, status reset and initial status, Service cluster IP and node
//! port allocation, Job selectors and labels, Namespace/PV/PVC finalizers and phases, CRD
//! initial status, and what the status subresource may change.
//!
//! Defaults that decoding applies are in `defaults`; controller-written state is in
//! `controllers`.

use rand::Rng as _;
use serde_json::{json, Map, Value};

/// Allocators for cluster IPs (10.0.0.0/24) and node ports (30000-32767).
#[derive(Debug, Clone)]
pub struct Allocators {
    next_ip: u32,
    next_port: u32,
}

impl Default for Allocators {
    fn default() -> Self {
        Allocators {
            next_ip: 20,
            next_port: 30080,
        }
    }
}

impl Allocators {
    fn ip(&mut self) -> String {
        let ip = format!("10.0.0.{}", self.next_ip);
        self.next_ip = if self.next_ip >= 254 {
            20
        } else {
            self.next_ip + 1
        };
        ip
    }
    fn node_port(&mut self) -> u32 {
        let p = self.next_port;
        self.next_port = if p >= 32767 { 30000 } else { p + 1 };
        p
    }
}

/// A random v4 UUID.
pub fn new_uid() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Five random characters as `generateName` uses them.
pub fn name_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// True when objects of the kind carry `metadata.generation`.
pub fn has_generation(kind: &str, custom: bool) -> bool {
    custom
        || matches!(
            kind,
            "Deployment"
                | "ReplicaSet"
                | "StatefulSet"
                | "DaemonSet"
                | "Job"
                | "CronJob"
                | "CustomResourceDefinition"
                | "Ingress"
                | "NetworkPolicy"
                | "PodDisruptionBudget"
                | "HorizontalPodAutoscaler"
                | "IngressClass"
                | "StorageClass"
        )
}

fn meta(v: &mut Value) -> &mut Map<String, Value> {
    if !v.get("metadata").is_some_and(Value::is_object) {
        if let Some(m) = v.as_object_mut() {
            m.insert("metadata".into(), json!({}));
        }
    }
    match v.get_mut("metadata").and_then(Value::as_object_mut) {
        Some(m) => m,
        // Invariant: `v` is an object (callers only pass decoded objects) and "metadata" was
        // inserted above, so this branch cannot be taken.
        None => unreachable!("metadata is an object"),
    }
}

/// Fills the server-set fields of a new object.
pub fn prepare_create(kind: &str, custom: bool, v: &mut Value, alloc: &mut Allocators, now: &str) {
    if !v.is_object() {
        return;
    }
    let uid = new_uid();
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    {
        let m = meta(v);
        m.insert("uid".into(), json!(uid));
        m.insert("creationTimestamp".into(), json!(now));
        if has_generation(kind, custom) {
            m.insert("generation".into(), json!(1));
        }
        m.shift_remove("deletionTimestamp");
        m.shift_remove("deletionGracePeriodSeconds");
    }
    let Some(root) = v.as_object_mut() else {
        return;
    };
    match kind {
        "Deployment" | "Job" | "CronJob" => {
            root.insert("status".into(), json!({}));
        }
        "DaemonSet" => {
            root.insert(
                "status".into(),
                json!({"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}),
            );
            if let Some(m) = root.get_mut("metadata").and_then(Value::as_object_mut) {
                let ann = m.entry("annotations").or_insert_with(|| json!({}));
                if let Some(a) = ann.as_object_mut() {
                    a.insert(
                        "deprecated.daemonset.template.generation".into(),
                        json!("1"),
                    );
                }
            }
        }
        "StatefulSet" => {
            root.insert(
                "status".into(),
                json!({"replicas": 0, "availableReplicas": 0}),
            );
        }
        "ReplicaSet" => {
            root.insert("status".into(), json!({"replicas": 0}));
        }
        "Namespace" => {
            root.insert("spec".into(), json!({"finalizers": ["kubernetes"]}));
            root.insert("status".into(), json!({"phase": "Active"}));
        }
        "PersistentVolume" => {
            add_finalizer(root, "kubernetes.io/pv-protection");
            root.insert(
                "status".into(),
                json!({"phase": "Pending", "lastPhaseTransitionTime": now}),
            );
        }
        "PersistentVolumeClaim" => {
            add_finalizer(root, "kubernetes.io/pvc-protection");
            root.insert("status".into(), json!({"phase": "Pending"}));
        }
        "CustomResourceDefinition" => {
            let storage = root
                .get("spec")
                .and_then(|s| s.get("versions"))
                .and_then(Value::as_array)
                .and_then(|vs| vs.iter().find(|v| v["storage"] == json!(true)))
                .and_then(|v| v["name"].as_str())
                .unwrap_or("v1")
                .to_string();
            root.insert(
                "status".into(),
                json!({"conditions": null, "acceptedNames": {"plural": "", "kind": ""}, "storedVersions": [storage]}),
            );
        }
        "Service" => {
            if let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut) {
                let ty = spec
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("ClusterIP")
                    .to_string();
                if ty != "ExternalName" {
                    let ip = match spec.get("clusterIP").and_then(Value::as_str) {
                        Some(ip) if !ip.is_empty() => ip.to_string(),
                        _ => alloc.ip(),
                    };
                    spec.insert("clusterIP".into(), json!(ip));
                    if ip == "None" {
                        spec.insert("clusterIPs".into(), json!(["None"]));
                    } else {
                        spec.insert("clusterIPs".into(), json!([ip]));
                    }
                    spec.entry("ipFamilies").or_insert_with(|| json!(["IPv4"]));
                    spec.entry("ipFamilyPolicy")
                        .or_insert_with(|| json!("SingleStack"));
                }
                if ty == "LoadBalancer" || ty == "NodePort" {
                    if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                            if !p.contains_key("nodePort") {
                                p.insert("nodePort".into(), json!(alloc.node_port()));
                            }
                        }
                    }
                }
            }
            root.insert("status".into(), json!({"loadBalancer": {}}));
        }
        _ => {}
    }
    if kind == "Job" {
        job_selector(root, &uid, &name);
    }
}

fn add_finalizer(root: &mut Map<String, Value>, f: &str) {
    if let Some(m) = root.get_mut("metadata").and_then(Value::as_object_mut) {
        let list = m.entry("finalizers").or_insert_with(|| json!([]));
        if let Some(a) = list.as_array_mut() {
            if !a.iter().any(|x| x == f) {
                a.push(json!(f));
            }
        }
    }
}

fn job_selector(root: &mut Map<String, Value>, uid: &str, name: &str) {
    let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec.get("manualSelector") == Some(&json!(true)) {
        return;
    }
    spec.insert("manualSelector".into(), json!(false));
    spec.insert(
        "selector".into(),
        json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
    );
    if let Some(t) = spec.get_mut("template").and_then(Value::as_object_mut) {
        let m = t.entry("metadata").or_insert_with(|| json!({}));
        if let Some(m) = m.as_object_mut() {
            let labels = m.entry("labels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert("batch.kubernetes.io/controller-uid".into(), json!(uid));
                l.insert("batch.kubernetes.io/job-name".into(), json!(name));
                l.insert("controller-uid".into(), json!(uid));
                l.insert("job-name".into(), json!(name));
            }
        }
    }
    if let Some(m) = root.get_mut("metadata").and_then(Value::as_object_mut) {
        let labels = m.entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            for (k, v) in [
                ("batch.kubernetes.io/controller-uid", uid),
                ("batch.kubernetes.io/job-name", name),
                ("controller-uid", uid),
                ("job-name", name),
            ] {
                l.entry(k).or_insert_with(|| json!(v));
            }
        }
    }
}

/// Which part of an object a write may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The main resource (status is kept when the kind has a status subresource).
    Main {
        /// The kind has a status subresource.
        status_sub: bool,
    },
    /// The status subresource (spec and labels are kept).
    Status,
}

/// Restricts `new` to what the target may change, copies the server-owned metadata from `old`,
/// and bumps generation when the spec changed.
pub fn prepare_update(kind: &str, custom: bool, old: &Value, new: &mut Value, target: Target) {
    if !new.is_object() {
        return;
    }
    {
        let om = old.get("metadata").cloned().unwrap_or_else(|| json!({}));
        let m = meta(new);
        for k in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "namespace",
        ] {
            match om.get(k) {
                Some(v) => {
                    m.insert(k.into(), v.clone());
                }
                None => {
                    m.shift_remove(k);
                }
            }
        }
    }
    if kind == "Service" {
        let old_ip = old.pointer("/spec/clusterIP").cloned();
        let new_ip = new.pointer("/spec/clusterIP").cloned();
        if new_ip.is_some()
            && old_ip != new_ip
            && new.pointer("/spec/clusterIPs") == old.pointer("/spec/clusterIPs")
        {
            if let (Some(ip), Some(spec)) =
                (new_ip, new.get_mut("spec").and_then(Value::as_object_mut))
            {
                spec.insert("clusterIPs".into(), Value::Array(vec![ip]));
            }
        }
    }
    match target {
        Target::Main { status_sub } => {
            if status_sub {
                if let Some(root) = new.as_object_mut() {
                    match old.get("status") {
                        Some(s) => {
                            root.insert("status".into(), s.clone());
                        }
                        None => {
                            root.shift_remove("status");
                        }
                    }
                }
            }
        }
        Target::Status => {
            if let Some(root) = new.as_object_mut() {
                for k in root.keys().cloned().collect::<Vec<_>>() {
                    if !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind") {
                        root.shift_remove(&k);
                    }
                }
                if let Some(om) = old.as_object() {
                    for (k, v) in om {
                        if !matches!(k.as_str(), "metadata" | "status" | "apiVersion" | "kind") {
                            root.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            let labels = old.pointer("/metadata/labels").cloned();
            let m = meta(new);
            match labels {
                Some(l) => {
                    m.insert("labels".into(), l);
                }
                None => {
                    m.shift_remove("labels");
                }
            }
        }
    }
    if has_generation(kind, custom) {
        let spec_of = |v: &Value| {
            let mut c = v.clone();
            if let Some(m) = c.as_object_mut() {
                m.shift_remove("metadata");
                m.shift_remove("status");
            }
            c
        };
        if spec_of(old) != spec_of(new) {
            let g = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta(new).insert("generation".into(), json!(g + 1));
        }
        if kind == "DaemonSet" && old["spec"]["template"] != new["spec"]["template"] {
            let g = new
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let m = meta(new);
            let ann = m.entry("annotations").or_insert_with(|| json!({}));
            if let Some(a) = ann.as_object_mut() {
                a.insert(
                    "deprecated.daemonset.template.generation".into(),
                    json!(g.to_string()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_shape_and_suffix() {
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(name_suffix().len(), 5);
    }

    #[test]
    fn status_update_keeps_spec_and_labels() {
        let old = json!({"metadata": {"labels": {"a": "1"}, "generation": 1}, "spec": {"replicas": 2}, "status": {"replicas": 1}});
        let mut new = json!({"metadata": {"labels": {"a": "2"}, "annotations": {"n": "x"}}, "spec": {"replicas": 9}, "status": {"replicas": 7}});
        prepare_update("Deployment", false, &old, &mut new, Target::Status);
        assert_eq!(new["spec"]["replicas"], json!(2));
        assert_eq!(new["metadata"]["labels"]["a"], json!("1"));
        assert_eq!(new["metadata"]["annotations"]["n"], json!("x"));
        assert_eq!(new["status"]["replicas"], json!(7));
        assert_eq!(new["metadata"]["generation"], json!(1));
    }

    #[test]
    fn service_gets_ip_and_node_port() {
        let mut a = Allocators::default();
        let mut s = json!({"metadata": {"name": "s"}, "spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}});
        prepare_create("Service", false, &mut s, &mut a, "2026-01-01T00:00:00Z");
        assert!(s["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("10.0.0.")));
        assert!(s["spec"]["ports"][0]["nodePort"]
            .as_u64()
            .is_some_and(|p| (30000..=32767).contains(&p)));
    }
}
