//! Leader election with a `coordination.k8s.io/v1` Lease, as client-go does it: the leader renews
//! `spec.renewTime` every retry period; a candidate takes over only once the Lease has not
//! changed for a whole lease duration by its own clock (so clock skew between replicas does not
//! matter), and every write carries the resourceVersion it read, so two candidates cannot both
//! win (the loser gets 409). A leader that cannot renew within the renew deadline steps down
//! before anyone may take over: never two writers. It decides leadership only; what a leader
//! does is the agent loop's.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::adapters::kube::{ApplyOptions, KubeAdapter, KubeError};

/// Where the Lease is and who this replica is.
#[derive(Debug, Clone)]
pub struct LeaseConfig {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    /// How long a Lease stays valid without renewal.
    pub duration: Duration,
}

impl LeaseConfig {
    /// How often the leader renews and a candidate retries.
    pub fn retry_period(&self) -> Duration {
        (self.duration / 5).max(Duration::from_millis(100))
    }

    /// A leader that could not renew for this long steps down: well before `duration`, so it
    /// stops before a standby may take over.
    pub fn renew_deadline(&self) -> Duration {
        self.duration * 2 / 3
    }
}

/// What this replica saw of the Lease last, by its own clock.
struct Observed {
    resource_version: String,
    since: Instant,
}

pub struct Elector {
    kube: KubeAdapter,
    cfg: LeaseConfig,
    observed: Option<Observed>,
}

fn micro_time(now: jiff::Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl Elector {
    pub fn new(kube: KubeAdapter, cfg: LeaseConfig) -> Self {
        Elector {
            kube,
            cfg,
            observed: None,
        }
    }

    fn lease(&self, spec: Value, resource_version: Option<&str>) -> Value {
        let mut metadata = json!({"name": self.cfg.name, "namespace": self.cfg.namespace});
        if let Some(rv) = resource_version {
            metadata["resourceVersion"] = json!(rv);
        }
        json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": metadata,
            "spec": spec,
        })
    }

    /// One round: acquires or renews. `Ok(true)` while this replica holds the Lease.
    pub async fn try_acquire_or_renew(&mut self) -> Result<bool, KubeError> {
        let now = micro_time(jiff::Timestamp::now());
        let secs = self.cfg.duration.as_secs().max(1);
        let live = self
            .kube
            .get(
                "coordination.k8s.io/v1",
                "Lease",
                Some(&self.cfg.namespace),
                &self.cfg.name,
            )
            .await?;
        let Some(live) = live else {
            let body = self.lease(
                json!({
                    "holderIdentity": self.cfg.identity,
                    "leaseDurationSeconds": secs,
                    "acquireTime": now,
                    "renewTime": now,
                    "leaseTransitions": 0,
                }),
                None,
            );
            return match self.kube.create(&body).await {
                Ok(_) => Ok(true),
                Err(KubeError::AlreadyExists { .. }) | Err(KubeError::Conflict { .. }) => Ok(false),
                Err(e) => Err(e),
            };
        };
        let rv = live
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let holder = live
            .pointer("/spec/holderIdentity")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let transitions = live
            .pointer("/spec/leaseTransitions")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let live_secs = live
            .pointer("/spec/leaseDurationSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(secs);
        // Unchanged for a whole duration by this replica's clock: expired.
        let since = match &self.observed {
            Some(o) if o.resource_version == rv => o.since,
            _ => {
                let t = Instant::now();
                self.observed = Some(Observed {
                    resource_version: rv.clone(),
                    since: t,
                });
                t
            }
        };
        let expired = since.elapsed() >= Duration::from_secs(live_secs);
        let mine = holder == self.cfg.identity;
        if !(mine || holder.is_empty() || expired) {
            return Ok(false);
        }
        let acquire = if mine {
            live.pointer("/spec/acquireTime")
                .cloned()
                .unwrap_or(json!(now))
        } else {
            json!(now)
        };
        let body = self.lease(
            json!({
                "holderIdentity": self.cfg.identity,
                "leaseDurationSeconds": secs,
                "acquireTime": acquire,
                "renewTime": now,
                "leaseTransitions": if mine { transitions } else { transitions + 1 },
            }),
            Some(&rv),
        );
        let opts = ApplyOptions {
            dry_run: false,
            force: true,
        };
        match self.kube.apply(&body, opts).await {
            Ok(_) => Ok(true),
            // Someone wrote in between: they won this round.
            Err(KubeError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the Lease up (on shutdown) so that a standby takes over at once.
    pub async fn release(&mut self) {
        let Ok(Some(live)) = self
            .kube
            .get(
                "coordination.k8s.io/v1",
                "Lease",
                Some(&self.cfg.namespace),
                &self.cfg.name,
            )
            .await
        else {
            return;
        };
        if live.pointer("/spec/holderIdentity").and_then(Value::as_str)
            != Some(self.cfg.identity.as_str())
        {
            return;
        }
        let rv = live
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut spec = live.get("spec").cloned().unwrap_or_else(|| json!({}));
        spec["holderIdentity"] = json!("");
        spec["renewTime"] = json!(micro_time(jiff::Timestamp::now()));
        let body = self.lease(spec, Some(&rv));
        let opts = ApplyOptions {
            dry_run: false,
            force: true,
        };
        if let Err(e) = self.kube.apply(&body, opts).await {
            tracing::warn!(error = %crate::errors::error_chain(&e), "releasing the leader Lease failed; a standby takes over once it expires");
        }
    }

    /// Runs the election until `cancel`: publishes `true` while this replica leads. A leader
    /// that cannot renew within the renew deadline publishes `false` first.
    pub async fn run(mut self, leading: watch::Sender<bool>, cancel: CancellationToken) {
        let mut last_renewed: Option<Instant> = None;
        loop {
            let held = match self.try_acquire_or_renew().await {
                Ok(h) => h,
                Err(e) => {
                    tracing::warn!(error = %crate::errors::error_chain(&e), "leader election round failed");
                    // Still the leader until the deadline passes without a renewal.
                    last_renewed.is_some_and(|t| t.elapsed() < self.cfg.renew_deadline())
                }
            };
            if held {
                if last_renewed.is_none() {
                    tracing::info!(identity = %self.cfg.identity, lease = %self.cfg.name, "became the leader");
                }
                last_renewed = Some(Instant::now());
            } else if last_renewed.take().is_some() {
                tracing::warn!(identity = %self.cfg.identity, "lost the leader Lease; stopping between steps");
            }
            leading.send_if_modified(|v| {
                let changed = *v != held;
                *v = held;
                changed
            });
            tokio::select! {
                _ = tokio::time::sleep(self.cfg.retry_period()) => {}
                _ = cancel.cancelled() => break,
            }
        }
        if last_renewed.is_some() {
            self.release().await;
        }
        leading.send_replace(false);
    }
}
