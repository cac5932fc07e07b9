//! Object operations: server-side apply (field manager `eksync`, `force` to take back fields Git
//! sets, `dryRun=All` for diffs), GET of one object, the managed set listed with one paginated
//! LIST per kind and the ownership label, DELETE with a propagation policy, and read-modify-write
//! updates retried from a fresh read on 409.
//!
//! It does not prepare bodies (`core::kdiff::prepare`) nor interpret results (`core::kdiff`).

use futures::future::try_join_all;
use http::Method;
use serde_json::{json, Value};

use crate::core::kdiff::{FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SOURCE_LABEL};

use super::client::{ApiCall, KubeAdapter, APPLY_PATCH};
use super::discovery::ResolvedKind;
use super::KubeError;

/// Read-modify-write rounds before a 409 is given up.
const MODIFY_ROUNDS: u32 = 5;

/// How to apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// `dryRun=All`: the server computes the result (defaults, validation, admission) and stores
    /// nothing.
    pub dry_run: bool,
    /// Take ownership of conflicting fields from other managers (Git is the truth for the fields
    /// it sets).
    pub force: bool,
}

/// What happens to an object's dependents on delete.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents are deleted before the object is gone.
    #[default]
    Foreground,
    /// The object goes first; the garbage collector deletes dependents.
    Background,
    /// Dependents are left behind.
    Orphan,
}

impl Propagation {
    fn as_str(self) -> &'static str {
        match self {
            Propagation::Foreground => "Foreground",
            Propagation::Background => "Background",
            Propagation::Orphan => "Orphan",
        }
    }
}

/// The identity parts of a body.
struct Ident<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
}

fn ident(obj: &Value) -> Result<Ident<'_>, KubeError> {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str);
    let missing = |what: &str| KubeError::BadObject(format!("object without {what}: {obj}"));
    Ok(Ident {
        api_version: s("/apiVersion").ok_or_else(|| missing("apiVersion"))?,
        kind: s("/kind").ok_or_else(|| missing("kind"))?,
        namespace: s("/metadata/namespace"),
        name: s("/metadata/name").ok_or_else(|| missing("metadata.name"))?,
    })
}

