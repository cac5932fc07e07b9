//! Request routing and the read side of the API: path parsing into discovery or resource
//! targets, verbs, discovery documents (with ETag / 304), GET and LIST (label and field
//! selectors, `limit`/`continue`), and the shared server `State`.
//!
//! Writes are in `write`, watches in `watch`; HTTP plumbing is in `server`.

use std::collections::HashMap;

use base64::Engine as _;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::catalog::{etag, Catalog, ResourceInfo};
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::rollout::Rollout;
use crate::store::Store;
use crate::strategy::Allocators;

/// Everything the server knows, behind one lock.
#[derive(Debug)]
pub struct State {
    /// Objects and history.
    pub store: Store,
    /// Served resources.
    pub catalog: Catalog,
    /// IP and port allocators.
    pub alloc: Allocators,
    /// Oldest watchable resourceVersion per CRD resource (its watch cache start).
    pub crd_floor: HashMap<(String, String), u64>,
    /// Deployment rollout bookkeeping by uid.
    pub rollouts: HashMap<String, Rollout>,
    /// When each workload generation (by uid) was first seen, for `rollout_delay`.
    pub first_seen: HashMap<String, (i64, std::time::Instant)>,
    /// Instants at which the controllers must act again (drained by the server).
    pub wakeups: Vec<std::time::Instant>,
    /// Namespaces (by uid) whose default content the namespace controller created.
    pub initialized: std::collections::HashSet<String>,
    /// Options.
    pub config: ServerConfig,
    /// What changed since each controller last looked (see `tracker`).
    pub tracker: crate::tracker::Tracker,
}

impl State {
    /// A fresh state.
    pub fn new(config: ServerConfig) -> Self {
        State {
            store: Store::new(config.watch_history.max(1)),
            catalog: Catalog::default(),
            alloc: Allocators::default(),
            crd_floor: HashMap::new(),
            rollouts: HashMap::new(),
            initialized: Default::default(),
            first_seen: HashMap::new(),
            wakeups: Vec::new(),
            config,
            tracker: Default::default(),
        }
    }
}

/// A request as the API layer sees it.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    /// HTTP method, upper case.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// `Content-Type` (may be empty).
    pub content_type: String,
    /// `Accept` (may be empty).
    pub accept: String,
    /// `If-None-Match`.
    pub if_none_match: Option<String>,
    /// `User-Agent`.
    pub user_agent: String,
    /// Body bytes.
    pub body: Bytes,
    /// The impersonated identity (`Impersonate-User`/`Impersonate-Group`); `None` is the admin
    /// (`system:masters`).
    pub user: Option<crate::rbac::UserInfo>,
}

impl ApiRequest {
    /// First value of a query parameter.
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    /// True when `dryRun=All` is in the query.
    pub fn dry_run(&self) -> bool {
        self.query.iter().any(|(k, v)| k == "dryRun" && v == "All")
    }
    /// The manager name for non-apply writes: `fieldManager`, or the User-Agent up to `/`.
    pub fn manager(&self) -> String {
        match self.q("fieldManager") {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => {
                let ua = self.user_agent.split('/').next().unwrap_or_default();
                if ua.is_empty() {
                    "unknown".to_string()
                } else {
                    ua.to_string()
                }
            }
        }
    }
}

/// A response body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// JSON.
    Json(Value),
    /// Text.
    Text(String),
    /// Nothing.
    Empty,
}

/// A response.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// Content type (empty for none).
    pub content_type: String,
    /// Body.
    pub body: Body,
    /// `Warning` header values.
    pub warnings: Vec<String>,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

impl ApiResponse {
    /// A JSON response.
    pub fn json(status: u16, v: Value) -> Self {
        ApiResponse {
            status,
            content_type: "application/json".into(),
            body: Body::Json(v),
            warnings: Vec::new(),
            headers: Vec::new(),
        }
    }
    /// An error response.
    pub fn error(e: &ApiError) -> Self {
        match e.to_status() {
            Some(s) => Self::json(e.code(), s),
            None => ApiResponse {
                status: 404,
                content_type: "text/plain; charset=utf-8".into(),
                body: Body::Text("404 page not found\n".into()),
                warnings: Vec::new(),
                headers: Vec::new(),
            },
        }
    }
}

