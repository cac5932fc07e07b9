//! Running the real `eksync` binary in end-to-end tests: JSON output parsed, stderr kept for the
//! progress lines, never a panic; small repos of plain manifests; a child process to kill or
//! cancel mid-run.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

use super::e2e::item;

/// The command with the environment every e2e run uses; `aws` is moto's URL or `None` for
/// `--no-aws`. `EKSYNC_TEST_BIN` runs another build instead (to show a test failing on old code).
pub fn command(aws: Option<&str>, kubeconfig: &Path, args: &[&str]) -> std::process::Command {
    let bin =
        std::env::var_os("EKSYNC_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_eksync").into());
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args)
        .args(["-o", "json", "--kubeconfig"])
        .arg(kubeconfig)
        .env("EKSYNC_POLL_MS", "20")
        .env("EKSYNC_AWS_MAX_ATTEMPTS", "1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        // The AWS template cache lives beside the test's kubeconfig, never in the user's folder.
        .env(
            "EKSYNC_AWS_CACHE_DIR",
            kubeconfig.parent().unwrap_or(kubeconfig).join("aws-cache"),
        )
        .env_remove("AWS_PROFILE");
    match aws {
        Some(url) => {
            cmd.env("EKSYNC_AWS_ENDPOINT_URL", url);
        }
        None => {
            cmd.arg("--no-aws");
        }
    }
    cmd
}

/// Runs the binary; returns the exit code, the JSON it printed and its stderr.
pub fn eksync_full(aws: Option<&str>, kubeconfig: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::from_std(command(aws, kubeconfig, args))
        .output()
        .unwrap();
    parse(out)
}

/// Exit code, JSON and stderr of a finished run; a panic fails the test.
pub fn parse(out: std::process::Output) -> (i32, Value, String) {
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "exit {code}: {e}\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (code, json, stderr)
}

/// Runs the binary; `aws` is moto's URL or `None` for `--no-aws`.
pub fn eksync(aws: Option<&str>, kubeconfig: &Path, args: &[&str]) -> (i32, Value) {
    let (code, json, _) = eksync_full(aws, kubeconfig, args);
    (code, json)
}

pub fn outcome(plan: &Value, name: &str) -> String {
    item(plan, name)["outcome"]["status"]
        .as_str()
        .unwrap_or("none")
        .to_string()
}

/// A small repo of plain manifests (no ClusterConfig, so no AWS) in `dir/repo`.
pub fn small_repo(dir: &Path, files: &[(&str, &str)]) -> PathBuf {
    let root = dir.join("repo");
    std::fs::create_dir_all(&root).unwrap();
    for (name, text) in files {
        std::fs::write(root.join(name), text).unwrap();
    }
    root
}

pub const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";

pub fn deployment(name: &str, image: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: shop\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n        - name: main\n          image: {image}\n"
    )
}

pub fn config_map(name: &str, extra_meta: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: shop\n{extra_meta}data:\n  key: value\n"
    )
}

/// Polls `cond` every 20 ms until it holds or `secs` pass (then fails, saying `what`).
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {secs}s waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
