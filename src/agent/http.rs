//! The agent's HTTP endpoints (axum): `POST /webhook` (judged by `webhook.rs`; a good push only
//! queues a fetch), `/healthz`, `/readyz` (ready once the first reconcile finished, or while a
//! standby) and `/metrics` (Prometheus text). Bodies over the limit get 413 before they are read
//! whole; a bad or missing signature gets 401 with no detail.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio_util::sync::CancellationToken;

use super::metrics::WebhookLabels;
use super::webhook::{self, Verdict};
use super::Shared;
use crate::core::agent::Trigger;

pub fn router(shared: Arc<Shared>, max_body: usize) -> Router {
    Router::new()
        .route("/webhook", post(receive))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(shared)
}

/// Serves until `cancel`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await
}

async fn ready(State(s): State<Arc<Shared>>) -> Response {
    let standby = s.elected && !*s.leading.borrow();
    if s.ready.load(Ordering::SeqCst) || standby {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the first reconcile has not finished\n",
        )
            .into_response()
    }
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

async fn receive(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(cfg) = &s.webhook else {
        return (StatusCode::NOT_FOUND, "no webhook secret is configured\n").into_response();
    };
    let verdict = {
        let mut recent = s
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        webhook::judge(cfg, &headers, &body, &mut recent)
    };
    let (sender, label) = match &verdict {
        Verdict::Fetch { sender, .. } => (sender.as_str(), "fetch"),
        Verdict::Pong => ("github", "ping"),
        Verdict::Ignored(_) => ("-", "ignored"),
        Verdict::Unauthorized => ("-", "unauthorized"),
        Verdict::BadRequest(_) => ("-", "bad-request"),
    };
    s.metrics
        .webhooks
        .get_or_create(&WebhookLabels {
            sender: sender.to_string(),
            verdict: label.to_string(),
        })
        .inc();
    match verdict {
        Verdict::Fetch { commit, .. } => {
            tracing::info!(commit = %commit, "webhook: a push to the followed ref; fetching");
            // The loop coalesces triggers; a full queue already holds a fetch.
            let _ = s.triggers.try_send(Trigger::Webhook);
            (StatusCode::ACCEPTED, "fetching\n").into_response()
        }
        Verdict::Pong => (StatusCode::OK, "pong\n").into_response(),
        Verdict::Ignored(why) => (StatusCode::OK, format!("ignored: {why}\n")).into_response(),
        Verdict::Unauthorized => StatusCode::UNAUTHORIZED.into_response(),
        Verdict::BadRequest(why) => (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response(),
    }
}
