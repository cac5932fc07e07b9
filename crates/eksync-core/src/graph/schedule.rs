//! Whether a node group can host a pod spec: node selectors and required node affinity against
//! the group's labels (configured and the ones eksctl/EKS add), and tolerations against its
//! NoSchedule/NoExecute taints. Pure; labels that depend on the instance (zone, arch, hostname)
//! are treated as possibly matching, since they are unknown offline.

use serde_json::Value;
use std::collections::BTreeMap;

use crate::eksctl::{NodeGroupView, Taint};
use crate::kube;

/// Labels every node of a group carries, besides its configured ones.
fn implicit_labels(cluster: &str, ng: &NodeGroupView) -> BTreeMap<String, String> {
    let mut l = BTreeMap::new();
    l.insert("alpha.eksctl.io/cluster-name".into(), cluster.to_string());
    l.insert("alpha.eksctl.io/nodegroup-name".into(), ng.name.to_string());
    if ng.managed {
        l.insert("eks.amazonaws.com/nodegroup".into(), ng.name.to_string());
        l.insert(
            "eks.amazonaws.com/capacityType".into(),
            if ng.spot { "SPOT" } else { "ON_DEMAND" }.to_string(),
        );
    }
    l
}

/// Node labels whose values depend on the instance, not the group: any selector on them may match.
fn instance_label(key: &str) -> bool {
    matches!(
        key,
        "kubernetes.io/os"
            | "kubernetes.io/arch"
            | "kubernetes.io/hostname"
            | "topology.kubernetes.io/zone"
            | "topology.kubernetes.io/region"
            | "node.kubernetes.io/instance-type"
    ) || key.starts_with("beta.kubernetes.io/")
        || key.starts_with("failure-domain.beta.kubernetes.io/")
}

/// Whether pods with this spec can be scheduled on a node group; the reason either way.
pub fn can_host(cluster: &str, ng: &NodeGroupView, spec: &Value) -> Result<String, String> {
    if ng.sizes.max == 0 {
        return Err("maxSize is 0".into());
    }
    let mut labels = ng.labels.clone();
    labels.extend(implicit_labels(cluster, ng));
    let mut matched = Vec::new();
    if let Some(sel) = spec.get("nodeSelector").and_then(Value::as_object) {
        for (k, v) in sel {
            if instance_label(k) {
                continue;
            }
            let want = v.as_str().unwrap_or("");
            match labels.get(k) {
                Some(have) if have == want => matched.push(format!("{k}={want}")),
                Some(have) => return Err(format!("label {k} is {have}, pods select {want}")),
                None => return Err(format!("no label {k} (pods select {k}={want})")),
            }
        }
    }
    if let Some(terms) = kube::get(
        spec,
        &[
            "affinity",
            "nodeAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            "nodeSelectorTerms",
        ],
    )
    .and_then(Value::as_array)
    {
        let ok = terms.iter().any(|t| term_matches(t, &labels));
        if !ok {
            return Err("required node affinity matches none of its labels".into());
        }
        matched.push("required node affinity".into());
    }
    let tolerations: Vec<&Value> = spec
        .get("tolerations")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    for t in &ng.taints {
        if t.effect == "PreferNoSchedule" {
            continue;
        }
        if !tolerations.iter().any(|tol| tolerates(tol, t)) {
            return Err(format!(
                "taint {}{}:{} is not tolerated",
                t.key,
                t.value
                    .as_deref()
                    .map(|v| format!("={v}"))
                    .unwrap_or_default(),
                t.effect
            ));
        }
    }
    Ok(if matched.is_empty() {
        format!(
            "pods can run on node group {} (no node selector; its taints are tolerated)",
            ng.name
        )
    } else {
        format!(
            "pods select {}, which node group {} carries",
            matched.join(", "),
            ng.name
        )
    })
}

fn term_matches(term: &Value, labels: &BTreeMap<String, String>) -> bool {
    term.get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|e| {
            let key = kube::get_str(e, &["key"]).unwrap_or("");
            if instance_label(key) {
                return true;
            }
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let have = labels.get(key).map(String::as_str);
            match kube::get_str(e, &["operator"]).unwrap_or("") {
                "In" => have.is_some_and(|h| values.contains(&h)),
                "NotIn" => !have.is_some_and(|h| values.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                "Gt" | "Lt" => {
                    let (Some(h), Some(v)) = (
                        have.and_then(|h| h.parse::<i64>().ok()),
                        values.first().and_then(|v| v.parse::<i64>().ok()),
                    ) else {
                        return false;
                    };
                    if kube::get_str(e, &["operator"]) == Some("Gt") {
                        h > v
                    } else {
                        h < v
                    }
                }
                _ => false,
            }
        })
}

fn tolerates(tol: &Value, taint: &Taint) -> bool {
    let key = kube::get_str(tol, &["key"]).unwrap_or("");
    let op = kube::get_str(tol, &["operator"]).unwrap_or("Equal");
    let effect = kube::get_str(tol, &["effect"]).unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    if key.is_empty() {
        return op == "Exists";
    }
    if key != taint.key {
        return false;
    }
    op == "Exists"
        || kube::get_str(tol, &["value"]).unwrap_or("") == taint.value.as_deref().unwrap_or("")
}
