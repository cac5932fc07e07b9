//! Orders the graph into waves: every node of a wave may run in parallel, and every edge goes from
//! an earlier wave to a later one. Deterministic: the same graph gives the same waves and the same
//! order inside each wave. A cycle is an error that prints the cycle with each edge's reason.
//! This module decides order only; what a step does is the executor's business.

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use std::collections::{BTreeSet, HashMap};

use super::diag::Diagnostic;
use super::graph::{Graph, Node, System};

/// The order of a graph: `waves[w]` lists node indices; `wave_of[node]` is its wave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Order {
    pub waves: Vec<Vec<usize>>,
    pub wave_of: Vec<usize>,
}

/// Sort key inside a wave: AWS before Kubernetes, then kinds in the order kubectl/helm install
/// them, then namespace and name.
fn rank(n: &Node) -> (System, usize, Option<&str>, &str) {
    const KIND_ORDER: &[&str] = &[
        "Stack",
        "IAMRolePolicy",
        "Namespace",
        "CustomResourceDefinition",
        "PriorityClass",
        "StorageClass",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "ServiceAccount",
        "Secret",
        "ConfigMap",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Service",
        "PodTemplate",
        "DaemonSet",
        "Deployment",
        "StatefulSet",
        "Job",
        "CronJob",
        "HorizontalPodAutoscaler",
        "Ingress",
    ];
    let k = KIND_ORDER
        .iter()
        .position(|k| *k == n.kind)
        .unwrap_or(KIND_ORDER.len());
    (n.system, k, n.namespace.as_deref(), n.name.as_str())
}

