//! The Deployment controller of the simulation: simulated ReplicaSets (kept in the server state,
//! never stored as objects), the rolling-update arithmetic of kube-controller-manager (surge,
//! max unavailable, cleanup of unhealthy old replicas, proportional scaling, revisions) and the
//! resulting status, conditions and revision annotation.
//!
//! Pods are only counted: in `ControllerMode::Recorded` none is ever available (the recorded
//! cluster had no kubelet); in `Healthy` all are, except for images marked as failing.

use serde_json::{json, Value};

use crate::api::State;
use crate::config::ControllerMode;
use crate::controllers::{
    annotate, delay_passed, images_fail_cfg, key_of, template_hash, write_as, KCM,
};

/// One simulated ReplicaSet of a Deployment (no object is stored for it).
#[derive(Debug, Clone, PartialEq)]
pub struct SimReplicaSet {
    /// Pod template.
    pub template: Value,
    /// Replicas.
    pub replicas: i64,
    /// Revision.
    pub revision: u64,
    /// `deployment.kubernetes.io/desired-replicas` annotation.
    pub desired: i64,
    /// `deployment.kubernetes.io/max-replicas` annotation.
    pub max: i64,
}

/// Rollout bookkeeping of one Deployment: its simulated ReplicaSets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rollout {
    /// ReplicaSets, oldest first.
    pub sets: Vec<SimReplicaSet>,
}

fn percent(v: &Value, total: i64, round_up: bool) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => {
            let p: f64 = s.trim_end_matches('%').parse().unwrap_or(0.0);
            let x = p * total as f64 / 100.0;
            if round_up {
                x.ceil() as i64
            } else {
                x.floor() as i64
            }
        }
        _ => 0,
    }
}

fn set_condition(
    conds: &mut Vec<Value>,
    t: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
    with_update: bool,
) {
    let existing = conds.iter().position(|c| c["type"] == t);
    let transition = existing
        .and_then(|i| {
            (conds[i]["status"] == status).then(|| conds[i]["lastTransitionTime"].clone())
        })
        .unwrap_or_else(|| json!(now));
    let update_time = existing
        .and_then(|i| {
            (conds[i]["reason"] == reason && conds[i]["message"] == message)
                .then(|| conds[i]["lastUpdateTime"].clone())
        })
        .unwrap_or_else(|| json!(now));
    let c = if with_update {
        json!({"type": t, "status": status, "lastUpdateTime": update_time, "lastTransitionTime": transition, "reason": reason, "message": message})
    } else {
        json!({"type": t, "status": status, "lastTransitionTime": transition, "reason": reason, "message": message})
    };
    match existing {
        Some(i) => conds[i] = c,
        None => conds.push(c),
    }
}

