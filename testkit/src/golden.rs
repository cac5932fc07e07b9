//! Golden replay support: runs the recorded kube-apiserver scenarios of `shared/kube-golden/`
//! against a test server and compares both sides after the normalization rules of the golden
//! README (UIDs, resourceVersions, timestamps, continue tokens, allocated IPs/ports/name
//! suffixes, build fields, managedFields order, non-breaking spaces, racy Progressing reasons),
//! plus, for the `agent/` recordings only ([`ExtraRules::AGENT`]), item 12 (SelfSubjectRulesReview
//! rule order) and item 13 (Table ages).
//!
//! It only replays and compares; which differences are accepted is decided by the replay test,
//! which lists each one as a named exception.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{json, Map, Value};

/// Replay errors.
#[derive(Debug, thiserror::Error)]
pub enum GoldenError {
    /// Reading a recording failed.
    #[error("reading {path}: {source}")]
    Read {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A recording is not valid JSON.
    #[error("parsing {path}: {source}")]
    Parse {
        /// File.
        path: String,
        /// Cause.
        source: serde_json::Error,
    },
    /// An HTTP exchange failed.
    #[error("step {step}: {message}")]
    Http {
        /// Step index.
        step: usize,
        /// What failed.
        message: String,
    },
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && s.ends_with('Z')
        && b[..4].iter().all(u8::is_ascii_digit)
}

/// Which of the later normalization items (12 and 13 of the golden README) apply. The README
/// prescribes them only for the recordings in `agent/` (n–q).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExtraRules {
    /// Item 12: sort `status.resourceRules` and `status.nonResourceRules` of a
    /// `SelfSubjectRulesReview` by each entry's JSON with sorted keys.
    pub rules_review_order: bool,
    /// Item 13: string cells of a `meta.k8s.io/v1` Table column of `type: date` or named `Age`
    /// become `<age>`.
    pub table_ages: bool,
}

impl ExtraRules {
    /// No extra rules (the top-level files a–m).
    pub const NONE: ExtraRules = ExtraRules {
        rules_review_order: false,
        table_ages: false,
    };
    /// Items 12 and 13 (the files in `agent/`).
    pub const AGENT: ExtraRules = ExtraRules {
        rules_review_order: true,
        table_ages: true,
    };
}

/// Placeholder numbering of one side of one file.
#[derive(Debug, Default)]
pub struct Normalizer {
    maps: HashMap<&'static str, HashMap<String, usize>>,
    generate_names: Vec<String>,
    extra: ExtraRules,
}

impl Normalizer {
    /// A normalizer that also applies the given extra rules.
    pub fn with_rules(extra: ExtraRules) -> Self {
        Normalizer {
            extra,
            ..Normalizer::default()
        }
    }

    fn ph(&mut self, kind: &'static str, value: &str) -> String {
        let m = self.maps.entry(kind).or_default();
        let n = m.len() + 1;
        let id = *m.entry(value.to_string()).or_insert(n);
        format!("<{kind}:{id}>")
    }

    fn text(&mut self, s: &str) -> String {
        let mut out = s.replace('\u{a0}', " ");
        // UUIDs anywhere in text.
        let mut i = 0;
        while i + 36 <= out.len() {
            if out.is_char_boundary(i) && out.is_char_boundary(i + 36) && is_uuid(&out[i..i + 36]) {
                let id = out[i..i + 36].to_string();
                let p = self.ph("uid", &id);
                out.replace_range(i..i + 36, &p);
                i += p.len();
            } else {
                i += 1;
            }
        }
        if is_time(&out) {
            return "<time>".into();
        }
        if let Some(start) = out.find("too old resource version: ") {
            if let (Some(open), Some(close)) = (out[start..].find('('), out[start..].rfind(')')) {
                out.replace_range(start + open..start + close + 1, "(<rv>)");
            }
        }
        for prefix in self.generate_names.clone() {
            if let Some(rest) = out.strip_prefix(prefix.as_str()) {
                if rest.len() == 5 && rest.chars().all(|c| c.is_ascii_alphanumeric()) {
                    return format!("{prefix}<suffix>");
                }
            }
        }
        out
    }

    /// Normalizes one value (a response body, an event object, ...).
    pub fn value(&mut self, v: &Value) -> Value {
        self.walk(v, "")
    }

