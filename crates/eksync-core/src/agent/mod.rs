//! The sync agent's decisions, pure: what a run's result makes of the status a user reads
//! (conditions Ready, Reconciling, Stalled; last applied and last attempted revision; counts;
//! the last error and a bad revision's diagnostics), how long to wait after failures, and which
//! webhook deliveries were already seen. The clock is passed in. Fetching, applying, HTTP and
//! writing the status object are the agent driver's (`eksync::agent`), not this module's.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Duration;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::diag::Diagnostic;
use crate::source::Revision;

/// How one run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunResult {
    /// The source could not be read (remote down, auth refused, unknown ref).
    FetchFailed { message: String },
    /// The revision does not load: nothing was applied; the last good revision stays.
    Invalid {
        revision: Option<Revision>,
        diagnostics: Vec<Diagnostic>,
    },
    /// Planned, and applied unless nothing changed (or detect-only).
    Reconciled {
        revision: Option<Revision>,
        counts: Counts,
        /// The plan or a step failed: what failed, in a line.
        error: Option<String>,
        /// Cancelled between steps (SIGTERM, lost leadership).
        cancelled: bool,
    },
    /// `spec.suspend` is set: nothing was read or applied.
    Suspended,
}

/// Resource counts of a reconcile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// Resources the revision declares.
    pub resources: usize,
    /// Resources whose live state differed from Git (changes applied or, detect-only, reported).
    pub drifted: usize,
    /// Resources whose step failed.
    pub failed: usize,
}

/// A condition as Kubernetes objects carry them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: String,
    pub message: String,
    pub last_transition_time: String,
}

/// A revision as the status names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusRevision {
    pub commit: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub subject: String,
}

impl From<&Revision> for StatusRevision {
    fn from(r: &Revision) -> Self {
        StatusRevision {
            commit: r.commit.clone(),
            reference: r.reference.clone(),
            subject: r.subject.clone(),
        }
    }
}

/// The `status` of a `Sync` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    #[serde(default)]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<StatusRevision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<StatusRevision>,
    #[serde(default)]
    pub resources: usize,
    #[serde(default)]
    pub drifted: usize,
    #[serde(default)]
    pub failed: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// A bad revision's error diagnostics, one line each (file, document, line, message).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<String>,
    /// Objects eksync does not revert for now (a tug of war), each with who changes it back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<String>,
    /// When the last run finished (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_time: Option<String>,
}

pub const READY: &str = "Ready";
pub const RECONCILING: &str = "Reconciling";
pub const STALLED: &str = "Stalled";

/// How many diagnostics the status keeps (the rest are counted).
pub const MAX_STATUS_DIAGNOSTICS: usize = 20;

impl SyncStatus {
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.type_ == type_)
    }

    /// Sets a condition; its transition time changes only when its status does.
    fn set(&mut self, type_: &str, status: bool, reason: &str, message: String, now: Timestamp) {
        let status = if status { "True" } else { "False" };
        let time = match self.condition(type_) {
            Some(c) if c.status == status => c.last_transition_time.clone(),
            _ => now.to_string(),
        };
        let c = Condition {
            type_: type_.to_string(),
            status: status.to_string(),
            reason: reason.to_string(),
            message,
            last_transition_time: time,
        };
        match self.conditions.iter_mut().find(|x| x.type_ == type_) {
            Some(x) => *x = c,
            None => self.conditions.push(c),
        }
        let order = |t: &str| match t {
            READY => 0,
            RECONCILING => 1,
            STALLED => 2,
            _ => 3,
        };
        self.conditions.sort_by_key(|c| order(&c.type_));
    }
}

/// The status while a run is in progress: Reconciling, with what it is about to do.
pub fn reconciling(prev: &SyncStatus, why: &str, now: Timestamp) -> SyncStatus {
    let mut s = prev.clone();
    s.set(RECONCILING, true, "Progressing", why.to_string(), now);
    if s.condition(READY).is_none() {
        s.set(
            READY,
            false,
            "Progressing",
            "the first reconcile is running".into(),
            now,
        );
    }
    s
}

/// A revision as the status and logs name it: `ref@commit12`, or the working tree.
pub fn revision_label(r: &Option<Revision>) -> String {
    r.as_ref()
        .map(|r| format!("{}@{}", r.reference, r.short_commit()))
        .unwrap_or_else(|| "the working tree".to_string())
}