impl KubeAdapter {
    pub(crate) fn namespace_for<'a>(
        &'a self,
        r: &ResolvedKind,
        ns: Option<&'a str>,
    ) -> Option<&'a str> {
        if r.namespaced {
            Some(ns.unwrap_or_else(|| self.default_namespace()))
        } else {
            None
        }
    }

    /// Server-side apply of a body (field manager `eksync`); returns the object the server
    /// holds (or would hold, for a dry run).
    pub async fn apply(&self, obj: &Value, opts: ApplyOptions) -> Result<Value, KubeError> {
        self.apply_as(obj, opts, FIELD_MANAGER).await
    }

    /// Server-side apply under another field manager: only for handing a field over
    /// (`core::kdiff::HANDOVER_MANAGER`); everything Git sets is applied by [`Self::apply`].
    pub async fn apply_as(
        &self,
        obj: &Value,
        opts: ApplyOptions,
        field_manager: &str,
    ) -> Result<Value, KubeError> {
        let id = ident(obj)?;
        let r = self.require(id.api_version, id.kind).await?;
        let ns = self.namespace_for(&r, id.namespace);
        let mut query = vec![
            ("fieldManager", field_manager.to_string()),
            ("force", opts.force.to_string()),
        ];
        if opts.dry_run {
            query.push(("dryRun", "All".to_string()));
        }
        let body = serde_json::to_vec(obj).map_err(|e| KubeError::Request {
            message: format!("encoding {} {}", id.kind, id.name),
            source: Box::new(e),
        })?;
        self.call(&ApiCall {
            method: Method::PATCH,
            path: r.object_path(ns, id.name),
            query,
            body: Some((body, APPLY_PATCH)),
            resource: r.plural.clone(),
            secret: r.is_secret(),
        })
        .await
    }

    /// Server-side apply of an object's `status` subresource (field manager `eksync`, forced):
    /// how the agent reports on its own `Sync` object. The body needs only identity and status.
    pub async fn apply_status(&self, obj: &Value) -> Result<Value, KubeError> {
        let id = ident(obj)?;
        let r = self.require(id.api_version, id.kind).await?;
        let ns = self.namespace_for(&r, id.namespace);
        let body = serde_json::to_vec(obj).map_err(|e| KubeError::Request {
            message: format!("encoding the status of {} {}", id.kind, id.name),
            source: Box::new(e),
        })?;
        self.call(&ApiCall {
            method: Method::PATCH,
            path: format!("{}/status", r.object_path(ns, id.name)),
            query: vec![
                ("fieldManager", FIELD_MANAGER.to_string()),
                ("force", "true".to_string()),
            ],
            body: Some((body, APPLY_PATCH)),
            resource: format!("{}/status", r.plural),
            secret: false,
        })
        .await
    }

    /// Creates an object (POST; `metadata.generateName` works). `AlreadyExists` when it does:
    /// the agent's Lease relies on that to let only one candidate create it.
    pub async fn create(&self, obj: &Value) -> Result<Value, KubeError> {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str);
        let missing = |what: &str| KubeError::BadObject(format!("object without {what}: {obj}"));
        let api_version = s("/apiVersion").ok_or_else(|| missing("apiVersion"))?;
        let kind = s("/kind").ok_or_else(|| missing("kind"))?;
        let r = self.require(api_version, kind).await?;
        let ns = self.namespace_for(&r, s("/metadata/namespace"));
        let body = serde_json::to_vec(obj).map_err(|e| KubeError::Request {
            message: format!("encoding a {kind}"),
            source: Box::new(e),
        })?;
        self.call(&ApiCall {
            method: Method::POST,
            path: r.collection_path(ns),
            query: vec![("fieldManager", FIELD_MANAGER.to_string())],
            body: Some((body, "application/json")),
            resource: r.plural.clone(),
            secret: r.is_secret(),
        })
        .await
    }

    /// The live object, or `None` when it does not exist.
    pub async fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, KubeError> {
        let r = self.require(api_version, kind).await?;
        let ns = self.namespace_for(&r, namespace);
        let got = self
            .call(&ApiCall {
                method: Method::GET,
                path: r.object_path(ns, name),
                query: Vec::new(),
                body: None,
                resource: r.plural.clone(),
                secret: r.is_secret(),
            })
            .await;
        match got {
            Ok(v) => Ok(Some(v)),
            Err(KubeError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every object of these kinds (all namespaces) carrying the ownership label
    /// `app.kubernetes.io/managed-by=eksync` and this adapter's source label: one paginated LIST per kind, kinds in parallel under
    /// the concurrency bound. Items get their `apiVersion` and `kind` set.
    pub async fn list_managed(&self, kinds: &[ResolvedKind]) -> Result<Vec<Value>, KubeError> {
        let lists = try_join_all(kinds.iter().map(|k| self.list_kind(k))).await?;
        Ok(lists.into_iter().flatten().collect())
    }

    async fn list_kind(&self, r: &ResolvedKind) -> Result<Vec<Value>, KubeError> {
        let mut out = Vec::new();
        let mut continue_token: Option<String> = None;
        loop {
            let mut query = vec![
                (
                    "labelSelector",
                    format!(
                        "{MANAGED_BY_LABEL}={MANAGED_BY_VALUE},{SOURCE_LABEL}={}",
                        self.settings().source
                    ),
                ),
                ("limit", self.settings().list_page_size.max(1).to_string()),
            ];
            if let Some(t) = &continue_token {
                query.push(("continue", t.clone()));
            }
            let page = self
                .call(&ApiCall {
                    method: Method::GET,
                    path: r.collection_path(None),
                    query,
                    body: None,
                    resource: r.plural.clone(),
                    secret: r.is_secret(),
                })
                .await?;
            if let Some(items) = page.get("items").and_then(Value::as_array) {
                for item in items {
                    let mut item = item.clone();
                    if let Some(m) = item.as_object_mut() {
                        m.insert("apiVersion".into(), json!(r.api_version()));
                        m.insert("kind".into(), json!(r.kind));
                    }
                    out.push(item);
                }
            }
            continue_token = page
                .pointer("/metadata/continue")
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_string);
            if continue_token.is_none() {
                return Ok(out);
            }
        }
    }

    /// Read-modify-write: reads the object, lets `edit` change it, and replaces it (guarded by its
    /// resourceVersion, field manager `eksync`). A 409 (someone wrote in between) starts again
    /// from a fresh read, a bounded number of times. `Ok(None)` when the object does not exist.
    pub async fn modify(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        edit: impl Fn(&mut Value),
    ) -> Result<Option<Value>, KubeError> {
        let r = self.require(api_version, kind).await?;
        let ns = self.namespace_for(&r, namespace);
        let mut round = 0;
        loop {
            round += 1;
            let Some(mut obj) = self.get(api_version, kind, namespace, name).await? else {
                return Ok(None);
            };
            edit(&mut obj);
            let body = serde_json::to_vec(&obj).map_err(|e| KubeError::Request {
                message: format!("encoding {kind} {name}"),
                source: Box::new(e),
            })?;
            let put = self
                .call(&ApiCall {
                    method: Method::PUT,
                    path: r.object_path(ns, name),
                    query: vec![("fieldManager", FIELD_MANAGER.to_string())],
                    body: Some((body, "application/json")),
                    resource: r.plural.clone(),
                    secret: r.is_secret(),
                })
                .await;
            match put {
                Err(KubeError::Conflict { .. }) if round < MODIFY_ROUNDS => continue,
                Ok(v) => return Ok(Some(v)),
                Err(e) => return Err(e),
            }
        }
    }

    /// Deletes an object with a propagation policy. `Ok(false)` when it was already gone.
    pub async fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        propagation: Propagation,
    ) -> Result<bool, KubeError> {
        let r = self.require(api_version, kind).await?;
        let ns = self.namespace_for(&r, namespace);
        let body = json!({
            "kind": "DeleteOptions",
            "apiVersion": "v1",
            "propagationPolicy": propagation.as_str(),
        });
        let deleted = self
            .call(&ApiCall {
                method: Method::DELETE,
                path: r.object_path(ns, name),
                query: Vec::new(),
                body: Some((body.to_string().into_bytes(), "application/json")),
                resource: r.plural.clone(),
                secret: r.is_secret(),
            })
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(KubeError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
