//! Renders an eksctl `ClusterConfig` into the CloudFormation stacks eksctl would create for it: one
//! `eksctl-<cluster>-cluster` stack and one `eksctl-<cluster>-nodegroup-<name>` stack per node group
//! (unmanaged groups first, then managed groups, each in file order). Logical ids, output names,
//! exports (`<stack>::<Output>`) and stack tags follow eksctl's `pkg/cfn/builder` and
//! `pkg/cfn/outputs`, so value references such as `{{aws:nodegroup/<ng>/resource/NodeGroup}}` or
//! `{{aws:cluster/output/ARN}}` resolve against the same names eksctl uses.
//!
//! Rendering is pure and deterministic: the same config gives byte-identical JSON. Every JSON object
//! is emitted with its keys sorted (a resource's `Type` first), list-valued tags are sorted by key, so
//! a diff of two renderings shows only real changes.
//!
//! What is rendered: the control plane (`ControlPlane`), its service role and security groups, and
//! either the existing VPC's outputs (`vpc.id` with its subnets) or, when the config names no VPC,
//! the VPC eksctl would create (subnets per zone, internet and NAT gateways, routes; see `vpc.rs`);
//! per unmanaged group the instance role and profile, inline policies for `attachPolicy` and
//! `withAddonPolicies`, the local security group and its control-plane rules, an access entry, the
//! launch template (AL2023 `nodeadm` user data carrying labels and taints to the kubelet; AL2,
//! Bottlerocket and Windows bootstraps in `userdata.rs`, `bottlerocket.rs`, `windows.rs`) and the
//! Auto Scaling group (with a Spot `MixedInstancesPolicy` where asked, and the cluster-autoscaler
//! discovery and node-template tags); per managed group the role, a launch template (with the
//! custom AMI and `overrideBootstrapCommand` where given) or the user's `launchTemplate`, and the
//! `AWS::EKS::Nodegroup`; with `iam.withOIDC` the cluster's IAM OIDC provider (in the cluster
//! stack, where eksctl creates it through the API) and per `iam.serviceAccounts` entry eksctl's
//! `eksctl-<cluster>-addon-iamserviceaccount-<namespace>-<name>` stack with the role (see
//! `irsa.rs`); the control plane's logging, Secrets encryption, service CIDR, zonal shift,
//! upgrade policy, scaling tier and access configuration; per `accessConfig.accessEntries` entry
//! eksctl's `eksctl-<cluster>-accessentry-<hash>` stack (see `access_entry.rs`); with
//! `fargateProfiles` the Fargate pod execution role in the cluster stack, and the
//! profiles themselves as desired EKS API objects ([`eks_objects`], see `fargate.rs`), like the
//! `addons` (see `addons.rs`): eksctl creates both through EKS's API, not CloudFormation.
//!
//! What it deliberately does not do: look anything up in AWS (an existing VPC's subnets must be
//! listed with ids; the zones of a created VPC are the config's or a fixed default, never EC2's;
//! AMIs are SSM dynamic references, and the values eksctl reads from the live cluster are stack
//! parameters listed in [`RenderedStack::parameters`] for the executor to fill), install the
//! default EKS add-ons eksctl adds after the cluster stack (vpc-cni, kube-proxy, coredns), or
//! render fields listed by [`ClusterConfig::unrendered_fields`]. AMI families other than
//! AmazonLinux2023 (and for unmanaged groups AmazonLinux2, Bottlerocket and Windows Server
//! 2019/2022; for managed groups AmazonLinux2 with a custom AMI), SSH keys from local files, IPv6,
//! fully private clusters and Outposts are refused rather than rendered wrongly, and so is what
//! eksctl's validation refuses around a user's launch template or a custom AMI; [`render_stacks`] reports every refusal of a config at once. No I/O.

mod access_entry;
mod addons;
mod bottlerocket;
mod cluster;
mod fargate;
mod iam;
mod irsa;
mod managed;
mod nodegroup;
mod placement;
mod userdata;
mod vpc;
mod windows;

