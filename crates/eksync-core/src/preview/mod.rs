//! The pull-request preview: what merging one desired state (the head) onto another (the base)
//! would do, computed offline from two analyses. [`compare`] lists the resources of the one graph
//! that are created, updated, replaced or deleted (CloudFormation templates with their parameters
//! and tags as `render` produces them, IAM inline policies, Kubernetes manifests after offline value
//! substitution and `kdiff::prepare`), each with a unified diff, plus wave and edge changes with
//! their reasons, and typed risk [`Flag`]s (`risk`). [`between`] runs the whole thing from two
//! in-memory sources. `render` turns a [`Preview`] into text, JSON or a Markdown pull-request
//! comment that always fits GitHub's comment limit; [`why`] explains where one resource sits in
//! the graph.
//!
//! It deliberately does not read live state: values only AWS knows show as "known after apply",
//! node group sizes are judged against the base's bounds (not the live desired size), and
//! replacements are eksync's estimate from its table (`awsdiff::replacement`) and from what rolls
//! nodes (launch template data, an Auto Scaling group's rolling update), never CloudFormation's
//! change set. Kubernetes immutable-field recreations need a server and are not guessed. Secret
//! values never leave this module: diffs and flags carry keys only. No I/O, no clock.

mod items;
pub mod render;
pub mod risk;
mod why;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use crate::analysis::{self, Analysis};
use crate::diag::Diagnostic;
use crate::graph::System;
use crate::source::Source;
use items::{Item, Pair};

pub use items::SecretKeys;
pub use risk::{Flag, Risk, RiskKind};
pub use why::{find, text as why_text, why, Chain, Link, NodeSummary, Why};

/// What the preview compares: the two revisions' names as people know them (a directory, a ref, a
/// SHA). Shown in every rendering; never interpreted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Labels {
    pub base: String,
    pub head: String,
}

impl Default for Labels {
    fn default() -> Self {
        Labels {
            base: "base".to_string(),
            head: "head".to_string(),
        }
    }
}

/// Which side of the comparison something belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Base,
    Head,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Base => "base",
            Side::Head => "head",
        })
    }
}

/// Why a preview or an explanation could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PreviewError {
    /// One side does not load: its error diagnostics (warnings left out).
    #[error("the {side} revision has {} error(s)", diagnostics.len())]
    Invalid {
        side: Side,
        diagnostics: Vec<Diagnostic>,
    },
    /// `why`: no resource matches the address.
    #[error("no resource matches `{address}`{}", hint(candidates))]
    NotFound {
        address: String,
        /// Ids of resources with the same name, as hints.
        candidates: Vec<String>,
    },
    /// `why`: several resources match; the ids tell them apart.
    #[error("`{address}` matches several resources: {}", candidates.join(", "))]
    Ambiguous {
        address: String,
        candidates: Vec<String>,
    },
    /// `why`: the address is not `Kind/[namespace/]name` nor a node id.
    #[error("cannot read `{0}`: write Kind[.group]/[namespace/]name, IAMRolePolicy/name, Stack/name or a graph node id")]
    BadAddress(String),
}

fn hint(candidates: &[String]) -> String {
    if candidates.is_empty() {
        String::new()
    } else {
        format!(" (did you mean: {})", candidates.join(", "))
    }
}

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    /// An update that replaces the resource or its nodes (see the replacement flag).
    Replace,
    Delete,
}

/// One changed resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    /// The graph node id (stable across revisions).
    pub id: String,
    pub system: System,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// `Deployment jenkins/jenkins`, `Stack eksctl-x-cluster`.
    pub label: String,
    pub action: Action,
    /// Unified diff of the rendered documents (Secret values masked); empty for no text change.
    pub diff: String,
    pub lines_added: usize,
    pub lines_removed: usize,
    /// The head's document holds values only AWS knows (shown as "known after apply").
    pub known_after_apply: bool,
    /// Wave in the head (created, updated) or the base (deleted), 1-based.
    pub wave: usize,
}

