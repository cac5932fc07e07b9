//! The eksctl `ClusterConfig` schema (`apiVersion: eksctl.io/v1alpha5`), with eksctl's field names
//! and meanings so existing eksctl files load unchanged, and its defaults.
//!
//! Decoding is strict: an unknown field is an error naming its path, as in eksctl. [`shape`] is the
//! schema as a table: the loader walks a raw document with it first, so that every unknown field at
//! any depth is reported in one run, then decodes the typed structs below (which hold every field of
//! the table, typed where eksync uses them, raw values otherwise). Fields eksctl knows but eksync does
//! not act on are reported as warnings by the loader (see [`ClusterConfig::unrendered_fields`]),
//! never silently dropped. Semantic checks live in `load::cluster::validate`; this module only
//! describes shapes and defaults.

pub mod shape;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use super::path::FieldPath;

pub const API_VERSION: &str = "eksctl.io/v1alpha5";
pub const KIND: &str = "ClusterConfig";

/// eksctl's default node group size when none of desired/min/max is given.
pub const DEFAULT_NODE_COUNT: u32 = 2;
/// eksctl's default root volume size in GiB.
pub const DEFAULT_VOLUME_SIZE: u32 = 80;
pub const DEFAULT_VOLUME_TYPE: &str = "gp3";
pub const DEFAULT_INSTANCE_TYPE: &str = "m5.large";

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterConfig {
    pub api_version: String,
    pub kind: String,
    pub metadata: ClusterMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_network_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam: Option<ClusterIam>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam_identity_mappings: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_providers: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_config: Option<AccessConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc: Option<ClusterVpc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addons: Vec<Addon>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addons_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_cluster: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_groups: Vec<NodeGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_node_groups: Vec<ManagedNodeGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fargate_profiles: Vec<FargateProfile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zones: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_zones: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch: Option<ClusterCloudWatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_encryption: Option<SecretsEncryption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub karpenter: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outpost: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zonal_shift_config: Option<ZonalShiftConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_network_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_mode_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gitops: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_scaling_config: Option<ControlPlaneScalingConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade_policy: Option<UpgradePolicy>,
    #[serde(
        default,
        rename = "kubeAPIServerConfig",
        skip_serializing_if = "Option::is_none"
    )]
    pub kube_api_server_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_controller_manager_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_scheduler_config: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterMeta {
    pub name: String,
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, rename = "accountID", skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub force_update_version: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_config: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterIam {
    #[serde(
        default,
        rename = "serviceRoleARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub service_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_role_permissions_boundary: Option<String>,
    #[serde(
        default,
        rename = "fargatePodExecutionRoleARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub fargate_pod_execution_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fargate_pod_execution_role_permissions_boundary: Option<String>,
    #[serde(default, rename = "withOIDC", skip_serializing_if = "Option::is_none")]
    pub with_oidc: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_accounts: Vec<IamServiceAccount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_identity_associations: Vec<PodIdentityAssociation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_resource_controller_policy: Option<bool>,
}

/// `accessConfig`: how IAM principals authenticate to the cluster, and the access entries eksctl
/// creates after the cluster (one stack each).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_cluster_creator_admin_permissions: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_entries: Vec<AccessEntry>,
}

/// eksctl's default `accessConfig.authenticationMode`.
pub const DEFAULT_AUTHENTICATION_MODE: &str = "API_AND_CONFIG_MAP";

impl AccessConfig {
    /// `authenticationMode`, or eksctl's default.
    pub fn authentication_mode(&self) -> &str {
        self.authentication_mode
            .as_deref()
            .unwrap_or(DEFAULT_AUTHENTICATION_MODE)
    }
}

/// One `accessConfig.accessEntries[]` entry: an `AWS::EKS::AccessEntry` for `principalARN`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessEntry {
    #[serde(default, rename = "principalARN")]
    pub principal_arn: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub entry_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kubernetes_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_username: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_policies: Vec<AccessPolicy>,
}

/// An EKS access policy associated with an access entry, and its scope.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessPolicy {
    #[serde(default, rename = "policyARN")]
    pub policy_arn: String,
    #[serde(default)]
    pub access_scope: AccessScope,
}