/// The deployment controller's rolling-update arithmetic over simulated ReplicaSets, with pods
/// available only when `healthy(template)` (proportional scaling, surge, unhealthy cleanup).
/// Returns true when the ReplicaSets reached a fixed point (another call changes nothing).
fn roll(
    r: &mut Rollout,
    template: &Value,
    replicas: i64,
    surge: i64,
    unavailable: i64,
    healthy: &dyn Fn(&Value) -> bool,
) -> bool {
    let avail = |rs: &SimReplicaSet| {
        if healthy(&rs.template) {
            rs.replicas
        } else {
            0
        }
    };
    for _ in 0..100 {
        let before = r.sets.clone();
        let new_idx = r.sets.iter().position(|rs| &rs.template == template);
        let scaling = r
            .sets
            .iter()
            .any(|rs| rs.replicas > 0 && rs.desired != replicas);
        if scaling {
            let active: Vec<usize> = (0..r.sets.len())
                .filter(|&i| r.sets[i].replicas > 0)
                .collect();
            if active.len() <= 1 {
                let target = active
                    .first()
                    .copied()
                    .or(new_idx)
                    .or(r.sets.len().checked_sub(1));
                if let Some(i) = target {
                    r.sets[i].replicas = replicas;
                }
            } else {
                let allowed = replicas + surge;
                let total: i64 = r.sets.iter().map(|rs| rs.replicas).sum();
                let to_add = allowed - total;
                let mut order = active.clone();
                if to_add > 0 {
                    order.sort_by(|a, b| {
                        r.sets[*b].replicas.cmp(&r.sets[*a].replicas).then(b.cmp(a))
                    });
                } else {
                    order.sort_by(|a, b| {
                        r.sets[*b].replicas.cmp(&r.sets[*a].replicas).then(a.cmp(b))
                    });
                }
                let mut added = 0;
                let mut deltas = vec![0i64; r.sets.len()];
                for &i in &order {
                    let rs = &r.sets[i];
                    let base = if rs.max > 0 { rs.max } else { total.max(1) };
                    let size = ((rs.replicas * allowed) as f64 / base as f64).round() as i64;
                    let mut frac = size - rs.replicas;
                    if to_add > 0 {
                        frac = frac.min(to_add - added);
                    } else {
                        frac = frac.max(to_add - added);
                    }
                    deltas[i] = frac;
                    added += frac;
                }
                if let Some(&first) = order.first() {
                    deltas[first] += to_add - added;
                }
                for (i, d) in deltas.into_iter().enumerate() {
                    r.sets[i].replicas = (r.sets[i].replicas + d).max(0);
                }
            }
            for rs in &mut r.sets {
                rs.desired = replicas;
                rs.max = replicas + surge;
            }
            continue;
        }
        let max_rev = r.sets.iter().map(|rs| rs.revision).max().unwrap_or(0);
        let new_idx = match new_idx {
            Some(i) => {
                if r.sets[i].revision != max_rev {
                    r.sets[i].revision = max_rev + 1;
                }
                i
            }
            None => {
                r.sets.push(SimReplicaSet {
                    template: template.clone(),
                    replicas: 0,
                    revision: max_rev + 1,
                    desired: replicas,
                    max: replicas + surge,
                });
                r.sets.len() - 1
            }
        };
        let total: i64 = r.sets.iter().map(|rs| rs.replicas).sum();
        if r.sets[new_idx].replicas > replicas {
            r.sets[new_idx].replicas = replicas;
        } else if total < replicas + surge {
            let up = (replicas + surge - total)
                .min(replicas - r.sets[new_idx].replicas)
                .max(0);
            r.sets[new_idx].replicas += up;
        }
        let min_available = replicas - unavailable;
        let new_unavailable = r.sets[new_idx].replicas - avail(&r.sets[new_idx]);
        let total: i64 = r.sets.iter().map(|rs| rs.replicas).sum();
        let mut budget = total - min_available - new_unavailable;
        let mut order: Vec<usize> = (0..r.sets.len()).filter(|&i| i != new_idx).collect();
        order.sort_by_key(|&i| r.sets[i].revision);
        for &i in &order {
            if budget <= 0 {
                break;
            }
            let unhealthy = r.sets[i].replicas - avail(&r.sets[i]);
            let down = unhealthy.min(budget);
            r.sets[i].replicas -= down;
            budget -= down;
        }
        let available: i64 = r.sets.iter().map(avail).sum();
        let mut budget = available - min_available - new_unavailable;
        for &i in &order {
            if budget <= 0 {
                break;
            }
            let down = r.sets[i].replicas.min(budget);
            r.sets[i].replicas -= down;
            budget -= down;
        }
        for rs in &mut r.sets {
            if rs.replicas > 0 || rs.template == *template {
                rs.desired = replicas;
                rs.max = replicas + surge;
            }
        }
        if r.sets == before {
            return true;
        }
    }
    false
}

