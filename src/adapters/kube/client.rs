//! The connection: builds a `kube::Client` from a kubeconfig, a context or the in-cluster service
//! account (with eksync's User-Agent and kube's own retry layer off, so that retries happen once,
//! here), and sends raw JSON requests through it with a concurrency bound, a per-attempt timeout,
//! retries with backoff, and a counter of attempts. A non-2xx answer is classified into a
//! [`KubeError`] variant from the `metav1.Status` it carries (`reason`, `code`, `details`), never
//! from its human-readable `message` (see [`to_error`] for the table and its one exception).
//!
//! It does not know what the requests mean; `discovery`, `apply` and `inventory` build them.

use crate::errors::error_chain;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use http::{header, HeaderValue, Method, Request};
use kube::client::Body;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::response::{reason, StatusDetails};
use kube::core::Status;
use rand::Rng as _;
use regex::Regex;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::discovery::DiscoveryCache;
use super::retry::{delay, retryable_status, server_retry_after};
use super::{KubeError, KubeSettings};

/// Counts request attempts by `"VERB resource"` (e.g. `"PATCH deployments"`), retries included.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    /// Answers by `("VERB resource", status class)`: `2xx`, `4xx`, `5xx`, or `error` when no
    /// answer came (transport failure, timeout).
    outcomes: Arc<Mutex<BTreeMap<(String, String), u64>>>,
}

impl RequestCounter {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        // A poisoned lock only means a panic elsewhere while counting; the map is still valid.
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A snapshot of the counts.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.lock().clone()
    }

    /// All attempts.
    pub fn total(&self) -> u64 {
        self.lock().values().sum()
    }

    /// Forgets all counts.
    pub fn reset(&self) {
        self.lock().clear();
    }

    fn record(&self, key: String) {
        *self.lock().entry(key).or_default() += 1;
    }

    fn record_outcome(&self, key: String, status: Option<u16>) {
        let class = match status {
            Some(s) => format!("{}xx", s / 100),
            None => "error".to_string(),
        };
        let mut g = self
            .outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *g.entry((key, class)).or_default() += 1;
    }

    /// A snapshot of the answers by `("VERB resource", status class)`.
    pub fn outcomes(&self) -> BTreeMap<(String, String), u64> {
        self.outcomes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// The content type of a server-side apply body.
pub(crate) const APPLY_PATCH: &str = "application/apply-patch+yaml";

/// One request to send.
pub(crate) struct ApiCall {
    pub method: Method,
    /// Path from the server root, e.g. `/apis/apps/v1/namespaces/ci/deployments/web`.
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<(Vec<u8>, &'static str)>,
    /// The resource name for the counter (`deployments`, `discovery`).
    pub resource: String,
    /// The request carries a Secret: values quoted in error messages are hidden.
    pub secret: bool,
}

impl ApiCall {
    /// True for a server-side apply (a PATCH with an apply body), dry run or not.
    fn is_apply(&self) -> bool {
        self.method == Method::PATCH && self.body.as_ref().is_some_and(|(_, ct)| *ct == APPLY_PATCH)
    }
}

/// A connected adapter. Cheap to clone; clones share the client, cache, bound and counter.
#[derive(Clone)]
pub struct KubeAdapter {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub client: kube::Client,
    pub settings: KubeSettings,
    pub permits: Semaphore,
    pub counter: RequestCounter,
    pub discovery: DiscoveryCache,
}

impl std::fmt::Debug for KubeAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeAdapter")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl KubeAdapter {
    /// Connects with a kubeconfig file, its context, or the in-cluster service account.
    /// Nothing is sent until the first call.
    pub async fn connect(settings: KubeSettings) -> Result<Self, KubeError> {
        let options = KubeConfigOptions {
            context: settings.context.clone(),
            ..KubeConfigOptions::default()
        };
        let context = settings
            .context
            .as_deref()
            .map(|c| format!(" (context {c:?})"))
            .unwrap_or_default();
        let config = match &settings.kubeconfig {
            Some(path) => {
                let kc = Kubeconfig::read_from(path)
                    .map_err(|e| config_error(format!("reading {}", path.display()), e))?;
                kube::Config::from_custom_kubeconfig(kc, &options)
                    .await
                    .map_err(|e| config_error(format!("{}{context}", path.display()), e))?
            }
            None if settings.context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| config_error(format!("the kubeconfig{context}"), e))?,
            // Local kubeconfig first, then the in-cluster service account.
            None => kube::Config::infer().await.map_err(|e| {
                config_error(
                    "neither a kubeconfig nor the in-cluster service account".to_string(),
                    e,
                )
            })?,
        };
        Self::with_config(config, settings)
    }

    /// Uses an existing `kube::Config` (its User-Agent and retry layer are set from `settings`).
    pub fn with_config(
        mut config: kube::Config,
        settings: KubeSettings,
    ) -> Result<Self, KubeError> {
        let ua = HeaderValue::from_str(&settings.user_agent)
            .map_err(|e| config_error(format!("user agent {:?}", settings.user_agent), e))?;
        config.headers.retain(|(k, _)| k != header::USER_AGENT);
        config.headers.push((header::USER_AGENT, ua));
        config.default_retry = false;
        let client = kube::Client::try_from(config)
            .map_err(|e| config_error("building the client".to_string(), e))?;
        Ok(KubeAdapter {
            inner: Arc::new(Inner {
                client,
                permits: Semaphore::new(settings.max_concurrency.max(1)),
                settings,
                counter: RequestCounter::default(),
                discovery: DiscoveryCache::default(),
            }),
        })
    }

    /// The counter of request attempts.
    pub fn requests(&self) -> &RequestCounter {
        &self.inner.counter
    }

    /// The namespace of the kubeconfig context (used for namespaced objects without one).
    pub fn default_namespace(&self) -> &str {
        self.inner.client.default_namespace()
    }

    pub(crate) fn settings(&self) -> &KubeSettings {
        &self.inner.settings
    }

    /// Sends a request with retries; returns the JSON body of a 2xx answer (`Null` when empty).
    pub(crate) async fn call(&self, call: &ApiCall) -> Result<Value, KubeError> {
        let retry = self.inner.settings.retry;
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let outcome = self.attempt(call).await;
            let (err, server_wait) = match outcome {
                Attempt::Done(v) => return Ok(v),
                Attempt::Fatal(e) => return Err(e),
                Attempt::Retry(e, wait) => (e, wait),
            };
            if attempt >= retry.max_attempts.max(1) {
                return Err(err);
            }
            let unit: f64 = rand::rng().random();
            let wait = delay(&retry, attempt - 1, server_wait, unit);
            tracing::debug!(
                method = %call.method,
                path = %call.path,
                attempt,
                wait_ms = wait.as_millis() as u64,
                error = %error_chain(&err),
                "retrying Kubernetes request"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, call: &ApiCall) -> Attempt {
        let _permit = match self.inner.permits.acquire().await {
            Ok(p) => p,
            Err(e) => {
                return Attempt::Fatal(KubeError::Transport {
                    message: format!("{} {}: the adapter is shut down", call.method, call.path),
                    source: Box::new(e),
                })
            }
        };
        self.inner
            .counter
            .record(format!("{} {}", call.method, call.resource));
        let request = match build(call) {
            Ok(r) => r,
            Err(e) => return Attempt::Fatal(e),
        };
        let timeout = self.inner.settings.retry.request_timeout;
        let sent = tokio::time::timeout(timeout, async {
            let res = self.inner.client.send(request).await?;
            let status = res.status().as_u16();
            let retry_after = res
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let bytes = res.into_body().collect_bytes().await?;
            Ok::<_, kube::Error>((status, retry_after, bytes))
        })
        .await;
        let key = format!("{} {}", call.method, call.resource);
        let answered = match &sent {
            Ok(Ok((status, _, _))) => Some(*status),
            _ => None,
        };
        self.inner.counter.record_outcome(key, answered);
        let (status, retry_after, bytes) = match sent {
            Err(elapsed) => {
                return Attempt::Retry(
                    KubeError::Transport {
                        message: format!(
                            "{} {}: no answer within {}",
                            call.method,
                            call.path,
                            fmt_duration(timeout)
                        ),
                        source: Box::new(elapsed),
                    },
                    None,
                )
            }
            Ok(Err(e)) => {
                let retry = matches!(e, kube::Error::HyperError(_) | kube::Error::Service(_));
                let err = KubeError::Transport {
                    message: format!("{} {}", call.method, call.path),
                    source: Box::new(e),
                };
                return if retry {
                    Attempt::Retry(err, None)
                } else {
                    Attempt::Fatal(err)
                };
            }
            Ok(Ok(parts)) => parts,
        };
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(_) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
            }
        };
        if (200..300).contains(&status) {
            return Attempt::Done(body);
        }
        let err = to_error(status, &body, call);
        if retryable(&err) {
            Attempt::Retry(err, server_retry_after(retry_after.as_deref(), &body))
        } else {
            Attempt::Fatal(err)
        }
    }
}

