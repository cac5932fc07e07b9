//! Object diff tests: server metadata is not a change, drift attribution, masking, ignoring.

use super::*;
use serde_json::json;

fn deployment(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": image, "imagePullPolicy": "IfNotPresent"}]}
            }
        }
    })
}

fn with_meta(mut obj: Value, meta: Value) -> Value {
    let m = obj["metadata"]
        .as_object_mut()
        .expect("test object has metadata");
    for (k, v) in meta.as_object().expect("meta is a map") {
        m.insert(k.clone(), v.clone());
    }
    obj
}

fn fields(managers: &[(&str, Value)]) -> Value {
    Value::Array(
        managers
            .iter()
            .map(|(m, fs)| json!({"manager": m, "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": fs}))
            .collect(),
    )
}

#[test]
fn server_metadata_status_and_controller_annotations_are_not_changes() {
    let live = with_meta(
        deployment(2, "nginx:1"),
        json!({
            "resourceVersion": "17", "generation": 3, "uid": "u-1",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": "3"},
            "managedFields": fields(&[("eksync", json!({"f:spec": {"f:replicas": {}}}))]),
        }),
    );
    let mut live = live;
    live["status"] = json!({"replicas": 2, "availableReplicas": 2});
    let dry = with_meta(
        deployment(2, "nginx:1"),
        json!({"resourceVersion": "18", "generation": 4, "annotations": {"deployment.kubernetes.io/revision": "4"}}),
    );
    let d = diff(&dry, Some(&live));
    assert_eq!(d.action, Action::NoChange, "{:?}", d.changes);
    assert!(d.changes.is_empty());
    assert!(!d.has_changes());
}

#[test]
fn drift_names_the_manager_that_owns_the_live_value() {
    let live = with_meta(
        deployment(5, "nginx:1"),
        json!({"managedFields": fields(&[
            ("eksync", json!({"f:spec": {"f:selector": {}, "f:template": {}}})),
            ("kubectl-scale", json!({"f:spec": {"f:replicas": {}}})),
        ])}),
    );
    let d = diff(&deployment(2, "nginx:1"), Some(&live));
    assert_eq!(d.action, Action::Update);
    assert_eq!(
        d.changes,
        vec![FieldChange {
            path: "spec.replicas".into(),
            before: Some(json!(5)),
            after: Some(json!(2)),
            drift_by: Some("kubectl-scale".into()),
            masked: false,
        }]
    );
    assert_eq!(d.drift().count(), 1);
}

#[test]
fn a_git_change_to_a_field_eksync_owns_is_not_drift() {
    let owned = json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
        "k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}
    }}}}});
    let live = with_meta(
        deployment(2, "nginx:1"),
        json!({"managedFields": fields(&[("eksync", owned.clone()), ("other", owned)])}),
    );
    let d = diff(&deployment(2, "nginx:2"), Some(&live));
    assert_eq!(d.changes.len(), 1);
    assert_eq!(d.changes[0].path, "spec.template.spec.containers[0].image");
    assert_eq!(d.changes[0].drift_by, None);
}

#[test]
fn drift_inside_a_keyed_list_item_is_attributed() {
    let live = with_meta(
        deployment(2, "nginx:hotfix"),
        json!({"managedFields": fields(&[
            ("eksync", json!({"f:spec": {"f:replicas": {}}})),
            ("kubectl-set", json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"app\"}": {"f:image": {}}
            }}}}})),
        ])}),
    );
    let d = diff(&deployment(2, "nginx:1"), Some(&live));
    assert_eq!(d.changes.len(), 1);
    assert_eq!(d.changes[0].drift_by.as_deref(), Some("kubectl-set"));
    assert_eq!(d.changes[0].before, Some(json!("nginx:hotfix")));
}

#[test]
fn added_and_removed_fields_and_resized_lists() {
    let mut live = deployment(2, "nginx:1");
    live["metadata"]["labels"]["old"] = json!("x");
    let mut dry = deployment(2, "nginx:1");
    dry["metadata"]["labels"]["new"] = json!("y");
    dry["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
        .push(json!({"name": "sidecar", "image": "envoy"}));
    let d = diff(&dry, Some(&live));
    let paths: Vec<(&str, bool, bool)> = d
        .changes
        .iter()
        .map(|c| (c.path.as_str(), c.before.is_some(), c.after.is_some()))
        .collect();
    assert_eq!(
        paths,
        vec![
            ("metadata.labels.old", true, false),
            ("metadata.labels.new", false, true),
            ("spec.template.spec.containers", true, true),
        ]
    );
}

#[test]
fn create_lists_every_leaf_without_server_metadata() {
    let dry = with_meta(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1"}}),
        json!({"uid": "x", "resourceVersion": "1"}),
    );
    let d = diff(&dry, None);
    assert_eq!(d.action, Action::Create);
    let paths: Vec<&str> = d.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, vec!["apiVersion", "kind", "metadata.name", "data.a"]);
}

