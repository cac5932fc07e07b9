//! Field sets as server-side apply tracks them (structured-merge-diff semantics): a tree of path
//! elements (`f:name`, `k:{"name":"web"}`, `v:"value"`), its `FieldsV1` JSON form, the set of a
//! value (`toFieldSet`), the comparison of two values (added / modified / removed) and removal of
//! paths from a value (pruning).
//!
//! It does not decide ownership; `managed` does that with these sets.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::schema::{ListType, Schema};

/// A set of field paths, stored as a tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    /// True when the path of this node itself is in the set.
    pub member: bool,
    /// Child path elements.
    pub children: BTreeMap<String, FieldSet>,
}

/// One path: a list of path elements.
pub type Path = Vec<String>;

impl FieldSet {
    /// True when no path is in the set.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    /// Adds a path.
    pub fn insert(&mut self, path: &[String]) {
        match path.split_first() {
            None => self.member = true,
            Some((first, rest)) => self.children.entry(first.clone()).or_default().insert(rest),
        }
    }

    /// True when the path is a member.
    pub fn contains(&self, path: &[String]) -> bool {
        match path.split_first() {
            None => self.member,
            Some((first, rest)) => self.children.get(first).is_some_and(|c| c.contains(rest)),
        }
    }

    fn cleaned(mut self) -> FieldSet {
        self.children = self
            .children
            .into_iter()
            .map(|(k, v)| (k, v.cleaned()))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        self
    }

    /// Paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.member |= other.member;
        for (k, v) in &other.children {
            let merged = match out.children.get(k) {
                Some(mine) => mine.union(v),
                None => v.clone(),
            };
            out.children.insert(k.clone(), merged);
        }
        out.cleaned()
    }

    /// Paths of `self` that are not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (k, v) in &self.children {
            let d = match other.children.get(k) {
                Some(o) => v.difference(o),
                None => v.clone(),
            };
            out.children.insert(k.clone(), d);
        }
        out.cleaned()
    }

    /// Paths of `self` that are not in `other` nor under a member of `other`.
    pub fn recursive_difference(&self, other: &FieldSet) -> FieldSet {
        if other.member {
            return FieldSet::default();
        }
        let mut out = FieldSet {
            member: self.member,
            children: BTreeMap::new(),
        };
        for (k, v) in &self.children {
            let d = match other.children.get(k) {
                Some(o) => v.recursive_difference(o),
                None => v.clone(),
            };
            out.children.insert(k.clone(), d);
        }
        out.cleaned()
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (k, v) in &self.children {
            if let Some(o) = other.children.get(k) {
                out.children.insert(k.clone(), v.intersection(o));
            }
        }
        out.cleaned()
    }

    /// Every member path, depth first in key order.
    pub fn paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        fn walk(node: &FieldSet, prefix: &mut Path, out: &mut Vec<Path>) {
            if node.member {
                out.push(prefix.clone());
            }
            for (k, v) in &node.children {
                prefix.push(k.clone());
                walk(v, prefix, out);
                prefix.pop();
            }
        }
        walk(self, &mut Vec::new(), &mut out);
        out
    }

    /// The `FieldsV1` JSON form.
    pub fn to_fields_v1(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, v) in &self.children {
            if !v.is_empty() {
                m.insert(k.clone(), v.to_fields_v1());
            }
        }
        Value::Object(m)
    }

    /// Parses `FieldsV1` JSON (the root is never a member).
    pub fn from_fields_v1(v: &Value) -> FieldSet {
        fn node(v: &Value) -> FieldSet {
            let mut out = FieldSet::default();
            if let Value::Object(m) = v {
                if m.is_empty() {
                    out.member = true;
                }
                for (k, c) in m {
                    if k == "." {
                        out.member = true;
                    } else {
                        out.children.insert(k.clone(), node(c));
                    }
                }
            }
            out
        }
        let mut root = node(v);
        root.member = false;
        root
    }
}

/// `k:{...}` element for a keyed list item, or `None` when the item is not an object.
pub fn item_key(
    item: &Value,
    keys: &[String],
    schema: &Schema,
    names: &[String],
) -> Option<String> {
    let obj = item.as_object()?;
    let mut sorted: Vec<&String> = keys.iter().collect();
    sorted.sort();
    let mut m = Map::new();
    for k in sorted {
        match obj.get(k) {
            Some(v) => {
                m.insert(k.clone(), v.clone());
            }
            None => {
                if let Some(d) = schema.key_default(names, k) {
                    m.insert(k.clone(), d);
                }
            }
        }
    }
    Some(format!("k:{}", Value::Object(m)))
}

/// `v:...` element for a set item.
pub fn value_key(item: &Value) -> String {
    format!("v:{item}")
}

/// The elements of the items of a list, in order, with the items.
pub fn list_elements<'v>(
    list: &'v [Value],
    lt: &ListType,
    schema: &Schema,
    names: &[String],
) -> Vec<(String, &'v Value)> {
    list.iter()
        .enumerate()
        .map(|(i, item)| {
            let k = match lt {
                ListType::Map(keys) => {
                    item_key(item, keys, schema, names).unwrap_or_else(|| format!("i:{i}"))
                }
                ListType::Set => value_key(item),
                ListType::Atomic => format!("i:{i}"),
            };
            (k, item)
        })
        .collect()
}

