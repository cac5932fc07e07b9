//! HTTP plumbing: the axum service on 127.0.0.1 that turns HTTP requests into `ApiRequest`s,
//! applies fault rules, dispatches to discovery / read / write / watch, lets the controllers
//! settle after writes, logs every request and writes the HTTP response (Status bodies,
//! `Warning`, `ETag`, `Cache-Control`, streaming watch bodies).
//!
//! Kubernetes semantics live in `api`, `write`, `watch` and `controllers`; this module only
//! connects them to HTTP.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Body as AxumBody;
use axum::extract::{Request, State as AxState};
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};

use crate::api::{self, ApiRequest, ApiResponse, Body, Route, State};
use crate::controllers::settle;
use crate::error::ApiError;
use crate::faults::{FaultAction, Faults};
use crate::reqlog::{LoggedRequest, RequestLog};
use crate::{watch, write};

/// State shared by all requests of one server.
#[derive(Debug)]
pub struct Shared {
    /// The API state.
    pub state: Mutex<State>,
    /// Request log.
    pub log: RequestLog,
    /// Fault rules.
    pub faults: Faults,
}

impl Shared {
    /// Locks the state (a poisoned lock is recovered: every write replaces whole objects).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Current time, whole seconds, RFC 3339.
pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The axum router of a server.
pub fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(handle).with_state(shared)
}

fn header(req: &Request, name: &str) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn handle(AxState(shared): AxState<Arc<Shared>>, req: Request) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query: Vec<(String, String)> = req
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let mut areq = ApiRequest {
        method,
        path,
        query,
        content_type: header(&req, "content-type"),
        accept: header(&req, "accept"),
        if_none_match: req
            .headers()
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        user_agent: header(&req, "user-agent"),
        body: Bytes::new(),
        user: None,
    };
    let impersonate_user = req
        .headers()
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let impersonate_groups: Vec<String> = req
        .headers()
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    areq.body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();

    let (route, verb) = {
        let st = shared.lock();
        let r = api::route(&st.catalog, &areq.path);
        let v = match &r {
            Route::Resource(t) => api::verb(&areq, Some(t)),
            _ => api::verb(&areq, None),
        };
        (r, v)
    };
    let mut entry = LoggedRequest {
        method: areq.method.clone(),
        path: areq.path.clone(),
        query: areq.query.clone(),
        verb: verb.to_string(),
        group: String::new(),
        resource: String::new(),
        namespace: None,
        name: None,
        dry_run: areq.dry_run(),
        user_agent: areq.user_agent.clone(),
        user: impersonate_user.clone(),
        status: 0,
        faulted: false,
        changed: false,
    };
    if let Route::Resource(t) = &route {
        entry.group = t.info.group.clone();
        entry.resource = match &t.sub {
            Some(s) => format!("{}/{}", t.info.resource, s),
            None => t.info.resource.clone(),
        };
        entry.namespace = t.namespace.clone();
        entry.name = t.name.clone();
        if verb == "delete" && !areq.body.is_empty() {
            let opts: serde_json::Value = serde_json::from_slice(&areq.body).unwrap_or_default();
            entry.dry_run |= opts["dryRun"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "All"));
        }
    }

    let mut drop_answer = false;
    if let Some(action) = shared.faults.check(verb, &areq.path) {
        let fault = match action {
            FaultAction::DropAnswer => {
                drop_answer = true;
                None
            }
            FaultAction::Hang(d) => {
                tokio::time::sleep(d).await;
                None
            }
            FaultAction::TooManyRequests { retry_after_secs } => {
                let e = ApiError::new(
                    429,
                    "TooManyRequests",
                    "the server has received too many requests and has asked us to try again later",
                    Some(serde_json::json!({"retryAfterSeconds": retry_after_secs})),
                );
                let mut r = ApiResponse::error(&e);
                r.headers.push(("Retry-After".into(), retry_after_secs.to_string()));
                Some(r)
            }
            FaultAction::InternalError => Some(ApiResponse::error(&ApiError::new(
                500,
                "InternalError",
                "Internal error occurred: injected fault",
                Some(serde_json::json!({"causes": [{"message": "injected fault"}]})),
            ))),
            FaultAction::Conflict => Some(ApiResponse::error(&ApiError::new(
                409,
                "Conflict",
                "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again",
                Some(serde_json::json!({})),
            ))),
            denied @ FaultAction::AdmissionDenied { .. } => {
                let (code, status) = crate::faults::admission_denial(&denied);
                Some(ApiResponse::json(code, status))
            }
            FaultAction::Drop => {
                entry.status = 0;
                entry.faulted = true;
                shared.log.push(entry);
                return dropped();
            }
        };
        if let Some(r) = fault {
            entry.status = r.status;
            entry.faulted = true;
            shared.log.push(entry);
            return to_http(r);
        }
    }

    match (&impersonate_user, impersonate_groups.is_empty()) {
        (Some(name), _) => {
            areq.user = Some(crate::rbac::UserInfo::impersonated(
                name,
                &impersonate_groups,
            ))
        }
        (None, false) => {
            let r = ApiResponse::error(&ApiError::new(
                500,
                "InternalError",
                "Internal error occurred: requested impersonation of groups without impersonating a user",
                Some(serde_json::json!({})),
            ));
            entry.status = r.status;
            shared.log.push(entry);
            return to_http(r);
        }
        (None, true) => {}
    }
    let authorized = {
        let st = shared.lock();
        crate::rbac::check_request(&st, &areq)
    };
    if let Err(e) = authorized {
        let r = ApiResponse::error(&e);
        entry.status = r.status;
        shared.log.push(entry);
        return to_http(r);
    }

    if verb == "watch" {
        if let Route::Resource(t) = &route {
            let planned = {
                let st = shared.lock();
                watch::plan(&st, t, &areq)
            };
            return match planned {
                Ok(plan) => {
                    entry.status = 200;
                    shared.log.push(entry);
                    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(256);
                    tokio::spawn(watch::run(plan, tx));
                    let stream = futures::stream::unfold(rx, |mut rx| async move {
                        rx.recv()
                            .await
                            .map(|b| (Ok::<Bytes, std::io::Error>(b), rx))
                    });
                    let mut resp = Response::new(AxumBody::from_stream(stream));
                    resp.headers_mut()
                        .insert("content-type", HeaderValue::from_static("application/json"));
                    resp.headers_mut().insert(
                        "cache-control",
                        HeaderValue::from_static("no-cache, private"),
                    );
                    resp
                }
                Err(e) => {
                    let r = ApiResponse::error(&e);
                    entry.status = r.status;
                    shared.log.push(entry);
                    to_http(r)
                }
            };
        }
    }

    let (resp, changed) = dispatch(&shared, &route, verb, &areq);
    entry.status = resp.status;
    entry.changed = changed;
    if drop_answer {
        entry.faulted = true;
        shared.log.push(entry);
        return dropped();
    }
    shared.log.push(entry);
    to_http(resp)
}

