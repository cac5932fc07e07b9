//! The run's state machine over the graph: a step starts as soon as everything it waits for is
//! settled and healthy, never at a wave barrier, so a slow or failed branch holds back only what
//! depends on it. A failure skips its dependents with the original cause; a cancel starts nothing
//! new. It decides; the executor starts, waits and reports back.

use super::Work;
use crate::graph::Adjacency;

/// Where a node is in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Waiting for what it depends on.
    Pending,
    /// Handed to the executor by [`Scheduler::take_ready`] and not finished yet.
    Running,
    /// Settled and healthy: ran and became healthy, or needed nothing.
    Done,
    /// Ran and failed, or was blocked from the start.
    Failed,
    /// Not run because `cause` (a failed node) is among what it waits for.
    Skipped { cause: usize },
    /// Not run because the run was cancelled before it could start.
    NotStarted,
}

/// Decides, node by node, what may start. Nodes are the graph's node indices.
#[derive(Debug, Clone)]
pub struct Scheduler {
    adj: Adjacency,
    work: Vec<Work>,
    state: Vec<State>,
    /// Dependencies not yet `Done`, per node.
    unmet: Vec<usize>,
    /// Nodes whose dependencies are all done and that have work, in the order they became ready.
    ready: Vec<usize>,
    /// Whether a node was ever put in `ready` (a node is handed out once).
    queued: Vec<bool>,
    running: usize,
    cancelled: bool,
}

impl Scheduler {
    /// A scheduler for one run. `work[n]` says what node `n` needs; blocked nodes fail at once.
    pub fn new(adj: Adjacency, work: Vec<Work>) -> Self {
        let n = work.len();
        let unmet = (0..n)
            .map(|i| adj.deps.get(i).map_or(0, Vec::len))
            .collect();
        let mut s = Scheduler {
            adj,
            work,
            state: vec![State::Pending; n],
            unmet,
            ready: Vec::new(),
            queued: vec![false; n],
            running: 0,
            cancelled: false,
        };
        for i in 0..n {
            if matches!(s.work[i], Work::Blocked(_)) {
                s.fail(i);
            }
        }
        for i in 0..n {
            if s.state[i] == State::Pending && s.unmet[i] == 0 && !s.queued[i] {
                s.became_ready(i);
            }
        }
        s
    }

    /// Up to `max` nodes to start now, marked running. Nothing once cancelled.
    pub fn take_ready(&mut self, max: usize) -> Vec<usize> {
        if self.cancelled {
            return Vec::new();
        }
        let take = max.min(self.ready.len());
        let started: Vec<usize> = self.ready.drain(..take).collect();
        for &i in &started {
            self.state[i] = State::Running;
        }
        self.running += started.len();
        started
    }

    /// Reports that a running node finished: healthy (`ok`) or failed.
    pub fn finish(&mut self, node: usize, ok: bool) {
        if self.state.get(node) != Some(&State::Running) {
            return;
        }
        self.running -= 1;
        if ok {
            self.done(node);
        } else {
            self.fail(node);
        }
    }

