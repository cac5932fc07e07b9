//! WATCH: replay from a resourceVersion (410 `Expired` as an ERROR event when it is older than
//! the history kept, or than a CRD's watch cache start), streaming lists (`sendInitialEvents`
//! with the `k8s.io/initial-events-end` bookmark), label/field selectors (an object leaving the
//! selector is DELETED with its previous content), bookmarks and `timeoutSeconds`.
//!
//! Bookmarks come once, `max(1, timeoutSeconds - 2)` seconds after the start when a timeout is
//! given (the apiserver sends them 1-3 s before the timeout), else every 60 s.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::{broadcast, mpsc};

use crate::api::{present, ApiRequest, Selector, State, Target};
use crate::error::ApiError;
use crate::store::{Event, EventType};

/// A prepared watch: what to send first, and what to follow.
#[derive(Debug)]
pub struct WatchPlan {
    initial: Vec<Value>,
    rx: Option<broadcast::Receiver<Arc<Event>>>,
    start_rv: u64,
    target: Target,
    selector: Selector,
    bookmarks: bool,
    timeout: Option<Duration>,
    kind: String,
    api_version: String,
}

fn line(v: &Value) -> Bytes {
    let mut s = v.to_string();
    s.push('\n');
    Bytes::from(s)
}

fn event_json(t: &EventType, obj: &Value) -> Value {
    json!({"type": t.as_str(), "object": obj})
}

/// What a watcher sees of a store event, if anything.
fn filter(target: &Target, sel: &Selector, e: &Event) -> Option<Value> {
    if e.group != target.store_group() || e.resource != target.info.resource {
        return None;
    }
    if target.info.namespaced {
        if let Some(ns) = &target.namespace {
            if &e.namespace != ns {
                return None;
            }
        }
    }
    if let Some(name) = &target.name {
        if e.object.pointer("/metadata/name").and_then(Value::as_str) != Some(name.as_str()) {
            return None;
        }
    }
    let now = sel.matches(&e.object);
    let before = e.old.as_ref().is_some_and(|o| sel.matches(o));
    match e.kind {
        EventType::Added if now => Some(event_json(&EventType::Added, &present(target, &e.object))),
        EventType::Modified if now && before => Some(event_json(
            &EventType::Modified,
            &present(target, &e.object),
        )),
        EventType::Modified if now => {
            Some(event_json(&EventType::Added, &present(target, &e.object)))
        }
        EventType::Modified if before => {
            let mut old = e.old.clone().unwrap_or(Value::Null);
            crate::store::set_rv(&mut old, e.rv);
            Some(event_json(&EventType::Deleted, &present(target, &old)))
        }
        EventType::Deleted if before || now => {
            Some(event_json(&EventType::Deleted, &present(target, &e.object)))
        }
        _ => None,
    }
}

/// Prepares a watch under the state lock (so no event is missed between replay and follow).
pub fn plan(state: &State, t: &Target, req: &ApiRequest) -> Result<WatchPlan, ApiError> {
    let selector = Selector::from_request(req)?;
    let send_initial = req.q("sendInitialEvents") == Some("true");
    if send_initial && req.q("resourceVersionMatch") != Some("NotOlderThan") {
        return Err(ApiError::new(
            422,
            "Invalid",
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            Some(json!({"group": "meta.k8s.io", "kind": "ListOptions", "causes": [{"reason": "FieldValueForbidden",
                "message": "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan", "field": "resourceVersionMatch"}]})),
        ));
    }
    let bookmarks = req.q("allowWatchBookmarks") == Some("true");
    let timeout = req
        .q("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs);
    let rv_param = req.q("resourceVersion").unwrap_or("");
    let current = state.store.rv();
    let mut initial = Vec::new();
    let list_now = |initial: &mut Vec<Value>| {
        let ns = if t.info.namespaced {
            t.namespace.as_deref()
        } else {
            None
        };
        for o in state.store.list(t.store_group(), &t.info.resource, ns) {
            if selector.matches(o)
                && t.name
                    .as_ref()
                    .is_none_or(|n| o.pointer("/metadata/name").and_then(Value::as_str) == Some(n))
            {
                initial.push(event_json(&EventType::Added, &present(t, o)));
            }
        }
    };
    let kind = t.info.kind.clone();
    let api_version = t.info.api_version();
    if send_initial || rv_param.is_empty() || rv_param == "0" {
        list_now(&mut initial);
        if send_initial && bookmarks {
            initial.push(json!({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": api_version,
                "metadata": {"resourceVersion": current.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}}}}));
        }
    } else {
        let from: u64 = rv_param.parse().map_err(|_| {
            ApiError::bad_request(format!("invalid resource version \"{rv_param}\""))
        })?;
        let floor = state
            .crd_floor
            .get(&(t.info.group.clone(), t.info.resource.clone()))
            .copied()
            .unwrap_or(0)
            .max(state.store.floor());
        if from < floor {
            let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": format!("too old resource version: {from} ({floor})"), "reason": "Expired", "code": 410});
            return Ok(WatchPlan {
                initial: vec![json!({"type": "ERROR", "object": status})],
                rx: None,
                start_rv: current,
                target: t.clone(),
                selector,
                bookmarks: false,
                timeout,
                kind,
                api_version,
            });
        }
        for e in state.store.events_since(from) {
            if let Some(ev) = filter(t, &selector, &e) {
                initial.push(ev);
            }
        }
    }
    Ok(WatchPlan {
        initial,
        rx: Some(state.store.subscribe()),
        start_rv: current,
        target: t.clone(),
        selector,
        bookmarks,
        timeout,
        kind,
        api_version,
    })
}

/// Runs a planned watch, sending newline-delimited JSON events into `tx` until the timeout,
/// an ERROR, or the client going away.
pub async fn run(mut plan: WatchPlan, tx: mpsc::Sender<Bytes>) {
    for ev in &plan.initial {
        if tx.send(line(ev)).await.is_err() {
            return;
        }
    }
    let Some(mut rx) = plan.rx.take() else { return };
    let started = tokio::time::Instant::now();
    let deadline = plan.timeout.map(|t| started + t);
    let bookmark_every = match plan.timeout {
        Some(t) => t
            .saturating_sub(Duration::from_secs(2))
            .max(Duration::from_secs(1)),
        None => Duration::from_secs(60),
    };
    let mut next_bookmark = started + bookmark_every;
    let mut last_rv = plan.start_rv;
    let mut bookmark_sent = false;
    loop {
        let far = started + Duration::from_secs(86_400 * 365);
        let bookmark_at = if plan.bookmarks && !(plan.timeout.is_some() && bookmark_sent) {
            next_bookmark
        } else {
            far
        };
        let end_at = deadline.unwrap_or(far);
        tokio::select! {
            r = rx.recv() => match r {
                Ok(e) => {
                    if e.rv <= plan.start_rv {
                        continue;
                    }
                    last_rv = last_rv.max(e.rv);
                    if let Some(ev) = filter(&plan.target, &plan.selector, &e) {
                        if tx.send(line(&ev)).await.is_err() {
                            return;
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tokio::time::sleep_until(bookmark_at) => {
                let bm = json!({"type": "BOOKMARK", "object": {"kind": plan.kind, "apiVersion": plan.api_version,
                    "metadata": {"resourceVersion": last_rv.to_string()}}});
                if tx.send(line(&bm)).await.is_err() {
                    return;
                }
                bookmark_sent = true;
                next_bookmark += bookmark_every;
            },
            _ = tokio::time::sleep_until(end_at) => return,
            _ = tx.closed() => return,
        }
    }
}