#[cfg(test)]
mod tests;

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use super::eksctl::{cluster_stack_name, ClusterConfig};
use super::path::FieldPath;

/// Kubernetes version used when `metadata.version` is not set (for the AMI lookup path).
pub const DEFAULT_KUBERNETES_VERSION: &str = "1.33";

/// The eksctl release whose stack shapes these templates follow. It is written to the
/// `alpha.eksctl.io/eksctl-version` stack tag, which eksctl parses as a semantic version when it
/// later reads the stacks.
pub const EKSCTL_COMPAT_VERSION: &str = "0.210.0";

/// Stack tags eksctl puts on every stack it creates.
pub mod tags {
    pub const CLUSTER_NAME: &str = "alpha.eksctl.io/cluster-name";
    pub const OLD_CLUSTER_NAME: &str = "eksctl.cluster.k8s.io/v1alpha1/cluster-name";
    pub const EKSCTL_VERSION: &str = "alpha.eksctl.io/eksctl-version";
    pub const NODEGROUP_NAME: &str = "alpha.eksctl.io/nodegroup-name";
    pub const OLD_NODEGROUP_NAME: &str = "eksctl.io/v1alpha2/nodegroup-name";
    pub const NODEGROUP_TYPE: &str = "alpha.eksctl.io/nodegroup-type";
    pub const IAM_SERVICE_ACCOUNT_NAME: &str = "alpha.eksctl.io/iamserviceaccount-name";
}

/// Output names of eksctl's stacks (`pkg/cfn/outputs`).
pub mod outputs {
    pub const VPC: &str = "VPC";
    pub const CLUSTER_SECURITY_GROUP_ID: &str = "ClusterSecurityGroupId";
    pub const SECURITY_GROUP: &str = "SecurityGroup";
    pub const SUBNETS_PRIVATE: &str = "SubnetsPrivate";
    pub const SUBNETS_PUBLIC: &str = "SubnetsPublic";
    pub const CERTIFICATE_AUTHORITY_DATA: &str = "CertificateAuthorityData";
    pub const ENDPOINT: &str = "Endpoint";
    pub const ARN: &str = "ARN";
    pub const CLUSTER_STACK_NAME: &str = "ClusterStackName";
    pub const SHARED_NODE_SECURITY_GROUP: &str = "SharedNodeSecurityGroup";
    pub const SERVICE_ROLE_ARN: &str = "ServiceRoleARN";
    pub const FEATURE_NAT_MODE: &str = "FeatureNATMode";
    pub const INSTANCE_ROLE_ARN: &str = "InstanceRoleARN";
    pub const INSTANCE_PROFILE_ARN: &str = "InstanceProfileARN";
    pub const FEATURE_PRIVATE_NETWORKING: &str = "FeaturePrivateNetworking";
    pub const FEATURE_SHARED_SECURITY_GROUP: &str = "FeatureSharedSecurityGroup";
    pub const FEATURE_LOCAL_SECURITY_GROUP: &str = "FeatureLocalSecurityGroup";
    pub const NODEGROUP_USES_ACCESS_ENTRY: &str = "NodeGroupUsesAccessEntry";
    /// eksync's: the ARN of the cluster's IAM OIDC provider (`iam.withOIDC`).
    pub const OIDC_PROVIDER_ARN: &str = "OIDCProviderArn";
    /// eksync's: the cluster's OIDC issuer without `https://`, as IAM condition keys name it.
    pub const OIDC_ISSUER: &str = "OIDCIssuer";
    /// The ARN of an IRSA service account's role (eksctl's `IAMServiceAccountRoleName`).
    pub const IAM_SERVICE_ACCOUNT_ROLE: &str = "Role1";
    /// The role Fargate pods run with (`fargateProfiles`).
    pub const FARGATE_POD_EXECUTION_ROLE_ARN: &str = "FargatePodExecutionRoleARN";
}

