//! Snapshot tests of the reference example's stacks and cross-stack checks; table tests of
//! the details are in `details.rs`.

use serde_json::{json, Value};

use super::ParameterSource;
use super::*;
use crate::eksctl::ClusterConfig;

mod details;

/// `insta::assert_snapshot!` with the snapshots kept in `src/core/render/snapshots/`.
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({snapshot_path => "../snapshots"}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

mod access;
mod fargate;
mod irsa;
mod vpc;
mod windows;

/// The reference scenario's ClusterConfig (`eks-test-jenkins`), as the example repo has it.
const EXAMPLE: &str = include_str!("../../../../../examples-repo/cluster/cluster.yaml");

pub(crate) fn load(text: &str) -> ClusterConfig {
    let parsed = crate::yaml::parse(text);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    serde_json::from_value(parsed.docs[0].value.clone()).expect("valid ClusterConfig")
}

pub(crate) fn example() -> Vec<RenderedStack> {
    render_cluster(&load(EXAMPLE)).expect("the example renders")
}

/// The example with `patch` merged into `nodeGroups[0]` (or the top level with `top`).
pub(crate) fn variant(top: Value, ng0: Value) -> ClusterConfig {
    let parsed = crate::yaml::parse(EXAMPLE);
    let mut v = parsed.docs[0].value.clone();
    merge(&mut v, top);
    merge(&mut v["nodeGroups"][0], ng0);
    serde_json::from_value(v).expect("valid ClusterConfig")
}

fn merge(into: &mut Value, patch: Value) {
    match (into, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                if v.is_null() {
                    a.remove(&k);
                } else {
                    merge(a.entry(k).or_insert(Value::Null), v);
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// What a snapshot pins: the stack's name, tags, parameters and template.
fn snapshot_view(s: &RenderedStack) -> String {
    let params: Vec<Value> = s
        .parameters
        .iter()
        .map(|p| json!({"key": p.key, "source": format!("{:?}", p.source)}))
        .collect();
    let v = json!({"StackName": s.name, "StackTags": s.tags, "Parameters": params,
        "Template": s.template});
    serde_json::to_string_pretty(&v).expect("serializable")
}

pub(crate) fn props<'a>(s: &'a RenderedStack, id: &str) -> &'a Value {
    &s.template["Resources"][id]["Properties"]
}

pub(crate) fn user_data_text(s: &RenderedStack) -> &str {
    props(s, "NodeGroupLaunchTemplate")["LaunchTemplateData"]["UserData"]["Fn::Base64"]["Fn::Sub"]
        [0]
    .as_str()
    .expect("user data text")
}

pub(crate) fn asg_tags(s: &RenderedStack) -> Vec<(String, String)> {
    props(s, "NodeGroup")["Tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| {
            assert_eq!(t["PropagateAtLaunch"], "true");
            (
                t["Key"].as_str().unwrap_or_default().to_string(),
                t["Value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn example_cluster_stack_snapshot() {
    let stacks = example();
    // The cluster, the two node groups, the cluster-autoscaler's IRSA role.
    assert_eq!(stacks.len(), 4);
    assert_eq!(stacks[0].name, "eksctl-eks-test-jenkins-cluster");
    snap!("cluster_stack", snapshot_view(&stacks[0]));
}

#[test]
fn example_static_nodegroup_stack_snapshot() {
    let s = &example()[1];
    assert_eq!(s.name, "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins");
    snap!("nodegroup_ng_test_jenkins", snapshot_view(s));
}

#[test]
fn example_spot_nodegroup_stack_snapshot() {
    let s = &example()[2];
    assert_eq!(
        s.name,
        "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot"
    );
    snap!("nodegroup_ng_test_jenkins_spot", snapshot_view(s));
    snap!(
        "nodegroup_ng_test_jenkins_spot_user_data",
        user_data_text(s)
    );
}

#[test]
fn rendering_is_byte_identical_and_key_order_independent() {
    let a: Vec<String> = example()
        .iter()
        .map(RenderedStack::to_pretty_json)
        .collect();
    let b: Vec<String> = example()
        .iter()
        .map(RenderedStack::to_pretty_json)
        .collect();
    assert_eq!(a, b);
    // The same config with its mappings written in another order renders the same bytes.
    let reordered = EXAMPLE.replace(
        "      lifecycle: Ec2Spot\n      intent: apps\n",
        "      intent: apps\n      lifecycle: Ec2Spot\n",
    );
    assert_ne!(reordered, EXAMPLE);
    let c: Vec<String> = render_cluster(&load(&reordered))
        .expect("renders")
        .iter()
        .map(RenderedStack::to_pretty_json)
        .collect();
    assert_eq!(a, c);
}

#[test]
fn stacks_expose_eksctl_logical_ids_outputs_and_tags() {
    let stacks = example();
    let (cluster, static_ng, spot) = (&stacks[0], &stacks[1], &stacks[2]);
    assert_eq!(cluster.kind, StackKind::Cluster);
    assert_eq!(
        spot.kind,
        StackKind::NodeGroup {
            name: "ng-test-jenkins-spot".into(),
            managed: false
        }
    );
    assert_eq!(
        cluster.resource_type("ControlPlane"),
        Some("AWS::EKS::Cluster")
    );
    assert_eq!(cluster.resource_type("ServiceRole"), Some("AWS::IAM::Role"));
    // The example brings its own control plane security group.
    assert_eq!(cluster.resource_type("ControlPlaneSecurityGroup"), None);
    for o in [
        "ARN",
        "Endpoint",
        "CertificateAuthorityData",
        "ClusterSecurityGroupId",
        "SecurityGroup",
        "SharedNodeSecurityGroup",
        "ServiceRoleARN",
        "VPC",
        "SubnetsPrivate",
    ] {
        assert!(cluster.has_output(o), "cluster output {o}");
    }
    assert!(!cluster.has_output("SubnetsPublic"));
    for s in [static_ng, spot] {
        assert_eq!(
            s.resource_type("NodeGroup"),
            Some("AWS::AutoScaling::AutoScalingGroup")
        );
        assert_eq!(s.resource_type("NodeInstanceRole"), Some("AWS::IAM::Role"));
        assert_eq!(
            s.resource_type("NodeInstanceProfile"),
            Some("AWS::IAM::InstanceProfile")
        );
        assert_eq!(
            s.resource_type("NodeGroupLaunchTemplate"),
            Some("AWS::EC2::LaunchTemplate")
        );
        assert_eq!(s.resource_type("SG"), Some("AWS::EC2::SecurityGroup"));
        assert!(s.has_output("InstanceRoleARN") && s.has_output("InstanceProfileARN"));
        assert_eq!(s.tags[tags::NODEGROUP_TYPE], "unmanaged");
        assert_eq!(s.tags[tags::CLUSTER_NAME], "eks-test-jenkins");
    }
    assert_eq!(
        static_ng.resource_type("PolicyAutoScaling"),
        Some("AWS::IAM::Policy")
    );
    assert_eq!(spot.resource_type("PolicyAutoScaling"), None);
    assert_eq!(spot.tags[tags::NODEGROUP_NAME], "ng-test-jenkins-spot");
    assert_eq!(cluster.tags[tags::OLD_CLUSTER_NAME], "eks-test-jenkins");
    assert!(!cluster.tags.contains_key(tags::NODEGROUP_NAME));
    assert_eq!(
        find_cluster_stack(&stacks).map(|s| &s.name),
        Some(&cluster.name)
    );
    assert_eq!(
        find_nodegroup_stack(&stacks, "ng-test-jenkins-spot").map(|s| &s.name),
        Some(&spot.name)
    );
    assert!(find_nodegroup_stack(&stacks, "nope").is_none());
}

fn collect_imports(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(s)) = m.get("Fn::ImportValue") {
                out.push(s.clone());
            }
            m.values().for_each(|v| collect_imports(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| collect_imports(v, out)),
        _ => {}
    }
}

#[test]
fn cluster_values_flow_as_parameters_from_the_cluster_stacks_outputs() {
    let stacks = example();
    let cluster = &stacks[0];
    let mut imports = Vec::new();
    for s in &stacks[1..] {
        collect_imports(&s.template, &mut imports);
        assert!(imports.is_empty(), "no Fn::ImportValue: {imports:?}");
        let from_cluster: Vec<_> = s
            .parameters
            .iter()
            .filter_map(|p| match &p.source {
                ParameterSource::StackOutput { stack, output } => {
                    Some((p.key.clone(), stack.clone(), output.clone()))
                }
                _ => None,
            })
            .collect();
        // Node groups take the cluster's CA, endpoint, security groups...; an IRSA role stack
        // the OIDC provider's ARN and issuer.
        let least = if s.nodegroup_name().is_some() { 4 } else { 2 };
        assert!(from_cluster.len() >= least, "{from_cluster:?}");
        for (key, stack, output) in from_cluster {
            assert_eq!(stack, cluster.name);
            assert!(
                cluster.has_output(&output),
                "{output} is an output of the cluster stack"
            );
            assert_eq!(
                s.template["Parameters"][&key]["Type"], "String",
                "{key} is declared"
            );
        }
    }
}