/// A resource request target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource.
    pub info: ResourceInfo,
    /// Namespace from the path.
    pub namespace: Option<String>,
    /// Object name from the path.
    pub name: Option<String>,
    /// Subresource from the path.
    pub sub: Option<String>,
}

impl Target {
    /// The group objects of this resource are stored under: the core group for
    /// `events.k8s.io` events, which share their storage with core events.
    pub fn store_group(&self) -> &str {
        if crate::events::is_event(self) {
            ""
        } else {
            &self.info.group
        }
    }

    /// Store key of the named object.
    pub fn key(&self) -> crate::store::Key {
        (
            self.store_group().to_string(),
            self.info.resource.clone(),
            if self.info.namespaced {
                self.namespace.clone().unwrap_or_default()
            } else {
                String::new()
            },
            self.name.clone().unwrap_or_default(),
        )
    }
}

/// What a path addresses.
#[derive(Debug, Clone)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/api`.
    Api,
    /// `/apis`.
    Apis,
    /// `/apis/{group}`.
    Group(String),
    /// `/api/v1` or `/apis/{group}/{version}`.
    GroupVersion(String, String),
    /// `/openapi/v3` (empty) or `/openapi/v3/{rest}`.
    OpenApi(String),
    /// A resource or object.
    Resource(Target),
    /// An error answer.
    Error(ApiError),
}

/// Parses a path against the catalogue.
pub fn route(catalog: &Catalog, path: &str) -> Route {
    let segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segs.as_slice() {
        ["version"] => return Route::Version,
        ["api"] => return Route::Api,
        ["apis"] => return Route::Apis,
        ["openapi", "v3", rest @ ..] => return Route::OpenApi(rest.join("/")),
        ["apis", g] => {
            return if catalog.has_group(g) {
                Route::Group(g.to_string())
            } else {
                Route::Error(ApiError::PlainNotFound)
            }
        }
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Route::Error(ApiError::PlainNotFound),
    };
    if catalog.group_version(group, version).is_none() {
        return Route::Error(ApiError::PlainNotFound);
    }
    if rest.is_empty() {
        return Route::GroupVersion(group.to_string(), version.to_string());
    }
    let unknown = || {
        if catalog.is_custom_group(group) {
            Route::Error(ApiError::PlainNotFound)
        } else {
            Route::Error(ApiError::no_resource())
        }
    };
    let (namespace, resource, name, sub, extra) = match rest {
        ["namespaces", ns, r, tail @ ..]
            if !(tail.is_empty() && matches!(*r, "status" | "finalize") && group.is_empty()) =>
        {
            (
                Some(ns.to_string()),
                *r,
                tail.first().map(|s| s.to_string()),
                tail.get(1).map(|s| s.to_string()),
                tail.len() > 2,
            )
        }
        [r, tail @ ..] => (
            None,
            *r,
            tail.first().map(|s| s.to_string()),
            tail.get(1).map(|s| s.to_string()),
            tail.len() > 2,
        ),
        [] => return unknown(),
    };
    let Some(info) = catalog.find(group, version, resource) else {
        return unknown();
    };
    if extra || (namespace.is_some() && !info.namespaced) {
        return unknown();
    }
    if let Some(s) = &sub {
        if !info.has_sub(s) {
            return unknown();
        }
    }
    Route::Resource(Target {
        info: info.clone(),
        namespace,
        name,
        sub,
    })
}

