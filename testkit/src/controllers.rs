//! Simulated controllers: the state a reconciler waits on, written the way kube-controller-manager
//! and kube-apiserver write it (with their managedFields entries). CRDs become Established and
//! their resources appear in discovery; new namespaces get `default` and `kube-root-ca.crt`;
//! terminating namespaces are emptied and finalized; the garbage collector cascades Background
//! and Foreground deletion; PVCs bind to matching PVs; Deployments, StatefulSets, DaemonSets and
//! Jobs report rollout status; LoadBalancer Services get an ingress hostname.
//!
//! `ControllerMode::Recorded` reproduces the recorded cluster without kubelet (Pods never
//! ready; only Deployments, PV binding, CRDs, namespaces and GC act). `Healthy` completes
//! rollouts. No Pods or ReplicaSets are created: statuses are computed directly. The
//! Deployment controller lives in `rollout`.
//!
//! Each pass looks only at the objects that changed since that controller's previous pass and
//! at what depends on them (`tracker`), in store key order, so the cost of a write does not grow
//! with the number of stored objects; the writes are those of a pass over every object.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::api::State;
use crate::catalog::{crd_resources, GroupVersion};
use crate::config::ControllerMode;
use crate::managed::{self, Writer};
use crate::schema::Schema;
use crate::store::Key;

pub(crate) const KCM: &str = "kube-controller-manager";