enum Attempt {
    Done(Value),
    Retry(KubeError, Option<Duration>),
    Fatal(KubeError),
}

fn build(call: &ApiCall) -> Result<Request<Body>, KubeError> {
    let mut uri = call.path.clone();
    if !call.query.is_empty() {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &call.query {
            q.append_pair(k, v);
        }
        uri.push('?');
        uri.push_str(&q.finish());
    }
    let mut b = Request::builder()
        .method(call.method.clone())
        .uri(&uri)
        .header(header::ACCEPT, "application/json");
    let body = match &call.body {
        Some((bytes, content_type)) => {
            b = b.header(header::CONTENT_TYPE, *content_type);
            Body::from(bytes.clone())
        }
        None => Body::from(Vec::new()),
    };
    b.body(body).map_err(|e| KubeError::Request {
        message: format!("{} {uri}", call.method),
        source: Box::new(e),
    })
}

fn config_error(
    message: String,
    source: impl std::error::Error + Send + Sync + 'static,
) -> KubeError {
    KubeError::Config {
        message,
        source: Box::new(source),
    }
}

/// Whether another attempt may get a different answer: only API answers whose status is
/// retried (429 and 5xx but 501). Every other class (`Invalid`, including server-side apply's
/// type-check 500, `NotFound`, `Conflict`, ...) is the same answer next time.
fn retryable(err: &KubeError) -> bool {
    matches!(err, KubeError::Api { code, .. } if retryable_status(*code))
}

