//! The object store: objects keyed by group, resource, namespace and name (etcd key order), a
//! global increasing resourceVersion, the event history that watches replay from, and the
//! broadcast channel that live watches follow.
//!
//! The store does not interpret objects beyond their metadata; the rules of writing live in
//! `api` and `strategy`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{json, Value};
use tokio::sync::broadcast;

/// Store key: group, plural resource, namespace (`""` when cluster scoped), name.
pub type Key = (String, String, String, String);

/// Watch event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watches see it.
#[derive(Debug, Clone)]
pub struct Event {
    /// resourceVersion of the change.
    pub rv: u64,
    /// Group of the resource.
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// Namespace (`""` for cluster scoped).
    pub namespace: String,
    /// Type.
    pub kind: EventType,
    /// The object after the change (for DELETED: its last state, stamped with `rv`).
    pub object: Value,
    /// The object before the change (`None` for ADDED).
    pub old: Option<Value>,
}

/// Objects, resourceVersions and history.
#[derive(Debug)]
pub struct Store {
    rv: u64,
    objects: BTreeMap<Key, Value>,
    history: VecDeque<Arc<Event>>,
    history_limit: usize,
    floor: u64,
    tx: broadcast::Sender<Arc<Event>>,
    resource_rv: std::collections::HashMap<(String, String), u64>,
    /// Keys written or removed since the controllers last took them (`take_changed`).
    changed: Vec<Key>,
}

impl Store {
    /// An empty store keeping `history_limit` events for watches.
    pub fn new(history_limit: usize) -> Self {
        let (tx, _) = broadcast::channel(4096);
        Store {
            rv: 1,
            objects: BTreeMap::new(),
            history: VecDeque::new(),
            history_limit,
            floor: 1,
            tx,
            resource_rv: Default::default(),
            changed: Vec::new(),
        }
    }

    /// Current resourceVersion (of the last write).
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// Oldest resourceVersion a watch can start from.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// Reads an object.
    pub fn get(&self, key: &Key) -> Option<&Value> {
        self.objects.get(key)
    }

    /// All objects of a resource, optionally in one namespace, in key order.
    pub fn list(&self, group: &str, resource: &str, namespace: Option<&str>) -> Vec<&Value> {
        let start = (
            group.to_string(),
            resource.to_string(),
            namespace.unwrap_or("").to_string(),
            String::new(),
        );
        self.objects
            .range(start..)
            .take_while(|(k, _)| {
                k.0 == group && k.1 == resource && namespace.is_none_or(|ns| k.2 == ns)
            })
            .map(|(_, v)| v)
            .collect()
    }

    /// Every key of objects in a namespace (any resource).
    pub fn keys_in_namespace(&self, namespace: &str) -> Vec<Key> {
        self.objects
            .keys()
            .filter(|k| k.2 == namespace)
            .cloned()
            .collect()
    }

    /// Every key.
    pub fn keys(&self) -> Vec<Key> {
        self.objects.keys().cloned().collect()
    }

    /// Writes an object, assigning the next resourceVersion; returns it.
    pub fn put(&mut self, key: Key, mut obj: Value) -> Value {
        self.rv += 1;
        set_rv(&mut obj, self.rv);
        let old = self.objects.insert(key.clone(), obj.clone());
        let kind = if old.is_some() {
            EventType::Modified
        } else {
            EventType::Added
        };
        self.emit(key, kind, obj.clone(), old);
        obj
    }

    /// Removes an object; returns its last state stamped with the deletion's resourceVersion.
    pub fn remove(&mut self, key: &Key) -> Option<Value> {
        let old = self.objects.remove(key)?;
        self.rv += 1;
        let mut last = old.clone();
        set_rv(&mut last, self.rv);
        self.emit(key.clone(), EventType::Deleted, last.clone(), Some(old));
        Some(last)
    }

    /// resourceVersion of the last change to a resource (what its watch cache serves for
    /// `resourceVersion=0`), or the current one if it never changed.
    pub fn resource_rv(&self, group: &str, resource: &str) -> u64 {
        self.resource_rv
            .get(&(group.to_string(), resource.to_string()))
            .copied()
            .unwrap_or(self.rv)
    }

    /// Keys written or removed since the last call, in write order (the simulated controllers'
    /// change feed; every `put` and `remove` lands here, whoever wrote).
    pub fn take_changed(&mut self) -> Vec<Key> {
        std::mem::take(&mut self.changed)
    }

    fn emit(&mut self, key: Key, kind: EventType, object: Value, old: Option<Value>) {
        self.changed.push(key.clone());
        self.resource_rv
            .insert((key.0.clone(), key.1.clone()), self.rv);
        let ev = Arc::new(Event {
            rv: self.rv,
            group: key.0,
            resource: key.1,
            namespace: key.2,
            kind,
            object,
            old,
        });
        self.history.push_back(ev.clone());
        while self.history.len() > self.history_limit {
            if let Some(e) = self.history.pop_front() {
                self.floor = e.rv;
            }
        }
        let _ = self.tx.send(ev);
    }

    /// Events after `rv` (exclusive), oldest first.
    pub fn events_since(&self, rv: u64) -> Vec<Arc<Event>> {
        self.history.iter().filter(|e| e.rv > rv).cloned().collect()
    }

    /// A receiver for events written from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

/// Sets `metadata.resourceVersion`.
pub fn set_rv(obj: &mut Value, rv: u64) {
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
    }
}

/// Reads `metadata.resourceVersion` as a number.
pub fn get_rv(obj: &Value) -> Option<u64> {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ns: &str, name: &str) -> Key {
        ("".into(), "configmaps".into(), ns.into(), name.into())
    }

    #[test]
    fn rv_increases_and_history_replays() {
        let mut s = Store::new(100);
        let a = s.put(key("a", "x"), json!({"metadata": {"name": "x"}}));
        let b = s.put(key("a", "y"), json!({"metadata": {"name": "y"}}));
        assert!(get_rv(&b) > get_rv(&a));
        assert_eq!(s.list("", "configmaps", Some("a")).len(), 2);
        assert_eq!(s.list("", "configmaps", Some("b")).len(), 0);
        let gone = s.remove(&key("a", "x")).expect("removed");
        assert!(get_rv(&gone) > get_rv(&b));
        let evs = s.events_since(get_rv(&a).unwrap_or(0));
        assert_eq!(evs.len(), 2);
        assert_eq!(evs[1].kind, EventType::Deleted);
    }
}