/// How an edge changed between two resources that exist on both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum EdgeChangeKind {
    /// The head adds the dependency.
    Added { reason: String },
    /// The head drops the dependency.
    Removed { reason: String },
    /// Still there, for another reason.
    Reason { base: String, head: String },
}

/// A dependency that changed: `to` waits (or no longer waits) for `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EdgeChange {
    pub from: String,
    pub from_label: String,
    pub to: String,
    pub to_label: String,
    #[serde(flatten)]
    pub kind: EdgeChangeKind,
}

/// A resource on both sides whose wave (1-based) moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaveChange {
    pub id: String,
    pub label: String,
    pub base: usize,
    pub head: usize,
}

/// Counts of one system.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub creates: usize,
    pub updates: usize,
    pub replacements: usize,
    pub deletes: usize,
}

impl Counts {
    pub fn total(&self) -> usize {
        self.creates + self.updates + self.replacements + self.deletes
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub aws: Counts,
    pub kubernetes: Counts,
}

/// The whole preview. Serialized as is by `render::json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preview {
    /// Names this preview's comment (the head's `spec.source`, else its cluster names): stable
    /// across pushes, so that a CI job finds and updates its one comment.
    pub id: String,
    pub labels: Labels,
    pub summary: Summary,
    /// Risk flags, by kind then resource.
    pub flags: Vec<Flag>,
    /// Changed resources: AWS first, then Kubernetes, each in wave order.
    pub resources: Vec<ResourceChange>,
    pub edges: Vec<EdgeChange>,
    pub waves: Vec<WaveChange>,
}

impl Preview {
    /// Whether merging would change anything.
    pub fn has_changes(&self) -> bool {
        !self.resources.is_empty() || !self.edges.is_empty() || !self.waves.is_empty()
    }

    /// The same preview under other revision names.
    pub fn with_labels(mut self, labels: Labels) -> Self {
        self.labels = labels;
        self
    }

    /// How many flags of a kind.
    pub fn count(&self, kind: RiskKind) -> usize {
        self.flags.iter().filter(|f| f.kind() == kind).count()
    }
}

/// Analyses both sources and compares them. An error on either side is an [`PreviewError::Invalid`]
/// carrying its error diagnostics. This is the one entry every reader (directories, Git
/// revisions) goes through.
pub fn between(base: &Source, head: &Source, labels: Labels) -> Result<Preview, PreviewError> {
    let (b, h) = analyze_sides(base, head)?;
    Ok(compare(&b, &h).with_labels(labels))
}

/// Both sides analyzed, or the first side that does not load with its errors. For callers that
/// use the head's analysis again (a `--live` preview), so that it is made once.
pub fn analyze_sides(base: &Source, head: &Source) -> Result<(Analysis, Analysis), PreviewError> {
    let b = analysis::analyze(base);
    let h = analysis::analyze(head);
    for (side, a) in [(Side::Base, &b), (Side::Head, &h)] {
        if a.has_errors() {
            return Err(PreviewError::Invalid {
                side,
                diagnostics: a
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .cloned()
                    .collect(),
            });
        }
    }
    Ok((b, h))
}

/// Above this many lines on either side, a document's diff is one hunk (common lines at both ends
/// trimmed) instead of a minimal line diff, whose cost grows with the square of the change.
const MAX_DIFF_LINES: usize = 5_000;