    /// Starts nothing new from now on; nodes not started end as [`State::NotStarted`].
    pub fn cancel(&mut self) {
        self.cancelled = true;
        self.ready.clear();
        for s in self.state.iter_mut() {
            if *s == State::Pending {
                *s = State::NotStarted;
            }
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// Nothing is running and nothing can start: the run is over.
    pub fn is_settled(&self) -> bool {
        self.running == 0 && (self.ready.is_empty() || self.cancelled)
    }

    /// Nodes handed out and not finished.
    pub fn running(&self) -> usize {
        self.running
    }

    pub fn state(&self, node: usize) -> Option<&State> {
        self.state.get(node)
    }

    pub fn states(&self) -> &[State] {
        &self.state
    }

    fn became_ready(&mut self, i: usize) {
        if self.cancelled {
            self.state[i] = State::NotStarted;
        } else if self.work[i].runs() {
            self.enqueue(i);
        } else {
            self.done(i);
        }
    }

    fn enqueue(&mut self, i: usize) {
        if !self.queued[i] {
            self.queued[i] = true;
            self.ready.push(i);
        }
    }

    /// Marks `i` done and releases what waits for it (iteratively: chains of nodes with nothing
    /// to do can be long).
    fn done(&mut self, i: usize) {
        let mut todo = vec![i];
        while let Some(u) = todo.pop() {
            self.state[u] = State::Done;
            for k in 0..self.adj.dependents.get(u).map_or(0, Vec::len) {
                let t = self.adj.dependents[u][k];
                self.unmet[t] = self.unmet[t].saturating_sub(1);
                if self.unmet[t] == 0 && self.state[t] == State::Pending {
                    if self.cancelled {
                        self.state[t] = State::NotStarted;
                    } else if self.work[t].runs() {
                        self.enqueue(t);
                    } else {
                        todo.push(t);
                    }
                }
            }
        }
    }

    /// Marks `i` failed and skips everything that (transitively) waits for it, naming `i`.
    fn fail(&mut self, i: usize) {
        self.state[i] = State::Failed;
        let mut todo = vec![i];
        while let Some(u) = todo.pop() {
            for k in 0..self.adj.dependents.get(u).map_or(0, Vec::len) {
                let t = self.adj.dependents[u][k];
                if self.state[t] == State::Pending {
                    self.state[t] = State::Skipped { cause: i };
                    self.ready.retain(|&r| r != t);
                    todo.push(t);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Edge, Graph, Node, NodeRef, System};

    /// A graph of `n` nodes with these edges (from, to).
    fn graph(n: usize, edges: &[(usize, usize)]) -> Adjacency {
        let nodes = (0..n)
            .map(|i| Node {
                id: format!("n{i}"),
                system: System::Kubernetes,
                kind: "ConfigMap".into(),
                name: format!("n{i}"),
                namespace: None,
                cluster: None,
                origin: None,
                what: NodeRef::Object(i),
            })
            .collect();
        let edges = edges
            .iter()
            .map(|&(from, to)| Edge {
                from,
                to,
                reason: "test".into(),
            })
            .collect();
        Graph { nodes, edges }.adjacency()
    }

    fn apply(n: usize) -> Vec<Work> {
        vec![Work::Apply; n]
    }

    #[test]
    fn a_step_starts_when_its_own_dependencies_are_done_not_at_a_wave_barrier() {
        // Two branches: 0 -> 1 (slow) and 2 -> 3 (fast).
        let mut s = Scheduler::new(graph(4, &[(0, 1), (2, 3)]), apply(4));
        assert_eq!(s.take_ready(10), vec![0, 2]);
        s.finish(2, true);
        // 0 still runs (a slow wait), yet 3 starts.
        assert_eq!(s.take_ready(10), vec![3]);
        s.finish(3, true);
        assert!(!s.is_settled());
        s.finish(0, true);
        assert_eq!(s.take_ready(10), vec![1]);
        s.finish(1, true);
        assert!(s.is_settled());
        assert!(s.states().iter().all(|st| *st == State::Done));
    }

    #[test]
    fn failure_skips_all_dependents_with_the_original_cause_and_spares_the_rest() {
        // 0 -> 1 -> 2, 0 -> 3; 4 independent; 1 -> 5 <- 4
        let mut s = Scheduler::new(
            graph(6, &[(0, 1), (1, 2), (0, 3), (1, 5), (4, 5)]),
            apply(6),
        );
        assert_eq!(s.take_ready(10), vec![0, 4]);
        s.finish(4, true);
        s.finish(0, true);
        assert_eq!(s.take_ready(10), vec![1, 3]);
        s.finish(1, false);
        s.finish(3, true);
        assert_eq!(s.take_ready(10), Vec::<usize>::new());
        assert!(s.is_settled());
        let want = [
            State::Done,
            State::Failed,
            State::Skipped { cause: 1 },
            State::Done,
            State::Done,
            State::Skipped { cause: 1 },
        ];
        assert_eq!(s.states(), &want);
    }

    #[test]
    fn blocked_nodes_fail_at_once_and_their_dependents_name_them() {
        let mut work = apply(4);
        work[1] = Work::Blocked("stack in UPDATE_ROLLBACK_FAILED".into());
        let mut s = Scheduler::new(graph(4, &[(0, 1), (1, 2), (2, 3)]), work);
        assert_eq!(s.states()[1], State::Failed);
        assert_eq!(s.states()[3], State::Skipped { cause: 1 });
        assert_eq!(s.take_ready(10), vec![0]);
        s.finish(0, true);
        assert!(s.take_ready(10).is_empty());
        assert!(s.is_settled());
    }

    #[test]
    fn nodes_with_nothing_to_do_pass_through_but_carry_a_failure_on() {
        // 0 (apply) -> 1 (nothing) -> 2 (apply); 3 (nothing) -> 4 (apply)
        let work = vec![
            Work::Apply,
            Work::Nothing,
            Work::Apply,
            Work::Nothing,
            Work::Apply,
        ];
        let adj = graph(5, &[(0, 1), (1, 2), (3, 4)]);
        let mut s = Scheduler::new(adj.clone(), work.clone());
        assert_eq!(s.take_ready(10), vec![0, 4]);
        s.finish(0, true);
        assert_eq!(s.take_ready(10), vec![2]);

        let mut s = Scheduler::new(adj, work);
        s.take_ready(10);
        s.finish(0, false);
        assert_eq!(s.states()[1], State::Skipped { cause: 0 });
        assert_eq!(s.states()[2], State::Skipped { cause: 0 });
    }

    #[test]
    fn an_unhealthy_unchanged_node_is_waited_for_and_holds_its_dependents() {
        let work = vec![Work::AwaitHealth, Work::Apply, Work::Apply];
        let mut s = Scheduler::new(graph(3, &[(0, 1)]), work);
        assert_eq!(s.take_ready(10), vec![0, 2]);
        s.finish(2, true);
        s.finish(0, false);
        assert_eq!(s.states()[1], State::Skipped { cause: 0 });
    }

    #[test]
    fn cancel_starts_nothing_new_and_lets_running_steps_report() {
        let mut s = Scheduler::new(graph(4, &[(0, 1), (2, 3)]), apply(4));
        assert_eq!(s.take_ready(1), vec![0]);
        s.cancel();
        assert!(s.take_ready(10).is_empty());
        assert!(!s.is_settled(), "0 is still running");
        s.finish(0, true);
        assert!(s.take_ready(10).is_empty());
        assert!(s.is_settled());
        let want = [
            State::Done,
            State::NotStarted,
            State::NotStarted,
            State::NotStarted,
        ];
        assert_eq!(s.states(), &want);
    }

    #[test]
    fn the_concurrency_bound_is_the_callers_and_order_is_deterministic() {
        let mut s = Scheduler::new(graph(5, &[]), apply(5));
        assert_eq!(s.take_ready(2), vec![0, 1]);
        assert_eq!(s.running(), 2);
        assert_eq!(s.take_ready(2), vec![2, 3]);
        s.finish(1, true);
        assert_eq!(s.take_ready(2), vec![4]);
        // Finishing a node that is not running changes nothing.
        s.finish(1, false);
        assert_eq!(s.states()[1], State::Done);
    }

    #[test]
    fn long_chains_of_unchanged_nodes_do_not_recurse() {
        let n = 100_000;
        let edges: Vec<(usize, usize)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let mut work = vec![Work::Nothing; n];
        work[n - 1] = Work::Apply;
        let mut s = Scheduler::new(graph(n, &edges), work);
        assert_eq!(s.take_ready(1), vec![n - 1]);
    }
}