/// Which eksctl stack a rendering is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackKind {
    Cluster,
    NodeGroup {
        name: String,
        managed: bool,
    },
    /// The IAM role of an IRSA service account (`iam.serviceAccounts`).
    ServiceAccount {
        namespace: String,
        name: String,
    },
    /// The EKS access entry of an IAM principal (`accessConfig.accessEntries`).
    AccessEntry {
        principal_arn: String,
    },
}

/// A template parameter the executor must supply when it creates or updates the stack, and where
/// its value comes from. eksctl embeds these values after reading the live cluster; eksync keeps
/// the template deterministic and passes them in instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackParameter {
    pub key: String,
    pub source: ParameterSource,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterSource {
    /// The value of an output of another stack.
    StackOutput { stack: String, output: String },
    /// The cluster's service CIDR as EKS reports it
    /// (`DescribeCluster` -> `kubernetesNetworkConfig.serviceIpv4Cidr`).
    ClusterServiceCidr { cluster: String },
}

/// One rendered CloudFormation stack.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedStack {
    /// The stack name, as eksctl names it.
    pub name: String,
    pub kind: StackKind,
    /// The template, with every object's keys in a fixed order.
    pub template: Value,
    /// Stack-level tags (CloudFormation propagates them to the resources it creates).
    pub tags: BTreeMap<String, String>,
    /// Output keys, sorted.
    pub outputs: Vec<String>,
    /// `(logical id, AWS type)` of every resource, sorted by logical id.
    pub resources: Vec<(String, String)>,
    /// Parameters the executor must supply, sorted by key.
    pub parameters: Vec<StackParameter>,
}

impl RenderedStack {
    /// The AWS type of a resource, by logical id.
    pub fn resource_type(&self, logical_id: &str) -> Option<&str> {
        self.resources
            .iter()
            .find(|(id, _)| id == logical_id)
            .map(|(_, t)| t.as_str())
    }

    pub fn has_output(&self, key: &str) -> bool {
        self.outputs.iter().any(|o| o == key)
    }

    /// Names of the exports this stack declares (`<stack>::<Output>`), sorted: what other stacks
    /// may `Fn::ImportValue`.
    pub fn exports(&self) -> Vec<String> {
        let outputs = self.template.get("Outputs").and_then(Value::as_object);
        self.outputs
            .iter()
            .filter(|o| {
                outputs
                    .and_then(|m| m.get(*o))
                    .is_some_and(|v| v.get("Export").is_some())
            })
            .map(|o| format!("{}::{o}", self.name))
            .collect()
    }

    /// The template as pretty JSON with a trailing newline: the byte-stable form to store or diff.
    pub fn to_pretty_json(&self) -> String {
        // Serializing a `Value` cannot fail: every key is a string and there are no non-finite
        // floats (the renderer only writes strings, integers and booleans).
        let mut s = serde_json::to_string_pretty(&self.template).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The node group this stack belongs to, if it is a node group stack.
    pub fn nodegroup_name(&self) -> Option<&str> {
        match &self.kind {
            StackKind::NodeGroup { name, .. } => Some(name),
            StackKind::Cluster
            | StackKind::ServiceAccount { .. }
            | StackKind::AccessEntry { .. } => None,
        }
    }
}

/// The cluster stack among rendered stacks.
pub fn find_cluster_stack(stacks: &[RenderedStack]) -> Option<&RenderedStack> {
    stacks.iter().find(|s| s.kind == StackKind::Cluster)
}

/// The stack of the node group `name` (managed or not) among rendered stacks.
pub fn find_nodegroup_stack<'a>(
    stacks: &'a [RenderedStack],
    name: &str,
) -> Option<&'a RenderedStack> {
    stacks.iter().find(|s| s.nodegroup_name() == Some(name))
}

/// The stack of the IRSA service account `namespace/name` among rendered stacks.
pub fn find_service_account_stack<'a>(
    stacks: &'a [RenderedStack],
    namespace: &str,
    name: &str,
) -> Option<&'a RenderedStack> {
    stacks.iter().find(|s| {
        matches!(&s.kind, StackKind::ServiceAccount { namespace: n, name: a } if n == namespace && a == name)
    })
}

