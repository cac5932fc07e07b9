//! Benchmark: the PR preview on a large repo, and the cost of re-reading an unchanged remote.
//!
//! 1. `eksync diff --base main --head feature REPO -o markdown` with the real binary on a Git
//!    repository made with the `git` CLI: `main` holds the 10,000-manifest repo of `plan_large`
//!    (`benches/common`), `feature` changes 1% of its manifests (an image tag and a ConfigMap
//!    value in each of 50 namespaces). Wall time and the child's peak resident memory (`VmHWM`,
//!    polled from `/proc/<pid>/status`) over a few runs. Targets: under 2 s and 300 MB (release).
//! 2. The same repository served by `git daemon` on a free 127.0.0.1 port behind a counting TCP
//!    relay, read twice with `eksync validate git://127.0.0.1:PORT/repo --ref main --git-cache
//!    DIR`: connections, round trips (a server answer after the client spoke), bytes each way,
//!    and the pack files of the cache before and after the second run. Target for the second
//!    run: one round trip, no object download (no new pack).
//!
//! Run with `cargo bench --bench diff_base` (or `--profile dev`); the report is printed and
//! written to `target/bench-reports/diff_base.md`. Not a test: it asserts nothing about time.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;
use common::{generate, write_source, MANIFESTS, NAMESPACES};

/// Namespaces whose files `feature` changes (two manifests each: 1% of the repo).
const CHANGED_NAMESPACES: usize = 50;
/// Timed runs of `diff --base`.
const RUNS: usize = 3;

fn eksync_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_eksync"))
}

/// `git` with a fixed identity and no user or system configuration.
fn git_cmd(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .env("GIT_TERMINAL_PROMPT", "0");
    c
}

fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = git_cmd(dir)
        .args(args)
        .output()
        .map_err(|e| format!("git {args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?} in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The two revisions: `main` (the generated repo) and `feature` (1% of its manifests changed).
/// Returns the number of manifests `feature` changes.
fn make_repo(dir: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let src = generate();
    write_source(&src, dir).map_err(|e| e.to_string())?;
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-q", "-m", "10,000 manifests"])?;
    git(dir, &["checkout", "-q", "-b", "feature"])?;
    let mut changed = 0;
    for n in 0..CHANGED_NAMESPACES {
        let path = dir.join(format!("k8s/team-{n:03}.yaml"));
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let edited = text
            .replacen(
                "image: registry.example.com/app-00:1.2.3",
                "image: registry.example.com/app-00:1.3.0",
                1,
            )
            .replacen("LOG_LEVEL: info", "LOG_LEVEL: debug", 1);
        changed += usize::from(edited.contains("app-00:1.3.0"))
            + usize::from(edited.contains("LOG_LEVEL: debug"));
        std::fs::write(&path, edited).map_err(|e| e.to_string())?;
    }
    git(dir, &["commit", "-q", "-am", "1% of the manifests changed"])?;
    // The working tree back on main: the head is read from the `feature` commit, not the folder.
    git(dir, &["checkout", "-q", "main"])?;
    Ok(changed)
}

/// `VmHWM` of a process in KiB, if it is still readable.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// One run of the binary: wall time, exit code, peak RSS, stdout size, stderr tail.
struct Run {
    wall: Duration,
    exit: Option<i32>,
    peak_kib: Option<u64>,
    stdout: Vec<u8>,
    stderr: String,
}

fn run(args: &[String]) -> Run {
    let start = Instant::now();
    let spawned = Command::new(eksync_bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child: Child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Run {
                wall: start.elapsed(),
                exit: None,
                peak_kib: None,
                stdout: Vec::new(),
                stderr: format!("could not start {}: {e}", eksync_bin().display()),
            }
        }
    };
    let pid = child.id();
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = p.read_to_end(&mut s);
        }
        s
    });
    let mut peak = None;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(pid) {
            peak = Some(kib);
        }
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => break None,
        }
    };
    let wall = start.elapsed();
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    let stderr = String::from_utf8_lossy(&stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
    Run {
        wall,
        exit: status.and_then(|s| s.code()),
        peak_kib: peak,
        stdout,
        stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    }
}

/// Traffic through the relay since the last reset.
#[derive(Default)]
struct Traffic {
    connections: AtomicU64,
    /// Server answers that followed client data (one per request/response exchange).
    round_trips: AtomicU64,
    to_server: AtomicU64,
    to_client: AtomicU64,
}

impl Traffic {
    fn reset(&self) {
        for c in [
            &self.connections,
            &self.round_trips,
            &self.to_server,
            &self.to_client,
        ] {
            c.store(0, Ordering::SeqCst);
        }
    }
    fn snapshot(&self) -> [u64; 4] {
        [
            self.connections.load(Ordering::SeqCst),
            self.round_trips.load(Ordering::SeqCst),
            self.to_server.load(Ordering::SeqCst),
            self.to_client.load(Ordering::SeqCst),
        ]
    }
}

const CLIENT: u8 = 1;
const SERVER: u8 = 2;

