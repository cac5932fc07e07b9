//! End to end: the real `eksync agent` against the test server and a Git remote served by
//! `git daemon` on loopback. A pushed commit is applied after a signed webhook (and, in another
//! agent, by polling alone); bad, missing and replayed deliveries and oversize bodies change
//! nothing; a commit that does not load leaves the last good one applied with its diagnostics in
//! the status; the remote going away and coming back; a force-push; drift corrected without a
//! commit; suspend; SIGTERM mid-apply and restart; two agents, one leader, failover.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::agent::*;
use testkit::{ServerConfig, TestServer};

const SECRET: &[u8] = b"webhook-secret-for-tests";

fn namespace() -> &'static str {
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
}

fn settings(value: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  color: {value}\n")
}

struct Rig {
    server: TestServer,
    client: kube::Client,
    dir: tempfile::TempDir,
    kubeconfig: std::path::PathBuf,
    remote: Remote,
}

async fn rig(config: ServerConfig) -> Rig {
    let server = TestServer::start_with(config).await.expect("test server");
    let client = server.client().unwrap();
    install(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.write_kubeconfig(dir.path()).unwrap();
    let remote = Remote::new(
        &dir.path().join("git"),
        &[
            ("app/ns.yaml", namespace()),
            ("app/settings.yaml", &settings("red")),
        ],
    );
    std::fs::write(dir.path().join("secret"), SECRET).unwrap();
    Rig {
        server,
        client,
        dir,
        kubeconfig,
        remote,
    }
}

impl Rig {
    /// The agent's arguments: webhook on, polling and self-heal rare unless `extra` says so.
    fn args(&self, cache: &str, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = vec![
            self.remote.url(),
            "--ref".into(),
            "main".into(),
            "--kubeconfig".into(),
            self.kubeconfig.display().to_string(),
            "--no-aws".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--name".into(),
            "shop".into(),
            "--git-cache".into(),
            self.dir.path().join(cache).display().to_string(),
            "--webhook-secret-file".into(),
            self.dir.path().join("secret").display().to_string(),
            "--retry-base".into(),
            "200ms".into(),
        ];
        for defaults in [["--interval", "1h"], ["--self-heal-interval", "1h"]] {
            if !extra.contains(&defaults[0]) {
                a.extend(defaults.iter().map(|s| s.to_string()));
            }
        }
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    fn start(&self, cache: &str, extra: &[&str]) -> Agent {
        let args = self.args(cache, extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Agent::start(&args, &[])
    }

    async fn color(&self) -> Option<String> {
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
            kube::Api::namespaced(self.client.clone(), "shop");
        cms.get_opt("settings")
            .await
            .unwrap()
            .and_then(|c| c.data?.get("color").cloned())
    }

    /// Waits until the Sync says `commit` is applied (Ready) and returns the object.
    async fn applied(&self, commit: &str, secs: u64) -> Value {
        eventually(secs, &format!("commit {commit} applied"), || async {
            let s = sync_object(&self.client, "shop").await?;
            (applied_commit(&s).as_deref() == Some(commit)
                && condition(&s, "Ready").map(|c| c.0).as_deref() == Some("True"))
            .then_some(s)
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_signed_webhook_applies_a_pushed_commit_and_bad_deliveries_change_nothing() {
    let rig = rig(ServerConfig::default()).await;
    let first = rig.remote.head();
    let agent = rig.start("cache", &["--no-leader-election"]);
    let s = rig.applied(&first, 30).await;
    assert_eq!(rig.color().await.as_deref(), Some("red"));
    assert_eq!(s["status"]["resources"], 2, "{s:#}");
    assert_eq!(agent.get("/readyz").0, 200);
    assert_eq!(agent.get("/healthz").0, 200);

    // A push, then its signed webhook: applied, and the status names the new revision.
    let second = rig
        .remote
        .push(&[("app/settings.yaml", &settings("green"))], "green");
    let (h, body) = github_push(SECRET, &second, "delivery-1");
    assert_eq!(deliver(&agent, &h, &body).0, 202);
    let s = rig.applied(&second, 30).await;
    assert_eq!(rig.color().await.as_deref(), Some("green"));
    assert_eq!(s["status"]["lastAppliedRevision"]["subject"], "green");

    // A third commit, announced only by deliveries that must not trigger a fetch.
    let third = rig
        .remote
        .push(&[("app/settings.yaml", &settings("blue"))], "blue");
    let fetch = r#"eksync_webhook_deliveries_total{sender="github",verdict="fetch"}"#;
    let unauthorized = r#"eksync_webhook_deliveries_total{sender="-",verdict="unauthorized"}"#;
    let ignored = r#"eksync_webhook_deliveries_total{sender="-",verdict="ignored"}"#;
    let fetches_before = agent.metric(fetch);
    assert_eq!(fetches_before, 1.0);
    // A wrong signature.
    let (mut h, body) = github_push(SECRET, &third, "delivery-2");
    h.retain(|(k, _)| k != "X-Hub-Signature-256");
    h.push((
        "X-Hub-Signature-256".into(),
        eksync::agent::webhook::sign(b"not the secret", &body),
    ));
    let (code, text) = deliver(&agent, &h, &body);
    assert_eq!((code, text.as_str()), (401, ""), "no detail on a 401");
    // No signature.
    h.retain(|(k, _)| k != "X-Hub-Signature-256");
    assert_eq!(deliver(&agent, &h, &body).0, 401);
    // The body of a good delivery with a signature made for another body.
    let (h_other, _) = github_push(SECRET, &second, "delivery-3");
    assert_eq!(deliver(&agent, &h_other, &body).0, 401);
    // A replay of the first (good) delivery.
    let (h, body1) = github_push(SECRET, &second, "delivery-1");
    let (code, text) = deliver(&agent, &h, &body1);
    assert_eq!((code, text.trim()), (200, "ignored: a redelivery"));
    // An oversize body (2 MiB, over the 1 MiB default), signed right: 413 before it is read.
    let mut big = format!(r#"{{"ref":"refs/heads/main","after":"{third}","pad":""#).into_bytes();
    big.extend(std::iter::repeat_n(b'x', 2 << 20));
    big.extend(br#""}"#);
    let (mut h, _) = github_push(SECRET, &third, "delivery-4");
    h.retain(|(k, _)| k != "X-Hub-Signature-256");
    h.push((
        "X-Hub-Signature-256".into(),
        eksync::agent::webhook::sign(SECRET, &big),
    ));
    assert_eq!(deliver(&agent, &h, &big).0, 413);
    assert_eq!(
        agent.metric(fetch),
        fetches_before,
        "no bad delivery queued a fetch"
    );
    assert_eq!(agent.metric(unauthorized), 3.0);
    assert_eq!(agent.metric(ignored), 1.0);
    let s = sync_object(&rig.client, "shop").await.unwrap();
    assert_eq!(applied_commit(&s).as_deref(), Some(second.as_str()));
    assert_eq!(rig.color().await.as_deref(), Some("green"));

    // The same commit announced properly is applied.
    let (h, body) = github_push(SECRET, &third, "delivery-5");
    assert_eq!(deliver(&agent, &h, &body).0, 202);
    rig.applied(&third, 30).await;
    assert_eq!(rig.color().await.as_deref(), Some("blue"));

    // Metrics a user graphs.
    let (_, text) = agent.get("/metrics");
    for series in [
        "eksync_reconciles_total{result=\"applied\"}",
        "eksync_fetches_total{result=\"ok\"}",
        "eksync_resources 2",
        &format!("eksync_last_applied_revision{{revision=\"{third}\"}} 1"),
        "eksync_api_calls_total{system=\"kubernetes\",operation=\"PATCH configmaps\",status=\"2xx\"}",
        "eksync_reconcile_duration_seconds_count{result=\"applied\"}",
    ] {
        assert!(text.contains(series), "{series} missing from:\n{text}");
    }
    // Events say what changed.
    let events: kube::Api<k8s_openapi::api::core::v1::Event> =
        kube::Api::namespaced(rig.client.clone(), "eksync-system");
    let list = events.list(&Default::default()).await.unwrap();
    assert!(
        list.items
            .iter()
            .any(|e| e.reason.as_deref() == Some("Reconciled")
                && e.message
                    .as_deref()
                    .unwrap_or("")
                    .contains("change(s) applied")),
        "{:#?}",
        list.items
    );
    // `eksync status` prints the same.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eksync"))
        .args(["status", "shop", "--kubeconfig"])
        .arg(&rig.kubeconfig)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Ready        True  Reconciled"), "{text}");
    assert!(text.contains(third.get(..12).unwrap()), "{text}");
    drop(agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commit_that_does_not_load_leaves_the_last_good_one_applied() {
    let rig = rig(ServerConfig::default()).await;
    let first = rig.remote.head();
    let agent = rig.start("cache", &["--no-leader-election"]);
    rig.applied(&first, 30).await;

    let bad = rig.remote.push(
        &[
            ("app/settings.yaml", &settings("purple")),
            (
                "app/broken.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   namespace: shop\n",
            ),
        ],
        "broken",
    );
    let (h, body) = github_push(SECRET, &bad, "d-bad");
    assert_eq!(deliver(&agent, &h, &body).0, 202);
    let s = eventually(30, "the bad revision reported", || async {
        let s = sync_object(&rig.client, "shop").await?;
        (s["status"]["lastAttemptedRevision"]["commit"] == bad.as_str()).then_some(s)
    })
    .await;
    assert_eq!(
        condition(&s, "Stalled"),
        Some(("True".into(), "InvalidRevision".into())),
        "{s:#}"
    );
    assert_eq!(condition(&s, "Ready").unwrap().1, "InvalidRevision");
    assert_eq!(applied_commit(&s).as_deref(), Some(first.as_str()));
    let diags: Vec<&str> = s["status"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        diags.iter().any(|d| d.starts_with("app/broken.yaml:5")),
        "{diags:?}"
    );
    // Nothing of the bad commit was applied, not even its valid files.
    assert_eq!(rig.color().await.as_deref(), Some("red"));

    // The fix is applied.
    let fixed = rig.remote.push(
        &[(
            "app/broken.yaml",
            &settings("unused").replace("settings", "other"),
        )],
        "fixed",
    );
    let (h, body) = github_push(SECRET, &fixed, "d-fixed");
    assert_eq!(deliver(&agent, &h, &body).0, 202);
    let s = rig.applied(&fixed, 30).await;
    assert_eq!(condition(&s, "Stalled").unwrap().0, "False");
    assert!(
        s["status"]["diagnostics"].is_null() || s["status"]["diagnostics"] == serde_json::json!([])
    );
    assert_eq!(rig.color().await.as_deref(), Some("purple"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn polling_alone_follows_pushes_force_pushes_and_an_outage_of_the_remote() {
    let mut rig = rig(ServerConfig::default()).await;
    let first = rig.remote.head();
    let agent = rig.start("cache", &["--no-leader-election", "--interval", "300ms"]);
    rig.applied(&first, 30).await;
    let second = rig
        .remote
        .push(&[("app/settings.yaml", &settings("green"))], "green");
    rig.applied(&second, 30).await;
    assert_eq!(rig.color().await.as_deref(), Some("green"));

    // A force-push that rewrites `main`.
    support::git::git(&rig.remote.work, &["reset", "-q", "--hard", &first]);
    write(&rig.remote.work, "app/settings.yaml", &settings("orange"));
    let rewritten = support::git::commit_all(&rig.remote.work, "orange instead");
    support::git::git(
        &rig.remote.work,
        &["push", "-q", "--force", "origin", "main"],
    );
    rig.applied(&rewritten, 30).await;
    assert_eq!(rig.color().await.as_deref(), Some("orange"));

    // The remote goes away: the status says so, the last good revision stays.
    let port = rig.remote.port;
    rig.remote.daemon = None;
    let during = rig
        .remote
        .push(&[("app/settings.yaml", &settings("teal"))], "teal");
    let s = eventually(30, "the fetch failure reported", || async {
        let s = sync_object(&rig.client, "shop").await?;
        if std::env::var("DEBUG_AGENT").is_ok() {
            eprintln!("{}\n{s:#}", agent.log_text());
        }
        (condition(&s, "Ready")?.1 == "FetchFailed").then_some(s)
    })
    .await;
    assert_eq!(applied_commit(&s).as_deref(), Some(rewritten.as_str()));
    assert_eq!(
        condition(&s, "Stalled").unwrap(),
        ("False".into(), "Retrying".into())
    );
    assert!(agent.metric(r#"eksync_fetches_total{result="error"}"#) >= 1.0);
    // It comes back on the same port: the next fetch catches up.
    rig.remote.daemon = Some(support::git::git_daemon_on(&rig.remote.base, port));
    rig.applied(&during, 30).await;
    assert_eq!(rig.color().await.as_deref(), Some("teal"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn drift_is_corrected_without_a_commit_and_suspend_stops_everything() {
    let rig = rig(ServerConfig::default()).await;
    let first = rig.remote.head();
    let agent = rig.start(
        "cache",
        &["--no-leader-election", "--self-heal-interval", "500ms"],
    );
    rig.applied(&first, 30).await;
    // Someone edits a Git-owned field.
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(rig.client.clone(), "shop");
    cms.patch(
        "settings",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(serde_json::json!({"data": {"color": "hacked"}})),
    )
    .await
    .unwrap();
    eventually(30, "the drift corrected", || async {
        (rig.color().await.as_deref() == Some("red")).then_some(())
    })
    .await;
    let s = sync_object(&rig.client, "shop").await.unwrap();
    assert_eq!(applied_commit(&s).as_deref(), Some(first.as_str()));

    // Suspended: drift stays, the status says why.
    set_suspend(&rig.client, "shop", true).await;
    eventually(30, "the suspension reported", || async {
        let s = sync_object(&rig.client, "shop").await?;
        (condition(&s, "Ready")?.1 == "Suspended").then_some(())
    })
    .await;
    cms.patch(
        "settings",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(serde_json::json!({"data": {"color": "hacked"}})),
    )
    .await
    .unwrap();
    let suspended_runs = r#"eksync_reconciles_total{result="suspended"}"#;
    let before = agent.metric(suspended_runs);
    eventually(30, "two more suspended passes", || async {
        (agent.metric(suspended_runs) >= before + 2.0).then_some(())
    })
    .await;
    assert_eq!(rig.color().await.as_deref(), Some("hacked"));
    // Resumed without a redeploy.
    set_suspend(&rig.client, "shop", false).await;
    eventually(30, "the drift corrected after resume", || async {
        (rig.color().await.as_deref() == Some("red")).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_edit_or_a_kubectl_scale_is_corrected_within_seconds_by_the_watch() {
    let rig = rig(ServerConfig::default()).await;
    let first = rig.remote.head();
    // No poll and no self-heal pass within the test: only the watch can notice.
    let agent = rig.start("cache", &["--no-leader-election"]);
    rig.applied(&first, 30).await;
    let runs = r#"eksync_reconciles_total{result="applied"}"#;
    // Once the watch is up, its own applies have settled: at most one follow-up pass.
    eventually(30, "the first passes done", || async {
        let a = agent.metric(runs);
        (a >= 1.0).then_some(())
    })
    .await;
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(rig.client.clone(), "shop");
    let started = std::time::Instant::now();
    cms.patch(
        "settings",
        &kube::api::PatchParams::apply("kubectl-edit").force(),
        &kube::api::Patch::Apply(serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "shop"},
            "data": {"color": "hacked"}
        })),
    )
    .await
    .unwrap();
    eventually(10, "the edit corrected", || async {
        (rig.color().await.as_deref() == Some("red")).then_some(())
    })
    .await;
    let took = started.elapsed();
    assert!(
        agent
            .log_text()
            .contains("changed in the cluster; reconciling"),
        "{}",
        agent.log_text()
    );
    eprintln!("corrected in {took:?}");

    // `kubectl scale`: the scale subresource, by another manager.
    let web = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n";
    let second = rig.remote.push(&[("app/web.yaml", web)], "web");
    let (h, body) = github_push(SECRET, &second, "d-web");
    assert_eq!(deliver(&agent, &h, &body).0, 202);
    rig.applied(&second, 30).await;
    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(rig.client.clone(), "shop");
    deployments
        .patch_scale(
            "web",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(serde_json::json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    eventually(10, "the scale corrected", || async {
        let d = deployments.get("web").await.ok()?;
        (d.spec?.replicas == Some(2)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tug_of_war_is_stopped_and_reported_with_the_other_manager() {
    let rig = rig(ServerConfig::default()).await;
    let first = rig.remote.head();
    let agent = rig.start("cache", &["--no-leader-election"]);
    rig.applied(&first, 30).await;
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(rig.client.clone(), "shop");
    let rival = |color: &'static str| {
        let cms = cms.clone();
        async move {
            cms.patch(
                "settings",
                &kube::api::PatchParams::apply("rival-operator").force(),
                &kube::api::Patch::Apply(serde_json::json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "settings", "namespace": "shop"},
                    "data": {"color": color}
                })),
            )
            .await
            .unwrap();
        }
    };
    // The rival puts its value back each time eksync corrects it; after three corrections
    // eksync stops.
    let held = r#"held"#;
    for round in 1..=3 {
        rival("hacked").await;
        eventually(15, &format!("correction {round}"), || async {
            (rig.color().await.as_deref() == Some("red")).then_some(())
        })
        .await;
    }
    rival("hacked").await;
    let s = eventually(15, "the tug of war reported", || async {
        let s = sync_object(&rig.client, "shop").await?;
        let h = s["status"][held].as_array()?.first()?.as_str()?.to_string();
        h.contains("rival-operator").then_some(s)
    })
    .await;
    let msg = s["status"][held][0].as_str().unwrap();
    assert!(msg.contains("ConfigMap shop/settings"), "{msg}");
    assert!(msg.contains("tug of war"), "{msg}");
    let events: kube::Api<k8s_openapi::api::core::v1::Event> =
        kube::Api::namespaced(rig.client.clone(), "eksync-system");
    let list = events.list(&Default::default()).await.unwrap();
    assert!(
        list.items
            .iter()
            .any(|e| e.reason.as_deref() == Some("TugOfWar")
                && e.message
                    .as_deref()
                    .unwrap_or("")
                    .contains("rival-operator")),
        "{:#?}",
        list.items
    );
    // Held: a further reconcile (same commit) leaves the rival's value.
    let runs = agent.metric(r#"eksync_reconciles_total{result="applied"}"#);
    let (h, body) = github_push(SECRET, &first, "d-again");
    assert_eq!(deliver(&agent, &h, &body).0, 202);
    eventually(15, "another reconcile", || async {
        (agent.metric(r#"eksync_reconciles_total{result="applied"}"#) > runs).then_some(())
    })
    .await;
    assert_eq!(rig.color().await.as_deref(), Some("hacked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_mid_apply_stops_between_steps_and_a_restart_converges() {
    interrupted_mid_apply("TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_mid_apply_then_a_restart_converges_with_no_lost_or_duplicate_entry() {
    interrupted_mid_apply("KILL").await;
}

/// Interrupts an agent with `signal` while it waits for a Deployment, then restarts it.
async fn interrupted_mid_apply(signal: &str) {
    let config = ServerConfig {
        rollout_delay: Duration::from_secs(3),
        ..ServerConfig::default()
    };
    let rig = rig(config).await;
    let first = rig.remote.head();
    let mut agent = rig.start("cache", &["--no-leader-election"]);
    rig.applied(&first, 30).await;
    // A Deployment that takes 3 s to roll out, and a ConfigMap that waits for it.
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n";
    let after = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-web\n  namespace: shop\n  annotations:\n    eksync.io/depends-on: Deployment.apps/shop/web\ndata:\n  k: v\n";
    let second = rig.remote.push(
        &[("app/web.yaml", deploy), ("app/after.yaml", after)],
        "web",
    );
    let (h, body) = github_push(SECRET, &second, "d-web");
    assert_eq!(deliver(&agent, &h, &body).0, 202);
    // Once the Deployment exists (its wait has begun), SIGTERM.
    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(rig.client.clone(), "shop");
    eventually(30, "the Deployment applied", || async {
        deployments.get_opt("web").await.unwrap().map(|_| ())
    })
    .await;
    agent.signal(signal);
    let code = agent.wait_exit(15);
    if signal == "TERM" {
        assert_eq!(code, Some(0), "{}", agent.log_text());
    }
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(rig.client.clone(), "shop");
    assert!(
        cms.get_opt("after-web").await.unwrap().is_none(),
        "nothing new starts after SIGTERM"
    );
    // The inventory was written ahead of the Deployment's create: nothing is lost to prune.
    let inv = inventory(&rig.client, "shop").await;
    let names: Vec<&str> = inv["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"web"), "{inv:#}");
    // The revision it records stays the last one applied in full.
    assert_eq!(inv["revision"]["commit"], first.as_str());
    if signal == "TERM" {
        // A clean stop says so; a killed agent could not.
        let s = sync_object(&rig.client, "shop").await.unwrap();
        assert_eq!(condition(&s, "Ready").unwrap().1, "Cancelled", "{s:#}");
    }

    // A restart converges.
    let _agent = rig.start("cache", &["--no-leader-election"]);
    rig.applied(&second, 30).await;
    assert!(cms.get_opt("after-web").await.unwrap().is_some());
    let inv = inventory(&rig.client, "shop").await;
    let mut names: Vec<String> = inv["entries"]
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
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ConfigMap/after-web",
            "ConfigMap/settings",
            "Deployment/web",
            "Namespace/shop"
        ],
        "every object once"
    );
    assert_eq!(inv["revision"]["commit"], second.as_str());
}

/// The source's inventory, as recorded in its ConfigMap.
async fn inventory(client: &kube::Client, source: &str) -> Value {
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(client.clone(), "eksync-system");
    let cm = cms
        .get(&format!("eksync-inventory-{source}"))
        .await
        .unwrap();
    let text = cm.data.unwrap()["inventory.json"].clone();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_agents_elect_one_leader_and_the_standby_takes_over_when_it_dies() {
    let rig = rig(ServerConfig::default()).await;
    let first = rig.remote.head();
    let lease = ["--lease-duration", "2s"];
    let a = rig.start(
        "cache-a",
        &[&lease[..], &["--identity", "agent-a"]].concat(),
    );
    let b = rig.start(
        "cache-b",
        &[&lease[..], &["--identity", "agent-b"]].concat(),
    );
    rig.applied(&first, 30).await;
    let leaders = || a.metric("eksync_leader") + b.metric("eksync_leader");
    eventually(30, "exactly one leader", || async {
        (leaders() == 1.0).then_some(())
    })
    .await;
    let (leader, mut standby) = if a.metric("eksync_leader") == 1.0 {
        (a, b)
    } else {
        (b, a)
    };
    assert_eq!(standby.get("/readyz").0, 200, "a standby is ready");
    // Only the leader reconciled.
    assert_eq!(
        standby.metric(r#"eksync_reconciles_total{result="applied"}"#),
        0.0
    );

    // The leader dies without a word; a push lands meanwhile.
    leader.signal("KILL");
    drop(leader);
    let second = rig
        .remote
        .push(&[("app/settings.yaml", &settings("green"))], "green");
    // The standby takes over within the lease duration and reconciles on taking over.
    rig.applied(&second, 30).await;
    assert_eq!(standby.metric("eksync_leader"), 1.0);
    assert_eq!(rig.color().await.as_deref(), Some("green"));
    standby.signal("TERM");
    assert_eq!(standby.wait_exit(15), Some(0));
    let _ = &rig.server;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_leader_that_loses_its_lease_stops_between_steps_and_the_new_leader_finishes() {
    let config = ServerConfig {
        rollout_delay: Duration::from_secs(10),
        ..ServerConfig::default()
    };
    let rig = rig(config).await;
    let first = rig.remote.head();
    let lease = ["--lease-duration", "5s"];
    let a = rig.start(
        "cache-a",
        &[&lease[..], &["--identity", "agent-a"]].concat(),
    );
    let b = rig.start(
        "cache-b",
        &[&lease[..], &["--identity", "agent-b"]].concat(),
    );
    rig.applied(&first, 30).await;
    let is_leader = |x: &Agent| x.metric("eksync_leader") == 1.0;
    eventually(30, "a leader", || async {
        (is_leader(&a) || is_leader(&b)).then_some(())
    })
    .await;
    let (leader, standby, standby_id) = if is_leader(&a) {
        (&a, &b, "agent-b")
    } else {
        (&b, &a, "agent-a")
    };

    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n";
    let after = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-web\n  namespace: shop\n  annotations:\n    eksync.io/depends-on: Deployment.apps/shop/web\ndata:\n  k: v\n";
    let second = rig.remote.push(
        &[("app/web.yaml", deploy), ("app/after.yaml", after)],
        "web",
    );
    let (h, body) = github_push(SECRET, &second, "d-web");
    assert_eq!(deliver(leader, &h, &body).0, 202);
    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(rig.client.clone(), "shop");
    eventually(30, "the Deployment applied", || async {
        deployments.get_opt("web").await.unwrap().map(|_| ())
    })
    .await;
    // While the leader waits for the rollout, the Lease passes to the standby.
    let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(rig.client.clone(), "eksync-system");
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    leases
        .patch(
            "eksync-shop",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(
                serde_json::json!({"spec": {"holderIdentity": standby_id, "renewTime": now}}),
            ),
        )
        .await
        .unwrap();
    eventually(30, "the old leader cancelled its run", || async {
        (leader.metric(r#"eksync_reconciles_total{result="cancelled"}"#) >= 1.0).then_some(())
    })
    .await;
    assert!(
        leader.log_text().contains("lost the leader Lease"),
        "{}",
        leader.log_text()
    );
    // The new leader finishes the revision; the old one stays a standby.
    rig.applied(&second, 30).await;
    assert_eq!(standby.metric("eksync_leader"), 1.0);
    assert_eq!(leader.metric("eksync_leader"), 0.0);
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(rig.client.clone(), "shop");
    assert!(cms.get_opt("after-web").await.unwrap().is_some());
    assert!(standby.metric(r#"eksync_reconciles_total{result="applied"}"#) >= 1.0);
}

/// The whole example, AWS included: the agent follows a Git remote holding examples-repo (with
/// the network ids of a moto account) and applies its stacks, inline policy and manifests in one
/// ordered reconcile; a pushed Spot maxSize change reaches the Auto Scaling group.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_example_with_its_stacks_is_applied_from_git_and_a_pushed_change_reaches_aws() {
    let (_guard, moto) = support::moto::moto().await;
    let dir = tempfile::tempdir().unwrap();
    let (oob, repo) = support::e2e::set_up(moto, dir.path()).await;
    // The prepared example becomes a Git remote served by git daemon.
    support::git::git(&repo, &["init", "-q", "-b", "main"]);
    let first = support::git::commit_all(&repo, "the example");
    let served = dir.path().join("served");
    std::fs::create_dir_all(&served).unwrap();
    support::git::bare_remote(&repo, &served.join("repo.git"));
    let daemon = support::git::git_daemon(&served);
    let server = TestServer::start().await.unwrap();
    let client = server.client().unwrap();
    install(&client).await;
    let kubeconfig = server.write_kubeconfig(dir.path()).unwrap();
    std::fs::write(dir.path().join("secret"), SECRET).unwrap();
    let url = format!("git://127.0.0.1:{}/repo.git", daemon.port);
    let cache = dir.path().join("git-cache");
    let aws_cache = dir.path().join("aws-cache");
    let secret = dir.path().join("secret");
    let args = [
        url.as_str(),
        "--ref",
        "main",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--name",
        "jenkins",
        "--no-leader-election",
        "--interval",
        "1h",
        "--self-heal-interval",
        "1h",
        "--git-cache",
        cache.to_str().unwrap(),
        "--aws-cache-dir",
        aws_cache.to_str().unwrap(),
        "--webhook-secret-file",
        secret.to_str().unwrap(),
    ];
    let agent = Agent::start(
        &args,
        &[
            ("EKSYNC_AWS_ENDPOINT_URL", moto.url.as_str()),
            ("EKSYNC_AWS_MAX_ATTEMPTS", "1"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
    );
    let applied = |commit: String| {
        let client = client.clone();
        async move {
            eventually(120, &format!("{commit} applied"), || async {
                let s = sync_object(&client, "jenkins").await?;
                (applied_commit(&s).as_deref() == Some(commit.as_str())
                    && condition(&s, "Ready").map(|c| c.0).as_deref() == Some("True"))
                .then_some(s)
            })
            .await
        }
    };
    let s = applied(first.clone()).await;
    assert_eq!(s["status"]["failed"], 0, "{s:#}");
    // Both sides exist: the node group stacks in the moto account, the manifests in the cluster.
    let spot = support::e2e::spot_asg(&oob).await;
    assert_eq!(spot.max_size(), Some(5));
    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(client.clone(), "kube-system");
    assert!(deployments
        .get_opt("cluster-autoscaler")
        .await
        .unwrap()
        .is_some());

    // A pushed change to the ClusterConfig reaches the Auto Scaling group.
    support::e2e::edit(
        &repo,
        "cluster/cluster.yaml",
        "    maxSize: 5\n",
        "    maxSize: 6\n",
    );
    let second = support::git::commit_all(&repo, "spot max 6");
    support::git::git(&repo, &["push", "-q", "origin", "main"]);
    let (h, body) = github_push(SECRET, &second, "d-spot");
    assert_eq!(deliver(&agent, &h, &body).0, 202);
    applied(second.clone()).await;
    assert_eq!(support::e2e::spot_asg(&oob).await.max_size(), Some(6));
}
