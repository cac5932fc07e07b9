//! Running `eksync agent` in end-to-end tests: the child process (its JSON log lines kept, the
//! listening address read from them, killed when dropped), plain HTTP requests to its endpoints
//! over a TCP socket, metric values from its `/metrics` text, a Git remote it follows, and the
//! Sync CRD installed on the test server. Everything is polled with a deadline.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;

use super::git::{git, git_daemon, Server};

/// A running agent.
pub struct Agent {
    child: Child,
    pub addr: String,
    pub logs: Arc<Mutex<Vec<String>>>,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Agent {
    /// Starts `eksync agent ARGS` and waits (at most 30 s) until it listens.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Agent {
        let bin = std::env::var_os("EKSYNC_TEST_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_eksync").into());
        let mut cmd = Command::new(bin);
        cmd.arg("agent")
            .args(args)
            .env("EKSYNC_POLL_MS", "20")
            .env("EKSYNC_LOG", "info")
            .env_remove("POD_NAME")
            .env_remove("POD_NAMESPACE")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start eksync agent");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            if let Some(a) = logs.lock().unwrap().iter().find_map(|l| {
                let v: Value = serde_json::from_str(l).ok()?;
                (v["message"] == "listening").then(|| {
                    v["address"]
                        .as_str()
                        .unwrap_or_default()
                        .trim_start_matches("http://")
                        .to_string()
                })
            }) {
                break a;
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the agent exited early ({status}):\n{}",
                    logs.lock().unwrap().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "the agent did not listen in 30 s:\n{}",
                logs.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Agent { child, addr, logs }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal (`TERM`, `KILL`) to the agent.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// Waits (at most `secs`) for the process to exit; its exit code.
    pub fn wait_exit(&mut self, secs: u64) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                return s.code();
            }
            assert!(
                Instant::now() < deadline,
                "the agent did not exit in {secs} s:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// `GET path`: status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        request(&self.addr, "GET", path, &[], b"")
    }

    /// The value of a metric line (name with labels, as `/metrics` prints it).
    pub fn metric(&self, series: &str) -> f64 {
        let (code, text) = self.get("/metrics");
        assert_eq!(code, 200, "{text}");
        text.lines()
            .find_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                (name == series).then(|| value.parse::<f64>().ok())?
            })
            .unwrap_or(0.0)
    }
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`); status and body. A
/// server that answers before reading the whole body (413) is fine: write errors are ignored.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the agent");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

/// A GitHub push delivery for `commit` on `main`, signed with `secret`: (headers, body).
pub fn github_push(
    secret: &[u8],
    commit: &str,
    delivery: &str,
) -> (Vec<(String, String)>, Vec<u8>) {
    let body =
        format!(r#"{{"ref":"refs/heads/main","after":"{commit}","repository":{{"name":"repo"}}}}"#)
            .into_bytes();
    let sig = eksync::agent::webhook::sign(secret, &body);
    (
        vec![
            ("X-GitHub-Event".into(), "push".into()),
            ("X-GitHub-Delivery".into(), delivery.into()),
            ("X-Hub-Signature-256".into(), sig),
            ("Content-Type".into(), "application/json".into()),
        ],
        body,
    )
}

/// Posts a delivery to the agent's webhook.
pub fn deliver(agent: &Agent, headers: &[(String, String)], body: &[u8]) -> (u16, String) {
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    request(&agent.addr, "POST", "/webhook", &h, body)
}

/// A working repository (branch `main`) with a remote served by `git daemon`.
pub struct Remote {
    pub work: PathBuf,
    pub base: PathBuf,
    pub daemon: Option<Server>,
    pub port: u16,
}

impl Remote {
    /// Creates `dir/work` with `files`, commits, and serves a bare copy at
    /// `git://127.0.0.1:PORT/repo.git`.
    pub fn new(dir: &Path, files: &[(&str, &str)]) -> Remote {
        let work = dir.join("work");
        std::fs::create_dir_all(&work).unwrap();
        git(&work, &["init", "-q", "-b", "main"]);
        for (p, t) in files {
            write(&work, p, t);
        }
        super::git::commit_all(&work, "first");
        let base = dir.join("served");
        std::fs::create_dir_all(&base).unwrap();
        super::git::bare_remote(&work, &base.join("repo.git"));
        let daemon = git_daemon(&base);
        let port = daemon.port;
        Remote {
            work,
            base,
            daemon: Some(daemon),
            port,
        }
    }

    pub fn url(&self) -> String {
        format!("git://127.0.0.1:{}/repo.git", self.port)
    }

    /// Writes files, commits and pushes; returns the commit.
    pub fn push(&self, files: &[(&str, &str)], subject: &str) -> String {
        for (p, t) in files {
            write(&self.work, p, t);
        }
        let c = super::git::commit_all(&self.work, subject);
        git(&self.work, &["push", "-q", "origin", "main"]);
        c
    }

    pub fn head(&self) -> String {
        git(&self.work, &["rev-parse", "HEAD"])
    }
}

pub fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn sync_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("eksync.io", "v1alpha1", "Sync"),
        "syncs",
    )
}

/// Installs `deploy/base/crd.yaml` and the `eksync-system` namespace on the test server, and
/// waits until the CRD is served.
pub async fn install(client: &kube::Client) {
    let crd: Value = serde_yaml_ng::from_str(eksync::agent::status::CRD_YAML).unwrap();
    let crds: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
            "customresourcedefinitions",
        ),
    );
    crds.create(
        &PostParams::default(),
        &serde_json::from_value(crd).unwrap(),
    )
    .await
    .expect("create the Sync CRD");
    let ns: Api<DynamicObject> = Api::all_with(
        client.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("", "v1", "Namespace"),
            "namespaces",
        ),
    );
    let body = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "eksync-system"}});
    ns.create(
        &PostParams::default(),
        &serde_json::from_value(body).unwrap(),
    )
    .await
    .expect("create eksync-system");
    let syncs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "eksync-system", &sync_resource());
    let deadline = Instant::now() + Duration::from_secs(10);
    while syncs.list(&Default::default()).await.is_err() {
        assert!(Instant::now() < deadline, "the Sync CRD is not served");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The Sync object (`None` until the agent made it).
pub async fn sync_object(client: &kube::Client, name: &str) -> Option<Value> {
    let syncs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "eksync-system", &sync_resource());
    let o = syncs.get_opt(name).await.expect("read the Sync")?;
    Some(serde_json::to_value(o).unwrap())
}

/// Patches `spec.suspend`.
pub async fn set_suspend(client: &kube::Client, name: &str, suspend: bool) {
    let syncs: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "eksync-system", &sync_resource());
    syncs
        .patch(
            name,
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({"spec": {"suspend": suspend}})),
        )
        .await
        .expect("patch spec.suspend");
}

/// Polls `cond` every 20 ms until it returns `Some` or `secs` pass; `what` names the wait.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut cond: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = cond().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {secs} s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The status condition `type` of a Sync object: (status, reason).
pub fn condition(sync: &Value, type_: &str) -> Option<(String, String)> {
    sync["status"]["conditions"]
        .as_array()?
        .iter()
        .find_map(|c| {
            (c["type"] == type_).then(|| {
                (
                    c["status"].as_str().unwrap_or_default().to_string(),
                    c["reason"].as_str().unwrap_or_default().to_string(),
                )
            })
        })
}

pub fn applied_commit(sync: &Value) -> Option<String> {
    sync["status"]["lastAppliedRevision"]["commit"]
        .as_str()
        .map(str::to_string)
}
