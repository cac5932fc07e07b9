//! The apply loop: asks the core's [`Scheduler`] which nodes may start, runs them (AWS steps or a
//! Kubernetes apply, then the wait until healthy) under the concurrency bound, and reports each
//! result back, until nothing is left or the run is cancelled. Live AWS is read again after each
//! AWS node, so values flow to the objects that wait for it; a failed read fails those objects
//! with the reason instead of rendering stale values.

use futures::stream::{FuturesUnordered, StreamExt};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{aws, kube, Action, LivePlan, Outcome, Progress, Reconciler};
use crate::core::analysis::Analysis;
use crate::core::awsdiff::LiveAws;
use crate::core::graph::System;
use crate::core::reconcile::{Scheduler, State, Work};

/// Live AWS as the last read left it: values for the objects that reference it, or why the read
/// after a change failed.
pub(super) type LiveValues = Option<Result<Arc<LiveAws>, String>>;

/// What one node's step reports back.
pub(super) struct StepReport {
    pub node: usize,
    pub outcome: Outcome,
    /// It wrote to the cluster or to AWS (an apply happened, even if the wait did not end).
    pub wrote: bool,
    /// A fresh read of live AWS after the step, when it changed AWS, with when the read began:
    /// of two reads, the one begun later wins, whichever reports first.
    pub reread: Option<(Instant, Result<LiveAws, String>)>,
    /// For an applied object: what was sent and the ownership the apply left
    /// (`kdiff::fingerprint`), recorded in the inventory.
    pub fingerprint: Option<String>,
}

fn work_of(p: &LivePlan) -> Vec<Work> {
    p.items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let steps = aws::has_steps(p, i);
            // An AWS node runs only its planned steps: a verdict without steps (detect-only, an
            // observed stack) has nothing to perform.
            let action = match item.system {
                System::Aws if !steps && item.action != Action::Blocked => Action::NoChange,
                _ => item.action,
            };
            Work::decide(
                action,
                steps,
                item.health.as_ref(),
                &super::report::details_text(&item.details).join("; "),
            )
        })
        .collect()
}

pub(super) async fn apply(
    r: &Reconciler,
    a: &Analysis,
    mut p: LivePlan,
    cancel: &CancellationToken,
) -> LivePlan {
    let opts = &r.opts;
    let work = work_of(&p);
    let mut recorded = None;
    if let Some(k) = &r.kube {
        // Recorded before anything is created, so no kill can leave an object a prune forgets.
        match kube::write_ahead(a, &p, &work, k).await {
            Ok(inv) => recorded = inv,
            Err(e) => {
                p.refused = Some(format!(
                    "nothing was applied: the inventory could not be recorded first: {}",
                    crate::errors::error_chain(&e)
                ));
                return p;
            }
        }
    }
    let mut sched = Scheduler::new(a.graph.adjacency(), work.clone());
    let mut outcomes: Vec<Option<Outcome>> = vec![None; p.items.len()];
    // Nodes that wrote, with the fingerprint of what they applied.
    let mut wrote: BTreeMap<usize, Option<String>> = BTreeMap::new();
    // A mutex, not a RefCell, so that the run's future stays `Send` (the agent spawns it).
    let values = std::sync::Mutex::new(p.aws.as_ref().map(|s| Ok(Arc::new(s.live.clone()))));
    let mut newest_read: Option<Instant> = None;
    opts.report(Progress::RunStarted {
        steps: work.iter().filter(|w| w.runs()).count(),
        waves: a.order.waves.len(),
    });
    {
        let plan = &p;
        drive(
            &mut sched,
            opts,
            cancel,
            |node| run_node(r, a, plan, node, &work[node], latest(&values), cancel),
            |rep: StepReport| {
                if let Some((began, read)) = rep.reread {
                    if newest_read.is_none_or(|n| began > n) {
                        newest_read = Some(began);
                        *values.lock().unwrap_or_else(|e| e.into_inner()) =
                            Some(read.map(Arc::new));
                    }
                }
                if rep.wrote {
                    wrote.insert(rep.node, rep.fingerprint.clone());
                }
                let ok = matches!(rep.outcome, Outcome::Done { .. });
                outcomes[rep.node] = Some(rep.outcome);
                (rep.node, ok)
            },
        )
        .await;
    }
    let values = values.into_inner().unwrap_or_else(|e| e.into_inner());
    p.cancelled = sched.is_cancelled();
    record_outcomes(&mut p, &sched, &work, outcomes);
    if let (Some(Ok(live)), Some(state)) = (&values, p.aws.as_mut()) {
        state.live = (**live).clone();
    }
    if let Some(k) = &r.kube {
        let (prune, notes, refused) = kube::finish(a, &p, k, opts, &wrote, recorded.as_ref()).await;
        p.prune = prune;
        p.notes.extend(notes);
        p.refused = refused;
    }
    p
}