    fn walk(&mut self, v: &Value, key: &str) -> Value {
        match v {
            Value::Object(m) => {
                if let Some(g) = m
                    .get("metadata")
                    .and_then(|md| md.get("generateName"))
                    .and_then(Value::as_str)
                {
                    if !self.generate_names.iter().any(|p| p == g) {
                        self.generate_names.push(g.to_string());
                    }
                }
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    let nk = if k.contains('-') && k.len() >= 36 {
                        self.text(k)
                    } else {
                        k.clone()
                    };
                    let child = &m[k];
                    let nv = match (k.as_str(), child) {
                        ("resourceVersion", Value::String(s)) if s != "0" => {
                            json!(self.ph("rv", s))
                        }
                        ("continue", Value::String(s)) if key == "metadata" => {
                            json!(self.ph("continue", s))
                        }
                        ("clusterIP", Value::String(s))
                            if s.starts_with("10.0.0.") && s != "10.0.0.10" && s != "10.0.0.11" =>
                        {
                            json!(self.ph("ip", s))
                        }
                        ("nodePort", Value::Number(n)) => json!(self.ph("port", &n.to_string())),
                        ("clusterIPs", Value::Array(a)) => Value::Array(
                            a.iter()
                                .map(|ip| match ip.as_str() {
                                    Some(s)
                                        if s.starts_with("10.0.0.")
                                            && s != "10.0.0.10"
                                            && s != "10.0.0.11" =>
                                    {
                                        json!(self.ph("ip", s))
                                    }
                                    _ => ip.clone(),
                                })
                                .collect(),
                        ),
                        ("gitCommit" | "buildDate" | "goVersion", _) => json!("<build>"),
                        (k2, _)
                            if k2.starts_with("emulation")
                                || k2.starts_with("minCompatibility") =>
                        {
                            json!("<build>")
                        }
                        ("serverAddressByClientCIDRs", _) => json!("<address>"),
                        ("managedFields", Value::Array(a)) => {
                            let mut items: Vec<Value> =
                                a.iter().map(|e| self.walk(e, "managedFields")).collect();
                            let id = |e: &Value| {
                                (
                                    e["manager"].as_str().unwrap_or_default().to_string(),
                                    e["operation"].as_str().unwrap_or_default().to_string(),
                                    e["subresource"].as_str().unwrap_or_default().to_string(),
                                )
                            };
                            items.sort_by_key(id);
                            Value::Array(items)
                        }
                        _ => self.walk(child, k),
                    };
                    out.insert(nk, nv);
                }
                if key == "conditions"
                    || out.get("type").and_then(Value::as_str) == Some("Progressing")
                {
                    let racy = matches!(
                        out.get("reason").and_then(Value::as_str),
                        Some("NewReplicaSetCreated" | "ReplicaSetUpdated" | "FoundNewReplicaSet")
                    );
                    if racy && out.get("type").and_then(Value::as_str) == Some("Progressing") {
                        out.insert("reason".into(), json!("<progressing>"));
                        out.insert("message".into(), json!("<progressing>"));
                    }
                }
                let kind_is = |o: &Map<String, Value>, api: &str, kind: &str| {
                    o.get("apiVersion").and_then(Value::as_str) == Some(api)
                        && o.get("kind").and_then(Value::as_str) == Some(kind)
                };
                if self.extra.rules_review_order
                    && kind_is(&out, "authorization.k8s.io/v1", "SelfSubjectRulesReview")
                {
                    sort_rules_review(&mut out);
                }
                if self.extra.table_ages && kind_is(&out, "meta.k8s.io/v1", "Table") {
                    mask_table_ages(&mut out);
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.walk(x, key)).collect()),
            Value::String(s) => json!(self.text(s)),
            other => other.clone(),
        }
    }
}

/// Item 12: both rule lists sorted by the JSON of each entry. Entries were already rebuilt with
/// sorted keys by `walk`, so their serialization is the sorted-keys JSON.
fn sort_rules_review(review: &mut Map<String, Value>) {
    let Some(status) = review.get_mut("status").and_then(Value::as_object_mut) else {
        return;
    };
    for list in ["resourceRules", "nonResourceRules"] {
        if let Some(items) = status.get_mut(list).and_then(Value::as_array_mut) {
            items.sort_by_cached_key(Value::to_string);
        }
    }
}

/// Item 13: string cells of date or `Age` columns become `<age>`; null cells stay null.
fn mask_table_ages(table: &mut Map<String, Value>) {
    let columns: Vec<usize> = table
        .get("columnDefinitions")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .enumerate()
                .filter(|(_, c)| c["type"] == json!("date") || c["name"] == json!("Age"))
                .map(|(i, _)| i)
                .collect()
        })
        .unwrap_or_default();
    let Some(rows) = table.get_mut("rows").and_then(Value::as_array_mut) else {
        return;
    };
    for row in rows {
        let Some(cells) = row.get_mut("cells").and_then(Value::as_array_mut) else {
            continue;
        };
        for &i in &columns {
            if let Some(cell) = cells.get_mut(i) {
                if cell.is_string() {
                    *cell = json!("<age>");
                }
            }
        }
    }
}