/// The verb of a request to a target.
pub fn verb(req: &ApiRequest, t: Option<&Target>) -> &'static str {
    let named = t.is_some_and(|t| t.name.is_some());
    match req.method.as_str() {
        "GET" if t.is_none() && req.path.starts_with("/openapi/") => "openapi",
        "GET" if t.is_none() => "discovery",
        "GET" if named => "get",
        "GET" if matches!(req.q("watch"), Some("true") | Some("1")) => "watch",
        "GET" => "list",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" if req.content_type.starts_with("application/apply-patch") => "apply",
        "PATCH" => "patch",
        "DELETE" if named => "delete",
        "DELETE" => "deletecollection",
        _ => "unknown",
    }
}

/// The fixed `/version` document.
pub fn version_doc() -> Value {
    json!({
        "major": "1", "minor": "36",
        "emulationMajor": "1", "emulationMinor": "36",
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "35",
        "gitVersion": "v1.36.2", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.27.3", "compiler": "gc", "platform": "linux/amd64"
    })
}

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn wants_aggregated(req: &ApiRequest) -> bool {
    req.accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=APIGroupDiscoveryList") && first.contains("v=v2"))
}

/// Answers a discovery route.
pub fn discovery(state: &State, req: &ApiRequest, r: &Route) -> ApiResponse {
    let aggregated = |core: bool| {
        let doc = state.catalog.aggregated(core);
        let tag = etag(&doc);
        let headers = vec![
            ("ETag".to_string(), tag.clone()),
            ("Vary".to_string(), "Accept".to_string()),
        ];
        if req.if_none_match.as_deref() == Some(tag.as_str()) {
            return ApiResponse {
                status: 304,
                content_type: String::new(),
                body: Body::Empty,
                warnings: Vec::new(),
                headers,
            };
        }
        ApiResponse {
            status: 200,
            content_type: AGGREGATED.into(),
            body: Body::Json(doc),
            warnings: Vec::new(),
            headers,
        }
    };
    match r {
        Route::Version => ApiResponse::json(200, version_doc()),
        Route::Api if wants_aggregated(req) => aggregated(true),
        Route::Api => ApiResponse::json(
            200,
            state.catalog.api_versions(&state.config.server_address),
        ),
        Route::Apis if wants_aggregated(req) => aggregated(false),
        Route::Apis => ApiResponse::json(200, state.catalog.api_group_list()),
        Route::Group(g) => match state.catalog.api_group(g) {
            Some(doc) => ApiResponse::json(200, doc),
            None => ApiResponse::error(&ApiError::PlainNotFound),
        },
        Route::GroupVersion(g, v) => match state.catalog.api_resource_list(g, v) {
            Some(doc) => ApiResponse::json(200, doc),
            None => ApiResponse::error(&ApiError::PlainNotFound),
        },
        Route::OpenApi(rest) if rest.is_empty() => {
            ApiResponse::json(200, crate::openapi::index(&state.catalog))
        }
        Route::OpenApi(rest) => match crate::openapi::lookup(&state.catalog, rest) {
            Some(doc) => ApiResponse::json(200, doc),
            None => ApiResponse::error(&ApiError::PlainNotFound),
        },
        Route::Resource(_) => ApiResponse::error(&ApiError::no_resource()),
        Route::Error(e) => ApiResponse::error(e),
    }
}

/// Adapts a stored object to the requested version (`apiVersion` only; there is no
/// conversion).
pub fn present(t: &Target, obj: &Value) -> Value {
    if crate::events::is_event(t) {
        return crate::events::present(obj, &t.info.group);
    }
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.insert("apiVersion".into(), json!(t.info.api_version()));
    }
    o
}

/// GET of an object (or its status/scale).
pub fn get(state: &State, t: &Target) -> Result<Value, ApiError> {
    let obj = state.store.get(&t.key()).ok_or_else(|| {
        ApiError::not_found(
            &t.info.group,
            &t.info.resource,
            t.name.as_deref().unwrap_or_default(),
        )
    })?;
    if t.sub.as_deref() == Some("scale") {
        return Ok(scale_of(obj));
    }
    Ok(present(t, obj))
}

