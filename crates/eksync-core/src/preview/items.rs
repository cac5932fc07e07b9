//! One comparable document per graph node: what eksync would send for it, offline. Stacks are their
//! rendered template with tags and parameters (parameters read at apply time show as "known after
//! apply"), IAM inline policies their role, name and normalized document after offline
//! substitution, Kubernetes objects their body after offline substitution and `kdiff::prepare`.
//! `value` is compared (never shown: it holds Secret values); [`Item::shown`] is the masked form
//! that diffs are made from. Items are made one node at a time ([`Items::get`]) so that a preview
//! of a large repo holds only the documents that changed, not a third copy of every body.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::analysis::Analysis;
use crate::awsdiff::normalize_json;
use crate::eksctl::ClusterConfig;
use crate::graph::NodeRef;
use crate::kdiff::{self, PrepareContext};
use crate::refs::ValueRef;
use crate::render::ParameterSource;
use crate::values;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Json,
    Yaml,
}

#[derive(Debug, Clone)]
pub(super) struct Item {
    /// Index of the node in its analysis' graph.
    pub node: usize,
    /// Kubernetes group and kind (`""`/`Stack`, `""`/`IAMRolePolicy` for AWS nodes).
    pub group: String,
    pub kind: String,
    /// Compared; holds Secret values: never shown.
    pub value: Value,
    pub format: Format,
    /// Every value reference was known offline.
    pub complete: bool,
}

impl Item {
    pub fn is_secret(&self) -> bool {
        self.group.is_empty() && self.kind == "Secret"
    }

    /// What people see: `value` with Secret values masked.
    pub fn shown(&self) -> Value {
        values::mask_secret(&self.group, &self.kind, &self.value)
    }

    /// `shown` (or a variant of it) as text.
    pub fn render(&self, shown: &Value) -> String {
        let text = match self.format {
            Format::Json => serde_json::to_string_pretty(shown).ok(),
            Format::Yaml => serde_yaml_ng::to_string(shown).ok(),
        };
        // Serializing a `Value` cannot fail (string keys, no non-finite floats); the fallback
        // keeps the function total.
        let mut text = text.unwrap_or_else(|| shown.to_string());
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }
}

/// The config a document's references resolve against: the one it names, or the repo's only one.
fn cluster_cfg<'a>(a: &'a Analysis, name: Option<&str>) -> Option<&'a ClusterConfig> {
    name.and_then(|n| a.model.cluster(n))
        .or_else(|| (a.model.clusters.len() == 1).then(|| &a.model.clusters[0]))
        .map(|c| &c.config)
}

/// A resource's base and head documents (`None` where it does not exist).
pub(super) type Pair = (Option<Item>, Option<Item>);

/// Every node's document of one analysis, by graph node id, made on request.
pub(super) struct Items<'a> {
    a: &'a Analysis,
    ctx: PrepareContext,
    by_id: BTreeMap<&'a str, usize>,
}

impl<'a> Items<'a> {
    pub fn new(a: &'a Analysis) -> Self {
        Items {
            a,
            ctx: PrepareContext::from_bodies(a.model.objects.iter().map(|o| &o.body)),
            by_id: a
                .graph
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.id.as_str(), i))
                .collect(),
        }
    }

    /// The node ids, in order.
    pub fn ids(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.by_id.keys().copied()
    }

    /// The document of node `id`, if the analysis has that node and can describe it.
    pub fn get(&self, id: &str) -> Option<Item> {
        let i = *self.by_id.get(id)?;
        item(self.a, &self.ctx, i)
    }
}

