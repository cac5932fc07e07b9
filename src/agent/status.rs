//! The agent's `Sync` object (`syncs.eksync.io`, namespaced): created if missing with the
//! source it follows, read for `spec.suspend`, its `status` written through the status
//! subresource, and Kubernetes Events on it for what a run changed or why it failed. The CRD
//! itself ships in `deploy/` (and [`CRD_YAML`]); this module never installs it.

use serde_json::{json, Value};

use crate::adapters::kube::{ApplyOptions, KubeAdapter, KubeError};
use crate::core::agent::SyncStatus;

pub const GROUP: &str = "eksync.io";
pub const VERSION: &str = "v1alpha1";
pub const API_VERSION: &str = "eksync.io/v1alpha1";
pub const KIND: &str = "Sync";

/// The CustomResourceDefinition of `Sync`, as `deploy/base/crd.yaml` holds it.
pub const CRD_YAML: &str = include_str!("../../deploy/base/crd.yaml");

/// The `Sync` object this agent reports on.
#[derive(Debug, Clone)]
pub struct SyncRef {
    pub namespace: String,
    pub name: String,
}

/// What the agent follows, written into `spec.source` when it creates its object.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    pub url: String,
    pub reference: Option<String>,
    pub path: Option<String>,
}

/// Creates the object if it is missing (server-side apply of `spec.source` only: a user's
/// `spec.suspend` is never touched) and returns whether it is suspended.
pub async fn ensure(kube: &KubeAdapter, s: &SyncRef, src: &SourceSpec) -> Result<bool, KubeError> {
    if let Some(live) = kube
        .get(API_VERSION, KIND, Some(&s.namespace), &s.name)
        .await?
    {
        return Ok(suspended(&live));
    }
    let mut source = json!({"url": src.url});
    if let Some(r) = &src.reference {
        source["ref"] = json!(r);
    }
    if let Some(p) = &src.path {
        source["path"] = json!(p);
    }
    let body = json!({
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": s.name, "namespace": s.namespace},
        "spec": {"source": source},
    });
    let opts = ApplyOptions {
        dry_run: false,
        force: false,
    };
    let live = kube.apply(&body, opts).await?;
    Ok(suspended(&live))
}

fn suspended(obj: &Value) -> bool {
    obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true)
}

/// Whether `spec.suspend` is set now.
pub async fn is_suspended(kube: &KubeAdapter, s: &SyncRef) -> Result<bool, KubeError> {
    Ok(kube
        .get(API_VERSION, KIND, Some(&s.namespace), &s.name)
        .await?
        .is_some_and(|o| suspended(&o)))
}

/// The status as it stands on the object (`None`: no object, or no status yet).
pub async fn read(kube: &KubeAdapter, s: &SyncRef) -> Result<Option<SyncStatus>, KubeError> {
    let Some(obj) = kube
        .get(API_VERSION, KIND, Some(&s.namespace), &s.name)
        .await?
    else {
        return Ok(None);
    };
    Ok(obj
        .get("status")
        .and_then(|st| serde_json::from_value(st.clone()).ok()))
}

/// Writes the whole status (server-side apply of the status subresource).
pub async fn write(kube: &KubeAdapter, s: &SyncRef, status: &SyncStatus) -> Result<(), KubeError> {
    let status = serde_json::to_value(status).map_err(|e| KubeError::Request {
        message: "encoding the Sync status".into(),
        source: Box::new(e),
    })?;
    let body = json!({
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": s.name, "namespace": s.namespace},
        "status": status,
    });
    kube.apply_status(&body).await.map(|_| ())
}

/// `Normal` or `Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

/// Records an Event on the `Sync` object (core/v1, as `kubectl describe` and `kubectl get
/// events` show them). A failure to record is logged, never fatal.
pub async fn event(kube: &KubeAdapter, s: &SyncRef, kind: EventType, reason: &str, message: &str) {
    let now = jiff::Timestamp::now();
    let secs = now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    // Event messages are limited to 1 KiB by the API server; cut on a character boundary.
    let message: String = message.chars().take(1000).collect();
    let body = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": format!("{}.", s.name), "namespace": s.namespace},
        "involvedObject": {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": s.name,
            "namespace": s.namespace,
        },
        "reason": reason,
        "message": message,
        "type": match kind { EventType::Normal => "Normal", EventType::Warning => "Warning" },
        "source": {"component": "eksync"},
        "firstTimestamp": secs,
        "lastTimestamp": secs,
        "count": 1,
    });
    if let Err(e) = kube.create(&body).await {
        tracing::warn!(reason, error = %crate::errors::error_chain(&e), "recording an Event failed");
    }
}

/// The status for a terminal (`eksync status`).
pub fn text(name: &str, s: &SyncStatus) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let rev = |r: &Option<crate::core::agent::StatusRevision>| {
        r.as_ref()
            .map(|r| {
                format!(
                    "{} ({}) {}",
                    r.commit.get(..12).unwrap_or(&r.commit),
                    r.reference,
                    r.subject
                )
            })
            .unwrap_or_else(|| "none".to_string())
    };
    let _ = writeln!(out, "Sync {name}");
    for c in &s.conditions {
        let _ = writeln!(
            out,
            "  {:<12} {:<5} {}: {}",
            c.type_, c.status, c.reason, c.message
        );
    }
    let _ = writeln!(out, "  applied      {}", rev(&s.last_applied_revision));
    let _ = writeln!(out, "  attempted    {}", rev(&s.last_attempted_revision));
    let _ = writeln!(
        out,
        "  resources    {} ({} drifted, {} failed)",
        s.resources, s.drifted, s.failed
    );
    if let Some(e) = &s.last_error {
        let _ = writeln!(out, "  last error   {e}");
    }
    for d in &s.diagnostics {
        let _ = writeln!(out, "    {d}");
    }
    for h in &s.held {
        let _ = writeln!(out, "  held         {h}");
    }
    if let Some(t) = &s.last_run_time {
        let _ = writeln!(out, "  last run     {t}");
    }
    out
}
