//! The Kubernetes adapter against testkit's in-process API server (127.0.0.1, free port):
//! discovery, server-side apply and noise-free diffs, drift by another manager, immutable fields,
//! the managed set in one LIST per kind, the User-Agent, retries and the inventory.

use std::time::{Duration, Instant};

use eksync::adapters::kube::{
    inventory_name, ApplyOptions, KubeAdapter, KubeError, KubeSettings, Propagation, RetrySettings,
};
use eksync::core::kdiff::{
    decide_immutable, diff, immutable_fields, index_live, needs_live_read, object_key, prepare,
    readiness, render, replicas_handover, Action, ImmutableDecision, Inventory, InventoryEntry,
    PrepareContext, Readiness, HANDOVER_MANAGER,
};
use serde_json::{json, Value};
use testkit::{FaultAction, FaultRule, FaultTimes, ServerConfig, TestServer};

struct Cluster {
    server: TestServer,
    kube: KubeAdapter,
    _dir: tempfile::TempDir,
}

fn fast_retries() -> RetrySettings {
    RetrySettings {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_retry_after: Duration::from_secs(5),
        request_timeout: Duration::from_secs(10),
    }
}

async fn cluster_with(tune: impl FnOnce(&mut KubeSettings)) -> Cluster {
    cluster_on(ServerConfig::default(), tune).await
}

async fn cluster_on(config: ServerConfig, tune: impl FnOnce(&mut KubeSettings)) -> Cluster {
    let server = TestServer::start_with(config)
        .await
        .expect("test server starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = server.write_kubeconfig(dir.path()).expect("kubeconfig");
    let mut settings = KubeSettings {
        kubeconfig: Some(path),
        context: Some("testkit".into()),
        max_concurrency: 4,
        retry: fast_retries(),
        ..KubeSettings::default()
    };
    tune(&mut settings);
    let kube = KubeAdapter::connect(settings)
        .await
        .expect("adapter connects");
    Cluster {
        server,
        kube,
        _dir: dir,
    }
}

async fn cluster() -> Cluster {
    cluster_with(|_| {}).await
}

const APPLY: ApplyOptions = ApplyOptions {
    dry_run: false,
    force: true,
};
const DRY_RUN: ApplyOptions = ApplyOptions {
    dry_run: true,
    force: true,
};

fn prepared(body: Value) -> Value {
    prepare(&body, &PrepareContext::default().with_source("default")).body
}

fn deployment(name: &str, app: &str, replicas: i64) -> Value {
    prepared(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}
            }
        }
    }))
}

fn config_map(ns: &str, name: &str) -> Value {
    prepared(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": {"k": "v"}
    }))
}

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
            }]
        }
    })
}

fn rv(obj: &Value) -> String {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .expect("object has a resourceVersion")
        .to_string()
}

