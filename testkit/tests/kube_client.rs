//! The real `kube` client against the test server: server-side apply, discovery, a watcher
//! stream, deletion with propagation, fault injection, the request log, the kubeconfig, the
//! Healthy-mode controllers and parallel servers.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolume, PersistentVolumeClaim, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::Discovery;
use kube::runtime::watcher;
use serde_json::json;
use testkit::{ControllerMode, FaultAction, FaultRule, FaultTimes, ServerConfig, TestServer};

fn deployment(name: &str, image: &str) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}}}
    })
}

fn condition(d: &Deployment, t: &str) -> Option<(String, String)> {
    d.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == t)
        .map(|c| (c.status.clone(), c.reason.clone().unwrap_or_default()))
}

#[tokio::test]
async fn server_side_apply_with_kube_client() {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let api: Api<Deployment> = Api::namespaced(client, "default");
    let pp = PatchParams::apply("eksync");
    let d = api
        .patch("web", &pp, &Patch::Apply(deployment("web", "nginx:1.27")))
        .await
        .expect("apply");
    let mf = d.metadata.managed_fields.clone().unwrap_or_default();
    assert_eq!(mf.len(), 1);
    assert_eq!(mf[0].manager.as_deref(), Some("eksync"));
    assert_eq!(mf[0].operation.as_deref(), Some("Apply"));
    let spec = d.spec.as_ref().expect("spec");
    assert_eq!(
        spec.revision_history_limit,
        Some(10),
        "server defaults are filled in"
    );

    let live = api.get("web").await.expect("get");
    assert_eq!(
        condition(&live, "Available"),
        Some(("True".into(), "MinimumReplicasAvailable".into()))
    );
    assert_eq!(
        live.status.as_ref().and_then(|s| s.available_replicas),
        Some(2)
    );

    server.requests().clear();
    let again = api
        .patch("web", &pp, &Patch::Apply(deployment("web", "nginx:1.27")))
        .await
        .expect("re-apply");
    assert_eq!(
        again.metadata.resource_version, live.metadata.resource_version,
        "no-op apply keeps the resourceVersion"
    );
    assert_eq!(
        server.requests().writes(),
        1,
        "the apply request is a write request"
    );
    assert_eq!(
        server.requests().changes(),
        0,
        "but a no-op apply changes nothing"
    );
    assert_eq!(server.requests().count("apply", Some("deployments")), 1);

    let mut other = deployment("web", "nginx:1.27");
    other["spec"]["replicas"] = json!(5);
    let err = api
        .patch(
            "web",
            &PatchParams::apply("someone-else"),
            &Patch::Apply(other.clone()),
        )
        .await
        .expect_err("conflict");
    match err {
        kube::Error::Api(s) => {
            assert_eq!(s.code, 409);
            assert!(
                s.message.contains("conflict with \"eksync\""),
                "{}",
                s.message
            );
        }
        other => panic!("unexpected error {other:?}"),
    }
    let forced = api
        .patch(
            "web",
            &PatchParams::apply("someone-else").force(),
            &Patch::Apply(other),
        )
        .await
        .expect("force");
    assert_eq!(forced.spec.and_then(|s| s.replicas), Some(5));

    server.requests().clear();
    let dry = api
        .patch(
            "web",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"spec": {"replicas": 7}})),
        )
        .await
        .expect("dry-run merge patch");
    assert_eq!(
        dry.spec.and_then(|s| s.replicas),
        Some(7),
        "the answer shows the change"
    );
    let live = api.get("web").await.expect("get");
    assert_eq!(
        live.spec.and_then(|s| s.replicas),
        Some(5),
        "nothing was stored"
    );
    let log = server.requests().entries();
    assert!(log[0].dry_run && log[0].verb == "patch" && !log[0].changed);
    assert_eq!(server.requests().writes(), 0, "dry runs are not writes");
}

