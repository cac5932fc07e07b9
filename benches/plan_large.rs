//! Benchmark: plan a generated repo of 10,000 manifests across 200 namespaces (plus the example's
//! ClusterConfig) and report wall time and peak memory. Target: under 1 s and under 200 MB on the
//! project's 2-core machine. Run with `cargo bench --bench plan_large`; the report is printed and
//! written to `target/bench-reports/plan_large.md`. Not a test: it asserts nothing about time.

use std::time::{Duration, Instant};

use eksync::core::analysis;

mod common;
use common::{generate, NAMESPACES};

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
