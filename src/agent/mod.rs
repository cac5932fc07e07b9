//! `eksync agent`: the in-cluster sync loop. It follows one source (a Git remote, a ref, a path),
//! and, while it leads (a Lease), reconciles on startup, on a new commit (poll or webhook), on a
//! self-heal timer, and after failures with backoff: one run at a time, triggers that arrive
//! during a run coalesced into one follow-up. A revision that does not load is never applied
//! (the last good one stays; the status names the bad one with its diagnostics). Every run
//! fetches the followed ref and reconciles to it, whatever started it. Cancelling (SIGTERM, a
//! lost Lease) stops between steps; the executor keeps the inventory consistent.
//!
//! The decisions (status, backoff, coalescing, redeliveries) are the core's (`core::agent`);
//! this module is the thin async driver around them: fetch, analyze, reconcile, report. It also
//! watches the managed set (`KubeAdapter::watch_managed`) so that an edit by someone else
//! queues a run at once, and stops reverting an object another actor keeps changing back (a
//! tug of war, decided by `core::agent::TugOfWar`).

pub mod http;
pub mod leader;
pub mod metrics;
pub mod status;
pub mod webhook;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::adapters::kube::{KubeAdapter, KubeSettings};
use crate::adapters::repo as repo_open;
use crate::core::agent::{
    self as decide, Counts, Pending, RecentDeliveries, RunResult, SyncStatus, Trigger,
};
use crate::core::analysis::{self, Analysis};
use crate::core::reconcile::{Action, Detail, DriftNote};
use crate::core::source::Revision;
use crate::errors::error_chain;
use crate::exec::{LivePlan, Reconciler};
use crate::session::{self, LiveArgs, RepoArgs};
use metrics::{ApiLabels, Metrics, ResultLabels, RevisionLabels};
use status::{EventType, SourceSpec, SyncRef};

/// `eksync agent` options.
#[derive(clap::Args)]
pub struct AgentArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub live: LiveArgs,
    /// How often the remote is polled for a new commit (`30s`, `1m`, `1h`).
    #[arg(long, default_value = "1m", value_parser = parse_duration)]
    pub interval: Duration,
    /// How often the whole source is reconciled even without a new commit, correcting drift
    /// (or, with --detect-only, reporting it).
    #[arg(long, default_value = "5m", value_parser = parse_duration)]
    pub self_heal_interval: Duration,
    /// Where the webhook, health and metrics endpoints listen.
    #[arg(long, default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
    /// A file holding the webhook secret (HMAC key for GitHub and the generic
    /// X-Eksync-Signature header, the token for GitLab). Without it, /webhook answers 404.
    #[arg(long, env = "EKSYNC_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Webhook bodies larger than this many bytes get 413.
    #[arg(long, default_value_t = 1 << 20)]
    pub webhook_max_body: usize,
    /// The namespace of the agent's Sync object, Lease and Events.
    #[arg(long, env = "POD_NAMESPACE", default_value = "eksync-system")]
    pub namespace: String,
    /// The name of the Sync object and the Lease (default: the source name).
    #[arg(long)]
    pub name: Option<String>,
    /// This replica's identity in the Lease (default: the pod name, else host and process).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// How long a leader's Lease lasts without renewal; a standby takes over after it.
    #[arg(long, default_value = "15s", value_parser = parse_duration)]
    pub lease_duration: Duration,
    /// Reconcile without a Lease (one replica only).
    #[arg(long)]
    pub no_leader_election: bool,
    /// The first wait after a failed run; it doubles up to --interval.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub retry_base: Duration,
}