/// The status after a run.
pub fn after_run(prev: &SyncStatus, run: &RunResult, now: Timestamp) -> SyncStatus {
    let mut s = prev.clone();
    s.last_run_time = Some(now.to_string());
    s.set(
        RECONCILING,
        false,
        "Idle",
        "waiting for a trigger".into(),
        now,
    );
    match run {
        RunResult::Suspended => {
            s.set(
                READY,
                false,
                "Suspended",
                "spec.suspend is set: nothing is read or applied".into(),
                now,
            );
        }
        RunResult::FetchFailed { message } => {
            s.last_error = Some(message.clone());
            let kept = match &s.last_applied_revision {
                Some(r) => format!(
                    "; {} stays applied",
                    r.commit.get(..12).unwrap_or(&r.commit)
                ),
                None => String::new(),
            };
            s.set(
                READY,
                false,
                "FetchFailed",
                format!("reading the source failed{kept}; retrying with backoff"),
                now,
            );
            // A transient failure: it recovers by itself.
            s.set(STALLED, false, "Retrying", message.clone(), now);
        }
        RunResult::Invalid {
            revision,
            diagnostics,
        } => {
            s.last_attempted_revision = revision.as_ref().map(StatusRevision::from);
            let errors: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.is_error()).collect();
            s.diagnostics = errors
                .iter()
                .take(MAX_STATUS_DIAGNOSTICS)
                .map(|d| one_line(d))
                .collect();
            if errors.len() > MAX_STATUS_DIAGNOSTICS {
                s.diagnostics.push(format!(
                    "... and {} more error(s)",
                    errors.len() - MAX_STATUS_DIAGNOSTICS
                ));
            }
            let msg = format!(
                "revision {} does not load ({} error(s)); nothing was applied{}",
                revision_label(revision),
                errors.len(),
                match &s.last_applied_revision {
                    Some(r) => format!(
                        ", {} stays applied",
                        r.commit.get(..12).unwrap_or(&r.commit)
                    ),
                    None => String::new(),
                }
            );
            s.last_error = Some(msg.clone());
            s.set(READY, false, "InvalidRevision", msg.clone(), now);
            // Only a new commit gets it going again.
            s.set(STALLED, true, "InvalidRevision", msg, now);
        }
        RunResult::Reconciled {
            revision,
            counts,
            error,
            cancelled,
        } => {
            s.last_attempted_revision = revision.as_ref().map(StatusRevision::from);
            s.diagnostics.clear();
            s.resources = counts.resources;
            s.drifted = counts.drifted;
            s.failed = counts.failed;
            s.set(
                STALLED,
                false,
                "Reconciled",
                "the revision loads".into(),
                now,
            );
            if *cancelled {
                let msg = format!(
                    "the run for {} was cancelled between steps",
                    revision_label(revision)
                );
                s.last_error = Some(msg.clone());
                s.set(READY, false, "Cancelled", msg, now);
            } else if let Some(e) = error {
                s.last_error = Some(e.clone());
                s.set(
                    READY,
                    false,
                    "ReconcileFailed",
                    format!("{}: {e}", revision_label(revision)),
                    now,
                );
            } else {
                s.last_error = None;
                s.last_applied_revision = revision.as_ref().map(StatusRevision::from);
                s.set(
                    READY,
                    true,
                    "Reconciled",
                    format!(
                        "{} applied: {} resource(s), {} corrected",
                        revision_label(revision),
                        counts.resources,
                        counts.drifted
                    ),
                    now,
                );
            }
        }
    }
    s
}

/// A diagnostic in one line: location, code, message.
pub fn one_line(d: &Diagnostic) -> String {
    let msg = d.message.lines().next().unwrap_or_default();
    match &d.location {
        Some(l) => format!("{l}: {} {msg}", d.code),
        None => format!("{} {msg}", d.code),
    }
}

/// Exponential backoff after `failures` consecutive failures: `base`, doubling, at most `max`.
/// Zero failures: no wait.
pub fn backoff(failures: u32, base: Duration, max: Duration) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
    base.saturating_mul(factor).min(max)
}

/// The webhook deliveries seen lately, to answer a redelivery without fetching again. Bounded.
#[derive(Debug, Clone)]
pub struct RecentDeliveries {
    capacity: usize,
    order: VecDeque<String>,
    seen: HashSet<String>,
}

impl RecentDeliveries {
    pub fn new(capacity: usize) -> Self {
        RecentDeliveries {
            capacity: capacity.max(1),
            order: VecDeque::new(),
            seen: HashSet::new(),
        }
    }

    /// Records a delivery id; `false` when it was seen already.
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        self.order.push_back(id.to_string());
        self.seen.insert(id.to_string());
        true
    }
}

/// Why a run started. It never changes what a run does (level-triggered): every run fetches the
/// followed ref and reconciles to it; the reason is only reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    Startup,
    Poll,
    Webhook,
    SelfHeal,
    Drift,
    Retry,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Startup => "startup",
            Trigger::Poll => "poll",
            Trigger::Webhook => "webhook",
            Trigger::SelfHeal => "self-heal",
            Trigger::Drift => "drift",
            Trigger::Retry => "retry",
        }
    }
}

/// Triggers that arrive while a run is in flight, coalesced into one follow-up run.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    triggers: BTreeMap<Trigger, usize>,
}