#[tokio::test]
async fn discovery_finds_core_kinds_and_a_crd_created_during_the_run() {
    let c = cluster().await;
    let cm = c.kube.resolve("v1", "ConfigMap").await.expect("resolves");
    let cm = cm.expect("ConfigMap is served");
    assert_eq!((cm.plural.as_str(), cm.namespaced), ("configmaps", true));
    let ns = c.kube.resolve("v1", "Namespace").await.expect("resolves");
    assert_eq!(ns.map(|n| n.namespaced), Some(false));
    let deploy = c
        .kube
        .resolve("apps/v1", "Deployment")
        .await
        .expect("resolves");
    assert_eq!(deploy.map(|d| d.plural), Some("deployments".to_string()));
    assert_eq!(
        c.kube.resolve("v1", "Nonsense").await.expect("resolves"),
        None
    );

    // Cached: resolving a known kind again asks nothing.
    c.server.requests().clear();
    c.kube.resolve("v1", "ConfigMap").await.expect("resolves");
    assert_eq!(c.server.requests().entries().len(), 0);

    // The custom resource's kind is unknown until its CRD exists.
    assert_eq!(
        c.kube
            .resolve("example.com/v1", "Widget")
            .await
            .expect("resolves"),
        None
    );
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"}, "spec": {"size": 1}});
    match c.kube.apply(&widget, DRY_RUN).await {
        Err(KubeError::ResourceUnknown(m)) => assert!(m.contains("Widget"), "{m}"),
        other => panic!("expected ResourceUnknown, got {other:?}"),
    }
    c.kube
        .apply(&widget_crd(), APPLY)
        .await
        .expect("CRD applies");
    let w = c
        .kube
        .resolve("example.com/v1", "Widget")
        .await
        .expect("resolves");
    let w = w.expect("Widget is served once its CRD is established");
    assert_eq!((w.plural.as_str(), w.namespaced), ("widgets", true));
    let applied = c.kube.apply(&widget, APPLY).await.expect("widget applies");
    assert_eq!(applied["spec"]["size"], json!(1));

    // A second CRD in the same, already cached group/version is found by refreshing on the miss.
    let mut gadgets = widget_crd();
    gadgets["metadata"]["name"] = json!("gadgets.example.com");
    gadgets["spec"]["names"] = json!({"plural": "gadgets", "singular": "gadget", "kind": "Gadget", "listKind": "GadgetList"});
    gadgets["spec"]["scope"] = json!("Cluster");
    c.kube
        .apply(&gadgets, APPLY)
        .await
        .expect("second CRD applies");
    let g = c
        .kube
        .resolve("example.com/v1", "Gadget")
        .await
        .expect("resolves");
    let g = g.expect("Gadget is served");
    assert_eq!((g.plural.as_str(), g.namespaced), ("gadgets", false));

    // Every request the adapter made names eksync.
    let entries = c.server.requests().entries();
    assert!(!entries.is_empty());
    for e in &entries {
        assert!(
            e.user_agent.starts_with("eksync/"),
            "{} {} sent User-Agent {:?}",
            e.method,
            e.path,
            e.user_agent
        );
    }
    assert!(c.kube.requests().total() >= entries.len() as u64);
}

#[tokio::test]
async fn apply_creates_then_an_unchanged_object_is_a_no_op() {
    let c = cluster().await;
    let web = deployment("web", "web", 2);
    let created = c.kube.apply(&web, APPLY).await.expect("applies");
    let log = c.server.requests();
    let apply = log
        .entries()
        .into_iter()
        .find(|e| e.verb == "apply" && e.resource == "deployments")
        .expect("apply request logged");
    assert_eq!(apply.status, 201);
    assert!(apply
        .query
        .contains(&("fieldManager".into(), "eksync".into())));
    let first_rv = rv(&created);

    // The diff of the unchanged object: dry-run + live read, no write, no change, even though the
    // server filled defaults, the controller wrote status and a revision annotation.
    log.clear();
    let dry = c.kube.apply(&web, DRY_RUN).await.expect("dry run");
    let live = c
        .kube
        .get("apps/v1", "Deployment", Some("default"), "web")
        .await
        .expect("reads")
        .expect("exists");
    assert!(live.pointer("/status").is_some());
    assert!(
        live.pointer("/spec/strategy").is_some(),
        "server defaults are filled"
    );
    let d = diff(&dry, Some(&live));
    assert_eq!(d.action, Action::NoChange, "{:#?}", d.changes);
    assert_eq!(log.writes(), 0);
    assert_eq!(log.count("apply", Some("deployments")), 1);

    // Applying it again changes nothing on the server.
    let again = c.kube.apply(&web, APPLY).await.expect("re-applies");
    assert_eq!(rv(&again), rv(&live));
    assert_eq!(log.changes(), 0, "a no-op apply changes no stored state");
    let after = c
        .kube
        .get("apps/v1", "Deployment", Some("default"), "web")
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(rv(&after), rv(&live));
    assert!(!first_rv.is_empty());

    // A real change shows as an update of exactly that field.
    let changed = deployment("web", "web", 3);
    let d = diff(
        &c.kube.apply(&changed, DRY_RUN).await.expect("dry run"),
        Some(&after),
    );
    assert_eq!(d.action, Action::Update);
    let paths: Vec<&str> = d.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, vec!["spec.replicas"]);
    assert_eq!(d.changes[0].drift_by, None);
}

