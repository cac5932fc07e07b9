//! A fault-injecting HTTP forwarding proxy for end-to-end tests, on a free 127.0.0.1 port in front
//! of moto (or any HTTP server): it forwards every request unchanged and logs the AWS action it
//! carries, except that once a [`Fault`] is armed it answers matching AWS query-protocol actions
//! (`Action=...` in the form body or the query string) with an HTTP 500 AWS error document, after
//! letting a chosen number of them through. Decisions are made by counting requests, never by time.
//! It serves on its own thread with its own runtime, so a test that blocks its runtime's workers on
//! the binary cannot starve it. It does not touch responses, speak TLS or retry anything.
#![allow(dead_code)]

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::sync::{Arc, Mutex, MutexGuard};

/// Fail requests for `action` once `pass` of them have gone through.
#[derive(Debug, Clone)]
pub struct Fault {
    pub action: String,
    pub pass: usize,
}

/// One request the proxy answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// The query-protocol `Action`, else `X-Amz-Target`, else `METHOD /path`.
    pub action: String,
    /// `StackName` (else `ChangeSetName`) or the Auto Scaling group names, when the request has
    /// them: enough to tell which stack or group a request was about.
    pub target: String,
    /// The proxy answered with the injected error instead of forwarding.
    pub faulted: bool,
}

struct Shared {
    upstream: String,
    client: Client<HttpConnector, Body>,
    state: Mutex<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    faults: Vec<(Fault, usize)>,
    seen: Vec<Seen>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ProxyState> {
        // A poisoned lock only means a handler panicked while holding it; the state is still whole.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub struct FaultProxy {
    pub url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl FaultProxy {
    /// Listens on a free 127.0.0.1 port (bound before this returns) and forwards to `upstream`
    /// (`http://host:port`).
    pub fn start(upstream: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            state: Mutex::new(ProxyState::default()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("proxy runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("proxy serves");
            });
        });
        FaultProxy {
            url,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Arms a fault: the first `pass` requests for its action (counted from now) go through, every
    /// later one fails.
    pub fn arm(&self, fault: Fault) {
        self.shared.lock().faults.push((fault, 0));
    }

    /// Disarms every fault; requests are forwarded again.
    pub fn disarm(&self) {
        self.shared.lock().faults.clear();
    }

    /// Every request answered so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().seen.clone()
    }

    /// Forgets the log (faults stay armed).
    pub fn clear_log(&self) {
        self.shared.lock().seen.clear();
    }
}

/// The injected answer: what AWS sends for an internal failure in the query protocol.
pub const FAULT_MESSAGE: &str = "fault injected by the test proxy";

fn aws_error() -> Response {
    let body = format!(
        "<ErrorResponse><Error><Type>Receiver</Type><Code>InternalFailure</Code>\
         <Message>{FAULT_MESSAGE}</Message></Error>\
         <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [
            (header::CONTENT_TYPE, "text/xml"),
            (
                header::HeaderName::from_static("x-amzn-requestid"),
                "00000000-0000-0000-0000-000000000000",
            ),
        ],
        body,
    )
        .into_response()
}

/// The AWS action and target of a request, from the query string, the form body or the headers.
fn describe(method: &str, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> (String, String) {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let mut params: Vec<(String, String)> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    if is_form {
        params.extend(url::form_urlencoded::parse(body).into_owned());
    }
    let get = |key: &str| {
        params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let action = get("Action")
        .or_else(|| {
            headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("{method} {}", uri.path()));
    let groups: Vec<&str> = params
        .iter()
        .filter(|(k, _)| k.starts_with("AutoScalingGroupNames.member."))
        .map(|(_, v)| v.as_str())
        .collect();
    let target = get("StackName")
        .or_else(|| get("ChangeSetName"))
        .unwrap_or_else(|| groups.join(","));
    (action, target)
}

async fn forward(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 64 << 20).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("proxy: body: {e}")).into_response(),
    };
    let (action, target) = describe(parts.method.as_str(), &parts.uri, &parts.headers, &body);
    let faulted = {
        let mut st = shared.lock();
        let mut faulted = false;
        for (fault, count) in st.faults.iter_mut().filter(|(f, _)| f.action == action) {
            *count += 1;
            faulted |= *count > fault.pass;
        }
        st.seen.push(Seen {
            action,
            target,
            faulted,
        });
        faulted
    };
    if faulted {
        return aws_error();
    }
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = match format!("{}{path}", shared.upstream).parse() {
        Ok(u) => u,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("proxy: uri: {e}")).into_response(),
    };
    match shared
        .client
        .request(Request::from_parts(parts, Body::from(body)))
        .await
    {
        Ok(resp) => resp.map(Body::new),
        Err(e) => (StatusCode::BAD_GATEWAY, format!("proxy: upstream: {e}")).into_response(),
    }
}
