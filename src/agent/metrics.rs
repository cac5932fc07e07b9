//! The agent's Prometheus metrics (prometheus-client): reconcile durations and results, the
//! applied revision, resources and drifted objects, API calls by system, operation and status,
//! fetches, webhook deliveries and leadership. Counting only: what a number means is decided
//! where it is recorded.

use std::collections::BTreeMap;
use std::sync::Mutex;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RevisionLabels {
    pub revision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiLabels {
    pub system: String,
    pub operation: String,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    pub sender: String,
    pub verdict: String,
}

fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.05, 2.0, 14))
}

pub struct Metrics {
    registry: Registry,
    pub reconcile_seconds: Family<ResultLabels, Histogram, fn() -> Histogram>,
    pub reconciles: Family<ResultLabels, Counter>,
    pub applied_revision: Family<RevisionLabels, Gauge>,
    pub resources: Gauge,
    pub drifted: Gauge,
    pub api_calls: Family<ApiLabels, Counter>,
    pub fetches: Family<ResultLabels, Counter>,
    pub webhooks: Family<WebhookLabels, Counter>,
    pub leader: Gauge,
    /// The adapters' counts already added to `api_calls`, to add only what is new.
    seen: Mutex<BTreeMap<ApiLabels, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("eksync");
        let m = Metrics {
            registry: Registry::default(),
            reconcile_seconds: Family::new_with_constructor(duration_histogram),
            reconciles: Family::default(),
            applied_revision: Family::default(),
            resources: Gauge::default(),
            drifted: Gauge::default(),
            api_calls: Family::default(),
            fetches: Family::default(),
            webhooks: Family::default(),
            leader: Gauge::default(),
            seen: Mutex::new(BTreeMap::new()),
        };
        registry.register(
            "reconcile_duration_seconds",
            "Duration of reconciles, by result",
            m.reconcile_seconds.clone(),
        );
        registry.register("reconciles", "Reconciles, by result", m.reconciles.clone());
        registry.register(
            "last_applied_revision",
            "The revision last applied in full (value 1)",
            m.applied_revision.clone(),
        );
        registry.register(
            "resources",
            "Resources the applied revision declares",
            m.resources.clone(),
        );
        registry.register(
            "drifted_objects",
            "Resources whose live state differed from Git in the last reconcile",
            m.drifted.clone(),
        );
        registry.register(
            "api_calls",
            "AWS and Kubernetes API calls, by system, operation and status class",
            m.api_calls.clone(),
        );
        registry.register(
            "fetches",
            "Fetches of the source, by result",
            m.fetches.clone(),
        );
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries, by sender and verdict",
            m.webhooks.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the leader Lease",
            m.leader.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Adds the adapters' new answers: `(system, operation, status class) -> total so far`.
    pub fn add_api_calls(&self, totals: impl IntoIterator<Item = (ApiLabels, u64)>) {
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (labels, total) in totals {
            let before = seen.get(&labels).copied().unwrap_or(0);
            if total > before {
                self.api_calls.get_or_create(&labels).inc_by(total - before);
            }
            seen.insert(labels, total.max(before));
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

impl PartialOrd for ApiLabels {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ApiLabels {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.system, &self.operation, &self.status).cmp(&(
            &other.system,
            &other.operation,
            &other.status,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_calls_add_only_what_is_new_and_render_in_text_format() {
        let m = Metrics::new();
        let l = ApiLabels {
            system: "kubernetes".into(),
            operation: "PATCH deployments".into(),
            status: "2xx".into(),
        };
        m.add_api_calls([(l.clone(), 3)]);
        m.add_api_calls([(l.clone(), 5)]);
        assert_eq!(m.api_calls.get_or_create(&l).get(), 5);
        m.leader.set(1);
        m.reconciles
            .get_or_create(&ResultLabels {
                result: "applied".into(),
            })
            .inc();
        let text = m.render();
        assert!(text.contains("eksync_leader 1"), "{text}");
        assert!(
            text.contains(r#"eksync_api_calls_total{system="kubernetes",operation="PATCH deployments",status="2xx"} 5"#),
            "{text}"
        );
        assert!(
            text.contains(r#"eksync_reconciles_total{result="applied"} 1"#),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