/// The `autoscaling/v1` Scale of a scalable object.
pub fn scale_of(obj: &Value) -> Value {
    let m = &obj["metadata"];
    let mut meta = serde_json::Map::new();
    for k in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = m.get(k) {
            meta.insert(k.into(), v.clone());
        }
    }
    let selector = obj["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|ml| {
            ml.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let mut status = serde_json::Map::new();
    status.insert(
        "replicas".into(),
        json!(obj["status"]["replicas"].as_i64().unwrap_or(0)),
    );
    if !selector.is_empty() {
        status.insert("selector".into(), json!(selector));
    }
    json!({
        "kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
        "spec": {"replicas": obj["spec"]["replicas"].as_i64().unwrap_or(0)},
        "status": status
    })
}

/// A parsed label selector requirement.
#[derive(Debug, Clone, PartialEq)]
enum Req {
    Eq(String, String),
    Ne(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

fn parse_selector(s: &str) -> Result<Vec<Req>, ApiError> {
    let mut out = Vec::new();
    for part in split_top(s) {
        let p = part.trim();
        let set = |rest: &str| -> Vec<String> {
            rest.trim()
                .trim_start_matches('(')
                .trim_end_matches(')')
                .split(',')
                .map(|x| x.trim().to_string())
                .collect()
        };
        if let Some((k, v)) = p.split_once("!=") {
            out.push(Req::Ne(k.trim().into(), v.trim().into()));
        } else if let Some((k, v)) = p.split_once("==") {
            out.push(Req::Eq(k.trim().into(), v.trim().into()));
        } else if let Some((k, v)) = p.split_once('=') {
            out.push(Req::Eq(k.trim().into(), v.trim().into()));
        } else if let Some((k, v)) = p.split_once(" notin ") {
            out.push(Req::NotIn(k.trim().into(), set(v)));
        } else if let Some((k, v)) = p.split_once(" in ") {
            out.push(Req::In(k.trim().into(), set(v)));
        } else if let Some(k) = p.strip_prefix('!') {
            out.push(Req::NotExists(k.trim().into()));
        } else if !p.is_empty() && !p.contains(' ') {
            out.push(Req::Exists(p.into()));
        } else {
            return Err(ApiError::bad_request(format!(
                "unable to parse requirement: {p}"
            )));
        }
    }
    Ok(out)
}

/// A label and field selector.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    labels: Vec<Req>,
    fields: Vec<Req>,
}

impl Selector {
    /// Parses `labelSelector` and `fieldSelector` of a request.
    pub fn from_request(req: &ApiRequest) -> Result<Self, ApiError> {
        Ok(Selector {
            labels: parse_selector(req.q("labelSelector").unwrap_or_default())?,
            fields: parse_selector(req.q("fieldSelector").unwrap_or_default())?,
        })
    }
    /// True when there is a label or field selector.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }
    /// True when the object matches.
    pub fn matches(&self, obj: &Value) -> bool {
        let label = |k: &str| {
            obj.pointer("/metadata/labels")
                .and_then(|l| l.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let field = |k: &str| {
            let ptr = format!("/{}", k.replace('.', "/"));
            obj.pointer(&ptr).and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| Some(v.to_string()))
            })
        };
        let check = |reqs: &[Req], get: &dyn Fn(&str) -> Option<String>| {
            reqs.iter().all(|r| match r {
                Req::Eq(k, v) => get(k).as_deref() == Some(v.as_str()),
                Req::Ne(k, v) => get(k).as_deref() != Some(v.as_str()),
                Req::In(k, vs) => get(k).is_some_and(|x| vs.contains(&x)),
                Req::NotIn(k, vs) => get(k).is_none_or(|x| !vs.contains(&x)),
                Req::Exists(k) => get(k).is_some(),
                Req::NotExists(k) => get(k).is_none(),
            })
        };
        check(&self.labels, &label) && check(&self.fields, &field)
    }
}

fn continue_token(rv: u64, start: &str) -> String {
    let raw =
        json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{start}\u{0}")}).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn parse_continue(token: &str) -> Option<String> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&raw).ok()?;
    v["start"]
        .as_str()
        .map(|s| s.trim_end_matches('\u{0}').to_string())
}

