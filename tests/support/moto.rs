//! A `moto_server` for AWS tests: one per test binary, on a free 127.0.0.1 port, reset between tests.
//! The binary comes from `EKSYNC_MOTO_SERVER` or `<repo>/.venv/bin/moto_server` (`scripts/setup.sh`
//! installs it). It runs under the Python beside that binary through `tests/support/moto_server.py`,
//! which fixes one moto defect (outputs of a stack applied by a change set) before starting moto's
//! own server. The server is started through a small shell watchdog that kills it when the test
//! process exits, since a server kept in a `static` is never dropped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct MotoServer {
    pub port: u16,
    pub url: String,
    pid: u32,
    watchdog: Child,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

fn binary() -> PathBuf {
    let path = std::env::var_os("EKSYNC_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"));
    assert!(
        path.exists(),
        "moto_server not found at {}: run scripts/setup.sh (or set EKSYNC_MOTO_SERVER)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// Sends a bodyless request and returns the status code.
pub fn http(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(status)
}

impl MotoServer {
    pub fn start() -> Self {
        let bin = binary();
        // The virtualenv's interpreter, the one moto is installed for.
        let python = bin.with_file_name("python");
        let launcher =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/moto_server.py");
        let port = free_port();
        let script = r#""$0" "$3" -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & m=$!; echo $m; while kill -0 "$2" 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.3; done; kill $m 2>/dev/null"#;
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(&python)
            .arg(port.to_string())
            .arg(std::process::id().to_string())
            .arg(&launcher)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn moto_server watchdog");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read moto pid");
        let pid: u32 = line.trim().parse().expect("moto pid");
        let server = MotoServer {
            port,
            url: format!("http://127.0.0.1:{port}"),
            pid,
            watchdog: child,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(port, "POST", "/moto-api/reset").ok() != Some(200) {
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    pub fn reset(&self) {
        assert_eq!(
            http(self.port, "POST", "/moto-api/reset").expect("reset moto"),
            200
        );
    }
}

static SERVER: OnceLock<MotoServer> = OnceLock::new();
static LOCK: OnceLock<tokio::sync::Mutex<()>> = OnceLock::new();

/// The binary's moto, reset, with a guard that keeps other tests of this binary out until dropped.
pub async fn moto() -> (tokio::sync::MutexGuard<'static, ()>, &'static MotoServer) {
    let guard = LOCK
        .get_or_init(|| tokio::sync::Mutex::new(()))
        .lock()
        .await;
    let server = SERVER.get_or_init(MotoServer::start);
    server.reset();
    (guard, server)
}
