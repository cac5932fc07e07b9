//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`, seeds, inputs libFuzzer
//! kept and `crash-*` regressions) through the same function the fuzz target runs
//! (`eksync_core::fuzz_targets`). A crash found by fuzzing stays fixed because its input is in the
//! corpus. Deterministic: files are read in name order and the target bodies read no clock.

use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn every_target_has_a_corpus_and_every_corpus_a_target() {
    let root = corpus_root();
    for (name, _) in eksync_core::fuzz_targets::TARGETS {
        let dir = root.join(name);
        assert!(
            dir.is_dir(),
            "no corpus for fuzz target {name} at {}",
            dir.display()
        );
        assert!(
            !files(&dir).is_empty(),
            "empty corpus for fuzz target {name}"
        );
    }
    for entry in std::fs::read_dir(&root).expect("fuzz/corpus") {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert!(
            eksync_core::fuzz_targets::target(name).is_some(),
            "fuzz/corpus/{name} belongs to no target in eksync_core::fuzz_targets::TARGETS"
        );
    }
}

/// Replays one target's corpus; returns how many files it ran.
fn replay(name: &str, run: eksync_core::fuzz_targets::Target, dir: &Path) -> usize {
    let started = std::time::Instant::now();
    let files = files(dir);
    for file in &files {
        let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        // A panic names the file: the message of a failed replay is otherwise only the target's
        // own assertion.
        let one = std::time::Instant::now();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(
            outcome.is_ok(),
            "fuzz target {name} failed on {}",
            file.display()
        );
        // Not a failure (timing is no test), but the name of what makes the replay slow: such an
        // input belongs in a benchmark, not in the committed corpus.
        if one.elapsed().as_millis() > 500 {
            eprintln!(
                "slow corpus file: {} took {:?}",
                file.display(),
                one.elapsed()
            );
        }
    }
    eprintln!("{name}: {} files in {:?}", files.len(), started.elapsed());
    files.len()
}

#[test]
fn every_corpus_file_replays_without_a_crash() {
    let root = corpus_root();
    // One thread per target: the order inside a target is fixed, and targets share nothing.
    let replayed: usize = std::thread::scope(|s| {
        let handles: Vec<_> = eksync_core::fuzz_targets::TARGETS
            .iter()
            .map(|(name, run)| {
                let dir = root.join(name);
                s.spawn(move || replay(name, *run, &dir))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a replay thread failed"))
            .sum()
    });
    assert!(replayed > 0);
}
