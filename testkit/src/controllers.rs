//! Simulated controllers: the state a reconciler waits on, written the way kube-controller-manager
//! and kube-apiserver write it (with their managedFields entries). CRDs become Established and
//! their resources appear in discovery; new namespaces get `default` and `kube-root-ca.crt`;
//! terminating namespaces are emptied and finalized; the garbage collector cascades Background
//! and Foreground deletion; PVCs bind to matching PVs; Deployments, StatefulSets, DaemonSets and
//! Jobs report rollout status; LoadBalancer Services get an ingress hostname.
//!
//! `ControllerMode::Recorded` reproduces the recorded cluster without kubelet (Pods never
//! ready; only Deployments, PV binding, CRDs, namespaces and GC act). `Healthy` completes
//! rollouts. No Pods or ReplicaSets are created: statuses are computed directly.

use serde_json::{json, Value};

use crate::api::State;
use crate::catalog::{crd_resources, GroupVersion};
use crate::config::ControllerMode;
use crate::managed::{self, Writer};
use crate::schema::Schema;
use crate::store::Key;

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

const KCM: &str = "kube-controller-manager";

fn key_of(group: &str, resource: &str, obj: &Value) -> Key {
    (
        group.to_string(),
        resource.to_string(),
        obj.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        obj.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    )
}

/// Writes `new` over `old` as `manager` (Update operation), recording ownership.
fn write_as(
    state: &mut State,
    key: Key,
    old: &Value,
    mut new: Value,
    manager: &str,
    sub: Option<&str>,
    now: &str,
) {
    let kind = old["kind"].as_str().unwrap_or_default().to_string();
    let api_version = old["apiVersion"].as_str().unwrap_or_default().to_string();
    let mut entries = managed::parse(old);
    managed::update(
        &mut entries,
        old,
        &new,
        &Schema::builtin(&kind),
        Writer {
            manager,
            api_version: &api_version,
            subresource: sub,
            now,
        },
    );
    managed::render(&mut new, &entries);
    state.store.put(key, new);
}

/// Lets every controller act until nothing changes (bounded).
pub fn settle(state: &mut State, now: &str) {
    for _ in 0..25 {
        let rv = state.store.rv();
        crds(state, now);
        namespaces(state, now);
        garbage_collector(state, now);
        pv_binder(state, now);
        deployments(state, now);
        if state.config.controller_mode == ControllerMode::Healthy {
            workloads(state, now);
            load_balancers(state, now);
        }
        if state.store.rv() == rv {
            break;
        }
    }
}