#[tokio::test]
async fn discovery_run_sees_builtin_and_crd_groups() {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    assert!(discovery.has_group("apps"));
    assert!(!discovery.has_group("golden.example.com"));
    let apps = discovery.get("apps").expect("apps");
    assert!(apps
        .recommended_resources()
        .iter()
        .any(|(r, _)| r.plural == "deployments"));

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.golden.example.com"},
        "spec": {"group": "golden.example.com", "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object",
                    "properties": {"size": {"type": "integer"}}}}}}}]}});
    crds.patch(
        "widgets.golden.example.com",
        &PatchParams::apply("eksync"),
        &Patch::Apply(crd),
    )
    .await
    .expect("crd");
    let established = crds
        .get("widgets.golden.example.com")
        .await
        .expect("get crd");
    let conds = established
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default();
    assert!(conds
        .iter()
        .any(|c| c.type_ == "Established" && c.status == "True"));
    let discovery = Discovery::new(client)
        .run()
        .await
        .expect("discovery after crd");
    let g = discovery.get("golden.example.com").expect("new group");
    assert!(g
        .recommended_resources()
        .iter()
        .any(|(r, _)| r.plural == "widgets" && r.kind == "Widget"));
}

#[tokio::test]
async fn watcher_stream_sees_initial_objects_and_changes() {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    let cm = |name: &str| -> ConfigMap {
        serde_json::from_value(
            json!({"metadata": {"name": name, "labels": {"set": "w"}}, "data": {"k": name}}),
        )
        .expect("cm")
    };
    api.create(&PostParams::default(), &cm("first"))
        .await
        .expect("create first");
    let cfg = watcher::Config::default().labels("set=w");
    let mut stream = watcher(api.clone(), cfg).boxed();
    let mut initial = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("timely")
            .expect("ok")
        {
            Some(watcher::Event::InitApply(o)) => initial.push(o.metadata.name.unwrap_or_default()),
            Some(watcher::Event::InitDone) => break,
            Some(_) => {}
            None => panic!("stream ended"),
        }
    }
    assert_eq!(initial, vec!["first".to_string()]);
    api.create(&PostParams::default(), &cm("second"))
        .await
        .expect("create second");
    api.delete("first", &DeleteParams::default())
        .await
        .expect("delete first");
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("timely")
            .expect("ok")
        {
            Some(watcher::Event::Apply(o)) => {
                seen.push(format!("apply {}", o.metadata.name.unwrap_or_default()))
            }
            Some(watcher::Event::Delete(o)) => {
                seen.push(format!("delete {}", o.metadata.name.unwrap_or_default()))
            }
            Some(_) => {}
            None => panic!("stream ended"),
        }
    }
    assert_eq!(
        seen,
        vec!["apply second".to_string(), "delete first".to_string()]
    );
}

#[tokio::test]
async fn delete_with_propagation() {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    deploys
        .patch(
            "fg",
            &PatchParams::apply("eksync"),
            &Patch::Apply(deployment("fg", "nginx:1.27")),
        )
        .await
        .expect("apply");
    let r = deploys
        .delete("fg", &DeleteParams::foreground())
        .await
        .expect("foreground delete");
    let held = r.left().expect("foreground deletion answers the object");
    assert!(held.metadata.deletion_timestamp.is_some());
    assert_eq!(
        held.metadata.finalizers,
        Some(vec!["foregroundDeletion".to_string()])
    );
    assert!(
        deploys.get_opt("fg").await.expect("get").is_none(),
        "no dependents: gone once the GC ran"
    );

    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let owner = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "owner"}})).expect("cm"),
        )
        .await
        .expect("owner");
    let uid = owner.metadata.uid.clone().expect("uid");
    let dependent = json!({"metadata": {"name": "dependent", "ownerReferences": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}});
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(dependent).expect("cm"),
    )
    .await
    .expect("dependent");
    let r = cms
        .delete("owner", &DeleteParams::background())
        .await
        .expect("background delete");
    let status = r.right().expect("background deletion answers a Status");
    assert_eq!(
        status.status,
        Some(kube::core::response::StatusSummary::Success)
    );
    assert!(
        cms.get_opt("dependent").await.expect("get").is_none(),
        "the garbage collector removed the dependent"
    );

    let kept = cms
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "kept"}})).expect("cm"),
        )
        .await
        .expect("kept");
    cms.delete("kept", &DeleteParams::default().dry_run())
        .await
        .expect("dry-run delete");
    assert_eq!(
        cms.get("kept").await.expect("still there").metadata.uid,
        kept.metadata.uid
    );
}

