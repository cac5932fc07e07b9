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