/// Maps a non-2xx answer to an error, from the `metav1.Status` it carries:
///
/// | HTTP / `reason` | `details` and request | variant |
/// |---|---|---|
/// | 404 `NotFound` | no resource named (`details` empty: "the server could not find the requested resource") | `ResourceUnknown` |
/// | 404 `NotFound` | `kind: namespaces`, core group, `name` = the namespace the request is in (not a request for namespaces) | `NamespaceNotFound` |
/// | 404 `NotFound` | any other resource named (`kind`, `name`) | `NotFound` |
/// | 409 `AlreadyExists` | | `AlreadyExists` |
/// | 409 `Conflict` | stale resourceVersion, or `causes[].reason: FieldManagerConflict` | `Conflict` |
/// | 422 `Invalid` | `causes[]` -> `(field, message)` | `Invalid` |
/// | 403 `Forbidden` | (also `causes[].reason: NamespaceTerminating`) | `Forbidden` |
/// | 500, no reason | no (or empty) details, the request is a server-side apply, and [`is_typed_patch_failure`] | `Invalid` (no causes; not retried) |
/// | anything else (400 `BadRequest`, 401, 410 `Expired`/`Gone`, 415, 429 `TooManyRequests`, 500 `InternalError`, 503, 504, ...) | | `Api { code, reason }` (429 and 5xx are retried) |
///
/// As in apimachinery (`errors.ReasonForError`), a known `reason` decides, and the HTTP status
/// decides only when the reason is empty or unknown. An answer that is not a `Status` (the
/// plain-text `404 page not found` of an unknown group or custom resource, a proxy's page) is
/// classified by the HTTP status alone; its 404 is `ResourceUnknown`, since the apiserver
/// answers a path it does not route that way. The message is never matched, except by
/// [`is_typed_patch_failure`], and only inside the narrow structural class above.
fn to_error(status: u16, body: &Value, call: &ApiCall) -> KubeError {
    let hide = |m: String| if call.secret { redact_values(&m) } else { m };
    let with_request = |m: &str| hide(format!("{} {}: {m}", call.method, call.path));
    let Some(st) = as_status(body) else {
        let message = with_request(&unstructured_message(status, body));
        return match status {
            404 => KubeError::ResourceUnknown(message),
            409 => KubeError::Conflict { message },
            422 => KubeError::Invalid {
                message,
                causes: Vec::new(),
            },
            403 => KubeError::Forbidden(message),
            code => KubeError::Api {
                code,
                reason: None,
                message,
            },
        };
    };
    let message = with_request(match (st.message.as_str(), st.reason.as_str()) {
        ("", "") => "(no message)",
        ("", r) => r,
        (m, _) => m,
    });
    let known = reason::is_known(&st.reason);
    let is = |r: &str, code: u16| st.reason == r || (!known && status == code);
    let details = st.details.as_ref();
    if is(reason::NOT_FOUND, 404) {
        not_found(details, call, message)
    } else if st.reason == reason::ALREADY_EXISTS {
        KubeError::AlreadyExists { message }
    } else if is(reason::CONFLICT, 409) {
        KubeError::Conflict { message }
    } else if is(reason::INVALID, 422) {
        let causes = details
            .map(|d| {
                d.causes
                    .iter()
                    .map(|c| (c.field.clone(), hide(c.message.clone())))
                    .collect()
            })
            .unwrap_or_default();
        KubeError::Invalid { message, causes }
    } else if is(reason::FORBIDDEN, 403) {
        KubeError::Forbidden(message)
    } else if status == 500
        && st.reason.is_empty()
        && details.is_none_or(is_empty)
        && call.is_apply()
        && is_typed_patch_failure(&st.message)
    {
        // Server-side apply's type check: the body is at fault, so retrying cannot help.
        KubeError::Invalid {
            message,
            causes: Vec::new(),
        }
    } else {
        KubeError::Api {
            code: status,
            reason: (!st.reason.is_empty()).then(|| st.reason.clone()),
            message,
        }
    }
}

/// A 404 `NotFound`, told apart by what its `details` name.
fn not_found(details: Option<&StatusDetails>, call: &ApiCall, message: String) -> KubeError {
    let Some(d) = details.filter(|d| !d.kind.is_empty()) else {
        // The apiserver names the resource of every missing object (`details.kind`, and `name`
        // for one object). A NotFound that names none is its answer for a resource type the group
        // version does not serve (`NewGenericServerResponse(404, ...)`, recorded with `details: {}`).
        return KubeError::ResourceUnknown(message);
    };
    // Namespace admission refuses a create in a missing namespace with a NotFound for that
    // namespace (`kind: namespaces`, core group). A request for a namespace itself (resource
    // `namespaces`) that is missing is a plain NotFound.
    let missing_namespace = d.kind == "namespaces"
        && d.group.is_empty()
        && !d.name.is_empty()
        && call.resource != "namespaces"
        && request_namespace(&call.path) == Some(d.name.as_str());
    if missing_namespace {
        KubeError::NamespaceNotFound {
            namespace: d.name.clone(),
            message,
        }
    } else {
        KubeError::NotFound(message)
    }
}

/// Details that say nothing (`details: {}`).
fn is_empty(d: &StatusDetails) -> bool {
    d.name.is_empty()
        && d.group.is_empty()
        && d.kind.is_empty()
        && d.uid.is_empty()
        && d.causes.is_empty()
        && d.retry_after_seconds == 0
}

/// The body as a `metav1.Status`, when it is one (`kind: Status`).
fn as_status(body: &Value) -> Option<Status> {
    if body.get("kind").and_then(Value::as_str) != Some("Status") {
        return None;
    }
    serde_json::from_value(body.clone()).ok()
}

/// The text of an answer that is not a `Status`.
fn unstructured_message(status: u16, body: &Value) -> String {
    match body {
        Value::String(s) => s.trim().to_string(),
        Value::Null => format!("HTTP {status}"),
        other => other
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| other.to_string()),
    }
}

/// The namespace a request path is in (`/api/v1/namespaces/{ns}/{resource}...` or
/// `/apis/{group}/{version}/namespaces/{ns}/{resource}...`); `None` for cluster-scoped paths and
/// for a namespace itself (`/api/v1/namespaces/{ns}`).
fn request_namespace(path: &str) -> Option<&str> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let at = match segments.first() {
        Some(&"api") => 2,
        Some(&"apis") => 3,
        _ => return None,
    };
    if segments.get(at) == Some(&"namespaces") && segments.len() > at + 2 {
        segments.get(at + 1).copied()
    } else {
        None
    }
}

