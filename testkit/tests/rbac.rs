//! RBAC for impersonated users through the real `kube` client: 403 messages, bindings to users,
//! groups and service accounts, resourceNames and subresources, the apply-that-creates check,
//! the escalation check (`bind`, `escalate`), access reviews, non-resource URLs, the
//! impersonating kubeconfig and the request log's user field.

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{SelfSubjectAccessReview, SelfSubjectRulesReview};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{json, Value};
use testkit::TestServer;

fn obj<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("valid object")
}

async fn namespace(client: &kube::Client, name: &str) {
    Api::<Namespace>::all(client.clone())
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": name}})),
        )
        .await
        .expect("namespace");
}

async fn role(client: &kube::Client, ns: &str, name: &str, rules: Value) {
    Api::<Role>::namespaced(client.clone(), ns)
        .patch(
            name,
            &PatchParams::apply("test"),
            &Patch::Apply(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": name}, "rules": rules}),
            ),
        )
        .await
        .expect("role");
}

async fn bind(client: &kube::Client, ns: &str, name: &str, role_kind: &str, subject: Value) {
    Api::<RoleBinding>::namespaced(client.clone(), ns)
        .patch(
            name,
            &PatchParams::apply("test"),
            &Patch::Apply(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
                "subjects": [subject]})),
        )
        .await
        .expect("rolebinding");
}

fn user(name: &str) -> Value {
    json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name})
}

/// The Status of a failed call, as (code, message).
fn status<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> (u16, String) {
    match r {
        Err(kube::Error::Api(s)) => (s.code, s.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn configmap(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}})
}

#[tokio::test]
async fn impersonated_requests_are_authorized_by_role_bindings() {
    let server = TestServer::start().await.expect("server");
    let admin = server.client().expect("client");
    namespace(&admin, "team").await;
    let alice = server.client_as("alice", &[]).expect("client");
    let cms = Api::<ConfigMap>::namespaced(alice.clone(), "team");

    assert_eq!(
        status(cms.get("settings").await),
        (403, "configmaps \"settings\" is forbidden: User \"alice\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"team\"".into())
    );
    assert_eq!(
        status(cms.list(&ListParams::default()).await),
        (403, "configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"team\"".into())
    );

    role(
        &admin,
        "team",
        "cm-reader",
        json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]),
    )
    .await;
    bind(&admin, "team", "cm-reader", "Role", user("alice")).await;
    assert_eq!(
        cms.list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len(),
        1,
        "kube-root-ca.crt"
    );
    assert_eq!(
        status(cms.get("settings").await).0,
        404,
        "allowed now, and missing"
    );
    Api::<ConfigMap>::namespaced(admin.clone(), "team")
        .create(&PostParams::default(), &obj(configmap("settings")))
        .await
        .expect("admin create");
    assert!(cms.get("settings").await.is_ok());
    assert_eq!(
        status(cms.delete("settings", &DeleteParams::default()).await),
        (403, "configmaps \"settings\" is forbidden: User \"alice\" cannot delete resource \"configmaps\" in API group \"\" in the namespace \"team\"".into())
    );
    // The binding is namespaced: another namespace stays closed.
    namespace(&admin, "other").await;
    assert_eq!(
        status(
            Api::<ConfigMap>::namespaced(alice.clone(), "other")
                .list(&ListParams::default())
                .await
        )
        .0,
        403
    );
    // A watch is authorized as `watch`, which the role does not grant.
    let watched = cms.watch(&kube::api::WatchParams::default(), "0").await;
    assert_eq!(status(watched.map(|_| ())).0, 403);

    let log = server.requests();
    let alices = log.by_user("alice");
    assert!(alices.len() >= 6);
    assert!(alices.iter().any(|r| r.verb == "delete" && r.status == 403));
    assert!(log
        .entries()
        .iter()
        .filter(|r| r.verb == "create" && r.resource == "namespaces")
        .all(|r| r.user.is_none()));
}