/// `cluster`, or `namespace` with the namespaces (patterns such as `dev-*` allowed).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessScope {
    #[serde(default, rename = "type")]
    pub scope_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

/// `cloudWatch`: control plane logging.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterCloudWatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_logging: Option<ClusterCloudWatchLogging>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterCloudWatchLogging {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enable_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_retention_in_days: Option<i64>,
}

/// The control plane log types EKS knows, in eksctl's order (`SupportedCloudWatchClusterLogTypes`).
pub const CLUSTER_LOG_TYPES: [&str; 5] = [
    "api",
    "audit",
    "authenticator",
    "controllerManager",
    "scheduler",
];

impl ClusterConfig {
    /// The control plane log types to enable, as eksctl expands them: a lone `"*"` or `"all"`
    /// means every type; otherwise the listed types, in order. Empty when logging is not set.
    pub fn cluster_log_types(&self) -> Vec<String> {
        let types = self
            .cloud_watch
            .as_ref()
            .and_then(|c| c.cluster_logging.as_ref())
            .map_or(&[][..], |l| l.enable_types.as_slice());
        match types {
            [one] if one == "*" || one == "all" => {
                CLUSTER_LOG_TYPES.iter().map(|t| t.to_string()).collect()
            }
            _ => types.to_vec(),
        }
    }

    /// `accessConfig.accessEntries`, empty when there is no `accessConfig`.
    pub fn access_entries(&self) -> &[AccessEntry] {
        self.access_config
            .as_ref()
            .map_or(&[][..], |a| a.access_entries.as_slice())
    }

    /// `accessConfig.authenticationMode`, or eksctl's default.
    pub fn authentication_mode(&self) -> &str {
        self.access_config.as_ref().map_or(
            DEFAULT_AUTHENTICATION_MODE,
            AccessConfig::authentication_mode,
        )
    }
}

/// `secretsEncryption`: envelope encryption of Kubernetes Secrets with a KMS key.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretsEncryption {
    #[serde(default, rename = "keyARN", skip_serializing_if = "Option::is_none")]
    pub key_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ZonalShiftConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpgradePolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ControlPlaneScalingConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

/// An IRSA service account: eksctl creates a role trusted by the cluster's OIDC provider.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IamServiceAccount {
    pub metadata: ObjectMeta,
    #[serde(
        default,
        rename = "attachPolicyARNs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attach_policy_arns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_policy: Option<Value>,
    #[serde(
        default,
        rename = "attachRoleARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub attach_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub well_known_policies: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_only: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_pattern: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterVpc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_cidr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_pool: Option<String>,
    /// The control plane security group, when an existing one is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnets: Option<ClusterSubnets>,
    #[serde(default, rename = "extraCIDRs", skip_serializing_if = "Vec::is_empty")]
    pub extra_cidrs: Vec<String>,
    #[serde(
        default,
        rename = "extraIPv6CIDRs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub extra_ipv6_cidrs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_node_security_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_shared_node_security_group_rules: Option<bool>,
    #[serde(
        default,
        rename = "autoAllocateIPv6",
        skip_serializing_if = "Option::is_none"
    )]
    pub auto_allocate_ipv6: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_endpoints: Option<ClusterEndpoints>,
    #[serde(
        default,
        rename = "publicAccessCIDRs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub public_access_cidrs: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_egress_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_on_private_subnets: Option<bool>,
    #[serde(
        default,
        rename = "controlPlaneSecurityGroupIDs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub control_plane_security_group_ids: Vec<String>,
    #[serde(
        default,
        rename = "controlPlaneSubnetIDs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub control_plane_subnet_ids: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterEndpoints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_access: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_access: Option<bool>,
}

/// Existing subnets, keyed by a name of the user's choice (often the availability zone).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterSubnets {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub private: BTreeMap<String, Subnet>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub public: BTreeMap<String, Subnet>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Subnet {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub az: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
}

/// A node taint as eksctl writes it in the list form.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Taint {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub effect: String,
}

/// Unmanaged node groups accept taints as a list or, as older eksctl files do, as a map of
/// `key: "value:Effect"`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Taints {
    List(Vec<Taint>),
    Map(BTreeMap<String, String>),
}

impl Default for Taints {
    fn default() -> Self {
        Taints::List(Vec::new())
    }
}

