//! Benchmark: apply 1,000 generated Kubernetes objects (20 namespaces) to the in-process test
//! server with the real `eksync` binary, then re-run `apply` and `diff` on the unchanged repo;
//! then, side by side, the same repo through `kubectl apply --server-side` and a no-op
//! `kubectl diff --server-side` against a fresh test server of the same configuration (kubectl
//! from `$KUBECTL` or `/usr/bin/kubectl`; skipped, and said so, when it is missing). For each run
//! it reports wall time, the HTTP requests the server saw (total, writes, GETs, LISTs,
//! dry runs, by verb and resource) and the child's peak resident memory (`VmHWM`, polled from
//! `/proc/<pid>/status`). The no-op re-run must make 0 writes (a product requirement); the report
//! says so loudly when it does not.
//!
//! Run with `cargo bench --bench apply_1000 --profile dev` (or the default release profile); the
//! report is printed and written to `target/bench-reports/apply_1000.md`. Not a test: it asserts
//! nothing about time, and it does not stop at a failed run (the report shows it).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::{RequestLog, TestServer};

const NAMESPACES: usize = 20;
/// Apps per namespace: each has a ConfigMap, a Secret, a Deployment and a Service.
const APPS: usize = 11;
/// Namespace, ServiceAccount, Role, RoleBinding, shared ConfigMap, shared Secret.
const SHARED_PER_NS: usize = 6;
const OBJECTS: usize = NAMESPACES * (SHARED_PER_NS + 4 * APPS);
/// Poll interval for readiness waits, passed to eksync.
const POLL_MS: &str = "20";

/// Writes the repo: one file per namespace. Deployments run as the namespace's ServiceAccount
/// (bound to a Role), take their environment from their own ConfigMap and Secret, mount the
/// shared ConfigMap and Secret, and sit behind a Service: the graph has real dependencies.
fn generate(dir: &Path) -> std::io::Result<usize> {
    let mut total = 0;
    std::fs::create_dir_all(dir.join("k8s"))?;
    for n in 0..NAMESPACES {
        let ns = format!("team-{n:02}");
        let mut y = String::new();
        let _ = write!(
            y,
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    team: {ns}\n\
             ---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: {ns}\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: app\n  namespace: {ns}\n\
             rules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\", \"secrets\"]\n    verbs: [\"get\", \"list\", \"watch\"]\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: app\n  namespace: {ns}\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: app\n\
             subjects:\n  - kind: ServiceAccount\n    name: app\n    namespace: {ns}\n\
             ---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: common\n  namespace: {ns}\n\
             data:\n  REGION: eu-west-1\n  TEAM: {ns}\n  settings.yaml: |\n    tracing: true\n    sampleRate: 0.1\n\
             ---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials\n  namespace: {ns}\n\
             type: Opaque\nstringData:\n  username: app\n  password: s3cr3t-{ns}\n"
        );
        total += SHARED_PER_NS;
        for i in 0..APPS {
            let app = format!("app-{i:02}");
            let _ = write!(
                y,
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n  namespace: {ns}\n  labels:\n    app: {app}\n\
                 data:\n  LOG_LEVEL: info\n  FEATURE_X: \"true\"\n  PORT: \"8080\"\n\
                 ---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {app}-secret\n  namespace: {ns}\n  labels:\n    app: {app}\n\
                 type: Opaque\ndata:\n  API_KEY: c2VjcmV0LXZhbHVl\n\
                 ---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app: {app}\n\
                 spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n\
                 \x20   spec:\n      serviceAccountName: app\n      containers:\n\
                 \x20       - name: main\n          image: registry.example.com/{app}:1.2.3\n\
                 \x20         envFrom:\n            - configMapRef:\n                name: {app}-config\n            - secretRef:\n                name: {app}-secret\n\
                 \x20         env:\n            - name: DB_PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: db-credentials\n                  key: password\n\
                 \x20         ports:\n            - containerPort: 8080\n              name: http\n\
                 \x20         resources:\n            requests:\n              cpu: 100m\n              memory: 128Mi\n\
                 \x20         volumeMounts:\n            - name: common\n              mountPath: /etc/common\n\
                 \x20     volumes:\n        - name: common\n          configMap:\n            name: common\n\
                 ---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app: {app}\n\
                 spec:\n  selector:\n    app: {app}\n  ports:\n    - name: http\n      port: 80\n      targetPort: http\n"
            );
            total += 4;
        }
        std::fs::write(dir.join(format!("k8s/{ns}.yaml")), y)?;
    }
    Ok(total)
}