/// Compares two analyses (both without errors; see [`between`]).
pub fn compare(base: &Analysis, head: &Analysis) -> Preview {
    let (bi, hi) = (items::Items::new(base), items::Items::new(head));
    let mut secrets = BTreeMap::new();
    let mut resources = Vec::new();
    // Only the documents of changed resources are kept (for the risk rules), never every body.
    let mut changed: BTreeMap<String, Pair> = BTreeMap::new();
    let ids: BTreeSet<&str> = bi.ids().chain(hi.ids()).collect();
    for id in ids {
        let (b, h) = (bi.get(id), hi.get(id));
        let (action, meta, wave) = match (&b, &h) {
            (None, Some(h)) => (Action::Create, h, wave_of(head, h.node)),
            (Some(b), None) => (Action::Delete, b, wave_of(base, b.node)),
            (Some(b), Some(h)) if b.value != h.value => (Action::Update, h, wave_of(head, h.node)),
            _ => continue,
        };
        let (mut before, mut after) = (
            b.as_ref().map(Item::shown).unwrap_or_default(),
            h.as_ref().map(Item::shown).unwrap_or_default(),
        );
        if let (Some(b), Some(h)) = (&b, &h) {
            if meta.is_secret() {
                let keys = items::secret_keys(&b.value, &h.value);
                items::mark_changed_secret_keys(&mut before, &mut after, &keys.changed);
                secrets.insert(id.to_string(), keys);
            }
        } else if meta.is_secret() {
            let (old, new) = (b.as_ref().map(|b| &b.value), h.as_ref().map(|h| &h.value));
            let empty = serde_json::Value::Null;
            secrets.insert(
                id.to_string(),
                items::secret_keys(old.unwrap_or(&empty), new.unwrap_or(&empty)),
            );
        }
        let (old_text, new_text) = (
            b.as_ref().map(|b| b.render(&before)).unwrap_or_default(),
            h.as_ref().map(|h| h.render(&after)).unwrap_or_default(),
        );
        let (diff, lines_added, lines_removed) = unified(&old_text, &new_text, id);
        let node = match (&h, &b) {
            (Some(h), _) => &head.graph.nodes[h.node],
            (None, Some(b)) => &base.graph.nodes[b.node],
            // Unreachable: the id came from one of the two maps.
            (None, None) => continue,
        };
        resources.push(ResourceChange {
            id: id.to_string(),
            system: node.system,
            kind: node.kind.clone(),
            name: node.name.clone(),
            namespace: node.namespace.clone(),
            cluster: node.cluster.clone(),
            label: node.label(),
            action,
            diff,
            lines_added,
            lines_removed,
            known_after_apply: h.as_ref().is_some_and(|h| !h.complete),
            wave,
        });
        changed.insert(id.to_string(), (b, h));
    }
    let flags = risk::assess(&risk::Inputs {
        base,
        head,
        changed: &changed,
        resources: &resources,
        secrets: &secrets,
    });
    let replaced: BTreeSet<&str> = flags
        .iter()
        .filter(|f| f.kind() == RiskKind::Replacement)
        .map(|f| f.resource.as_str())
        .collect();
    for r in &mut resources {
        if r.action == Action::Update && replaced.contains(r.id.as_str()) {
            r.action = Action::Replace;
        }
    }
    resources.sort_by(|a, b| (a.system, a.wave, &a.id).cmp(&(b.system, b.wave, &b.id)));
    let summary = summarize(&resources);
    let (edges, waves) = order_changes(base, head);
    Preview {
        id: preview_id(head),
        labels: Labels::default(),
        summary,
        flags,
        resources,
        edges,
        waves,
    }
}

fn wave_of(a: &Analysis, node: usize) -> usize {
    a.order.wave_of.get(node).map_or(0, |w| w + 1)
}

fn summarize(resources: &[ResourceChange]) -> Summary {
    let mut s = Summary::default();
    for r in resources {
        let c = match r.system {
            System::Aws => &mut s.aws,
            System::Kubernetes => &mut s.kubernetes,
        };
        match r.action {
            Action::Create => c.creates += 1,
            Action::Update => c.updates += 1,
            Action::Replace => c.replacements += 1,
            Action::Delete => c.deletes += 1,
        }
    }
    s
}

/// The comment's id: the head's source name, else its clusters' names, else `default`.
fn preview_id(head: &Analysis) -> String {
    if let Some(s) = &head.model.settings.source {
        return s.clone();
    }
    let names: Vec<&str> = head.model.clusters.iter().map(|c| c.name()).collect();
    if names.is_empty() {
        "default".to_string()
    } else {
        names.join(",")
    }
}

