//! IAM roles for service accounts (IRSA), after eksctl's `IAMRoleResourceSet`
//! (`pkg/cfn/builder/iam.go`, `iam_helper.go`'s `createWellKnownPolicies`, `statement.go`) and
//! `pkg/iam/oidc`: the cluster's IAM OIDC provider (added to the cluster stack under
//! `iam.withOIDC`) and, per `iam.serviceAccounts` entry, the stack
//! `eksctl-<cluster>-addon-iamserviceaccount-<namespace>-<name>` holding `Role1` (trusted by the
//! provider for `system:serviceaccount:<namespace>:<name>`), its managed policies
//! (`attachPolicyARNs`, `wellKnownPolicies.imageBuilder`), its inline policies (`Policy1` from
//! `attachPolicy`, one per well-known switch) and the output `Role1` (the role's ARN).
//!
//! Two differences from eksctl, both because eksync renders offline: eksctl creates the provider
//! through the IAM API after reading the issuer's certificate, eksync declares an
//! `AWS::IAM::OIDCProvider` without `ThumbprintList` (optional in CloudFormation; IAM then
//! fetches the issuer's CA thumbprint itself, and since 2023 it does not use thumbprints for EKS
//! issuers at all); and eksctl writes the issuer into the trust policy's condition keys
//! literally, where eksync cannot know it before the cluster exists: the role's stack takes the
//! provider's ARN and issuer as parameters read from the cluster stack's outputs (as node group
//! stacks take theirs), and the trust policy is a `Fn::Sub` of the policy text, since
//! CloudFormation evaluates no function in a JSON key.
//!
//! It deliberately does not render `subjectPattern` (warned about as ignored), EKS Pod Identity
//! associations, nor the ServiceAccount object (the loader adds that to the model, see
//! `load::irsa`). An entry with `attachRoleARN` needs no stack.

use serde_json::{json, Value};

use super::cluster::CONTROL_PLANE;
use super::iam::{addon_policies, allow, partition_arn};
use super::{
    aws_policy_arn, get_att, outputs as out, ref_, shared_stack_tags, sub, tags, ParameterSource,
    RenderError, RenderedStack, StackKind, Template, EKSCTL_COMPAT_VERSION,
};
use crate::eksctl::{cluster_stack_name, iamserviceaccount_stack_name, AddonPolicies};
use crate::eksctl::{ClusterConfig, IamServiceAccount};
use crate::path::FieldPath;

/// The provider's logical id in the cluster stack.
pub(crate) const OIDC_PROVIDER: &str = "OIDCProvider";
/// The audience EKS writes into service account tokens (eksctl's `defaultAudience`).
pub(crate) const STS_AUDIENCE: &str = "sts.amazonaws.com";
/// The role's logical id (eksctl's `outputs.IAMServiceAccountRoleName`).
pub(crate) const ROLE: &str = "Role1";

const PROVIDER_ARN_PARAM: &str = "ClusterOIDCProviderArn";
const ISSUER_PARAM: &str = "ClusterOIDCIssuer";

/// Adds the IAM OIDC provider of the cluster and its two outputs (exported, as the cluster
/// stack's other outputs are).
pub(super) fn add_oidc_provider(t: &mut Template) {
    let issuer_url = get_att(CONTROL_PLANE, "OpenIdConnectIssuerUrl");
    t.resource(
        OIDC_PROVIDER,
        "AWS::IAM::OIDCProvider",
        json!({"Properties": {
            "ClientIdList": [STS_AUDIENCE],
            "Url": issuer_url.clone(),
        }}),
    );
    // `Ref` of an AWS::IAM::OIDCProvider is its ARN.
    t.output(out::OIDC_PROVIDER_ARN, ref_(OIDC_PROVIDER), true);
    // `https://oidc.eks.<region>.amazonaws.com/id/<ID>` -> `oidc.eks.<region>.amazonaws.com/id/<ID>`.
    t.output(
        out::OIDC_ISSUER,
        json!({"Fn::Select": [1, {"Fn::Split": ["//", issuer_url]}]}),
        true,
    );
}

/// The trust policy of the role of `namespace/name`, as the text of a `Fn::Sub` over the
/// stack's provider parameters.
fn trust_policy(namespace: &str, name: &str) -> Value {
    let issuer = format!("${{{ISSUER_PARAM}}}");
    let mut condition = serde_json::Map::new();
    condition.insert(format!("{issuer}:aud"), json!(STS_AUDIENCE));
    condition.insert(
        format!("{issuer}:sub"),
        json!(format!("system:serviceaccount:{namespace}:{name}")),
    );
    let doc = super::canonical(json!({
        "Statement": [{
            "Action": ["sts:AssumeRoleWithWebIdentity"],
            "Condition": {"StringEquals": Value::Object(condition)},
            "Effect": "Allow",
            "Principal": {"Federated": format!("${{{PROVIDER_ARN_PARAM}}}")},
        }],
        "Version": "2012-10-17",
    }));
    // Serializing a `Value` of strings cannot fail; were it to, the empty text fails the stack's
    // validation instead of panicking here.
    sub(&serde_json::to_string(&doc).unwrap_or_default())
}

