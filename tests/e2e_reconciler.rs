//! End to end with the real binary against the Kubernetes test server (and moto for the whole
//! example): the reconciler's guarantees. Steps follow the graph's edges, not wave barriers (an unrelated later step goes on
//! while another branch waits); a killed run leaves an inventory that a later prune uses; a
//! cancelled run starts nothing new, records exactly what it applied, and a re-run converges;
//! two sources share a cluster without touching each other's objects; an unchanged but unhealthy
//! object is shown by `diff` and holds its dependents back.

mod support;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use support::cli::*;
use support::e2e::item;
use testkit::{ServerConfig, TestServer};

const BAD: &str = "registry.example.com/bad:1";
const GOOD: &str = "registry.example.com/good:1";

async fn server() -> TestServer {
    TestServer::start_with(ServerConfig {
        failing_images: vec!["registry.example.com/bad:*".into()],
        ..ServerConfig::default()
    })
    .await
    .unwrap()
}

/// A ConfigMap in `shop` that waits for `Kind[.group]/shop/<name>`.
fn waits_for(name: &str, on: &str) -> String {
    config_map(
        name,
        &format!("  annotations:\n    eksync.io/depends-on: {on}\n"),
    )
}

/// A claim of the `manual` class: no volume matches it until [`VOLUME`] exists, so it stays
/// Pending (a step that waits for it waits until its timeout).
const CLAIM: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: shop\nspec:\n  storageClassName: manual\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 1Gi\n";

/// The volume that [`CLAIM`] binds to.
const VOLUME: &str = "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: manual-pv\nspec:\n  storageClassName: manual\n  accessModes: [ReadWriteOnce]\n  capacity:\n    storage: 1Gi\n  hostPath:\n    path: /data\n";

/// Real (not dry-run) writes the server accepted for `resource/name`.
fn writes_of(kube: &TestServer, resource: &str, name: &str) -> usize {
    kube.requests()
        .entries()
        .into_iter()
        .filter(|r| {
            r.is_write()
                && !r.dry_run
                && r.resource == resource
                && r.name.as_deref() == Some(name)
                && r.status < 300
        })
        .count()
}