impl Taints {
    /// The taints in list form; a map entry without `:Effect` gets an empty effect, which
    /// validation reports.
    pub fn to_list(&self) -> Vec<Taint> {
        match self {
            Taints::List(l) => l.clone(),
            Taints::Map(m) => m
                .iter()
                .map(|(k, v)| {
                    let (value, effect) = match v.rsplit_once(':') {
                        Some((val, eff)) => (val.to_string(), eff.to_string()),
                        None => (v.clone(), String::new()),
                    };
                    Taint {
                        key: k.clone(),
                        value: (!value.is_empty()).then_some(value),
                        effect,
                    }
                })
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Taints::List(l) => l.is_empty(),
            Taints::Map(m) => m.is_empty(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroupIam {
    /// An inline policy document attached to the node role by the node group's stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_policy: Option<Value>,
    #[serde(
        default,
        rename = "attachPolicyARNs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attach_policy_arns: Vec<String>,
    #[serde(
        default,
        rename = "instanceProfileARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_profile_arn: Option<String>,
    #[serde(
        default,
        rename = "instanceRoleARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_role_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_role_permissions_boundary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_addon_policies: Option<AddonPolicies>,
}

/// eksctl's `iam.withAddonPolicies`: each switches on an inline policy eksctl writes for a
/// well-known add-on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddonPolicies {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_builder: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaler: Option<bool>,
    #[serde(
        default,
        rename = "externalDNS",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_dns: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_manager: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_mesh: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_mesh_preview: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fsx: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efs: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_load_balancer_controller: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_ray: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_watch: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alb_ingress: Option<bool>,
}

/// Spot and mixed-instances settings of an unmanaged node group.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InstancesDistribution {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_base_capacity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_demand_percentage_above_base_capacity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_instance_pools: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot_allocation_strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_rebalance: Option<bool>,
}

impl InstancesDistribution {
    /// True when any capacity above the on-demand base is Spot.
    pub fn uses_spot(&self) -> bool {
        self.on_demand_percentage_above_base_capacity.unwrap_or(100) < 100
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroupSsh {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_security_group_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_ssm: Option<bool>,
}

impl NodeGroupSsh {
    /// Whether SSH is allowed, with eksctl's default (`setSSHDefaults`): naming a key in any of
    /// the three ways allows SSH unless `allow: false` says otherwise.
    pub fn allowed(&self) -> bool {
        self.allow.unwrap_or(
            self.public_key_name.is_some()
                || self.public_key_path.is_some()
                || self.public_key.is_some(),
        )
    }

    /// The field that allows SSH: `allow` when set, else the field naming the key.
    pub fn allowed_by(&self) -> &'static str {
        match (
            self.allow,
            &self.public_key_name,
            &self.public_key_path,
            &self.public_key,
        ) {
            (Some(_), ..) => "allow",
            (None, Some(_), ..) => "publicKeyName",
            (None, None, Some(_), _) => "publicKeyPath",
            (None, None, None, Some(_)) => "publicKey",
            (None, None, None, None) => "allow",
        }
    }

    /// The field and description of a key eksctl would import from outside EC2 (a local file, or
    /// the key's text), when SSH is allowed and no EC2 key pair is named: eksync installs no such key.
    pub fn key_not_installed(&self) -> Option<(&'static str, String)> {
        if !self.allowed() || self.public_key_name.is_some() {
            return None;
        }
        Some(match (&self.public_key_path, &self.public_key) {
            (Some(p), _) => ("publicKeyPath", format!("the local file {p}")),
            (None, Some(_)) => ("publicKey", "the key text in publicKey".to_string()),
            (None, None) => (
                "allow",
                "the default local file ~/.ssh/id_rsa.pub".to_string(),
            ),
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroupSecurityGroups {
    #[serde(default, rename = "attachIDs", skip_serializing_if = "Vec::is_empty")]
    pub attach_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_shared: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with_local: Option<bool>,
}

/// An unmanaged (self-managed) node group: an Auto Scaling group in its own stack.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeGroup {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zones: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_capacity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_encrypted: Option<bool>,
    #[serde(
        default,
        rename = "volumeKmsKeyID",
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_kms_key_id: Option<String>,
    #[serde(
        default,
        rename = "volumeIOPS",
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_iops: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_throughput: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_volumes: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<NodeGroupSsh>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Taints::is_empty")]
    pub taints: Taints,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_networking: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam: Option<NodeGroupIam>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<NodeGroupSecurityGroups>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pods_per_node: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asg_suspend_processes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs_optimized: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_bootstrap_commands: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_bootstrap_command: Option<String>,
    #[serde(
        default,
        rename = "propagateASGTags",
        skip_serializing_if = "Option::is_none"
    )]
    pub propagate_asg_tags: Option<bool>,
    #[serde(
        default,
        rename = "disableIMDSv1",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_imdsv1: Option<bool>,
    #[serde(
        default,
        rename = "disablePodIMDS",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_pod_imds: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efa_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_selector: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottlerocket: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_detailed_monitoring: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_reservation: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances_distribution: Option<InstancesDistribution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asg_metrics_collection: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_credits: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classic_load_balancer_names: Vec<String>,
    #[serde(
        default,
        rename = "targetGroupARNs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub target_group_arns: Vec<String>,
    #[serde(
        default,
        rename = "clusterDNS",
        skip_serializing_if = "Option::is_none"
    )]
    pub cluster_dns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet_extra_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_runtime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_instance_lifetime: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_zones: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_config: Option<Value>,
    #[serde(
        default,
        rename = "outpostARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub outpost_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_market_options: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enclave_enabled: Option<bool>,
}

/// An EKS managed node group (`AWS::EKS::Nodegroup`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManagedNodeGroup {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ami: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spot: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability_zones: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_capacity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_size: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_encrypted: Option<bool>,
    #[serde(
        default,
        rename = "volumeKmsKeyID",
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_kms_key_id: Option<String>,
    #[serde(
        default,
        rename = "volumeIOPS",
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_iops: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_throughput: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<NodeGroupSsh>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_networking: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iam: Option<NodeGroupIam>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<NodeGroupSecurityGroups>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pods_per_node: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asg_suspend_processes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ebs_optimized: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre_bootstrap_commands: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_bootstrap_command: Option<String>,
    #[serde(
        default,
        rename = "propagateASGTags",
        skip_serializing_if = "Option::is_none"
    )]
    pub propagate_asg_tags: Option<bool>,
    #[serde(
        default,
        rename = "disableIMDSv1",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_imdsv1: Option<bool>,
    #[serde(
        default,
        rename = "disablePodIMDS",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_pod_imds: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efa_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_selector: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottlerocket: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_detailed_monitoring: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_reservation: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_template: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_repair_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_volumes: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_market_options: Option<Value>,
    #[serde(
        default,
        rename = "outpostARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub outpost_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_name: Option<String>,
}

