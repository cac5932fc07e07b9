//! The one executor: turns an offline [`Analysis`] plus live AWS and Kubernetes state into a live
//! plan (what each graph node would change, with diffs and drift), and performs it wave by wave:
//! bounded parallelism inside a wave, each step waiting until it is healthy, dependents of a
//! failure skipped while independent branches go on. Values that flow (ASG name, role name) are
//! read from live AWS before their consumers are rendered.
//!
//! Deciding *what* differs is the core's (`awsdiff`, `kdiff`); talking to AWS and Kubernetes is the
//! adapters'. This module only sequences, and records what happened.

pub mod aws;
pub mod kube;
pub mod report;

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use crate::adapters::aws::{AwsAdapter, AwsError};
use crate::adapters::kube::{KubeAdapter, KubeError};
use crate::core::analysis::Analysis;
use crate::core::awsdiff::AwsDiffError;
use crate::core::desired::DesiredError;
use crate::core::graph::System;
use crate::core::plan;

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("the repo has {0} error(s); run `eksync validate` and fix them first")]
    Invalid(usize),
    #[error(transparent)]
    Desired(#[from] DesiredError),
    #[error("reading AWS: {0}")]
    Aws(#[from] AwsError),
    #[error("planning AWS changes: {0}")]
    AwsPlan(#[from] AwsDiffError),
    #[error("reading Kubernetes: {0}")]
    Kube(#[from] KubeError),
}

/// What the executor reports while it runs, for a progress display or log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    WaveStarted {
        wave: usize,
        waves: usize,
        steps: usize,
    },
    StepStarted {
        label: String,
    },
    StepFinished {
        label: String,
        outcome: Outcome,
        seconds: u64,
    },
}

/// Receives progress events; called from concurrent steps.
pub type ProgressSink = std::sync::Arc<dyn Fn(&Progress) + Send + Sync>;

/// How a live run behaves.
#[derive(Clone)]
pub struct ExecOptions {
    /// Report drift, change nothing that only corrects drift.
    pub detect_only: bool,
    /// Create (and delete) CloudFormation change sets to show per-resource actions and replacement.
    pub preview: bool,
    /// Steps run at once inside a wave.
    pub concurrency: usize,
    pub prune: kube::PruneOptions,
    pub readiness: kube::ReadinessOptions,
    /// Where progress goes (nowhere by default).
    pub progress: Option<ProgressSink>,
}

impl std::fmt::Debug for ExecOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecOptions")
            .field("detect_only", &self.detect_only)
            .field("preview", &self.preview)
            .field("concurrency", &self.concurrency)
            .field("prune", &self.prune)
            .field("readiness", &self.readiness)
            .finish_non_exhaustive()
    }
}

impl ExecOptions {
    pub(crate) fn report(&self, p: Progress) {
        if let Some(sink) = &self.progress {
            sink(&p);
        }
    }
}

impl Default for ExecOptions {
    fn default() -> Self {
        ExecOptions {
            detect_only: false,
            preview: true,
            concurrency: 4,
            prune: kube::PruneOptions::default(),
            readiness: kube::ReadinessOptions::default(),
            progress: None,
        }
    }
}

/// What a node would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    NoChange,
    /// Something differs, but the run will not change it (detect-only, or owned elsewhere).
    DriftOnly,
    /// It cannot be changed now (for example a stack in a rollback state).
    Blocked,
    /// It left Git and is pruned.
    Delete,
    /// Live state was not consulted for it.
    Unknown,
}

impl Action {
    pub fn changes(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }
}

/// What happened when a node ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    Done { summary: String },
    Failed { reason: String },
    Skipped { because: String },
}

/// One graph node in a live plan or run.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    pub system: System,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub wave: usize,
    pub action: Action,
    /// Readable changes (template lines, change-set rows, field diffs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// Live values that differ from what they should be, and what happens to them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

/// A live plan: one item per graph node, in graph order, plus notes.
#[derive(Debug, Clone, Serialize)]
pub struct LivePlan {
    pub items: Vec<Item>,
    /// Managed objects that left Git.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prune: Vec<Item>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A guard refused to act (for example a prune of everything); nothing it covers was done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
    #[serde(skip)]
    pub(crate) aws: Option<aws::AwsState>,
    #[serde(skip)]
    pub(crate) kube: Option<kube::KubeState>,
}

impl LivePlan {
    /// Anything to change or any drift found.
    pub fn has_changes(&self) -> bool {
        self.items
            .iter()
            .chain(self.prune.iter())
            .any(|i| i.action.changes() || !i.drift.is_empty() || i.action == Action::DriftOnly)
    }

    /// Items that cannot be applied as they are (the API server rejects them, a stack is stuck).
    pub fn blocked(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.action == Action::Blocked)
            .count()
    }

    /// Steps that failed, plus one for a guard's refusal.
    pub fn failed(&self) -> usize {
        usize::from(self.refused.is_some()) + self.failed_steps()
    }

    fn failed_steps(&self) -> usize {
        self.items
            .iter()
            .chain(self.prune.iter())
            .filter(|i| matches!(i.outcome, Some(Outcome::Failed { .. })))
            .count()
    }
}

fn empty_plan(a: &Analysis) -> LivePlan {
    let items = a
        .graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| Item {
            id: n.id.clone(),
            system: n.system,
            kind: n.kind.clone(),
            name: n.name.clone(),
            namespace: n.namespace.clone(),
            wave: a.order.wave_of.get(i).map_or(0, |w| w + 1),
            action: Action::Unknown,
            details: Vec::new(),
            drift: Vec::new(),
            outcome: None,
        })
        .collect();
    LivePlan {
        items,
        prune: Vec::new(),
        notes: Vec::new(),
        refused: None,
        aws: None,
        kube: None,
    }
}