/// Whether a reason-less 500 to a server-side apply is the apply's type check failing: the
/// applied body does not fit the type's schema (a string where a number belongs, a field the
/// schema does not declare). This is the one place where a message is read, as the last resort:
///
/// - The apiserver gives this failure no structure. The field manager returns a plain Go error
///   (`fmt.Errorf("failed to create typed patch object (%v): %v", ...)`), and the handler's
///   `ErrorToAPIStatus` turns every error that is not an `APIStatus` into `code: 500`,
///   `reason: ""` (StatusReasonUnknown), no details. The recordings (g-crd #8/#9,
///   i-errors #12) show exactly that, for built-in types and custom resources alike, whatever
///   `fieldValidation` says.
/// - The same shape (500, no reason, no details) is also what transient failures look like when
///   they reach the handler unconverted: `etcdserver: request timed out`, `context canceled`,
///   `http2: stream closed`. Those must be retried, and a body error must not be; the request
///   being an apply, which the caller checks first, narrows the class but does not separate
///   the two. Only the field manager's fixed prefix does.
///
/// Anything with a reason (`InternalError`, `ServerTimeout`, ...) or details never gets here.
fn is_typed_patch_failure(message: &str) -> bool {
    message.starts_with("failed to create typed patch object")
}

/// `Invalid value: "..."` (or an unquoted value) as the API server quotes it.
static INVALID_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    // Invariant: a constant pattern, compiled in the unit test below; it cannot fail at run time.
    Regex::new(r#"Invalid value: ("(?:[^"\\]|\\.)*"|[^\s:,\]]+)"#).expect("valid pattern")
});

/// Hides the values an error message quotes (for Secrets: a 422 may echo the data).
pub(crate) fn redact_values(message: &str) -> String {
    INVALID_VALUE
        .replace_all(message, "Invalid value: (secret value hidden)")
        .into_owned()
}