fn crds(state: &mut State, now: &str) {
    let list: Vec<Value> = state
        .store
        .list("apiextensions.k8s.io", "customresourcedefinitions", None)
        .into_iter()
        .cloned()
        .collect();
    for crd in &list {
        let key = key_of("apiextensions.k8s.io", "customresourcedefinitions", crd);
        if crd.pointer("/metadata/deletionTimestamp").is_some() {
            let group = crd["spec"]["group"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let plural = crd["spec"]["names"]["plural"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            for o in state
                .store
                .list(&group, &plural, None)
                .into_iter()
                .cloned()
                .collect::<Vec<_>>()
            {
                state.store.remove(&key_of(&group, &plural, &o));
            }
            state.store.remove(&key);
            continue;
        }
        let established = crd["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        });
        if established {
            continue;
        }
        let mut new = crd.clone();
        let names = &crd["spec"]["names"];
        let kind = names["kind"].as_str().unwrap_or_default();
        let accepted = json!({
            "plural": names["plural"],
            "singular": names.get("singular").cloned().unwrap_or_else(|| json!(kind.to_lowercase())),
            "kind": kind,
            "listKind": names.get("listKind").cloned().unwrap_or_else(|| json!(format!("{kind}List"))),
        });
        new["status"]["conditions"] = json!([
            {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now, "reason": "NoConflicts", "message": "no conflicts found"},
            {"type": "Established", "status": "True", "lastTransitionTime": now, "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"}
        ]);
        new["status"]["acceptedNames"] = accepted;
        write_as(state, key, crd, new, "kube-apiserver", Some("status"), now);
        let group = crd["spec"]["group"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let plural = crd["spec"]["names"]["plural"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let rv = state.store.rv();
        state.crd_floor.insert((group, plural), rv);
    }
    let mut custom: Vec<GroupVersion> = Vec::new();
    for crd in state
        .store
        .list("apiextensions.k8s.io", "customresourcedefinitions", None)
    {
        let established = crd["status"]["conditions"].as_array().is_some_and(|c| {
            c.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        });
        if !established || crd.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        for r in crd_resources(crd) {
            match custom
                .iter_mut()
                .find(|gv| gv.group == r.group && gv.version == r.version)
            {
                Some(gv) => gv.resources.push(r),
                None => custom.push(GroupVersion {
                    group: r.group.clone(),
                    version: r.version.clone(),
                    resources: vec![r],
                }),
            }
        }
    }
    for gv in &mut custom {
        gv.resources.sort_by(|a, b| a.resource.cmp(&b.resource));
    }
    state.catalog.custom = custom;
}

fn namespaces(state: &mut State, now: &str) {
    let list: Vec<Value> = state
        .store
        .list("", "namespaces", None)
        .into_iter()
        .cloned()
        .collect();
    for ns in &list {
        let name = ns["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let uid = ns["metadata"]["uid"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if ns.pointer("/metadata/deletionTimestamp").is_none() {
            if state.initialized.insert(uid) {
                let sa = json!({"kind": "ServiceAccount", "apiVersion": "v1", "metadata": {"name": "default", "namespace": name}});
                let cm = json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "kube-root-ca.crt", "namespace": name,
                    "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
                    "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\ntestkit\n-----END CERTIFICATE-----\n"}});
                for (resource, obj) in [("serviceaccounts", sa), ("configmaps", cm)] {
                    let key = key_of("", resource, &obj);
                    if state.store.get(&key).is_none() {
                        create_as(state, key, obj, KCM, now);
                    }
                }
            }
            continue;
        }
        let keys: Vec<Key> = state.store.keys_in_namespace(&name);
        let mut remaining: std::collections::BTreeMap<String, usize> = Default::default();
        let mut finalizers: std::collections::BTreeMap<String, usize> = Default::default();
        for k in keys {
            let Some(o) = state.store.get(&k).cloned() else {
                continue;
            };
            let fins: Vec<String> = o
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if fins.is_empty() {
                state.store.remove(&k);
                continue;
            }
            *remaining.entry(format!("{}.{}", k.1, k.0)).or_default() += 1;
            for f in fins {
                *finalizers.entry(f).or_default() += 1;
            }
            if o.pointer("/metadata/deletionTimestamp").is_none() {
                let mut marked = o.clone();
                marked["metadata"]["deletionTimestamp"] = json!(now);
                marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
                state.store.put(k, marked);
            }
        }
        let key = key_of("", "namespaces", ns);
        if remaining.is_empty() {
            state.store.remove(&key);
            state
                .initialized
                .remove(ns["metadata"]["uid"].as_str().unwrap_or_default());
            continue;
        }
        let rem = remaining
            .iter()
            .map(|(r, n)| format!("{r} has {n} resource instances"))
            .collect::<Vec<_>>()
            .join(", ");
        let fin = finalizers
            .iter()
            .map(|(f, n)| format!("{f} in {n} resource instances"))
            .collect::<Vec<_>>()
            .join(", ");
        let cond = |t: &str, s: &str, r: &str, m: &str| {
            let prev = ns["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == t && c["status"] == s))
                .and_then(|c| c["lastTransitionTime"].as_str())
                .unwrap_or(now)
                .to_string();
            json!({"type": t, "status": s, "lastTransitionTime": prev, "reason": r, "message": m})
        };
        let conditions = json!([
            cond(
                "NamespaceDeletionDiscoveryFailure",
                "False",
                "ResourcesDiscovered",
                "All resources successfully discovered"
            ),
            cond(
                "NamespaceDeletionGroupVersionParsingFailure",
                "False",
                "ParsedGroupVersions",
                "All legacy kube types successfully parsed"
            ),
            cond(
                "NamespaceDeletionContentFailure",
                "False",
                "ContentDeleted",
                "All content successfully deleted, may be waiting on finalization"
            ),
            cond(
                "NamespaceContentRemaining",
                "True",
                "SomeResourcesRemain",
                &format!("Some resources are remaining: {rem}")
            ),
            cond(
                "NamespaceFinalizersRemaining",
                "True",
                "SomeFinalizersRemain",
                &format!("Some content in the namespace has finalizers remaining: {fin}")
            ),
        ]);
        if ns["status"]["conditions"] != conditions {
            let mut new = ns.clone();
            new["status"]["conditions"] = conditions;
            write_as(state, key, ns, new, KCM, Some("status"), now);
        }
    }
}

fn create_as(state: &mut State, key: Key, mut obj: Value, manager: &str, now: &str) {
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
    let mut entries = Vec::new();
    let skeleton = json!({"apiVersion": api_version, "kind": kind, "metadata": {}});
    managed::update(
        &mut entries,
        &skeleton,
        &obj,
        &Schema::builtin(&kind),
        Writer {
            manager,
            api_version: &api_version,
            subresource: None,
            now,
        },
    );
    crate::strategy::prepare_create(&kind, false, &mut obj, &mut state.alloc, now);
    managed::render(&mut obj, &entries);
    state.store.put(key, obj);
}

fn garbage_collector(state: &mut State, now: &str) {
    let keys = state.store.keys();
    let uids: std::collections::HashSet<String> = keys
        .iter()
        .filter_map(|k| state.store.get(k))
        .filter_map(|o| {
            o.pointer("/metadata/uid")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    let mut deleting_fg: Vec<(Key, String)> = Vec::new();
    for k in &keys {
        let Some(o) = state.store.get(k) else {
            continue;
        };
        let fins = o.pointer("/metadata/finalizers").and_then(Value::as_array);
        if o.pointer("/metadata/deletionTimestamp").is_some()
            && fins.is_some_and(|f| f.iter().any(|x| x == "foregroundDeletion"))
        {
            deleting_fg.push((
                k.clone(),
                o["metadata"]["uid"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ));
        }
    }
    for k in &keys {
        let Some(o) = state.store.get(k).cloned() else {
            continue;
        };
        let refs = o
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if refs.is_empty() {
            continue;
        }
        let orphaned = refs
            .iter()
            .all(|r| !uids.contains(r["uid"].as_str().unwrap_or_default()));
        let owner_fg = refs
            .iter()
            .any(|r| deleting_fg.iter().any(|(_, u)| r["uid"] == json!(u)));
        if orphaned || owner_fg {
            delete_object(state, k, &o, now);
        }
    }
    for (k, uid) in deleting_fg {
        let blocking = state
            .store
            .keys()
            .iter()
            .filter_map(|dk| state.store.get(dk))
            .any(|d| {
                d.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|refs| {
                        refs.iter().any(|r| {
                            r["uid"] == json!(uid) && r["blockOwnerDeletion"] == json!(true)
                        })
                    })
            });
        if blocking {
            continue;
        }
        let Some(o) = state.store.get(&k).cloned() else {
            continue;
        };
        let fins: Vec<Value> = o["metadata"]["finalizers"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|f| *f != "foregroundDeletion")
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if fins.is_empty() {
            state.store.remove(&k);
        } else {
            let mut n = o.clone();
            n["metadata"]["finalizers"] = Value::Array(fins);
            state.store.put(k, n);
        }
    }
}

fn delete_object(state: &mut State, k: &Key, o: &Value, now: &str) {
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    let has_fins = o
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if has_fins {
        let mut marked = o.clone();
        marked["metadata"]["deletionTimestamp"] = json!(now);
        marked["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        state.store.put(k.clone(), marked);
    } else {
        state.store.remove(k);
    }
}

fn pv_binder(state: &mut State, now: &str) {
    let claims: Vec<Value> = state
        .store
        .list("", "persistentvolumeclaims", None)
        .into_iter()
        .cloned()
        .collect();
    for pvc in claims {
        if pvc["status"]["phase"] != "Pending"
            || pvc.pointer("/spec/volumeName").is_some()
            || pvc.pointer("/metadata/deletionTimestamp").is_some()
        {
            continue;
        }
        let class = pvc["spec"]["storageClassName"].clone();
        let want =
            crate::validation::quantity_bytes(&pvc["spec"]["resources"]["requests"]["storage"])
                .unwrap_or(0.0);
        let modes = pvc["spec"]["accessModes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let pvs: Vec<Value> = state
            .store
            .list("", "persistentvolumes", None)
            .into_iter()
            .cloned()
            .collect();
        let Some(pv) = pvs.into_iter().find(|pv| {
            pv.pointer("/spec/claimRef").is_none()
                && pv["spec"]["storageClassName"] == class
                && crate::validation::quantity_bytes(&pv["spec"]["capacity"]["storage"])
                    .unwrap_or(0.0)
                    >= want
                && modes.iter().all(|m| {
                    pv["spec"]["accessModes"]
                        .as_array()
                        .is_some_and(|a| a.contains(m))
                })
        }) else {
            continue;
        };
        let pv_key = key_of("", "persistentvolumes", &pv);
        let pvc_key = key_of("", "persistentvolumeclaims", &pvc);
        let mut bound_pv = pv.clone();
        bound_pv["spec"]["claimRef"] = json!({
            "kind": "PersistentVolumeClaim", "namespace": pvc["metadata"]["namespace"], "name": pvc["metadata"]["name"],
            "uid": pvc["metadata"]["uid"], "apiVersion": "v1", "resourceVersion": pvc["metadata"]["resourceVersion"]
        });
        annotate(&mut bound_pv, "pv.kubernetes.io/bound-by-controller", "yes");
        write_as(state, pv_key.clone(), &pv, bound_pv, KCM, None, now);
        let Some(pv_now) = state.store.get(&pv_key).cloned() else {
            continue;
        };
        let mut phased = pv_now.clone();
        phased["status"]["phase"] = json!("Bound");
        write_as(state, pv_key, &pv_now, phased, KCM, Some("status"), now);
        let mut claimed = pvc.clone();
        annotate(&mut claimed, "pv.kubernetes.io/bind-completed", "yes");
        annotate(&mut claimed, "pv.kubernetes.io/bound-by-controller", "yes");
        claimed["spec"]["volumeName"] = pv["metadata"]["name"].clone();
        write_as(state, pvc_key.clone(), &pvc, claimed, KCM, None, now);
        let Some(pvc_now) = state.store.get(&pvc_key).cloned() else {
            continue;
        };
        let mut st = pvc_now.clone();
        st["status"] = json!({"phase": "Bound", "accessModes": pv["spec"]["accessModes"], "capacity": pv["spec"]["capacity"]});
        write_as(state, pvc_key, &pvc_now, st, KCM, Some("status"), now);
    }
}

fn annotate(obj: &mut Value, k: &str, v: &str) {
    if !obj["metadata"]["annotations"].is_object() {
        obj["metadata"]["annotations"] = json!({});
    }
    obj["metadata"]["annotations"][k] = json!(v);
}

/// FNV-32a of the template, encoded like the pod-template-hash label.
fn template_hash(template: &Value) -> String {
    let mut h: u32 = 0x811c9dc5;
    for b in template.to_string().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x01000193);
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = h;
    let mut out = String::new();
    while n > 0 {
        out.push(ALPHABET[(n % 27) as usize] as char);
        n /= 27;
    }
    out
}

fn images_fail(state: &State, template: &Value) -> bool {
    images_fail_cfg(&state.config, template)
}

fn images_fail_cfg(config: &crate::config::ServerConfig, template: &Value) -> bool {
    template["spec"]["containers"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| config.image_fails(c["image"].as_str().unwrap_or_default()))
    })
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
fn roll(
    r: &mut Rollout,
    template: &Value,
    replicas: i64,
    surge: i64,
    unavailable: i64,
    healthy: &dyn Fn(&Value) -> bool,
) {
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
            break;
        }
    }
}

fn deployments(state: &mut State, now: &str) {
    let list: Vec<Value> = state
        .store
        .list("apps", "deployments", None)
        .into_iter()
        .cloned()
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
        let healthy = move |t: &Value| {
            mode == ControllerMode::Healthy
                && !t["spec"]["containers"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| config.image_fails(c["image"].as_str().unwrap_or_default()))
                })
        };
        let mut rollout = state.rollouts.get(&uid).cloned().unwrap_or_default();
        roll(&mut rollout, &template, replicas, surge, unavail, &healthy);
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
        let stuck = mode == ControllerMode::Healthy && !healthy(&template);
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
            let strip = |v: &Value| {
                let mut v = v.clone();
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

fn workloads(state: &mut State, now: &str) {
    for (resource, kind) in [
        ("statefulsets", "StatefulSet"),
        ("daemonsets", "DaemonSet"),
        ("jobs", "Job"),
    ] {
        let group = if kind == "Job" { "batch" } else { "apps" };
        let list: Vec<Value> = state
            .store
            .list(group, resource, None)
            .into_iter()
            .cloned()
            .collect();
        for o in list {
            if o.pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            let fails = images_fail(state, &o["spec"]["template"]);
            let gen = o["metadata"]["generation"].clone();
            let mut new = o.clone();
            match kind {
                "StatefulSet" => {
                    let r = o["spec"]["replicas"].as_i64().unwrap_or(1);
                    let ready = if fails { 0 } else { r };
                    let rev = format!(
                        "{}-{}",
                        o["metadata"]["name"].as_str().unwrap_or_default(),
                        template_hash(&o["spec"]["template"])
                    );
                    new["status"] = json!({"observedGeneration": gen, "replicas": r, "readyReplicas": ready, "currentReplicas": r,
                        "updatedReplicas": r, "availableReplicas": ready, "currentRevision": rev, "updateRevision": rev, "collisionCount": 0});
                }
                "DaemonSet" => {
                    let ready = if fails { 0 } else { 1 };
                    new["status"] = json!({"currentNumberScheduled": 1, "numberMisscheduled": 0, "desiredNumberScheduled": 1,
                        "numberReady": ready, "observedGeneration": gen, "updatedNumberScheduled": 1, "numberAvailable": ready});
                }
                _ => {
                    if o["status"].get("conditions").is_some() {
                        continue;
                    }
                    let start = o["status"]["startTime"].clone();
                    let start = if start.is_null() { json!(now) } else { start };
                    new["status"] = if fails {
                        json!({"conditions": [
                            {"type": "FailureTarget", "status": "True", "lastProbeTime": now, "lastTransitionTime": now, "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"},
                            {"type": "Failed", "status": "True", "lastProbeTime": now, "lastTransitionTime": now, "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}],
                            "startTime": start, "failed": o["spec"]["backoffLimit"].as_i64().unwrap_or(6) + 1, "terminating": 0, "ready": 0, "uncountedTerminatedPods": {}})
                    } else {
                        json!({"conditions": [
                            {"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": now, "lastTransitionTime": now, "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"},
                            {"type": "Complete", "status": "True", "lastProbeTime": now, "lastTransitionTime": now, "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"}],
                            "startTime": start, "completionTime": now, "succeeded": o["spec"]["completions"].as_i64().unwrap_or(1), "terminating": 0, "ready": 0, "uncountedTerminatedPods": {}})
                    };
                }
            }
            if new["status"] != o["status"] {
                let key = key_of(group, resource, &o);
                write_as(state, key, &o, new, KCM, Some("status"), now);
            }
        }
    }
}

fn load_balancers(state: &mut State, now: &str) {
    let list: Vec<Value> = state
        .store
        .list("", "services", None)
        .into_iter()
        .cloned()
        .collect();
    for s in list {
        if s["spec"]["type"] != "LoadBalancer"
            || s["status"]["loadBalancer"].get("ingress").is_some()
        {
            continue;
        }
        let host = format!(
            "{}-{}.{}",
            s["metadata"]["name"].as_str().unwrap_or_default(),
            template_hash(&s["metadata"]["uid"]),
            state.config.load_balancer_domain
        );
        let mut new = s.clone();
        new["status"]["loadBalancer"] = json!({"ingress": [{"hostname": host}]});
        let key = key_of("", "services", &s);
        write_as(
            state,
            key,
            &s,
            new,
            "service-controller",
            Some("status"),
            now,
        );
    }
}