#[tokio::test]
async fn scale_by_another_manager_is_drift_and_a_forced_apply_takes_it_back() {
    let c = cluster().await;
    let web = deployment("web", "web", 2);
    c.kube.apply(&web, APPLY).await.expect("applies");

    // `kubectl scale`: a merge patch of the scale subresource by another field manager.
    let other = c.server.client().expect("plain client");
    let req = http::Request::patch(
        "/apis/apps/v1/namespaces/default/deployments/web/scale?fieldManager=kubectl-scale",
    )
    .header("content-type", "application/merge-patch+json")
    .body(br#"{"spec":{"replicas":5}}"#.to_vec())
    .expect("request");
    other.request_text(req).await.expect("scale patch succeeds");

    let live = c
        .kube
        .get("apps/v1", "Deployment", Some("default"), "web")
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(live["spec"]["replicas"], json!(5));
    let dry = c.kube.apply(&web, DRY_RUN).await.expect("dry run");
    let d = diff(&dry, Some(&live));
    assert_eq!(d.action, Action::Update);
    assert_eq!(d.changes.len(), 1, "{:#?}", d.changes);
    let change = &d.changes[0];
    assert_eq!(change.path, "spec.replicas");
    assert_eq!(change.before, Some(json!(5)));
    assert_eq!(change.after, Some(json!(2)));
    assert_eq!(change.drift_by.as_deref(), Some("kubectl-scale"));

    // Without force the other manager's field is a conflict; with force Git takes it back.
    let unforced = ApplyOptions {
        dry_run: false,
        force: false,
    };
    match c.kube.apply(&web, unforced).await {
        Err(KubeError::Conflict { message }) => {
            assert!(message.contains("kubectl-scale"), "{message}")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    c.kube.apply(&web, APPLY).await.expect("forced apply");
    let back = c
        .kube
        .get("apps/v1", "Deployment", Some("default"), "web")
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(back["spec"]["replicas"], json!(2));
    let d = diff(
        &c.kube.apply(&web, DRY_RUN).await.expect("dry run"),
        Some(&back),
    );
    assert_eq!(d.action, Action::NoChange, "{:#?}", d.changes);
}

#[tokio::test]
async fn a_selector_change_is_an_immutable_field_in_the_dry_run() {
    let c = cluster().await;
    c.kube
        .apply(&deployment("web", "web", 2), APPLY)
        .await
        .expect("applies");
    c.server.requests().clear();
    let moved = deployment("web", "web-v2", 2);
    let err = c
        .kube
        .apply(&moved, DRY_RUN)
        .await
        .expect_err("selector change is refused");
    let KubeError::Invalid { causes, message } = err else {
        panic!("expected Invalid, got {err:?}");
    };
    let fields = immutable_fields(&causes);
    assert_eq!(fields, vec!["spec.selector".to_string()], "{message}");
    match decide_immutable(&moved, fields.clone()) {
        ImmutableDecision::Error { message, .. } => assert!(message.contains("spec.selector")),
        other => panic!("expected an error without the annotation, got {other:?}"),
    }
    let mut opted = moved.clone();
    opted["metadata"]["annotations"] = json!({"eksync.io/recreate-on-immutable-change": "true"});
    assert!(matches!(
        decide_immutable(&opted, fields),
        ImmutableDecision::Recreate { .. }
    ));
    assert_eq!(c.server.requests().writes(), 0);
}

#[tokio::test]
async fn list_managed_is_one_list_per_kind_across_namespaces() {
    let c = cluster().await;
    for ns in ["team-a", "team-b"] {
        let body =
            prepared(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
        c.kube.apply(&body, APPLY).await.expect("namespace");
    }
    for (ns, name) in [("team-a", "one"), ("team-a", "two"), ("team-b", "three")] {
        c.kube
            .apply(&config_map(ns, name), APPLY)
            .await
            .expect("configmap");
    }
    c.kube
        .apply(&deployment("web", "web", 1), APPLY)
        .await
        .expect("deployment");
    // Not eksync's: no ownership label.
    let foreign = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "foreign", "namespace": "team-a"}});
    c.kube
        .apply(&foreign, APPLY)
        .await
        .expect("foreign configmap");

    let kinds = vec![
        c.kube
            .resolve("v1", "ConfigMap")
            .await
            .expect("ok")
            .expect("served"),
        c.kube
            .resolve("apps/v1", "Deployment")
            .await
            .expect("ok")
            .expect("served"),
    ];
    let log = c.server.requests();
    log.clear();
    let managed = c.kube.list_managed(&kinds).await.expect("lists");
    let mut names: Vec<(String, String)> = managed
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().expect("kind set").to_string(),
                o["metadata"]["name"].as_str().expect("name").to_string(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("ConfigMap".into(), "one".into()),
            ("ConfigMap".into(), "three".into()),
            ("ConfigMap".into(), "two".into()),
            ("Deployment".into(), "web".into()),
        ]
    );
    assert!(managed.iter().all(|o| o["apiVersion"].is_string()));
    assert_eq!(log.count("list", Some("configmaps")), 1);
    assert_eq!(log.count("list", Some("deployments")), 1);
    assert_eq!(log.count("get", None), 0, "no per-object GET");
    assert_eq!(log.entries().len(), 2);
    let list = &log.entries()[0];
    assert!(list.query.contains(&(
        "labelSelector".into(),
        "app.kubernetes.io/managed-by=eksync,eksync.io/source=default".into()
    )));
    assert_eq!(list.namespace, None, "cluster-wide");
}

