//! Per-write latency of the test server over a cold apply of many mixed objects (namespaces,
//! Deployments, ConfigMaps, Secrets, Services, ServiceAccounts, Roles, RoleBindings), sent one
//! by one with server-side apply through a `kube::Client`. Prints a report; asserts nothing.
//!
//! Run with `cargo bench -p testkit --bench writes --profile dev` (or without `--profile dev`
//! for an optimized build). The object counts are the arguments (default `1000`), e.g.
//! `cargo bench -p testkit --bench writes -- 1000 5000`.

use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::{json, Value};
use testkit::TestServer;

/// One object to apply: group, version, kind, plural, namespace, name, body.
struct Obj {
    ar: ApiResource,
    namespace: Option<String>,
    name: String,
    body: Value,
}

fn ar(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: if group.is_empty() {
            version.into()
        } else {
            format!("{group}/{version}")
        },
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// `n` objects: `n / 50` namespaces (at least 1), 22% Deployments, the rest cycling through
/// ConfigMaps, Secrets, Services, ServiceAccounts, Roles and RoleBindings.
fn objects(n: usize) -> Vec<Obj> {
    let namespaces = (n / 50).max(1);
    let deployments = n * 22 / 100;
    let mut out = Vec::with_capacity(n);
    for i in 0..namespaces {
        let name = format!("bench-{i}");
        out.push(Obj {
            ar: ar("", "v1", "Namespace", "namespaces"),
            namespace: None,
            name: name.clone(),
            body: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        });
    }
    let mut i = 0usize;
    while out.len() < n {
        let ns = format!("bench-{}", i % namespaces);
        let name = format!("obj-{i}");
        let meta = json!({"name": name, "namespace": ns, "labels": {"app": name}});
        let (ar, body) = if i < deployments {
            (
                ar("apps", "v1", "Deployment", "deployments"),
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
                    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}},
                            "spec": {"containers": [{"name": "app", "image": format!("nginx:1.{}", i % 7),
                                "ports": [{"containerPort": 80}],
                                "env": [{"name": "INDEX", "value": i.to_string()}]}]}}}}),
            )
        } else {
            match i % 6 {
                0 => (
                    ar("", "v1", "ConfigMap", "configmaps"),
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                        "data": {"key": "value", "index": i.to_string()}}),
                ),
                1 => (
                    ar("", "v1", "Secret", "secrets"),
                    json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta,
                        "type": "Opaque", "stringData": {"password": format!("p{i}")}}),
                ),
                2 => (
                    ar("", "v1", "Service", "services"),
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": meta,
                        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}}),
                ),
                3 => (
                    ar("", "v1", "ServiceAccount", "serviceaccounts"),
                    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}),
                ),
                4 => (
                    ar("rbac.authorization.k8s.io", "v1", "Role", "roles"),
                    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
                        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}),
                ),
                _ => (
                    ar(
                        "rbac.authorization.k8s.io",
                        "v1",
                        "RoleBinding",
                        "rolebindings",
                    ),
                    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
                        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
                        "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}]}),
                ),
            }
        };
        out.push(Obj {
            ar,
            namespace: Some(ns),
            name,
            body,
        });
        i += 1;
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(n: usize) -> Result<(), String> {
    let server = TestServer::start().await.map_err(|e| e.to_string())?;
    let client = server.client().map_err(|e| e.to_string())?;
    let _ = client.apiserver_version().await;
    let objs = objects(n);
    let pp = PatchParams::apply("bench").force();
    let mut lat = Vec::with_capacity(objs.len());
    let start = Instant::now();
    for o in &objs {
        let api: Api<DynamicObject> = match &o.namespace {
            Some(ns) => Api::namespaced_with(client.clone(), ns, &o.ar),
            None => Api::all_with(client.clone(), &o.ar),
        };
        let t = Instant::now();
        api.patch(&o.name, &pp, &Patch::Apply(&o.body))
            .await
            .map_err(|e| format!("apply {}/{}: {e}", o.ar.plural, o.name))?;
        lat.push(t.elapsed());
    }
    let total = start.elapsed();
    let tenth = (lat.len() / 10).max(1);
    let mean = |s: &[Duration]| s.iter().map(|d| ms(*d)).sum::<f64>() / s.len() as f64;
    let first = mean(&lat[..tenth]);
    let last = mean(&lat[lat.len() - tenth..]);
    let mut sorted = lat.clone();
    sorted.sort();
    let pct = |p: usize| ms(sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]);
    let stored = server.with_state(|st| st.store.rv());
    println!(
        "{n} objects applied in {:.2} s: per write mean {:.2} ms, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; first 10% mean {:.2} ms, last 10% mean {:.2} ms (final resourceVersion {stored})",
        total.as_secs_f64(),
        mean(&lat),
        pct(50),
        pct(99),
        ms(sorted[sorted.len() - 1]),
        first,
        last,
    );
    Ok(())
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![1000]
    } else {
        counts
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot build a tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    rt.block_on(async {
        for n in counts {
            if let Err(e) = run(n).await {
                eprintln!("bench failed: {e}");
                std::process::exit(1);
            }
        }
    });
}