#[tokio::test]
async fn faults_and_request_log() {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    server.faults().add(FaultRule::new(
        "list",
        "/configmaps",
        FaultAction::TooManyRequests {
            retry_after_secs: 1,
        },
        FaultTimes::Times(1),
    ));
    server.faults().add(FaultRule::new(
        "create",
        "",
        FaultAction::InternalError,
        FaultTimes::Times(1),
    ));
    cms.list(&ListParams::default())
        .await
        .expect("kube retries the 429 after Retry-After");
    let lists: Vec<u16> = server
        .requests()
        .entries()
        .iter()
        .filter(|e| e.verb == "list")
        .map(|e| e.status)
        .collect();
    assert_eq!(
        lists,
        vec![429, 200],
        "one throttled answer, then the retry"
    );
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "x"}})).expect("cm");
    match cms.create(&PostParams::default(), &cm).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 500),
        other => panic!("expected 500, got {other:?}"),
    }
    cms.create(&PostParams::default(), &cm)
        .await
        .expect("second create works");
    let log = server.requests();
    assert_eq!(log.count("list", Some("configmaps")), 2);
    assert_eq!(log.changes(), 1);
    assert_eq!(log.writes(), 1, "the faulted create is not a write");
    assert_eq!(log.entries().iter().filter(|e| e.faulted).count(), 2);

    server.faults().add(FaultRule::new(
        "get",
        "/configmaps/x",
        FaultAction::Hang(Duration::from_millis(300)),
        FaultTimes::Always,
    ));
    let t = std::time::Instant::now();
    cms.get("x").await.expect("slow get");
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(log.gets_of("configmaps", Some("default"), "x"), 1);

    server.faults().clear();
    server.faults().add(FaultRule::new(
        "get",
        "/configmaps/x",
        FaultAction::Drop,
        FaultTimes::Times(1),
    ));
    assert!(
        cms.get("x").await.is_err(),
        "a dropped connection is an error"
    );
    assert!(cms.get("x").await.is_ok());
}

#[tokio::test]
async fn healthy_controllers_and_failing_images() {
    let config = ServerConfig {
        failing_images: vec!["broken:*".into()],
        ..ServerConfig::default()
    };
    assert_eq!(config.controller_mode, ControllerMode::Healthy);
    let server = TestServer::start_with(config).await.expect("server");
    let client = server.client().expect("client");
    let pp = PatchParams::apply("eksync");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let d = deploys
        .patch("bad", &pp, &Patch::Apply(deployment("bad", "broken:1")))
        .await
        .expect("apply");
    assert!(
        d.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_none(),
        "the write answers before the controllers"
    );
    let live = deploys.get("bad").await.expect("get");
    assert_eq!(
        condition(&live, "Available"),
        Some(("False".into(), "MinimumReplicasUnavailable".into()))
    );
    assert_eq!(
        condition(&live, "Progressing"),
        Some(("False".into(), "ProgressDeadlineExceeded".into()))
    );

    let svcs: Api<Service> = Api::namespaced(client.clone(), "default");
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "x"}, "ports": [{"port": 80}]}});
    svcs.patch("lb", &pp, &Patch::Apply(svc))
        .await
        .expect("svc");
    let lb = svcs.get("lb").await.expect("get svc");
    let host = lb
        .status
        .and_then(|s| s.load_balancer)
        .and_then(|l| l.ingress)
        .and_then(|i| i.first().and_then(|x| x.hostname.clone()));
    assert!(host.is_some_and(|h| h.ends_with(".elb.us-east-1.amazonaws.com")));

    let pvs: Api<PersistentVolume> = Api::all(client.clone());
    pvs.patch("pv1", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv1"},
        "spec": {"storageClassName": "manual", "capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/tmp/pv1"}}})))
        .await
        .expect("pv");
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), "default");
    pvcs.patch("claim", &pp, &Patch::Apply(json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "claim"},
        "spec": {"storageClassName": "manual", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}})))
        .await
        .expect("pvc");
    let claim = pvcs.get("claim").await.expect("get pvc");
    assert_eq!(claim.status.and_then(|s| s.phase).as_deref(), Some("Bound"));
    assert_eq!(
        claim.spec.and_then(|s| s.volume_name).as_deref(),
        Some("pv1")
    );

    let jobs: Api<Job> = Api::namespaced(client, "default");
    let job = |name: &str, image: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": image}]}}}})
    };
    jobs.patch("ok", &pp, &Patch::Apply(job("ok", "busybox:1.37")))
        .await
        .expect("job");
    jobs.patch("fails", &pp, &Patch::Apply(job("fails", "broken:2")))
        .await
        .expect("job");
    let done = |j: Job, t: &str| {
        j.status
            .and_then(|s| s.conditions)
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == t && c.status == "True")
    };
    assert!(done(jobs.get("ok").await.expect("get"), "Complete"));
    assert!(done(jobs.get("fails").await.expect("get"), "Failed"));
}

