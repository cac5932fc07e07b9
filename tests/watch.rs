//! `eksync watch` through a real file system in a temp dir, with the real binary: a valid edit
//! re-plans within a second, a burst of saves is one run, a half-written file shows its
//! diagnostic and the fixed file clears it, a deleted file drops its resources, `.git` and editor
//! swap files trigger nothing, and Ctrl-C stops it cleanly.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Watching {
    child: Child,
    out: Arc<Mutex<String>>,
}

impl Watching {
    fn start(repo: &Path) -> Self {
        Self::start_with(repo, &[])
    }

    fn start_with(repo: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_eksync"))
            .args(["watch", "--debounce-ms", "150"])
            .arg(repo)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = out.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut o = sink.lock().unwrap();
                o.push_str(&line);
                o.push('\n');
            }
        });
        Watching { child, out }
    }

    /// The block of run `n`, waiting for it (and for the next block to start or 300 ms of quiet,
    /// so the block is whole) at most `secs`.
    fn run(&self, n: usize, secs: u64) -> String {
        let header = format!("eksync watch: run {n}");
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let text = self.out.lock().unwrap().clone();
            if let Some(start) = text.find(&header) {
                let rest = &text[start..];
                let end = rest[header.len()..]
                    .find("eksync watch: run ")
                    .map(|e| e + header.len());
                if let Some(end) = end {
                    return rest[..end].to_string();
                }
                if rest.contains("\nPlan:")
                    || rest.contains("not planned")
                    || rest.contains("error:")
                {
                    return rest.to_string();
                }
            }
            assert!(
                Instant::now() < deadline,
                "no run {n} within {secs}s:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn runs(&self) -> usize {
        self.out
            .lock()
            .unwrap()
            .matches("eksync watch: run ")
            .count()
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: shop\ndata:\n  k: v\n")
}

const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";

#[test]
fn the_edit_loop() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::write(repo.join("ns.yaml"), NS).unwrap();
    std::fs::write(repo.join("a.yaml"), cm("a")).unwrap();
    let w = Watching::start(&repo);
    let first = w.run(1, 20);
    assert!(first.contains("Plan: 2 resources"), "{first}");

    // A valid edit re-plans within a second, and says what changed first.
    let saved = Instant::now();
    std::fs::write(repo.join("b.yaml"), cm("b")).unwrap();
    let second = w.run(2, 5);
    assert!(
        saved.elapsed() < Duration::from_secs(1),
        "took {:?}",
        saved.elapsed()
    );
    assert!(
        second.contains("+ k8s ConfigMap shop/b (wave 2)"),
        "{second}"
    );
    assert!(second.contains("Plan: 3 resources"), "{second}");

    // A burst of 20 saves is one run: the next edit is run 4.
    for i in 0..20 {
        std::fs::write(
            repo.join("b.yaml"),
            cm("b").replace("k: v", &format!("k: v{i}")),
        )
        .unwrap();
    }
    let third = w.run(3, 5);
    assert!(third.contains("b.yaml"), "{third}");
    // Nothing that does not matter triggers a run: .git, swap and temp files.
    std::fs::write(repo.join(".git/index"), "x").unwrap();
    std::fs::write(repo.join(".a.yaml.swp"), "x").unwrap();
    std::fs::write(repo.join("a.yaml~"), "x").unwrap();
    std::fs::write(repo.join("README.md"), "x").unwrap();
    std::fs::write(repo.join("c.yaml"), cm("c")).unwrap();
    let fourth = w.run(4, 5);
    assert!(
        fourth.starts_with("eksync watch: run 4 (c.yaml)"),
        "{fourth}"
    );
    assert_eq!(w.runs(), 4);

    // A half-written file shows its diagnostic; the finished file clears it.
    std::fs::write(
        repo.join("d.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [d\n",
    )
    .unwrap();
    let fifth = w.run(5, 5);
    assert!(
        fifth.contains("invalid YAML") && fifth.contains("--> d.yaml:"),
        "{fifth}"
    );
    assert!(fifth.contains("not planned"), "{fifth}");
    std::fs::write(repo.join("d.yaml"), cm("d")).unwrap();
    let sixth = w.run(6, 5);
    assert!(
        !sixth.contains("error[") && !sixth.contains("not planned"),
        "{sixth}"
    );
    assert!(sixth.contains("Plan: 5 resources"), "{sixth}");

    // A deleted file drops its resources.
    std::fs::remove_file(repo.join("a.yaml")).unwrap();
    let seventh = w.run(7, 5);
    assert!(seventh.contains("- k8s ConfigMap shop/a"), "{seventh}");
    assert!(seventh.contains("Plan: 4 resources"), "{seventh}");
}

#[test]
fn ctrl_c_stops_it_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("ns.yaml"), NS).unwrap();
    let mut w = Watching::start(tmp.path());
    w.run(1, 20);
    let status = Command::new("kill")
        .args(["-INT", &w.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(s) = w.child.try_wait().unwrap() {
            break s.code();
        }
        assert!(Instant::now() < deadline, "still running after Ctrl-C");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(code, Some(0));
}

/// With --live, each run is also diffed against the cluster (read-only: nothing is written).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_runs_diff_against_the_cluster_and_write_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("ns.yaml"), NS).unwrap();
    let kube = testkit::TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(tmp.path()).unwrap();
    let kc = kubeconfig.to_str().unwrap().to_string();
    let w = Watching::start_with(&repo, &["--live", "--no-aws", "--kubeconfig", &kc]);
    let wait_for = |needle: &str, secs: u64| {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let text = w.out.lock().unwrap().clone();
            if text.matches(needle).count() >= 1 {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} within {secs}s:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let text = wait_for("1 to create", 20);
    assert!(text.contains("Namespace shop"), "{text}");
    std::fs::write(repo.join("a.yaml"), cm("a")).unwrap();
    let text = wait_for("2 to create", 10);
    assert!(text.contains("eksync watch: run 2 (a.yaml)"), "{text}");
    assert_eq!(kube.requests().writes(), 0, "a watch never writes");
}