/// Compares the repo with live state.
pub async fn plan(
    a: &Analysis,
    aws: Option<&AwsAdapter>,
    kube_adapter: Option<&KubeAdapter>,
    opts: &ExecOptions,
    now: jiff::Timestamp,
) -> Result<LivePlan, ExecError> {
    let errors = a.diagnostics.iter().filter(|d| d.is_error()).count();
    if errors > 0 {
        return Err(ExecError::Invalid(errors));
    }
    let mut p = empty_plan(a);
    match aws {
        Some(adapter) if !a.model.clusters.is_empty() || !a.model.role_policies.is_empty() => {
            aws::plan(a, adapter, opts, now, &mut p).await?;
        }
        _ => {
            if p.items.iter().any(|i| i.system == System::Aws) {
                p.notes
                    .push("AWS was not consulted: AWS resources show as unknown".into());
            }
        }
    }
    match kube_adapter {
        Some(k) => {
            kube::plan(a, k, opts, &mut p).await?;
            p.prune = kube::prune_items(&p, opts);
        }
        None => {
            if p.items.iter().any(|i| i.system == System::Kubernetes) {
                p.notes
                    .push("Kubernetes was not consulted: objects show as unknown".into());
            }
        }
    }
    Ok(p)
}

/// Performs a live plan wave by wave. Failures skip their dependents; independent branches go on.
pub async fn apply(
    a: &Analysis,
    mut p: LivePlan,
    aws_adapter: Option<&AwsAdapter>,
    kube_adapter: Option<&KubeAdapter>,
    opts: &ExecOptions,
) -> LivePlan {
    let mut failed: BTreeSet<usize> = BTreeSet::new();
    let mut skipped: BTreeMap<usize, usize> = BTreeMap::new();
    // What cannot be changed now fails, so that what depends on it is skipped.
    for (i, item) in p.items.iter_mut().enumerate() {
        if item.action == Action::Blocked {
            let reason = item.details.join("; ");
            item.outcome = Some(Outcome::Failed {
                reason: format!("blocked: {reason}"),
            });
            failed.insert(i);
        }
    }
    for d in plan::dependents(&a.graph, &failed) {
        skipped.entry(d).or_insert_with(|| {
            failed
                .iter()
                .copied()
                .find(|f| plan::dependents(&a.graph, &BTreeSet::from([*f])).contains(&d))
                .unwrap_or(d)
        });
    }
    let waves = a.order.waves.len();
    for (w, wave) in a.order.waves.iter().enumerate() {
        let runnable: Vec<usize> = wave
            .iter()
            .copied()
            .filter(|i| !skipped.contains_key(i))
            .filter(|&i| p.items[i].action.changes() || aws::has_steps(&p, i))
            .collect();
        if !runnable.is_empty() {
            opts.report(Progress::WaveStarted {
                wave: w + 1,
                waves,
                steps: runnable.len(),
            });
        }
        let mut results: Vec<(usize, Outcome)> = Vec::new();
        let of = |system: System| -> Vec<usize> {
            runnable
                .iter()
                .copied()
                .filter(|&i| p.items[i].system == system)
                .collect()
        };
        let (aws_nodes, kube_nodes) = (of(System::Aws), of(System::Kubernetes));
        // Nothing in one wave depends on another node of the same wave: AWS and Kubernetes steps
        // of a wave run side by side.
        let aws_run = async {
            match aws_adapter {
                Some(adapter) => aws::run_nodes(&p, adapter, &aws_nodes, opts).await,
                None => (skip_all(&aws_nodes, "AWS was not consulted"), None),
            }
        };
        let kube_run = async {
            match kube_adapter {
                Some(k) => kube::run_nodes(a, &p, k, &kube_nodes, opts).await,
                None => skip_all(&kube_nodes, "Kubernetes was not consulted"),
            }
        };
        let ((aws_results, fresh_live), kube_results) = tokio::join!(aws_run, kube_run);
        if let (Some(live), Some(state)) = (fresh_live, p.aws.as_mut()) {
            state.live = live;
        }
        results.extend(aws_results);
        results.extend(kube_results);
        for (i, outcome) in results {
            if matches!(outcome, Outcome::Failed { .. }) {
                failed.insert(i);
            }
            p.items[i].outcome = Some(outcome);
        }
        for d in plan::dependents(&a.graph, &failed) {
            if !skipped.contains_key(&d) && p.items[d].outcome.is_none() {
                let cause = failed
                    .iter()
                    .copied()
                    .find(|f| plan::dependents(&a.graph, &BTreeSet::from([*f])).contains(&d))
                    .unwrap_or(d);
                skipped.insert(d, cause);
            }
        }
    }
    for (d, cause) in skipped {
        if p.items[d].action.changes() || aws::has_steps(&p, d) {
            let because = format!("{} {} failed", p.items[cause].kind, p.items[cause].name);
            p.items[d].outcome = Some(Outcome::Skipped { because });
        }
    }
    if let Some(k) = kube_adapter {
        let (prune, notes, refused) = kube::finish(a, &p, k, opts).await;
        p.prune = prune;
        p.notes.extend(notes);
        p.refused = refused;
    }
    p
}

fn skip_all(nodes: &[usize], because: &str) -> Vec<(usize, Outcome)> {
    nodes
        .iter()
        .map(|&i| {
            (
                i,
                Outcome::Skipped {
                    because: because.to_string(),
                },
            )
        })
        .collect()
}
