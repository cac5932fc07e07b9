//! Real Git repositories and real Git servers for the Git source tests: repositories made with
//! the `git` CLI from `examples-repo/`, and servers on free 127.0.0.1 ports that the test starts
//! and stops: `git daemon`, smart HTTP (`git http-backend` behind a small CGI-forwarding server
//! that checks a token and logs every request) and OpenSSH's `sshd` with generated host and user
//! keys. Readiness is polled with a deadline, never slept for.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use super::cli::wait_until;

/// `git` with a clean, fixed identity and no user or system configuration.
pub fn git_cmd(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .env("GIT_TERMINAL_PROMPT", "0");
    c
}

/// Runs git in `dir`; fails the test on an error; returns stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_cmd(dir).args(args).output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Copies a folder tree (files and folders only).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

pub fn examples_repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples-repo")
}

/// A working repository at `dir` on branch `main`, holding `examples-repo/` under `prefix`
/// (`""` for the root), committed once. Returns the commit.
pub fn init_example(dir: &Path, prefix: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    copy_tree(&examples_repo(), &dir.join(prefix));
    commit_all(dir, "Jenkins on EKS")
}

/// Commits everything; returns the commit.
pub fn commit_all(dir: &Path, subject: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "--allow-empty", "-m", subject]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A ConfigMap manifest: one more resource in the plan.
pub fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: jenkins\ndata:\n  k: v\n")
}

/// A bare copy of `work` at `bare` (what servers serve); `git push` from `work` updates it.
pub fn bare_remote(work: &Path, bare: &Path) {
    git(
        work.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--bare",
            work.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    git(work, &["remote", "add", "origin", bare.to_str().unwrap()]);
}

/// A port that was free a moment ago (the server binds it right after).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    wait_until(20, what, || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early: {status}");
        }
        TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200)).is_ok()
    });
}

/// A child process killed (and reaped) when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        // `git daemon` runs `git-daemon` as a child, which runs one child per connection: the
        // server is started as its own process group, and the whole group goes.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git daemon --export-all --base-path=base` on a free port: `git://127.0.0.1:port/<name>`.
pub fn git_daemon(base: &Path) -> Server {
    git_daemon_on(base, free_port())
}