#[tokio::test]
async fn throttling_with_retry_after_is_survived() {
    let c = cluster().await;
    c.kube
        .apply(&config_map("default", "c"), APPLY)
        .await
        .expect("applies");
    c.server.faults().add(FaultRule::new(
        "get",
        "/configmaps/c",
        FaultAction::TooManyRequests {
            retry_after_secs: 1,
        },
        FaultTimes::Times(1),
    ));
    let log = c.server.requests();
    log.clear();
    let started = Instant::now();
    let got = c
        .kube
        .get("v1", "ConfigMap", Some("default"), "c")
        .await
        .expect("survives the 429");
    assert!(got.is_some());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured, waited {:?}",
        started.elapsed()
    );
    let statuses: Vec<u16> = log.entries().iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![429, 200]);
}

#[tokio::test]
async fn server_errors_timeouts_and_dropped_connections_are_retried() {
    let c = cluster_with(|s| s.retry.request_timeout = Duration::from_millis(300)).await;
    c.kube
        .apply(&config_map("default", "c"), APPLY)
        .await
        .expect("applies");
    let faults = c.server.faults();
    faults.add(FaultRule::new(
        "apply",
        "/configmaps/c",
        FaultAction::InternalError,
        FaultTimes::Times(1),
    ));
    faults.add(FaultRule::new(
        "apply",
        "/configmaps/c",
        FaultAction::Hang(Duration::from_secs(2)),
        FaultTimes::Times(1),
    ));
    faults.add(FaultRule::new(
        "apply",
        "/configmaps/c",
        FaultAction::Drop,
        FaultTimes::Times(1),
    ));
    c.kube.requests().reset();
    c.kube
        .apply(&config_map("default", "c"), APPLY)
        .await
        .expect("survives 500, a hang and a dropped connection");
    assert_eq!(
        c.kube.requests().snapshot().get("PATCH configmaps"),
        Some(&4)
    );

    // A body that does not fit the schema (SSA answers 500) is not retried.
    let mut typo = deployment("typo", "typo", 1);
    typo["spec"]["replicas"] = json!("three");
    c.kube.requests().reset();
    match c.kube.apply(&typo, DRY_RUN).await {
        Err(KubeError::Invalid { message, .. }) => {
            assert!(message.contains("typed patch"), "{message}")
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(
        c.kube.requests().snapshot().get("PATCH deployments"),
        Some(&1)
    );

    // Retries are bounded: a server that always fails gives the last error.
    faults.add(FaultRule::new(
        "get",
        "/configmaps/c",
        FaultAction::InternalError,
        FaultTimes::Always,
    ));
    match c.kube.get("v1", "ConfigMap", Some("default"), "c").await {
        Err(KubeError::Api { code: 500, .. }) => {}
        other => panic!("expected the 500 after the retries, got {other:?}"),
    }
    assert_eq!(c.kube.requests().snapshot().get("GET configmaps"), Some(&4));
}

#[tokio::test]
async fn delete_with_propagation_and_gone_objects() {
    let c = cluster().await;
    c.kube
        .apply(&config_map("default", "gone"), APPLY)
        .await
        .expect("applies");
    let deleted = c
        .kube
        .delete(
            "v1",
            "ConfigMap",
            Some("default"),
            "gone",
            Propagation::Foreground,
        )
        .await
        .expect("deletes");
    assert!(deleted);
    assert_eq!(
        c.kube
            .get("v1", "ConfigMap", Some("default"), "gone")
            .await
            .expect("reads"),
        None
    );
    let again = c
        .kube
        .delete(
            "v1",
            "ConfigMap",
            Some("default"),
            "gone",
            Propagation::Background,
        )
        .await
        .expect("already gone is fine");
    assert!(!again);

    // The propagation policy reaches the server: orphaned dependents stay, others are collected.
    for (policy, child_survives) in [
        (Propagation::Orphan, true),
        (Propagation::Background, false),
    ] {
        let parent = c
            .kube
            .apply(&config_map("default", "parent"), APPLY)
            .await
            .expect("parent");
        let mut child = config_map("default", "child");
        child["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap",
            "name": "parent", "uid": parent["metadata"]["uid"]}]);
        c.kube.apply(&child, APPLY).await.expect("child");
        c.kube
            .delete("v1", "ConfigMap", Some("default"), "parent", policy)
            .await
            .expect("deletes");
        c.server.settle();
        let left = c
            .kube
            .get("v1", "ConfigMap", Some("default"), "child")
            .await
            .expect("reads");
        assert_eq!(left.is_some(), child_survives, "{policy:?}");
        if left.is_some() {
            c.kube
                .delete(
                    "v1",
                    "ConfigMap",
                    Some("default"),
                    "child",
                    Propagation::Background,
                )
                .await
                .expect("cleanup");
        }
    }
}