/// Computes waves (longest path from a root), or the diagnostics describing every cycle.
pub fn order(g: &Graph) -> Result<Order, Vec<Diagnostic>> {
    let n = g.nodes.len();
    let mut indeg = vec![0usize; n];
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in &g.edges {
        indeg[e.to] += 1;
        out[e.from].push(e.to);
    }
    let mut wave_of = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).filter(|&i| indeg[i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = ready.pop() {
        seen += 1;
        for &t in &out[i] {
            wave_of[t] = wave_of[t].max(wave_of[i] + 1);
            indeg[t] -= 1;
            if indeg[t] == 0 {
                ready.push(t);
            }
        }
    }
    if seen < n {
        return Err(cycles(g));
    }
    let waves_len = wave_of.iter().max().map_or(0, |m| m + 1);
    let mut waves = vec![Vec::new(); if n == 0 { 0 } else { waves_len }];
    for (i, w) in wave_of.iter().enumerate() {
        waves[*w].push(i);
    }
    for w in &mut waves {
        w.sort_by(|a, b| rank(&g.nodes[*a]).cmp(&rank(&g.nodes[*b])));
    }
    Ok(Order { waves, wave_of })
}

/// Every node that (transitively) depends on one of `roots`, excluding the roots themselves.
pub fn dependents(g: &Graph, roots: &BTreeSet<usize>) -> BTreeSet<usize> {
    let adj = g.adjacency();
    let mut out = BTreeSet::new();
    let mut stack: Vec<usize> = roots.iter().copied().collect();
    while let Some(u) = stack.pop() {
        for &t in adj.dependents.get(u).into_iter().flatten() {
            if !roots.contains(&t) && out.insert(t) {
                stack.push(t);
            }
        }
    }
    out
}

/// One diagnostic per strongly connected component with more than one node (or a self-loop),
/// printing one concrete cycle through it.
fn cycles(g: &Graph) -> Vec<Diagnostic> {
    let mut pg = DiGraph::<usize, usize>::new();
    let idx: Vec<_> = (0..g.nodes.len()).map(|i| pg.add_node(i)).collect();
    for (ei, e) in g.edges.iter().enumerate() {
        pg.add_edge(idx[e.from], idx[e.to], ei);
    }
    let self_loops: BTreeSet<usize> = g
        .edges
        .iter()
        .filter(|e| e.from == e.to)
        .map(|e| e.from)
        .collect();
    let mut out = Vec::new();
    let mut sccs: Vec<Vec<usize>> = tarjan_scc(&pg)
        .into_iter()
        .map(|c| {
            let mut v: Vec<usize> = c.into_iter().map(|x| pg[x]).collect();
            v.sort_unstable();
            v
        })
        .filter(|c| c.len() > 1 || self_loops.contains(&c[0]))
        .collect();
    sccs.sort();
    for scc in sccs {
        let members: BTreeSet<usize> = scc.iter().copied().collect();
        let cycle = find_cycle(g, &members, scc[0]);
        let mut msg = String::from("dependency cycle:");
        for &ei in &cycle {
            let e = &g.edges[ei];
            msg.push_str(&format!(
                "\n    {} -> {} ({})",
                g.nodes[e.from].label(),
                g.nodes[e.to].label(),
                e.reason
            ));
        }
        let mut d = Diagnostic::error("E-cycle", msg)
            .help("remove one of these dependencies (an eksync.io/depends-on annotation or a value reference)");
        if let Some(o) = g.nodes[scc[0]].origin.as_ref() {
            d = d.at(crate::diag::Location {
                document: Some(o.document),
                line: Some(o.line),
                ..crate::diag::Location::file(&o.file)
            });
        }
        out.push(d);
    }
    out
}

/// A cycle through `start` within `members`, as edge indices (breadth-first for the shortest).
fn find_cycle(g: &Graph, members: &BTreeSet<usize>, start: usize) -> Vec<usize> {
    let mut prev: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut visited = BTreeSet::from([start]);
    while let Some(u) = queue.pop_front() {
        for (ei, e) in g.edges.iter().enumerate() {
            if e.from != u || !members.contains(&e.to) {
                continue;
            }
            if e.to == start {
                let mut path = vec![ei];
                let mut cur = u;
                while cur != start {
                    let pe = prev[&cur];
                    path.push(pe);
                    cur = g.edges[pe].from;
                }
                path.reverse();
                return path;
            }
            if visited.insert(e.to) {
                prev.insert(e.to, ei);
                queue.push_back(e.to);
            }
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, NodeRef};
    use proptest::prelude::*;

    fn node(i: usize) -> Node {
        Node {
            id: format!("n{i}"),
            system: System::Kubernetes,
            kind: "ConfigMap".into(),
            name: format!("n{i:03}"),
            namespace: None,
            cluster: None,
            origin: None,
            what: NodeRef::Object(i),
        }
    }

    fn graph(n: usize, edges: &[(usize, usize)]) -> Graph {
        Graph {
            nodes: (0..n).map(node).collect(),
            edges: edges
                .iter()
                .map(|&(from, to)| Edge {
                    from,
                    to,
                    reason: format!("{from} before {to}"),
                })
                .collect(),
        }
    }

    #[test]
    fn waves_follow_longest_paths() {
        let g = graph(4, &[(0, 1), (1, 2), (0, 2), (3, 2)]);
        let o = order(&g).unwrap();
        assert_eq!(o.waves, vec![vec![0, 3], vec![1], vec![2]]);
    }

    #[test]
    fn dependents_are_transitive() {
        let g = graph(5, &[(0, 1), (1, 2), (3, 4)]);
        assert_eq!(dependents(&g, &BTreeSet::from([0])), BTreeSet::from([1, 2]));
        assert_eq!(dependents(&g, &BTreeSet::from([2, 3])), BTreeSet::from([4]));
    }

    #[test]
    fn cycles_are_reported_with_reasons() {
        let g = graph(3, &[(0, 1), (1, 2), (2, 1)]);
        let err = order(&g).unwrap_err();
        assert_eq!(err.len(), 1);
        assert_eq!(
            err[0].message,
            "dependency cycle:\n    ConfigMap n001 -> ConfigMap n002 (1 before 2)\n    ConfigMap n002 -> ConfigMap n001 (2 before 1)"
        );
    }

    #[test]
    fn a_self_loop_is_a_reported_cycle() {
        let g = graph(2, &[(0, 1), (1, 1)]);
        let err = order(&g).unwrap_err();
        assert_eq!(err.len(), 1, "{err:?}");
        assert_eq!(
            err[0].message,
            "dependency cycle:\n    ConfigMap n001 -> ConfigMap n001 (1 before 1)"
        );
    }

    proptest! {
        /// On random DAGs every edge goes forward, every node is in exactly one wave, and each
        /// node sits as early as its dependencies allow.
        #[test]
        fn waves_respect_every_edge(n in 1usize..60, raw in proptest::collection::vec((0usize..60, 0usize..60), 0..200)) {
            let edges: Vec<(usize, usize)> = raw
                .into_iter()
                .map(|(a, b)| (a % n, b % n))
                .filter(|(a, b)| a < b)
                .collect();
            let g = graph(n, &edges);
            let o = order(&g).unwrap();
            for &(a, b) in &edges {
                prop_assert!(o.wave_of[a] < o.wave_of[b]);
            }
            let mut all: Vec<usize> = o.waves.iter().flatten().copied().collect();
            all.sort_unstable();
            prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
            for i in 0..n {
                let want = edges.iter().filter(|e| e.1 == i).map(|e| o.wave_of[e.0] + 1).max().unwrap_or(0);
                prop_assert_eq!(o.wave_of[i], want);
            }
        }

        /// Adding a back edge to a chain always yields a cycle error, never a panic or an order.
        #[test]
        fn back_edges_are_cycles(n in 2usize..30, back in 0usize..30) {
            let mut edges: Vec<(usize, usize)> = (0..n - 1).map(|i| (i, i + 1)).collect();
            edges.push((n - 1, back % (n - 1)));
            prop_assert!(order(&graph(n, &edges)).is_err());
        }
    }
}
