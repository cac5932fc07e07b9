//! The Kubernetes adapter: the only module that names `kube` types. It connects (kubeconfig file,
//! context, or in-cluster config), resolves kinds to resources through a cached discovery that is
//! refreshed on a miss (a CRD created mid-run is found), applies objects server-side with field
//! manager `eksync` (optionally as a dry run), reads objects, lists the managed set with one LIST
//! per kind and the ownership label, deletes with a propagation policy, updates read-modify-write
//! (a 409 starts again from a fresh read), and keeps the inventory in a ConfigMap in the cluster. Every request carries `User-Agent: eksync/<version>`, is
//! retried with exponential backoff and jitter on 429 (honouring `Retry-After`), 5xx, timeouts and
//! connection errors, and runs under a concurrency bound; every attempt is counted.
//!
//! It deliberately does not compute diffs, decide what to apply or prune, wait for readiness, or
//! order anything: that is `core::kdiff` and the executor. It sends bodies as JSON exactly as it
//! is given them (no typed round trip).

mod apply;
mod changes;
mod client;
mod discovery;
mod inventory;
mod retry;
mod wait;

use std::path::PathBuf;

pub use apply::{ApplyOptions, Propagation};
pub use changes::Changed;
pub use client::{KubeAdapter, RequestCounter};
pub use discovery::ResolvedKind;
pub use inventory::{inventory_name, INVENTORY_PREFIX};
pub use retry::RetrySettings;

/// The User-Agent eksync sends on every Kubernetes request.
pub const USER_AGENT: &str = concat!("eksync/", env!("CARGO_PKG_VERSION"));

/// How to reach a cluster and how to behave on the wire.
#[derive(Debug, Clone)]
pub struct KubeSettings {
    /// A kubeconfig file; `None` uses `KUBECONFIG`/`~/.kube/config`, or the in-cluster service
    /// account when running in a pod without one.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig; `None` is its current context.
    pub context: Option<String>,
    /// Requests in flight at once.
    pub max_concurrency: usize,
    pub retry: RetrySettings,
    pub user_agent: String,
    /// The namespace of the inventory ConfigMap (created if missing).
    pub inventory_namespace: String,
    /// The source this adapter works for: it lists only objects labelled with it and keeps its
    /// own inventory (`eksync-inventory-<source>`).
    pub source: String,
    /// Items per LIST page (`limit`); pages are followed with `continue`.
    pub list_page_size: usize,
}

impl Default for KubeSettings {
    fn default() -> Self {
        KubeSettings {
            kubeconfig: None,
            context: None,
            max_concurrency: 8,
            retry: RetrySettings::default(),
            user_agent: USER_AGENT.to_string(),
            inventory_namespace: "eksync-system".to_string(),
            source: "default".to_string(),
            list_page_size: 500,
        }
    }
}

/// An underlying error kept as the source of a [`KubeError`] (no `kube` type leaves the adapter).
type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the Kubernetes adapter, shaped for the executor to act on. API answers are
/// classified from the `Status` object's `reason`, `code` and `details` (see `client::to_error`);
/// errors that have an underlying error keep it as their `source`.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// The kubeconfig or in-cluster configuration could not be loaded.
    #[error("kubernetes configuration: {message}")]
    Config {
        /// What was being loaded (the kubeconfig path, the context).
        message: String,
        #[source]
        source: Source,
    },
    /// The object does not exist (404 `NotFound` whose details name the resource).
    #[error("not found: {0}")]
    NotFound(String),
    /// 404 because the object's namespace does not exist (yet): an object whose namespace is
    /// created earlier in the same plan cannot be dry-run before that wave.
    #[error("namespace {namespace} does not exist: {message}")]
    NamespaceNotFound { namespace: String, message: String },
    /// 409 `Conflict`: a field-manager conflict on apply (`details.causes[].reason`
    /// `FieldManagerConflict`) or a stale resourceVersion.
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// 409 `AlreadyExists`: a create found the object already there.
    #[error("already exists: {message}")]
    AlreadyExists { message: String },
    /// 422: the object is invalid; `causes` are `(field, message)` pairs (immutable-field changes
    /// arrive here, see `core::kdiff::immutable_fields`). Also server-side apply's 500 for a body
    /// that does not fit the type schema (no causes).
    #[error("invalid: {message}")]
    Invalid {
        message: String,
        causes: Vec<(String, String)>,
    },
    /// 403.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The kind is not served: a 404 whose `Status` names no resource ("the server could not
    /// find the requested resource"), the plain-text 404 of an unknown group, or a kind absent
    /// from discovery. Typically a custom resource whose CRD does not exist yet.
    #[error("resource unknown: {0}")]
    ResourceUnknown(String),
    /// No answer: connection refused or reset, timeout (after the retries).
    #[error("transport: {message}")]
    Transport {
        /// The request (`PATCH /api/v1/...`) and what went wrong with it.
        message: String,
        #[source]
        source: Source,
    },
    /// Any other API answer (after the retries for 429 and 5xx). `reason` is the `Status`
    /// reason (`InternalError`, `TooManyRequests`, `Expired`, ...) when the server gave one.
    #[error("API error {code}{}: {message}", reason_label(.reason))]
    Api {
        code: u16,
        reason: Option<String>,
        message: String,
    },
    /// The object given to the adapter lacks apiVersion, kind or name.
    #[error("bad object: {0}")]
    BadObject(String),
    /// A request could not be built (a name that cannot be part of a URL) or its body could
    /// not be encoded.
    #[error("cannot build the request: {message}")]
    Request {
        message: String,
        #[source]
        source: Source,
    },
    /// The inventory ConfigMap holds something that is not an inventory.
    #[error("inventory {namespace}/{name} is unreadable: {message}")]
    InventoryCorrupt {
        namespace: String,
        name: String,
        message: String,
        #[source]
        source: Option<serde_json::Error>,
    },
}

/// ` InternalError` for an [`KubeError::Api`] with a reason, nothing without one.
fn reason_label(reason: &Option<String>) -> String {
    reason
        .as_deref()
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

impl KubeError {
    /// The HTTP status of the error's class, if it came from an answer: 422 for every
    /// [`KubeError::Invalid`], including server-side apply's type-check 500.
    pub fn code(&self) -> Option<u16> {
        match self {
            KubeError::NotFound(_)
            | KubeError::ResourceUnknown(_)
            | KubeError::NamespaceNotFound { .. } => Some(404),
            KubeError::Conflict { .. } | KubeError::AlreadyExists { .. } => Some(409),
            KubeError::Invalid { .. } => Some(422),
            KubeError::Forbidden(_) => Some(403),
            KubeError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}