impl Pending {
    pub fn add(&mut self, t: Trigger) {
        *self.triggers.entry(t).or_default() += 1;
    }

    /// Only `t` is pending (a poll alone may find nothing new).
    pub fn only(&self, t: Trigger) -> bool {
        self.triggers.len() == 1 && self.triggers.contains_key(&t)
    }

    /// The reasons of the one follow-up run, or `None` when nothing arrived.
    pub fn take(&mut self) -> Option<String> {
        if self.triggers.is_empty() {
            return None;
        }
        let why = self
            .triggers
            .iter()
            .map(|(t, n)| {
                if *n > 1 {
                    format!("{} x{n}", t.as_str())
                } else {
                    t.as_str().to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        self.triggers.clear();
        Some(why)
    }
}

/// A drift correction of one object in a run whose revision was already applied: someone
/// changed a Git-owned field back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correction {
    /// The plan item's id.
    pub id: String,
    /// What it is, for people (`ConfigMap shop/settings`).
    pub label: String,
    /// The field managers that had changed it.
    pub by: Vec<String>,
}

/// An object eksync stops reverting for a while: another actor keeps changing it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub id: String,
    pub label: String,
    pub by: Vec<String>,
    pub rounds: u32,
    pub until: Timestamp,
}

impl Held {
    /// For the status, events and the plan's details.
    pub fn message(&self) -> String {
        let who = if self.by.is_empty() {
            "another actor".to_string()
        } else {
            self.by.join(", ")
        };
        format!(
            "{}: changed back by {who} after each of {} corrections; eksync stops reverting it until {} (tug of war)",
            self.label, self.rounds, self.until
        )
    }
}

#[derive(Debug, Clone)]
struct Contest {
    label: String,
    by: Vec<String>,
    rounds: u32,
    last: Timestamp,
    /// How many times it was held already (the hold doubles each time).
    holds: u32,
    until: Option<Timestamp>,
}

/// Stops a tug of war: an object whose drift is corrected in `limit` runs in a row, with Git
/// unchanged, each within `window` of the last, is held (not reverted) for `hold`, doubling
/// each time it starts again, at most `max_hold`. A change in Git ends every contest.
#[derive(Debug, Clone)]
pub struct TugOfWar {
    pub limit: u32,
    pub window: Duration,
    pub hold: Duration,
    pub max_hold: Duration,
    contests: BTreeMap<String, Contest>,
}

impl Default for TugOfWar {
    fn default() -> Self {
        TugOfWar {
            limit: 3,
            window: Duration::from_secs(30 * 60),
            hold: Duration::from_secs(5 * 60),
            max_hold: Duration::from_secs(3600),
            contests: BTreeMap::new(),
        }
    }
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

impl TugOfWar {
    /// Records a run's corrections; returns the objects held from now on.
    pub fn observe(
        &mut self,
        git_changed: bool,
        corrections: &[Correction],
        now: Timestamp,
    ) -> Vec<Held> {
        if git_changed {
            self.contests.clear();
            return Vec::new();
        }
        let window = self.window;
        // Contests gone quiet for a whole window end.
        self.contests
            .retain(|_, c| c.until.is_some() || plus(c.last, window) >= now);
        let mut held = Vec::new();
        for cor in corrections {
            let c = self
                .contests
                .entry(cor.id.clone())
                .or_insert_with(|| Contest {
                    label: cor.label.clone(),
                    by: Vec::new(),
                    rounds: 0,
                    last: now,
                    holds: 0,
                    until: None,
                });
            if c.until.is_some() {
                continue;
            }
            c.rounds += 1;
            c.last = now;
            c.label = cor.label.clone();
            for b in &cor.by {
                if !c.by.contains(b) {
                    c.by.push(b.clone());
                }
            }
            if c.rounds >= self.limit {
                let factor = 2u32.saturating_pow(c.holds.min(16));
                let d = self.hold.saturating_mul(factor).min(self.max_hold);
                c.holds += 1;
                let until = plus(now, d);
                c.until = Some(until);
                held.push(Held {
                    id: cor.id.clone(),
                    label: c.label.clone(),
                    by: c.by.clone(),
                    rounds: c.rounds,
                    until,
                });
            }
        }
        held
    }

    /// The objects not to revert now (a hold that ran out starts a new contest).
    pub fn held(&mut self, now: Timestamp) -> Vec<Held> {
        let mut out = Vec::new();
        for (id, c) in &mut self.contests {
            match c.until {
                Some(until) if until > now => out.push(Held {
                    id: id.clone(),
                    label: c.label.clone(),
                    by: c.by.clone(),
                    rounds: c.rounds,
                    until,
                }),
                Some(_) => {
                    c.until = None;
                    c.rounds = 0;
                }
                None => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