/// The field set of a value (SMD `ToFieldSet`).
pub fn to_set(value: &Value, schema: &Schema) -> FieldSet {
    let mut root = FieldSet::default();
    walk_set(value, schema, &mut Vec::new(), &mut root);
    root.member = false;
    root.cleaned()
}

fn walk_set(v: &Value, schema: &Schema, names: &mut Vec<String>, node: &mut FieldSet) {
    match v {
        Value::Object(m) => {
            if !names.is_empty() && schema.atomic_map(names) {
                node.member = true;
                return;
            }
            for (k, c) in m {
                let child = node.children.entry(format!("f:{k}")).or_default();
                names.push(k.clone());
                walk_set(c, schema, names, child);
                names.pop();
                if c.is_null() || c.as_object().is_some_and(Map::is_empty) {
                    child.member = true;
                }
            }
        }
        Value::Array(a) => match schema.list_type(names) {
            ListType::Atomic => node.member = true,
            lt => {
                for (k, item) in list_elements(a, &lt, schema, names) {
                    let child = node.children.entry(k).or_default();
                    child.member = true;
                    if matches!(lt, ListType::Map(_)) && !schema.atomic_items(names) {
                        walk_set(item, schema, names, child);
                    }
                }
            }
        },
        _ => node.member = true,
    }
}

/// The result of comparing two values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Paths only in the new value.
    pub added: FieldSet,
    /// Leaves whose value changed.
    pub modified: FieldSet,
    /// Paths only in the old value.
    pub removed: FieldSet,
}

impl Comparison {
    /// True when nothing changed.
    pub fn is_same(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.removed.is_empty()
    }
}

/// Compares `old` and `new` (SMD `Compare`).
pub fn compare(old: &Value, new: &Value, schema: &Schema) -> Comparison {
    let mut c = Comparison::default();
    walk_compare(
        Some(old),
        Some(new),
        schema,
        &mut Vec::new(),
        &mut Vec::new(),
        &mut c,
    );
    c.added = c.added.cleaned();
    c.modified = c.modified.cleaned();
    c.removed = c.removed.cleaned();
    c
}