pub(crate) fn key_of(group: &str, resource: &str, obj: &Value) -> Key {
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
pub(crate) fn write_as(
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

/// True once `rollout_delay` has passed since this generation of the workload was first seen;
/// schedules a wake-up otherwise.
pub(crate) fn delay_passed(state: &mut State, uid: &str, generation: i64) -> bool {
    let delay = state.config.rollout_delay;
    if delay.is_zero() {
        return true;
    }
    let now = std::time::Instant::now();
    let seen = match state.first_seen.get(uid) {
        Some((g, t)) if *g == generation => *t,
        _ => {
            state.first_seen.insert(uid.to_string(), (generation, now));
            state.wakeups.push(now + delay);
            now
        }
    };
    now.duration_since(seen) >= delay
}

/// Lets every controller act until nothing changes (bounded). Before each controller, the
/// store's changes are fed to the controllers' queues (`tracker`).
pub fn settle(state: &mut State, now: &str) {
    for _ in 0..25 {
        let rv = state.store.rv();
        feed(state);
        crds(state, now);
        feed(state);
        namespaces(state, now);
        feed(state);
        garbage_collector(state, now);
        feed(state);
        pv_binder(state, now);
        feed(state);
        crate::rollout::deployments(state, now);
        if state.config.controller_mode == ControllerMode::Healthy {
            feed(state);
            workloads(state, now);
            feed(state);
            load_balancers(state, now);
        } else {
            // Not run in this mode: nothing to queue (a change of mode makes the next feed
            // queue every object again).
            state.tracker.workloads.clear();
            state.tracker.services.clear();
        }
        if state.store.rv() == rv {
            break;
        }
    }
}

/// Takes the store's changed keys into the controllers' queues.
fn feed(state: &mut State) {
    state.tracker.feed(&mut state.store, &state.config);
}

/// Current values of `keys` (those still stored), in key order.
fn snapshot(state: &State, keys: &BTreeSet<Key>) -> Vec<Value> {
    keys.iter()
        .filter_map(|k| state.store.get(k).cloned())
        .collect()
}

fn crds(state: &mut State, now: &str) {
    let changed = std::mem::take(&mut state.tracker.crds);
    let custom_changed = std::mem::take(&mut state.tracker.custom_changed);
    let stale = std::mem::take(&mut state.tracker.catalog_stale);
    let list = snapshot(state, &changed);
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
    // The served custom resources change only with a CRD; without one, only the changed
    // objects of custom groups can be unserved ones.
    if !stale && changed.is_empty() {
        let custom = &state.catalog.custom;
        let served = |g: &str, r: &str| {
            custom
                .iter()
                .any(|gv| gv.group == g && gv.resources.iter().any(|x| x.resource == r))
        };
        let gone: Vec<Key> = custom_changed
            .into_iter()
            .filter(|k| !served(&k.0, &k.1) && state.store.get(k).is_some())
            .collect();
        for k in gone {
            state.store.remove(&k);
        }
        return;
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
    // Objects of custom resources whose CRD is gone (or no longer served) go with it.
    let served = |g: &str, r: &str| {
        custom
            .iter()
            .any(|gv| gv.group == g && gv.resources.iter().any(|x| x.resource == r))
    };
    // Every stored object of a non-built-in group, in key order (as of this pass's start; the
    // ones removed since are skipped).
    let gone: Vec<Key> = state
        .tracker
        .custom_keys
        .iter()
        .filter(|k| !served(&k.0, &k.1) && state.store.get(k).is_some())
        .cloned()
        .collect();
    for k in gone {
        state.store.remove(&k);
    }
    state.catalog.custom = custom;
}

fn namespaces(state: &mut State, now: &str) {
    // Changed namespaces, and terminating ones whose content changed: a namespace looked at
    // before with nothing changed since would write nothing.
    let mut visit = std::mem::take(&mut state.tracker.namespaces);
    let touched = std::mem::take(&mut state.tracker.touched);
    for k in &visit {
        let terminating = state
            .store
            .get(k)
            .is_some_and(|ns| ns.pointer("/metadata/deletionTimestamp").is_some());
        if terminating {
            state.tracker.terminating.insert(k.clone());
        } else {
            state.tracker.terminating.remove(k);
        }
    }
    visit.extend(
        state
            .tracker
            .terminating
            .iter()
            .filter(|k| touched.contains(&k.3))
            .cloned(),
    );
    let list = snapshot(state, &visit);
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
    // The index is brought up to this pass's start; the objects to look at are the changed ones
    // and the dependents of every uid that appeared, disappeared or changed its object.
    let mut visit = std::mem::take(&mut state.tracker.gc_changed);
    let mut affected: Vec<String> = Vec::new();
    for k in &visit {
        state.tracker.gc.update(&state.store, k, &mut affected);
    }
    affected.sort();
    affected.dedup();
    for u in &affected {
        visit.extend(state.tracker.gc.dependents_of(u).cloned());
    }
    let deleting_fg: Vec<(Key, String)> = state
        .tracker
        .gc
        .foreground
        .iter()
        .map(|(k, u)| (k.clone(), u.clone()))
        .collect();
    for k in &visit {
        let Some(o) = state.store.get(k) else {
            continue;
        };
        let Some(refs) = o
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty())
        else {
            continue;
        };
        let orphaned = refs.iter().all(|r| {
            !state
                .tracker
                .gc
                .has_uid(r["uid"].as_str().unwrap_or_default())
        });
        let owner_fg = refs
            .iter()
            .any(|r| deleting_fg.iter().any(|(_, u)| r["uid"] == json!(u)));
        if orphaned || owner_fg {
            let o = o.clone();
            delete_object(state, k, &o, now);
        }
    }
    for (k, uid) in deleting_fg {
        // Dependents only lose owner references or go during this pass, so the index (as of the
        // pass's start) names every candidate.
        let blocking = state
            .tracker
            .gc
            .dependents_of(&uid)
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
    // Changed claims; every Pending claim once a volume changed.
    let changed = std::mem::take(&mut state.tracker.pvcs);
    let pvs_changed = std::mem::take(&mut state.tracker.pvs_changed);
    for k in &changed {
        let pending = state.store.get(k).is_some_and(|pvc| {
            pvc["status"]["phase"] == "Pending"
                && pvc.pointer("/metadata/deletionTimestamp").is_none()
        });
        if pending {
            state.tracker.pending_pvcs.insert(k.clone());
        } else {
            state.tracker.pending_pvcs.remove(k);
        }
    }
    let claims = if pvs_changed {
        let pending = state.tracker.pending_pvcs.clone();
        snapshot(state, &pending)
    } else {
        snapshot(state, &changed)
    };
    for pvc in claims {
        if pvc["status"]["phase"] != "Pending"
            || pvc.pointer("/metadata/deletionTimestamp").is_some()
        {
            continue;
        }
        // A claim that names its volume (pre-bound) binds to that volume only, as the real
        // controller does, once the volume exists and is not claimed by another claim.
        let named = pvc
            .pointer("/spec/volumeName")
            .and_then(Value::as_str)
            .map(str::to_string);
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
            let claimed_by_this = pv.pointer("/spec/claimRef/name")
                == pvc.pointer("/metadata/name")
                && pv.pointer("/spec/claimRef/namespace") == pvc.pointer("/metadata/namespace");
            named
                .as_deref()
                .is_none_or(|n| pv.pointer("/metadata/name").and_then(Value::as_str) == Some(n))
                && (pv.pointer("/spec/claimRef").is_none() || claimed_by_this)
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
        if named.is_none() {
            annotate(&mut claimed, "pv.kubernetes.io/bound-by-controller", "yes");
        }
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

pub(crate) fn annotate(obj: &mut Value, k: &str, v: &str) {
    if !obj["metadata"]["annotations"].is_object() {
        obj["metadata"]["annotations"] = json!({});
    }
    obj["metadata"]["annotations"][k] = json!(v);
}

/// FNV-32a of the template, encoded like the pod-template-hash label.
pub(crate) fn template_hash(template: &Value) -> String {
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

pub(crate) fn images_fail_cfg(config: &crate::config::ServerConfig, template: &Value) -> bool {
    template["spec"]["containers"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| config.image_fails(c["image"].as_str().unwrap_or_default()))
    })
}

fn workloads(state: &mut State, now: &str) {
    // Changed workloads and those waiting for `rollout_delay`.
    let visit = std::mem::take(&mut state.tracker.workloads);
    for (resource, kind) in [
        ("statefulsets", "StatefulSet"),
        ("daemonsets", "DaemonSet"),
        ("jobs", "Job"),
    ] {
        let group = if kind == "Job" { "batch" } else { "apps" };
        let keys: BTreeSet<Key> = visit
            .iter()
            .filter(|k| k.0 == group && k.1 == resource)
            .cloned()
            .collect();
        let list = snapshot(state, &keys);
        for o in list {
            if o.pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            let uid = o["metadata"]["uid"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let warm = delay_passed(
                state,
                &uid,
                o["metadata"]["generation"].as_i64().unwrap_or(0),
            );
            if !warm {
                // Looked at again on every pass until the delay has passed.
                state.tracker.workloads.insert(key_of(group, resource, &o));
            }
            if !warm && kind == "Job" {
                continue;
            }
            let fails = images_fail(state, &o["spec"]["template"]) || !warm;
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
    let changed = std::mem::take(&mut state.tracker.services);
    let list = snapshot(state, &changed);
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