/// A response whose body fails at once: the client sees the connection reset, no answer.
fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected drop",
        ))
    });
    Response::new(AxumBody::from_stream(stream))
}

fn dispatch(
    shared: &Arc<Shared>,
    route: &Route,
    verb: &str,
    req: &ApiRequest,
) -> (ApiResponse, bool) {
    let t = match route {
        Route::Resource(t) => t,
        other => {
            if req.method != "GET" {
                let r = match other {
                    Route::Error(e) => ApiResponse::error(e),
                    _ => ApiResponse::error(&ApiError::new(
                        405,
                        "MethodNotAllowed",
                        "the server does not allow this method on the requested resource",
                        Some(serde_json::json!({})),
                    )),
                };
                return (r, false);
            }
            let st = shared.lock();
            return (api::discovery(&st, req, other), false);
        }
    };
    let now = now();
    let mut st = shared.lock();
    let result = match verb {
        "create" if crate::rbac::is_review(t) => {
            crate::rbac::review(&st, t, req, &now).map(|v| write::WriteResult {
                status: 201,
                body: v,
                warnings: Vec::new(),
                wrote: false,
            })
        }
        "get" => api::get(&st, t).map(|v| write::WriteResult {
            status: 200,
            body: v,
            warnings: Vec::new(),
            wrote: false,
        }),
        "list" => api::list(&st, t, req).map(|v| write::WriteResult {
            status: 200,
            body: v,
            warnings: Vec::new(),
            wrote: false,
        }),
        "create" if t.name.is_none() && t.sub.is_none() => write::create(&mut st, t, req, &now),
        "update" if t.name.is_some() => write::update(&mut st, t, req, &now),
        "patch" if t.name.is_some() => write::patch(&mut st, t, req, &now),
        "apply" if t.name.is_some() => write::apply(&mut st, t, req, &now),
        "delete" if t.sub.is_none() => write::delete(&mut st, t, req, &now),
        "deletecollection" => write::delete_collection(&mut st, t, req, &now),
        _ => Err(ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            Some(serde_json::json!({})),
        )),
    };
    let result = match (result, crate::table::wanted(req)) {
        (Ok(mut w), Some(version))
            if t.info.custom && t.sub.is_none() && matches!(verb, "get" | "list") =>
        {
            w.body = crate::table::render(&st, t, req, version, &w.body);
            Ok(w)
        }
        (r, _) => r,
    };
    match result {
        Ok(w) => {
            if w.wrote {
                let delay = st.config.settle_delay;
                if delay.is_zero() {
                    settle(&mut st, &now);
                    schedule_wakeups(shared, &mut st);
                } else {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let mut st = shared.lock();
                        settle(&mut st, &crate::server::now());
                        schedule_wakeups(&shared, &mut st);
                    });
                }
            }
            let mut r = ApiResponse::json(w.status, w.body);
            r.warnings = w.warnings;
            (r, w.wrote)
        }
        Err(e) => (ApiResponse::error(&e), false),
    }
}

/// Lets the controllers act again at the instants they asked for (`rollout_delay`).
fn schedule_wakeups(shared: &Arc<Shared>, st: &mut State) {
    for at in std::mem::take(&mut st.wakeups) {
        let shared = shared.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
            let mut st = shared.lock();
            settle(&mut st, &crate::server::now());
            schedule_wakeups(&shared, &mut st);
        });
    }
}

fn to_http(r: ApiResponse) -> Response {
    let aggregated = r.content_type.contains("apidiscovery");
    let body = match r.body {
        Body::Json(v) => AxumBody::from(v.to_string()),
        Body::Text(t) => AxumBody::from(t),
        Body::Empty => AxumBody::empty(),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() =
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    if !r.content_type.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&r.content_type) {
            h.insert("content-type", v);
        }
    }
    h.insert(
        "cache-control",
        HeaderValue::from_static(if aggregated {
            "public"
        } else {
            "no-cache, private"
        }),
    );
    for w in r.warnings {
        if let Ok(v) = HeaderValue::from_str(&w) {
            h.append("warning", v);
        }
    }
    for (k, v) in r.headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            h.insert(k, v);
        }
    }
    resp
}
