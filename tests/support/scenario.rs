//! The reference scenario's AWS side as eksync's inputs: the cluster stack, the static and Spot node
//! group stacks (eksctl-shaped fixtures) and the autoscaler's inline policy on the static group's role.

#![allow(dead_code)]

use eksync::adapters::aws::{AwsSettings, CredentialsSource, RetrySettings, WaitSettings};
use eksync::core::awsdiff::{DesiredRolePolicy, DesiredStack, DriftMode, ParamValue, RoleSource};
use serde_json::{json, Value};
use std::time::Duration;

pub const CLUSTER: &str = "eks-test-jenkins";
pub const CLUSTER_STACK: &str = "eksctl-eks-test-jenkins-cluster";
pub const STATIC_STACK: &str = "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins";
pub const SPOT_STACK: &str = "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot";
pub const WORKER_POLICY: &str = "ASG-Policy-For-Worker";

pub fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/aws/templates/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).expect("read fixture"))
        .expect("fixture is JSON")
}

pub fn settings(url: &str) -> AwsSettings {
    AwsSettings {
        region: Some("us-west-2".into()),
        endpoint_url: Some(url.to_string()),
        credentials: CredentialsSource::Static {
            access_key_id: "testing".into(),
            secret_access_key: "testing".into(),
            session_token: None,
        },
        retry: RetrySettings::off(),
        wait: WaitSettings {
            initial_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            timeout: Duration::from_secs(15),
        },
        ..AwsSettings::default()
    }
}

pub fn nodegroup_stack(name: &str, template: Value) -> DesiredStack {
    let mut s = DesiredStack::new(name, template);
    s.parameters.insert(
        "ClusterSubnets".into(),
        ParamValue::StackOutput {
            stack: CLUSTER_STACK.into(),
            output: "SubnetsPublic".into(),
        },
    );
    s.parameters.insert(
        "SharedNodeSecurityGroup".into(),
        ParamValue::StackOutput {
            stack: CLUSTER_STACK.into(),
            output: "SharedNodeSecurityGroup".into(),
        },
    );
    s.tags
        .insert("alpha.eksctl.io/cluster-name".into(), CLUSTER.into());
    s
}

/// The static and Spot node group stacks; their subnets and security group flow from the cluster
/// stack's outputs.
pub fn stacks(spot_max: &str) -> Vec<DesiredStack> {
    let mut spot = fixture("nodegroup-spot.json");
    spot["Resources"]["NodeGroup"]["Properties"]["MaxSize"] = json!(spot_max);
    vec![
        nodegroup_stack(STATIC_STACK, fixture("nodegroup-static.json")),
        nodegroup_stack(SPOT_STACK, spot),
    ]
}

/// Creates the cluster stack directly (as `eksctl create cluster` would), with CreateStack: moto
/// 5.2.5 computes no outputs for stacks created through change sets, and the node groups need the
/// cluster's outputs.
pub async fn create_cluster_stack(url: &str) {
    let oob = out_of_band(url);
    oob.cloudformation
        .create_stack()
        .stack_name(CLUSTER_STACK)
        .template_body(fixture("cluster.json").to_string())
        .send()
        .await
        .expect("create cluster stack");
}

pub fn worker_policy_document() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeTags",
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
                "ec2:DescribeLaunchTemplateVersions"
            ],
            "Resource": "*"
        }]
    })
}

pub fn worker_policy(mode: DriftMode) -> DesiredRolePolicy {
    DesiredRolePolicy {
        role: RoleSource::StackResource {
            stack: STATIC_STACK.into(),
            logical_id: "NodeInstanceRole".into(),
        },
        policy_name: WORKER_POLICY.into(),
        document: worker_policy_document(),
        mode,
    }
}

/// SDK clients for out-of-band changes, as an operator would make them.
pub struct OutOfBand {
    pub eks: aws_sdk_eks::Client,
    pub cloudformation: aws_sdk_cloudformation::Client,
    pub iam: aws_sdk_iam::Client,
    pub autoscaling: aws_sdk_autoscaling::Client,
}

pub fn out_of_band(url: &str) -> OutOfBand {
    let creds = aws_credential_types::Credentials::new("testing", "testing", None, None, "test");
    let region = aws_sdk_iam::config::Region::new("us-west-2");
    OutOfBand {
        eks: aws_sdk_eks::Client::from_conf(
            aws_sdk_eks::Config::builder()
                .behavior_version(aws_sdk_eks::config::BehaviorVersion::latest())
                .region(aws_sdk_eks::config::Region::new("us-west-2"))
                .endpoint_url(url)
                .credentials_provider(creds.clone())
                .build(),
        ),
        cloudformation: aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::Config::builder()
                .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudformation::config::Region::new("us-west-2"))
                .endpoint_url(url)
                .credentials_provider(creds.clone())
                .build(),
        ),
        iam: aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::Config::builder()
                .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
                .region(region.clone())
                .endpoint_url(url)
                .credentials_provider(creds.clone())
                .build(),
        ),
        autoscaling: aws_sdk_autoscaling::Client::from_conf(
            aws_sdk_autoscaling::Config::builder()
                .behavior_version(aws_sdk_autoscaling::config::BehaviorVersion::latest())
                .region(aws_sdk_autoscaling::config::Region::new("us-west-2"))
                .endpoint_url(url)
                .credentials_provider(creds)
                .build(),
        ),
    }
}

pub fn now() -> jiff::Timestamp {
    "2026-11-22T06:00:00Z".parse().expect("timestamp")
}