/// `500ms`, `30s`, `5m`, `1h`, or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (like 500ms, 30s, 5m, 1h)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (ms, s, m, h)")),
    };
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("`{s}` must be more than zero"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// What the HTTP handlers share with the loop.
pub struct Shared {
    pub metrics: Metrics,
    pub webhook: Option<webhook::WebhookConfig>,
    pub recent: Mutex<RecentDeliveries>,
    pub triggers: mpsc::Sender<Trigger>,
    /// The first reconcile finished.
    pub ready: AtomicBool,
    pub leading: watch::Receiver<bool>,
    /// Leader election is on.
    pub elected: bool,
}

/// Runs the agent until `cancel`.
pub async fn run(mut args: AgentArgs, cancel: CancellationToken) -> Result<()> {
    let webhook = match &args.webhook_secret_file {
        Some(f) => {
            let secret = std::fs::read(f)
                .with_context(|| format!("reading the webhook secret {}", f.display()))?;
            let secret = secret.trim_ascii_end().to_vec();
            anyhow::ensure!(
                !secret.is_empty(),
                "the webhook secret {} is empty",
                f.display()
            );
            Some(webhook::WebhookConfig {
                secret,
                followed_ref: args.repo.git.git_ref.as_deref().map(webhook::push_ref),
            })
        }
        None => None,
    };
    let repo_text = args.repo.repo.to_string_lossy().to_string();
    let name = match (&args.name, &args.live.source) {
        (Some(n), _) | (None, Some(n)) => n.clone(),
        (None, None) => repo_open::default_name(&repo_text),
    };
    // One name for the Sync object, the Lease and the source (its labels and inventory).
    if args.live.source.is_none() && args.name.is_some() {
        args.live.source = Some(name.clone());
    }
    let own = KubeAdapter::connect(KubeSettings {
        kubeconfig: args.live.kubeconfig.clone(),
        context: args.live.context.clone(),
        source: name.clone(),
        ..KubeSettings::default()
    })
    .await
    .context("connecting to Kubernetes for the agent's own objects")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr().context("the listening address")?;
    tracing::info!(address = %format!("http://{addr}"), "listening");
    let (tx, rx) = mpsc::channel(64);
    let elected = !args.no_leader_election;
    let (lead_tx, lead_rx) = watch::channel(!elected);
    let shared = Arc::new(Shared {
        metrics: Metrics::new(),
        webhook,
        recent: Mutex::new(RecentDeliveries::new(1024)),
        triggers: tx,
        ready: AtomicBool::new(false),
        leading: lead_rx.clone(),
        elected,
    });
    let server = tokio::spawn(http::serve(
        listener,
        http::router(shared.clone(), args.webhook_max_body),
        cancel.clone(),
    ));
    // The leader gauge follows the election as it happens, not the loop's next turn.
    let gauge = {
        let shared = shared.clone();
        let mut leading = lead_rx.clone();
        tokio::spawn(async move {
            loop {
                let lead = *leading.borrow_and_update();
                shared.metrics.leader.set(i64::from(lead));
                if leading.changed().await.is_err() {
                    return;
                }
            }
        })
    };
    let election = if elected {
        let identity = args.identity.clone().unwrap_or_else(default_identity);
        let elector = leader::Elector::new(
            own.clone(),
            leader::LeaseConfig {
                namespace: args.namespace.clone(),
                name: format!("eksync-{name}"),
                identity,
                duration: args.lease_duration,
            },
        );
        Some(tokio::spawn(elector.run(lead_tx, cancel.clone())))
    } else {
        None
    };
    let sync = SyncRef {
        namespace: args.namespace.clone(),
        name: name.clone(),
    };
    let source = SourceSpec {
        url: repo_text,
        reference: args.repo.git.git_ref.clone(),
        path: args.repo.git.path.clone(),
    };
    let mut driver = Driver {
        args,
        shared: shared.clone(),
        own,
        sync,
        source,
        status: SyncStatus::default(),
        reconciler: None,
        last_commit: None,
        settled: false,
        failures: 0,
        retry_at: None,
        tug: decide::TugOfWar::default(),
        watch: None,
    };
    driver.run(rx, lead_rx, cancel.clone()).await;
    driver.stop_watch();
    gauge.abort();
    cancel.cancel();
    if let Some(e) = election {
        let _ = e.await;
    }
    match server.await {
        Ok(r) => r.context("serving HTTP")?,
        Err(e) => return Err(anyhow::anyhow!("the HTTP server task failed: {e}")),
    }
    Ok(())
}

fn default_identity() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "eksync".to_string());
    format!("{host}-{}", std::process::id())
}

