//! Data types shared by the AWS comparison: what the core wants ([`DesiredStack`],
//! [`DesiredRolePolicy`]) and what the adapter saw ([`LiveAws`]). Plain data: no logic beyond small
//! lookups, no SDK types.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Whether eksync corrects what differs or only reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftMode {
    /// Report and correct (the default).
    #[default]
    Correct,
    /// Report drift and template changes, change nothing.
    DetectOnly,
}

/// Who owns a live value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Owner {
    /// Git (the desired state): differences are drift to correct.
    Git,
    /// The cluster-autoscaler: live changes are expected and never corrected.
    ClusterAutoscaler,
    /// Another named controller: live changes are expected and never corrected.
    Other(String),
}

/// "Property `property` of resource `logical_id` belongs to `owner`". `property` is the template
/// property name (`DesiredCapacity`, `MaxSize`, `ScalingConfig.DesiredSize`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRule {
    pub logical_id: String,
    pub property: String,
    pub owner: Owner,
}

/// A value that must never be shown: `Debug` and `Serialize` print `****`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(****)")
    }
}

impl Serialize for SecretValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("****")
    }
}

impl<'de> Deserialize<'de> for SecretValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SecretValue)
    }
}

/// A stack parameter value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParamValue {
    /// A literal value from Git.
    Literal(String),
    /// A literal that must not be shown (the plan also treats `NoEcho` parameters so).
    Secret(SecretValue),
    /// The output `output` of stack `stack`: a value that flows, known after that stack applies.
    StackOutput { stack: String, output: String },
    /// The service CIDR of EKS cluster `cluster` (`DescribeCluster`
    /// `kubernetesNetworkConfig.serviceIpv4Cidr`), known once the cluster exists.
    EksServiceCidr { cluster: String },
}

/// One CloudFormation stack as Git wants it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredStack {
    pub name: String,
    pub template: Value,
    #[serde(default)]
    pub parameters: BTreeMap<String, ParamValue>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Stacks this one waits for (besides those its parameters read outputs from).
    #[serde(default)]
    pub depends_on: Vec<String>,
    #[serde(default)]
    pub mode: DriftMode,
    #[serde(default)]
    pub ownership: Vec<OwnerRule>,
}

impl DesiredStack {
    /// A stack with a template and defaults for everything else.
    pub fn new(name: impl Into<String>, template: Value) -> Self {
        Self {
            name: name.into(),
            template,
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
            depends_on: Vec::new(),
            mode: DriftMode::Correct,
            ownership: Vec::new(),
        }
    }

    /// Names of all stacks this one must wait for: explicit ones and output producers.
    pub fn dependencies(&self) -> Vec<String> {
        let mut deps = self.depends_on.clone();
        for value in self.parameters.values() {
            if let ParamValue::StackOutput { stack, .. } = value {
                if !deps.contains(stack) {
                    deps.push(stack.clone());
                }
            }
        }
        deps
    }
}

/// Where a role's name comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleSource {
    /// A role name given literally.
    Name(String),
    /// The physical id of resource `logical_id` (an `AWS::IAM::Role`) in stack `stack`.
    StackResource { stack: String, logical_id: String },
}

impl std::fmt::Display for RoleSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RoleSource::Name(n) => write!(f, "{n}"),
            RoleSource::StackResource { stack, logical_id } => write!(f, "{stack}/{logical_id}"),
        }
    }
}

/// An inline role policy that Git owns outside any template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredRolePolicy {
    pub role: RoleSource,
    pub policy_name: String,
    pub document: Value,
    #[serde(default)]
    pub mode: DriftMode,
}

/// A resource of a live stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStackResource {
    pub logical_id: String,
    pub physical_id: Option<String>,
    pub resource_type: String,
    pub status: String,
}

/// A live stack as DescribeStacks, GetTemplate and DescribeStackResources show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveStack {
    pub name: String,
    pub id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    /// The deployed template (original stage), parsed.
    pub template: Value,
    pub resources: Vec<LiveStackResource>,
    /// Last update (or creation) time as the API gave it, RFC 3339.
    pub last_changed: Option<String>,
}

impl LiveStack {
    /// The physical id of a logical resource, if the stack has it.
    pub fn physical_id(&self, logical_id: &str) -> Option<&str> {
        self.resources
            .iter()
            .find(|r| r.logical_id == logical_id)
            .and_then(|r| r.physical_id.as_deref())
    }

    /// `(partition, region, account)` parsed from the stack id ARN.
    pub fn arn_parts(&self) -> Option<(&str, &str, &str)> {
        let mut parts = self.id.split(':');
        let _arn = parts.next()?;
        let partition = parts.next()?;
        let _service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        Some((partition, region, account))
    }
}