#[tokio::test]
async fn inventory_round_trips_in_its_own_namespace() {
    let c = cluster().await;
    assert_eq!(c.kube.read_inventory().await.expect("reads"), None);
    let first = Inventory::new([
        InventoryEntry::of(&deployment("web", "web", 1)).expect("identity"),
        InventoryEntry::of(&config_map("team-a", "one")).expect("identity"),
    ]);
    c.kube.write_inventory(&first).await.expect("writes");
    assert!(c
        .kube
        .get("v1", "Namespace", None, "eksync-system")
        .await
        .expect("reads")
        .is_some());
    assert_eq!(
        c.kube.read_inventory().await.expect("reads"),
        Some(first.clone())
    );

    let second = Inventory::new(first.entries[..1].to_vec());
    c.kube.write_inventory(&second).await.expect("writes again");
    assert_eq!(c.kube.read_inventory().await.expect("reads"), Some(second));

    // The inventory is not part of the managed set (it is never pruned).
    let cms = c
        .kube
        .resolve("v1", "ConfigMap")
        .await
        .expect("ok")
        .expect("served");
    let managed = c.kube.list_managed(&[cms]).await.expect("lists");
    assert!(managed
        .iter()
        .all(|o| o["metadata"]["name"] != json!(inventory_name("default"))));
}

#[tokio::test]
async fn diffs_from_the_listed_managed_set_need_no_get_per_object() {
    let c = cluster().await;
    let desired = vec![
        deployment("web", "web", 2),
        config_map("default", "settings"),
        prepared(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}),
        ),
    ];
    for body in &desired {
        c.kube.apply(body, APPLY).await.expect("applies");
    }
    let mut kinds = Vec::new();
    for body in &desired {
        let api = body["apiVersion"].as_str().expect("apiVersion");
        let kind = body["kind"].as_str().expect("kind");
        kinds.push(
            c.kube
                .resolve(api, kind)
                .await
                .expect("ok")
                .expect("served"),
        );
    }
    let log = c.server.requests();
    log.clear();
    let live = index_live(c.kube.list_managed(&kinds).await.expect("lists"));
    for body in &desired {
        let key = object_key(body).expect("identity");
        let dry = c.kube.apply(body, DRY_RUN).await.expect("dry run");
        let d = diff(&dry, live.get(&key));
        assert_eq!(d.action, Action::NoChange, "{key}: {:#?}", d.changes);
    }
    assert_eq!(log.count("get", None), 0);
    assert_eq!(log.count("list", None), 3);
    assert_eq!(log.writes(), 0);
}

