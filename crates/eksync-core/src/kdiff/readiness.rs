//! Readiness of a live object, judged from its status alone: a Deployment, StatefulSet or
//! DaemonSet whose rollout is complete (the controller observed the latest generation, every
//! replica is updated and available; `ProgressDeadlineExceeded` fails it), a Job that completed or
//! failed, a bound PersistentVolumeClaim, an active Namespace, an established CRD, a LoadBalancer
//! Service with an ingress. Every other kind is ready once it exists.
//!
//! It does not wait, poll or time out: the executor calls it on fresh reads and owns the clock.

use serde::Serialize;
use serde_json::Value;

/// Whether an object is ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum Readiness {
    Ready,
    Waiting(String),
    Failed(String),
}

/// Judges readiness of a live object of `kind`.
pub fn readiness(kind: &str, obj: &Value) -> Readiness {
    match kind {
        "Deployment" => deployment(obj),
        "StatefulSet" => stateful_set(obj),
        "DaemonSet" => daemon_set(obj),
        "Job" => job(obj),
        "PersistentVolumeClaim" => match str_at(obj, "/status/phase") {
            Some("Bound") => Readiness::Ready,
            Some("Lost") => Readiness::Failed("the claim lost its volume".into()),
            other => Readiness::Waiting(format!("claim is {}", other.unwrap_or("Pending"))),
        },
        "Namespace" => match str_at(obj, "/status/phase") {
            // Terminating never turns Active again: waiting would only run out the clock.
            _ if obj.pointer("/metadata/deletionTimestamp").is_some() => {
                Readiness::Failed("namespace is being terminated".into())
            }
            Some("Active") => Readiness::Ready,
            Some("Terminating") => Readiness::Failed("namespace is being terminated".into()),
            Some(p) => Readiness::Waiting(format!("namespace is {p}")),
            None => Readiness::Waiting("namespace has no phase yet".into()),
        },
        "CustomResourceDefinition" => {
            if condition(obj, "Established").is_some_and(|c| c.status == "True") {
                Readiness::Ready
            } else if let Some(c) = condition(obj, "NamesAccepted").filter(|c| c.status == "False")
            {
                Readiness::Failed(format!("names not accepted: {}", c.message))
            } else {
                Readiness::Waiting("CRD is not established yet".into())
            }
        }
        "Service" => {
            if str_at(obj, "/spec/type") != Some("LoadBalancer") {
                return Readiness::Ready;
            }
            let assigned = obj
                .pointer("/status/loadBalancer/ingress")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            if assigned {
                Readiness::Ready
            } else {
                Readiness::Waiting("load balancer has no ingress yet".into())
            }
        }
        _ => Readiness::Ready,
    }
}

/// Whether an object of this kind (with this body, as sent) can be anything but ready once the
/// apply succeeded: only kinds whose readiness [`readiness`] judges from status need a read after
/// the apply. A ConfigMap, Secret, ServiceAccount, Role or binding is ready once applied, so
/// waiting for it costs nothing.
pub fn needs_wait(kind: &str, body: &Value) -> bool {
    match kind {
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "PersistentVolumeClaim"
        | "Namespace"
        | "CustomResourceDefinition" => true,
        "Service" => str_at(body, "/spec/type") == Some("LoadBalancer"),
        _ => false,
    }
}

struct Condition {
    status: String,
    reason: String,
    message: String,
}

fn condition(obj: &Value, type_: &str) -> Option<Condition> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(type_))
        .map(|c| {
            let s = |k: &str| {
                c.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            Condition {
                status: s("status"),
                reason: s("reason"),
                message: s("message"),
            }
        })
}

fn str_at<'a>(obj: &'a Value, ptr: &str) -> Option<&'a str> {
    obj.pointer(ptr).and_then(Value::as_str)
}

fn int_at(obj: &Value, ptr: &str) -> Option<i64> {
    obj.pointer(ptr).and_then(Value::as_i64)
}

/// Waiting while the controller has not seen the latest spec.
fn observed(obj: &Value) -> Option<Readiness> {
    let generation = int_at(obj, "/metadata/generation")?;
    let seen = int_at(obj, "/status/observedGeneration").unwrap_or(0);
    (seen < generation).then(|| {
        Readiness::Waiting(format!(
            "controller has not observed generation {generation} yet (observed {seen})"
        ))
    })
}