#[tokio::test]
async fn kubeconfig_file_points_at_the_server() {
    let server = TestServer::start().await.expect("server");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = server.write_kubeconfig(dir.path()).expect("write");
    let kc = kube::config::Kubeconfig::read_from(&path).expect("parse kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .expect("config");
    assert_eq!(
        cfg.cluster_url.to_string().trim_end_matches('/'),
        server.url()
    );
    let client = kube::Client::try_from(cfg).expect("client");
    let v = client.apiserver_version().await.expect("version");
    assert_eq!(v.git_version, "v1.36.2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_start_in_parallel_and_are_isolated() {
    let servers = futures::future::join_all((0..8).map(|_| TestServer::start())).await;
    let servers: Vec<TestServer> = servers.into_iter().map(|s| s.expect("server")).collect();
    for (i, s) in servers.iter().enumerate() {
        let cms: Api<ConfigMap> = Api::namespaced(s.client().expect("client"), "default");
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("only-{i}")}})).expect("cm");
        cms.create(&PostParams::default(), &cm)
            .await
            .expect("create");
    }
    for (i, s) in servers.iter().enumerate() {
        let cms: Api<ConfigMap> = Api::namespaced(s.client().expect("client"), "default");
        let names: Vec<String> = cms
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .into_iter()
            .filter_map(|c| c.metadata.name)
            .collect();
        assert!(names.contains(&format!("only-{i}")));
        assert_eq!(
            names.iter().filter(|n| n.starts_with("only-")).count(),
            1,
            "servers share nothing"
        );
    }
}

