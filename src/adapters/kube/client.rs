//! The connection: builds a `kube::Client` from a kubeconfig, a context or the in-cluster service
//! account (with eksync's User-Agent and kube's own retry layer off, so that retries happen once,
//! here), and sends raw JSON requests through it with a concurrency bound, a per-attempt timeout,
//! retries with backoff, and a counter of attempts. Answers are mapped to [`KubeError`] variants.
//!
//! It does not know what the requests mean; `discovery`, `apply` and `inventory` build them.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use http::{header, HeaderValue, Method, Request};
use kube::client::Body;
use kube::config::{KubeConfigOptions, Kubeconfig};
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
}

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
        let config = match &settings.kubeconfig {
            Some(path) => {
                let kc = Kubeconfig::read_from(path)
                    .map_err(|e| KubeError::Config(format!("reading {}: {e}", path.display())))?;
                kube::Config::from_custom_kubeconfig(kc, &options)
                    .await
                    .map_err(|e| KubeError::Config(format!("{}: {e}", path.display())))?
            }
            None if settings.context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| KubeError::Config(e.to_string()))?,
            // Local kubeconfig first, then the in-cluster service account.
            None => kube::Config::infer()
                .await
                .map_err(|e| KubeError::Config(e.to_string()))?,
        };
        Self::with_config(config, settings)
    }

    /// Uses an existing `kube::Config` (its User-Agent and retry layer are set from `settings`).
    pub fn with_config(
        mut config: kube::Config,
        settings: KubeSettings,
    ) -> Result<Self, KubeError> {
        let ua = HeaderValue::from_str(&settings.user_agent)
            .map_err(|e| KubeError::Config(format!("user agent {:?}: {e}", settings.user_agent)))?;
        config.headers.retain(|(k, _)| k != header::USER_AGENT);
        config.headers.push((header::USER_AGENT, ua));
        config.default_retry = false;
        let client =
            kube::Client::try_from(config).map_err(|e| KubeError::Config(e.to_string()))?;
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
                error = %err,
                "retrying Kubernetes request"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, call: &ApiCall) -> Attempt {
        let Ok(_permit) = self.inner.permits.acquire().await else {
            return Attempt::Fatal(KubeError::Transport("adapter is shut down".into()));
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
        let (status, retry_after, bytes) = match sent {
            Err(_) => {
                return Attempt::Retry(
                    KubeError::Transport(format!(
                        "{} {}: no answer within {}",
                        call.method,
                        call.path,
                        fmt_duration(timeout)
                    )),
                    None,
                )
            }
            Ok(Err(e)) => {
                let retry = matches!(e, kube::Error::HyperError(_) | kube::Error::Service(_));
                let err = KubeError::Transport(format!("{} {}: {e}", call.method, call.path));
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
        if let KubeError::Api { code: 500, message } = &err {
            if message.contains(TYPED_PATCH_ERROR) {
                // Server-side apply's type check answers 500, but the body is at fault: retrying
                // cannot help.
                return Attempt::Fatal(KubeError::Invalid {
                    message: message.clone(),
                    causes: Vec::new(),
                });
            }
        }
        if retryable_status(status) {
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
    b.body(body)
        .map_err(|e| KubeError::BadObject(format!("request {uri}: {e}")))
}

/// Maps a non-2xx answer (a `Status` object, or plain text) to an error.
fn to_error(status: u16, body: &Value, call: &ApiCall) -> KubeError {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| match body {
            Value::String(s) => s.trim().to_string(),
            Value::Null => format!("HTTP {status}"),
            other => other.to_string(),
        });
    let message = format!("{} {}: {message}", call.method, call.path);
    let hide = |m: String| if call.secret { redact_values(&m) } else { m };
    let message = hide(message);
    match status {
        404 if !body.is_object() || message.contains("could not find the requested resource") => {
            KubeError::ResourceUnknown(message)
        }
        404 if call.resource != "namespaces"
            && body.pointer("/details/kind").and_then(Value::as_str) == Some("namespaces") =>
        {
            KubeError::NamespaceNotFound {
                namespace: body
                    .pointer("/details/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                message,
            }
        }
        404 => KubeError::NotFound(message),
        409 => KubeError::Conflict { message },
        422 => {
            let causes = body
                .pointer("/details/causes")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .map(|c| {
                            let s = |k: &str| {
                                c.get(k)
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_string()
                            };
                            (s("field"), hide(s("message")))
                        })
                        .collect()
                })
                .unwrap_or_default();
            KubeError::Invalid { message, causes }
        }
        403 => KubeError::Forbidden(message),
        code => KubeError::Api { code, message },
    }
}

/// The API server's 500 when an applied body does not fit the type schema.
const TYPED_PATCH_ERROR: &str = "failed to create typed patch object";

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
    use super::*;

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
