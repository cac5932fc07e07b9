//! A fault-injecting HTTP forwarding proxy for end-to-end tests, on a free 127.0.0.1 port in front
//! of moto (or any HTTP server): it forwards every request unchanged and logs the AWS action it
//! carries, except that once a [`Fault`] is armed it answers matching AWS query-protocol actions
//! (`Action=...` in the form body or the query string) with an HTTP 500 AWS error document (or,
//! armed with [`FaultProxy::arm_throttling`], the 400 `Throttling` "Rate exceeded" answer AWS gives
//! when a caller goes over its request rate), after letting a chosen number of them through. Decisions are made by counting requests, never by time.
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
    /// The signing name of the request's SigV4 credential scope (`cloudformation`, `iam`,
    /// `autoscaling`, `eks`): the IAM service prefix of its action.
    pub service: String,
}

/// The service of a SigV4 `Authorization` header: `Credential=KEY/DATE/REGION/SERVICE/aws4_request`.
fn signing_service(headers: &HeaderMap) -> String {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("Credential=").nth(1))
        .and_then(|c| c.split(',').next())
        .and_then(|scope| scope.split('/').nth(3))
        .unwrap_or_default()
        .to_string()
}

struct Shared {
    upstream: String,
    /// Requests received and not yet answered (or abandoned by their client).
    in_flight: std::sync::atomic::AtomicUsize,
    client: Client<HttpConnector, Body>,
    state: Mutex<ProxyState>,
}

/// What an armed fault answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Answer {
    InternalFailure,
    Throttling,
}

/// A stack update CloudFormation rolls back (see [`FaultProxy::arm_rollback`]).
#[derive(Debug, Clone)]
struct Rollback {
    stack: String,
    logical_id: String,
    resource_type: String,
    reason: String,
    executed: bool,
}

#[derive(Default)]
struct ProxyState {
    rollback: Option<Rollback>,
    faults: Vec<(Fault, usize, Answer)>,
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
            in_flight: std::sync::atomic::AtomicUsize::new(0),
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
        self.shared
            .lock()
            .faults
            .push((fault, 0, Answer::InternalFailure));
    }

    /// Arms a throttling fault: like [`FaultProxy::arm`], but the answer is AWS's
    /// `400 Throttling: Rate exceeded` (which SDKs retry, then give up on).
    pub fn arm_throttling(&self, fault: Fault) {
        self.shared
            .lock()
            .faults
            .push((fault, 0, Answer::Throttling));
    }

    /// Disarms every fault (and a rollback); requests are forwarded again.
    pub fn disarm(&self) {
        let mut st = self.shared.lock();
        st.faults.clear();
        st.rollback = None;
    }

    /// Makes the next update of `stack` roll back, as CloudFormation does when a resource fails
    /// to update: its ExecuteChangeSet is accepted but not forwarded (so moto keeps the previous
    /// template and resources, which is what a rollback leaves), and from then on DescribeStacks
    /// of that stack answers `UPDATE_ROLLBACK_COMPLETE` and DescribeStackEvents adds the
    /// operation's events, newest first: the stack's UPDATE_ROLLBACK_COMPLETE and
    /// UPDATE_ROLLBACK_IN_PROGRESS, the resource's UPDATE_FAILED with `reason`, and the stack's
    /// "User Initiated" UPDATE_IN_PROGRESS. moto itself never rolls back (its `execute_change_set`
    /// says "TODO: handle execution errors and implement rollback").
    pub fn arm_rollback(&self, stack: &str, logical_id: &str, resource_type: &str, reason: &str) {
        self.shared.lock().rollback = Some(Rollback {
            stack: stack.into(),
            logical_id: logical_id.into(),
            resource_type: resource_type.into(),
            reason: reason.into(),
            executed: false,
        });
    }

    /// Whether an armed rollback's ExecuteChangeSet has been answered.
    pub fn rolled_back(&self) -> bool {
        self.shared
            .lock()
            .rollback
            .as_ref()
            .is_some_and(|r| r.executed)
    }

    /// Every request answered so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.lock().seen.clone()
    }

    /// Requests the proxy is still working on: a request whose client went away (a killed
    /// process) may still reach the upstream; tests wait for 0 before they look at the upstream.
    pub fn in_flight(&self) -> usize {
        self.shared
            .in_flight
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Forgets the log (faults stay armed).
    pub fn clear_log(&self) {
        self.shared.lock().seen.clear();
    }
}

/// The injected answer: what AWS sends for an internal failure in the query protocol.
pub const FAULT_MESSAGE: &str = "fault injected by the test proxy";