/// What every node group kind shares, as the graph and renderer need it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeGroupView<'a> {
    pub name: &'a str,
    pub managed: bool,
    pub spot: bool,
    pub labels: &'a BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub sizes: Sizes,
    /// Where this node group sits in its ClusterConfig document.
    pub path: FieldPath,
}

/// Desired/min/max after eksctl's defaulting: with nothing set, 2/2/2; a missing min or max takes
/// the desired value; a missing desired takes min.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub desired: i64,
    pub min: i64,
    pub max: i64,
}

impl Sizes {
    pub fn resolve(desired: Option<i64>, min: Option<i64>, max: Option<i64>) -> Sizes {
        let desired = desired.or(min).unwrap_or(if max == Some(0) {
            0
        } else {
            i64::from(DEFAULT_NODE_COUNT).min(max.unwrap_or(i64::MAX))
        });
        Sizes {
            desired,
            min: min.unwrap_or(desired),
            max: max.unwrap_or(desired),
        }
    }
}

impl ClusterConfig {
    /// Every node group, unmanaged first, in file order.
    pub fn node_groups(&self) -> Vec<NodeGroupView<'_>> {
        let mut out = Vec::new();
        for (i, ng) in self.node_groups.iter().enumerate() {
            out.push(NodeGroupView {
                name: &ng.name,
                managed: false,
                spot: ng
                    .instances_distribution
                    .as_ref()
                    .is_some_and(InstancesDistribution::uses_spot),
                labels: &ng.labels,
                taints: ng.taints.to_list(),
                sizes: Sizes::resolve(ng.desired_capacity, ng.min_size, ng.max_size),
                path: FieldPath::keys(&["nodeGroups"]).index(i),
            });
        }
        for (i, ng) in self.managed_node_groups.iter().enumerate() {
            out.push(NodeGroupView {
                name: &ng.name,
                managed: true,
                spot: ng.spot.unwrap_or(false),
                labels: &ng.labels,
                taints: ng.taints.clone(),
                sizes: Sizes::resolve(ng.desired_capacity, ng.min_size, ng.max_size),
                path: FieldPath::keys(&["managedNodeGroups"]).index(i),
            });
        }
        out
    }

    /// Fields eksctl knows that eksync accepts but does not act on (they do not change the rendered
    /// stacks), with their paths, so the loader can warn instead of dropping them silently. The
    /// table in [`shape`] decides; an ignored object is named once.
    pub fn unrendered_fields(&self) -> Vec<FieldPath> {
        // Serializing plain data (strings, numbers, maps with string keys) cannot fail; were it to,
        // `Null` names no field and the caller warns about nothing rather than panicking.
        let value = serde_json::to_value(self).unwrap_or(Value::Null);
        let mut out = shape::ignored_fields(&value, &shape::CLUSTER_CONFIG);
        // eksync reads its own annotations (`eksync.io/...`, see `desired`); eksctl's and the
        // user's are not used.
        let annotations = FieldPath::keys(&["metadata", "annotations"]);
        out.extend(
            self.metadata
                .annotations
                .keys()
                .filter(|k| !k.starts_with("eksync.io/"))
                .map(|k| annotations.key(k.as_str())),
        );
        out
    }
}

