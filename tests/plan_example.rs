//! End to end: the real binary plans `examples-repo/` and the order is the one the scenario needs,
//! with a reason on every edge; `--explain` says the same in text; Markdown is a PR comment.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::HashMap;

fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("eksync")
        .unwrap()
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn plan_json() -> Value {
    let (code, out, err) = run(&["plan", "examples-repo", "-o", "json"]);
    assert_eq!(code, Some(0), "{err}");
    serde_json::from_str(&out).unwrap()
}

fn waves(plan: &Value) -> HashMap<String, u64> {
    plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["wave"].as_u64().unwrap(),
            )
        })
        .collect()
}

const CLUSTER: &str = "aws/eks-test-jenkins/stack/eksctl-eks-test-jenkins-cluster";
const NG: &str = "aws/eks-test-jenkins/stack/eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins";
const SPOT: &str =
    "aws/eks-test-jenkins/stack/eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot";
const POLICY: &str = "aws/eks-test-jenkins/iam-role-policy/ASG-Policy-For-Worker";
const CA: &str = "k8s/eks-test-jenkins/Deployment.apps/kube-system/cluster-autoscaler";
const CA_SA: &str = "k8s/eks-test-jenkins/ServiceAccount/kube-system/cluster-autoscaler";
const PV: &str = "k8s/eks-test-jenkins/PersistentVolume/_/jenkins-pv";
const PVC: &str = "k8s/eks-test-jenkins/PersistentVolumeClaim/jenkins/jenkins-pvc";
const JENKINS: &str = "k8s/eks-test-jenkins/Deployment.apps/jenkins/jenkins";
const NS: &str = "k8s/eks-test-jenkins/Namespace/_/jenkins";
const SA: &str = "k8s/eks-test-jenkins/ServiceAccount/jenkins/jenkins";
const AGENT: &str = "k8s/eks-test-jenkins/PodTemplate/jenkins/jenkins-agent";

#[test]
fn plan_orders_the_scenario() {
    let plan = plan_json();
    let w = waves(&plan);
    let before = |a: &str, b: &str| {
        let (wa, wb) = (w[a], w[b]);
        assert!(wa < wb, "{a} (wave {wa}) must come before {b} (wave {wb})");
    };
    before(CLUSTER, NG);
    before(CLUSTER, SPOT);
    before(NG, POLICY);
    before(POLICY, CA);
    before(SPOT, CA);
    before(PV, PVC);
    before(PVC, JENKINS);
    before(NS, PVC);
    before(NS, SA);
    before(SA, JENKINS);
    before(CA_SA, CA);
    before(SPOT, AGENT);
    assert_eq!(plan["summary"]["errors"], 0);
    for r in plan["resources"].as_array().unwrap() {
        assert!(matches!(r["system"].as_str(), Some("aws" | "kubernetes")));
        assert!(r["kind"].is_string() && r["name"].is_string());
    }
}

#[test]
fn every_edge_has_a_reason_and_goes_forward() {
    let plan = plan_json();
    let w = waves(&plan);
    let edges = plan["edges"].as_array().unwrap();
    assert!(edges.len() > 20);
    for e in edges {
        let (from, to) = (e["from"].as_str().unwrap(), e["to"].as_str().unwrap());
        assert!(e["reason"].as_str().is_some_and(|r| r.len() > 10), "{e}");
        assert!(w[from] < w[to], "edge {from} -> {to} goes backwards");
    }
    // The edges that carry the scenario's values say so.
    let reason = |from: &str, to: &str| {
        edges
            .iter()
            .find(|e| e["from"] == from && e["to"] == to)
            .map(|e| e["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no edge {from} -> {to}"))
    };
    assert!(reason(SPOT, CA).contains("{{aws:nodegroup/ng-test-jenkins-spot/resource/NodeGroup}}"));
    assert!(reason(NG, POLICY).contains("NodeInstanceRole"));
    assert!(reason(PV, PVC).contains("binds PersistentVolume jenkins-pv"));
    assert!(reason(SPOT, AGENT).contains("lifecycle=Ec2Spot"));
}

#[test]
fn explain_shows_the_same_in_text_and_markdown_is_a_pr_comment() {
    let ok = |args: &[&str]| {
        let (code, out, err) = run(args);
        assert_eq!(code, Some(0), "{err}");
        out
    };
    let text = ok(&["plan", "examples-repo", "--explain"]);
    assert!(text.contains("Wave 1"));
    assert!(text.contains(
        "after IAMRolePolicy ASG-Policy-For-Worker: pods on node group ng-test-jenkins act with its instance role"
    ));
    assert!(
        text.contains("after PersistentVolume jenkins-pv: PersistentVolumeClaim jenkins-pvc binds")
    );
    let md = ok(&["plan", "examples-repo", "-o", "markdown", "--explain"]);
    assert!(md.starts_with("### eksync plan"));
    assert!(md.contains("| wave | system | resource |"));
    assert!(md.contains("<details><summary>Why this order</summary>"));
    assert!(ok(&["graph", "examples-repo", "--format", "dot"]).starts_with("digraph eksync {"));
    assert!(ok(&["graph", "examples-repo", "--format", "mermaid"]).starts_with("flowchart LR"));
}

