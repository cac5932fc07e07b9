//! Benchmark: plan a generated repo of 10,000 manifests across 200 namespaces (plus the example's
//! ClusterConfig) and report wall time and peak memory. Target: under 1 s and under 200 MB on the
//! project's 2-core machine. Run with `cargo bench --bench plan_large`; the report is printed and
//! written to `target/bench-reports/plan_large.md`. Not a test: it asserts nothing about time.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use eksync::core::analysis;
use eksync::core::load::{Source, SourceFile};

const NAMESPACES: usize = 200;
const MANIFESTS: usize = 10_000;

/// Builds the repo in memory: per namespace a Namespace, then ConfigMaps, Secrets, a
/// ServiceAccount with a Role and RoleBinding, and Deployments that use them and select the
/// static node group, with Services in front; one file per namespace.
fn generate() -> Source {
    let cluster = include_str!("../examples-repo/cluster/cluster.yaml");
    let mut files = vec![SourceFile {
        path: "cluster/cluster.yaml".into(),
        bytes: cluster.as_bytes().to_vec(),
    }];
    let per_ns = MANIFESTS / NAMESPACES;
    for n in 0..NAMESPACES {
        let ns = format!("team-{n:03}");
        let mut y = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n");
        let mut count = 1;
        let _ = write!(
            y,
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: {ns}\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: app\n  namespace: {ns}\n\
             rules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\"]\n    verbs: [\"get\", \"list\"]\n\
             ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: app\n  namespace: {ns}\n\
             roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: app\n\
             subjects:\n  - kind: ServiceAccount\n    name: app\n    namespace: {ns}\n"
        );
        count += 3;
        let mut i = 0;
        while count < per_ns {
            let app = format!("app-{i:02}");
            let _ = write!(
                y,
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}-config\n  namespace: {ns}\n  labels:\n    app: {app}\n\
                 data:\n  LOG_LEVEL: info\n  FEATURE_X: \"true\"\n"
            );
            count += 1;
            if count < per_ns {
                let _ = write!(
                    y,
                    "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app: {app}\n\
                     spec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n\
                     \x20   spec:\n      serviceAccountName: app\n      nodeSelector:\n        lifecycle: OnDemand\n      containers:\n\
                     \x20       - name: main\n          image: registry.example.com/{app}:1.2.3\n          envFrom:\n            - configMapRef:\n                name: {app}-config\n\
                     \x20         ports:\n            - containerPort: 8080\n"
                );
                count += 1;
            }
            if count < per_ns {
                let _ = write!(
                    y,
                    "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  selector:\n    app: {app}\n\
                     \x20 ports:\n    - port: 80\n      targetPort: 8080\n"
                );
                count += 1;
            }
            i += 1;
        }
        files.push(SourceFile {
            path: format!("k8s/{ns}.yaml"),
            bytes: y.into_bytes(),
        });
    }
    Source {
        files,
        skipped: Vec::new(),
    }
}

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let t0 = Instant::now();
    let src = generate();
    let gen_time = t0.elapsed();
    let bytes: usize = src.files.iter().map(|f| f.bytes.len()).sum();
    let mut times: Vec<Duration> = Vec::new();
    let mut summary = (0, 0, 0, 0);
    for _ in 0..5 {
        let t = Instant::now();
        let a = analysis::analyze(&src);
        times.push(t.elapsed());
        summary = (
            a.model.objects.len(),
            a.graph.edges.len(),
            a.order.waves.len(),
            a.diagnostics.iter().filter(|d| d.is_error()).count(),
        );
    }
    times.sort();
    let peak = peak_rss_mib();
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let report = format!(
        "# plan_large\n\n\
         - input: {} Kubernetes objects in {NAMESPACES} namespaces + 1 ClusterConfig ({} files, {:.1} MiB of YAML), generated in {:.0} ms\n\
         - result: {} edges, {} waves, {} errors\n\
         - plan wall time over 5 runs ({profile} build): min {:.0} ms, median {:.0} ms, max {:.0} ms (target < 1000 ms)\n\
         - peak resident memory of the whole process: {} (target < 200 MB)\n",
        summary.0,
        src.files.len(),
        bytes as f64 / 1048576.0,
        gen_time.as_secs_f64() * 1000.0,
        summary.1,
        summary.2,
        summary.3,
        times[0].as_secs_f64() * 1000.0,
        times[2].as_secs_f64() * 1000.0,
        times[4].as_secs_f64() * 1000.0,
        peak.map_or("unknown".to_string(), |p| format!("{p:.0} MiB")),
    );
    print!("{report}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-reports");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("plan_large.md"), &report);
    }
}