/// One step's outcome as compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// HTTP status.
    pub status: u16,
    /// Content-Type.
    pub content_type: String,
    /// Body (JSON, string, or null).
    pub body: Value,
    /// Watch events, for WATCH steps that streamed.
    pub events: Option<Vec<Value>>,
    /// Warning headers.
    pub warnings: Vec<String>,
    /// ETag / Vary headers.
    pub headers: BTreeMap<String, String>,
}

impl Observed {
    /// The recorded response of a step.
    pub fn from_recorded(resp: &Value) -> Self {
        Observed {
            status: resp["status"].as_u64().unwrap_or(0) as u16,
            content_type: resp["content_type"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            body: resp.get("body").cloned().unwrap_or(Value::Null),
            events: resp.get("events").and_then(Value::as_array).cloned(),
            warnings: resp["warnings"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|w| w.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            headers: resp["headers"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| {
                            (k.to_lowercase(), v.as_str().unwrap_or_default().to_string())
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// This outcome in the recording's JSON shape.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("status".into(), json!(self.status));
        m.insert("content_type".into(), json!(self.content_type));
        match &self.events {
            Some(e) => m.insert("events".into(), Value::Array(e.clone())),
            None => m.insert("body".into(), self.body.clone()),
        };
        m.insert("warnings".into(), json!(self.warnings));
        m.insert("headers".into(), json!(self.headers));
        Value::Object(m)
    }

    /// The normalized form compared between recording and server.
    pub fn normalized(&self, n: &mut Normalizer) -> Value {
        let mut v = self.to_json();
        if let Some(h) = v.get_mut("headers").and_then(Value::as_object_mut) {
            if h.contains_key("etag") {
                h.insert("etag".into(), json!("<etag>"));
            }
        }
        n.value(&v)
    }
}

/// Result of one step.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// Index in the file.
    pub index: usize,
    /// Note of the step.
    pub note: String,
    /// Normalized recorded response.
    pub expected: Value,
    /// Normalized server response.
    pub actual: Value,
}

impl StepResult {
    /// True when both sides are equal after normalization.
    pub fn matches(&self) -> bool {
        self.expected == self.actual
    }
}

/// The first differing paths between two values (for failure messages).
pub fn diff(a: &Value, b: &Value) -> Vec<String> {
    fn walk(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
        if out.len() >= 12 {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    match (x.get(k), y.get(k)) {
                        (Some(p), Some(q)) => walk(p, q, format!("{path}/{k}"), out),
                        (Some(p), None) => out.push(format!("{path}/{k}: expected {p}, missing")),
                        (None, Some(q)) => out.push(format!("{path}/{k}: unexpected {q}")),
                        (None, None) => {}
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(p, q, format!("{path}/{i}"), out);
                }
            }
            _ if a != b => out.push(format!("{path}: expected {a}, got {b}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(a, b, String::new(), &mut out);
    out
}

type HttpClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    axum::body::Body,
>;

fn build_request(base: &str, req: &Value) -> Result<http::Request<axum::body::Body>, String> {
    let method = req["method"].as_str().unwrap_or("GET");
    let path = req["path"].as_str().unwrap_or("/");
    let mut url = format!("{base}{path}");
    if let Some(q) = req["query"].as_object() {
        if !q.is_empty() {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in q {
                ser.append_pair(k, v.as_str().unwrap_or_default());
            }
            url.push('?');
            url.push_str(&ser.finish());
        }
    }
    let mut b = http::Request::builder()
        .method(method)
        .uri(url)
        .header("user-agent", "kube-golden-recorder/1.0")
        .header("authorization", "Bearer golden");
    if let Some(h) = req["headers"].as_object() {
        for (k, v) in h {
            b = b.header(k.as_str(), v.as_str().unwrap_or_default());
        }
    }
    let body = match req.get("body") {
        None => axum::body::Body::empty(),
        Some(Value::String(s)) => axum::body::Body::from(s.clone()),
        Some(v) => axum::body::Body::from(v.to_string()),
    };
    b.body(body).map_err(|e| e.to_string())
}

fn header_map(resp: &http::response::Parts) -> (String, Vec<String>, BTreeMap<String, String>) {
    let ct = resp
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let warnings = resp
        .headers
        .get_all("warning")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let mut hs = BTreeMap::new();
    for h in ["etag", "vary"] {
        if let Some(v) = resp.headers.get(h).and_then(|v| v.to_str().ok()) {
            if ct.contains("apidiscovery") || resp.status == 304 {
                hs.insert(h.to_string(), v.to_string());
            }
        }
    }
    (ct, warnings, hs)
}

fn parse_body(ct: &str, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if ct.contains("json") {
        if let Ok(v) = serde_json::from_slice(bytes) {
            return v;
        }
    }
    json!(String::from_utf8_lossy(bytes))
}

async fn exchange(client: &HttpClient, base: &str, req: &Value) -> Result<Observed, String> {
    let r = client
        .request(build_request(base, req)?)
        .await
        .map_err(|e| e.to_string())?;
    let (parts, body) = r.into_parts();
    let (ct, warnings, headers) = header_map(&parts);
    let bytes = axum::body::to_bytes(axum::body::Body::new(body), 64 << 20)
        .await
        .map_err(|e| e.to_string())?;
    let body = parse_body(&ct, &bytes);
    Ok(Observed {
        status: parts.status.as_u16(),
        content_type: ct,
        body,
        events: None,
        warnings,
        headers,
    })
}

fn substitute(step: &Value, done: &BTreeMap<usize, Value>) -> Value {
    let mut s = step.clone();
    for r in step["request_refs"].as_array().into_iter().flatten() {
        let (Some(target), Some(src), Some(ptr)) = (
            r["target"].as_str(),
            r["source_step"].as_u64(),
            r["source"].as_str(),
        ) else {
            continue;
        };
        let Some(value) = done
            .get(&(src as usize))
            .and_then(|d| d.pointer(ptr))
            .cloned()
        else {
            continue;
        };
        if let Some(slot) = s.pointer_mut(target) {
            *slot = value;
        }
    }
    s
}

/// Replays one recording against a server at `base` and returns every step's comparison
/// (normalization items 1–11 only, as for the files a–m).
pub async fn replay(file: &Value, base: &str) -> Result<Vec<StepResult>, GoldenError> {
    replay_with(file, base, ExtraRules::NONE).await
}

/// Replays one recording, normalizing both sides with items 1–11 plus `extra`.
pub async fn replay_with(
    file: &Value,
    base: &str,
    extra: ExtraRules,
) -> Result<Vec<StepResult>, GoldenError> {
    let client: HttpClient =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let steps = file["steps"].as_array().cloned().unwrap_or_default();
    let mut observed: BTreeMap<usize, Observed> = BTreeMap::new();
    let mut done: BTreeMap<usize, Value> = BTreeMap::new();
    let record = |i: usize, step: &Value, o: &Observed, done: &mut BTreeMap<usize, Value>| {
        let mut resp = o.to_json();
        if let Some(h) = resp.get_mut("headers").and_then(Value::as_object_mut) {
            let renamed: Map<String, Value> = h
                .iter()
                .map(|(k, v)| {
                    (
                        if k == "etag" {
                            "ETag".to_string()
                        } else {
                            k.clone()
                        },
                        v.clone(),
                    )
                })
                .collect();
            *h = renamed;
        }
        done.insert(i, json!({"request": step["request"], "response": resp}));
    };
    for (i, raw) in steps.iter().enumerate() {
        if raw.get("during_watch_step").is_some() {
            continue;
        }
        let step = substitute(raw, &done);
        let is_watch = step["request"]["query"]["watch"] == json!("true")
            && step["response"].get("events").is_some();
        if !is_watch {
            let o = exchange(&client, base, &step["request"])
                .await
                .map_err(|m| GoldenError::Http {
                    step: i,
                    message: m,
                })?;
            record(i, &step, &o, &mut done);
            observed.insert(i, o);
            continue;
        }
        let want = step["response"]["events"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0);
        let initial_end = step["request"]["query"]["sendInitialEvents"] == json!("true");
        let req = build_request(base, &step["request"]).map_err(|m| GoldenError::Http {
            step: i,
            message: m,
        })?;
        let r = client.request(req).await.map_err(|e| GoldenError::Http {
            step: i,
            message: e.to_string(),
        })?;
        let (parts, body) = r.into_parts();
        let (ct, warnings, headers) = header_map(&parts);
        let mut stream = axum::body::Body::new(body).into_data_stream();
        let mut buf = Vec::<u8>::new();
        let mut events: Vec<Value> = Vec::new();
        let triggers: Vec<usize> = step["watch"]["trigger_steps"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_u64().map(|x| x as usize))
                    .collect()
            })
            .unwrap_or_default();
        let mut triggered = false;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let bookmark_seen = events.iter().any(|e| e["type"] == "BOOKMARK");
            if !triggered && (!initial_end || bookmark_seen) {
                triggered = true;
                for &ti in &triggers {
                    let tstep = substitute(&steps[ti], &done);
                    let o = exchange(&client, base, &tstep["request"])
                        .await
                        .map_err(|m| GoldenError::Http {
                            step: ti,
                            message: m,
                        })?;
                    record(ti, &tstep, &o, &mut done);
                    observed.insert(ti, o);
                }
            }
            if events.len() >= want {
                break;
            }
            let next = tokio::time::timeout_at(deadline, stream.next()).await;
            match next {
                Ok(Some(Ok(chunk))) => {
                    buf.extend_from_slice(&chunk);
                    while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                        let line: Vec<u8> = buf.drain(..=pos).collect();
                        if let Ok(v) = serde_json::from_slice::<Value>(&line) {
                            events.push(v);
                        }
                    }
                }
                _ => break,
            }
        }
        drop(stream);
        let o = Observed {
            status: parts.status.as_u16(),
            content_type: ct,
            body: Value::Null,
            events: Some(events),
            warnings,
            headers,
        };
        record(i, &step, &o, &mut done);
        observed.insert(i, o);
    }
    let mut exp_n = Normalizer::with_rules(extra);
    let mut act_n = Normalizer::with_rules(extra);
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let expected = Observed::from_recorded(&step["response"]).normalized(&mut exp_n);
        let actual = observed
            .get(&i)
            .map(|o| o.normalized(&mut act_n))
            .unwrap_or(Value::Null);
        out.push(StepResult {
            index: i,
            note: step["note"].as_str().unwrap_or_default().to_string(),
            expected,
            actual,
        });
    }
    Ok(out)
}

/// Loads a recording.
pub fn load(path: &std::path::Path) -> Result<Value, GoldenError> {
    let text = std::fs::read_to_string(path).map_err(|source| GoldenError::Read {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| GoldenError::Parse {
        path: path.display().to_string(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_keeps_equality_relations() {
        let mut n = Normalizer::default();
        let a = n.value(&json!({"metadata": {"uid": "f4b49b6b-1e2f-4fdd-b52c-8f468996796a", "resourceVersion": "5",
            "creationTimestamp": "2026-11-22T04:31:50Z"}}));
        let b = n.value(&json!({"metadata": {"uid": "f4b49b6b-1e2f-4fdd-b52c-8f468996796a", "resourceVersion": "6"}}));
        assert_eq!(a["metadata"]["uid"], json!("<uid:1>"));
        assert_eq!(b["metadata"]["uid"], json!("<uid:1>"));
        assert_eq!(a["metadata"]["resourceVersion"], json!("<rv:1>"));
        assert_eq!(b["metadata"]["resourceVersion"], json!("<rv:2>"));
        assert_eq!(a["metadata"]["creationTimestamp"], json!("<time>"));
        let msg = n.value(&json!("too old resource version: 1 (583)"));
        assert_eq!(msg, json!("too old resource version: 1 (<rv>)"));
    }

    #[test]
    fn rules_review_lists_are_sorted_only_with_item_12() {
        let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
            "status": {"resourceRules": [{"verbs": ["get"], "apiGroups": ["b"]}, {"verbs": ["get"], "apiGroups": ["a"]}],
                "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/z"]}, {"verbs": ["get"], "nonResourceURLs": ["/a"]}]}});
        let sorted = Normalizer::with_rules(ExtraRules::AGENT).value(&review);
        assert_eq!(
            sorted["status"]["resourceRules"][0]["apiGroups"],
            json!(["a"])
        );
        assert_eq!(
            sorted["status"]["nonResourceRules"][0]["nonResourceURLs"],
            json!(["/a"])
        );
        let plain = Normalizer::default().value(&review);
        assert_eq!(
            plain["status"]["resourceRules"][0]["apiGroups"],
            json!(["b"])
        );
    }

    #[test]
    fn table_age_cells_are_masked_only_with_item_13() {
        let table = json!({"apiVersion": "meta.k8s.io/v1", "kind": "Table",
            "columnDefinitions": [{"name": "Name", "type": "string"}, {"name": "Age", "type": "date"},
                {"name": "Since", "type": "date"}],
            "rows": [{"cells": ["a", "3s", null]}]});
        let masked = Normalizer::with_rules(ExtraRules::AGENT).value(&table);
        assert_eq!(masked["rows"][0]["cells"], json!(["a", "<age>", null]));
        let plain = Normalizer::default().value(&table);
        assert_eq!(plain["rows"][0]["cells"], json!(["a", "3s", null]));
    }
}
