//! Fargate, after eksctl's `pkg/cfn/builder/fargate.go` (the role) and `pkg/fargate` (the
//! profiles): when `fargateProfiles` is set and `iam.fargatePodExecutionRoleARN` is not, the
//! cluster stack gains eksctl's `FargatePodExecutionRole` (trusted by `eks-fargate-pods`, only for
//! this cluster's Fargate profiles through an `aws:SourceArn` condition, with
//! `AmazonEKSFargatePodExecutionRolePolicy` and the optional permissions boundary) and its
//! exported `FargatePodExecutionRoleARN` output (the given ARN when there is one, as eksctl
//! does). Each profile becomes a desired EKS object ([`profiles`]): name, selectors, tags, the
//! pod execution role (the profile's own `podExecutionRoleARN`, else the cluster's, else the
//! role's output) and subnets (the profile's, else the cluster stack's `SubnetsPrivate`).
//!
//! It deliberately does not read anything live (values from the cluster stack stay references
//! for the executor), and does not render the CoreDNS patch eksctl applies when `kube-system`
//! runs on Fargate.

use serde_json::{json, Value};

use super::{
    aws_policy_arn, get_att, name_tag, outputs as out, service_principal, RenderError,
    RenderedStack, Template,
};
use crate::awsdiff::{
    DesiredEksObject, DriftMode, EksObjectSpec, FargateProfileSpec, FargateSelector, ParamValue,
};
use crate::eksctl::{cluster_stack_name, ClusterConfig};
use crate::path::FieldPath;

/// eksctl's logical id of the role.
pub(crate) const FARGATE_ROLE: &str = "FargatePodExecutionRole";

fn given_role(cfg: &ClusterConfig) -> Option<&str> {
    cfg.iam
        .as_ref()
        .and_then(|i| i.fargate_pod_execution_role_arn.as_deref())
}

/// Adds the pod execution role (or the given role's ARN) and its output to the cluster stack,
/// when the config has Fargate profiles.
pub(crate) fn add_pod_execution_role(t: &mut Template, cfg: &ClusterConfig) {
    if cfg.fargate_profiles.is_empty() {
        return;
    }
    if let Some(arn) = given_role(cfg) {
        t.output(out::FARGATE_POD_EXECUTION_ROLE_ARN, json!(arn), true);
        return;
    }
    // eksctl writes the account and region it looked up; the stack's own are the same ones.
    let source_arn = json!({"Fn::Sub": format!(
        "arn:${{AWS::Partition}}:eks:${{AWS::Region}}:${{AWS::AccountId}}:fargateprofile/{}/*",
        cfg.metadata.name
    )});
    let mut props = json!({
        "AssumeRolePolicyDocument": {
            "Statement": [{
                "Action": ["sts:AssumeRole"],
                "Condition": {"ArnLike": {"aws:SourceArn": source_arn}},
                "Effect": "Allow",
                "Principal": {"Service": [service_principal("EKSFargatePods")]},
            }],
            "Version": "2012-10-17",
        },
        "ManagedPolicyArns": [aws_policy_arn("AmazonEKSFargatePodExecutionRolePolicy")],
        "Tags": name_tag(FARGATE_ROLE),
    });
    if let Some(b) = cfg
        .iam
        .as_ref()
        .and_then(|i| i.fargate_pod_execution_role_permissions_boundary.as_deref())
    {
        props["PermissionsBoundary"] = Value::String(b.to_string());
    }
    t.resource(
        FARGATE_ROLE,
        "AWS::IAM::Role",
        json!({ "Properties": props }),
    );
    t.output(
        out::FARGATE_POD_EXECUTION_ROLE_ARN,
        get_att(FARGATE_ROLE, "Arn"),
        true,
    );
}

/// A profile without its own subnets runs in the cluster's private subnets: refused when the
/// cluster stack has none.
pub(crate) fn check(cfg: &ClusterConfig, cluster_stack: &RenderedStack) -> Vec<RenderError> {
    cfg.fargate_profiles
        .iter()
        .enumerate()
        .filter(|(_, fp)| fp.subnets.is_empty())
        .filter(|_| !cluster_stack.has_output(out::SUBNETS_PRIVATE))
        .map(|(i, _)| RenderError::NotRendered {
            path: FieldPath::keys(&["fargateProfiles"]).index(i).key("subnets"),
            what: "a Fargate profile without subnets in a cluster without private subnets (Fargate runs pods only in private subnets)",
        })
        .collect()
}

/// The desired Fargate profiles of a cluster, in file order.
pub(crate) fn profiles(cfg: &ClusterConfig) -> Vec<DesiredEksObject> {
    let stack = cluster_stack_name(&cfg.metadata.name);
    let output = |o: &str| ParamValue::StackOutput {
        stack: stack.clone(),
        output: o.to_string(),
    };
    cfg.fargate_profiles
        .iter()
        .map(|fp| {
            let role = match fp.pod_execution_role_arn.as_deref().or(given_role(cfg)) {
                Some(arn) => ParamValue::Literal(arn.to_string()),
                None => output(out::FARGATE_POD_EXECUTION_ROLE_ARN),
            };
            let subnets = if fp.subnets.is_empty() {
                vec![output(out::SUBNETS_PRIVATE)]
            } else {
                fp.subnets
                    .iter()
                    .map(|s| ParamValue::Literal(s.clone()))
                    .collect()
            };
            DesiredEksObject {
                cluster: cfg.metadata.name.clone(),
                spec: EksObjectSpec::FargateProfile(FargateProfileSpec {
                    name: fp.name.clone(),
                    pod_execution_role_arn: role,
                    subnets,
                    selectors: fp
                        .selectors
                        .iter()
                        .map(|s| FargateSelector {
                            namespace: s.namespace.clone(),
                            labels: s.labels.clone(),
                        })
                        .collect(),
                    tags: fp.tags.clone(),
                }),
                mode: DriftMode::Correct,
            }
        })
        .collect()
}