fn fmt_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::core::kdiff::immutable_fields;

    fn request(method: Method, path: &str, resource: &str, apply: bool) -> ApiCall {
        ApiCall {
            body: Some((
                Vec::new(),
                if apply {
                    APPLY_PATCH
                } else {
                    "application/json"
                },
            )),
            method,
            path: path.to_string(),
            query: Vec::new(),
            resource: resource.to_string(),
            secret: false,
        }
    }

    fn get(path: &str, resource: &str) -> ApiCall {
        ApiCall {
            body: None,
            ..request(Method::GET, path, resource, false)
        }
    }

    fn apply(path: &str, resource: &str) -> ApiCall {
        request(Method::PATCH, path, resource, true)
    }

    /// The variant, with what tells cases of one variant apart.
    fn class(e: &KubeError) -> String {
        match e {
            KubeError::NotFound(_) => "NotFound".into(),
            KubeError::NamespaceNotFound { namespace, .. } => {
                format!("NamespaceNotFound({namespace})")
            }
            KubeError::ResourceUnknown(_) => "ResourceUnknown".into(),
            KubeError::Conflict { .. } => "Conflict".into(),
            KubeError::AlreadyExists { .. } => "AlreadyExists".into(),
            KubeError::Invalid { causes, .. } => format!("Invalid({} causes)", causes.len()),
            KubeError::Forbidden(_) => "Forbidden".into(),
            KubeError::Api { code, reason, .. } => {
                format!("Api({code} {})", reason.as_deref().unwrap_or("-"))
            }
            other => format!("{other:?}"),
        }
    }

    fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
        let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "code": code});
        if !reason.is_empty() {
            s["reason"] = json!(reason);
        }
        if let Some(d) = details {
            s["details"] = d;
        }
        s
    }

    const TYPED: &str = "failed to create typed patch object (/typed; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string";

    /// Status bodies as kube-apiserver v1.36.2 answered them (`../shared/kube-golden/`, file and
    /// step named), and cases built to look like another class by their message.
    #[test]
    fn answers_are_classified_by_status_structure() {
        let cm = "/api/v1/namespaces/kg-i/configmaps";
        let deploy = "/apis/apps/v1/namespaces/kg-i/deployments";
        let table: Vec<(&str, u16, ApiCall, Value, &str)> = vec![
            (
                "i-errors#1: a missing object",
                404,
                get(&format!("{cm}/missing"), "configmaps"),
                status(404, "NotFound", "configmaps \"missing\" not found",
                    Some(json!({"name": "missing", "kind": "configmaps"}))),
                "NotFound",
            ),
            (
                "i-errors#20: a resource the core group does not serve",
                404,
                get("/api/v1/namespaces/kg-i/widgets", "widgets"),
                status(404, "NotFound", "the server could not find the requested resource", Some(json!({}))),
                "ResourceUnknown",
            ),
            (
                "a NotFound without details names no resource either",
                404,
                get("/apis/apps/v1/namespaces/kg-i/things", "things"),
                status(404, "NotFound", "not there", None),
                "ResourceUnknown",
            ),
            (
                "g-crd#12: plain-text 404 of a CRD resource that does not exist",
                404,
                apply("/apis/golden.example.com/v1/namespaces/kg-g/gadgets/g1", "gadgets"),
                json!("404 page not found\n"),
                "ResourceUnknown",
            ),
            (
                "i-errors#24: a create in a missing namespace",
                404,
                request(Method::POST, "/api/v1/namespaces/kg-i-missing/configmaps", "configmaps", false),
                status(404, "NotFound", "namespaces \"kg-i-missing\" not found",
                    Some(json!({"name": "kg-i-missing", "kind": "namespaces"}))),
                "NamespaceNotFound(kg-i-missing)",
            ),
            (
                "an apply in a missing namespace",
                404,
                apply("/apis/apps/v1/namespaces/later/deployments/web", "deployments"),
                status(404, "NotFound", "namespaces \"later\" not found",
                    Some(json!({"name": "later", "kind": "namespaces"}))),
                "NamespaceNotFound(later)",
            ),
            (
                "i-errors#23: a GET in a missing namespace is the object's NotFound",
                404,
                get("/api/v1/namespaces/kg-i-missing/configmaps/x", "configmaps"),
                status(404, "NotFound", "configmaps \"x\" not found",
                    Some(json!({"name": "x", "kind": "configmaps"}))),
                "NotFound",
            ),
            (
                "k-deletion#28: a missing namespace asked for itself",
                404,
                get("/api/v1/namespaces/kg-k-doomed", "namespaces"),
                status(404, "NotFound", "namespaces \"kg-k-doomed\" not found",
                    Some(json!({"name": "kg-k-doomed", "kind": "namespaces"}))),
                "NotFound",
            ),
            (
                "looks like an unknown resource by its message, names an object",
                404,
                get(&format!("{deploy}/web"), "deployments"),
                status(404, "NotFound", "the server could not find the requested resource",
                    Some(json!({"name": "web", "group": "apps", "kind": "deployments"}))),
                "NotFound",
            ),
            (
                "a namespace NotFound for another namespace than the request's",
                404,
                apply("/api/v1/namespaces/kg-i/configmaps/c", "configmaps"),
                status(404, "NotFound", "namespaces \"elsewhere\" not found",
                    Some(json!({"name": "elsewhere", "kind": "namespaces"}))),
                "NotFound",
            ),
            (
                "a resource named `namespaces` in another group is no namespace",
                404,
                apply("/apis/example.com/v1/namespaces/kg-i/things/t", "things"),
                status(404, "NotFound", "namespaces.example.com \"kg-i\" not found",
                    Some(json!({"name": "kg-i", "group": "example.com", "kind": "namespaces"}))),
                "NotFound",
            ),
            (
                "i-errors#3: AlreadyExists",
                409,
                request(Method::POST, cm, "configmaps", false),
                status(409, "AlreadyExists", "configmaps \"exists\" already exists",
                    Some(json!({"name": "exists", "kind": "configmaps"}))),
                "AlreadyExists",
            ),
            (
                "i-errors#5: Conflict for a stale resourceVersion",
                409,
                request(Method::PUT, &format!("{cm}/exists"), "configmaps", false),
                status(409, "Conflict", "Operation cannot be fulfilled on configmaps \"exists\": the object has been modified; please apply your changes to the latest version and try again",
                    Some(json!({"name": "exists", "kind": "configmaps"}))),
                "Conflict",
            ),
            (
                "e-field-conflict#5: a field-manager conflict",
                409,
                apply("/apis/apps/v1/namespaces/kg-e/deployments/scaled", "deployments"),
                status(409, "Conflict", "Apply failed with 1 conflict: conflict with \"golden-scaler\" with subresource \"scale\" using apps/v1: .spec.replicas",
                    Some(json!({"causes": [{"reason": "FieldManagerConflict", "message": "conflict with \"golden-scaler\" with subresource \"scale\" using apps/v1", "field": ".spec.replicas"}]}))),
                "Conflict",
            ),
            (
                "a Conflict whose message says `already exists` is a Conflict",
                409,
                request(Method::PUT, &format!("{cm}/exists"), "configmaps", false),
                status(409, "Conflict", "configmaps \"exists\" already exists", None),
                "Conflict",
            ),
            (
                "p-events#4: Invalid with three causes",
                422,
                request(Method::POST, "/apis/events.k8s.io/v1/namespaces/kg-events/events", "events", false),
                status(422, "Invalid", "Event \"settings.invalid\" is invalid: [reportingInstance: Required value, action: Required value, type: Invalid value: \"\": has invalid value: Info]",
                    Some(json!({"name": "settings.invalid", "kind": "Event", "causes": [
                        {"reason": "FieldValueRequired", "message": "Required value", "field": "reportingInstance"},
                        {"reason": "FieldValueRequired", "message": "Required value", "field": "action"},
                        {"reason": "FieldValueInvalid", "message": "Invalid value: \"\": has invalid value: Info", "field": "type"}]}))),
                "Invalid(3 causes)",
            ),
            (
                "m-patch-types#7: a failed JSON patch test is Invalid without causes",
                422,
                request(Method::PATCH, &format!("{deploy}/jsonpatch"), "deployments", false),
                status(422, "Invalid", "the server rejected our request due to an error in our request", Some(json!({}))),
                "Invalid(0 causes)",
            ),
            (
                "o-rbac-impersonation#3: Forbidden",
                403,
                apply("/api/v1/namespaces/kg-rbac/configmaps/settings", "configmaps"),
                status(403, "Forbidden", "configmaps \"settings\" is forbidden: User \"kg-restricted\" cannot patch resource \"configmaps\" in API group \"\" in the namespace \"kg-rbac\"",
                    Some(json!({"name": "settings", "kind": "configmaps"}))),
                "Forbidden",
            ),
            (
                "k-deletion#26: Forbidden in a terminating namespace",
                403,
                request(Method::POST, "/api/v1/namespaces/kg-k-doomed/configmaps", "configmaps", false),
                status(403, "Forbidden", "configmaps \"late\" is forbidden: unable to create new content in namespace kg-k-doomed because it is being terminated",
                    Some(json!({"name": "late", "kind": "configmaps", "causes": [{"reason": "NamespaceTerminating", "message": "namespace kg-k-doomed is being terminated", "field": "metadata.namespace"}]}))),
                "Forbidden",
            ),
            (
                "i-errors#12: server-side apply's type check answers 500 without a reason",
                500,
                apply(&format!("{deploy}/typed"), "deployments"),
                status(500, "", TYPED, None),
                "Invalid(0 causes)",
            ),
            (
                "the same with empty details",
                500,
                apply(&format!("{deploy}/typed"), "deployments"),
                status(500, "", TYPED, Some(json!({}))),
                "Invalid(0 causes)",
            ),
            (
                "a reason-less 500 with causes is not the type check",
                500,
                apply(&format!("{deploy}/typed"), "deployments"),
                status(500, "", TYPED, Some(json!({"causes": [{"message": "etcd"}]}))),
                "Api(500 -)",
            ),
            (
                "a 500 InternalError whose message mentions the typed patch is an internal error",
                500,
                apply(&format!("{deploy}/typed"), "deployments"),
                status(500, "InternalError", &format!("Internal error occurred: {TYPED}"),
                    Some(json!({"causes": [{"message": TYPED}]}))),
                "Api(500 InternalError)",
            ),
            (
                "the typed-patch text on a request that is not an apply",
                500,
                request(Method::PUT, &format!("{deploy}/typed"), "deployments", false),
                status(500, "", TYPED, None),
                "Api(500 -)",
            ),
            (
                "an unconverted storage error on an apply is retried, not Invalid",
                500,
                apply(&format!("{deploy}/web"), "deployments"),
                status(500, "", "etcdserver: request timed out", None),
                "Api(500 -)",
            ),
            (
                "429 TooManyRequests (storage re-initializing)",
                429,
                get(cm, "configmaps"),
                status(429, "TooManyRequests", "storage is (re)initializing", Some(json!({"retryAfterSeconds": 1}))),
                "Api(429 TooManyRequests)",
            ),
            (
                "h-list-watch#23: 410 Expired",
                410,
                get("/apis/golden.example.com/v1/namespaces/kg-h/widgets", "widgets"),
                status(410, "Expired", "too old resource version: 1 (583)", None),
                "Api(410 Expired)",
            ),
            (
                "410 Gone",
                410,
                get(cm, "configmaps"),
                status(410, "Gone", "the resource is gone", None),
                "Api(410 Gone)",
            ),
            (
                "503 ServiceUnavailable",
                503,
                get(cm, "configmaps"),
                status(503, "ServiceUnavailable", "the server is currently unable to handle the request", None),
                "Api(503 ServiceUnavailable)",
            ),
            (
                "504 Timeout",
                504,
                get(cm, "configmaps"),
                status(504, "Timeout", "the server was unable to return a response in the time allotted", None),
                "Api(504 Timeout)",
            ),
            (
                "i-errors#8: 400 BadRequest",
                400,
                request(Method::POST, cm, "configmaps", false),
                status(400, "BadRequest", "the object provided is unrecognized (must be of type ConfigMap)", None),
                "Api(400 BadRequest)",
            ),
            (
                "i-errors#14: 415 UnsupportedMediaType",
                415,
                request(Method::PATCH, &format!("{cm}/applied"), "configmaps", false),
                status(415, "UnsupportedMediaType", "415: Unsupported Media Type", Some(json!({}))),
                "Api(415 UnsupportedMediaType)",
            ),
            (
                "401 Unauthorized",
                401,
                get(cm, "configmaps"),
                status(401, "Unauthorized", "Unauthorized", None),
                "Api(401 Unauthorized)",
            ),
            (
                "without a known reason the code decides (apimachinery's rule)",
                409,
                request(Method::PUT, &format!("{cm}/exists"), "configmaps", false),
                status(409, "", "conflicting", None),
                "Conflict",
            ),
            (
                "a known reason decides over the code",
                400,
                request(Method::POST, cm, "configmaps", false),
                status(400, "Invalid", "invalid", Some(json!({"causes": [{"field": "data", "message": "Required value"}]}))),
                "Invalid(1 causes)",
            ),
            (
                "a proxy's JSON that is not a Status",
                503,
                get(cm, "configmaps"),
                json!({"message": "upstream connect error"}),
                "Api(503 -)",
            ),
            (
                "an empty 502",
                502,
                get(cm, "configmaps"),
                Value::Null,
                "Api(502 -)",
            ),
        ];
        let mut wrong = Vec::new();
        for (case, code, call, body, want) in &table {
            let got = class(&to_error(*code, body, call));
            if got != *want {
                wrong.push(format!("{case}: want {want}, got {got}"));
            }
        }
        assert!(
            wrong.is_empty(),
            "{} of {}:\n{}",
            wrong.len(),
            table.len(),
            wrong.join("\n")
        );
    }

    #[test]
    fn only_transient_classes_are_retried() {
        let deploy = "/apis/apps/v1/namespaces/kg-i/deployments/typed";
        for (code, body, call, retry) in [
            (
                500,
                status(500, "", TYPED, None),
                apply(deploy, "deployments"),
                false,
            ),
            (
                500,
                status(500, "", "etcdserver: leader changed", None),
                apply(deploy, "deployments"),
                true,
            ),
            (
                500,
                status(500, "InternalError", TYPED, None),
                apply(deploy, "deployments"),
                true,
            ),
            (
                429,
                status(429, "TooManyRequests", "slow down", None),
                get(deploy, "deployments"),
                true,
            ),
            (
                503,
                status(503, "ServiceUnavailable", "later", None),
                get(deploy, "deployments"),
                true,
            ),
            (
                504,
                status(504, "Timeout", "later", None),
                get(deploy, "deployments"),
                true,
            ),
            (
                501,
                status(501, "", "not implemented", None),
                get(deploy, "deployments"),
                false,
            ),
            (
                410,
                status(410, "Expired", "too old", None),
                get(deploy, "deployments"),
                false,
            ),
            (
                404,
                status(404, "NotFound", "gone", None),
                get(deploy, "deployments"),
                false,
            ),
            (
                409,
                status(409, "Conflict", "stale", None),
                get(deploy, "deployments"),
                false,
            ),
        ] {
            let err = to_error(code, &body, &call);
            assert_eq!(retryable(&err), retry, "{code}: {err}");
        }
    }

    #[test]
    fn messages_name_the_request_and_secrets_stay_hidden() {
        let mut call = request(
            Method::PATCH,
            "/api/v1/namespaces/ci/secrets/db",
            "secrets",
            true,
        );
        call.secret = true;
        let body = status(422, "Invalid", "Secret \"db\" is invalid: data[pass word]: Invalid value: \"hunter2\": a valid config key must consist of alphanumeric characters",
            Some(json!({"name": "db", "kind": "Secret", "causes": [{"reason": "FieldValueInvalid", "message": "Invalid value: \"hunter2\": a valid config key must consist of alphanumeric characters", "field": "data[pass word]"}]})));
        let KubeError::Invalid { message, causes } = to_error(422, &body, &call) else {
            panic!("expected Invalid");
        };
        assert!(
            message.starts_with("PATCH /api/v1/namespaces/ci/secrets/db: Secret \"db\""),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
        assert_eq!(causes.len(), 1);
        assert_eq!(causes[0].0, "data[pass word]");
        assert!(!causes[0].1.contains("hunter2"), "{:?}", causes[0]);
        // A Status without a message says its reason.
        let e = to_error(
            429,
            &status(429, "TooManyRequests", "", None),
            &get("/api/v1/pods", "pods"),
        );
        assert_eq!(
            e.to_string(),
            "API error 429 TooManyRequests: GET /api/v1/pods: TooManyRequests"
        );
    }

    #[test]
    fn request_paths_name_their_namespace() {
        for (path, ns) in [
            ("/api/v1/namespaces/ci/configmaps/c", Some("ci")),
            ("/api/v1/namespaces/ci/configmaps", Some("ci")),
            ("/apis/apps/v1/namespaces/ci/deployments/web", Some("ci")),
            ("/api/v1/namespaces/ci", None),
            ("/api/v1/namespaces", None),
            ("/apis/rbac.authorization.k8s.io/v1/clusterroles/r", None),
            ("/version", None),
        ] {
            assert_eq!(request_namespace(path), ns, "{path}");
        }
    }

    fn golden_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/kube-golden")
    }

    fn golden(file: &str) -> Value {
        let path = golden_dir().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("golden recording {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The request of a recorded step as the adapter would have sent it.
    fn recorded_call(step: &Value) -> ApiCall {
        let req = &step["request"];
        let path = req["path"].as_str().unwrap_or_default();
        let method = Method::from_bytes(req["method"].as_str().unwrap_or("GET").as_bytes())
            .expect("recorded method");
        let is_apply = req["headers"]["Content-Type"].as_str() == Some(APPLY_PATCH);
        // The resource: the segment after the namespace, or after the group version.
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let at = if segments.first() == Some(&"api") {
            2
        } else {
            3
        };
        let resource = match (segments.get(at), segments.get(at + 2)) {
            (Some(&"namespaces"), Some(r)) => r,
            (Some(r), _) => r,
            (None, _) => "",
        };
        let mut call = request(method, path, resource, is_apply);
        if req.get("body").is_none() {
            call.body = None;
        }
        call
    }

    /// Every failure kube-apiserver answered in the recordings, through the classifier. A new
    /// recording with a failure not listed here fails the test until it is classified.
    #[test]
    fn every_recorded_failure_is_classified_by_structure() {
        let expected: &[(&str, &[(usize, &str)])] = &[
            (
                "agent/n-lease-leader-election.json",
                &[(1, "NotFound"), (4, "Conflict"), (10, "Conflict")],
            ),
            (
                "agent/o-rbac-impersonation.json",
                &[
                    (1, "Forbidden"),
                    (2, "Forbidden"),
                    (3, "Forbidden"),
                    (10, "Forbidden"),
                    (11, "Forbidden"),
                    (14, "Forbidden"),
                ],
            ),
            (
                "agent/p-events.json",
                &[(4, "Invalid(3 causes)"), (7, "Api(400 BadRequest)")],
            ),
            ("agent/q-crd-status-table.json", &[]),
            ("a-discovery.json", &[]),
            ("b-ssa-create-deployment.json", &[]),
            ("c-ssa-dry-run.json", &[(5, "NotFound")]),
            ("d-ssa-drop-field-and-noop.json", &[]),
            (
                "e-field-conflict.json",
                &[(5, "Conflict"), (8, "Conflict"), (10, "Conflict")],
            ),
            ("f-ssa-create-kinds.json", &[]),
            (
                "g-crd.json",
                &[
                    (6, "Invalid(1 causes)"),
                    (7, "Invalid(1 causes)"),
                    (8, "Invalid(0 causes)"),
                    (9, "Invalid(0 causes)"),
                    (11, "Invalid(1 causes)"),
                    (12, "ResourceUnknown"),
                    (13, "ResourceUnknown"),
                    (14, "ResourceUnknown"),
                ],
            ),
            (
                "h-list-watch.json",
                &[(21, "Invalid(1 causes)"), (23, "Api(410 Expired)")],
            ),
            (
                "i-errors.json",
                &[
                    (1, "NotFound"),
                    (3, "AlreadyExists"),
                    (5, "Conflict"),
                    (7, "Invalid(1 causes)"),
                    (8, "Api(400 BadRequest)"),
                    (9, "Invalid(1 causes)"),
                    (10, "Api(400 BadRequest)"),
                    (12, "Invalid(0 causes)"),
                    (13, "Invalid(1 causes)"),
                    (14, "Api(415 UnsupportedMediaType)"),
                    (15, "Api(415 UnsupportedMediaType)"),
                    (16, "Api(400 BadRequest)"),
                    (17, "Api(400 BadRequest)"),
                    (18, "NotFound"),
                    (19, "NotFound"),
                    (20, "ResourceUnknown"),
                    (21, "ResourceUnknown"),
                    (22, "ResourceUnknown"),
                    (23, "NotFound"),
                    (24, "NamespaceNotFound(kg-i-missing)"),
                ],
            ),
            (
                "j-immutable-fields.json",
                &[
                    (2, "Invalid(1 causes)"),
                    (4, "Invalid(1 causes)"),
                    (6, "Invalid(1 causes)"),
                    (9, "Invalid(1 causes)"),
                    (11, "Invalid(1 causes)"),
                    (13, "Invalid(1 causes)"),
                    (14, "Invalid(1 causes)"),
                ],
            ),
            (
                "k-deletion.json",
                &[
                    (3, "NotFound"),
                    (7, "NotFound"),
                    (14, "NotFound"),
                    (15, "NotFound"),
                    (25, "NotFound"),
                    (26, "Forbidden"),
                    (28, "NotFound"),
                ],
            ),
            ("l-status-subresource.json", &[(6, "Conflict")]),
            ("m-patch-types.json", &[(7, "Invalid(0 causes)")]),
        ];
        let mut wrong = Vec::new();
        let mut checked = 0;
        for (file, want) in expected {
            let doc = golden(file);
            let steps = doc["steps"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            assert!(!steps.is_empty(), "{file}: no steps");
            let mut got = Vec::new();
            for (i, step) in steps.iter().enumerate() {
                let resp = &step["response"];
                let code = resp["status"]
                    .as_u64()
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(0);
                if code >= 400 {
                    got.push((
                        i,
                        class(&to_error(code, &resp["body"], &recorded_call(step))),
                    ));
                }
                // A watch's failure arrives as an ERROR event holding a Status.
                for event in resp["events"].as_array().into_iter().flatten() {
                    if event["type"] == "ERROR" {
                        let obj = &event["object"];
                        let code = obj["code"]
                            .as_u64()
                            .and_then(|c| u16::try_from(c).ok())
                            .unwrap_or(0);
                        got.push((i, class(&to_error(code, obj, &recorded_call(step)))));
                    }
                }
            }
            let want: Vec<(usize, String)> =
                want.iter().map(|(i, c)| (*i, c.to_string())).collect();
            checked += got.len();
            if got != want {
                wrong.push(format!("{file}:\n  want {want:?}\n  got  {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        assert_eq!(checked, 61, "recorded failures checked");
    }

    /// The causes of recorded 422s still reach `core::kdiff::immutable_fields`, which decides
    /// (from the cause messages) which fields are immutable.
    #[test]
    fn recorded_immutable_field_causes_reach_the_core() {
        let doc = golden("j-immutable-fields.json");
        let steps = doc["steps"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (step, fields) in [
            (2, vec!["spec.selector"]),
            (4, vec!["spec.clusterIPs[0]"]),
            (6, vec!["spec.template"]),
            (9, vec![]), // a bound claim cannot shrink: not immutability
            (11, vec!["spec"]),
            (13, vec!["data"]),
            (14, vec!["immutable"]),
        ] {
            let s = &steps[step];
            let err = to_error(422, &s["response"]["body"], &recorded_call(s));
            let KubeError::Invalid { causes, .. } = err else {
                panic!("j-immutable-fields#{step}: expected Invalid, got {err:?}");
            };
            assert_eq!(
                immutable_fields(&causes),
                fields,
                "j-immutable-fields#{step}: {causes:?}"
            );
        }
    }

    #[test]
    fn configuration_errors_keep_their_source() {
        let config = kube::Config::new("http://127.0.0.1:1".parse().expect("uri"));
        let settings = KubeSettings {
            user_agent: "eksync\n".into(),
            ..KubeSettings::default()
        };
        let err = KubeAdapter::with_config(config, settings).expect_err("bad user agent");
        assert!(matches!(err, KubeError::Config { .. }), "{err:?}");
        let source = std::error::Error::source(&err).expect("the header error is the source");
        assert!(!err.to_string().contains(&source.to_string()), "{err}");
    }

    #[tokio::test]
    async fn transport_errors_keep_their_source() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let config = kube::Config::new(format!("http://127.0.0.1:{port}").parse().expect("uri"));
        let settings = KubeSettings {
            retry: super::super::RetrySettings {
                max_attempts: 1,
                ..Default::default()
            },
            ..KubeSettings::default()
        };
        let kube = KubeAdapter::with_config(config, settings).expect("adapter");
        let err = kube
            .call(&get("/api/v1/namespaces/ci/configmaps/c", "configmaps"))
            .await
            .expect_err("nothing listens");
        let KubeError::Transport { message, .. } = &err else {
            panic!("expected Transport, got {err:?}");
        };
        assert_eq!(message, "GET /api/v1/namespaces/ci/configmaps/c");
        let source = std::error::Error::source(&err).expect("kube's error is the source");
        assert!(!source.to_string().is_empty());
        assert!(
            error_chain(&err).starts_with("transport: GET /api/v1/namespaces/ci/configmaps/c: "),
            "{}",
            error_chain(&err)
        );
    }

    #[test]
    fn secret_errors_hide_quoted_values() {
        let m = r#"Secret "db" is invalid: [data[pass word]: Invalid value: "hunter2 \"x\"": a valid config key must consist of alphanumeric characters, stringData.x: Invalid value: c2VjcmV0: bad]"#;
        let r = redact_values(m);
        assert!(!r.contains("hunter2"), "{r}");
        assert!(!r.contains("c2VjcmV0"), "{r}");
        assert!(
            r.contains("data[pass word]: Invalid value: (secret value hidden): a valid config key"),
            "{r}"
        );
        assert_eq!(redact_values("no values here"), "no values here");
    }
}
