//! testkit: eksync's in-process Kubernetes API test server.
//!
//! [`TestServer::start`] serves a Kubernetes API over plain HTTP on `127.0.0.1` with a free port,
//! inside the test process, and hands back a [`kube::Config`], a [`kube::Client`] and a
//! kubeconfig (string or file) for the eksync binary. It is held to real kube-apiserver v1.36.2
//! behaviour by the replay of `../shared/kube-golden/` (`tests/golden_replay.rs`).
//!
//! **Simulated:** discovery (plain and aggregated, new groups once a CRD is Established);
//! OpenAPI v3 (the index and one document per group version: paths and operations, see `openapi`);
//! create/get/list/update/patch/delete for every built-in resource of the catalogue and for CRD
//! kinds; label/field selectors, `limit`/`continue`, resourceVersions (opaque, increasing, 409 on
//! stale updates); server-side apply with managedFields (`FieldsV1`), conflicts, `force`,
//! pruning, shared ownership and no-op applies; `dryRun=All`; strategic merge, JSON merge and
//! JSON patches; the recorded server defaults and validation errors; watches (bookmarks, from a
//! resourceVersion, `sendInitialEvents`, 410); deletion with propagation and finalizers;
//! Namespace termination; `status` and `scale`; controller-made state (CRD Established, PVC
//! binding, rollouts, LoadBalancer hostnames, namespace finalization, garbage collection) in
//! [`ControllerMode::Healthy`] (default) or [`ControllerMode::Recorded`], with optional
//! `settle_delay` and `rollout_delay`; fault injection; a request log; RBAC for impersonated
//! users (`Impersonate-User`/`Impersonate-Group`: authorization by the stored Roles and
//! bindings, the apiserver's 403s, the escalation check, access and rules reviews, see `rbac`;
//! [`TestServer::client_as`] and [`TestServer::write_kubeconfig_as`]); Events through both of
//! their APIs (`events`); Table output of custom resources (`table`).
//!
//! **Not simulated:** authentication (any token is accepted as the admin, `system:masters`;
//! identities come only from impersonation), authorizers other than RBAC, aggregated bootstrap
//! ClusterRoles (`admin`, `edit`, `view`), Table output of built-in resources, admission
//! webhooks (a fault rule can answer a write with a webhook's denial, as the apiserver words
//! it), Pods, ReplicaSets and kubelets (workload statuses are computed, no Pods exist), API
//! version conversion (objects are served as stored, Events excepted), OpenAPI v2 and the field
//! schemas of the OpenAPI v3 documents (`openapi` serves their paths and operations only),
//! protobuf/CBOR, the full type schema (only the listed list/map semantics, numeric fields and
//! validation rules exist; unknown fields are found only for the kinds mapped to `k8s-openapi`
//! types), field selectors beyond simple paths, background writers (nothing renews leases or
//! emits events), and `exec`/`logs`/`portforward`.
//! See the README for the golden replay result and its named exceptions.

pub mod api;
pub mod builtin_schema;
pub mod catalog;
pub mod config;
pub mod controllers;
pub mod defaults;
pub mod error;
pub mod events;
pub mod faults;
pub mod fieldset;
pub mod godump;
pub mod golden;
pub mod managed;
pub mod openapi;
pub mod patch;
pub mod rbac;
pub mod reqlog;
pub mod rollout;
pub mod schema;
pub mod server;
pub mod store;
pub mod strategy;
pub mod table;
pub mod tracker;
pub mod validation;
pub mod watch;
pub mod write;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use config::{ControllerMode, ServerConfig};
pub use faults::{FaultAction, FaultRule, FaultTimes};
pub use reqlog::{LoggedRequest, RequestLog};

/// Errors of starting or connecting to a test server.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// Binding or serving failed.
    #[error("test server I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The kube client could not be built.
    #[error("kube client: {0}")]
    Kube(#[from] kube::Error),
    /// The server URL was not valid (cannot happen for 127.0.0.1:port).
    #[error("server url: {0}")]
    Url(String),
}