#[tokio::test]
async fn resource_names_subresources_and_apply_that_creates() {
    let server = TestServer::start().await.expect("server");
    let admin = server.client().expect("client");
    namespace(&admin, "ns").await;
    let admin_cms = Api::<ConfigMap>::namespaced(admin.clone(), "ns");
    for name in ["a", "b"] {
        admin_cms
            .create(&PostParams::default(), &obj(configmap(name)))
            .await
            .expect("create");
    }
    role(
        &admin,
        "ns",
        "narrow",
        json!([
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "patch"], "resourceNames": ["a", "new"]},
            {"apiGroups": ["apps"], "resources": ["deployments/status"], "verbs": ["*"]}
        ]),
    )
    .await;
    bind(&admin, "ns", "narrow", "Role", user("carol")).await;
    let carol = server.client_as("carol", &[]).expect("client");
    let cms = Api::<ConfigMap>::namespaced(carol.clone(), "ns");
    assert!(cms.get("a").await.is_ok());
    assert_eq!(status(cms.get("b").await).0, 403);
    assert_eq!(status(cms.list(&ListParams::default()).await).0, 403);
    // An apply of an existing object needs patch only.
    let applied = cms
        .patch(
            "a",
            &PatchParams::apply("eksync"),
            &Patch::Apply(configmap("a")),
        )
        .await;
    assert!(applied.is_ok(), "{applied:?}");
    // An apply that creates also needs create, and the 403 names it.
    assert_eq!(
        status(cms.patch("new", &PatchParams::apply("eksync"), &Patch::Apply(configmap("new"))).await),
        (403, "configmaps \"new\" is forbidden: User \"carol\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"ns\"".into())
    );
    // `deployments/status` grants the subresource only.
    let deployments = Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(carol, "ns");
    assert_eq!(
        status(deployments.get("web").await),
        (403, "deployments.apps \"web\" is forbidden: User \"carol\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"ns\"".into())
    );
    assert_eq!(
        status(deployments.get_status("web").await).0,
        404,
        "allowed, and missing"
    );
}

#[tokio::test]
async fn kubeconfig_as_impersonates_user_and_groups() {
    let server = TestServer::start().await.expect("server");
    let admin = server.client().expect("client");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = server
        .write_kubeconfig_as(dir.path(), "bob", &["devs"])
        .expect("kubeconfig");
    let kubeconfig = kube::config::Kubeconfig::read_from(&path).expect("read");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .expect("config");
    let bob = kube::Client::try_from(config).expect("client");

    let review = Api::<SelfSubjectReview>::all(bob.clone())
        .create(&PostParams::default(), &obj(json!({})))
        .await
        .expect("selfsubjectreview");
    let info = review.status.and_then(|s| s.user_info).expect("userInfo");
    assert_eq!(info.username.as_deref(), Some("bob"));
    assert_eq!(
        info.groups,
        Some(vec!["devs".to_string(), "system:authenticated".to_string()])
    );

    let namespaces = Api::<Namespace>::all(bob.clone());
    assert_eq!(
        status(namespaces.list(&ListParams::default()).await),
        (403, "namespaces is forbidden: User \"bob\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope".into())
    );
    Api::<ClusterRole>::all(admin.clone())
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "ns-lister"},
                "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["list"]}]})),
        )
        .await
        .expect("clusterrole");
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "ns-lister"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "ns-lister"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}]})),
        )
        .await
        .expect("clusterrolebinding");
    assert!(namespaces.list(&ListParams::default()).await.is_ok());
    let ssar = Api::<SelfSubjectAccessReview>::all(bob.clone())
        .create(
            &PostParams::default(),
            &obj(
                json!({"spec": {"resourceAttributes": {"verb": "list", "resource": "namespaces"}}}),
            ),
        )
        .await
        .expect("ssar");
    let st = ssar.status.expect("status");
    assert!(st.allowed);
    assert_eq!(
        st.reason.as_deref(),
        Some("RBAC: allowed by ClusterRoleBinding \"ns-lister\" of ClusterRole \"ns-lister\" to Group \"devs\"")
    );
    assert!(server.requests().by_user("bob").len() >= 4);
    assert!(std::fs::read_to_string(&path)
        .expect("read")
        .contains("as: bob"));
}