#[test]
fn secret_values_are_masked_in_the_diff_itself() {
    let secret = |pw: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{{\"data\":{{\"password\":\"{pw}\"}}}}")}},
            "type": "Opaque", "data": {"password": pw, "user": "YWRtaW4="}})
    };
    let d = diff(
        &secret("bmV3LXNlY3JldA=="),
        Some(&secret("b2xkLXNlY3JldA==")),
    );
    let text = serde_json::to_string(&d).expect("serializes");
    assert!(!text.contains("bmV3LXNlY3JldA=="), "{text}");
    assert!(!text.contains("b2xkLXNlY3JldA=="), "{text}");
    let pw = d
        .changes
        .iter()
        .find(|c| c.path == "data.password")
        .expect("password change");
    assert!(pw.masked);
    assert_eq!(pw.after, Some(json!(MASKED)));
    assert!(d.changes.iter().all(|c| c.path != "data.user"));

    let created = diff(&secret("c2VjcmV0"), None);
    assert!(!serde_json::to_string(&created)
        .expect("serializes")
        .contains("c2VjcmV0"));
}

#[test]
fn owns_follows_set_values_and_atomic_leaves() {
    let obj = json!({"metadata": {"finalizers": ["a", "b"]}, "spec": {"ports": [{"port": 80}]}});
    let fs = json!({"f:metadata": {"f:finalizers": {"v:\"b\"": {}}}, "f:spec": {"f:ports": {}}});
    let p = |segs: Vec<Seg>| segs;
    assert!(owns(
        &fs,
        &obj,
        &p(vec![
            Seg::Key("metadata".into()),
            Seg::Key("finalizers".into()),
            Seg::Index(1)
        ])
    ));
    assert!(!owns(
        &fs,
        &obj,
        &p(vec![
            Seg::Key("metadata".into()),
            Seg::Key("finalizers".into()),
            Seg::Index(0)
        ])
    ));
    assert!(owns(
        &fs,
        &obj,
        &p(vec![
            Seg::Key("spec".into()),
            Seg::Key("ports".into()),
            Seg::Index(0),
            Seg::Key("port".into())
        ])
    ));
    assert!(!owns(&fs, &obj, &p(vec![Seg::Key("data".into())])));
}

#[test]
fn create_after_crd_is_a_change() {
    let d = ObjectDiff::create_after_crd(3);
    assert!(d.has_changes());
    assert_eq!(
        serde_json::to_value(&d).expect("serializes"),
        json!({"action": "create_after_crd", "wave": 3, "changes": []})
    );
}

#[test]
fn ignoring_a_path_can_leave_no_change() {
    let live = deployment(3, "nginx:1");
    let only_replicas = diff(&deployment(1, "nginx:1"), Some(&live)).ignoring("spec.replicas");
    assert_eq!(only_replicas.action, Action::NoChange);
    let both = diff(&deployment(1, "nginx:2"), Some(&live)).ignoring("spec.replicas");
    assert_eq!(both.action, Action::Update);
    assert_eq!(both.changes.len(), 1);
    assert_eq!(
        both.changes[0].path,
        "spec.template.spec.containers[0].image"
    );
}

#[test]
fn a_secret_against_something_that_is_not_an_object_is_masked_too() {
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db",
        "annotations": {LAST_APPLIED: "{\"data\":{\"password\":\"aHVudGVy\"}}"}},
        "data": {"password": "aHVudGVy"}, "stringData": {"token": "t0k3n"}});
    for (dry, live) in [
        (json!(null), Some(&secret)),
        (secret.clone(), Some(&json!("x"))),
    ] {
        let d = diff(&dry, live);
        assert_eq!(d.changes.len(), 1);
        assert_eq!(d.changes[0].path, "(document)");
        let shown = serde_json::to_string(&d).expect("serializes");
        for v in ["aHVudGVy", "t0k3n"] {
            assert!(!shown.contains(v), "{shown}");
        }
        // The shape stays visible: keys, kind, name.
        assert!(shown.contains("password") && shown.contains("token") && shown.contains("db"));
    }
}