#[tokio::test]
async fn settle_delay_defers_the_controllers() {
    let config = ServerConfig {
        settle_delay: Duration::from_millis(1000),
        ..ServerConfig::default()
    };
    let server = TestServer::start_with(config).await.expect("server");
    let deploys: Api<Deployment> = Api::namespaced(server.client().expect("client"), "default");
    deploys
        .patch(
            "slow",
            &PatchParams::apply("eksync"),
            &Patch::Apply(deployment("slow", "nginx:1.27")),
        )
        .await
        .expect("apply");
    let early = deploys.get("slow").await.expect("get");
    assert_eq!(
        condition(&early, "Available"),
        None,
        "controllers have not acted yet"
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let late = deploys.get("slow").await.expect("get");
    assert_eq!(
        condition(&late, "Available"),
        Some(("True".into(), "MinimumReplicasAvailable".into()))
    );
}

#[tokio::test]
async fn namespace_termination_through_the_client() {
    use k8s_openapi::api::core::v1::Namespace;
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let nss: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace =
        serde_json::from_value(json!({"metadata": {"name": "doomed"}})).expect("ns");
    nss.create(&PostParams::default(), &ns)
        .await
        .expect("create ns");
    let cms: Api<ConfigMap> = Api::namespaced(client, "doomed");
    let held: ConfigMap = serde_json::from_value(
        json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}),
    )
    .expect("cm");
    cms.create(&PostParams::default(), &held)
        .await
        .expect("held");
    let terminating = nss
        .delete("doomed", &DeleteParams::default())
        .await
        .expect("delete ns")
        .left()
        .expect("namespace object");
    assert_eq!(
        terminating.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    let late: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "late"}})).expect("cm");
    match cms.create(&PostParams::default(), &late).await {
        Err(kube::Error::Api(s)) => assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden")),
        other => panic!("expected 403, got {other:?}"),
    }
    assert!(
        nss.get_opt("doomed").await.expect("get").is_some(),
        "held by the finalizer"
    );
    cms.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("release");
    assert!(
        nss.get_opt("doomed").await.expect("get").is_none(),
        "namespace gone once empty"
    );
}

#[tokio::test]
async fn custom_resources_defaults_validation_and_status_subresource() {
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gizmos.golden.example.com"},
        "spec": {"group": "golden.example.com", "scope": "Namespaced",
            "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo", "listKind": "GizmoList"},
            "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["size"], "properties": {
                        "size": {"type": "integer", "minimum": 1}, "color": {"type": "string", "default": "blue"}}},
                    "status": {"type": "object", "properties": {"ready": {"type": "boolean"}}}}}}}]}});
    crds.patch(
        "gizmos.golden.example.com",
        &PatchParams::apply("eksync"),
        &Patch::Apply(crd),
    )
    .await
    .expect("crd");
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("golden.example.com", "v1", "Gizmo"),
        "gizmos",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client, "default", &ar);
    let obj = json!({"apiVersion": "golden.example.com/v1", "kind": "Gizmo", "metadata": {"name": "g1"},
        "spec": {"size": 2}, "status": {"ready": true}});
    let created = api
        .patch("g1", &PatchParams::apply("eksync"), &Patch::Apply(obj))
        .await
        .expect("apply cr");
    assert_eq!(
        created.data["spec"]["color"],
        json!("blue"),
        "schema default"
    );
    assert!(
        created.data.get("status").is_none(),
        "status is reset on the main resource"
    );
    let mf = serde_json::to_value(created.metadata.managed_fields.unwrap_or_default()).expect("mf");
    assert!(
        mf[0]["fieldsV1"].get("f:status").is_none(),
        "and not owned: {mf}"
    );
    let status = json!({"apiVersion": "golden.example.com/v1", "kind": "Gizmo", "metadata": {"name": "g1"}, "status": {"ready": true}});
    let with_status = api
        .patch_status(
            "g1",
            &PatchParams::apply("status-writer"),
            &Patch::Apply(status),
        )
        .await
        .expect("status");
    assert_eq!(with_status.data["status"]["ready"], json!(true));
    let bad = json!({"apiVersion": "golden.example.com/v1", "kind": "Gizmo", "metadata": {"name": "g2"}, "spec": {"size": 0}});
    match api
        .patch("g2", &PatchParams::apply("eksync"), &Patch::Apply(bad))
        .await
    {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 422);
            assert!(
                s.message
                    .contains("spec.size in body should be greater than or equal to 1"),
                "{}",
                s.message
            );
        }
        other => panic!("expected 422, got {other:?}"),
    }
}