#[tokio::test]
async fn secret_diffs_and_renderings_never_show_values() {
    let c = cluster().await;
    let secret = |pw: &str| {
        prepared(
            json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "db", "namespace": "default"},
            "stringData": {"password": pw, "user": "admin"}}),
        )
    };
    c.kube
        .apply(&secret("old-hunter2"), APPLY)
        .await
        .expect("applies");
    let live = c
        .kube
        .get("v1", "Secret", Some("default"), "db")
        .await
        .expect("reads")
        .expect("exists");
    let dry = c
        .kube
        .apply(&secret("new-hunter3"), DRY_RUN)
        .await
        .expect("dry run");
    let d = diff(&dry, Some(&live));
    assert_eq!(d.action, Action::Update);
    let text = render("Secret default/db", &d);
    assert!(text.contains("data.password: changed"), "{text}");
    let serialized = serde_json::to_string(&d).expect("serializes");
    for value in [
        "old-hunter2",
        "new-hunter3",
        "b2xkLWh1bnRlcjI=",
        "bmV3LWh1bnRlcjM=",
    ] {
        assert!(!text.contains(value), "{value} in {text}");
        assert!(!serialized.contains(value), "{value} in {serialized}");
    }
    assert!(
        d.changes.iter().all(|c| c.path != "data.user"),
        "{:#?}",
        d.changes
    );
}

#[tokio::test]
async fn concurrency_is_bounded_by_the_settings() {
    let hang = Duration::from_millis(300);
    let mut elapsed = Vec::new();
    for limit in [1, 4] {
        let c = cluster_with(|s| s.max_concurrency = limit).await;
        let mut kinds = Vec::new();
        for (api, kind) in [
            ("v1", "ConfigMap"),
            ("v1", "Secret"),
            ("apps/v1", "Deployment"),
            ("v1", "Service"),
        ] {
            kinds.push(
                c.kube
                    .resolve(api, kind)
                    .await
                    .expect("ok")
                    .expect("served"),
            );
        }
        c.server.faults().add(FaultRule::new(
            "list",
            "",
            FaultAction::Hang(hang),
            FaultTimes::Always,
        ));
        let started = Instant::now();
        c.kube.list_managed(&kinds).await.expect("lists");
        elapsed.push(started.elapsed());
    }
    assert!(elapsed[0] >= hang * 4, "one at a time: {:?}", elapsed[0]);
    assert!(elapsed[1] < hang * 4, "four at a time: {:?}", elapsed[1]);
}

#[tokio::test]
async fn readiness_follows_the_clusters_controllers() {
    let c = cluster_on(
        ServerConfig {
            failing_images: vec!["broken/*".into()],
            ..ServerConfig::default()
        },
        |_| {},
    )
    .await;
    let job = |name: &str, image: &str| {
        prepared(
            json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "run", "image": image}]}}}}),
        )
    };
    let mut broken = deployment("bad", "bad", 1);
    broken["spec"]["template"]["spec"]["containers"][0]["image"] = json!("broken/app:1");
    let lb = prepared(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb", "namespace": "default"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"}, "ports": [{"port": 80}]}}),
    );
    let cases = [
        (deployment("web", "web", 2), "ready"),
        (broken, "failed"),
        (job("ok", "busybox:1"), "ready"),
        (job("fails", "broken/job:1"), "failed"),
        (lb, "ready"),
        (widget_crd(), "ready"),
    ];
    for (body, want) in cases {
        c.kube.apply(&body, APPLY).await.expect("applies");
        let kind = body["kind"].as_str().expect("kind");
        let live = c
            .kube
            .get(
                body["apiVersion"].as_str().expect("apiVersion"),
                kind,
                body["metadata"]["namespace"].as_str(),
                body["metadata"]["name"].as_str().expect("name"),
            )
            .await
            .expect("reads")
            .expect("exists");
        let got = readiness(kind, &live);
        let state = match &got {
            Readiness::Ready => "ready",
            Readiness::Waiting(_) => "waiting",
            Readiness::Failed(_) => "failed",
        };
        assert_eq!(state, want, "{kind} {}: {got:?}", body["metadata"]["name"]);
    }
}

