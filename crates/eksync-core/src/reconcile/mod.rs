//! Reconcile decisions as data: what each graph node needs in a run ([`Work`]), which step may
//! start now and which are skipped and why ([`Scheduler`]), what a run concludes per node
//! ([`Action`], [`Outcome`]), and what may be pruned, in which order, behind which guards
//! ([`prune`]).
//!
//! Pure and synchronous: the executor feeds it what happened (a step finished, the run was
//! cancelled) and does what it says. It never calls AWS or Kubernetes, never waits and never reads
//! a clock, so every rule here is tested with tables beside the code.

pub mod deferral;
mod detail;
pub mod prune;
mod schedule;

pub use detail::{Detail, DriftNote, LeftGit};
pub use schedule::{Scheduler, State};

use serde::Serialize;

/// What a node would do in this run.
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
    /// Whether the run writes something for it.
    pub fn changes(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }
}

/// Whether a node is healthy, as read from live state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "health", content = "why", rename_all = "kebab-case")]
pub enum Health {
    Healthy,
    /// Not healthy yet (a rollout in progress, a claim not bound).
    Progressing(String),
    /// It will not become healthy by waiting (a failed Job, a stuck rollout).
    Degraded(String),
}

impl Health {
    pub fn is_healthy(&self) -> bool {
        matches!(self, Health::Healthy)
    }
}

/// What happened when a node ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    Done {
        summary: String,
    },
    Failed {
        reason: String,
    },
    Skipped {
        because: String,
    },
    /// The run was cancelled before this step started, or while it waited.
    Cancelled {
        because: String,
    },
}

impl Outcome {
    pub fn is_failed(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }
}

/// What a node needs in a run, decided from its [`Action`], its steps and its health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// In sync and healthy: nothing to do; its dependents may go as soon as its own
    /// dependencies are settled.
    Nothing,
    /// Steps to run (create, update, correct drift), then wait until healthy.
    Apply,
    /// Unchanged but not healthy: wait until it is, write nothing.
    AwaitHealth,
    /// It cannot be done now: it fails, and its dependents are skipped.
    Blocked(String),
}

impl Work {
    /// The work for a node from what the plan found for it.
    ///
    /// `has_steps` counts AWS drift corrections, which can exist while the action says
    /// "no change"; `health` is `None` where health was not read (AWS, unknown objects).
    pub fn decide(action: Action, has_steps: bool, health: Option<&Health>, why: &str) -> Work {
        match action {
            Action::Blocked => Work::Blocked(why.to_string()),
            a if a.changes() || has_steps => Work::Apply,
            _ => match health {
                Some(Health::Progressing(_) | Health::Degraded(_)) => Work::AwaitHealth,
                _ => Work::Nothing,
            },
        }
    }

    /// Whether the executor does something for the node.
    pub fn runs(&self) -> bool {
        matches!(self, Work::Apply | Work::AwaitHealth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_from_action_steps_and_health() {
        let waiting = Health::Progressing("0 of 1 replicas available".into());
        let degraded = Health::Degraded("Job failed".into());
        let cases: &[(Action, bool, Option<&Health>, Work)] = &[
            (Action::Create, false, None, Work::Apply),
            (Action::Update, false, Some(&Health::Healthy), Work::Apply),
            (Action::Update, false, Some(&waiting), Work::Apply),
            (Action::NoChange, true, None, Work::Apply),
            (Action::NoChange, false, None, Work::Nothing),
            (
                Action::NoChange,
                false,
                Some(&Health::Healthy),
                Work::Nothing,
            ),
            (Action::NoChange, false, Some(&waiting), Work::AwaitHealth),
            (Action::NoChange, false, Some(&degraded), Work::AwaitHealth),
            (Action::DriftOnly, false, Some(&waiting), Work::AwaitHealth),
            (Action::DriftOnly, false, None, Work::Nothing),
            (Action::Unknown, false, None, Work::Nothing),
            (Action::Blocked, true, None, Work::Blocked("why".into())),
        ];
        for (action, steps, health, want) in cases {
            assert_eq!(
                &Work::decide(*action, *steps, *health, "why"),
                want,
                "{action:?} steps={steps} health={health:?}"
            );
        }
    }
}