/// Whether an `amiFamily` is one of eksctl's Windows Server families (`api.IsWindowsImage`).
pub fn is_windows_family(family: &str) -> bool {
    family.starts_with("WindowsServer")
}

/// One entry of `iam.podIdentityAssociations`: eksctl creates it through EKS's
/// `CreatePodIdentityAssociation`. eksync acts on entries that name their role (`roleARN`); the
/// fields of a role eksctl would create are kept raw and warned about.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodIdentityAssociation {
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub service_account_name: String,
    #[serde(default, rename = "roleARN", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_service_account: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_session_tags: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_policy: Option<Value>,
    #[serde(
        default,
        rename = "permissionPolicyARNs",
        skip_serializing_if = "Option::is_none"
    )]
    pub permission_policy_arns: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_policy_name: Option<Value>,
    #[serde(
        default,
        rename = "permissionsBoundaryARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub permissions_boundary_arn: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<Value>,
    #[serde(
        default,
        rename = "targetRoleARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub target_role_arn: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub well_known_policies: Option<Value>,
}

/// One entry of `addons` (eksctl's `Addon`): eksctl creates it through EKS's `CreateAddon`. The
/// IAM fields (a role eksctl would create for it) are kept raw: eksync warns about them.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Addon {
    pub name: String,
    /// A version, or `latest` (eksctl looks it up; eksync leaves the version to EKS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_values: Option<String>,
    /// `NONE`, `OVERWRITE` or `PRESERVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_conflicts: Option<String>,
    #[serde(
        default,
        rename = "serviceAccountRoleARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub service_account_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_policy: Option<Value>,
    #[serde(
        default,
        rename = "attachPolicyARNs",
        skip_serializing_if = "Option::is_none"
    )]
    pub attach_policy_arns: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_boundary: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub well_known_policies: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_identity_associations: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_default_pod_identity_associations: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owners: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publishers: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Value>,
}

/// One entry of `fargateProfiles` (eksctl's `FargateProfile`): eksctl creates it through EKS's
/// `CreateFargateProfile`, not CloudFormation.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FargateProfile {
    pub name: String,
    #[serde(
        default,
        rename = "podExecutionRoleARN",
        skip_serializing_if = "Option::is_none"
    )]
    pub pod_execution_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selectors: Vec<FargateProfileSelector>,
    /// Subnet ids; empty: the cluster's private subnets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Output only in eksctl (what `eksctl get fargateprofile` prints); ignored here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
}

/// Which pods a Fargate profile runs: a namespace and, optionally, labels they all carry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FargateProfileSelector {
    #[serde(default)]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// eksctl's default VPC CIDR when it creates the VPC and `vpc.cidr` is not set.
