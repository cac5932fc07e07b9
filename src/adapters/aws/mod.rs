//! The AWS adapter: the only module where AWS SDK types appear. It reads live state into the core's
//! [`LiveAws`](crate::core::awsdiff::LiveAws), previews stack changes through change sets, and performs
//! [`AwsStep`](crate::core::awsdiff::AwsStep)s: stack create/update through change sets (waiting with
//! backoff, reporting the failing resource of a rollback), direct drift corrections
//! (PutRolePolicy, Auto Scaling group min/max and tags), and EKS API objects (Fargate profiles:
//! create and wait until ACTIVE, delete and wait until gone; `eks`).
//!
//! Every call carries `User-Agent: eksync/<version> ...`, is retried by the SDK's standard strategy
//! (exponential backoff with jitter on throttling and 5xx), and is counted by service and operation
//! ([`AwsAdapter::calls`]). Work across stacks runs with bounded concurrency. Deployed templates and
//! stack resources are cached by stack id and last-changed time, so a no-op reconcile lists the stacks
//! and fetches nothing else from CloudFormation.
//!
//! It deliberately does not decide anything: what to change comes from `core::awsdiff::plan`. It never
//! deletes a stack that has resources (only the empty REVIEW_IN_PROGRESS stack its own preview of a
//! create made), and never touches an Auto Scaling group's desired capacity.

mod apply;
mod changeset;
mod client;
mod eks;
mod read;

pub use apply::StepOutcome;
pub use client::{CallCounter, CredentialsSource, RetrySettings, USER_AGENT_PRODUCT};
pub use read::{CachedStack, StackCache};

use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::BTreeMap;
use std::time::Duration;

/// How to wait for stacks and change sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitSettings {
    /// First delay between polls; it doubles (with jitter) up to `max_delay`.
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// Give up after this long.
    pub timeout: Duration,
}

impl Default for WaitSettings {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(30),
            timeout: Duration::from_secs(3600),
        }
    }
}

/// Everything the adapter needs to connect and behave.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// `None`: the standard region chain.
    pub region: Option<String>,
    /// Endpoint override for every service (tests, AWS-compatible endpoints).
    pub endpoint_url: Option<String>,
    pub credentials: CredentialsSource,
    pub retry: RetrySettings,
    pub wait: WaitSettings,
    /// Maximum stacks (or steps) worked on at once.
    pub max_concurrency: usize,
    /// With at least this many desired stacks, read them with one paginated DescribeStacks instead
    /// of one call per stack.
    pub list_all_threshold: usize,
    /// HTTP client override (replayed-HTTP tests).
    pub http_client: Option<SharedHttpClient>,
    /// A file that keeps deployed templates and resources between runs (by stack id and
    /// last-changed time), so a fresh run does not read unchanged templates again. `None`:
    /// nothing is kept.
    pub cache_file: Option<std::path::PathBuf>,
    /// The CloudFormation service role stacks are changed with (`RoleARN` of each change set):
    /// CloudFormation then creates the stacks' resources with that role's rights, not the
    /// caller's. `None`: with the caller's credentials.
    pub cfn_role_arn: Option<String>,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            region: None,
            endpoint_url: None,
            credentials: CredentialsSource::DefaultChain,
            retry: RetrySettings::default(),
            wait: WaitSettings::default(),
            max_concurrency: 4,
            list_all_threshold: 3,
            http_client: None,
            cache_file: None,
            cfn_role_arn: None,
        }
    }
}

/// Errors of the AWS adapter, with the call or stack they came from.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("AWS {service} {operation} failed{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Call {
        service: &'static str,
        operation: &'static str,
        code: Option<String>,
        message: String,
    },
    #[error("stack {stack} ended in {status}{}", failure.as_ref().map(|f| format!(": {f}")).unwrap_or_default())]
    StackFailed {
        stack: String,
        status: String,
        /// The first failing resource and its reason, from the stack events.
        failure: Option<Box<ResourceFailure>>,
    },
    #[error("change set {change_set} of stack {stack} failed: {reason}")]
    ChangeSetFailed {
        stack: String,
        change_set: String,
        reason: String,
    },
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout { what: String, waited: Duration },
    #[error("deployed template of stack {stack} cannot be read: {reason}")]
    Template { stack: String, reason: String },
    #[error("cannot resolve {what}: {reason}")]
    Resolve { what: String, reason: String },
    #[error("AWS template cache {path}")]
    CacheFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("AWS configuration: {0}")]
    Config(String),
}

/// A failing resource as the stack events report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFailure {
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: String,
}

impl std::fmt::Display for ResourceFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}) {}: {}",
            self.logical_id, self.resource_type, self.status, self.reason
        )
    }
}

/// Turns an SDK error into an [`AwsError::Call`].
pub(crate) fn call_error<E, R>(
    service: &'static str,
    operation: &'static str,
    err: aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().map(str::to_string);
    let message = err
        .message()
        .map(str::to_string)
        .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
    AwsError::Call {
        service,
        operation,
        code,
        message,
    }
}

/// The adapter: clients, the call counter, the template cache and the settings.
#[derive(Debug, Clone)]
pub struct AwsAdapter {
    clients: client::Clients,
    settings: AwsSettings,
    cache: StackCache,
}

impl AwsAdapter {
    /// Builds the clients (resolving region and credentials providers). No AWS call is made until
    /// something is read or applied. Fails when no region can be found.
    pub async fn connect(settings: AwsSettings) -> Result<Self, AwsError> {
        let clients = client::build_clients(&client::ClientSettings {
            region: settings.region.clone(),
            endpoint_url: settings.endpoint_url.clone(),
            credentials: settings.credentials.clone(),
            retry: settings.retry,
            http_client: settings.http_client.clone(),
        })
        .await
        .map_err(AwsError::Config)?;
        let cache = StackCache::default();
        if let Some(path) = &settings.cache_file {
            // A missing or unreadable cache is only a slower run: start empty.
            match std::fs::read(path).map(|b| serde_json::from_slice(&b)) {
                Ok(Ok(entries)) => cache.import(entries),
                Ok(Err(e)) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable AWS template cache")
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable AWS template cache")
                }
            }
        }
        Ok(Self {
            clients,
            settings,
            cache,
        })
    }

    /// Writes the templates of the stacks this run read to the cache file (atomically, readable
    /// by the user only). Nothing without a cache file.
    pub fn save_cache(&self) -> Result<(), AwsError> {
        let Some(path) = &self.settings.cache_file else {
            return Ok(());
        };
        let fail = |e: std::io::Error| AwsError::CacheFile {
            path: path.clone(),
            source: e,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let text = serde_json::to_vec(&self.cache.export_used())
            .map_err(|e| fail(std::io::Error::other(e)))?;
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(fail)?;
        std::io::Write::write_all(&mut file, &text).map_err(fail)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(fail)
    }

    /// Every HTTP attempt made so far, by `(service, operation)`.
    pub fn calls(&self) -> BTreeMap<(String, String), u64> {
        self.clients.counter.snapshot()
    }

    /// Every answer so far, by `(service, operation, status class)` (`2xx`, `4xx`, `5xx`,
    /// `error`).
    pub fn call_outcomes(&self) -> BTreeMap<(String, String, String), u64> {
        self.clients.counter.outcomes()
    }

    /// Forgets the call counts.
    pub fn reset_calls(&self) {
        self.clients.counter.reset()
    }

    /// The template and resource cache (export it to persist it between runs).
    pub fn cache(&self) -> &StackCache {
        &self.cache
    }

    fn concurrency(&self) -> usize {
        self.settings.max_concurrency.max(1)
    }
}