#[tokio::test]
async fn adding_an_hpa_hands_replicas_over_without_a_scale_down() {
    let c = cluster().await;
    c.kube
        .apply(&deployment("web", "web", 3), APPLY)
        .await
        .expect("applies");
    let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2, "maxReplicas": 10}});
    let git = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}
    });
    let ctx = PrepareContext::from_bodies([&hpa, &git]).with_source("default");
    let p = prepare(&git, &ctx);
    assert_eq!(p.warnings.len(), 1, "the manifest sets replicas: warned");
    let live = || async {
        c.kube
            .get("apps/v1", "Deployment", Some("default"), "web")
            .await
            .expect("reads")
            .expect("exists")
    };

    // Without the handover, leaving replicas out would reset them to the default.
    let naive = diff(
        &c.kube.apply(&p.body, DRY_RUN).await.expect("dry run"),
        Some(&live().await),
    );
    assert_eq!(naive.changes.len(), 1);
    assert_eq!(naive.changes[0].after, Some(json!(1)));

    let handover = replicas_handover(&p.body, &live().await, &ctx).expect("eksync owns replicas");
    c.kube
        .apply_as(&handover, APPLY, HANDOVER_MANAGER)
        .await
        .expect("handover applies");
    let d = diff(
        &c.kube.apply(&p.body, DRY_RUN).await.expect("dry run"),
        Some(&live().await),
    );
    assert_eq!(d.action, Action::NoChange, "{:#?}", d.changes);
    c.kube
        .apply(&p.body, APPLY)
        .await
        .expect("applies without replicas");
    let after = live().await;
    assert_eq!(after["spec"]["replicas"], json!(3));
    assert_eq!(
        replicas_handover(&p.body, &after, &ctx),
        None,
        "handed over once"
    );

    // The autoscaler scales; eksync neither shows nor fights it.
    let other = c.server.client().expect("plain client");
    let req = http::Request::patch(
        "/apis/apps/v1/namespaces/default/deployments/web/scale?fieldManager=horizontal-pod-autoscaler",
    )
    .header("content-type", "application/merge-patch+json")
    .body(br#"{"spec":{"replicas":7}}"#.to_vec())
    .expect("request");
    other.request_text(req).await.expect("scale patch");
    let d = diff(
        &c.kube.apply(&p.body, DRY_RUN).await.expect("dry run"),
        Some(&live().await),
    );
    assert_eq!(d.action, Action::NoChange, "{:#?}", d.changes);
}

#[tokio::test]
async fn read_modify_write_retries_a_conflict_from_a_fresh_read() {
    let c = cluster().await;
    c.kube
        .apply(&config_map("default", "c"), APPLY)
        .await
        .expect("applies");
    c.server.faults().add(FaultRule::new(
        "update",
        "/configmaps/c",
        FaultAction::Conflict,
        FaultTimes::Times(1),
    ));
    let log = c.server.requests();
    log.clear();
    let updated = c
        .kube
        .modify("v1", "ConfigMap", Some("default"), "c", |o| {
            o["metadata"]["annotations"] = json!({"eksync.io/note": "touched"});
        })
        .await
        .expect("modifies")
        .expect("exists");
    assert_eq!(
        updated["metadata"]["annotations"]["eksync.io/note"],
        json!("touched")
    );
    let steps: Vec<(String, u16)> = log
        .entries()
        .iter()
        .map(|e| (e.verb.clone(), e.status))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("get".to_string(), 200),
            ("update".to_string(), 409),
            ("get".to_string(), 200),
            ("update".to_string(), 200),
        ]
    );
    let missing = c
        .kube
        .modify("v1", "ConfigMap", Some("default"), "nope", |_| {})
        .await
        .expect("ok");
    assert_eq!(missing, None);
}

#[tokio::test]
async fn configuration_errors_name_the_kubeconfig_or_context() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.yaml");
    let err = KubeAdapter::connect(KubeSettings {
        kubeconfig: Some(missing.clone()),
        ..KubeSettings::default()
    })
    .await
    .expect_err("missing kubeconfig");
    assert!(matches!(err, KubeError::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("nope.yaml"), "{err}");

    let server = TestServer::start().await.expect("server");
    let path = server.write_kubeconfig(dir.path()).expect("kubeconfig");
    let err = KubeAdapter::connect(KubeSettings {
        kubeconfig: Some(path),
        context: Some("production".into()),
        ..KubeSettings::default()
    })
    .await
    .expect_err("unknown context");
    assert!(matches!(err, KubeError::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("production"), "{err}");
}

#[tokio::test]
async fn an_object_in_a_namespace_that_does_not_exist_yet_says_so() {
    let c = cluster().await;
    match c.kube.apply(&config_map("later", "c"), DRY_RUN).await {
        Err(KubeError::NamespaceNotFound { namespace, .. }) => assert_eq!(namespace, "later"),
        other => panic!("expected NamespaceNotFound, got {other:?}"),
    }
    assert_eq!(
        c.kube
            .get("v1", "Namespace", None, "later")
            .await
            .expect("reads"),
        None
    );
    let ns =
        prepared(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "later"}}));
    c.kube.apply(&ns, APPLY).await.expect("namespace");
    let dry = c
        .kube
        .apply(&config_map("later", "c"), DRY_RUN)
        .await
        .expect("dry run once the namespace exists");
    assert_eq!(diff(&dry, None).action, Action::Create);
}