/// A running test server. Dropping it stops the server.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server with the default configuration ([`ControllerMode::Healthy`]).
    pub async fn start() -> Result<Self, TestkitError> {
        Self::start_with(ServerConfig::default()).await
    }

    /// Starts a server with a configuration.
    pub async fn start_with(config: ServerConfig) -> Result<Self, TestkitError> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(server::Shared {
            state: Mutex::new(api::State::new(config)),
            log: RequestLog::default(),
            faults: faults::Faults::default(),
        });
        {
            let mut st = shared.lock();
            bootstrap(&mut st);
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = server::router(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(TestServer {
            addr,
            shared,
            shutdown: Some(tx),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A `kube::Config` pointing at the server (namespace `default`).
    pub fn kube_config(&self) -> Result<kube::Config, TestkitError> {
        let uri: http::Uri = self
            .url()
            .parse()
            .map_err(|e: http::uri::InvalidUri| TestkitError::Url(e.to_string()))?;
        Ok(kube::Config::new(uri))
    }

    /// A `kube::Client` for the server.
    pub fn client(&self) -> Result<kube::Client, TestkitError> {
        Ok(kube::Client::try_from(self.kube_config()?)?)
    }

    /// A kubeconfig document for the server (context `testkit`, namespace `default`).
    pub fn kubeconfig_yaml(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: testkit\n  cluster:\n    server: {url}\nusers:\n- name: testkit\n  user:\n    token: testkit\ncontexts:\n- name: testkit\n  context:\n    cluster: testkit\n    user: testkit\n    namespace: default\ncurrent-context: testkit\n",
            url = self.url()
        )
    }

    /// Writes the kubeconfig into `dir/kubeconfig` and returns its path.
    pub fn write_kubeconfig(&self, dir: &Path) -> Result<PathBuf, TestkitError> {
        let path = dir.join("kubeconfig");
        std::fs::write(&path, self.kubeconfig_yaml())?;
        Ok(path)
    }

    /// A kubeconfig document whose user impersonates `user` with `groups` (`as:` and
    /// `as-groups:`), so kube-rs clients, kubectl and the eksync binary send `Impersonate-User`
    /// and `Impersonate-Group`; the server then authorizes them by RBAC (see `rbac`).
    pub fn kubeconfig_yaml_as(&self, user: &str, groups: &[&str]) -> String {
        let mut auth = serde_json::Map::new();
        auth.insert("token".into(), serde_json::json!("testkit"));
        auth.insert("as".into(), serde_json::json!(user));
        if !groups.is_empty() {
            auth.insert("as-groups".into(), serde_json::json!(groups));
        }
        let doc = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "testkit", "cluster": {"server": self.url()}}],
            "users": [{"name": "testkit", "user": auth}],
            "contexts": [{"name": "testkit",
                "context": {"cluster": "testkit", "user": "testkit", "namespace": "default"}}],
            "current-context": "testkit"
        });
        // Serializing a JSON value to YAML cannot fail (only string keys, no special floats);
        // an empty document would make the client fail loudly rather than act as admin.
        serde_yaml_ng::to_string(&doc).unwrap_or_default()
    }

    /// Writes [`TestServer::kubeconfig_yaml_as`] into `dir/kubeconfig-as-<user>` (characters
    /// other than ASCII letters, digits, `-`, `_` and `.` become `-`) and returns its path.
    pub fn write_kubeconfig_as(
        &self,
        dir: &Path,
        user: &str,
        groups: &[&str],
    ) -> Result<PathBuf, TestkitError> {
        let safe: String = user
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let path = dir.join(format!("kubeconfig-as-{safe}"));
        std::fs::write(&path, self.kubeconfig_yaml_as(user, groups))?;
        Ok(path)
    }

    /// A `kube::Config` that impersonates `user` with `groups`.
    pub fn kube_config_as(
        &self,
        user: &str,
        groups: &[&str],
    ) -> Result<kube::Config, TestkitError> {
        let mut config = self.kube_config()?;
        config.auth_info.impersonate = Some(user.to_string());
        if !groups.is_empty() {
            config.auth_info.impersonate_groups =
                Some(groups.iter().map(|g| g.to_string()).collect());
        }
        Ok(config)
    }

    /// A `kube::Client` that impersonates `user` with `groups`.
    pub fn client_as(&self, user: &str, groups: &[&str]) -> Result<kube::Client, TestkitError> {
        Ok(kube::Client::try_from(self.kube_config_as(user, groups)?)?)
    }

    /// The request log.
    pub fn requests(&self) -> RequestLog {
        self.shared.log.clone()
    }

    /// Fault rules; add with [`faults::Faults::add`].
    pub fn faults(&self) -> faults::Faults {
        self.shared.faults.clone()
    }

    /// Runs a closure with the server state (for tests that inspect or seed objects directly).
    pub fn with_state<R>(&self, f: impl FnOnce(&mut api::State) -> R) -> R {
        let mut st = self.shared.lock();
        f(&mut st)
    }

    /// Lets the controllers act now (useful with a settle delay).
    pub fn settle(&self) {
        let mut st = self.shared.lock();
        controllers::settle(&mut st, &server::now());
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The objects every cluster starts with: namespaces `default`, `kube-system`, `kube-public`,
/// `kube-node-lease`, and the bootstrap RBAC objects of `rbac::bootstrap_objects`.
fn bootstrap(st: &mut api::State) {
    let now = server::now();
    for (resource, name, mut obj) in rbac::bootstrap_objects() {
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        strategy::prepare_create(&kind, false, &mut obj, &mut st.alloc, &now);
        st.store.put(
            (
                rbac::RBAC_GROUP.to_string(),
                resource.to_string(),
                String::new(),
                name.to_string(),
            ),
            obj,
        );
    }
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let mut obj =
            serde_json::json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": ns}});
        defaults::apply_defaults("Namespace", &mut obj, None);
        strategy::prepare_create("Namespace", false, &mut obj, &mut st.alloc, &now);
        st.store.put(
            (String::new(), "namespaces".into(), String::new(), ns.into()),
            obj,
        );
    }
    controllers::settle(st, &now);
}