#[test]
fn render_resolves_offline_values_and_marks_the_rest() {
    let (code, s, err) = run(&["render", "examples-repo"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(s.contains(
        "--nodes=0:5:(known after apply: {{aws:nodegroup/ng-test-jenkins-spot/resource/NodeGroup}})"
    ));
    assert!(s.contains("value: us-west-2"));
    assert!(
        s.contains("# CloudFormation stack eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot")
    );
}

#[test]
fn render_prints_the_bodies_apply_sends() {
    let (code, s, err) = run(&["render", "examples-repo"]);
    assert_eq!(code, Some(0), "{err}");
    let manifests = s
        .lines()
        .filter(|l| l.starts_with("# ") && l.ends_with(')') && !l.starts_with("# IAM"))
        .filter(|l| !l.starts_with("# CloudFormation"))
        .count();
    assert!(manifests > 10, "{s}");
    // The ownership label and the source label (the folder's name, as `apply` derives it).
    assert_eq!(
        s.matches("app.kubernetes.io/managed-by: eksync").count(),
        manifests,
        "{s}"
    );
    assert_eq!(
        s.matches("eksync.io/source: examples-repo").count(),
        manifests
    );
    let (code, s, err) = run(&["render", "examples-repo", "--source", "platform"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(s.matches("eksync.io/source: platform").count(), manifests);
    let (code, _, err) = run(&["render", "examples-repo", "--source", "Not Valid"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--source `Not Valid` must be"), "{err}");
}

/// A fail-closed admission webhook, the Deployment behind its Service, and a custom resource it
/// validates: the webhook goes after its backends, the custom resource after the webhook, and
/// `--explain` says why.
#[test]
fn a_webhook_goes_after_its_backends_and_before_what_it_intercepts() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("hooks");
    std::fs::create_dir_all(&repo).unwrap();
    let files = [
        ("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: hooks\n"),
        ("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: widget-webhook\n  namespace: hooks\nspec:\n  selector:\n    app: widget-webhook\n  ports:\n    - port: 443\n      targetPort: 8443\n"),
        ("deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: widget-webhook\n  namespace: hooks\nspec:\n  selector:\n    matchLabels:\n      app: widget-webhook\n  template:\n    metadata:\n      labels:\n        app: widget-webhook\n    spec:\n      containers:\n        - name: webhook\n          image: example/widget-webhook:1\n"),
        ("crd.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names:\n    kind: Widget\n    plural: widgets\n    singular: widget\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          x-kubernetes-preserve-unknown-fields: true\n"),
        ("webhook.yaml", "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: widgets\nwebhooks:\n  - name: widgets.example.com\n    admissionReviewVersions: [v1]\n    sideEffects: None\n    clientConfig:\n      service:\n        namespace: hooks\n        name: widget-webhook\n        path: /validate\n    rules:\n      - apiGroups: [example.com]\n        apiVersions: [v1]\n        resources: [widgets]\n        operations: [CREATE, UPDATE]\n"),
        ("widget.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: first\n  namespace: hooks\n"),
    ];
    for (name, text) in files {
        std::fs::write(repo.join(name), text).unwrap();
    }
    let repo_s = repo.to_str().unwrap();
    let (code, out, err) = run(&["plan", repo_s, "-o", "json"]);
    assert_eq!(code, Some(0), "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    let w = waves(&plan);
    let deploy = "k8s/_/Deployment.apps/hooks/widget-webhook";
    let svc = "k8s/_/Service/hooks/widget-webhook";
    let hook = "k8s/_/ValidatingWebhookConfiguration.admissionregistration.k8s.io/_/widgets";
    let widget = "k8s/_/Widget.example.com/hooks/first";
    for (a, b) in [(deploy, hook), (svc, hook), (hook, widget)] {
        assert!(
            w[a] < w[b],
            "{a} (wave {}) before {b} (wave {})",
            w[a],
            w[b]
        );
    }
    let (code, text, err) = run(&["plan", repo_s, "--explain"]);
    assert_eq!(code, Some(0), "{err}");
    for line in [
        "after Service hooks/widget-webhook: webhook widgets.example.com (failurePolicy Fail) calls Service hooks/widget-webhook",
        "after Deployment hooks/widget-webhook: webhook widgets.example.com (failurePolicy Fail) calls Service hooks/widget-webhook, whose pods Deployment widget-webhook runs (its pod labels match the Service's selector)",
        "after ValidatingWebhookConfiguration widgets: webhook widgets.example.com (failurePolicy Fail) of ValidatingWebhookConfiguration widgets intercepts CREATE/UPDATE of widgets.example.com; the API server refuses them until it answers",
        "after CustomResourceDefinition widgets.example.com: CustomResourceDefinition widgets.example.com defines Widget",
    ] {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
}