fn latest(values: &std::sync::Mutex<LiveValues>) -> LiveValues {
    // A poisoned lock only means a step panicked while holding it; the value is still whole.
    values.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The one driver loop: starts what the scheduler says may start (at most `concurrency` in
/// flight), reports each finished step back, and on cancel starts nothing new while the steps in
/// flight finish (their waits watch the same token). Returns when nothing runs and nothing can
/// start.
pub(super) async fn drive<R, Fut>(
    sched: &mut Scheduler,
    opts: &super::ExecOptions,
    cancel: &CancellationToken,
    mut start: impl FnMut(usize) -> Fut,
    mut finished: impl FnMut(R) -> (usize, bool),
) where
    Fut: std::future::Future<Output = R>,
{
    let mut inflight = FuturesUnordered::new();
    loop {
        if cancel.is_cancelled() && !sched.is_cancelled() {
            sched.cancel();
            opts.report(Progress::Cancelling {
                running: sched.running(),
            });
        }
        let free = opts.concurrency.max(1).saturating_sub(sched.running());
        for node in sched.take_ready(free) {
            inflight.push(start(node));
        }
        if inflight.is_empty() {
            break;
        }
        tokio::select! {
            Some(rep) = inflight.next() => {
                // A step that stopped because of the cancel must not read as a failure that
                // skips its dependents: they are "not started", so cancel the schedule first.
                if cancel.is_cancelled() && !sched.is_cancelled() {
                    sched.cancel();
                }
                let (node, ok) = finished(rep);
                sched.finish(node, ok);
            }
            _ = cancel.cancelled(), if !sched.is_cancelled() => {}
        }
    }
}

/// Every node that had work gets an outcome: what it reported, or why it did not run.
fn record_outcomes(
    p: &mut LivePlan,
    sched: &Scheduler,
    work: &[Work],
    mut outcomes: Vec<Option<Outcome>>,
) {
    for (i, state) in sched.states().iter().enumerate() {
        let outcome = match (state, &work[i]) {
            // In sync and healthy: nothing to report, even behind a failure.
            (_, Work::Nothing) => None,
            (State::Failed, Work::Blocked(why)) => Some(Outcome::Failed {
                reason: format!("blocked: {why}"),
            }),
            (State::Skipped { cause }, _) => Some(Outcome::Skipped {
                because: format!("{} {} failed", p.items[*cause].kind, p.items[*cause].name),
            }),
            (State::NotStarted, _) => Some(Outcome::Cancelled {
                because: "not started: the run was cancelled".into(),
            }),
            _ => outcomes[i].take(),
        };
        if outcome.is_some() {
            p.items[i].outcome = outcome;
        }
    }
}

/// Runs one node: its AWS steps, an apply and the wait until healthy, or the wait alone.
async fn run_node(
    r: &Reconciler,
    a: &Analysis,
    p: &LivePlan,
    node: usize,
    work: &Work,
    values: LiveValues,
    cancel: &CancellationToken,
) -> StepReport {
    let opts = &r.opts;
    let item = &p.items[node];
    let label = match &item.namespace {
        Some(ns) => format!("{} {ns}/{}", item.kind, item.name),
        None => format!("{} {}", item.kind, item.name),
    };
    let started = Instant::now();
    opts.report(Progress::StepStarted {
        label: label.clone(),
    });
    let report = match (item.system, &r.aws, &r.kube) {
        (System::Aws, Some(adapter), _) => aws::run_node(p, adapter, node).await,
        (System::Kubernetes, _, Some(k)) => {
            kube::run_node(a, p, k, node, work, values, opts, cancel).await
        }
        (System::Aws, None, _) | (System::Kubernetes, _, None) => StepReport {
            node,
            outcome: Outcome::Skipped {
                because: "its system was not consulted".into(),
            },
            wrote: false,
            reread: None,
            fingerprint: None,
        },
    };
    opts.report(Progress::StepFinished {
        label,
        outcome: report.outcome.clone(),
        seconds: started.elapsed().as_secs(),
    });
    report
}
