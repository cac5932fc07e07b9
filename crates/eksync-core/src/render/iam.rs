//! IAM pieces of the node group stacks, as eksctl's `createRole`/`makeManagedPolicies`
//! (`pkg/cfn/builder/iam_helper.go`) and `statement.go` write them: the `NodeInstanceRole`, its
//! managed policy list, the inline policy for `iam.attachPolicy` (`Policy1`) and one inline policy
//! per `withAddonPolicies` switch (`PolicyAutoScaling`, ...). It does not render the cluster's
//! service role (see `cluster.rs`) nor IRSA roles (see `irsa.rs`, which shares the add-on
//! statements).

use serde_json::{json, Value};
use std::collections::BTreeSet;

use super::{
    aws_policy_arn, get_att, name_tag, ref_, service_principal, sub, RenderError, Template,
};
use crate::eksctl::{AddonPolicies, NodeGroupIam};
use crate::path::FieldPath;

pub(crate) const ROLE: &str = "NodeInstanceRole";
pub(crate) const PROFILE: &str = "NodeInstanceProfile";

const WORKER_NODE: &str = "AmazonEKSWorkerNodePolicy";
const CNI: &str = "AmazonEKS_CNI_Policy";
const ECR_READ_ONLY: &str = "AmazonEC2ContainerRegistryReadOnly";
const ECR_POWER_USER: &str = "AmazonEC2ContainerRegistryPowerUser";
const SSM_CORE: &str = "AmazonSSMManagedInstanceCore";
const CLOUDWATCH_AGENT: &str = "CloudWatchAgentServerPolicy";

/// The role a node group's instances run as, once rendered.
#[derive(Default)]
pub(crate) struct NodeIam {
    /// The role's ARN, when known (created here or given as `instanceRoleARN`).
    pub role_arn: Option<Value>,
    /// The instance profile's ARN (unmanaged groups only).
    pub profile_arn: Option<Value>,
}

/// eksctl's managed policy list: the defaults (replaced by `attachPolicyARNs` when given), the
/// ECR policy (read-only for unmanaged groups even with `attachPolicyARNs`, power-user with
/// `imageBuilder`), the CloudWatch agent policy, minus any default the given ARNs already name.
/// Given ARNs come first in their order, then the AWS policies sorted by name.
pub(crate) fn managed_policy_arns(iam: &NodeGroupIam, managed: bool) -> Value {
    let addons = iam.with_addon_policies.clone().unwrap_or_default();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    if iam.attach_policy_arns.is_empty() {
        names.insert(WORKER_NODE);
        // eksctl drops the CNI policy under `iam.withOIDC` because it then gives aws-node its own
        // IRSA role; eksync does not create that role, so it keeps the policy on the node role
        // (eksctl's forceAddCNIPolicy behaviour).
        names.insert(CNI);
        if managed {
            names.insert(ECR_READ_ONLY);
        }
        names.insert(SSM_CORE);
    }
    if on(addons.image_builder) {
        names.insert(ECR_POWER_USER);
    } else if !managed {
        names.insert(ECR_READ_ONLY);
    }
    if on(addons.cloud_watch) {
        names.insert(CLOUDWATCH_AGENT);
    }
    for arn in &iam.attach_policy_arns {
        // eksctl drops a default whose name equals the resource part after `policy/`.
        if let Some((_, name)) = arn.split_once(":policy/") {
            names.remove(name);
        }
    }
    let mut out: Vec<Value> = iam.attach_policy_arns.iter().map(|a| json!(a)).collect();
    out.extend(names.into_iter().map(aws_policy_arn));
    Value::Array(out)
}

