//! SDK client construction: region, endpoint override, credentials (standard chain or static),
//! retries (the SDK's standard strategy: exponential backoff with full jitter on throttling, 5xx and
//! transient errors, honouring `x-amz-retry-after`), the `eksync/<version>` User-Agent, and a
//! counter of every HTTP attempt by service and operation. It deliberately does not make calls.

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The User-Agent product eksync puts first on every request.
pub const USER_AGENT_PRODUCT: &str = concat!("eksync/", env!("CARGO_PKG_VERSION"));

/// Where credentials come from.
#[derive(Debug, Clone, Default)]
pub enum CredentialsSource {
    /// The standard chain (environment, profile, SSO, web identity, container, instance metadata).
    #[default]
    DefaultChain,
    /// The standard chain reading this named profile (instead of `AWS_PROFILE`).
    Profile(String),
    /// Fixed keys (tests, AWS-compatible endpoints).
    Static {
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
    },
}

/// Retry policy for every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    /// Total attempts per call, including the first; 1 turns retries off.
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
        }
    }
}

impl RetrySettings {
    /// One attempt per call: what tests against moto use (it answers unimplemented calls with 500s).
    pub fn off() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    pub(crate) fn to_sdk(self) -> RetryConfig {
        if self.max_attempts <= 1 {
            RetryConfig::disabled()
        } else {
            RetryConfig::standard()
                .with_max_attempts(self.max_attempts)
                .with_initial_backoff(self.initial_backoff)
                .with_max_backoff(self.max_backoff)
        }
    }
}

/// Counts every HTTP attempt by `(service, operation)`.
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<BTreeMap<(String, String), u64>>>,
    /// Answers by `(service, operation, status class)`: `2xx`, `4xx`, `5xx`, or `error` when
    /// no answer came.
    outcomes: Arc<Mutex<Outcomes>>,
}

/// Answers by `(service, operation, status class)`.
type Outcomes = BTreeMap<(String, String, String), u64>;

impl CallCounter {
    /// A snapshot of the counts.
    pub fn snapshot(&self) -> BTreeMap<(String, String), u64> {
        match self.counts.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Forgets all counts.
    pub fn reset(&self) {
        match self.counts.lock() {
            Ok(mut g) => g.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
    }

    /// A snapshot of the answers by `(service, operation, status class)`.
    pub fn outcomes(&self) -> BTreeMap<(String, String, String), u64> {
        match self.outcomes.lock() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn record(&self, service: &str, operation: &str) {
        let mut guard = match self.counts.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard
            .entry((service.to_string(), operation.to_string()))
            .or_default() += 1;
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "EksyncCallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_else(|| ("unknown".to_string(), "unknown".to_string()));
        self.record(&service, &operation);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_else(|| ("unknown".to_string(), "unknown".to_string()));
        let class = match context.response() {
            Some(r) => format!("{}xx", r.status().as_u16() / 100),
            None => "error".to_string(),
        };
        let mut g = match self.outcomes.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        *g.entry((service, operation, class)).or_default() += 1;
        Ok(())
    }
}

/// Puts `eksync/<version>` first in the User-Agent header (the SDK's own product list follows).
/// The header is not part of the SigV4 signature, so it can change after signing.
#[derive(Debug, Clone, Default)]
pub struct EksyncUserAgent;

impl Intercept for EksyncUserAgent {
    fn name(&self) -> &'static str {
        "EksyncUserAgent"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request_mut().headers_mut();
        let value = match headers.get("user-agent") {
            Some(existing) => format!("{USER_AGENT_PRODUCT} {existing}"),
            None => USER_AGENT_PRODUCT.to_string(),
        };
        headers.insert("user-agent", value);
        Ok(())
    }
}

/// What the client builder needs.
#[derive(Debug, Clone, Default)]
pub struct ClientSettings {
    /// `None`: the standard region chain.
    pub region: Option<String>,
    /// Endpoint override for every service (tests, AWS-compatible endpoints).
    pub endpoint_url: Option<String>,
    pub credentials: CredentialsSource,
    pub retry: RetrySettings,
    /// An HTTP client to use instead of the default one (replayed-HTTP tests).
    pub http_client: Option<SharedHttpClient>,
}

/// The four service clients, sharing one counter.
#[derive(Debug, Clone)]
pub struct Clients {
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub iam: aws_sdk_iam::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub eks: aws_sdk_eks::Client,
    pub counter: CallCounter,
}

/// Loads the shared SDK configuration and builds the service clients.
pub async fn build_clients(settings: &ClientSettings) -> Result<Clients, String> {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).retry_config(settings.retry.to_sdk());
    if let Some(region) = &settings.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(url) = &settings.endpoint_url {
        loader = loader.endpoint_url(url.clone());
    }
    if let CredentialsSource::Profile(name) = &settings.credentials {
        loader = loader.profile_name(name);
    }
    if let CredentialsSource::Static {
        access_key_id,
        secret_access_key,
        session_token,
    } = &settings.credentials
    {
        loader = loader.credentials_provider(Credentials::new(
            access_key_id.clone(),
            secret_access_key.clone(),
            session_token.clone(),
            None,
            "eksync-static",
        ));
    }
    if let Some(http) = &settings.http_client {
        loader = loader.http_client(http.clone());
    }
    let sdk = loader.load().await;
    if sdk.region().is_none() {
        return Err(
            "no AWS region: set one in the settings, AWS_REGION or the profile's config".into(),
        );
    }
    let counter = CallCounter::default();
    let cloudformation = aws_sdk_cloudformation::Client::from_conf(
        aws_sdk_cloudformation::config::Builder::from(&sdk)
            .interceptor(EksyncUserAgent)
            .interceptor(counter.clone())
            .build(),
    );
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&sdk)
            .interceptor(EksyncUserAgent)
            .interceptor(counter.clone())
            .build(),
    );
    let autoscaling = aws_sdk_autoscaling::Client::from_conf(
        aws_sdk_autoscaling::config::Builder::from(&sdk)
            .interceptor(EksyncUserAgent)
            .interceptor(counter.clone())
            .build(),
    );
    let eks = aws_sdk_eks::Client::from_conf(
        aws_sdk_eks::config::Builder::from(&sdk)
            .interceptor(EksyncUserAgent)
            .interceptor(counter.clone())
            .build(),
    );
    Ok(Clients {
        cloudformation,
        iam,
        autoscaling,
        eks,
        counter,
    })
}
