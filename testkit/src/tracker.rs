//! Change tracking for the simulated controllers, so that a write costs the same however many
//! objects are stored: which objects changed since each controller last looked (fed by every
//! `Store::put` and `Store::remove`, whoever wrote), the indexes the garbage collector needs
//! (uids, owner references, foreground deletions), and the objects a controller must look at
//! again without a change (a `rollout_delay` not yet passed, a terminating namespace whose
//! content changed, a Pending claim when a volume changed).
//!
//! A controller that looked at an object and wrote nothing writes nothing again as long as
//! neither the object nor anything its decision reads has changed, so each pass visits only the
//! changed objects and what depends on them, in store key order (the order of the full passes),
//! which keeps the writes, their resourceVersions and the watch events exactly as they were.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde_json::Value;

use crate::config::{ControllerMode, ServerConfig};
use crate::store::{Key, Store};

/// What the controllers' decisions read from the configuration: when it changes, every object
/// is looked at again.
#[derive(Debug, Clone, PartialEq)]
struct ConfigPrint {
    mode: ControllerMode,
    failing_images: Vec<String>,
    rollout_delay: Duration,
    load_balancer_domain: String,
}

impl ConfigPrint {
    fn of(c: &ServerConfig) -> Self {
        ConfigPrint {
            mode: c.controller_mode,
            failing_images: c.failing_images.clone(),
            rollout_delay: c.rollout_delay,
            load_balancer_domain: c.load_balancer_domain.clone(),
        }
    }
}

/// True for a group of the built-in catalogue.
pub(crate) fn builtin_group(group: &str) -> bool {
    crate::catalog::builtin().iter().any(|gv| gv.group == group)
}

/// Per-controller work queues and indexes (all keyed by store key, iterated in key order).
#[derive(Debug, Default)]
pub struct Tracker {
    config: Option<ConfigPrint>,
    /// CRDs changed since the CRD controller's last pass.
    pub(crate) crds: BTreeSet<Key>,
    /// Objects of non-built-in groups changed since the CRD controller's last pass.
    pub(crate) custom_changed: BTreeSet<Key>,
    /// Every stored object of a non-built-in group (as of the last feed).
    pub(crate) custom_keys: BTreeSet<Key>,
    /// The catalogue of custom resources must be rebuilt (first pass, configuration change).
    pub(crate) catalog_stale: bool,
    /// Namespaces changed since the namespace controller's last pass.
    pub(crate) namespaces: BTreeSet<Key>,
    /// Names of namespaces whose content changed since the namespace controller's last pass.
    pub(crate) touched: BTreeSet<String>,
    /// Terminating namespaces (kept by the namespace controller).
    pub(crate) terminating: BTreeSet<Key>,
    /// Objects changed since the garbage collector's last pass.
    pub(crate) gc_changed: BTreeSet<Key>,
    /// The garbage collector's view of the store as of its last pass.
    pub(crate) gc: GcIndex,
    /// Claims changed since the volume binder's last pass.
    pub(crate) pvcs: BTreeSet<Key>,
    /// A volume changed since the volume binder's last pass.
    pub(crate) pvs_changed: bool,
    /// Pending claims (as of the volume binder's last pass).
    pub(crate) pending_pvcs: BTreeSet<Key>,
    /// Deployments to look at (changed, or waiting for `rollout_delay`).
    pub(crate) deployments: BTreeSet<Key>,
    /// StatefulSets, DaemonSets and Jobs to look at (changed, or waiting for `rollout_delay`).
    pub(crate) workloads: BTreeSet<Key>,
    /// Services changed since the load balancer controller's last pass.
    pub(crate) services: BTreeSet<Key>,
}

impl Tracker {
    /// Takes the store's changed keys into every controller's queue; when the configuration
    /// the controllers read changed (or on the first call), every stored key counts as changed.
    pub(crate) fn feed(&mut self, store: &mut Store, config: &ServerConfig) {
        let changed = store.take_changed();
        let print = ConfigPrint::of(config);
        if self.config.as_ref() != Some(&print) {
            self.config = Some(print);
            self.catalog_stale = true;
            for k in store.keys() {
                self.note(store, k);
            }
        }
        for k in changed {
            self.note(store, k);
        }
    }