#[tokio::test]
async fn rollout_delay_keeps_deployments_progressing_for_a_while() {
    let config = ServerConfig {
        rollout_delay: Duration::from_millis(1000),
        ..ServerConfig::default()
    };
    let server = TestServer::start_with(config).await.expect("server");
    let deploys: Api<Deployment> = Api::namespaced(server.client().expect("client"), "default");
    deploys
        .patch(
            "web",
            &PatchParams::apply("eksync"),
            &Patch::Apply(deployment("web", "nginx:1.27")),
        )
        .await
        .expect("apply");
    let early = deploys.get("web").await.expect("get");
    assert_eq!(
        condition(&early, "Available"),
        Some(("False".into(), "MinimumReplicasUnavailable".into()))
    );
    assert_eq!(
        condition(&early, "Progressing"),
        Some(("True".into(), "ReplicaSetUpdated".into()))
    );
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let late = deploys.get("web").await.expect("get");
    assert_eq!(
        condition(&late, "Available"),
        Some(("True".into(), "MinimumReplicasAvailable".into()))
    );
    assert_eq!(
        condition(&late, "Progressing"),
        Some(("True".into(), "NewReplicaSetAvailable".into()))
    );
}

#[tokio::test]
async fn deleting_a_crd_removes_its_group_and_objects() {
    use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "things.golden.example.com"},
        "spec": {"group": "golden.example.com", "scope": "Namespaced",
            "names": {"plural": "things", "singular": "thing", "kind": "Thing"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    crds.patch(
        "things.golden.example.com",
        &PatchParams::apply("eksync"),
        &Patch::Apply(crd),
    )
    .await
    .expect("crd");
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("golden.example.com", "v1", "Thing"),
        "things",
    );
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let obj = json!({"apiVersion": "golden.example.com/v1", "kind": "Thing", "metadata": {"name": "t1"}, "spec": {"any": 1}});
    api.patch("t1", &PatchParams::apply("eksync"), &Patch::Apply(obj))
        .await
        .expect("cr");
    assert_eq!(
        api.list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len(),
        1
    );
    crds.delete("things.golden.example.com", &DeleteParams::default())
        .await
        .expect("delete crd");
    let discovery = Discovery::new(client).run().await.expect("discovery");
    assert!(!discovery.has_group("golden.example.com"));
    let stored = server.with_state(|st| st.store.list("golden.example.com", "things", None).len());
    assert_eq!(stored, 0, "custom objects went with their CRD");
}

#[tokio::test]
async fn unknown_builtin_fields_are_rejected_by_apply_and_dropped_by_create() {
    let server = TestServer::start().await.expect("server");
    let client = server.client().expect("client");
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "default");
    let mut typo = deployment("typo", "nginx:1.27");
    typo["spec"]["template"]["spec"]["containers"][0]["imagePolicy"] = json!("Always");
    match deploys
        .patch("typo", &PatchParams::apply("eksync"), &Patch::Apply(typo))
        .await
    {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 500);
            assert!(
                s.message.ends_with(".spec.template.spec.containers[name=\"web\"].imagePolicy: field not declared in schema"),
                "{}",
                s.message
            );
        }
        other => panic!("expected 500, got {other:?}"),
    }
    // A POST with the same typo (raw HTTP, to see the Warning header): 201, field dropped.
    let mut body = deployment("typo", "nginx:1.27");
    body["spec"]["template"]["spec"]["containers"][0]["imagePolicy"] = json!("Always");
    let body = body.to_string();
    let req = format!(
        "POST /apis/apps/v1/namespaces/default/deployments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut conn = tokio::net::TcpStream::connect(server.addr())
        .await
        .expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut conn, req.as_bytes())
        .await
        .expect("send");
    let mut resp = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut conn, &mut resp)
        .await
        .expect("read");
    assert!(resp.starts_with("HTTP/1.1 201"), "{resp}");
    assert!(
        resp.to_lowercase().contains(
            "warning: 299 - \"unknown field \\\"spec.template.spec.containers[0].imagepolicy\\\"\""
        ),
        "{resp}"
    );
    let stored = deploys.get("typo").await.expect("stored");
    let stored = serde_json::to_value(stored).expect("json");
    assert!(stored["spec"]["template"]["spec"]["containers"][0]
        .get("imagePolicy")
        .is_none());
    drop(client);
}