pub const DEFAULT_VPC_CIDR: &str = "192.168.0.0/16";

/// eksctl's default `vpc.nat.gateway` for a VPC it creates.
pub const DEFAULT_NAT_GATEWAY: &str = "Single";

impl ClusterConfig {
    /// `iam.podIdentityAssociations` (empty without `iam`).
    pub fn service_pod_identity(&self) -> &[PodIdentityAssociation] {
        self.iam
            .as_ref()
            .map(|i| i.pod_identity_associations.as_slice())
            .unwrap_or_default()
    }

    /// Whether eksctl creates the VPC for this cluster: it names neither an existing VPC
    /// (`vpc.id`) nor existing subnets (`vpc.subnets`).
    pub fn creates_vpc(&self) -> bool {
        match &self.vpc {
            None => true,
            Some(v) => {
                v.id.is_none()
                    && v.subnets
                        .as_ref()
                        .is_none_or(|s| s.private.is_empty() && s.public.is_empty())
            }
        }
    }

    /// The availability zones of a VPC eksctl creates: `availabilityZones` as given, or, when the
    /// config lists none, [`default_zones`] of the region (`true` in the second place says so).
    pub fn vpc_zones(&self) -> (Vec<String>, bool) {
        if self.availability_zones.is_empty() {
            (default_zones(&self.metadata.region), true)
        } else {
            (self.availability_zones.clone(), false)
        }
    }

    /// `vpc.nat.gateway`, or eksctl's default for a VPC it creates.
    pub fn nat_gateway(&self) -> Option<&str> {
        self.vpc
            .as_ref()
            .and_then(|v| v.nat.as_ref())
            .and_then(|n| n.get("gateway"))
            .and_then(Value::as_str)
    }