struct Driver {
    args: AgentArgs,
    shared: Arc<Shared>,
    own: KubeAdapter,
    sync: SyncRef,
    source: SourceSpec,
    status: SyncStatus,
    /// Connected on the first run, kept for the next ones.
    reconciler: Option<Reconciler>,
    /// The commit of the last run that read a revision.
    last_commit: Option<String>,
    /// That run applied it in full, or found it does not load: a poll that sees the same
    /// commit again has nothing to do.
    settled: bool,
    /// Consecutive failed runs.
    failures: u32,
    retry_at: Option<tokio::time::Instant>,
    /// Objects another actor keeps changing back.
    tug: decide::TugOfWar,
    /// The watch of the managed set (its kinds, and the task that turns changes into drift
    /// triggers), while this replica leads.
    watch: Option<Watch>,
}

/// The kinds (api version, kind) being watched and the task that turns their changes into
/// drift triggers.
type Watch = (BTreeSet<(String, String)>, tokio::task::JoinHandle<()>);

/// A timer that first fires one period from now.
fn every(period: Duration) -> tokio::time::Interval {
    let mut i = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    i
}

impl Driver {
    async fn run(
        &mut self,
        mut rx: mpsc::Receiver<Trigger>,
        mut leading: watch::Receiver<bool>,
        cancel: CancellationToken,
    ) {
        let mut poll = every(self.args.interval);
        let mut heal = every(self.args.self_heal_interval);
        let mut pending = Pending::default();
        pending.add(Trigger::Startup);
        let mut was_leading = false;
        loop {
            if cancel.is_cancelled() {
                break;
            }
            let lead = *leading.borrow_and_update();
            if !lead {
                was_leading = false;
                self.stop_watch();
                tokio::select! {
                    _ = leading.changed() => continue,
                    _ = cancel.cancelled() => break,
                }
            }
            if !was_leading {
                // A new leader reconciles at once: the last one may have stopped mid-run.
                was_leading = true;
                pending.add(Trigger::Startup);
            }
            while let Ok(t) = rx.try_recv() {
                pending.add(t);
            }
            let only_poll = pending.only(Trigger::Poll);
            if let Some(why) = pending.take() {
                let run_cancel = cancel.child_token();
                let guard = spawn_step_down(leading.clone(), run_cancel.clone());
                self.run_once(&why, only_poll, &run_cancel).await;
                guard.abort();
                continue;
            }
            let retry = self.retry_at;
            tokio::select! {
                Some(t) = rx.recv() => pending.add(t),
                _ = poll.tick() => pending.add(Trigger::Poll),
                _ = heal.tick() => pending.add(Trigger::SelfHeal),
                _ = async { if let Some(at) = retry { tokio::time::sleep_until(at).await } else { std::future::pending::<()>().await } } => {
                    self.retry_at = None;
                    pending.add(Trigger::Retry);
                }
                _ = leading.changed() => {}
                _ = cancel.cancelled() => break,
            }
        }
    }

    async fn write_status(&self) {
        if let Err(e) = status::write(&self.own, &self.sync, &self.status).await {
            tracing::warn!(error = %error_chain(&e), "writing the Sync status failed");
        }
    }

    fn schedule_retry(&mut self) {
        self.failures = self.failures.saturating_add(1);
        let wait = decide::backoff(
            self.failures,
            self.args.retry_base,
            self.args.interval.max(self.args.retry_base),
        );
        tracing::info!(
            seconds = wait.as_secs_f64(),
            failures = self.failures,
            "retrying after a failed run"
        );
        self.retry_at = Some(tokio::time::Instant::now() + wait);
    }

    fn finish(&mut self, result: &RunResult, started: Instant, label: &str) {
        self.status = decide::after_run(&self.status, result, jiff::Timestamp::now());
        let m = &self.shared.metrics;
        m.reconciles
            .get_or_create(&ResultLabels {
                result: label.to_string(),
            })
            .inc();
        m.reconcile_seconds
            .get_or_create(&ResultLabels {
                result: label.to_string(),
            })
            .observe(started.elapsed().as_secs_f64());
        if let Some(r) = &self.reconciler {
            m.add_api_calls(api_totals(r));
        }
    }

