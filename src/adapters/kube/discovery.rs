//! Discovery: maps (apiVersion, kind) to the resource that serves it (plural, scope) from the
//! server's resource list for that group/version (`/api/v1`, `/apis/<group>/<version>`). Lists are
//! cached per group/version and fetched again on a miss, so a kind that appears mid-run (a CRD
//! created by an earlier wave) is found; a group/version the server does not serve is not cached.
//!
//! It does not fetch every group up front and does not watch for changes.

use std::collections::HashMap;
use std::sync::Mutex;

use http::Method;
use serde::Serialize;
use serde_json::Value;

use super::client::{ApiCall, KubeAdapter};
use super::KubeError;

/// A kind and the resource that serves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ResolvedKind {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

impl ResolvedKind {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The path of the collection: cluster-wide when `namespace` is `None`.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{base}/namespaces/{ns}/{}", self.plural),
            _ => format!("{base}/{}", self.plural),
        }
    }

    /// True for core `Secret`s (their values are hidden in errors).
    pub fn is_secret(&self) -> bool {
        self.group.is_empty() && self.kind == "Secret"
    }

    /// The path of one object.
    pub fn object_path(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{name}", self.collection_path(namespace))
    }
}

/// Resource lists by group/version.
#[derive(Debug, Default)]
pub(crate) struct DiscoveryCache {
    by_group_version: Mutex<HashMap<String, Vec<ResolvedKind>>>,
}

impl DiscoveryCache {
    fn lookup(&self, api_version: &str, kind: &str) -> Lookup {
        // A poisoned lock only means a panic elsewhere while inserting a whole list.
        let map = self
            .by_group_version
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(api_version) {
            None => Lookup::Unknown,
            Some(list) => match list.iter().find(|r| r.kind == kind) {
                Some(r) => Lookup::Found(r.clone()),
                None => Lookup::Missing,
            },
        }
    }

    fn store(&self, api_version: &str, list: Vec<ResolvedKind>) {
        self.by_group_version
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(api_version.to_string(), list);
    }

    fn forget(&self, api_version: &str) {
        self.by_group_version
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(api_version);
    }
}

enum Lookup {
    Found(ResolvedKind),
    /// The group/version is cached but does not list the kind.
    Missing,
    /// The group/version is not cached.
    Unknown,
}

impl KubeAdapter {
    /// The resource serving `kind` in `api_version`, or `None` when the server does not serve it.
    /// A cached answer is used when it lists the kind; otherwise the list is fetched again.
    pub async fn resolve(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<ResolvedKind>, KubeError> {
        if let Lookup::Found(r) = self.inner.discovery.lookup(api_version, kind) {
            return Ok(Some(r));
        }
        match self.fetch_resources(api_version).await? {
            Some(list) => {
                let found = list.iter().find(|r| r.kind == kind).cloned();
                self.inner.discovery.store(api_version, list);
                Ok(found)
            }
            None => {
                self.inner.discovery.forget(api_version);
                Ok(None)
            }
        }
    }

    /// Resolves or fails with [`KubeError::ResourceUnknown`].
    pub(crate) async fn require(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<ResolvedKind, KubeError> {
        self.resolve(api_version, kind).await?.ok_or_else(|| {
            KubeError::ResourceUnknown(format!(
                "{kind} ({api_version}) is not served by the cluster: the server could not find the requested resource"
            ))
        })
    }

    async fn fetch_resources(
        &self,
        api_version: &str,
    ) -> Result<Option<Vec<ResolvedKind>>, KubeError> {
        let (group, version) = crate::core::kube::split_api_version(api_version);
        let path = if group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{group}/{version}")
        };
        let call = ApiCall {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            resource: "discovery".into(),
            secret: false,
        };
        let doc = match self.call(&call).await {
            Ok(v) => v,
            Err(KubeError::NotFound(_) | KubeError::ResourceUnknown(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let list = doc
            .get("resources")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| {
                        let plural = r.get("name").and_then(Value::as_str)?;
                        if plural.contains('/') {
                            return None; // subresources (`deployments/scale`)
                        }
                        Some(ResolvedKind {
                            group: group.to_string(),
                            version: version.to_string(),
                            kind: r.get("kind").and_then(Value::as_str)?.to_string(),
                            plural: plural.to_string(),
                            namespaced: r
                                .get("namespaced")
                                .and_then(Value::as_bool)
                                .unwrap_or(false),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(list))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let d = ResolvedKind {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            plural: "deployments".into(),
            namespaced: true,
        };
        assert_eq!(d.api_version(), "apps/v1");
        assert_eq!(d.collection_path(None), "/apis/apps/v1/deployments");
        assert_eq!(
            d.object_path(Some("ci"), "web"),
            "/apis/apps/v1/namespaces/ci/deployments/web"
        );
        let ns = ResolvedKind {
            group: String::new(),
            version: "v1".into(),
            kind: "Namespace".into(),
            plural: "namespaces".into(),
            namespaced: false,
        };
        assert_eq!(
            ns.object_path(Some("ignored"), "ci"),
            "/api/v1/namespaces/ci"
        );
    }
}