/// The `eksync` binary: Cargo sets `CARGO_BIN_EXE_eksync` for benches too.
fn eksync_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_eksync"))
}

/// The `kubectl` binary: `$KUBECTL`, else `/usr/bin/kubectl`.
fn kubectl_bin() -> PathBuf {
    std::env::var_os("KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/kubectl"))
}

/// `kubectl version --client` in one line, or `None` when kubectl does not run.
fn kubectl_version() -> Option<String> {
    let out = Command::new(kubectl_bin())
        .args(["version", "--client"])
        .output()
        .ok()?;
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string()
    })
}

/// `VmHWM` of a process in KiB, if it is still readable (a zombie has none).
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time (user + system) of a process so far, from `/proc/<pid>/stat` (`self` for this
/// process, which hosts the test server).
fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields after its closing parenthesis are fixed.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after `state`.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64))
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux unless told otherwise).
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// What the server saw during one run.
#[derive(Default)]
struct Requests {
    total: usize,
    writes: usize,
    changes: usize,
    gets: usize,
    lists: usize,
    dry_runs: usize,
    by_verb: BTreeMap<String, usize>,
    /// (verb, resource, dry run) -> count.
    detail: BTreeMap<(String, String, bool), usize>,
    /// The writes themselves (method, path), for the no-op investigation.
    write_lines: Vec<String>,
    /// Distinct `User-Agent`s (which kubectl a dispatcher really ran).
    agents: std::collections::BTreeSet<String>,
}

fn requests(log: &RequestLog) -> Requests {
    let mut r = Requests::default();
    for e in log.entries() {
        r.total += 1;
        if e.is_write() {
            r.writes += 1;
            r.write_lines.push(format!(
                "{} {} -> {} (changed: {})",
                e.method, e.path, e.status, e.changed
            ));
        }
        r.changes += usize::from(e.changed);
        r.agents.insert(e.user_agent.clone());
        r.gets += usize::from(e.verb == "get");
        r.lists += usize::from(e.verb == "list");
        r.dry_runs += usize::from(e.dry_run);
        *r.by_verb.entry(e.verb.clone()).or_default() += 1;
        *r.detail
            .entry((e.verb.clone(), e.resource.clone(), e.dry_run))
            .or_default() += 1;
    }
    r
}

/// One run of a binary.
struct Run {
    name: &'static str,
    /// `eksync` or `kubectl`.
    tool: &'static str,
    args: Vec<String>,
    wall: Duration,
    /// CPU time of the eksync process (last value read before it exited).
    child_cpu: Option<Duration>,
    /// CPU time this process (the test server, plus the sampling loop) spent during the run.
    server_cpu: Option<Duration>,
    exit: Option<i32>,
    peak_kib: Option<u64>,
    req: Requests,
    summary: Option<serde_json::Value>,
    /// `kind namespace/name: reason` of every failed item.
    failures: Vec<String>,
    stderr_tail: String,
    /// Lines of stdout (kubectl prints one per object).
    stdout_lines: usize,
}

fn run(name: &'static str, args: Vec<String>, log: &RequestLog) -> Run {
    run_tool(name, "eksync", &eksync_bin(), args, log)
}