    async fn run_once(&mut self, why: &str, only_poll: bool, cancel: &CancellationToken) {
        let started = Instant::now();
        match status::ensure(&self.own, &self.sync, &self.source).await {
            Ok(true) => {
                tracing::info!("spec.suspend is set: nothing is read or applied");
                self.finish(&RunResult::Suspended, started, "suspended");
                self.write_status().await;
                return;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %error_chain(&e), "reading the Sync object failed"),
        }
        // Fetch.
        let repo = self.args.repo.clone();
        let opened = tokio::task::spawn_blocking(move || session::open_repo(&repo)).await;
        let opened = match opened {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => return self.fetch_failed(format!("{e:#}"), started).await,
            Err(e) => {
                return self
                    .fetch_failed(format!("the fetch task failed: {e}"), started)
                    .await
            }
        };
        self.shared
            .metrics
            .fetches
            .get_or_create(&ResultLabels {
                result: "ok".into(),
            })
            .inc();
        let commit = opened.revision.as_ref().map(|r| r.commit.clone());
        if only_poll && self.settled && commit.is_some() && commit == self.last_commit {
            tracing::debug!("poll: no new commit");
            return;
        }
        tracing::info!(why, revision = %decide::revision_label(&opened.revision), "reconciling");
        self.status = decide::reconciling(
            &self.status,
            &format!(
                "{why}: reconciling {}",
                decide::revision_label(&opened.revision)
            ),
            jiff::Timestamp::now(),
        );
        self.write_status().await;
        let revision = opened.revision.clone();
        let a = match tokio::task::spawn_blocking(move || analysis::analyze(&opened.source)).await {
            Ok(a) => a,
            Err(e) => {
                return self
                    .fetch_failed(format!("the analysis task failed: {e}"), started)
                    .await
            }
        };
        let git_changed = self.last_commit != commit;
        self.last_commit = commit;
        if a.has_errors() {
            let result = RunResult::Invalid {
                revision,
                diagnostics: a.diagnostics.clone(),
            };
            self.settled = true;
            self.failures = 0;
            self.finish(&result, started, "invalid");
            self.write_status().await;
            let msg = format!(
                "{}: {}",
                self.status.last_error.clone().unwrap_or_default(),
                self.status.diagnostics.join("; ")
            );
            status::event(
                &self.own,
                &self.sync,
                EventType::Warning,
                "InvalidRevision",
                &msg,
            )
            .await;
            return;
        }
        let result = self.reconcile(&a, revision, git_changed, cancel).await;
        let label = match &result {
            RunResult::Reconciled {
                cancelled: true, ..
            } => "cancelled",
            RunResult::Reconciled { error: Some(_), .. } => "failed",
            RunResult::Reconciled { .. } => "applied",
            _ => "failed",
        };
        self.finish(&result, started, label);
        match &result {
            RunResult::Reconciled {
                error: None,
                cancelled: false,
                counts,
                revision,
            } => {
                self.settled = true;
                self.failures = 0;
                self.retry_at = None;
                let m = &self.shared.metrics;
                m.applied_revision.clear();
                if let Some(r) = revision {
                    m.applied_revision
                        .get_or_create(&RevisionLabels {
                            revision: r.commit.clone(),
                        })
                        .set(1);
                }
                m.resources.set(counts.resources as i64);
                m.drifted.set(counts.drifted as i64);
                self.shared.ready.store(true, Ordering::SeqCst);
                self.ensure_watch(&a).await;
            }
            RunResult::Reconciled {
                cancelled: true, ..
            } => {
                self.settled = false;
            }
            _ => {
                self.settled = false;
                self.shared.ready.store(true, Ordering::SeqCst);
                self.schedule_retry();
            }
        }
        self.write_status().await;
    }

    fn stop_watch(&mut self) {
        if let Some((_, task)) = self.watch.take() {
            task.abort();
        }
    }

