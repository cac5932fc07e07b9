//! The core stays pure because its dependency tree cannot reach an async runtime, an SDK, a
//! network stack or a file-system crate: this test walks `Cargo.lock` from `eksync-core` through
//! every normal dependency and fails if one of them is reachable. It reads the lock file only; it
//! builds nothing.

use std::collections::{BTreeMap, BTreeSet};

/// Crates the core must never reach, by exact name or by prefix (ending in `-`).
const FORBIDDEN: &[&str] = &[
    "tokio",
    "tokio-",
    "kube",
    "kube-",
    "k8s-openapi",
    "aws-",
    "git2",
    "libgit2-sys",
    "hyper",
    "hyper-",
    "reqwest",
    "mio",
    "axum",
    "notify",
    "walkdir",
    "tempfile",
];

fn forbidden(name: &str) -> bool {
    FORBIDDEN.iter().any(|f| match f.strip_suffix('-') {
        Some(prefix) => name.starts_with(&format!("{prefix}-")),
        None => name == *f,
    })
}

/// package name -> names of its dependencies, from Cargo.lock (names are unique enough for this
/// check: two versions of one crate share their forbidden-ness).
fn lock_graph(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line == "[[package]]" {
            current = None;
            in_deps = false;
        } else if let Some(name) = line.strip_prefix("name = ") {
            let name = name.trim_matches('"').to_string();
            graph.entry(name.clone()).or_default();
            current = Some(name);
        } else if line.starts_with("dependencies = [") {
            in_deps = !line.ends_with(']');
            if let (Some(c), false) = (&current, in_deps) {
                // `dependencies = [ "a", "b" ]` on one line.
                let inner = line
                    .trim_start_matches("dependencies = [")
                    .trim_end_matches(']');
                for d in inner.split(',').filter(|d| !d.trim().is_empty()) {
                    let dep = d.trim().trim_matches('"').split(' ').next().unwrap_or("");
                    graph.entry(c.clone()).or_default().insert(dep.to_string());
                }
            }
        } else if in_deps {
            if line == "]" {
                in_deps = false;
            } else if let Some(c) = &current {
                let dep = line.trim_end_matches(',').trim_matches('"');
                let dep = dep.split(' ').next().unwrap_or("").to_string();
                graph.entry(c.clone()).or_default().insert(dep);
            }
        }
    }
    graph
}

/// The normal (non-dev) dependencies named in a manifest's `[dependencies]` table.
fn manifest_deps(text: &str) -> BTreeSet<String> {
    let mut deps = BTreeSet::new();
    let mut in_deps = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
        } else if in_deps && !line.is_empty() && !line.starts_with('#') {
            let name = line.split(['.', ' ', '=']).next().unwrap_or("");
            deps.insert(name.to_string());
        }
    }
    deps
}

#[test]
fn core_reaches_no_io_async_or_sdk_crate() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let lock = std::fs::read_to_string(format!("{root}/Cargo.lock")).expect("read Cargo.lock");
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .expect("read eksync-core's Cargo.toml");
    let graph = lock_graph(&lock);
    // Start from the manifest's normal dependencies: the lock file mixes in dev-dependencies.
    let mut todo: Vec<(String, Vec<String>)> = manifest_deps(&manifest)
        .into_iter()
        .map(|d| (d.clone(), vec!["eksync-core".to_string(), d]))
        .collect();
    assert!(
        !todo.is_empty(),
        "no [dependencies] found in eksync-core's manifest"
    );
    let mut seen = BTreeSet::new();
    let mut bad = Vec::new();
    while let Some((name, path)) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if forbidden(&name) {
            bad.push(path.join(" -> "));
            continue;
        }
        for dep in graph.get(&name).into_iter().flatten() {
            let mut p = path.clone();
            p.push(dep.clone());
            todo.push((dep.clone(), p));
        }
    }
    assert!(
        bad.is_empty(),
        "the pure core reaches crates it must not:\n{}",
        bad.join("\n")
    );
    assert!(
        seen.contains("serde_json"),
        "the walk found the core's own dependencies"
    );
}

#[test]
fn the_check_catches_a_forbidden_crate() {
    for name in [
        "tokio",
        "tokio-util",
        "kube-client",
        "aws-sdk-iam",
        "git2",
        "hyper-util",
    ] {
        assert!(forbidden(name), "{name}");
    }
    for name in [
        "serde_json",
        "jiff",
        "petgraph",
        "hyperlocal-ish",
        "kubestr",
    ] {
        assert!(!forbidden(name), "{name}");
    }
    let lock = "[[package]]\nname = \"a\"\ndependencies = [\n \"tokio 1.0.0\",\n]\n";
    assert!(lock_graph(lock)["a"].contains("tokio"));
}