/// eksctl's `createWellKnownPolicies`: managed policy names and inline policies, by logical id.
fn well_known(sa: &IamServiceAccount) -> (Vec<&'static str>, Vec<(&'static str, Vec<Value>)>) {
    let mut managed = Vec::new();
    let mut inline: Vec<(&'static str, Vec<Value>)> = Vec::new();
    if sa.well_known("imageBuilder") {
        managed.push("AmazonEC2ContainerRegistryPowerUser");
    }
    // The node group add-on switches carry the same statements under the same names.
    let shared = AddonPolicies {
        auto_scaler: Some(sa.well_known("autoScaler")),
        external_dns: Some(sa.well_known("externalDNS")),
        cert_manager: Some(sa.well_known("certManager")),
        ..AddonPolicies::default()
    };
    // Only `awsLoadBalancerController` is refused there, and it is not set here.
    inline.extend(addon_policies(&shared, &FieldPath::root()).unwrap_or_default());
    if sa.well_known("awsLoadBalancerController") {
        inline.push((
            "PolicyAWSLoadBalancerController",
            load_balancer_controller(),
        ));
    }
    if sa.well_known("ebsCSIController") {
        inline.push(("PolicyEBSCSIController", ebs_csi_controller()));
    }
    if sa.well_known("efsCSIController") {
        inline.push(("PolicyEFSCSIController", efs_csi_controller()));
    }
    (managed, inline)
}

/// The stack of one `iam.serviceAccounts` entry; `None` when it names an existing role
/// (`attachRoleARN`: eksctl creates no stack then).
pub(super) fn render(
    cfg: &ClusterConfig,
    sa: &IamServiceAccount,
    path: &FieldPath,
) -> Option<Result<RenderedStack, Vec<RenderError>>> {
    if sa.attach_role_arn.is_some() {
        return None;
    }
    if !cfg.with_oidc() {
        return Some(Err(vec![RenderError::NeedsOidc { path: path.clone() }]));
    }
    let cluster = &cfg.metadata.name;
    let (namespace, name) = (sa.namespace(), sa.metadata.name.as_str());
    let mut t = Template::new(format!(
        "IAM role for serviceaccount \"{namespace}/{name}\" [created and managed by eksctl]"
    ));
    let cluster_stack = cluster_stack_name(cluster);
    for (key, output) in [
        (PROVIDER_ARN_PARAM, out::OIDC_PROVIDER_ARN),
        (ISSUER_PARAM, out::OIDC_ISSUER),
    ] {
        t.parameter(
            key,
            &format!("output {output} of stack {cluster_stack}"),
            ParameterSource::StackOutput {
                stack: cluster_stack.clone(),
                output: output.to_string(),
            },
        );
    }
    let (managed, inline) = well_known(sa);
    let mut policies: Vec<Value> = sa.attach_policy_arns.iter().map(|a| json!(a)).collect();
    policies.extend(managed.into_iter().map(aws_policy_arn));
    let mut props = json!({ "AssumeRolePolicyDocument": trust_policy(namespace, name) });
    if !policies.is_empty() {
        props["ManagedPolicyArns"] = Value::Array(policies);
    }
    if let Some(b) = &sa.permissions_boundary {
        props["PermissionsBoundary"] = json!(b);
    }
    if let Some(n) = &sa.role_name {
        props["RoleName"] = json!(n);
    }
    t.resource(ROLE, "AWS::IAM::Role", json!({ "Properties": props }));
    let mut attach = |id: &str, document: Value| {
        t.resource(
            id,
            "AWS::IAM::Policy",
            json!({"Properties": {
                "PolicyDocument": document,
                "PolicyName": sub(&format!("${{AWS::StackName}}-{id}")),
                "Roles": [ref_(ROLE)],
            }}),
        );
    };
    for (id, statements) in inline {
        attach(
            id,
            json!({"Statement": statements, "Version": "2012-10-17"}),
        );
    }
    if let Some(doc) = sa.attach_policy.as_ref().filter(|d| !is_empty_doc(d)) {
        attach("Policy1", doc.clone());
    }
    t.output(out::IAM_SERVICE_ACCOUNT_ROLE, get_att(ROLE, "Arn"), false);

    let mut stack_tags = shared_stack_tags(cfg);
    stack_tags.extend(sa.tags.clone());
    stack_tags.insert(
        tags::IAM_SERVICE_ACCOUNT_NAME.into(),
        format!("{namespace}/{name}"),
    );
    stack_tags.insert(tags::EKSCTL_VERSION.into(), EKSCTL_COMPAT_VERSION.into());
    Some(Ok(t.finish(
        iamserviceaccount_stack_name(cluster, namespace, name),
        StackKind::ServiceAccount {
            namespace: namespace.to_string(),
            name: name.to_string(),
        },
        stack_tags,
    )))
}

/// eksctl attaches `attachPolicy` only when it has keys.
fn is_empty_doc(v: &Value) -> bool {
    v.is_null() || v.as_object().is_some_and(serde_json::Map::is_empty)
}

fn all() -> Value {
    json!("*")
}

fn with_condition(mut statement: Value, condition: Value) -> Value {
    statement["Condition"] = condition;
    statement
}

/// eksctl's `ebsStatements` (what the EBS CSI controller needs, scoped by its tags).
fn ebs_csi_controller() -> Vec<Value> {
    let volumes_and_snapshots = || {
        json!([
            partition_arn("ec2:*:*:volume/*"),
            partition_arn("ec2:*:*:snapshot/*"),
        ])
    };
    let like = |action: &str, key: &str, value: &str| {
        with_condition(
            allow(all(), &[action]),
            json!({"StringLike": { key: value }}),
        )
    };
    vec![
        allow(
            all(),
            &[
                "ec2:CreateSnapshot",
                "ec2:AttachVolume",
                "ec2:DetachVolume",
                "ec2:ModifyVolume",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInstances",
                "ec2:DescribeSnapshots",
                "ec2:DescribeTags",
                "ec2:DescribeVolumes",
                "ec2:DescribeVolumesModifications",
            ],
        ),
        with_condition(
            allow(volumes_and_snapshots(), &["ec2:CreateTags"]),
            json!({"StringEquals": {"ec2:CreateAction": ["CreateVolume", "CreateSnapshot"]}}),
        ),
        allow(volumes_and_snapshots(), &["ec2:DeleteTags"]),
        like(
            "ec2:CreateVolume",
            "aws:RequestTag/ebs.csi.aws.com/cluster",
            "true",
        ),
        like("ec2:CreateVolume", "aws:RequestTag/CSIVolumeName", "*"),
        like(
            "ec2:DeleteVolume",
            "ec2:ResourceTag/ebs.csi.aws.com/cluster",
            "true",
        ),
        like("ec2:DeleteVolume", "ec2:ResourceTag/CSIVolumeName", "*"),
        like(
            "ec2:DeleteVolume",
            "ec2:ResourceTag/kubernetes.io/created-for/pvc/name",
            "*",
        ),
        like(
            "ec2:DeleteSnapshot",
            "ec2:ResourceTag/CSIVolumeSnapshotName",
            "*",
        ),
        like(
            "ec2:DeleteSnapshot",
            "ec2:ResourceTag/ebs.csi.aws.com/cluster",
            "true",
        ),
    ]
}

/// eksctl's `efsCSIControllerStatements`.
fn efs_csi_controller() -> Vec<Value> {
    let tagged = |action: &str, key: &str| {
        with_condition(
            allow(all(), &[action]),
            json!({"StringLike": { key: "true" }}),
        )
    };
    vec![
        allow(
            all(),
            &[
                "elasticfilesystem:DescribeAccessPoints",
                "elasticfilesystem:DescribeFileSystems",
            ],
        ),
        tagged(
            "elasticfilesystem:CreateAccessPoint",
            "aws:RequestTag/efs.csi.aws.com/cluster",
        ),
        tagged(
            "elasticfilesystem:TagResource",
            "aws:RequestTag/efs.csi.aws.com/cluster",
        ),
        tagged(
            "elasticfilesystem:DeleteAccessPoint",
            "aws:ResourceTag/efs.csi.aws.com/cluster",
        ),
    ]
}

/// eksctl's `loadBalancerControllerStatements`: what the AWS Load Balancer Controller needs, its
/// writes scoped to resources tagged `elbv2.k8s.aws/cluster`.
fn load_balancer_controller() -> Vec<Value> {
    let cluster_tag = |request: Option<&str>, resource: Option<&str>| {
        let mut null = serde_json::Map::new();
        if let Some(v) = request {
            null.insert("aws:RequestTag/elbv2.k8s.aws/cluster".into(), json!(v));
        }
        if let Some(v) = resource {
            null.insert("aws:ResourceTag/elbv2.k8s.aws/cluster".into(), json!(v));
        }
        Value::Object(null)
    };
    let security_groups = || partition_arn("ec2:*:*:security-group/*");
    let elb = |rest: &str| partition_arn(&format!("elasticloadbalancing:*:*:{rest}"));
    let balancers_and_groups = || {
        json!([
            elb("targetgroup/*/*"),
            elb("loadbalancer/net/*/*"),
            elb("loadbalancer/app/*/*"),
        ])
    };
    vec![
        with_condition(
            allow(all(), &["iam:CreateServiceLinkedRole"]),
            json!({"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}),
        ),
        allow(
            all(),
            &[
                "ec2:DescribeAccountAttributes",
                "ec2:DescribeAddresses",
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInternetGateways",
                "ec2:DescribeVpcs",
                "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces",
                "ec2:DescribeTags",
                "ec2:GetCoipPoolUsage",
                "ec2:DescribeCoipPools",
                "elasticloadbalancing:DescribeLoadBalancers",
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeListenerCertificates",
                "elasticloadbalancing:DescribeSSLPolicies",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetGroupAttributes",
                "elasticloadbalancing:DescribeTargetHealth",
                "elasticloadbalancing:DescribeTags",
            ],
        ),
        allow(
            all(),
            &[
                "cognito-idp:DescribeUserPoolClient",
                "acm:ListCertificates",
                "acm:DescribeCertificate",
                "iam:ListServerCertificates",
                "iam:GetServerCertificate",
                "waf-regional:GetWebACL",
                "waf-regional:GetWebACLForResource",
                "waf-regional:AssociateWebACL",
                "waf-regional:DisassociateWebACL",
                "wafv2:GetWebACL",
                "wafv2:GetWebACLForResource",
                "wafv2:AssociateWebACL",
                "wafv2:DisassociateWebACL",
                "shield:GetSubscriptionState",
                "shield:DescribeProtection",
                "shield:CreateProtection",
                "shield:DeleteProtection",
            ],
        ),
        allow(
            all(),
            &[
                "ec2:AuthorizeSecurityGroupIngress",
                "ec2:RevokeSecurityGroupIngress",
            ],
        ),
        allow(all(), &["ec2:CreateSecurityGroup"]),
        with_condition(
            allow(security_groups(), &["ec2:CreateTags"]),
            json!({
                "Null": cluster_tag(Some("false"), None),
                "StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"},
            }),
        ),
        with_condition(
            allow(security_groups(), &["ec2:CreateTags", "ec2:DeleteTags"]),
            json!({"Null": cluster_tag(Some("true"), Some("false"))}),
        ),
        with_condition(
            allow(
                all(),
                &[
                    "ec2:AuthorizeSecurityGroupIngress",
                    "ec2:RevokeSecurityGroupIngress",
                    "ec2:DeleteSecurityGroup",
                ],
            ),
            json!({"Null": cluster_tag(None, Some("false"))}),
        ),
        with_condition(
            allow(
                all(),
                &[
                    "elasticloadbalancing:CreateLoadBalancer",
                    "elasticloadbalancing:CreateTargetGroup",
                ],
            ),
            json!({"Null": cluster_tag(Some("false"), None)}),
        ),
        allow(
            all(),
            &[
                "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener",
                "elasticloadbalancing:CreateRule",
                "elasticloadbalancing:DeleteRule",
            ],
        ),
        with_condition(
            allow(
                balancers_and_groups(),
                &[
                    "elasticloadbalancing:AddTags",
                    "elasticloadbalancing:RemoveTags",
                ],
            ),
            json!({"Null": cluster_tag(Some("true"), Some("false"))}),
        ),
        allow(
            json!([
                elb("listener/net/*/*/*"),
                elb("listener/app/*/*/*"),
                elb("listener-rule/net/*/*/*"),
                elb("listener-rule/app/*/*/*"),
            ]),
            &[
                "elasticloadbalancing:AddTags",
                "elasticloadbalancing:RemoveTags",
            ],
        ),
        with_condition(
            allow(
                all(),
                &[
                    "elasticloadbalancing:ModifyLoadBalancerAttributes",
                    "elasticloadbalancing:SetIpAddressType",
                    "elasticloadbalancing:SetSecurityGroups",
                    "elasticloadbalancing:SetSubnets",
                    "elasticloadbalancing:DeleteLoadBalancer",
                    "elasticloadbalancing:ModifyTargetGroup",
                    "elasticloadbalancing:ModifyTargetGroupAttributes",
                    "elasticloadbalancing:DeleteTargetGroup",
                ],
            ),
            json!({"Null": cluster_tag(None, Some("false"))}),
        ),
        with_condition(
            allow(balancers_and_groups(), &["elasticloadbalancing:AddTags"]),
            json!({
                "Null": cluster_tag(Some("false"), None),
                "StringEquals": {"elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]},
            }),
        ),
        allow(
            elb("targetgroup/*/*"),
            &[
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
            ],
        ),
        allow(
            all(),
            &[
                "elasticloadbalancing:SetWebAcl",
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:AddListenerCertificates",
                "elasticloadbalancing:RemoveListenerCertificates",
                "elasticloadbalancing:ModifyRule",
            ],
        ),
    ]
}