/// The access entry stack of the IAM principal `principal_arn` among rendered stacks.
pub fn find_access_entry_stack<'a>(
    stacks: &'a [RenderedStack],
    principal_arn: &str,
) -> Option<&'a RenderedStack> {
    stacks.iter().find(
        |s| matches!(&s.kind, StackKind::AccessEntry { principal_arn: p } if p == principal_arn),
    )
}

/// Why a config cannot be rendered. Each names the field path in the ClusterConfig document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{path}: {reason}")]
    ExistingVpc {
        path: FieldPath,
        reason: &'static str,
    },
    #[error("{path}: {reason}")]
    InvalidVpc { path: FieldPath, reason: String },
    #[error("{path}: AMI family {family:?} is not rendered yet: eksync writes the AmazonLinux2023 bootstrap, and for unmanaged groups also AmazonLinux2's and Bottlerocket's; these nodes need their own")]
    UnsupportedAmiFamily { path: FieldPath, family: String },
    #[error(
        "{path}: taint effect {effect:?} is not one of NoSchedule, PreferNoSchedule, NoExecute"
    )]
    InvalidTaintEffect { path: FieldPath, effect: String },
    #[error(
        "{path}: subnet {subnet:?} is neither a subnet id nor a name under vpc.subnets.{topology}"
    )]
    UnknownSubnet {
        path: FieldPath,
        subnet: String,
        topology: &'static str,
    },
    #[error("{path}: no {topology} subnet in availability zone {az:?}")]
    NoSubnetInZone {
        path: FieldPath,
        az: String,
        topology: &'static str,
    },
    #[error("{path}: the node group has no {topology} subnets to run in")]
    NoSubnets {
        path: FieldPath,
        topology: &'static str,
    },
    #[error("{path}: instancesDistribution needs at least one instance type")]
    NoInstanceTypes { path: FieldPath },
    #[error("{path}: {what} is not rendered yet")]
    NotRendered { path: FieldPath, what: &'static str },
    #[error("{path}: an IPv6 cluster {reason} (eksctl refuses this too)")]
    Ipv6 { path: FieldPath, reason: String },
    /// A combination eksctl refuses too (its `validation.go`), said in its words where it can.
    #[error("{path}: {reason}")]
    InvalidNodeGroup { path: FieldPath, reason: String },
    #[error("{path}: an IRSA service account needs iam.withOIDC: true (the role trusts the cluster's IAM OIDC provider, which only withOIDC creates; eksctl refuses this too)")]
    NeedsOidc { path: FieldPath },
}

impl RenderError {
    /// The field of the ClusterConfig document the error is about.
    pub fn path(&self) -> &FieldPath {
        match self {
            RenderError::ExistingVpc { path, .. }
            | RenderError::InvalidVpc { path, .. }
            | RenderError::UnsupportedAmiFamily { path, .. }
            | RenderError::InvalidTaintEffect { path, .. }
            | RenderError::UnknownSubnet { path, .. }
            | RenderError::NoSubnetInZone { path, .. }
            | RenderError::NoSubnets { path, .. }
            | RenderError::NoInstanceTypes { path }
            | RenderError::NotRendered { path, .. }
            | RenderError::NeedsOidc { path }
            | RenderError::Ipv6 { path, .. }
            | RenderError::InvalidNodeGroup { path, .. } => path,
        }
    }
}

/// The EKS API objects of a cluster (eksctl creates them through EKS's API, not CloudFormation):
/// its Fargate profiles, then its add-ons, then its Pod Identity associations, each in file
/// order.
pub fn eks_objects(cfg: &ClusterConfig) -> Vec<crate::awsdiff::DesiredEksObject> {
    let mut out = fargate::profiles(cfg);
    out.extend(addons::addons(cfg));
    out.extend(addons::pod_identities(cfg));
    out
}