#[tokio::test]
async fn an_existing_object_without_the_label_is_read_and_adopted() {
    let c = cluster().await;
    let foreign = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "x", "namespace": "default"}, "data": {"k": "v"}});
    c.kube
        .apply_as(&foreign, APPLY, "kubectl")
        .await
        .expect("someone else created it");
    let cms = c
        .kube
        .resolve("v1", "ConfigMap")
        .await
        .expect("ok")
        .expect("served");
    let live = index_live(c.kube.list_managed(&[cms]).await.expect("lists"));
    let body = config_map("default", "x");
    let listed = live.get(&object_key(&body).expect("key"));
    assert!(listed.is_none(), "not labelled yet");
    let dry = c.kube.apply(&body, DRY_RUN).await.expect("dry run");
    assert!(
        needs_live_read(&dry, listed),
        "the dry run found it on the server"
    );
    let read = c
        .kube
        .get("v1", "ConfigMap", Some("default"), "x")
        .await
        .expect("reads")
        .expect("exists");
    let d = diff(&dry, Some(&read));
    assert_eq!(d.action, Action::Update);
    let paths: Vec<&str> = d.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, vec!["metadata.labels"]);

    let new = c
        .kube
        .apply(&config_map("default", "new"), DRY_RUN)
        .await
        .expect("dry run");
    assert!(
        !needs_live_read(&new, None),
        "a dry-run create has no resourceVersion"
    );
}

#[tokio::test]
async fn list_managed_follows_pages() {
    let c = cluster_with(|s| s.list_page_size = 2).await;
    for i in 0..5 {
        c.kube
            .apply(&config_map("default", &format!("cm-{i}")), APPLY)
            .await
            .expect("applies");
    }
    let cms = c
        .kube
        .resolve("v1", "ConfigMap")
        .await
        .expect("ok")
        .expect("served");
    let log = c.server.requests();
    log.clear();
    let managed = c.kube.list_managed(&[cms]).await.expect("lists");
    let mut names: Vec<&str> = managed
        .iter()
        .map(|o| o["metadata"]["name"].as_str().expect("name"))
        .collect();
    names.sort();
    assert_eq!(names, vec!["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);
    assert_eq!(log.count("list", Some("configmaps")), 3);
    let entries = log.entries();
    assert!(entries[0].query.iter().all(|(k, _)| k != "continue"));
    assert!(entries[1..]
        .iter()
        .all(|e| e.query.iter().any(|(k, _)| k == "continue")));
}

#[tokio::test]
async fn waiting_for_an_object_follows_a_watch_not_a_poll() {
    let c = cluster_on(
        ServerConfig {
            rollout_delay: Duration::from_millis(300),
            ..ServerConfig::default()
        },
        |_| {},
    )
    .await;
    c.kube
        .apply(&prepared(deployment("web", "web", 2)), APPLY)
        .await
        .expect("applies");
    c.server.requests().clear();
    let started = Instant::now();
    let ready = c
        .kube
        .wait_for("apps/v1", "Deployment", Some("default"), "web", |obj| {
            obj.is_some_and(|o| eksync::core::kdiff::readiness("Deployment", o) == Readiness::Ready)
        })
        .await
        .expect("watches")
        .expect("exists");
    assert_eq!(
        eksync::core::kdiff::readiness("Deployment", &ready),
        Readiness::Ready
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    let log = c.server.requests();
    assert_eq!(
        log.count("get", Some("deployments")),
        0,
        "no polling GET: {:#?}",
        log.entries()
    );
    assert!(
        log.count("watch", Some("deployments")) >= 1,
        "{:#?}",
        log.entries()
    );
}
