//! `eksync permissions` against the test server's RBAC (which answers an impersonated user as
//! the real kube-apiserver does, see `testkit/src/rbac.rs`): the example applies, diffs clean
//! and prunes as a user bound only to the generated roles, and removing any single generated
//! rule makes some step fail with a "forbidden" error that names a verb and the resource of
//! that rule. AWS is moto, as in the other end-to-end tests.

mod support;

use kube::api::{Api, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{json, Value};
use std::path::Path;
use support::cli::command;
use support::e2e::set_up;
use support::moto::moto;
use testkit::TestServer;

const USER: &str = "eksync-agent";

/// The generated Kubernetes objects (`--for kubernetes -o json`, a `kind: List`).
fn generated(repo: &Path) -> Vec<Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eksync"))
        .args(["permissions"])
        .arg(repo)
        .args([
            "--for",
            "kubernetes",
            "--user",
            USER,
            "--no-agent",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list["items"].as_array().unwrap().clone()
}

fn resource_of(obj: &Value) -> ApiResource {
    let (group, version) = match obj["apiVersion"].as_str().unwrap().split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", obj["apiVersion"].as_str().unwrap()),
    };
    let kind = obj["kind"].as_str().unwrap();
    let plural = match kind {
        "Namespace" => "namespaces",
        "ClusterRole" => "clusterroles",
        "ClusterRoleBinding" => "clusterrolebindings",
        "Role" => "roles",
        "RoleBinding" => "rolebindings",
        other => panic!("unexpected generated kind {other}"),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

/// Creates the objects as the admin.
async fn create_all(client: &kube::Client, objects: &[Value]) {
    for o in objects {
        let r = resource_of(o);
        let api: Api<DynamicObject> = match o["metadata"]["namespace"].as_str() {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &r),
            None => Api::all_with(client.clone(), &r),
        };
        api.create(
            &PostParams::default(),
            &serde_json::from_value(o.clone()).unwrap(),
        )
        .await
        .unwrap_or_else(|e| panic!("creating {o}: {e}"));
    }
}

/// A fresh test server with the inventory's namespace and `objects` made by the admin, and a
/// kubeconfig that impersonates the user.
async fn cluster(dir: &Path, objects: &[Value]) -> (TestServer, std::path::PathBuf) {
    let kube = TestServer::start().await.unwrap();
    let client = kube.client().unwrap();
    create_all(
        &client,
        &[json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "eksync-system"}})],
    )
    .await;
    create_all(&client, objects).await;
    let kubeconfig = kube.write_kubeconfig_as(dir, USER, &[]).unwrap();
    (kube, kubeconfig)
}

/// Runs the binary; exit code and everything it printed (a failure prints no JSON).
fn eksync_full(aws: Option<&str>, kubeconfig: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = command(aws, kubeconfig, args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr)
}

/// The whole scenario as the user: apply, a clean diff, then a prune of the agent PodTemplate.
/// `Err` holds the output of the first step that did not succeed.
fn scenario(aws: &str, kubeconfig: &Path, repo: &Path, pruned: &Path) -> Result<(), String> {
    let repo_s = repo.to_str().unwrap();
    let (code, out, stderr) = eksync_full(Some(aws), kubeconfig, &["apply", repo_s, "--yes"]);
    if code == 1 || out.is_null() {
        return Err(format!("apply (exit {code}): {out}\n{stderr}"));
    }
    let (code, out, stderr) = eksync_full(Some(aws), kubeconfig, &["diff", repo_s]);
    if code != 0 {
        return Err(format!("diff (exit {code}): {out}\n{stderr}"));
    }
    let pruned_s = pruned.to_str().unwrap();
    let (code, out, stderr) = eksync_full(
        Some(aws),
        kubeconfig,
        &[
            "apply",
            pruned_s,
            "--yes",
            "--prune",
            "--source",
            &source_of(repo),
        ],
    );
    if code == 1 || out.is_null() {
        return Err(format!("prune (exit {code}): {out}\n{stderr}"));
    }
    Ok(())
}

fn source_of(repo: &Path) -> String {
    eksync::core::source::derive_source_name(&repo.file_name().unwrap().to_string_lossy())
}

/// The example's copy without its agent PodTemplate: what a prune removes.
fn without_pod_template(repo: &Path, to: &Path) -> std::path::PathBuf {
    support::git::copy_tree(repo, to);
    std::fs::remove_file(to.join("k8s/jenkins/agent-pod-template.yaml")).unwrap();
    to.to_path_buf()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_example_applies_and_prunes_as_a_user_bound_only_to_the_generated_roles_and_every_rule_is_needed(
) {
    let (_guard, moto) = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let (_oob, repo) = set_up(moto, dir.path()).await;
    let pruned = without_pod_template(&repo, &dir.path().join("pruned"));
    let objects = generated(&repo);

    // Bound to everything generated: every step succeeds.
    let run_dir = dir.path().join("full");
    std::fs::create_dir_all(&run_dir).unwrap();
    let (kube, kubeconfig) = cluster(&run_dir, &objects).await;
    scenario(&moto.url, &kubeconfig, &repo, &pruned).unwrap_or_else(|e| panic!("{e}"));
    let as_user = kube.requests().by_user(USER);
    assert!(
        as_user.len() > 20,
        "the steps ran as {USER}: {} requests",
        as_user.len()
    );
    let templates: Api<k8s_openapi::api::core::v1::PodTemplate> =
        Api::namespaced(kube.client().unwrap(), "jenkins");
    assert!(
        templates.get_opt("jenkins-agent").await.unwrap().is_none(),
        "the prune deleted the PodTemplate"
    );
    drop(kube);

    // Without any one rule, some step fails, naming a verb and the resource of that rule.
    let mut checked = 0;
    for (oi, o) in objects.iter().enumerate() {
        let Some(rules) = o["rules"].as_array() else {
            continue;
        };
        for (ri, rule) in rules.iter().enumerate() {
            let mut fewer = objects.clone();
            fewer[oi]["rules"].as_array_mut().unwrap().remove(ri);
            let run_dir = dir.path().join(format!("without-{oi}-{ri}"));
            std::fs::create_dir_all(&run_dir).unwrap();
            let (kube, kubeconfig) = cluster(&run_dir, &fewer).await;
            let err = match scenario(&moto.url, &kubeconfig, &repo, &pruned) {
                Ok(()) => panic!(
                    "every step succeeded without rule {ri} of {} {}: {rule}",
                    o["kind"], o["metadata"]["name"]
                ),
                Err(e) => e,
            };
            let resource = rule["resources"][0].as_str().unwrap();
            let named = rule["verbs"].as_array().unwrap().iter().any(|v| {
                err.contains(&format!(
                    "cannot {} resource \\\"{resource}\\\"",
                    v.as_str().unwrap()
                )) || err.contains(&format!(
                    "cannot {} resource \"{resource}\"",
                    v.as_str().unwrap()
                ))
            });
            assert!(
                named && err.contains("forbidden"),
                "without {rule} of {} {}, the failure does not say which right is missing:\n{err}",
                o["kind"],
                o["metadata"]["namespace"]
            );
            checked += 1;
            drop(kube);
        }
    }
    eprintln!("{checked} rules, each needed");
    assert!(checked >= 20, "{checked} rules checked");
}