/// The identities recorded in a source's inventory ConfigMap.
async fn inventory(kube: &TestServer, source: &str) -> BTreeSet<String> {
    let cms: Api<ConfigMap> = Api::namespaced(kube.client().unwrap(), "eksync-system");
    let cm = cms
        .get(&format!("eksync-inventory-{source}"))
        .await
        .expect("the inventory exists");
    let text = cm.data.unwrap_or_default()["inventory.json"].clone();
    let inv: Value = serde_json::from_str(&text).unwrap();
    inv["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}/{}",
                e["kind"].as_str().unwrap(),
                e["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Starts `apply` as a child process that can be killed or signalled.
fn spawn_apply(kubeconfig: &Path, repo: &str, extra: &[&str]) -> std::process::Child {
    let mut args = vec!["apply", repo, "--yes"];
    args.extend_from_slice(extra);
    command(None, kubeconfig, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unrelated_later_step_goes_on_while_another_branch_waits() {
    let dir = tempfile::tempdir().unwrap();
    // The claim (wave 2) never becomes bound; `web` (wave 3, after its ConfigMap) does not need it.
    let web = deployment("web", GOOD, 1).replace(
        "          image:",
        "          envFrom:\n            - configMapRef:\n                name: web-settings\n          image:",
    );
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("claim.yaml", CLAIM),
            ("web-settings.yaml", &config_map("web-settings", "")),
            ("web.yaml", &web),
        ],
    );
    let kube = server().await;
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (_, plan) = eksync(None, &kubeconfig, &["diff", repo.to_str().unwrap()]);
    assert!(
        item(&plan, "web")["wave"].as_u64() > item(&plan, "data")["wave"].as_u64(),
        "web sits in a later wave than the claim: {plan:#}"
    );
    let (code, run, stderr) = eksync_full(
        None,
        &kubeconfig,
        &[
            "apply",
            repo.to_str().unwrap(),
            "--yes",
            "--readiness-timeout",
            "6",
        ],
    );
    assert_eq!(code, 1, "{run:#}");
    assert_eq!(outcome(&run, "data"), "failed", "{run:#}");
    assert_eq!(outcome(&run, "web"), "done", "{run:#}");
    // With wave barriers, web would start only after the claim's wait gave up.
    let pos = |needle: &str| {
        stderr
            .find(needle)
            .unwrap_or_else(|| panic!("no `{needle}` in:\n{stderr}"))
    };
    assert!(
        pos("Deployment shop/web: done") < pos("PersistentVolumeClaim shop/data: FAILED"),
        "web finished while the claim was still waited for:\n{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_run_leaves_an_inventory_that_a_later_prune_uses() {
    let dir = tempfile::tempdir().unwrap();
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: front\n  namespace: shop\nspec:\n  selector:\n    app: web\n  ports:\n    - port: 80\n";
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("claim.yaml", CLAIM),
            ("svc.yaml", svc),
            ("cm.yaml", &config_map("settings", "")),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = server().await;
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let mut child = spawn_apply(&kubeconfig, repo_s, &["--readiness-timeout", "300"]);
    wait_until(30, "the Service, ConfigMap and claim to be created", || {
        writes_of(&kube, "services", "front") > 0
            && writes_of(&kube, "configmaps", "settings") > 0
            && writes_of(&kube, "persistentvolumeclaims", "data") > 0
    });
    // The run now waits for the claim: SIGKILL, so no cleanup and no final inventory write.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run was still waiting when killed");

    std::fs::remove_file(repo.join("svc.yaml")).unwrap();
    std::fs::write(repo.join("volume.yaml"), VOLUME).unwrap();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes", "--prune"]);
    assert_eq!(code, 2, "{run:#}");
    let pruned = run["prune"].as_array().unwrap();
    assert_eq!(pruned.len(), 1, "{run:#}");
    assert_eq!(pruned[0]["name"], "front");
    assert_eq!(pruned[0]["outcome"]["status"], "done", "{run:#}");
    assert_eq!(
        kube.requests()
            .entries()
            .iter()
            .filter(|r| r.verb == "delete" && r.name.as_deref() == Some("front"))
            .count(),
        1
    );
    assert_eq!(
        inventory(&kube, "repo").await,
        set(&[
            "Namespace/shop",
            "PersistentVolumeClaim/data",
            "ConfigMap/settings",
            "PersistentVolume/manual-pv"
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_apply_starts_nothing_new_and_a_rerun_converges() {
    let dir = tempfile::tempdir().unwrap();
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("claim.yaml", CLAIM),
            (
                "after.yaml",
                &waits_for("after-claim", "PersistentVolumeClaim/shop/data"),
            ),
            ("independent.yaml", &config_map("independent", "")),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = server().await;
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let child = spawn_apply(&kubeconfig, repo_s, &["--readiness-timeout", "300"]);
    wait_until(30, "the claim and independent to be applied", || {
        writes_of(&kube, "persistentvolumeclaims", "data") > 0
            && writes_of(&kube, "configmaps", "independent") > 0
    });
    let before_cancel = kube.requests().entries().len();
    // SIGTERM, as Kubernetes stops a pod.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, run, stderr) = parse(child.wait_with_output().unwrap());
    assert_eq!(
        code, 1,
        "a cancelled run is not a success: {run:#}\n{stderr}"
    );
    assert_eq!(run["cancelled"], true, "{run:#}");
    assert_eq!(outcome(&run, "data"), "cancelled", "{run:#}");
    assert_eq!(outcome(&run, "after-claim"), "cancelled", "{run:#}");
    assert_eq!(outcome(&run, "independent"), "done", "{run:#}");
    // Nothing new started after the cancel: the only write is the inventory.
    let late_writes: Vec<_> = kube.requests().entries()[before_cancel..]
        .iter()
        .filter(|r| r.is_write() && !r.dry_run)
        .filter(|r| {
            !r.name
                .as_deref()
                .unwrap_or("")
                .starts_with("eksync-inventory")
        })
        .cloned()
        .collect();
    assert!(late_writes.is_empty(), "{late_writes:#?}");
    assert_eq!(writes_of(&kube, "configmaps", "after-claim"), 0);
    assert_eq!(
        inventory(&kube, "repo").await,
        set(&[
            "Namespace/shop",
            "PersistentVolumeClaim/data",
            "ConfigMap/independent"
        ]),
        "exactly what was applied"
    );

    // The re-run converges once a volume exists: nothing is applied twice, the rest is done.
    std::fs::write(repo.join("volume.yaml"), VOLUME).unwrap();
    kube.requests().clear();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    assert_eq!(
        outcome(&run, "data"),
        "done",
        "waited for until bound: {run:#}"
    );
    assert_eq!(outcome(&run, "after-claim"), "done", "{run:#}");
    for (resource, name) in [
        ("namespaces", "shop"),
        ("configmaps", "independent"),
        ("persistentvolumeclaims", "data"),
    ] {
        assert_eq!(writes_of(&kube, resource, name), 0, "{name} applied twice");
    }
    assert_eq!(writes_of(&kube, "persistentvolumes", "manual-pv"), 1);
    assert_eq!(writes_of(&kube, "configmaps", "after-claim"), 1);
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0, "{plan:#}");
}

/// A repo of one namespace and ConfigMaps, named as a source in its `eksync.yaml`.
fn source_repo(dir: &Path, source: &str, ns: &str, maps: &[&str]) -> String {
    let root = dir.join(source);
    std::fs::create_dir_all(&root).unwrap();
    let settings =
        format!("apiVersion: eksync.io/v1alpha1\nkind: Settings\nspec:\n  source: {source}\n");
    std::fs::write(root.join("eksync.yaml"), settings).unwrap();
    std::fs::write(
        root.join("ns.yaml"),
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
    )
    .unwrap();
    for m in maps {
        let cm = config_map(m, "").replace("namespace: shop", &format!("namespace: {ns}"));
        std::fs::write(root.join(format!("{m}.yaml")), cm).unwrap();
    }
    root.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sources_share_a_cluster_and_prune_only_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let a = source_repo(dir.path(), "platform", "team-a", &["a1", "a2"]);
    let b = source_repo(dir.path(), "apps", "team-b", &["b1"]);
    let kube = server().await;
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    for repo in [&a, &b] {
        let (code, run) = eksync(None, &kubeconfig, &["apply", repo, "--yes", "--prune"]);
        assert_eq!(code, 2, "{run:#}");
        assert!(
            run["prune"].as_array().is_none_or(|p| p.is_empty()),
            "{run:#}"
        );
    }
    // Each source sees only its own objects: nothing of the other has "left Git".
    let (code, plan) = eksync(None, &kubeconfig, &["diff", &b]);
    assert_eq!(code, 0, "{plan:#}");

    std::fs::remove_file(Path::new(&a).join("a2.yaml")).unwrap();
    let (code, run) = eksync(
        None,
        &kubeconfig,
        &["apply", &a, "--yes", "--prune", "--prune-allow-large"],
    );
    assert_eq!(code, 2, "{run:#}");
    let pruned: Vec<&str> = run["prune"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(pruned, ["a2"], "{run:#}");
    let deletes: Vec<String> = kube
        .requests()
        .entries()
        .iter()
        .filter(|r| r.verb == "delete")
        .filter_map(|r| r.name.clone())
        .collect();
    assert_eq!(deletes, ["a2"]);
    assert_eq!(
        inventory(&kube, "platform").await,
        set(&["Namespace/team-a", "ConfigMap/a1"])
    );
    assert_eq!(
        inventory(&kube, "apps").await,
        set(&["Namespace/team-b", "ConfigMap/b1"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_unhealthy_deployment_is_shown_and_holds_its_dependents() {
    let dir = tempfile::tempdir().unwrap();
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("stuck.yaml", &deployment("stuck", BAD, 1)),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = server().await;
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (code, run) = eksync(
        None,
        &kubeconfig,
        &["apply", repo_s, "--yes", "--readiness-timeout", "1"],
    );
    assert_eq!(code, 1, "{run:#}");

    // Unchanged, but not healthy: diff says so and does not report "in sync".
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 2, "{plan:#}");
    let stuck = item(&plan, "stuck");
    assert_eq!(stuck["action"], "no-change", "{plan:#}");
    assert_eq!(stuck["health"], "degraded", "{plan:#}");
    assert!(
        stuck["why"].as_str().unwrap().contains("progress deadline"),
        "{plan:#}"
    );

    // A dependent added now is held back: the unhealthy Deployment is waited for, not assumed.
    std::fs::write(
        repo.join("after.yaml"),
        waits_for("after-stuck", "Deployment.apps/shop/stuck"),
    )
    .unwrap();
    kube.requests().clear();
    let (code, run) = eksync(
        None,
        &kubeconfig,
        &["apply", repo_s, "--yes", "--readiness-timeout", "1"],
    );
    assert_eq!(code, 1, "{run:#}");
    assert_eq!(outcome(&run, "stuck"), "failed", "{run:#}");
    assert_eq!(outcome(&run, "after-stuck"), "skipped", "{run:#}");
    assert_eq!(writes_of(&kube, "configmaps", "after-stuck"), 0);
    assert_eq!(
        writes_of(&kube, "deployments", "stuck"),
        0,
        "an unchanged object is not re-applied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_read_for_the_hpa_handover_blocks_the_apply() {
    use testkit::faults::{FaultAction, FaultRule, FaultTimes};
    let dir = tempfile::tempdir().unwrap();
    let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web-scaler\n  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  minReplicas: 2\n  maxReplicas: 10\n";
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("web.yaml", &deployment("web", GOOD, 3)),
            ("hpa.yaml", hpa),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = server().await;
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");

    // The next image, while reads of the Deployment fail: applying without knowing who owns the
    // replicas could scale it down, so the apply does not happen and the reason says why.
    std::fs::write(
        repo.join("web.yaml"),
        deployment("web", "registry.example.com/good:2", 3),
    )
    .unwrap();
    kube.faults().add(FaultRule::new(
        "get",
        "/deployments/web",
        FaultAction::InternalError,
        FaultTimes::Always,
    ));
    kube.requests().clear();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 1, "{run:#}");
    assert_eq!(outcome(&run, "web"), "failed", "{run:#}");
    let reason = item(&run, "web")["outcome"]["reason"].as_str().unwrap();
    assert!(reason.contains("replicas handover"), "{reason}");
    assert_eq!(
        writes_of(&kube, "deployments", "web"),
        0,
        "nothing applied blind"
    );
}

/// Names of objects the server accepted a real write for (the inventory aside).
fn written_names(kube: &TestServer) -> BTreeSet<String> {
    kube.requests()
        .entries()
        .into_iter()
        .filter(|r| r.is_write() && !r.dry_run && r.status < 300 && r.verb != "delete")
        .filter_map(|r| r.name)
        .filter(|n| !n.starts_with("eksync-inventory") && n != "eksync-system")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_cancelled_mid_run_records_what_it_applied_and_converges() {
    let (_guard, moto) = support::moto::moto().await;
    let dir = tempfile::tempdir().unwrap();
    let (_oob, repo) = support::e2e::set_up(moto, dir.path()).await;
    let repo_s = repo.to_str().unwrap();
    // Rollouts take a while, so the run is still waiting when the cancel arrives.
    let kube = TestServer::start_with(ServerConfig {
        rollout_delay: std::time::Duration::from_secs(4),
        ..ServerConfig::default()
    })
    .await
    .unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let aws = Some(moto.url.as_str());
    let child = command(aws, &kubeconfig, &["apply", repo_s, "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until(
        60,
        "the cluster-autoscaler to be applied (AWS done, wave 4)",
        || writes_of(&kube, "deployments", "cluster-autoscaler") > 0,
    );
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, run, stderr) = parse(child.wait_with_output().unwrap());
    assert_eq!(code, 1, "{run:#}\n{stderr}");
    assert_eq!(run["cancelled"], true, "{run:#}");
    assert_eq!(outcome(&run, "cluster-autoscaler"), "cancelled", "{run:#}");
    // The inventory holds exactly what the server saw applied.
    let applied = written_names(&kube);
    let recorded: BTreeSet<String> = inventory(&kube, "repo")
        .await
        .into_iter()
        .map(|e| e.split_once('/').map(|(_, n)| n.to_string()).unwrap_or(e))
        .collect();
    assert_eq!(recorded, applied, "{run:#}");
    let not_started: Vec<&Value> = run["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["outcome"]["because"] == "not started: the run was cancelled")
        .collect();
    for i in &not_started {
        let name = i["name"].as_str().unwrap();
        assert!(
            !applied.contains(name),
            "{name} was started after the cancel"
        );
    }

    // The re-run converges; nothing applied before is applied again, on either side.
    kube.requests().clear();
    let (code, rerun) = eksync(aws, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert!(code == 2 || code == 0, "{rerun:#}");
    for i in rerun["items"].as_array().unwrap() {
        if i["system"] == "aws" {
            assert_eq!(i["action"], "no-change", "AWS is not done twice: {i:#}");
        }
        assert_ne!(i["outcome"]["status"], "failed", "{i:#}");
    }
    let again: BTreeSet<String> = written_names(&kube)
        .intersection(&applied)
        .cloned()
        .collect();
    assert!(again.is_empty(), "applied twice: {again:?}");
    let (code, plan) = eksync(aws, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0, "{plan:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_noop_diff_makes_no_per_object_request_yet_finds_drift() {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Patch, PatchParams};
    let dir = tempfile::tempdir().unwrap();
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("web.yaml", &deployment("web", GOOD, 2)),
            ("cm.yaml", &config_map("settings", "")),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = server().await;
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");

    for args in [vec!["diff", repo_s], vec!["apply", repo_s, "--yes"]] {
        kube.requests().clear();
        let (code, plan) = eksync(None, &kubeconfig, &args);
        assert_eq!(code, 0, "{plan:#}");
        let per_object: Vec<_> = kube
            .requests()
            .entries()
            .into_iter()
            .filter(|r| {
                r.name.is_some()
                    && !r
                        .name
                        .as_deref()
                        .unwrap_or("")
                        .starts_with("eksync-inventory")
            })
            .collect();
        assert!(per_object.is_empty(), "{args:?}: {per_object:#?}");
        assert_eq!(kube.requests().writes(), 0);
    }

    // Another manager changes a field Git sets: found without any dry run being needed first.
    let deployments: Api<Deployment> = Api::namespaced(kube.client().unwrap(), "shop");
    deployments
        .patch(
            "web",
            &PatchParams::apply("kubectl").force(),
            &Patch::Apply(serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"replicas": 5}
            })),
        )
        .await
        .unwrap();
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 2, "{plan:#}");
    let drift = item(&plan, "web")["drift"].to_string();
    assert!(
        drift.contains("spec.replicas was changed by kubectl"),
        "{plan:#}"
    );
    assert_eq!(item(&plan, "settings")["action"], "no-change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_records_the_revision_and_diff_names_the_live_one() {
    let dir = tempfile::tempdir().unwrap();
    let repo = small_repo(
        dir.path(),
        &[("ns.yaml", NS), ("cm.yaml", &config_map("settings", ""))],
    );
    let git = support::git::git;
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "first"]);
    git(&repo, &["checkout", "-q", "-b", "next"]);
    std::fs::write(repo.join("more.yaml"), config_map("more", "")).unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "one more map"]);
    let repo_s = repo.to_str().unwrap();
    let kube = server().await;
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();

    let (code, run) = eksync(
        None,
        &kubeconfig,
        &["apply", repo_s, "--rev", "main", "--yes"],
    );
    assert_eq!(code, 2, "{run:#}");
    assert_eq!(run["revision"]["reference"], "main", "{run:#}");
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s, "--rev", "next"]);
    assert_eq!(code, 2, "{plan:#}");
    assert_eq!(plan["live_revision"]["subject"], "first", "{plan:#}");
    assert_eq!(plan["revision"]["subject"], "one more map", "{plan:#}");
    assert_ne!(plan["revision"]["commit"], plan["live_revision"]["commit"]);

    // A run that went through records its own revision.
    let (code, run) = eksync(
        None,
        &kubeconfig,
        &["apply", repo_s, "--rev", "next", "--yes"],
    );
    assert_eq!(code, 2, "{run:#}");
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s, "--rev", "next"]);
    assert_eq!(code, 0, "{plan:#}");
    assert_eq!(plan["live_revision"]["subject"], "one more map", "{plan:#}");
}