/// A unified diff (3 lines of context) and its added/removed line counts.
fn unified(old: &str, new: &str, name: &str) -> (String, usize, usize) {
    if old == new {
        return (String::new(), 0, 0);
    }
    let (a, b) = (format!("a/{name}"), format!("b/{name}"));
    if old.lines().count() > MAX_DIFF_LINES || new.lines().count() > MAX_DIFF_LINES {
        return one_hunk(old, new, &a, &b);
    }
    let diff = TextDiff::from_lines(old, new);
    let (mut added, mut removed) = (0, 0);
    for c in diff.iter_all_changes() {
        match c.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => removed += 1,
            ChangeTag::Equal => {}
        }
    }
    let mut text = diff
        .unified_diff()
        .context_radius(3)
        .header(&a, &b)
        .to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    (text, added, removed)
}

/// A correct but not minimal diff for huge documents: common lines at both ends are kept out, the
/// rest is removed then added, in one hunk. Linear in the input.
fn one_hunk(old: &str, new: &str, a: &str, b: &str) -> (String, usize, usize) {
    let (o, n): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let prefix = o.iter().zip(&n).take_while(|(x, y)| x == y).count();
    let suffix = o[prefix..]
        .iter()
        .rev()
        .zip(n[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (os, ns) = (&o[prefix..o.len() - suffix], &n[prefix..n.len() - suffix]);
    let mut text = format!(
        "--- {a}\n+++ {b}\n@@ -{},{} +{},{} @@\n",
        prefix + 1,
        os.len(),
        prefix + 1,
        ns.len()
    );
    for l in os {
        text.push('-');
        text.push_str(l);
        text.push('\n');
    }
    for l in ns {
        text.push('+');
        text.push_str(l);
        text.push('\n');
    }
    (text, ns.len(), os.len())
}

/// Edge and wave changes of resources present on both sides (what they wait for may be created or
/// deleted). Edges into created or deleted resources are not listed: their own change says it.
fn order_changes(base: &Analysis, head: &Analysis) -> (Vec<EdgeChange>, Vec<WaveChange>) {
    let index = |a: &Analysis| -> BTreeMap<String, usize> {
        a.graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect()
    };
    let (bn, hn) = (index(base), index(head));
    let edges_of = |a: &Analysis| -> BTreeMap<(String, String), String> {
        a.graph
            .edges
            .iter()
            .map(|e| {
                (
                    (
                        a.graph.nodes[e.from].id.clone(),
                        a.graph.nodes[e.to].id.clone(),
                    ),
                    e.reason.clone(),
                )
            })
            .collect()
    };
    let (be, he) = (edges_of(base), edges_of(head));
    let on_both = |id: &str| bn.contains_key(id) && hn.contains_key(id);
    let label = |id: &str| {
        hn.get(id)
            .map(|&i| head.graph.nodes[i].label())
            .or_else(|| bn.get(id).map(|&i| base.graph.nodes[i].label()))
            .unwrap_or_else(|| id.to_string())
    };
    let mut edges = Vec::new();
    let keys: BTreeSet<&(String, String)> = be.keys().chain(he.keys()).collect();
    for k in keys {
        let (from, to) = k;
        if !on_both(to) {
            continue;
        }
        let kind = match (be.get(k), he.get(k)) {
            (None, Some(r)) => EdgeChangeKind::Added { reason: r.clone() },
            (Some(r), None) => EdgeChangeKind::Removed { reason: r.clone() },
            (Some(b), Some(h)) if b != h => EdgeChangeKind::Reason {
                base: b.clone(),
                head: h.clone(),
            },
            _ => continue,
        };
        edges.push(EdgeChange {
            from: from.clone(),
            from_label: label(from),
            to: to.clone(),
            to_label: label(to),
            kind,
        });
    }
    let mut waves = Vec::new();
    for (id, &h) in &hn {
        let Some(&b) = bn.get(id) else { continue };
        let (wb, wh) = (wave_of(base, b), wave_of(head, h));
        if wb != wh {
            waves.push(WaveChange {
                id: id.clone(),
                label: label(id),
                base: wb,
                head: wh,
            });
        }
    }
    waves.sort_by(|a, b| (a.head, &a.id).cmp(&(b.head, &b.id)));
    (edges, waves)
}