/// Position key of an object in a list (`namespace/name`).
fn list_pos(obj: &Value) -> String {
    let ns = obj
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if ns.is_empty() {
        format!("/{name}")
    } else {
        format!("/{ns}/{name}")
    }
}

/// LIST of a resource.
pub fn list(state: &State, t: &Target, req: &ApiRequest) -> Result<Value, ApiError> {
    let sel = Selector::from_request(req)?;
    let event = crate::events::is_event(t);
    if event {
        crate::events::check_field_labels(t, req.q("fieldSelector").unwrap_or_default())?;
    }
    let ns = if t.info.namespaced {
        t.namespace.as_deref()
    } else {
        None
    };
    let mut items: Vec<Value> = state
        .store
        .list(t.store_group(), &t.info.resource, ns)
        .into_iter()
        .map(|o| {
            if event {
                crate::events::to_shape(o, &t.info.group)
            } else {
                o.clone()
            }
        })
        .filter(|o| sel.matches(o))
        .collect();
    if let Some(start) = req.q("continue").and_then(parse_continue) {
        items.retain(|o| list_pos(o).as_str() > start.as_str());
    }
    let rv = if req.q("resourceVersion") == Some("0") {
        state.store.resource_rv(t.store_group(), &t.info.resource)
    } else {
        state.store.rv()
    };
    let mut meta = serde_json::Map::new();
    meta.insert("resourceVersion".into(), json!(rv.to_string()));
    let limit: usize = req.q("limit").and_then(|l| l.parse().ok()).unwrap_or(0);
    if limit > 0 && items.len() > limit {
        let rest = items.split_off(limit);
        let last = items.last().map(list_pos).unwrap_or_default();
        meta.insert("continue".into(), json!(continue_token(rv, &last)));
        if sel.is_empty() {
            meta.insert("remainingItemCount".into(), json!(rest.len()));
        }
    }
    let items: Vec<Value> = items
        .into_iter()
        .map(|mut o| {
            if t.info.custom || event {
                o = present(t, &o);
            }
            if !t.info.custom {
                if let Some(m) = o.as_object_mut() {
                    m.shift_remove("kind");
                    m.shift_remove("apiVersion");
                }
            }
            o
        })
        .collect();
    Ok(json!({
        "kind": format!("{}List", t.info.kind),
        "apiVersion": t.info.api_version(),
        "metadata": meta,
        "items": items
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let c = Catalog::default();
        assert!(
            matches!(route(&c, "/api/v1/namespaces/a/configmaps/x"), Route::Resource(t) if t.name.as_deref() == Some("x"))
        );
        assert!(
            matches!(route(&c, "/api/v1/namespaces/a"), Route::Resource(t) if t.info.resource == "namespaces")
        );
        assert!(
            matches!(route(&c, "/api/v1/namespaces/a/status"), Route::Resource(t) if t.sub.as_deref() == Some("status"))
        );
        assert!(matches!(
            route(&c, "/apis/apps/v1/namespaces/a/things"),
            Route::Error(ApiError::Status { code: 404, .. })
        ));
        assert!(matches!(
            route(&c, "/apis/nope.example.com/v1/x"),
            Route::Error(ApiError::PlainNotFound)
        ));
    }

    #[test]
    fn selectors() {
        let req = ApiRequest {
            query: vec![("labelSelector".into(), "a=b,c in (x,y),!d".into())],
            ..Default::default()
        };
        let s = Selector::from_request(&req).expect("parse");
        assert!(s.matches(&json!({"metadata": {"labels": {"a": "b", "c": "y"}}})));
        assert!(!s.matches(&json!({"metadata": {"labels": {"a": "b", "c": "y", "d": "1"}}})));
        assert_eq!(
            parse_continue(&continue_token(5, "/ns/b")).as_deref(),
            Some("/ns/b")
        );
    }
}