fn aws_error(answer: Answer) -> Response {
    let (status, kind, code, message) = match answer {
        Answer::InternalFailure => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Receiver",
            "InternalFailure",
            FAULT_MESSAGE,
        ),
        Answer::Throttling => (
            StatusCode::BAD_REQUEST,
            "Sender",
            "Throttling",
            "Rate exceeded",
        ),
    };
    let body = format!(
        "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>\
         <Message>{message}</Message></Error>\
         <RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
    );
    (
        status,
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

/// CloudFormation's answer to an accepted ExecuteChangeSet.
fn execute_accepted() -> Response {
    let body =
        "<ExecuteChangeSetResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
        <ExecuteChangeSetResult/><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000001\
        </RequestId></ResponseMetadata></ExecuteChangeSetResponse>";
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

/// DescribeStacks with the stack's status after a rolled-back update.
fn rolled_back_status(xml: &str) -> String {
    match (xml.find("<StackStatus>"), xml.find("</StackStatus>")) {
        (Some(a), Some(b)) if a < b => format!(
            "{}<StackStatus>UPDATE_ROLLBACK_COMPLETE{}",
            &xml[..a],
            &xml[b..]
        ),
        _ => xml.to_string(),
    }
}

/// DescribeStackEvents with a rolled-back update's events on top (newest first).
fn rollback_events(xml: &str, r: &Rollback) -> String {
    let id = xml
        .find("<StackId>")
        .and_then(|a| {
            let rest = &xml[a + "<StackId>".len()..];
            rest.find("</StackId>").map(|b| rest[..b].to_string())
        })
        .unwrap_or_else(|| r.stack.clone());
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let event = |n: u32, logical: &str, kind: &str, status: &str, reason: &str| {
        format!(
            "<member><StackId>{id}</StackId><EventId>rollback-{n}</EventId><StackName>{stack}</StackName>\
             <LogicalResourceId>{logical}</LogicalResourceId><PhysicalResourceId>{phys}</PhysicalResourceId>\
             <ResourceType>{kind}</ResourceType><Timestamp>{now}</Timestamp>\
             <ResourceStatus>{status}</ResourceStatus><ResourceStatusReason>{reason}</ResourceStatusReason></member>",
            stack = r.stack,
            phys = if logical == r.stack { id.as_str() } else { logical },
        )
    };
    let stack_type = "AWS::CloudFormation::Stack";
    let events = [
        event(4, &r.stack, stack_type, "UPDATE_ROLLBACK_COMPLETE", ""),
        event(
            3,
            &r.stack,
            stack_type,
            "UPDATE_ROLLBACK_IN_PROGRESS",
            &format!(
                "The following resource(s) failed to update: [{}]. ",
                r.logical_id
            ),
        ),
        event(
            2,
            &r.logical_id,
            &r.resource_type,
            "UPDATE_FAILED",
            &r.reason,
        ),
        event(
            1,
            &r.stack,
            stack_type,
            "UPDATE_IN_PROGRESS",
            "User Initiated",
        ),
    ]
    .concat();
    match xml.find("<StackEvents>") {
        Some(a) => {
            let at = a + "<StackEvents>".len();
            format!("{}{events}{}", &xml[..at], &xml[at..])
        }
        None => xml.to_string(),
    }
}

/// Counts a request in flight until dropped (answered, or abandoned with its client).
struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn forward(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    shared
        .in_flight
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let _in_flight = InFlight(shared.clone());
    let (mut parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 64 << 20).await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("proxy: body: {e}")).into_response(),
    };
    let (action, target) = describe(parts.method.as_str(), &parts.uri, &parts.headers, &body);
    let service = signing_service(&parts.headers);
    let faulted = {
        let mut st = shared.lock();
        let mut faulted = None;
        for (fault, count, answer) in st.faults.iter_mut().filter(|(f, _, _)| f.action == action) {
            *count += 1;
            if *count > fault.pass && faulted.is_none() {
                faulted = Some(*answer);
            }
        }
        st.seen.push(Seen {
            action: action.clone(),
            target: target.clone(),
            faulted: faulted.is_some(),
            service: service.clone(),
        });
        faulted
    };
    if let Some(answer) = faulted {
        return aws_error(answer);
    }
    let rollback = {
        let mut st = shared.lock();
        match st.rollback.as_mut() {
            Some(r) if r.stack == target && action == "ExecuteChangeSet" && !r.executed => {
                r.executed = true;
                return execute_accepted();
            }
            Some(r)
                if r.executed
                    && r.stack == target
                    && matches!(action.as_str(), "DescribeStacks" | "DescribeStackEvents") =>
            {
                Some(r.clone())
            }
            _ => None,
        }
    };
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
        Ok(resp) if rollback.is_some() => {
            let (parts, body) = resp.into_parts();
            let Ok(bytes) = axum::body::to_bytes(Body::new(body), 64 << 20).await else {
                return (StatusCode::BAD_GATEWAY, "proxy: upstream body").into_response();
            };
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let text = match rollback {
                Some(_) if action == "DescribeStacks" => rolled_back_status(&text),
                Some(r) => rollback_events(&text, &r),
                None => text,
            };
            let mut parts = parts;
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(text))
        }
        Ok(resp) => resp.map(Body::new),
        Err(e) => (StatusCode::BAD_GATEWAY, format!("proxy: upstream: {e}")).into_response(),
    }
}