/// Renders the cluster stack followed by one stack per node group (`nodeGroups` then
/// `managedNodeGroups`, in file order), then one stack per IRSA service account
/// (`iam.serviceAccounts` in file order, but for those with `attachRoleARN`, which need no role),
/// then one stack per access entry (`accessConfig.accessEntries`, in file order); on failure, the first error of [`render_stacks`].
pub fn render_cluster(cfg: &ClusterConfig) -> Result<Vec<RenderedStack>, RenderError> {
    render_stacks(cfg).map_err(|mut errors| errors.swap_remove(0))
}

/// Like [`render_cluster`], but a failure holds every refusal of the config (never empty): each
/// stack is rendered even when another failed, and each stack reports all of its refusals, so
/// one refusal does not hide the next.
pub fn render_stacks(cfg: &ClusterConfig) -> Result<Vec<RenderedStack>, Vec<RenderError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    match cluster::render(cfg) {
        Ok(s) => {
            errors.extend(fargate::check(cfg, &s));
            out.push(s);
        }
        Err(e) => errors.extend(e),
    }
    let mut keep = |r: Result<RenderedStack, Vec<RenderError>>| match r {
        Ok(s) => out.push(s),
        Err(e) => errors.extend(e),
    };
    for (i, ng) in cfg.node_groups.iter().enumerate() {
        let path = FieldPath::keys(&["nodeGroups"]).index(i);
        keep(nodegroup::render(cfg, ng, &path));
    }
    for (i, ng) in cfg.managed_node_groups.iter().enumerate() {
        let path = FieldPath::keys(&["managedNodeGroups"]).index(i);
        keep(managed::render(cfg, ng, &path));
    }
    for (i, sa) in cfg.service_accounts().iter().enumerate() {
        let path = FieldPath::keys(&["iam", "serviceAccounts"]).index(i);
        if let Some(r) = irsa::render(cfg, sa, &path) {
            keep(r);
        }
    }
    out.extend(access_entry::render_all(cfg));
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

// ---- template building -------------------------------------------------------------------------

/// A template under construction; [`Template::finish`] turns it into a [`RenderedStack`].
pub(crate) struct Template {
    description: String,
    mappings: bool,
    parameters: BTreeMap<String, (Value, ParameterSource)>,
    resources: BTreeMap<String, (String, Value)>,
    outputs: BTreeMap<String, Value>,
}