fn run_tool(
    name: &'static str,
    tool: &'static str,
    program: &Path,
    args: Vec<String>,
    log: &RequestLog,
) -> Run {
    log.clear();
    let server_cpu0 = cpu_time("self");
    let start = Instant::now();
    let spawned = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => {
            return Run {
                name,
                tool,
                args,
                wall: start.elapsed(),
                child_cpu: None,
                server_cpu: None,
                exit: None,
                peak_kib: None,
                req: requests(log),
                summary: None,
                failures: Vec::new(),
                stderr_tail: format!("could not start {}: {e}", program.display()),
                stdout_lines: 0,
            }
        }
    };
    let pid = child.id();
    // Drain the pipes on threads so a large JSON report cannot block the child.
    let mut out_pipe = child.stdout.take();
    let mut err_pipe = child.stderr.take();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = out_pipe.as_mut() {
            let _ = std::io::Read::read_to_end(p, &mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(p) = err_pipe.as_mut() {
            let _ = std::io::Read::read_to_end(p, &mut s);
        }
        s
    });
    let mut peak = None;
    let mut child_cpu = None;
    let pid_s = pid.to_string();
    let status = loop {
        if let Some(kib) = vm_hwm_kib(pid) {
            peak = Some(kib);
        }
        if let Some(t) = cpu_time(&pid_s) {
            child_cpu = Some(t);
        }
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => break None,
        }
    };
    let wall = start.elapsed();
    let server_cpu = match (server_cpu0, cpu_time("self")) {
        (Some(a), Some(b)) => b.checked_sub(a),
        _ => None,
    };
    let stdout = out_t.join().unwrap_or_default();
    let stderr = err_t.join().unwrap_or_default();
    let json = serde_json::from_slice::<serde_json::Value>(&stdout).ok();
    let summary = json.as_ref().and_then(|v| v.get("summary").cloned());
    let failures = json
        .as_ref()
        .and_then(|v| v["items"].as_array())
        .into_iter()
        .flatten()
        .filter(|i| i["outcome"]["status"] == "failed")
        .map(|i| {
            format!(
                "{} {}/{}: {}",
                i["kind"].as_str().unwrap_or("?"),
                i["namespace"].as_str().unwrap_or("-"),
                i["name"].as_str().unwrap_or("?"),
                i["outcome"]["reason"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let stderr = String::from_utf8_lossy(&stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
    Run {
        name,
        tool,
        args,
        wall,
        child_cpu,
        server_cpu,
        exit: status.and_then(|s| s.code()),
        peak_kib: peak,
        req: requests(log),
        summary,
        failures,
        stderr_tail: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        stdout_lines: stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
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
            eprintln!("apply_1000: no temporary directory: {e}");
            std::process::exit(1);
        }
    };
    let repo = tmp.path().join("repo");
    let objects = match generate(&repo) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("apply_1000: could not write the repo: {e}");
            std::process::exit(1);
        }
    };
    assert_eq!(
        objects, OBJECTS,
        "the generator's count is its own invariant"
    );

    // The server lives on the runtime's worker threads for the whole benchmark.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("apply_1000: no tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    let server = match rt.block_on(TestServer::start()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("apply_1000: test server did not start: {e}");
            std::process::exit(1);
        }
    };
    let kubeconfig = match server.write_kubeconfig(tmp.path()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("apply_1000: could not write the kubeconfig: {e}");
            std::process::exit(1);
        }
    };
    let log = server.requests();
    let common = |cmd: &str, extra: &[&str]| -> Vec<String> {
        let mut v = vec![
            cmd.to_string(),
            repo.display().to_string(),
            "--no-aws".into(),
            "--kubeconfig".into(),
            kubeconfig.display().to_string(),
            "--poll-ms".into(),
            POLL_MS.into(),
            "-o".into(),
            "json".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };

    let mut runs = vec![run("cold apply", common("apply", &["--yes"]), &log)];
    // A no-op re-run only means something once the cluster holds the repo. When the cold apply
    // did not get there in one run, a second apply finishes the job first (and the report says
    // so): its writes are the cold apply's unfinished creates, not no-op writes.
    if !converged(&runs[0]) {
        runs.push(run("catch-up apply", common("apply", &["--yes"]), &log));
    }
    runs.push(run("no-op apply", common("apply", &["--yes"]), &log));
    runs.push(run("no-op diff", common("diff", &[]), &log));
    drop(server);

    // kubectl, side by side: a fresh server of the same configuration, its own kubeconfig and
    // discovery cache (empty at the apply, warm at the diff, as for a user).
    let kubectl = kubectl_version();
    let mut kruns = Vec::new();
    if kubectl.is_some() {
        let kdir = tmp.path().join("kubectl");
        let started = std::fs::create_dir_all(&kdir)
            .map_err(|e| e.to_string())
            .and_then(|()| rt.block_on(TestServer::start()).map_err(|e| e.to_string()))
            .and_then(|srv| {
                srv.write_kubeconfig(&kdir)
                    .map(|k| (srv, k))
                    .map_err(|e| e.to_string())
            });
        match started {
            Ok((kserver, kubeconfig)) => {
                let klog = kserver.requests();
                let kargs = |cmd: &str| -> Vec<String> {
                    vec![
                        cmd.to_string(),
                        "--server-side".into(),
                        "-f".into(),
                        repo.display().to_string(),
                        "--recursive".into(),
                        "--kubeconfig".into(),
                        kubeconfig.display().to_string(),
                        "--cache-dir".into(),
                        kdir.join("cache").display().to_string(),
                    ]
                };
                let k = kubectl_bin();
                kruns.push(run_tool(
                    "kubectl apply",
                    "kubectl",
                    &k,
                    kargs("apply"),
                    &klog,
                ));
                kruns.push(run_tool(
                    "kubectl no-op diff",
                    "kubectl",
                    &k,
                    kargs("diff"),
                    &klog,
                ));
                drop(kserver);
            }
            Err(e) => eprintln!("apply_1000: no test server for kubectl: {e}"),
        }
    }
    drop(rt);

    let report = render(profile, objects, &runs, kubectl.as_deref(), &kruns);
    print!("{report}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-reports");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("apply_1000.md"), &report);
    }
}

