//! The request log: every request the server answered, with method, path, query, verb,
//! resource, namespace, name, dryRun flag, user agent, impersonated user and status, plus
//! counting helpers such as
//! "how many writes" for "a no-op reconcile made 0 writes" assertions.
//!
//! It records what clients sent; writes made by the simulated controllers are not requests and
//! are not logged.

use std::sync::{Arc, Mutex};

/// One answered request.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedRequest {
    /// HTTP method.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Query pairs in order.
    pub query: Vec<(String, String)>,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `apply`, `delete`, `discovery`,
    /// `openapi` (OpenAPI v3 index and documents), or `unknown`.
    pub verb: String,
    /// API group (`""` for core).
    pub group: String,
    /// Plural resource, with `/subresource` appended for subresource requests.
    pub resource: String,
    /// Namespace, if any.
    pub namespace: Option<String>,
    /// Object name, if any.
    pub name: Option<String>,
    /// `dryRun=All` was requested.
    pub dry_run: bool,
    /// `User-Agent` header.
    pub user_agent: String,
    /// The impersonated user (`Impersonate-User`), `None` for the admin.
    pub user: Option<String>,
    /// HTTP status answered.
    pub status: u16,
    /// True when a fault rule answered instead of the API.
    pub faulted: bool,
    /// True when the request changed stored state (a no-op apply or update does not).
    pub changed: bool,
}

impl LoggedRequest {
    /// True for a successful, non-dry-run mutation (create, update, patch, apply, delete).
    pub fn is_write(&self) -> bool {
        matches!(
            self.verb.as_str(),
            "create" | "update" | "patch" | "apply" | "delete"
        ) && !self.dry_run
            && (200..300).contains(&self.status)
    }
}

/// Shared, append-only request log.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    inner: Arc<Mutex<Vec<LoggedRequest>>>,
}

impl RequestLog {
    /// Appends an entry.
    pub fn push(&self, r: LoggedRequest) {
        self.lock().push(r);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<LoggedRequest>> {
        // A poisoned lock only means a panic elsewhere while pushing; the Vec is still valid.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A copy of all entries.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.lock().clone()
    }

    /// Forgets everything logged so far (e.g. after test setup).
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Number of successful non-dry-run writes.
    pub fn writes(&self) -> usize {
        self.lock().iter().filter(|r| r.is_write()).count()
    }

    /// Number of requests that changed stored state (no-op applies and dry runs excluded).
    pub fn changes(&self) -> usize {
        self.lock().iter().filter(|r| r.changed).count()
    }

    /// Number of requests with this verb and resource (`None` matches any resource).
    pub fn count(&self, verb: &str, resource: Option<&str>) -> usize {
        self.lock()
            .iter()
            .filter(|r| r.verb == verb && resource.is_none_or(|res| r.resource == res))
            .count()
    }

    /// The requests made as `user` (impersonated).
    pub fn by_user(&self, user: &str) -> Vec<LoggedRequest> {
        self.lock()
            .iter()
            .filter(|r| r.user.as_deref() == Some(user))
            .cloned()
            .collect()
    }

    /// Number of GETs of one object.
    pub fn gets_of(&self, resource: &str, namespace: Option<&str>, name: &str) -> usize {
        self.lock()
            .iter()
            .filter(|r| {
                r.verb == "get"
                    && r.resource == resource
                    && r.namespace.as_deref() == namespace
                    && r.name.as_deref() == Some(name)
            })
            .count()
    }

    /// Counts by (verb, resource), sorted.
    pub fn counts(&self) -> Vec<((String, String), usize)> {
        let mut m: std::collections::BTreeMap<(String, String), usize> = Default::default();
        for r in self.lock().iter() {
            *m.entry((r.verb.clone(), r.resource.clone())).or_default() += 1;
        }
        m.into_iter().collect()
    }
}