fn deployment(obj: &Value) -> Readiness {
    if let Some(c) = condition(obj, "Progressing") {
        if c.reason == "ProgressDeadlineExceeded" {
            return Readiness::Failed(format!(
                "rollout exceeded its progress deadline: {}",
                c.message
            ));
        }
    }
    if let Some(w) = observed(obj) {
        return w;
    }
    let want = int_at(obj, "/spec/replicas").unwrap_or(1);
    let updated = int_at(obj, "/status/updatedReplicas").unwrap_or(0);
    let total = int_at(obj, "/status/replicas").unwrap_or(0);
    let available = int_at(obj, "/status/availableReplicas").unwrap_or(0);
    if updated < want {
        Readiness::Waiting(format!("{updated} of {want} replicas updated"))
    } else if total > updated {
        Readiness::Waiting(format!(
            "{} old replicas pending termination",
            total - updated
        ))
    } else if available < updated {
        Readiness::Waiting(format!(
            "{available} of {updated} updated replicas available"
        ))
    } else {
        Readiness::Ready
    }
}

fn stateful_set(obj: &Value) -> Readiness {
    if let Some(w) = observed(obj) {
        return w;
    }
    let want = int_at(obj, "/spec/replicas").unwrap_or(1);
    let ready = int_at(obj, "/status/readyReplicas").unwrap_or(0);
    let updated = int_at(obj, "/status/updatedReplicas").unwrap_or(0);
    let rolling =
        str_at(obj, "/spec/updateStrategy/type").unwrap_or("RollingUpdate") == "RollingUpdate";
    // Ordinals below the partition are deliberately left on the old revision.
    let partition = int_at(obj, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0);
    let want_updated = (want - partition).max(0);
    if rolling && updated < want_updated {
        Readiness::Waiting(format!("{updated} of {want_updated} replicas updated"))
    } else if ready < want {
        Readiness::Waiting(format!("{ready} of {want} replicas ready"))
    } else {
        Readiness::Ready
    }
}

fn daemon_set(obj: &Value) -> Readiness {
    if let Some(w) = observed(obj) {
        return w;
    }
    let desired = int_at(obj, "/status/desiredNumberScheduled").unwrap_or(0);
    let updated = int_at(obj, "/status/updatedNumberScheduled").unwrap_or(0);
    let available = int_at(obj, "/status/numberAvailable").unwrap_or(0);
    let rolling =
        str_at(obj, "/spec/updateStrategy/type").unwrap_or("RollingUpdate") == "RollingUpdate";
    if rolling && updated < desired {
        Readiness::Waiting(format!("{updated} of {desired} pods updated"))
    } else if available < desired {
        Readiness::Waiting(format!("{available} of {desired} pods available"))
    } else {
        Readiness::Ready
    }
}

