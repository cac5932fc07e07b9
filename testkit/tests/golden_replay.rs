//! Replays every step of every recording in `../shared/kube-golden/` against a fresh test server
//! (`ControllerMode::Recorded`) and compares normalized responses. Differences are accepted only
//! when listed in `EXCEPTIONS` with a reason; an exception that no longer differs fails the test.

use std::path::PathBuf;

use testkit::golden::{diff, load, replay};
use testkit::{ServerConfig, TestServer};

/// (file stem, step index, reason).
const EXCEPTIONS: &[(&str, usize, &str)] = &[];

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/kube-golden")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn golden_replay_matches_recordings() {
    let dir = golden_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("golden recordings at {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        13,
        "expected 13 golden scenarios in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    let mut stale = Vec::new();
    let (mut matched_total, mut total) = (0, 0);
    for path in &files {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let file = load(path).expect("load recording");
        let server = TestServer::start_with(ServerConfig::recorded())
            .await
            .expect("server");
        let results = replay(&file, &server.url()).await.expect("replay");
        let matched = results.iter().filter(|r| r.matches()).count();
        println!("{stem}: {matched}/{} steps match exactly", results.len());
        matched_total += matched;
        total += results.len();
        for r in &results {
            let excepted = EXCEPTIONS
                .iter()
                .find(|(f, i, _)| *f == stem && *i == r.index);
            match (r.matches(), excepted) {
                (true, Some((_, _, why))) => stale.push(format!(
                    "{stem}#{}: exception no longer needed ({why})",
                    r.index
                )),
                (false, None) => failures.push(format!(
                    "{stem}#{} ({}):\n    {}",
                    r.index,
                    r.note,
                    diff(&r.expected, &r.actual).join("\n    ")
                )),
                (false, Some((_, _, why))) => {
                    println!("  {stem}#{}: named exception: {why}", r.index)
                }
                (true, None) => {}
            }
        }
    }
    println!(
        "TOTAL: {matched_total}/{total} steps match exactly; {} named exceptions",
        EXCEPTIONS.len()
    );
    assert!(stale.is_empty(), "stale exceptions:\n{}", stale.join("\n"));
    assert!(
        failures.is_empty(),
        "{} unexpected differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