/// `git daemon` on a given port (a restart where it was).
pub fn git_daemon_on(base: &Path, port: u16) -> Server {
    let mut child = git_cmd(base)
        .args([
            "daemon",
            "--export-all",
            "--reuseaddr",
            "--informative-errors",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start git daemon");
    wait_for_port(port, "git daemon", &mut child);
    Server { child, port }
}

/// One request the HTTP server answered.
#[derive(Debug, Clone)]
pub struct HttpSeen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub status: u16,
    pub user_agent: String,
}

/// Smart HTTP: `git http-backend` behind a CGI-forwarding server that wants `token` as the
/// password of basic authentication (any user name).
pub struct HttpGit {
    pub url: String,
    pub log: Arc<Mutex<Vec<HttpSeen>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for HttpGit {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl HttpGit {
    pub fn requests(&self) -> Vec<HttpSeen> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }

    pub fn start(root: &Path, token: &str) -> HttpGit {
        use axum::body::{Body, Bytes};
        use axum::http::{HeaderMap, Method, StatusCode, Uri};
        use axum::response::Response;
        use base64::Engine as _;

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let log: Arc<Mutex<Vec<HttpSeen>>> = Arc::default();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (root, token, log2) = (root.to_path_buf(), token.to_string(), log.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let handler = move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                    let (root, token, log) = (root.clone(), token.clone(), log2.clone());
                    async move {
                        let header = |n: &str| {
                            headers
                                .get(n)
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("")
                                .to_string()
                        };
                        let authorized = header("authorization")
                            .strip_prefix("Basic ")
                            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                            .and_then(|b| String::from_utf8(b).ok())
                            .is_some_and(|up| up.split_once(':').is_some_and(|(_, p)| p == token));
                        let target = uri
                            .path_and_query()
                            .map(|p| p.to_string())
                            .unwrap_or_default();
                        let mut seen = HttpSeen {
                            method: method.to_string(),
                            target,
                            status: 401,
                            user_agent: header("user-agent"),
                        };
                        if !authorized {
                            log.lock().unwrap().push(seen);
                            return Response::builder()
                                .status(StatusCode::UNAUTHORIZED)
                                .header("WWW-Authenticate", "Basic realm=\"git\"")
                                .body(Body::from("authentication required"))
                                .unwrap();
                        }
                        let mut cgi = tokio::process::Command::new("git");
                        cgi.arg("http-backend")
                            .env_clear()
                            .env("PATH", std::env::var("PATH").unwrap_or_default())
                            .env("GIT_PROJECT_ROOT", &root)
                            .env("GIT_HTTP_EXPORT_ALL", "1")
                            .env("GIT_CONFIG_NOSYSTEM", "1")
                            .env("GIT_CONFIG_GLOBAL", "/dev/null")
                            .env("REQUEST_METHOD", method.as_str())
                            .env("PATH_INFO", uri.path())
                            .env("QUERY_STRING", uri.query().unwrap_or(""))
                            .env("CONTENT_TYPE", header("content-type"))
                            .env("CONTENT_LENGTH", body.len().to_string())
                            .env("HTTP_CONTENT_ENCODING", header("content-encoding"))
                            .env("GIT_PROTOCOL", header("git-protocol"))
                            .env("REMOTE_USER", "tester")
                            .env("REMOTE_ADDR", "127.0.0.1")
                            .stdin(Stdio::piped())
                            .stdout(Stdio::piped())
                            .stderr(Stdio::null());
                        let mut child = cgi.spawn().expect("start git http-backend");
                        let mut stdin = child.stdin.take().unwrap();
                        let writer = tokio::spawn(async move {
                            use tokio::io::AsyncWriteExt;
                            let _ = stdin.write_all(&body).await;
                        });
                        let out = child.wait_with_output().await.expect("git http-backend");
                        let _ = writer.await;
                        let raw = out.stdout;
                        let split = raw
                            .windows(4)
                            .position(|w| w == b"\r\n\r\n")
                            .map(|i| (i, i + 4))
                            .or_else(|| {
                                raw.windows(2)
                                    .position(|w| w == b"\n\n")
                                    .map(|i| (i, i + 2))
                            })
                            .unwrap_or((raw.len(), raw.len()));
                        let head = String::from_utf8_lossy(&raw[..split.0]).into_owned();
                        let mut resp = Response::builder();
                        let mut status = 200u16;
                        for line in head.lines() {
                            if let Some((k, v)) = line.split_once(':') {
                                let v = v.trim();
                                if k.eq_ignore_ascii_case("status") {
                                    status =
                                        v.split(' ').next().unwrap_or("200").parse().unwrap_or(500);
                                } else {
                                    resp = resp.header(k.trim(), v);
                                }
                            }
                        }
                        seen.status = status;
                        log.lock().unwrap().push(seen);
                        resp.status(status)
                            .body(Body::from(raw[split.1..].to_vec()))
                            .unwrap()
                    }
                };
                let app = axum::Router::new().fallback(handler);
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        HttpGit {
            url,
            log,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// `ssh-keygen` an ed25519 key pair at `path` (and `path.pub`); returns the public line.
pub fn keygen(path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "eksync-test", "-f"])
        .arg(path)
        .output()
        .expect("run ssh-keygen");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(path.with_extension("pub")).unwrap()
}

/// The user this test runs as (sshd lets it log in as itself).
pub fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// OpenSSH's sshd on a free port, for the current user, with a fresh host key; `client_key` may
/// log in. `known_hosts_line` is what a correct known_hosts file holds for it.
pub struct Sshd {
    pub server: Server,
    pub known_hosts_line: String,
    pub user: String,
}

/// Why sshd cannot run here, if it cannot.
pub fn sshd_unavailable() -> Option<String> {
    if !Path::new("/usr/sbin/sshd").exists() {
        return Some("/usr/sbin/sshd is missing (scripts/setup.sh installs openssh-server)".into());
    }
    None
}

impl Sshd {
    pub fn start(dir: &Path, client_pub: &str) -> Sshd {
        std::fs::create_dir_all(dir).unwrap();
        let host_key = dir.join("host_ed25519");
        let host_pub = keygen(&host_key);
        let authorized = dir.join("authorized_keys");
        std::fs::write(&authorized, client_pub).unwrap();
        // Privilege separation needs this folder when sshd runs as root.
        let _ = std::fs::create_dir_all("/run/sshd");
        let port = free_port();
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}\nAuthorizedKeysFile {}\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                 PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nLogLevel ERROR\n",
                host_key.display(),
                dir.join("sshd.pid").display(),
                authorized.display(),
            ),
        )
        .unwrap();
        let mut child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshd");
        wait_for_port(port, "sshd", &mut child);
        let mut fields = host_pub.split_whitespace();
        let (ktype, key) = (fields.next().unwrap(), fields.next().unwrap());
        Sshd {
            server: Server { child, port },
            known_hosts_line: format!("[127.0.0.1]:{port} {ktype} {key}\n"),
            user: current_user(),
        }
    }
}