/// Copies one direction of a relayed connection, counting bytes and turns.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    dir: u8,
    last: Arc<AtomicU8>,
    traffic: Arc<Traffic>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let prev = last.swap(dir, Ordering::SeqCst);
        if dir == SERVER {
            traffic.to_client.fetch_add(n as u64, Ordering::SeqCst);
            if prev == CLIENT {
                traffic.round_trips.fetch_add(1, Ordering::SeqCst);
            }
        } else {
            traffic.to_server.fetch_add(n as u64, Ordering::SeqCst);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// A TCP relay on a free 127.0.0.1 port in front of `target_port`, counting traffic. Its
/// threads end with the process (the benchmark's last act).
fn relay(target_port: u16, traffic: Arc<Traffic>) -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                continue;
            };
            traffic.connections.fetch_add(1, Ordering::SeqCst);
            let last = Arc::new(AtomicU8::new(0));
            let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                continue;
            };
            let (t1, l1) = (traffic.clone(), last.clone());
            std::thread::spawn(move || pump(client, server, CLIENT, l1, t1));
            let t2 = traffic.clone();
            std::thread::spawn(move || pump(s2, c2, SERVER, last, t2));
        }
    });
    Ok(port)
}

/// A free port on 127.0.0.1 (bound, then released for the daemon).
fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `git daemon` serving `base`, killed when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn git_daemon(base: &Path, port: u16, log: &Path) -> Result<Daemon, String> {
    let log = std::fs::File::create(log).map_err(|e| e.to_string())?;
    let child = git_cmd(base)
        .args([
            "daemon",
            "--export-all",
            "--reuseaddr",
            "--verbose",
            "--informative-errors",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", base.display()))
        .arg(base)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("git daemon: {e}"))?;
    let mut d = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(s)) = d.0.try_wait() {
            return Err(format!("git daemon exited early: {s}"));
        }
        if Instant::now() > deadline {
            return Err("git daemon did not listen within 20 s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(d)
}

/// Pack files of a cache (all bare repositories under it) and their total size.
fn packs(dir: &Path) -> (usize, u64) {
    let mut n = 0;
    let mut bytes = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "pack") {
                n += 1;
                bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    (n, bytes)
}

/// Loose objects of a cache (files under `objects/xx/`).
fn loose_objects(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .parent()
                .and_then(|x| x.file_name())
                .and_then(|x| x.to_str())
                .is_some_and(|x| x.len() == 2 && x.chars().all(|c| c.is_ascii_hexdigit()))
            {
                n += 1;
            }
        }
    }
    n
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("unknown".into(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

fn kib_of(bytes: u64) -> String {
    if bytes < 10 * 1024 {
        format!("{bytes} B")
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}

fn main() {
    let profile = if cfg!(debug_assertions) {
        "debug (dev profile)"
    } else {
        "release"
    };
    let tmp = match tempfile::tempdir() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("diff_base: no temporary directory: {e}");
            std::process::exit(1);
        }
    };
    let base = tmp.path().join("srv");
    let repo = base.join("repo");
    let t0 = Instant::now();
    let changed = match make_repo(&repo) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("diff_base: could not make the Git repository: {e}");
            std::process::exit(1);
        }
    };
    let setup = t0.elapsed();

    let mut s = String::from("# diff_base\n\n");
    let _ = writeln!(
        s,
        "- input: a Git repository (made with `git`) whose `main` holds {MANIFESTS} Kubernetes \
         manifests in {NAMESPACES} namespaces + 1 ClusterConfig (the `plan_large` generator) and \
         whose `feature` changes {changed} of them ({:.1}%: an image tag and a ConfigMap value in \
         each of {CHANGED_NAMESPACES} namespaces); made in {:.1} s",
        changed as f64 * 100.0 / MANIFESTS as f64,
        setup.as_secs_f64()
    );
    let _ = writeln!(
        s,
        "- build: {profile}; binary `{}`\n",
        eksync_bin().display()
    );

    // 1. diff --base
    let args: Vec<String> = [
        "diff",
        "--base",
        "main",
        "--head",
        "feature",
        &repo.display().to_string(),
        "-o",
        "markdown",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    let runs: Vec<Run> = (0..RUNS).map(|_| run(&args)).collect();
    s.push_str("## `eksync diff --base main --head feature REPO -o markdown`\n\n");
    s.push_str(
        "| run | exit | wall time | peak RSS (VmHWM) | comment size |\n|---|---|---|---|---|\n",
    );
    for (i, r) in runs.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} s | {} | {} |",
            i + 1,
            r.exit.map_or("signal".into(), |c| c.to_string()),
            r.wall.as_secs_f64(),
            mib(r.peak_kib),
            kib_of(r.stdout.len() as u64),
        );
    }
    let mut walls: Vec<Duration> = runs.iter().map(|r| r.wall).collect();
    walls.sort();
    let median = walls[walls.len() / 2];
    let peak = runs.iter().filter_map(|r| r.peak_kib).max();
    let peak_mb = peak.map(|k| k as f64 * 1024.0 / 1e6);
    let _ = writeln!(
        s,
        "\n- median wall time {:.2} s (target under 2 s: {}); highest peak RSS {} = {} MB (target \
         under 300 MB: {})",
        median.as_secs_f64(),
        if median < Duration::from_secs(2) {
            "met"
        } else {
            "NOT met"
        },
        mib(peak),
        peak_mb.map_or("unknown".into(), |m| format!("{m:.0}")),
        match peak_mb {
            Some(m) if m < 300.0 => "met",
            Some(_) => "NOT met",
            None => "unknown",
        }
    );
    let comment = String::from_utf8_lossy(&runs[0].stdout);
    // The summary table's Kubernetes row: `| Kubernetes | creates | updates | ... |`.
    let k8s_updates = comment
        .lines()
        .find(|l| l.starts_with("| Kubernetes |"))
        .and_then(|l| l.split('|').nth(3))
        .and_then(|c| c.trim().parse::<usize>().ok());
    let _ = writeln!(
        s,
        "- exit 2 (changes) every time: {}; Kubernetes updates in the comment's summary: {} \
         (expected {changed})",
        if runs.iter().all(|r| r.exit == Some(2)) {
            "yes"
        } else {
            "**NO**"
        },
        k8s_updates.map_or("not found".into(), |n| n.to_string()),
    );
    if let Some(r) = runs.iter().find(|r| r.exit != Some(2)) {
        let _ = writeln!(s, "\nstderr (last lines):\n\n```\n{}\n```", r.stderr);
    }
    let summary: Vec<&str> = comment
        .lines()
        .filter(|l| l.starts_with('|'))
        .take(8)
        .collect();
    if !summary.is_empty() {
        let _ = writeln!(
            s,
            "\nThe comment's first table:\n\n{}\n",
            summary.join("\n")
        );
    }

    // 2. A no-change re-fetch of a remote.
    s.push_str("\n## No-change re-fetch of a remote (`git daemon`)\n\n");
    match refetch(tmp.path(), &base) {
        Ok(t) => s.push_str(&t),
        Err(e) => {
            let _ = writeln!(s, "**!!! the re-fetch measurement failed: {e} !!!**");
        }
    }

    print!("{s}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-reports");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("diff_base.md"), &s);
    }
}