    /// Watches the kinds `a` holds (restarting the watch when they changed): a change by
    /// anyone else queues a drift run, so an edit is corrected within seconds, not at the next
    /// self-heal pass.
    async fn ensure_watch(&mut self, a: &Analysis) {
        let kinds: BTreeSet<(String, String)> = a
            .model
            .objects
            .iter()
            .map(|o| (o.api_version.clone(), o.key.kind.clone()))
            .collect();
        if self.watch.as_ref().is_some_and(|(k, _)| *k == kinds) {
            return;
        }
        self.stop_watch();
        let Some(kube) = self.reconciler.as_ref().and_then(Reconciler::kube) else {
            return;
        };
        let mut resolved = Vec::new();
        for (api_version, kind) in &kinds {
            match kube.resolve(api_version, kind).await {
                Ok(Some(r)) => resolved.push(r),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(kind = %kind, error = %error_chain(&e), "not watching a kind for drift");
                }
            }
        }
        let mut changes = kube.watch_managed(&resolved);
        let triggers = self.shared.triggers.clone();
        let task = tokio::spawn(async move {
            use futures::StreamExt;
            while let Some(c) = changes.next().await {
                tracing::info!(object = %c.what, "changed in the cluster; reconciling");
                // A full queue already holds a run.
                let _ = triggers.try_send(Trigger::Drift);
            }
        });
        self.watch = Some((kinds, task));
    }

    async fn fetch_failed(&mut self, message: String, started: Instant) {
        tracing::warn!(error = %message, "fetching the source failed; the last good revision stays");
        self.shared
            .metrics
            .fetches
            .get_or_create(&ResultLabels {
                result: "error".into(),
            })
            .inc();
        let result = RunResult::FetchFailed {
            message: message.clone(),
        };
        self.finish(&result, started, "fetch-failed");
        self.schedule_retry();
        self.write_status().await;
        status::event(
            &self.own,
            &self.sync,
            EventType::Warning,
            "FetchFailed",
            &message,
        )
        .await;
    }

    async fn reconcile(
        &mut self,
        a: &Analysis,
        revision: Option<Revision>,
        git_changed: bool,
        cancel: &CancellationToken,
    ) -> RunResult {
        if self.reconciler.is_none() {
            match session::connect(a, &self.args.repo, &self.args.live, Some(progress_sink())).await
            {
                Ok(r) => self.reconciler = Some(r),
                Err(e) => {
                    return RunResult::Reconciled {
                        revision,
                        counts: Counts::default(),
                        error: Some(format!("connecting: {e:#}")),
                        cancelled: false,
                    }
                }
            }
        }
        let Some(r) = &self.reconciler else {
            // Set just above.
            return RunResult::Suspended;
        };
        let mut plan = match r.diff(a, jiff::Timestamp::now()).await {
            Ok(p) => p,
            Err(e) => {
                return RunResult::Reconciled {
                    revision,
                    counts: Counts {
                        resources: a.graph.nodes.len(),
                        ..Counts::default()
                    },
                    error: Some(format!("planning: {}", error_chain(&e))),
                    cancelled: false,
                }
            }
        };
        plan.revision = revision.clone();
        // A tug of war: objects another actor keeps changing back are not reverted for a while.
        let now = jiff::Timestamp::now();
        let held = self.tug.held(now);
        for item in &mut plan.items {
            if let Some(h) = held.iter().find(|h| h.id == item.id) {
                if item.action == Action::Update {
                    item.action = Action::DriftOnly;
                    item.details.push(Detail::Warning(h.message()));
                }
            }
        }
        self.status.held = held.iter().map(decide::Held::message).collect();
        let changes = plan.has_changes();
        let done = if changes && !r.options().detect_only && plan.blocked() == 0 {
            r.apply(a, plan, cancel).await
        } else {
            plan
        };
        session::keep_aws_cache(r);
        // Drift put back with Git unchanged: one more round of a possible tug of war.
        let corrections: Vec<decide::Correction> = done
            .items
            .iter()
            .filter(|i| {
                i.system == crate::core::graph::System::Kubernetes
                    && i.action == Action::Update
                    && matches!(
                        i.outcome,
                        Some(crate::core::reconcile::Outcome::Done { .. })
                    )
                    && !i.drift.is_empty()
            })
            .map(|i| decide::Correction {
                id: i.id.clone(),
                label: match &i.namespace {
                    Some(ns) => format!("{} {ns}/{}", i.kind, i.name),
                    None => format!("{} {}", i.kind, i.name),
                },
                by: i
                    .drift
                    .iter()
                    .filter_map(|d| match d {
                        DriftNote::Field { by: Some(b), .. } => Some(b.clone()),
                        _ => None,
                    })
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            })
            .collect();
        let newly_held = self.tug.observe(git_changed, &corrections, now);
        for h in &newly_held {
            tracing::warn!(object = %h.label, by = ?h.by, "tug of war: not reverting it for a while");
            self.status.held.push(h.message());
            status::event(
                &self.own,
                &self.sync,
                EventType::Warning,
                "TugOfWar",
                &h.message(),
            )
            .await;
        }
        let Some(r) = &self.reconciler else {
            return RunResult::Suspended;
        };
        let counts = counts(a, &done);
        let error = first_error(&done);
        if done.failed() == 0 && !done.cancelled && changes {
            let changed = done
                .items
                .iter()
                .chain(done.prune.iter())
                .filter(|i| i.action.changes() && i.outcome.is_some())
                .count();
            let verb = if r.options().detect_only {
                "found"
            } else {
                "applied"
            };
            status::event(
                &self.own,
                &self.sync,
                EventType::Normal,
                "Reconciled",
                &format!(
                    "{}: {changed} change(s) {verb}, {} drifted",
                    decide::revision_label(&revision),
                    counts.drifted
                ),
            )
            .await;
        }
        if let Some(e) = &error {
            status::event(
                &self.own,
                &self.sync,
                EventType::Warning,
                "ReconcileFailed",
                e,
            )
            .await;
        }
        RunResult::Reconciled {
            revision,
            counts,
            error,
            cancelled: done.cancelled,
        }
    }
}