/// Reconciles the Deployments that changed since the last pass, and those still waiting for
/// `rollout_delay` (or whose rollout arithmetic has not settled): rollout, status, conditions,
/// revision annotation. A Deployment looked at before, with nothing changed since, would write
/// nothing.
pub(crate) fn deployments(state: &mut State, now: &str) {
    let visit = std::mem::take(&mut state.tracker.deployments);
    let list: Vec<Value> = visit
        .iter()
        .filter_map(|k| state.store.get(k).cloned())
        .collect();
    for d in list {
        if d.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let uid = d["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let template = d["spec"]["template"].clone();
        let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1);
        let ru = &d["spec"]["strategy"]["rollingUpdate"];
        let recreate = d["spec"]["strategy"]["type"] == "Recreate";
        let (mut surge, mut unavail) = if recreate {
            (0, replicas)
        } else {
            (
                percent(&ru["maxSurge"], replicas, true),
                percent(&ru["maxUnavailable"], replicas, false),
            )
        };
        if surge == 0 && unavail == 0 {
            unavail = 1;
        }
        surge = surge.max(0);
        let mode = state.config.controller_mode;
        let config = state.config.clone();
        let generation = d["metadata"]["generation"].as_i64().unwrap_or(0);
        let warm = delay_passed(state, &uid, generation);
        let current = template.clone();
        let healthy = move |t: &Value| {
            mode == ControllerMode::Healthy
                && (warm || *t != current)
                && !t["spec"]["containers"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| config.image_fails(c["image"].as_str().unwrap_or_default()))
                })
        };
        let mut rollout = state.rollouts.get(&uid).cloned().unwrap_or_default();
        let settled = roll(&mut rollout, &template, replicas, surge, unavail, &healthy);
        if !warm || !settled {
            state
                .tracker
                .deployments
                .insert(key_of("apps", "deployments", &d));
        }
        state.rollouts.insert(uid, rollout.clone());
        let Some(new_rs) = rollout
            .sets
            .iter()
            .find(|rs| rs.template == template)
            .cloned()
        else {
            continue;
        };
        let total: i64 = rollout.sets.iter().map(|rs| rs.replicas).sum();
        let available: i64 = rollout
            .sets
            .iter()
            .map(|rs| {
                if healthy(&rs.template) {
                    rs.replicas
                } else {
                    0
                }
            })
            .sum();
        let name = d["metadata"]["name"].as_str().unwrap_or_default();
        let rs_name = format!("{name}-{}", template_hash(&template));
        let mut status = serde_json::Map::new();
        status.insert(
            "observedGeneration".into(),
            d["metadata"]["generation"].clone(),
        );
        if total > 0 {
            status.insert("replicas".into(), json!(total));
        }
        if new_rs.replicas > 0 {
            status.insert("updatedReplicas".into(), json!(new_rs.replicas));
        }
        if available > 0 {
            status.insert("readyReplicas".into(), json!(available));
            status.insert("availableReplicas".into(), json!(available));
        }
        if total - available > 0 {
            status.insert("unavailableReplicas".into(), json!(total - available));
        }
        status.insert("terminatingReplicas".into(), json!(0));
        let mut conds: Vec<Value> = d["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if available >= replicas - unavail {
            set_condition(
                &mut conds,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now,
                true,
            );
        } else {
            set_condition(
                &mut conds,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now,
                true,
            );
        }
        let complete = new_rs.replicas == replicas && total == replicas && available == replicas;
        let stuck = mode == ControllerMode::Healthy && images_fail_cfg(&state.config, &template);
        if complete {
            set_condition(
                &mut conds,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                &format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
                now,
                true,
            );
        } else if stuck {
            set_condition(
                &mut conds,
                "Progressing",
                "False",
                "ProgressDeadlineExceeded",
                &format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
                now,
                true,
            );
        } else {
            set_condition(
                &mut conds,
                "Progressing",
                "True",
                "ReplicaSetUpdated",
                &format!("ReplicaSet \"{rs_name}\" is progressing."),
                now,
                true,
            );
        }
        status.insert("conditions".into(), Value::Array(conds));
        let mut new = d.clone();
        new["status"] = Value::Object(status);
        annotate(
            &mut new,
            "deployment.kubernetes.io/revision",
            &new_rs.revision.to_string(),
        );
        let same = |a: &Value, b: &Value| {
            // Only the status is compared: copy it alone, not the whole Deployment.
            let strip = |v: &Value| {
                let mut v = json!({"status": v["status"].clone()});
                if let Some(cs) = v["status"]["conditions"].as_array_mut() {
                    for c in cs {
                        if let Some(m) = c.as_object_mut() {
                            m.shift_remove("lastUpdateTime");
                        }
                    }
                }
                v
            };
            strip(a)["status"] == strip(b)["status"]
                && a["metadata"]["annotations"] == b["metadata"]["annotations"]
        };
        if !same(&d, &new) {
            let key = key_of("apps", "deployments", &d);
            write_as(state, key, &d, new, KCM, Some("status"), now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(r: &Rollout) -> Vec<(String, i64)> {
        r.sets
            .iter()
            .map(|s| {
                (
                    s["image"].as_str().unwrap_or_default().to_string(),
                    s.replicas,
                )
            })
            .collect()
    }

    impl std::ops::Index<&str> for SimReplicaSet {
        type Output = Value;
        fn index(&self, k: &str) -> &Value {
            &self.template[k]
        }
    }

    /// The e-field-conflict "shared" Deployment, as recorded (no Pod ever ready).
    #[test]
    fn recorded_rollout_arithmetic() {
        let never = |_: &Value| false;
        let a = json!({"image": "nginx:1.27"});
        let b = json!({"image": "nginx:1.28"});
        let mut r = Rollout::default();
        roll(&mut r, &a, 2, 1, 0, &never);
        assert_eq!(sizes(&r), vec![("nginx:1.27".into(), 2)]);
        // replicas 4 and a new image at once: scale first, then surge and unhealthy cleanup.
        roll(&mut r, &b, 4, 1, 1, &never);
        assert_eq!(
            sizes(&r),
            vec![("nginx:1.27".into(), 3), ("nginx:1.28".into(), 2)]
        );
        // back to the first image with replicas 2: proportional scale-down, revision 3.
        roll(&mut r, &a, 2, 1, 0, &never);
        assert_eq!(
            sizes(&r),
            vec![("nginx:1.27".into(), 2), ("nginx:1.28".into(), 1)]
        );
        assert_eq!(r.sets[0].revision, 3);
    }

    #[test]
    fn template_change_sticks_without_ready_pods_and_completes_with_them() {
        let a = json!({"image": "a"});
        let b = json!({"image": "b"});
        let mut stuck = Rollout::default();
        roll(&mut stuck, &a, 2, 1, 0, &|_| false);
        roll(&mut stuck, &b, 2, 1, 0, &|_| false);
        assert_eq!(sizes(&stuck), vec![("a".into(), 2), ("b".into(), 1)]);
        let mut healthy = Rollout::default();
        roll(&mut healthy, &a, 2, 1, 0, &|_| true);
        roll(&mut healthy, &b, 2, 1, 0, &|_| true);
        assert_eq!(sizes(&healthy), vec![("a".into(), 0), ("b".into(), 2)]);
    }
}