#[tokio::test]
async fn escalation_needs_held_permissions_bind_or_escalate() {
    let server = TestServer::start().await.expect("server");
    let admin = server.client().expect("client");
    namespace(&admin, "ns").await;
    role(
        &admin,
        "ns",
        "delegate",
        json!([
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings", "roles"], "verbs": ["create", "update", "patch", "get"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}
        ]),
    )
    .await;
    bind(&admin, "ns", "delegate", "Role", user("dave")).await;
    let dave = server.client_as("dave", &[]).expect("client");
    let bindings = Api::<RoleBinding>::namespaced(dave.clone(), "ns");
    let binding = |name: &str, kind: &str, role: &str| -> RoleBinding {
        obj(json!({"metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": [user("erin")]}))
    };

    assert_eq!(
        status(bindings.create(&PostParams::default(), &binding("admin", "ClusterRole", "cluster-admin")).await),
        (403, "rolebindings.rbac.authorization.k8s.io \"admin\" is forbidden: user \"dave\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"*\"], Resources:[\"*\"], Verbs:[\"*\"]}\n{NonResourceURLs:[\"*\"], Verbs:[\"*\"]}".into())
    );
    // A role whose permissions dave holds can be bound.
    role(
        &admin,
        "ns",
        "cm-get",
        json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]),
    )
    .await;
    assert!(bindings
        .create(&PostParams::default(), &binding("cm-get", "Role", "cm-get"))
        .await
        .is_ok());

    let roles = Api::<Role>::namespaced(dave.clone(), "ns");
    let secrets_role: Role = obj(json!({"metadata": {"name": "secrets"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}]}));
    assert_eq!(
        status(roles.create(&PostParams::default(), &secrets_role).await),
        (403, "roles.rbac.authorization.k8s.io \"secrets\" is forbidden: user \"dave\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\"]}".into())
    );

    // `bind` on the one ClusterRole (resourceNames) and `escalate` on roles lift the checks.
    role(
        &admin,
        "ns",
        "delegate",
        json!([
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings", "roles"], "verbs": ["create", "update", "patch", "get"]},
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"], "resourceNames": ["cluster-admin"]},
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate"]}
        ]),
    )
    .await;
    assert!(bindings
        .create(
            &PostParams::default(),
            &binding("admin", "ClusterRole", "cluster-admin")
        )
        .await
        .is_ok());
    Api::<ClusterRole>::all(admin.clone())
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "secrets-all"},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]}]})),
        )
        .await
        .expect("clusterrole");
    assert_eq!(
        status(
            bindings
                .create(
                    &PostParams::default(),
                    &binding("other", "ClusterRole", "secrets-all")
                )
                .await
        )
        .0,
        403,
        "bind is limited to its resourceNames"
    );
    // Every authenticated user holds system:discovery's rights, so it may be bound without bind.
    assert!(bindings
        .create(
            &PostParams::default(),
            &binding("discovery", "ClusterRole", "system:discovery")
        )
        .await
        .is_ok());
    assert!(roles
        .create(&PostParams::default(), &secrets_role)
        .await
        .is_ok());
}

#[tokio::test]
async fn rules_review_and_non_resource_urls() {
    let server = TestServer::start().await.expect("server");
    let admin = server.client().expect("client");
    namespace(&admin, "ns").await;
    role(
        &admin,
        "ns",
        "reader",
        json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]),
    )
    .await;
    bind(
        &admin,
        "ns",
        "reader",
        "Role",
        json!({"kind": "ServiceAccount", "name": "ci", "namespace": "ns"}),
    )
    .await;
    let sa = server
        .client_as("system:serviceaccount:ns:ci", &[])
        .expect("client");
    let review = Api::<SelfSubjectRulesReview>::all(sa.clone())
        .create(
            &PostParams::default(),
            &obj(json!({"spec": {"namespace": "ns"}})),
        )
        .await
        .expect("rules review");
    let st = review.status.expect("status");
    assert!(st
        .resource_rules
        .iter()
        .any(|r| r.resources.as_deref() == Some(&["pods".to_string()][..])));
    assert!(st.non_resource_rules.iter().any(|r| r
        .non_resource_urls
        .as_deref()
        .is_some_and(|u| u.contains(&"/apis/*".to_string()))));

    // Discovery is open to every authenticated user; other paths are not.
    let get = |path: &str| http::Request::get(path).body(Vec::new()).expect("request");
    assert!(sa.request_text(get("/version")).await.is_ok());
    assert!(sa.request_text(get("/apis")).await.is_ok());
    assert_eq!(
        status(sa.request_text(get("/metrics")).await),
        (
            403,
            "forbidden: User \"system:serviceaccount:ns:ci\" cannot get path \"/metrics\"".into()
        )
    );
    // The admin stays unrestricted (and its reviews carry no RBAC reason).
    let ssar = Api::<SelfSubjectAccessReview>::all(admin)
        .create(
            &PostParams::default(),
            &obj(json!({"spec": {"nonResourceAttributes": {"verb": "get", "path": "/metrics"}}})),
        )
        .await
        .expect("ssar");
    let st = ssar.status.expect("status");
    assert!(st.allowed);
    assert_eq!(st.reason, None);
}