/// Cancels `run` when leadership is lost.
fn spawn_step_down(
    mut leading: watch::Receiver<bool>,
    run: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if !*leading.borrow_and_update() {
                run.cancel();
                return;
            }
            if leading.changed().await.is_err() {
                return;
            }
        }
    })
}

fn counts(a: &Analysis, p: &LivePlan) -> Counts {
    let all = || p.items.iter().chain(p.prune.iter());
    Counts {
        resources: a.graph.nodes.len(),
        drifted: all()
            .filter(|i| i.action.changes() || !i.drift.is_empty() || i.action == Action::DriftOnly)
            .count(),
        failed: p.failed(),
    }
}

/// The first failure of a run, in a line.
fn first_error(p: &LivePlan) -> Option<String> {
    if let Some(r) = &p.refused {
        return Some(r.clone());
    }
    if let Some(i) = p.items.iter().find(|i| i.action == Action::Blocked) {
        return Some(format!("{} {} is blocked", i.kind, i.name));
    }
    p.items
        .iter()
        .chain(p.prune.iter())
        .find_map(|i| match &i.outcome {
            Some(crate::core::reconcile::Outcome::Failed { reason }) => {
                Some(format!("{} {}: {reason}", i.kind, i.name))
            }
            _ => None,
        })
}

/// The adapters' answers so far, as metric labels.
fn api_totals(r: &Reconciler) -> Vec<(ApiLabels, u64)> {
    let mut out = Vec::new();
    if let Some(k) = r.kube() {
        for ((op, class), n) in k.requests().outcomes() {
            out.push((
                ApiLabels {
                    system: "kubernetes".into(),
                    operation: op,
                    status: class,
                },
                n,
            ));
        }
    }
    if let Some(a) = r.aws() {
        for ((service, op, class), n) in a.call_outcomes() {
            out.push((
                ApiLabels {
                    system: "aws".into(),
                    operation: format!("{service}:{op}"),
                    status: class,
                },
                n,
            ));
        }
    }
    out
}

/// Step progress as log lines.
fn progress_sink() -> crate::exec::ProgressSink {
    Arc::new(|p: &crate::exec::Progress| {
        tracing::info!(progress = ?p, "step");
    })
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