impl Template {
    pub(crate) fn new(description: impl Into<String>) -> Self {
        Template {
            description: description.into(),
            mappings: false,
            parameters: BTreeMap::new(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }

    /// Adds eksctl's `ServicePrincipalPartitionMap` (used by [`service_principal`]).
    pub(crate) fn with_partition_mappings(&mut self) {
        self.mappings = true;
    }

    pub(crate) fn parameter(&mut self, key: &str, description: &str, source: ParameterSource) {
        self.parameters.insert(
            key.to_string(),
            (
                json!({"Type": "String", "Description": description}),
                source,
            ),
        );
    }

    /// Adds a resource; `body` holds `Properties` and any other attribute (`UpdatePolicy`, ...).
    pub(crate) fn resource(&mut self, logical_id: &str, aws_type: &str, body: Value) {
        self.resources
            .insert(logical_id.to_string(), (aws_type.to_string(), body));
    }

    /// Declares an output. Scalar values are written as strings: CloudFormation output values are
    /// strings (DescribeStacks returns them so), and a string in the template keeps the deployed and
    /// desired templates comparable.
    pub(crate) fn output(&mut self, name: &str, value: Value, export: bool) {
        let value = match value {
            Value::Bool(b) => Value::String(b.to_string()),
            Value::Number(n) => Value::String(n.to_string()),
            other => other,
        };
        let mut o = json!({ "Value": value });
        if export {
            o["Export"] = json!({"Name": sub(&format!("${{AWS::StackName}}::{name}"))});
        }
        self.outputs.insert(name.to_string(), o);
    }

    /// Turns every `Fn::ImportValue` of a cluster-stack export into a `Ref` to a parameter fed from
    /// that stack output (`ParameterSource::StackOutput`), so the executor passes the value at
    /// change time. Unlike eksctl, eksync does not couple stacks through exports: an export another
    /// stack imports can never change, which would block cluster-stack updates; the dependency stays
    /// explicit in the graph instead.
    fn imports_to_parameters(&mut self) {
        fn rewrite(v: &mut Value, found: &mut BTreeMap<String, (String, String)>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::String(export)) = m.get("Fn::ImportValue") {
                        if let Some((stack, output)) = export.split_once("::") {
                            let key = if output.starts_with("Cluster") {
                                output.to_string()
                            } else {
                                format!("Cluster{output}")
                            };
                            found.insert(key.clone(), (stack.to_string(), output.to_string()));
                            *v = json!({ "Ref": key });
                            return;
                        }
                    }
                    m.values_mut().for_each(|x| rewrite(x, found));
                }
                Value::Array(a) => a.iter_mut().for_each(|x| rewrite(x, found)),
                _ => {}
            }
        }
        let mut found = BTreeMap::new();
        for (_, body) in self.resources.values_mut() {
            rewrite(body, &mut found);
        }
        for (key, (stack, output)) in found {
            self.parameter(
                &key,
                &format!("output {output} of stack {stack}"),
                ParameterSource::StackOutput { stack, output },
            );
        }
    }

    pub(crate) fn finish(
        mut self,
        name: String,
        kind: StackKind,
        tags: BTreeMap<String, String>,
    ) -> RenderedStack {
        self.imports_to_parameters();
        let mut top = Map::new();
        top.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
        top.insert("Description".into(), json!(self.description));
        if self.mappings {
            top.insert(
                "Mappings".into(),
                json!({ "ServicePrincipalPartitionMap": partition_map() }),
            );
        }
        if !self.outputs.is_empty() {
            top.insert(
                "Outputs".into(),
                Value::Object(self.outputs.clone().into_iter().collect()),
            );
        }
        if !self.parameters.is_empty() {
            top.insert(
                "Parameters".into(),
                Value::Object(
                    self.parameters
                        .iter()
                        .map(|(k, (v, _))| (k.clone(), v.clone()))
                        .collect(),
                ),
            );
        }
        let mut resources = Map::new();
        for (id, (ty, body)) in &self.resources {
            let mut r = Map::new();
            r.insert("Type".into(), json!(ty));
            if let Value::Object(body) = canonical(body.clone()) {
                r.extend(body);
            }
            resources.insert(id.clone(), Value::Object(r));
        }
        let mut template = canonical(Value::Object(top));
        template["Resources"] = Value::Object(resources);
        RenderedStack {
            name,
            kind,
            template,
            tags,
            outputs: self.outputs.keys().cloned().collect(),
            resources: self
                .resources
                .iter()
                .map(|(id, (ty, _))| (id.clone(), ty.clone()))
                .collect(),
            parameters: self
                .parameters
                .into_iter()
                .map(|(key, (_, source))| StackParameter { key, source })
                .collect(),
        }
    }
}

/// Sorts the keys of every object, recursively; arrays keep their order (it is meaningful).
pub(crate) fn canonical(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<String, Value> =
                m.into_iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(canonical).collect()),
        other => other,
    }
}

fn partition_map() -> Value {
    let std = json!({"EC2": "ec2.amazonaws.com", "EKS": "eks.amazonaws.com",
        "EKSFargatePods": "eks-fargate-pods.amazonaws.com"});
    json!({
        "aws": std,
        "aws-cn": {"EC2": "ec2.amazonaws.com.cn", "EKS": "eks.amazonaws.com",
            "EKSFargatePods": "eks-fargate-pods.amazonaws.com"},
        "aws-iso": {"EC2": "ec2.c2s.ic.gov", "EKS": "eks.amazonaws.com",
            "EKSFargatePods": "eks-fargate-pods.amazonaws.com"},
        "aws-iso-b": {"EC2": "ec2.sc2s.sgov.gov", "EKS": "eks.amazonaws.com",
            "EKSFargatePods": "eks-fargate-pods.amazonaws.com"},
        "aws-iso-e": std,
        "aws-iso-f": std,
        "aws-us-gov": std,
    })
}