/// The document of node `i`.
fn item(a: &Analysis, ctx: &PrepareContext, i: usize) -> Option<Item> {
    let n = a.graph.nodes.get(i)?;
    let item = match &n.what {
        NodeRef::ClusterStack { cluster }
        | NodeRef::NodeGroupStack { cluster, .. }
        | NodeRef::ServiceAccountStack { cluster, .. }
        | NodeRef::AccessEntryStack { cluster, .. } => {
            let st = a
                .stacks
                .get(*cluster)
                .and_then(|s| s.iter().find(|s| s.name == n.name))?;
            let params: Map<String, Value> = st
                .parameters
                .iter()
                .map(|p| {
                    let from = match &p.source {
                        ParameterSource::StackOutput { stack, output } => {
                            format!("(known after apply: output {output} of stack {stack})")
                        }
                        ParameterSource::ClusterServiceCidr { cluster } => {
                            format!("(known after apply: the service CIDR of cluster {cluster})")
                        }
                    };
                    (p.key.clone(), Value::String(from))
                })
                .collect();
            let value = json!({
                "Parameters": params,
                "Tags": st.tags,
                "Template": st.template,
            });
            Item {
                node: i,
                group: String::new(),
                kind: n.kind.clone(),
                value,
                format: Format::Json,
                complete: st.parameters.is_empty(),
            }
        }
        NodeRef::RolePolicy(pi) => {
            let p = a.model.role_policies.get(*pi)?;
            let cfg = cluster_cfg(a, p.cluster.as_deref());
            let lookup = |r: &ValueRef| values::offline_value(cfg, r);
            let (role, c1) = values::substitute(&Value::String(p.role_name.clone()), &lookup);
            let (doc, c2) = values::substitute(&p.document, &lookup);
            let value = json!({
                "roleName": role,
                "policyName": p.name,
                "mode": p.mode,
                "policyDocument": normalize_json(&doc),
            });
            Item {
                node: i,
                group: String::new(),
                kind: n.kind.clone(),
                value,
                format: Format::Json,
                complete: c1 && c2,
            }
        }
        NodeRef::EksObject {
            cluster,
            kind,
            name,
        } => {
            let c = a.model.clusters.get(*cluster)?;
            let o = crate::render::eks_objects(&c.config)
                .into_iter()
                .find(|o| o.kind() == *kind && o.name() == *name)?;
            let (value, complete) = o.preview();
            Item {
                node: i,
                group: String::new(),
                kind: n.kind.clone(),
                value,
                format: Format::Json,
                complete,
            }
        }
        NodeRef::Object(oi) => {
            let o = a.model.objects.get(*oi)?;
            let cfg = cluster_cfg(a, o.cluster.as_deref());
            let lookup = |r: &ValueRef| values::offline_value(cfg, r);
            let (body, complete) = values::substitute(&o.body, &lookup);
            let value = kdiff::prepare(&body, ctx).body;
            Item {
                node: i,
                group: o.key.group.clone(),
                kind: o.key.kind.clone(),
                value,
                format: Format::Yaml,
                complete,
            }
        }
    };
    Some(item)
}

/// Which keys of a Secret's `data` and `stringData` were added, removed or changed. Keys only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SecretKeys {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

/// `data.<key>` and `stringData.<key>` of a Secret body, with their values.
fn secret_entries(body: &Value) -> BTreeMap<String, &Value> {
    let mut out = BTreeMap::new();
    for field in ["data", "stringData"] {
        match body.get(field) {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    out.insert(format!("{field}.{k}"), v);
                }
            }
            None | Some(Value::Null) => {}
            Some(other) => {
                out.insert(field.to_string(), other);
            }
        }
    }
    out
}

/// The keys that differ between two Secret bodies (`Null` for a side that does not exist).
pub(super) fn secret_keys(base: &Value, head: &Value) -> SecretKeys {
    let (b, h) = (secret_entries(base), secret_entries(head));
    let keys: BTreeSet<&String> = b.keys().chain(h.keys()).collect();
    let mut out = SecretKeys::default();
    for k in keys {
        match (b.get(k), h.get(k)) {
            (None, Some(_)) => out.added.push(k.clone()),
            (Some(_), None) => out.removed.push(k.clone()),
            (Some(x), Some(y)) if x != y => out.changed.push(k.clone()),
            _ => {}
        }
    }
    out
}

/// Makes a value change visible in masked documents without showing either value: the head's
/// note of each changed key says so (a same-length change would otherwise mask to the same text).
pub(super) fn mark_changed_secret_keys(base: &mut Value, head: &mut Value, changed: &[String]) {
    for key in changed {
        let Some((field, k)) = key.split_once('.') else {
            continue;
        };
        if let Some(v) = base.get_mut(field).and_then(|m| m.get_mut(k)) {
            *v = Value::String("(secret, hidden)".to_string());
        }
        if let Some(v) = head.get_mut(field).and_then(|m| m.get_mut(k)) {
            *v = Value::String("(secret, hidden, changed)".to_string());
        }
    }
}