    fn note(&mut self, store: &Store, k: Key) {
        let (g, r) = (k.0.as_str(), k.1.as_str());
        if g == "apiextensions.k8s.io" && r == "customresourcedefinitions" {
            self.crds.insert(k.clone());
        }
        if !builtin_group(g) {
            if store.get(&k).is_some() {
                self.custom_keys.insert(k.clone());
            } else {
                self.custom_keys.remove(&k);
            }
            self.custom_changed.insert(k.clone());
        }
        if !k.2.is_empty() && !self.touched.contains(&k.2) {
            self.touched.insert(k.2.clone());
        }
        match (g, r) {
            ("", "namespaces") => {
                self.namespaces.insert(k.clone());
            }
            ("", "persistentvolumeclaims") => {
                self.pvcs.insert(k.clone());
            }
            ("", "persistentvolumes") => self.pvs_changed = true,
            ("", "services") => {
                self.services.insert(k.clone());
            }
            ("apps", "deployments") => {
                self.deployments.insert(k.clone());
            }
            ("apps", "statefulsets") | ("apps", "daemonsets") | ("batch", "jobs") => {
                self.workloads.insert(k.clone());
            }
            _ => {}
        }
        self.gc_changed.insert(k);
    }
}

/// What the garbage collector reads of every object: uids, owner uids, foreground deletions.
#[derive(Debug, Default)]
pub struct GcIndex {
    uid_of: HashMap<Key, String>,
    uids: HashMap<String, usize>,
    owners_of: HashMap<Key, Vec<String>>,
    dependents: HashMap<String, BTreeSet<Key>>,
    /// Objects being deleted in the foreground, with their uid (`""` when they have none).
    pub(crate) foreground: BTreeMap<Key, String>,
}

impl GcIndex {
    /// Re-reads `key` from the store; pushes the uids whose objects appeared, disappeared or
    /// changed (their dependents must be looked at).
    pub(crate) fn update(&mut self, store: &Store, key: &Key, affected: &mut Vec<String>) {
        match self.uid_of.remove(key) {
            Some(old) => {
                if let Some(n) = self.uids.get_mut(&old) {
                    *n -= 1;
                    if *n == 0 {
                        self.uids.remove(&old);
                    }
                }
                affected.push(old);
            }
            None => affected.push(String::new()),
        }
        if let Some(owners) = self.owners_of.remove(key) {
            for o in owners {
                if let Some(d) = self.dependents.get_mut(&o) {
                    d.remove(key);
                    if d.is_empty() {
                        self.dependents.remove(&o);
                    }
                }
            }
        }
        self.foreground.remove(key);
        let Some(obj) = store.get(key) else {
            return;
        };
        let uid = obj.pointer("/metadata/uid").and_then(Value::as_str);
        if let Some(uid) = uid {
            *self.uids.entry(uid.to_string()).or_default() += 1;
            self.uid_of.insert(key.clone(), uid.to_string());
            affected.push(uid.to_string());
        }
        if let Some(refs) = obj
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .filter(|r| !r.is_empty())
        {
            let owners: Vec<String> = refs
                .iter()
                .map(|r| r["uid"].as_str().unwrap_or_default().to_string())
                .collect();
            for o in &owners {
                self.dependents
                    .entry(o.clone())
                    .or_default()
                    .insert(key.clone());
            }
            self.owners_of.insert(key.clone(), owners);
        }
        let fins = obj
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array);
        if obj.pointer("/metadata/deletionTimestamp").is_some()
            && fins.is_some_and(|f| f.iter().any(|x| x == "foregroundDeletion"))
        {
            self.foreground
                .insert(key.clone(), uid.unwrap_or_default().to_string());
        }
    }

    /// True when some object has this uid.
    pub(crate) fn has_uid(&self, uid: &str) -> bool {
        self.uids.contains_key(uid)
    }

    /// Objects with an owner reference whose uid is `uid` (as of the last update).
    pub(crate) fn dependents_of(&self, uid: &str) -> impl Iterator<Item = &Key> {
        self.dependents.get(uid).into_iter().flatten()
    }
}