// ---- intrinsic helpers -------------------------------------------------------------------------

pub(crate) fn sub(s: &str) -> Value {
    json!({ "Fn::Sub": s })
}

pub(crate) fn ref_(logical_id: &str) -> Value {
    json!({ "Ref": logical_id })
}

pub(crate) fn get_att(logical_id: &str, attr: &str) -> Value {
    json!({ "Fn::GetAtt": [logical_id, attr] })
}

/// `Fn::ImportValue` of an export of the cluster stack, named as eksctl names it.
pub(crate) fn import_cluster(cluster: &str, output: &str) -> Value {
    json!({ "Fn::ImportValue": format!("{}::{output}", cluster_stack_name(cluster)) })
}

/// An AWS managed policy ARN in the stack's partition.
pub(crate) fn aws_policy_arn(name: &str) -> Value {
    sub(&format!("arn:${{AWS::Partition}}:iam::aws:policy/{name}"))
}

/// A service principal looked up in the partition map (`EC2`, `EKS`).
pub(crate) fn service_principal(service: &str) -> Value {
    json!({ "Fn::FindInMap": ["ServicePrincipalPartitionMap", {"Ref": "AWS::Partition"}, service] })
}

/// eksctl's `Name` tag on taggable resources: `<stack>/<logical id>`.
pub(crate) fn name_tag(logical_id: &str) -> Value {
    json!([{ "Key": "Name", "Value": sub(&format!("${{AWS::StackName}}/{logical_id}")) }])
}

/// `[{Key, Value}]` from a map, sorted by key.
pub(crate) fn tag_list(tags: &BTreeMap<String, String>) -> Value {
    Value::Array(
        tags.iter()
            .map(|(k, v)| json!({"Key": k, "Value": v}))
            .collect(),
    )
}

/// The stack tags eksctl puts on every stack of a cluster, plus `metadata.tags`.
/// Finishes a node group stack: eksctl's stack name and tags (the cluster's, the node group's own,
/// its name under both tag keys, and whether it is managed).
pub(crate) fn finish_nodegroup(
    t: Template,
    cfg: &ClusterConfig,
    name: &str,
    user_tags: &BTreeMap<String, String>,
    managed: bool,
) -> RenderedStack {
    let mut stack_tags = shared_stack_tags(cfg);
    stack_tags.extend(user_tags.clone());
    stack_tags.insert(tags::NODEGROUP_NAME.into(), name.to_string());
    stack_tags.insert(tags::OLD_NODEGROUP_NAME.into(), name.to_string());
    let kind = if managed { "managed" } else { "unmanaged" };
    stack_tags.insert(tags::NODEGROUP_TYPE.into(), kind.into());
    t.finish(
        crate::eksctl::nodegroup_stack_name(&cfg.metadata.name, name),
        StackKind::NodeGroup {
            name: name.to_string(),
            managed,
        },
        stack_tags,
    )
}

pub(crate) fn shared_stack_tags(cfg: &ClusterConfig) -> BTreeMap<String, String> {
    let mut t = cfg.metadata.tags.clone();
    let name = cfg.metadata.name.clone();
    t.insert(tags::CLUSTER_NAME.into(), name.clone());
    t.insert(tags::OLD_CLUSTER_NAME.into(), name);
    t.insert(tags::EKSCTL_VERSION.into(), EKSCTL_COMPAT_VERSION.into());
    t
}

pub(crate) fn kubernetes_version(cfg: &ClusterConfig) -> &str {
    cfg.metadata
        .version
        .as_deref()
        .unwrap_or(DEFAULT_KUBERNETES_VERSION)
}

/// A launch template's `TagSpecifications`: the same tags on instances, volumes and ENIs.
pub(crate) fn tag_specifications(tags: &Value) -> Value {
    Value::Array(
        ["instance", "volume", "network-interface"]
            .iter()
            .map(|r| json!({"ResourceType": r, "Tags": tags}))
            .collect(),
    )
}