/// Serves `base/repo` with `git daemon` behind the counting relay and validates it twice
/// through one cache; returns the report section.
fn refetch(tmp: &Path, base: &Path) -> Result<String, String> {
    let daemon_port = free_port().map_err(|e| e.to_string())?;
    let log = tmp.join("daemon.log");
    let _daemon = git_daemon(base, daemon_port, &log)?;
    let traffic = Arc::new(Traffic::default());
    let port = relay(daemon_port, traffic.clone()).map_err(|e| e.to_string())?;
    let cache = tmp.join("git-cache");
    let url = format!("git://127.0.0.1:{port}/repo");
    let args: Vec<String> = [
        "validate",
        url.as_str(),
        "--ref",
        "main",
        "--git-cache",
        &cache.display().to_string(),
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    let daemon_lines = |what: &str| -> usize {
        std::fs::read_to_string(&log)
            .map(|t| t.lines().filter(|l| l.contains(what)).count())
            .unwrap_or(0)
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        "- `eksync validate git://127.0.0.1:PORT/repo --ref main --git-cache DIR`, twice; \
         `git daemon --verbose` behind a TCP relay that counts connections, bytes and round trips \
         (a server answer after the client spoke)\n"
    );
    s.push_str(
        "| run | exit | wall time | connections | round trips | bytes to server | bytes to client | daemon upload-pack requests | cache packs (count, size) | loose objects |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut rows = Vec::new();
    for name in ["first (clone into the cache)", "second (no change)"] {
        traffic.reset();
        let requests_before = daemon_lines("Request upload-pack");
        let r = run(&args);
        // The relay's threads may still be flushing the last bytes of a closed connection.
        std::thread::sleep(Duration::from_millis(200));
        let [conns, trips, up, down] = traffic.snapshot();
        let requests = daemon_lines("Request upload-pack") - requests_before;
        let (np, pb) = packs(&cache);
        let loose = loose_objects(&cache);
        let _ = writeln!(
            s,
            "| {name} | {} | {:.2} s | {conns} | {trips} | {} | {} | {requests} | {np}, {} | {loose} |",
            r.exit.map_or("signal".into(), |c| c.to_string()),
            r.wall.as_secs_f64(),
            kib_of(up),
            kib_of(down),
            kib_of(pb),
        );
        if r.exit != Some(0) {
            let _ = writeln!(s, "\nstderr (last lines):\n\n```\n{}\n```\n", r.stderr);
        }
        rows.push((conns, trips, down, np, pb, loose));
    }
    if let [first, second] = rows.as_slice() {
        let no_download = second.3 == first.3 && second.4 == first.4 && second.5 == first.5;
        let _ = writeln!(
            s,
            "\n- second run: {} connection(s), {} round trip(s), {} received (the ref \
             advertisement); new packs or objects in the cache: {} (target: one round trip, no \
             object download: {})",
            second.0,
            second.1,
            kib_of(second.2),
            if no_download { "none" } else { "**some**" },
            if second.1 == 1 && no_download {
                "met"
            } else {
                "NOT met"
            }
        );
    }
    Ok(s)
}