/// Adds the node role (unless an existing role or profile is given), the instance profile for
/// unmanaged groups, and the inline policies.
pub(crate) fn add_node_iam(
    t: &mut Template,
    iam: &NodeGroupIam,
    managed: bool,
    path: &FieldPath,
) -> Result<NodeIam, RenderError> {
    if let Some(profile) = iam.instance_profile_arn.as_deref().filter(|_| !managed) {
        return Ok(NodeIam {
            role_arn: iam
                .instance_role_arn
                .as_deref()
                .map(|r| json!(normalize_arn(r))),
            profile_arn: Some(json!(profile)),
        });
    }
    if let Some(role) = iam.instance_role_arn.as_deref() {
        let role = normalize_arn(role);
        let profile_arn = if managed {
            None
        } else {
            let role_name = role.rsplit('/').next().unwrap_or(&role).to_string();
            t.resource(
                PROFILE,
                "AWS::IAM::InstanceProfile",
                json!({"Properties": {"Path": "/", "Roles": [role_name]}}),
            );
            Some(get_att(PROFILE, "Arn"))
        };
        return Ok(NodeIam {
            role_arn: Some(json!(role)),
            profile_arn,
        });
    }

    let mut props = json!({
        "AssumeRolePolicyDocument": {
            "Statement": [{
                "Action": ["sts:AssumeRole"],
                "Effect": "Allow",
                "Principal": {"Service": [service_principal("EC2")]},
            }],
            "Version": "2012-10-17",
        },
        "ManagedPolicyArns": managed_policy_arns(iam, managed),
        "Path": "/",
        "Tags": name_tag(ROLE),
    });
    if let Some(name) = &iam.instance_role_name {
        props["RoleName"] = json!(name);
    }
    if let Some(b) = &iam.instance_role_permissions_boundary {
        props["PermissionsBoundary"] = json!(b);
    }
    t.resource(ROLE, "AWS::IAM::Role", json!({ "Properties": props }));

    if let Some(doc) = &iam.attach_policy {
        add_policy(t, "Policy1", doc.clone());
    }
    let addons = iam.with_addon_policies.clone().unwrap_or_default();
    for (name, statements) in addon_policies(&addons, &path.key("iam").key("withAddonPolicies"))? {
        add_policy(
            t,
            name,
            json!({"Statement": statements, "Version": "2012-10-17"}),
        );
    }

    let profile_arn = if managed {
        None
    } else {
        t.resource(
            PROFILE,
            "AWS::IAM::InstanceProfile",
            json!({"Properties": {"Path": "/", "Roles": [ref_(ROLE)]}}),
        );
        Some(get_att(PROFILE, "Arn"))
    };
    Ok(NodeIam {
        role_arn: Some(get_att(ROLE, "Arn")),
        profile_arn,
    })
}

/// eksctl's `NormalizeARN`: keep only the last path element of the resource.
pub(crate) fn normalize_arn(arn: &str) -> String {
    let parts: Vec<&str> = arn.split('/').collect();
    match (parts.first(), parts.last()) {
        (Some(first), Some(last)) if parts.len() > 1 => format!("{first}/{last}"),
        _ => arn.to_string(),
    }
}

fn add_policy(t: &mut Template, name: &str, document: Value) {
    t.resource(
        name,
        "AWS::IAM::Policy",
        json!({"Properties": {
            "PolicyDocument": document,
            "PolicyName": sub(&format!("${{AWS::StackName}}-{name}")),
            "Roles": [ref_(ROLE)],
        }}),
    );
}

fn on(b: Option<bool>) -> bool {
    b.unwrap_or(false)
}

pub(crate) fn allow(resource: Value, actions: &[&str]) -> Value {
    json!({"Action": actions, "Effect": "Allow", "Resource": resource})
}

pub(crate) fn partition_arn(rest: &str) -> Value {
    sub(&format!("arn:${{AWS::Partition}}:{rest}"))
}