    /// Whether `privateCluster.enabled` is set.
    pub fn fully_private(&self) -> bool {
        self.private_cluster
            .as_ref()
            .and_then(|p| p.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// The zones eksync creates a VPC in when `availabilityZones` is not given. eksctl asks EC2 and
/// picks two or three of the region's zones at random; eksync is offline and deterministic, so it
/// takes the zones `a`, `b` and `c` of the region, except in the few regions known to lack one
/// of those letters for new accounts (`ap-northeast-1`: a, c, d; `ca-central-1`: a, b, d;
/// `us-west-1`: two zones, a and b, which some older accounts lack). The loader warns when this is
/// used, so that a user whose account differs lists the zones.
pub fn default_zones(region: &str) -> Vec<String> {
    let letters: &[&str] = match region {
        "ap-northeast-1" => &["a", "c", "d"],
        "ca-central-1" => &["a", "b", "d"],
        "us-west-1" => &["a", "b"],
        _ => &["a", "b", "c"],
    };
    letters.iter().map(|l| format!("{region}{l}")).collect()
}

/// The CloudFormation stack names eksctl uses.
pub fn cluster_stack_name(cluster: &str) -> String {
    format!("eksctl-{cluster}-cluster")
}

pub fn nodegroup_stack_name(cluster: &str, nodegroup: &str) -> String {
    format!("eksctl-{cluster}-nodegroup-{nodegroup}")
}

/// The stack eksctl creates for the IAM role of an IRSA service account
/// (`pkg/cfn/manager`: `makeIAMServiceAccountStackName`).
pub fn iamserviceaccount_stack_name(cluster: &str, namespace: &str, name: &str) -> String {
    format!("eksctl-{cluster}-addon-iamserviceaccount-{namespace}-{name}")
}

/// The stack eksctl creates for one access entry (`pkg/actions/accessentry`: `MakeStackName`):
/// `eksctl-<cluster>-accessentry-<hash>`, the hash being the SHA-1 of the principal ARN in
/// unpadded standard base32 (32 characters of `A-Z2-7`).
pub fn accessentry_stack_name(cluster: &str, principal_arn: &str) -> String {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(principal_arn.as_bytes());
    format!(
        "eksctl-{cluster}-accessentry-{}",
        data_encoding::BASE32_NOPAD.encode(&digest)
    )
}

/// The namespace eksctl puts a service account in when `metadata.namespace` is not set.
pub const DEFAULT_SERVICE_ACCOUNT_NAMESPACE: &str = "default";

impl IamServiceAccount {
    /// `metadata.namespace`, or eksctl's default.
    pub fn namespace(&self) -> &str {
        self.metadata
            .namespace
            .as_deref()
            .unwrap_or(DEFAULT_SERVICE_ACCOUNT_NAMESPACE)
    }

    /// Whether eksctl creates (or annotates) the Kubernetes ServiceAccount: not with `roleOnly`.
    pub fn creates_service_account(&self) -> bool {
        self.role_only != Some(true)
    }

    /// Whether a `wellKnownPolicies` switch (eksctl's spelling: `autoScaler`, ...) is on.
    pub fn well_known(&self, switch: &str) -> bool {
        self.well_known_policies
            .as_ref()
            .and_then(|w| w.get(switch))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

impl ClusterConfig {
    /// `iam.withOIDC`: the cluster gets an IAM OIDC provider (and IRSA roles can trust it).
    /// Whether `kubernetesNetworkConfig.ipFamily` asks for an IPv6 cluster (eksctl compares it
    /// case-insensitively).
    pub fn ipv6(&self) -> bool {
        self.kubernetes_network_config
            .as_ref()
            .and_then(|k| k.get("ipFamily"))
            .and_then(Value::as_str)
            .is_some_and(|f| f.eq_ignore_ascii_case("ipv6"))
    }

    /// The names of the `addons` entries, in order.
    pub fn addon_names(&self) -> Vec<&str> {
        self.addons.iter().map(|a| a.name.as_str()).collect()
    }

    pub fn with_oidc(&self) -> bool {
        self.iam.as_ref().and_then(|i| i.with_oidc) == Some(true)
    }

    /// `iam.serviceAccounts`, empty when there is no `iam`.
    pub fn service_accounts(&self) -> &[IamServiceAccount] {
        self.iam
            .as_ref()
            .map_or(&[][..], |i| i.service_accounts.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_follow_eksctl_defaults() {
        let cases = [
            ((None, None, None), (2, 2, 2)),
            ((Some(1), None, None), (1, 1, 1)),
            ((None, Some(0), Some(5)), (0, 0, 5)),
            ((Some(3), Some(1), Some(5)), (3, 1, 5)),
            ((None, None, Some(1)), (1, 1, 1)),
        ];
        for ((d, mi, ma), (wd, wmi, wma)) in cases {
            let s = Sizes::resolve(d, mi, ma);
            assert_eq!(
                (s.desired, s.min, s.max),
                (wd, wmi, wma),
                "{d:?} {mi:?} {ma:?}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_rejected_with_their_path() {
        let v = json!({
            "apiVersion": API_VERSION, "kind": KIND,
            "metadata": {"name": "c", "region": "eu-west-1"},
            "nodeGroups": [{"name": "a"}, {"name": "b", "instanceTyp": "m5.large"}]
        });
        let err = serde_path_to_error::deserialize::<_, ClusterConfig>(v).unwrap_err();
        assert_eq!(err.path().to_string(), "nodeGroups[1].instanceTyp");
        assert!(err
            .inner()
            .to_string()
            .contains("unknown field `instanceTyp`"));
    }

    #[test]
    fn taints_accept_list_and_legacy_map_forms() {
        let list: Taints = serde_json::from_value(
            json!([{"key": "spot", "value": "true", "effect": "NoSchedule"}]),
        )
        .unwrap();
        let map: Taints = serde_json::from_value(json!({"spot": "true:NoSchedule"})).unwrap();
        assert_eq!(list.to_list(), map.to_list());
    }

    #[test]
    fn spot_is_detected_for_both_node_group_kinds() {
        let v = json!({
            "apiVersion": API_VERSION, "kind": KIND,
            "metadata": {"name": "c", "region": "eu-west-1"},
            "nodeGroups": [{"name": "s", "instancesDistribution": {
                "instanceTypes": ["m5.large"], "onDemandPercentageAboveBaseCapacity": 0}}],
            "managedNodeGroups": [{"name": "m", "spot": true, "instanceTypes": ["m5.large"]}]
        });
        let c: ClusterConfig = serde_json::from_value(v).unwrap();
        let views = c.node_groups();
        assert!(views.iter().all(|v| v.spot));
        assert_eq!(views[1].path.to_string(), "managedNodeGroups[0]");
    }
}