fn job(obj: &Value) -> Readiness {
    if let Some(c) = condition(obj, "Failed").filter(|c| c.status == "True") {
        return Readiness::Failed(
            format!("job failed: {} {}", c.reason, c.message)
                .trim()
                .to_string(),
        );
    }
    if condition(obj, "Complete").is_some_and(|c| c.status == "True") {
        return Readiness::Ready;
    }
    let succeeded = int_at(obj, "/status/succeeded").unwrap_or(0);
    let completions = int_at(obj, "/spec/completions").unwrap_or(1);
    Readiness::Waiting(format!("{succeeded} of {completions} completions"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminating_namespace_fails_at_once() {
        let terminating = serde_json::json!({"status": {"phase": "Terminating"}});
        let deleted = serde_json::json!({"metadata": {"deletionTimestamp": "2026-11-30T12:00:00Z"}, "status": {"phase": "Active"}});
        for ns in [terminating, deleted] {
            assert_eq!(
                readiness("Namespace", &ns),
                Readiness::Failed("namespace is being terminated".into())
            );
        }
        let active = serde_json::json!({"status": {"phase": "Active"}});
        assert_eq!(readiness("Namespace", &active), Readiness::Ready);
    }

    #[test]
    fn only_kinds_with_a_status_to_judge_are_waited_for() {
        let lb = serde_json::json!({"spec": {"type": "LoadBalancer"}});
        let cluster_ip = serde_json::json!({"spec": {"type": "ClusterIP"}});
        let empty = serde_json::json!({});
        for (kind, body, want) in [
            ("Deployment", &empty, true),
            ("Job", &empty, true),
            ("PersistentVolumeClaim", &empty, true),
            ("Namespace", &empty, true),
            ("CustomResourceDefinition", &empty, true),
            ("Service", &lb, true),
            ("Service", &cluster_ip, false),
            ("ConfigMap", &empty, false),
            ("Secret", &empty, false),
            ("ServiceAccount", &empty, false),
            ("RoleBinding", &empty, false),
        ] {
            assert_eq!(needs_wait(kind, body), want, "{kind} {body}");
            if !want {
                // Consistent with the judge: such an object is ready as soon as it exists.
                assert_eq!(readiness(kind, body), Readiness::Ready, "{kind}");
            }
        }
    }
    use serde_json::json;

    fn deploy(gen: i64, status: Value) -> Value {
        json!({"metadata": {"generation": gen}, "spec": {"replicas": 3}, "status": status})
    }

    type Check = fn(&Readiness) -> bool;

    #[test]
    fn workloads() {
        use Readiness::*;
        let waiting = |r: &Readiness| matches!(r, Waiting(_));
        let failed = |r: &Readiness| matches!(r, Failed(_));
        let table: Vec<(&str, Value, Check)> = vec![
            (
                "Deployment",
                deploy(
                    2,
                    json!({"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}),
                ),
                waiting,
            ),
            (
                "Deployment",
                deploy(
                    2,
                    json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}),
                ),
                waiting,
            ),
            (
                "Deployment",
                deploy(
                    2,
                    json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 2}),
                ),
                waiting,
            ),
            (
                "Deployment",
                deploy(
                    2,
                    json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3}),
                ),
                |r| *r == Ready,
            ),
            (
                "Deployment",
                deploy(
                    2,
                    json!({"observedGeneration": 2, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "too slow"}]}),
                ),
                failed,
            ),
            (
                "StatefulSet",
                json!({"metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 2}}),
                waiting,
            ),
            (
                "StatefulSet",
                json!({"metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": {"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 2}}),
                |r| *r == Ready,
            ),
            (
                "DaemonSet",
                json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 2}}),
                waiting,
            ),
            (
                "DaemonSet",
                json!({"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3}}),
                |r| *r == Ready,
            ),
            (
                "DaemonSet",
                json!({"metadata": {"generation": 1}, "spec": {"updateStrategy": {"type": "OnDelete"}}, "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 0, "numberAvailable": 3}}),
                |r| *r == Ready,
            ),
            (
                "StatefulSet",
                json!({"metadata": {"generation": 1}, "spec": {"replicas": 3, "updateStrategy": {"rollingUpdate": {"partition": 2}}}, "status": {"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 1}}),
                |r| *r == Ready,
            ),
            (
                "StatefulSet",
                json!({"metadata": {"generation": 1}, "spec": {"replicas": 3, "updateStrategy": {"rollingUpdate": {"partition": 1}}}, "status": {"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 1}}),
                waiting,
            ),
            (
                "Job",
                json!({"status": {"conditions": [{"type": "Complete", "status": "True"}]}}),
                |r| *r == Ready,
            ),
            (
                "Job",
                json!({"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}}),
                failed,
            ),
            ("Job", json!({"status": {"active": 1}}), waiting),
            (
                "PersistentVolumeClaim",
                json!({"status": {"phase": "Pending"}}),
                waiting,
            ),
            (
                "PersistentVolumeClaim",
                json!({"status": {"phase": "Bound"}}),
                |r| *r == Ready,
            ),
            ("Namespace", json!({"status": {"phase": "Active"}}), |r| {
                *r == Ready
            }),
            // Terminating never turns Active again (this row said "waiting" before: a run then
            // waited out the Namespace's whole timeout).
            (
                "Namespace",
                json!({"status": {"phase": "Terminating"}}),
                |r| matches!(r, Readiness::Failed(_)),
            ),
            (
                "CustomResourceDefinition",
                json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}}),
                |r| *r == Ready,
            ),
            ("CustomResourceDefinition", json!({"status": {}}), waiting),
            (
                "CustomResourceDefinition",
                json!({"status": {"conditions": [{"type": "NamesAccepted", "status": "False", "message": "conflict"}]}}),
                failed,
            ),
            (
                "Service",
                json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}}),
                waiting,
            ),
            (
                "Service",
                json!({"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{"hostname": "a.elb"}]}}}),
                |r| *r == Ready,
            ),
            ("Service", json!({"spec": {"type": "ClusterIP"}}), |r| {
                *r == Ready
            }),
            ("ConfigMap", json!({}), |r| *r == Ready),
        ];
        for (i, (kind, obj, check)) in table.iter().enumerate() {
            let r = readiness(kind, obj);
            assert!(check(&r), "row {i} ({kind}): {r:?}");
        }
    }
}