/// A live Auto Scaling group's owned values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAsg {
    pub name: String,
    pub min_size: i64,
    pub max_size: i64,
    pub desired_capacity: i64,
    pub tags: BTreeMap<String, String>,
}

/// A live inline role policy; `document` is `None` when the role has no such policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveRolePolicy {
    pub role_name: String,
    pub policy_name: String,
    pub document: Option<Value>,
}

/// Live EKS cluster settings eksync compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEksCluster {
    pub name: String,
    pub version: Option<String>,
    pub status: Option<String>,
    pub service_ipv4_cidr: Option<String>,
}

/// Live EKS managed node group settings eksync compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveNodegroup {
    pub cluster: String,
    pub name: String,
    pub min_size: Option<i64>,
    pub max_size: Option<i64>,
    pub desired_size: Option<i64>,
    pub labels: BTreeMap<String, String>,
}

/// Everything the adapter read. Stacks missing from `stacks` do not exist ("to create").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveAws {
    pub stacks: BTreeMap<String, LiveStack>,
    /// Keyed by the group's physical name.
    pub asgs: BTreeMap<String, LiveAsg>,
    /// Keyed by role name, then policy name.
    pub role_policies: BTreeMap<String, BTreeMap<String, LiveRolePolicy>>,
    pub eks_clusters: BTreeMap<String, LiveEksCluster>,
    /// Keyed by cluster, then node group.
    pub eks_nodegroups: BTreeMap<String, BTreeMap<String, LiveNodegroup>>,
    /// Fargate profiles Git names, keyed by cluster, then profile (a missing one does not exist).
    #[serde(default)]
    pub eks_fargate_profiles: BTreeMap<String, BTreeMap<String, super::eks::LiveFargateProfile>>,
    /// Add-ons Git names, keyed by cluster, then add-on.
    #[serde(default)]
    pub eks_addons: BTreeMap<String, BTreeMap<String, super::eks::LiveAddon>>,
    /// Pod Identity associations Git names, keyed by cluster, then `<namespace>/<account>`.
    #[serde(default)]
    pub eks_pod_identities: BTreeMap<String, BTreeMap<String, super::eks::LivePodIdentity>>,
}

impl LiveAws {
    /// The live inline policy `policy` of role `role`, if it was read.
    pub fn role_policy(&self, role: &str, policy: &str) -> Option<&LiveRolePolicy> {
        self.role_policies.get(role).and_then(|m| m.get(policy))
    }

    /// Records a live inline policy.
    pub fn insert_role_policy(&mut self, p: LiveRolePolicy) {
        self.role_policies
            .entry(p.role_name.clone())
            .or_default()
            .insert(p.policy_name.clone(), p);
    }

    /// The live managed node group, if it was read.
    pub fn nodegroup(&self, cluster: &str, name: &str) -> Option<&LiveNodegroup> {
        self.eks_nodegroups.get(cluster).and_then(|m| m.get(name))
    }

    /// The live Fargate profile, if it was read and exists.
    pub fn fargate_profile(
        &self,
        cluster: &str,
        name: &str,
    ) -> Option<&super::eks::LiveFargateProfile> {
        self.eks_fargate_profiles
            .get(cluster)
            .and_then(|m| m.get(name))
    }

    /// The live add-on, if it was read and exists.
    pub fn addon(&self, cluster: &str, name: &str) -> Option<&super::eks::LiveAddon> {
        self.eks_addons.get(cluster).and_then(|m| m.get(name))
    }

    /// The live Pod Identity association of a service account, if it was read and exists.
    pub fn pod_identity(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Option<&super::eks::LivePodIdentity> {
        self.eks_pod_identities
            .get(cluster)
            .and_then(|m| m.get(&format!("{namespace}/{service_account}")))
    }

    /// A value as this snapshot knows it: `None` while it is known only after apply.
    pub fn resolve(&self, value: &ParamValue) -> Option<String> {
        match value {
            ParamValue::Literal(s) => Some(s.clone()),
            ParamValue::Secret(s) => Some(s.expose().to_string()),
            ParamValue::StackOutput { stack, output } => self
                .stacks
                .get(stack)
                .and_then(|s| s.outputs.get(output))
                .cloned(),
            ParamValue::EksServiceCidr { cluster } => self
                .eks_clusters
                .get(cluster)
                .and_then(|c| c.service_ipv4_cidr.clone()),
        }
    }

    /// Resolves a role source to a name, if the live snapshot knows it.
    pub fn role_name(&self, source: &RoleSource) -> Option<String> {
        match source {
            RoleSource::Name(n) => Some(n.clone()),
            RoleSource::StackResource { stack, logical_id } => self
                .stacks
                .get(stack)
                .and_then(|s| s.physical_id(logical_id))
                .map(str::to_string),
        }
    }
}