/// The inline policies eksctl attaches for each add-on switch, in eksctl's order, by logical id.
pub(crate) fn addon_policies(
    a: &AddonPolicies,
    path: &FieldPath,
) -> Result<Vec<(&'static str, Vec<Value>)>, RenderError> {
    let all = || json!("*");
    let change_set = || {
        vec![allow(
            partition_arn("route53:::hostedzone/*"),
            &["route53:ChangeResourceRecordSets"],
        )]
    };
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    if on(a.auto_scaler) {
        out.push((
            "PolicyAutoScaling",
            vec![
                allow(
                    all(),
                    &[
                        "autoscaling:DescribeAutoScalingGroups",
                        "autoscaling:DescribeAutoScalingInstances",
                        "autoscaling:DescribeLaunchConfigurations",
                        "autoscaling:DescribeScalingActivities",
                        "autoscaling:DescribeTags",
                        "ec2:DescribeInstanceTypes",
                        "ec2:DescribeLaunchTemplateVersions",
                    ],
                ),
                allow(
                    all(),
                    &[
                        "autoscaling:SetDesiredCapacity",
                        "autoscaling:TerminateInstanceInAutoScalingGroup",
                        "ec2:DescribeImages",
                        "ec2:GetInstanceTypesFromInstanceRequirements",
                        "eks:DescribeNodegroup",
                    ],
                ),
            ],
        ));
    }
    if on(a.cert_manager) {
        out.push(("PolicyCertManagerChangeSet", change_set()));
        out.push((
            "PolicyCertManagerHostedZones",
            vec![allow(
                all(),
                &[
                    "route53:ListResourceRecordSets",
                    "route53:ListHostedZonesByName",
                ],
            )],
        ));
        out.push((
            "PolicyCertManagerGetChange",
            vec![allow(
                partition_arn("route53:::change/*"),
                &["route53:GetChange"],
            )],
        ));
    }
    if on(a.external_dns) {
        out.push(("PolicyExternalDNSChangeSet", change_set()));
        out.push((
            "PolicyExternalDNSHostedZones",
            vec![allow(
                all(),
                &[
                    "route53:ListHostedZones",
                    "route53:ListResourceRecordSets",
                    "route53:ListTagsForResource",
                ],
            )],
        ));
    }
    let app_mesh = |extra: &'static str| {
        vec![allow(
            json!("*"),
            &[
                "servicediscovery:CreateService",
                "servicediscovery:DeleteService",
                "servicediscovery:GetService",
                "servicediscovery:GetInstance",
                "servicediscovery:RegisterInstance",
                "servicediscovery:DeregisterInstance",
                "servicediscovery:ListInstances",
                "servicediscovery:ListNamespaces",
                "servicediscovery:ListServices",
                "servicediscovery:GetInstancesHealthStatus",
                "servicediscovery:UpdateInstanceCustomHealthStatus",
                "servicediscovery:GetOperation",
                "route53:GetHealthCheck",
                "route53:CreateHealthCheck",
                "route53:UpdateHealthCheck",
                "route53:ChangeResourceRecordSets",
                "route53:DeleteHealthCheck",
                extra,
            ],
        )]
    };
    if on(a.app_mesh) {
        out.push(("PolicyAppMesh", app_mesh("appmesh:*")));
    }
    if on(a.app_mesh_preview) {
        out.push(("PolicyAppMeshPreview", app_mesh("appmesh-preview:*")));
    }
    if on(a.ebs) {
        // eksctl's `PolicyEBS` (`pkg/cfn/builder/iam_helper.go`): what the EBS CSI driver needs
        // when it runs with the node's role.
        out.push((
            "PolicyEBS",
            vec![allow(
                all(),
                &[
                    "ec2:AttachVolume",
                    "ec2:CreateSnapshot",
                    "ec2:CreateTags",
                    "ec2:CreateVolume",
                    "ec2:DeleteSnapshot",
                    "ec2:DeleteTags",
                    "ec2:DeleteVolume",
                    "ec2:DescribeAvailabilityZones",
                    "ec2:DescribeInstances",
                    "ec2:DescribeSnapshots",
                    "ec2:DescribeTags",
                    "ec2:DescribeVolumes",
                    "ec2:DescribeVolumesModifications",
                    "ec2:DetachVolume",
                    "ec2:ModifyVolume",
                ],
            )],
        ));
    }
    if on(a.fsx) {
        out.push(("PolicyFSX", vec![allow(all(), &["fsx:*"])]));
        out.push((
            "PolicyServiceLinkRole",
            vec![allow(
                partition_arn("iam::*:role/aws-service-role/*"),
                &[
                    "iam:CreateServiceLinkedRole",
                    "iam:AttachRolePolicy",
                    "iam:PutRolePolicy",
                ],
            )],
        ));
    }
    if on(a.efs) {
        out.push(("PolicyEFS", vec![allow(all(), &["elasticfilesystem:*"])]));
        out.push((
            "PolicyEFSEC2",
            vec![allow(
                all(),
                &[
                    "ec2:DescribeSubnets",
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DeleteNetworkInterface",
                    "ec2:ModifyNetworkInterfaceAttribute",
                    "ec2:DescribeNetworkInterfaceAttribute",
                ],
            )],
        ));
    }
    if on(a.aws_load_balancer_controller) {
        return Err(RenderError::NotRendered {
            path: path.key("awsLoadBalancerController"),
            what: "withAddonPolicies.awsLoadBalancerController (use IRSA for the controller)",
        });
    }
    if on(a.x_ray) {
        out.push((
            "PolicyXRay",
            vec![allow(
                all(),
                &[
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:GetSamplingStatisticSummaries",
                ],
            )],
        ));
    }
    Ok(out)
}
