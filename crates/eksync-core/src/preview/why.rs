//! `eksync why RESOURCE`: why a resource sits in its wave. For each thing it waits for directly,
//! one chain of edges from a root of the graph down to it (following, at each step, the
//! dependency in the latest wave, so the longest chain is the one that sets the wave), each edge
//! with its reason; and what waits for it, directly and in all.
//!
//! It does not list every path (their number can grow exponentially); one chain per direct
//! dependency is enough to check each reason.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use super::PreviewError;
use crate::analysis::Analysis;
use crate::graph::{Graph, Node};
use crate::plan;

/// A node as `why` names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeSummary {
    pub id: String,
    pub label: String,
    /// 1-based; 0 when the graph has no order (a cycle).
    pub wave: usize,
}

/// One edge: `to` waits for `from` because of `reason`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub from: NodeSummary,
    pub to: NodeSummary,
    pub reason: String,
}

/// Edges from a root to the resource, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chain {
    pub links: Vec<Link>,
    /// The longest chain: the one that decides the resource's wave.
    pub sets_wave: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why {
    pub resource: NodeSummary,
    /// One per direct dependency; empty for a root.
    pub chains: Vec<Chain>,
    /// What waits for it directly, with the reasons.
    pub dependents: Vec<Link>,
    /// How many resources wait for it, directly or not.
    pub all_dependents: usize,
}

fn summary(a: &Analysis, i: usize) -> NodeSummary {
    let n = &a.graph.nodes[i];
    NodeSummary {
        id: n.id.clone(),
        label: n.label(),
        wave: a.order.wave_of.get(i).map_or(0, |w| w + 1),
    }
}

/// The group part of a node id's kind segment (`Deployment.apps` -> `apps`).
fn id_group(n: &Node) -> &str {
    n.id.split('/')
        .nth(2)
        .and_then(|k| k.split_once('.'))
        .map_or("", |(_, g)| g)
}

/// Finds a node by id, or by `Kind[.group]/[namespace/]name` (kind case-insensitive).
pub fn find(g: &Graph, address: &str) -> Result<usize, PreviewError> {
    if let Some(i) = g.nodes.iter().position(|n| n.id == address) {
        return Ok(i);
    }
    let parts: Vec<&str> = address.split('/').collect();
    let (kind_group, ns, name) = match parts.as_slice() {
        [k, name] if !k.is_empty() && !name.is_empty() => (*k, None, *name),
        [k, ns, name] if !k.is_empty() && !ns.is_empty() && !name.is_empty() => {
            (*k, Some(*ns), *name)
        }
        _ => return Err(PreviewError::BadAddress(address.to_string())),
    };
    let (kind, group) = match kind_group.split_once('.') {
        Some((k, g)) => (k, Some(g)),
        None => (kind_group, None),
    };
    let hits: Vec<usize> = g
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| {
            n.kind.eq_ignore_ascii_case(kind)
                && n.name == name
                && group.is_none_or(|gr| id_group(n) == gr)
                && ns.is_none_or(|ns| n.namespace.as_deref() == Some(ns))
        })
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [one] => Ok(*one),
        [] => Err(PreviewError::NotFound {
            address: address.to_string(),
            candidates: g
                .nodes
                .iter()
                .filter(|n| n.name == name)
                .map(|n| n.id.clone())
                .collect(),
        }),
        many => Err(PreviewError::Ambiguous {
            address: address.to_string(),
            candidates: many.iter().map(|&i| g.nodes[i].id.clone()).collect(),
        }),
    }
}

/// Explains where `resource` sits in the analysis' graph.
pub fn why(a: &Analysis, resource: &str) -> Result<Why, PreviewError> {
    let g = &a.graph;
    let target = find(g, resource)?;
    let adj = g.adjacency();
    let wave = |i: usize| a.order.wave_of.get(i).copied().unwrap_or(0);
    let reason = |from: usize, to: usize| {
        g.edges
            .iter()
            .find(|e| e.from == from && e.to == to)
            .map(|e| e.reason.clone())
            .unwrap_or_default()
    };
    let link = |from: usize, to: usize| Link {
        from: summary(a, from),
        to: summary(a, to),
        reason: reason(from, to),
    };
    let mut chains = Vec::new();
    for &dep in &adj.deps[target] {
        // Walk up through the latest-wave dependency; the seen set guards against a cycle.
        let mut path = vec![(dep, target)];
        let mut seen = BTreeSet::from([target, dep]);
        let mut cur = dep;
        while let Some(&up) = adj.deps[cur]
            .iter()
            .filter(|d| !seen.contains(d))
            .max_by_key(|&&d| (wave(d), std::cmp::Reverse(d)))
        {
            path.push((up, cur));
            seen.insert(up);
            cur = up;
        }
        path.reverse();
        chains.push(Chain {
            links: path.into_iter().map(|(f, t)| link(f, t)).collect(),
            sets_wave: false,
        });
    }
    // Longest first; the first one sets the wave.
    chains.sort_by(|x, y| {
        y.links
            .len()
            .cmp(&x.links.len())
            .then_with(|| x.links[0].from.id.cmp(&y.links[0].from.id))
    });
    if let Some(c) = chains.first_mut() {
        c.sets_wave = true;
    }
    let dependents = adj.dependents[target]
        .iter()
        .map(|&d| link(target, d))
        .collect();
    let all_dependents = plan::dependents(g, &BTreeSet::from([target])).len();
    Ok(Why {
        resource: summary(a, target),
        chains,
        dependents,
        all_dependents,
    })
}

/// `why` for a terminal.
pub fn text(w: &Why) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({}) is in wave {}.",
        w.resource.label, w.resource.id, w.resource.wave
    );
    if w.chains.is_empty() {
        s.push_str("It waits for nothing: it is a root of the graph.\n");
    }
    for (i, c) in w.chains.iter().enumerate() {
        let _ = writeln!(
            s,
            "\nChain {}{}:",
            i + 1,
            if c.sets_wave { " (sets the wave)" } else { "" }
        );
        if let Some(first) = c.links.first() {
            let _ = writeln!(s, "  {} (wave {})", first.from.label, first.from.wave);
        }
        for l in &c.links {
            let _ = writeln!(s, "  -> {} (wave {})", l.to.label, l.to.wave);
            let _ = writeln!(s, "       because {}", l.reason);
        }
    }
    if w.dependents.is_empty() {
        s.push_str("\nNothing waits for it.\n");
    } else {
        let _ = writeln!(
            s,
            "\nWaiting for it: {} directly, {} in all:",
            w.dependents.len(),
            w.all_dependents
        );
        for l in &w.dependents {
            let _ = writeln!(s, "  {} (wave {}): {}", l.to.label, l.to.wave, l.reason);
        }
    }
    s
}