/// The apply finished with nothing failed or skipped (exit 2: changes applied; 0: none needed).
fn converged(r: &Run) -> bool {
    let n = |k: &str| r.summary.as_ref().and_then(|s| s[k].as_u64()).unwrap_or(0);
    matches!(r.exit, Some(0) | Some(2))
        && r.summary.is_some()
        && n("failed") == 0
        && n("skipped") == 0
}

fn secs(d: Option<Duration>) -> String {
    d.map_or("unknown".into(), |d| format!("{:.2} s", d.as_secs_f64()))
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("unknown".into(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

/// The side-by-side section: both tools' runs in one table and the ratios against the targets.
fn side_by_side(s: &mut String, runs: &[Run], kubectl: Option<&str>, kruns: &[Run]) {
    s.push_str("\n## Side by side with kubectl\n\n");
    let Some(version) = kubectl else {
        let _ = writeln!(
            s,
            "**kubectl did not run (`{}`): no side-by-side figures.**",
            kubectl_bin().display()
        );
        return;
    };
    let _ = writeln!(
        s,
        "- kubectl: `{}` ({version}); a fresh testkit server of the same configuration \
         (ControllerMode::Healthy) for each tool; kubectl's discovery cache (`--cache-dir`) is \
         empty at its apply and warm at its diff",
        kubectl_bin().display()
    );
    s.push_str(
        "- kubectl runs with its defaults: it has no flag for its client-side rate limit (QPS / \
         burst; `kubectl options` lists none), so any throttling is part of its figures (the \
         requests/s column shows the rate it reached); a version dispatcher in front of kubectl \
         (see the User-Agents below) adds its own `GET /version`\n- eksync's cold apply waits \
         for every object to be healthy (rollouts included); `kubectl apply` returns once the \
         objects are written\n\n",
    );
    s.push_str(
        "| step | tool | exit | wall time | tool CPU | server CPU | requests | writes | GETs | LISTs | dry runs | OpenAPI + discovery | requests/s | peak RSS (VmHWM) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let pick = |name: &str| runs.iter().find(|r| r.name == name);
    let rows = [
        ("cold apply", pick("cold apply")),
        (
            "cold apply",
            kruns.iter().find(|r| r.name == "kubectl apply"),
        ),
        ("no-op diff", pick("no-op diff")),
        (
            "no-op diff",
            kruns.iter().find(|r| r.name == "kubectl no-op diff"),
        ),
    ];
    for (step, r) in rows {
        let Some(r) = r else { continue };
        let meta = r.req.by_verb.get("openapi").copied().unwrap_or(0)
            + r.req.by_verb.get("discovery").copied().unwrap_or(0);
        let _ = writeln!(
            s,
            "| {step} | {} | {} | {:.2} s | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {} |",
            r.tool,
            r.exit.map_or("signal".into(), |c| c.to_string()),
            r.wall.as_secs_f64(),
            secs(r.child_cpu),
            secs(r.server_cpu),
            r.req.total,
            r.req.writes,
            r.req.gets,
            r.req.lists,
            r.req.dry_runs,
            meta,
            r.req.total as f64 / r.wall.as_secs_f64().max(0.001),
            mib(r.peak_kib),
        );
    }
    s.push_str(
        "\n(kubectl diff exits 0 when nothing differs, 1 when something does, above 1 on an error; \
         eksync exits 0 / 2 / 1.)\n\n",
    );
    let ratio =
        |what: &str, e: Option<&Run>, k: Option<&Run>, target: f64, s: &mut String| match (e, k) {
            (Some(e), Some(k)) => {
                let x = k.wall.as_secs_f64() / e.wall.as_secs_f64().max(0.001);
                let _ = writeln!(
                    s,
                    "- {what}: kubectl {:.2} s / eksync {:.2} s = **{x:.1}x** (target at least \
                     {target:.0}x: {}); requests {} vs {}, writes {} vs {}",
                    k.wall.as_secs_f64(),
                    e.wall.as_secs_f64(),
                    if x >= target { "met" } else { "NOT met" },
                    k.req.total,
                    e.req.total,
                    k.req.writes,
                    e.req.writes,
                );
            }
            _ => {
                let _ = writeln!(s, "- {what}: a run is missing, no ratio");
            }
        };
    ratio(
        "cold apply",
        pick("cold apply"),
        kruns.iter().find(|r| r.name == "kubectl apply"),
        5.0,
        s,
    );
    ratio(
        "no-op diff",
        pick("no-op diff"),
        kruns.iter().find(|r| r.name == "kubectl no-op diff"),
        10.0,
        s,
    );
    for (what, e, k) in [
        (
            "cold apply",
            pick("cold apply"),
            kruns.iter().find(|r| r.name == "kubectl apply"),
        ),
        (
            "no-op diff",
            pick("no-op diff"),
            kruns.iter().find(|r| r.name == "kubectl no-op diff"),
        ),
    ] {
        let (Some(e), Some(k)) = (e, k) else { continue };
        let share = |r: &Run| {
            r.server_cpu
                .map(|c| c.as_secs_f64() / r.wall.as_secs_f64().max(0.001))
                .unwrap_or(0.0)
        };
        if share(e) > 0.5 && share(k) > 0.5 {
            let _ = writeln!(
                s,
                "- {what}: the test server was busy for {:.0}% (eksync) and {:.0}% (kubectl) of \
                 the wall time (its simulated controllers run after every write): this ratio \
                 measures the test server at least as much as the tools",
                share(e) * 100.0,
                share(k) * 100.0
            );
        }
    }
    for k in kruns {
        if k.exit != Some(0) {
            let _ = writeln!(
                s,
                "\n**!!! {} exited {} (expected 0). !!!**",
                k.name,
                k.exit.map_or("by a signal".into(), |c| c.to_string())
            );
        }
    }
    if let Some(k) = kruns.iter().find(|r| r.name == "kubectl apply") {
        let _ = writeln!(
            s,
            "- kubectl apply printed {} line(s) (one per object applied)",
            k.stdout_lines
        );
    }
}

fn render(
    profile: &str,
    objects: usize,
    runs: &[Run],
    kubectl: Option<&str>,
    kruns: &[Run],
) -> String {
    let mut s = String::from("# apply_1000\n\n");
    let _ = writeln!(
        s,
        "- input: {objects} Kubernetes objects in {NAMESPACES} namespaces (per namespace: Namespace, \
         ServiceAccount, Role, RoleBinding, 2 shared ConfigMap/Secret, {APPS} apps x ConfigMap + Secret + \
         Deployment + Service); no ClusterConfig, `--no-aws`"
    );
    let _ = writeln!(
        s,
        "- build: {profile}; eksync default concurrency (4), `--poll-ms {POLL_MS}`; server: testkit, \
         in process, ControllerMode::Healthy"
    );
    let _ = writeln!(s, "- binary: `{}`\n", eksync_bin().display());
    s.push_str(
        "| run | exit | wall time | eksync CPU | server CPU | requests | writes | state changes | GETs | LISTs | dry runs | eksync peak RSS (VmHWM) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in runs {
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} s | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.exit.map_or("signal".into(), |c| c.to_string()),
            r.wall.as_secs_f64(),
            secs(r.child_cpu),
            secs(r.server_cpu),
            r.req.total,
            r.req.writes,
            r.req.changes,
            r.req.gets,
            r.req.lists,
            r.req.dry_runs,
            mib(r.peak_kib),
        );
    }
    s.push_str(
        "\n(writes: successful non-dry-run create/update/patch/apply/delete requests; state changes: \
         requests that changed stored state; server CPU: this process, which hosts the in-process \
         test server, during the run.)\n",
    );
    for r in runs {
        if let (Some(server), Some(child)) = (r.server_cpu, r.child_cpu) {
            if server > child * 2 {
                let why = if r.req.writes > 0 {
                    " (its simulated controllers run after every write)"
                } else {
                    ""
                };
                let _ = writeln!(
                    s,
                    "\n- {}: the test server used {:.1}x the CPU of eksync; its wall time mostly \
                     measures the server{why}.",
                    r.name,
                    server.as_secs_f64() / child.as_secs_f64().max(0.001)
                );
            }
        }
    }
    if let Some(cold) = runs.first().filter(|r| !converged(r)) {
        let _ = writeln!(
            s,
            "\n**!!! The cold apply did not converge in one run (exit {}); a catch-up apply ran \
             before the no-op runs. See its failures below. !!!**",
            cold.exit.map_or("signal".into(), |c| c.to_string())
        );
        for f in cold.failures.iter().take(5) {
            let _ = writeln!(s, "    {f}");
        }
        if cold.failures.len() > 5 {
            let _ = writeln!(s, "    ... {} more", cold.failures.len() - 5);
        }
    }
    for r in runs.iter().filter(|r| r.name.starts_with("no-op")) {
        if r.req.writes > 0 {
            let _ = writeln!(
                s,
                "\n**!!! REQUIREMENT BROKEN: the {} made {} write(s); a no-op re-run must make 0. !!!**\n",
                r.name, r.req.writes
            );
            for w in r.req.write_lines.iter().take(20) {
                let _ = writeln!(s, "    {w}");
            }
            if r.req.write_lines.len() > 20 {
                let _ = writeln!(s, "    ... {} more", r.req.write_lines.len() - 20);
            }
        } else {
            let _ = writeln!(s, "\n- {}: 0 writes, as required.", r.name);
        }
        if r.exit != Some(0) {
            let _ = writeln!(
                s,
                "\n**!!! The {} exited {} (expected 0: no changes). !!!**",
                r.name,
                r.exit.map_or("by a signal".into(), |c| c.to_string())
            );
        }
    }
    side_by_side(&mut s, runs, kubectl, kruns);
    for r in runs.iter().chain(kruns) {
        let _ = writeln!(s, "\n## {}\n", r.name);
        let _ = writeln!(s, "- command: `{} {}`", r.tool, r.args.join(" "));
        if let Some(sum) = &r.summary {
            let _ = writeln!(s, "- eksync summary: `{sum}`");
        } else if r.tool != "eksync" {
            let _ = writeln!(s, "- {} line(s) on stdout", r.stdout_lines);
        } else {
            let _ = writeln!(s, "- no JSON summary on stdout");
        }
        let by_verb: Vec<String> = r
            .req
            .by_verb
            .iter()
            .map(|(v, n)| format!("{v} {n}"))
            .collect();
        let _ = writeln!(s, "- requests by verb: {}", by_verb.join(", "));
        let agents: Vec<String> = r.req.agents.iter().map(|a| format!("`{a}`")).collect();
        let _ = writeln!(s, "- User-Agent: {}", agents.join(", "));
        s.push_str("\n| verb | resource | dry run | count |\n|---|---|---|---|\n");
        for ((verb, res, dry), n) in &r.req.detail {
            let res = if res.is_empty() { "-" } else { res };
            let _ = writeln!(
                s,
                "| {verb} | {res} | {} | {n} |",
                if *dry { "yes" } else { "" }
            );
        }
        let failed = match r.tool {
            "eksync" => r.exit != Some(0) && r.exit != Some(2),
            _ => r.exit != Some(0),
        };
        if failed && !r.stderr_tail.is_empty() {
            let _ = writeln!(s, "\nstderr (last lines):\n\n```\n{}\n```", r.stderr_tail);
        }
    }
    s
}