fn is_empty_container(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

fn walk_compare(
    l: Option<&Value>,
    r: Option<&Value>,
    schema: &Schema,
    names: &mut Vec<String>,
    path: &mut Path,
    c: &mut Comparison,
) {
    let leaf = |c: &mut Comparison, path: &Path| match (l, r) {
        (None, None) => {}
        (None, Some(_)) => c.added.insert(path),
        (Some(_), None) => c.removed.insert(path),
        (Some(a), Some(b)) => {
            if a != b {
                c.modified.insert(path)
            }
        }
    };
    let is_obj = |v: Option<&Value>| v.is_none_or(|v| v.is_object() || v.is_null());
    let is_arr = |v: Option<&Value>| v.is_none_or(|v| v.is_array() || v.is_null());
    let both_null = l.is_some_and(Value::is_null) && r.is_some_and(Value::is_null);
    if both_null
        || (l.is_some_and(Value::is_null) && r.is_some_and(|v| !v.is_object() && !v.is_array()))
        || (r.is_some_and(Value::is_null) && l.is_some_and(|v| !v.is_object() && !v.is_array()))
    {
        leaf(c, path);
        return;
    }
    let both_empty = is_empty_container(l) && is_empty_container(r);
    if is_obj(l) && is_obj(r) && !(l.is_none() && r.is_none()) {
        if both_empty || (!names.is_empty() && schema.atomic_map(names)) {
            leaf(c, path);
            return;
        }
        let empty = Map::new();
        let lm = l.and_then(Value::as_object).unwrap_or(&empty);
        let rm = r.and_then(Value::as_object).unwrap_or(&empty);
        let mut keys: Vec<&String> = lm.keys().collect();
        for k in rm.keys() {
            if !lm.contains_key(k) {
                keys.push(k);
            }
        }
        for k in keys {
            names.push(k.clone());
            path.push(format!("f:{k}"));
            walk_compare(lm.get(k), rm.get(k), schema, names, path, c);
            path.pop();
            names.pop();
        }
    } else if is_arr(l) && is_arr(r) && !(l.is_none() && r.is_none()) {
        let lt = schema.list_type(names);
        if both_empty || lt == ListType::Atomic {
            leaf(c, path);
            return;
        }
        let empty = Vec::new();
        let la = l.and_then(Value::as_array).unwrap_or(&empty);
        let ra = r.and_then(Value::as_array).unwrap_or(&empty);
        let le = list_elements(la, &lt, schema, names);
        let re = list_elements(ra, &lt, schema, names);
        for (k, lv) in &le {
            let rv = re.iter().find(|(rk, _)| rk == k).map(|(_, v)| *v);
            path.push(k.clone());
            compare_item(Some(*lv), rv, &lt, schema, names, path, c);
            path.pop();
        }
        for (k, rv) in &re {
            if !le.iter().any(|(lk, _)| lk == k) {
                path.push(k.clone());
                compare_item(None, Some(*rv), &lt, schema, names, path, c);
                path.pop();
            }
        }
    } else {
        leaf(c, path);
        return;
    }
    if l.is_none() {
        c.added.insert(path);
    } else if r.is_none() {
        c.removed.insert(path);
    }
}

fn compare_item(
    l: Option<&Value>,
    r: Option<&Value>,
    lt: &ListType,
    schema: &Schema,
    names: &mut Vec<String>,
    path: &mut Path,
    c: &mut Comparison,
) {
    if matches!(lt, ListType::Set) || schema.atomic_items(names) {
        if let (Some(a), Some(b)) = (l, r) {
            if a != b {
                c.modified.insert(path);
            }
        }
        match (l, r) {
            (None, Some(_)) => c.added.insert(path),
            (Some(_), None) => c.removed.insert(path),
            _ => {}
        }
        return;
    }
    walk_compare(l, r, schema, names, path, c);
}

/// Human form of a path for conflict messages: `.spec.template.spec.containers[name="web"].image`.
pub fn display_path(path: &[String]) -> String {
    let mut out = String::new();
    for e in path {
        if let Some(f) = e.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = e.strip_prefix("k:") {
            let parsed: Value = serde_json::from_str(k).unwrap_or(Value::Null);
            let parts: Vec<String> = parsed
                .as_object()
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = e.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        } else if let Some(i) = e.strip_prefix("i:") {
            out.push_str(&format!("[{i}]"));
        }
    }
    out
}

/// Removes the paths of `set` from `value`; lists and maps emptied by the removal go too.
pub fn remove_paths(value: &mut Value, set: &FieldSet, schema: &Schema) {
    remove_walk(value, set, schema, &mut Vec::new());
}

fn remove_walk(value: &mut Value, set: &FieldSet, schema: &Schema, names: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            let mut drop = Vec::new();
            for (k, child_set) in &set.children {
                let Some(field) = k.strip_prefix("f:") else {
                    continue;
                };
                if child_set.member {
                    drop.push(field.to_string());
                    continue;
                }
                if let Some(child) = m.get_mut(field) {
                    let was_empty = is_empty_container(Some(child));
                    names.push(field.to_string());
                    remove_walk(child, child_set, schema, names);
                    names.pop();
                    if !was_empty && is_empty_container(Some(child)) && !child.is_null() {
                        drop.push(field.to_string());
                    }
                }
            }
            for f in drop {
                m.shift_remove(&f);
            }
        }
        Value::Array(a) => {
            let lt = schema.list_type(names);
            let keys: Vec<String> = list_elements(a, &lt, schema, names)
                .into_iter()
                .map(|(k, _)| k)
                .collect();
            let mut keep = Vec::new();
            for (k, item) in keys.into_iter().zip(std::mem::take(a)) {
                match set.children.get(&k) {
                    Some(s) if s.member => {}
                    Some(s) => {
                        let mut item = item;
                        remove_walk(&mut item, s, schema, names);
                        keep.push(item);
                    }
                    None => keep.push(item),
                }
            }
            *a = keep;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn apply_set_of_deployment_matches_recorded_shape() {
        let obj = json!({"metadata": {"labels": {"app": "web"}}, "spec": {"replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80}]}]}}}});
        let s = to_set(&obj, &Schema::builtin("Deployment"));
        assert_eq!(
            s.to_fields_v1(),
            json!({"f:metadata": {"f:labels": {"f:app": {}}}, "f:spec": {"f:replicas": {}, "f:selector": {},
              "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}, "f:name": {},
              "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {".": {}, "f:containerPort": {}}}}}}}}})
        );
        assert_eq!(FieldSet::from_fields_v1(&s.to_fields_v1()), s);
    }

    #[test]
    fn compare_marks_new_maps_as_added_members() {
        let old = json!({"metadata": {}, "status": {}});
        let new = json!({"metadata": {"annotations": {"a": "1"}}, "status": {"replicas": 1}});
        let c = compare(&old, &new, &Schema::builtin("Deployment"));
        assert_eq!(
            c.added.to_fields_v1(),
            json!({"f:metadata": {"f:annotations": {".": {}, "f:a": {}}}, "f:status": {"f:replicas": {}}})
        );
        assert!(c.modified.is_empty() && c.removed.is_empty());
    }

    #[test]
    fn display_and_remove() {
        let p: Path = vec![
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"web\"}".into(),
            "f:image".into(),
        ];
        assert_eq!(display_path(&p), ".spec.containers[name=\"web\"].image");
        let mut v = json!({"spec": {"containers": [{"name": "web", "env": [{"name": "A", "value": "1"}]}]}});
        let mut s = FieldSet::default();
        s.insert(&[
            "f:spec".into(),
            "f:containers".into(),
            "k:{\"name\":\"web\"}".into(),
            "f:env".into(),
            "k:{\"name\":\"A\"}".into(),
        ]);
        remove_paths(&mut v, &s, &Schema::builtin("Deployment"));
        assert_eq!(v, json!({"spec": {"containers": [{"name": "web"}]}}));
    }
}
