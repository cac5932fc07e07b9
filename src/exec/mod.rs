//! The one executor. A [`Reconciler`] owns the AWS and Kubernetes adapters (and their caches) for
//! its lifetime and runs `diff` (live state -> [`LivePlan`]) and `apply` (perform it) for a given
//! analysis and time. `apply` asks the core's [`Scheduler`] what may start: a step starts as soon
//! as what it waits for is settled and healthy, never at a wave barrier; a failure skips its
//! dependents; a cancel starts nothing new and the run reports it. The inventory is written ahead
//! of every create and trimmed only after deletes.
//!
//! Deciding *what* differs and *what runs next* is the core's (`awsdiff`, `kdiff`, `reconcile`);
//! talking to AWS and Kubernetes is the adapters'. This module performs and records.

pub mod aws;
pub mod kube;
pub mod report;
mod run;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::adapters::aws::{AwsAdapter, AwsError};
use crate::adapters::kube::{KubeAdapter, KubeError};
use crate::core::analysis::Analysis;
use crate::core::awsdiff::AwsDiffError;
use crate::core::desired::DesiredError;
use crate::core::graph::System;
pub use crate::core::reconcile::prune::PruneOptions;
pub use crate::core::reconcile::{Action, Detail, DriftNote, Health, Outcome};

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("the repo has {0} error(s); run `eksync validate` and fix them first")]
    Invalid(usize),
    #[error(transparent)]
    Desired(#[from] DesiredError),
    #[error("reading AWS")]
    Aws(#[from] AwsError),
    #[error("planning AWS changes")]
    AwsPlan(#[from] AwsDiffError),
    #[error("reading Kubernetes")]
    Kube(#[from] KubeError),
}

/// What the executor reports while it runs, for a progress display or log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The run starts `steps` steps in all (over `waves` waves, as `plan` shows them).
    RunStarted {
        steps: usize,
        waves: usize,
    },
    StepStarted {
        label: String,
    },
    StepFinished {
        label: String,
        outcome: Outcome,
        seconds: u64,
    },
    /// A cancel arrived: nothing new starts; steps in flight finish or abandon their waits.
    Cancelling {
        running: usize,
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
    /// Steps in flight at once.
    pub concurrency: usize,
    pub prune: PruneOptions,
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
            prune: PruneOptions::default(),
            readiness: kube::ReadinessOptions::default(),
            progress: None,
        }
    }
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
    /// What changes and why (template values, change-set rows, field diffs, waits); reports
    /// render them (JSON carries the rendered lines).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "report::serialize_details"
    )]
    pub details: Vec<Detail>,
    /// Live values that differ from what they should be, and what happens to them.
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "report::serialize_drift"
    )]
    pub drift: Vec<DriftNote>,
    /// Health read from live state, where eksync judges it (Kubernetes objects that exist).
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub health: Option<Health>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
}

impl Item {
    /// Exists but is not healthy.
    pub fn unhealthy(&self) -> bool {
        self.health.as_ref().is_some_and(|h| !h.is_healthy())
    }
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
    /// The run was cancelled: what had not started was not started.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
    /// The Git revision this plan applies (`None`: a folder); set by the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<crate::core::source::Revision>,
    /// The revision the last successful apply recorded in this source's inventory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_revision: Option<crate::core::source::Revision>,
    #[serde(skip)]
    pub(crate) aws: Option<aws::AwsState>,
    #[serde(skip)]
    pub(crate) kube: Option<kube::KubeState>,
}

impl LivePlan {
    /// Anything to change, any drift found, or anything not healthy. An object that left Git
    /// and that its `eksync.io/prune: disabled` annotation keeps is reported, but is no change:
    /// nothing will ever be done about it.
    pub fn has_changes(&self) -> bool {
        self.items.iter().chain(self.prune.iter()).any(|i| {
            i.action.changes()
                || !i.drift.is_empty()
                || i.action == Action::DriftOnly
                || i.unhealthy()
        })
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
            .filter(|i| i.outcome.as_ref().is_some_and(Outcome::is_failed))
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
            health: None,
            outcome: None,
        })
        .collect();
    LivePlan {
        items,
        prune: Vec::new(),
        notes: Vec::new(),
        refused: None,
        cancelled: false,
        revision: None,
        live_revision: None,
        aws: None,
        kube: None,
    }
}

/// Owns the adapters for its lifetime and runs `diff` and `apply` through them. `diff`, `apply`,
/// and later `watch` and `agent`, all go through it.
pub struct Reconciler {
    aws: Option<AwsAdapter>,
    kube: Option<KubeAdapter>,
    opts: ExecOptions,
}

impl Reconciler {
    /// A reconciler over these adapters (`None`: that system is not consulted).
    pub fn new(aws: Option<AwsAdapter>, kube: Option<KubeAdapter>, opts: ExecOptions) -> Self {
        Reconciler { aws, kube, opts }
    }

    pub fn options(&self) -> &ExecOptions {
        &self.opts
    }

    pub fn aws(&self) -> Option<&AwsAdapter> {
        self.aws.as_ref()
    }

    pub fn kube(&self) -> Option<&KubeAdapter> {
        self.kube.as_ref()
    }

    /// Compares the repo with live state at time `now`.
    pub async fn diff(&self, a: &Analysis, now: jiff::Timestamp) -> Result<LivePlan, ExecError> {
        let errors = a.diagnostics.iter().filter(|d| d.is_error()).count();
        if errors > 0 {
            return Err(ExecError::Invalid(errors));
        }
        let mut p = empty_plan(a);
        match &self.aws {
            Some(adapter) if !a.model.clusters.is_empty() || !a.model.role_policies.is_empty() => {
                aws::plan(a, adapter, &self.opts, now, &mut p).await?;
            }
            _ => {
                if p.items.iter().any(|i| i.system == System::Aws) {
                    p.notes
                        .push("AWS was not consulted: AWS resources show as unknown".into());
                }
            }
        }
        match &self.kube {
            Some(k) => {
                kube::plan(a, k, &self.opts, &mut p).await?;
                let (prune, refused) = kube::prune_items(a, &p, &self.opts);
                p.prune = prune;
                p.refused = refused;
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

    /// Performs a live plan. Steps start as their dependencies become healthy; failures skip
    /// their dependents; independent branches go on. Once `cancel` fires, nothing new starts,
    /// waits in flight are abandoned, and the result says the run was cancelled; the inventory
    /// is written either way.
    pub async fn apply(&self, a: &Analysis, p: LivePlan, cancel: &CancellationToken) -> LivePlan {
        run::apply(self, a, p, cancel).await
    }

    /// Runs a bare AWS plan (steps ordered by their `after` ids) through the same scheduler,
    /// driver loop and step runner as [`Reconciler::apply`]. For callers that plan AWS alone.
    pub async fn apply_aws_plan(
        &self,
        plan: &crate::core::awsdiff::AwsPlan,
        cancel: &CancellationToken,
    ) -> aws::AwsPlanReport {
        match &self.aws {
            Some(adapter) => aws::apply_plan(adapter, plan, &self.opts, cancel).await,
            None => aws::AwsPlanReport::default(),
        }
    }
}
