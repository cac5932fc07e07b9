//! The `eksctl-<cluster>-cluster` stack, after eksctl's `ClusterResourceSet`
//! (`pkg/cfn/builder/cluster.go`, `iam.go`, `vpc_existing.go`, `vpc_ipv4.go`): the `ControlPlane`,
//! its `ServiceRole`, the control-plane and shared node security groups with their rules, the VPC
//! when eksctl would create it (see `vpc.rs`), and the outputs (all exported as `<stack>::<Output>`
//! except `CertificateAuthorityData`, `ClusterStackName` and `FeatureNATMode`, as eksctl does).
//! An existing VPC (`vpc.id`) must list its subnets with ids: eksync does not look them up. It
//! renders the IAM OIDC provider under `iam.withOIDC` (see `irsa.rs`), and the control plane's
//! `Logging` (`cloudWatch.clusterLogging.enableTypes`, `"*"`/`all` expanded to every type),
//! `EncryptionConfig` (`secretsEncryption.keyARN`, resources `secrets`; eksctl adds no KMS policy
//! to the service role: the key's policy must allow it), `KubernetesNetworkConfig`
//! (`serviceIPv4CIDR`), `ZonalShiftConfig`, `UpgradePolicy`, `ControlPlaneScalingConfig` and
//! `AccessConfig`. With `fargateProfiles` it renders
//! the Fargate pod execution role (see `fargate.rs`; the profiles themselves are EKS API objects,
//! not stack resources). It does not render the log retention (eksctl sets it through
//! the CloudWatch Logs API, not a template) or VPC endpoints (a fully private cluster is refused).
//! An IPv6 cluster (`kubernetesNetworkConfig.ipFamily: IPv6`) gets eksctl's IPv6 VPC (see
//! `vpc.rs`) and is checked as eksctl checks it; its unmanaged node groups are refused.

use serde_json::{json, Value};

use super::vpc;
use super::{
    aws_policy_arn, get_att, kubernetes_version, name_tag, outputs as out, ref_, service_principal,
    shared_stack_tags, tag_list, RenderError, RenderedStack, StackKind, Template,
};
use crate::eksctl::{cluster_stack_name, ClusterConfig, Subnet};
use crate::path::FieldPath;

pub(crate) const CONTROL_PLANE: &str = "ControlPlane";
pub(crate) const SERVICE_ROLE: &str = "ServiceRole";
pub(crate) const CONTROL_PLANE_SG: &str = "ControlPlaneSecurityGroup";
pub(crate) const SHARED_NODE_SG: &str = "ClusterSharedNodeSecurityGroup";

/// The subnet ids of one topology, in the order of their names in the config.
pub(crate) fn subnet_ids(
    subnets: &std::collections::BTreeMap<String, Subnet>,
    path: &FieldPath,
) -> Result<Vec<String>, RenderError> {
    subnets
        .iter()
        .map(|(name, s)| {
            s.id.clone().ok_or_else(|| RenderError::NotRendered {
                path: path.key(name.clone()).key("id"),
                what: "a subnet without id (eksync does not look subnets up)",
            })
        })
        .collect()
}

/// Where the cluster's network comes from.
enum Network {
    /// An existing VPC and its subnets (ids), private first as they are listed.
    Existing {
        vpc_id: String,
        private: Vec<String>,
        public: Vec<String>,
    },
    /// The VPC eksctl creates in the cluster stack.
    Created(vpc::CreatedVpc),
}

/// The network of the cluster, or every reason it cannot be rendered.
fn network(cfg: &ClusterConfig) -> Result<Network, Vec<RenderError>> {
    let vpc_path = FieldPath::keys(&["vpc"]);
    if cfg.creates_vpc() {
        return vpc::plan(cfg).map(Network::Created);
    }
    let vpc = cfg.vpc.clone().unwrap_or_default();
    let subnets = vpc.subnets.clone().unwrap_or_default();
    let mut errors = Vec::new();
    let private = subnet_ids(&subnets.private, &vpc_path.key("subnets").key("private"));
    let public = subnet_ids(&subnets.public, &vpc_path.key("subnets").key("public"));
    let (private, public) = match (private, public) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            errors.extend(a.err());
            errors.extend(b.err());
            (Vec::new(), Vec::new())
        }
    };
    let Some(vpc_id) = vpc.id.clone() else {
        errors.push(RenderError::ExistingVpc {
            path: vpc_path.key("id"),
            reason: "existing subnets need vpc.id (eksync does not look up the VPC they are in); give vpc.id, or leave out vpc.subnets to have the VPC created",
        });
        return Err(errors);
    };
    if errors.is_empty() && private.is_empty() && public.is_empty() {
        errors.push(RenderError::ExistingVpc {
            path: vpc_path.key("subnets"),
            reason: "an existing VPC needs its subnets listed under vpc.subnets (eksync does not look subnets up)",
        });
    }
    if errors.is_empty() {
        Ok(Network::Existing {
            vpc_id,
            private,
            public,
        })
    } else {
        Err(errors)
    }
}

/// What eksctl's `ValidateClusterConfig` requires of an IPv6 cluster (`ipFamily: IPv6`), and the
/// node groups eksync cannot bootstrap in one.
fn check_ipv6(cfg: &ClusterConfig) -> Vec<RenderError> {
    let family = FieldPath::keys(&["kubernetesNetworkConfig", "ipFamily"]);
    let mut errors = Vec::new();
    let mut invalid = |path: FieldPath, reason: String| {
        errors.push(RenderError::Ipv6 { path, reason });
    };
    let names = cfg.addon_names();
    let missing: Vec<&str> = ["vpc-cni", "coredns", "kube-proxy"]
        .into_iter()
        .filter(|a| !names.contains(a))
        .collect();
    if !missing.is_empty() {
        invalid(
            family.clone(),
            format!(
                "needs the default core add-ons in `addons`; missing: {}",
                missing.join(", ")
            ),
        );
    }
    if !cfg.with_oidc() {
        invalid(family.clone(), "needs iam.withOIDC: true".into());
    }
    let version = kubernetes_version(cfg);
    let minor = version
        .strip_prefix("1.")
        .and_then(|m| m.parse::<u32>().ok());
    if minor.is_some_and(|m| m < 21) {
        invalid(
            FieldPath::keys(&["metadata", "version"]),
            format!("needs Kubernetes 1.21 or later, not {version}"),
        );
    }
    if cfg
        .kubernetes_network_config
        .as_ref()
        .is_some_and(|k| k.get("serviceIPv4CIDR").is_some())
    {
        invalid(
            FieldPath::keys(&["kubernetesNetworkConfig", "serviceIPv4CIDR"]),
            "has no service IPv4 CIDR".into(),
        );
    }
    if cfg.vpc.as_ref().is_some_and(|v| v.nat.is_some()) {
        invalid(
            FieldPath::keys(&["vpc", "nat"]),
            "gets one NAT gateway for IPv4 egress; vpc.nat cannot be set".into(),
        );
    }
    for (i, _) in cfg.node_groups.iter().enumerate() {
        errors.push(RenderError::NotRendered {
            path: FieldPath::keys(&["nodeGroups"]).index(i),
            what: "an unmanaged node group in an IPv6 cluster (its bootstrap needs the cluster's IPv6 service CIDR, which EKS assigns; use managedNodeGroups)",
        });
    }
    errors
}

pub(super) fn render(cfg: &ClusterConfig) -> Result<RenderedStack, Vec<RenderError>> {
    let mut errors = Vec::new();
    let network = network(cfg).map_err(|e| errors.extend(e)).ok();
    if cfg.ipv6() {
        errors.extend(check_ipv6(cfg));
    }
    if cfg.outpost.is_some() {
        errors.push(RenderError::NotRendered {
            path: FieldPath::keys(&["outpost"]),
            what: "a cluster whose control plane runs on AWS Outposts (a local cluster)",
        });
    }
    if cfg.fully_private() {
        errors.push(RenderError::NotRendered {
            path: FieldPath::keys(&["privateCluster", "enabled"]),
            what: "a fully private cluster (the VPC endpoints it needs)",
        });
    }
    let network = match network {
        Some(n) if errors.is_empty() => n,
        _ => return Err(errors),
    };
    let vpc = cfg.vpc.clone().unwrap_or_default();
    let vpc_ref = match &network {
        Network::Existing { vpc_id, .. } => json!(vpc_id),
        Network::Created(_) => ref_(vpc::VPC),
    };

    let name = &cfg.metadata.name;
    let cluster_iam = cfg.iam.clone().unwrap_or_default();
    let dedicated_iam = cluster_iam.service_role_arn.is_none();
    let dedicated_vpc = matches!(network, Network::Created(_));
    let mut t = Template::new(format!(
        "EKS cluster (dedicated VPC: {dedicated_vpc}, dedicated IAM: {dedicated_iam}) [created and managed by eksctl]"
    ));
    t.with_partition_mappings();
    if let Network::Created(created) = &network {
        vpc::add_resources(&mut t, created);
    }

    // Security groups.
    // Like eksctl: `vpc.securityGroup`, else the first of `vpc.controlPlaneSecurityGroupIDs` (all
    // of them go to the control plane), else a new group.
    let (control_plane_sg, control_plane_sgs) = match (
        &vpc.security_group,
        vpc.control_plane_security_group_ids.first(),
    ) {
        (Some(sg), _) => (json!(sg), vec![json!(sg)]),
        (None, Some(first)) => (
            json!(first),
            vpc.control_plane_security_group_ids
                .iter()
                .map(|id| json!(id))
                .collect(),
        ),
        (None, None) => {
            t.resource(
                CONTROL_PLANE_SG,
                "AWS::EC2::SecurityGroup",
                json!({"Properties": {
                    "GroupDescription": "Communication between the control plane and worker nodegroups",
                    "Tags": name_tag(CONTROL_PLANE_SG),
                    "VpcId": vpc_ref,
                }}),
            );
            let extra = vpc
                .extra_cidrs
                .iter()
                .map(|c| ("", "", "CidrIp", c))
                .enumerate()
                .chain(
                    vpc.extra_ipv6_cidrs
                        .iter()
                        .map(|c| ("IPv6", "IPv6 ", "CidrIpv6", c))
                        .enumerate(),
                );
            for (i, (kind, words, key, cidr)) in extra {
                let mut props = json!({
                    "Description": format!(
                        "Allow Extra {words}CIDR {i} ({cidr}) to communicate to controlplane"
                    ),
                    "FromPort": 443,
                    "GroupId": ref_(CONTROL_PLANE_SG),
                    "IpProtocol": "tcp",
                    "ToPort": 443,
                });
                props[key] = json!(cidr);
                t.resource(
                    &format!("IngressControlPlaneExtra{kind}CIDR{i}"),
                    "AWS::EC2::SecurityGroupIngress",
                    json!({ "Properties": props }),
                );
            }
            (ref_(CONTROL_PLANE_SG), vec![ref_(CONTROL_PLANE_SG)])
        }
    };
    let shared_sg = match &vpc.shared_node_security_group {
        Some(sg) => json!(sg),
        None => {
            t.resource(
                SHARED_NODE_SG,
                "AWS::EC2::SecurityGroup",
                json!({"Properties": {
                    "GroupDescription": "Communication between all nodes in the cluster",
                    "Tags": name_tag(SHARED_NODE_SG),
                    "VpcId": vpc_ref,
                }}),
            );
            t.resource(
                "IngressInterNodeGroupSG",
                "AWS::EC2::SecurityGroupIngress",
                all_ports_ingress(
                    ref_(SHARED_NODE_SG),
                    ref_(SHARED_NODE_SG),
                    "Allow nodes to communicate with each other (all ports)",
                ),
            );
            ref_(SHARED_NODE_SG)
        }
    };
    // eksctl defaults manageSharedNodeSecurityGroupRules to true.
    if vpc.manage_shared_node_security_group_rules.unwrap_or(true) {
        let default_sg = get_att(CONTROL_PLANE, out::CLUSTER_SECURITY_GROUP_ID);
        t.resource(
            "IngressDefaultClusterToNodeSG",
            "AWS::EC2::SecurityGroupIngress",
            all_ports_ingress(
                shared_sg.clone(),
                default_sg.clone(),
                "Allow managed and unmanaged nodes to communicate with each other (all ports)",
            ),
        );
        t.resource(
            "IngressNodeToDefaultClusterSG",
            "AWS::EC2::SecurityGroupIngress",
            all_ports_ingress(
                default_sg,
                shared_sg.clone(),
                "Allow unmanaged nodes to communicate with control plane (all ports)",
            ),
        );
    }
    t.output(out::SECURITY_GROUP, control_plane_sg.clone(), true);
    t.output(out::SHARED_NODE_SECURITY_GROUP, shared_sg, true);

    // Service role.
    let role_arn = match &cluster_iam.service_role_arn {
        Some(arn) => json!(arn),
        None => {
            let mut policies = vec![aws_policy_arn("AmazonEKSClusterPolicy")];
            if cluster_iam.vpc_resource_controller_policy != Some(false) {
                policies.push(aws_policy_arn("AmazonEKSVPCResourceController"));
            }
            let mut props = json!({
                "AssumeRolePolicyDocument": {
                    "Statement": [{
                        "Action": ["sts:AssumeRole"],
                        "Effect": "Allow",
                        "Principal": {"Service": [service_principal("EKS")]},
                    }],
                    "Version": "2012-10-17",
                },
                "ManagedPolicyArns": policies,
                "Tags": name_tag(SERVICE_ROLE),
            });
            if let Some(b) = &cluster_iam.service_role_permissions_boundary {
                props["PermissionsBoundary"] = json!(b);
            }
            t.resource(
                SERVICE_ROLE,
                "AWS::IAM::Role",
                json!({ "Properties": props }),
            );
            get_att(SERVICE_ROLE, "Arn")
        }
    };
    t.output(out::SERVICE_ROLE_ARN, role_arn.clone(), true);

    // Control plane.
    let endpoints = vpc.cluster_endpoints.clone().unwrap_or_default();
    let public_cidrs = if vpc.public_access_cidrs.is_empty() {
        vec!["0.0.0.0/0".to_string()]
    } else {
        vpc.public_access_cidrs.clone()
    };
    // `vpc.controlPlaneSubnetIDs`, else with `controlPlaneOnPrivateSubnets` the private subnets,
    // else all: eksctl lists a created VPC's public subnets first; an existing VPC's subnets keep
    // eksync's order (private first), as deployed stacks have them.
    let subnet_refs: Vec<Value> = if !vpc.control_plane_subnet_ids.is_empty() {
        vpc.control_plane_subnet_ids
            .iter()
            .map(|s| json!(s))
            .collect()
    } else {
        let private_only = vpc.control_plane_on_private_subnets.unwrap_or(false);
        match &network {
            Network::Existing {
                private, public, ..
            } => {
                let mut refs: Vec<Value> = private.iter().map(|s| json!(s)).collect();
                if !private_only || private.is_empty() {
                    refs.extend(public.iter().map(|s| json!(s)));
                }
                refs
            }
            Network::Created(created) => {
                let mut refs = Vec::new();
                if !private_only {
                    refs.extend(created.public_subnet_refs());
                }
                refs.extend(created.private_subnet_refs());
                refs
            }
        }
    };
    let access = cfg.access_config.clone().unwrap_or_default();
    let mut k8s_network = json!({"IpFamily": if cfg.ipv6() { "ipv6" } else { "ipv4" }});
    if let Some(cidr) = cfg
        .kubernetes_network_config
        .as_ref()
        .and_then(|k| k.get("serviceIPv4CIDR"))
        .and_then(Value::as_str)
    {
        k8s_network["ServiceIpv4Cidr"] = json!(cidr);
    }
    let mut cp = json!({
        "AccessConfig": {
            "AuthenticationMode": access.authentication_mode(),
            "BootstrapClusterCreatorAdminPermissions": access
                .bootstrap_cluster_creator_admin_permissions
                .unwrap_or(true),
        },
        "BootstrapSelfManagedAddons": false,
        "KubernetesNetworkConfig": k8s_network,
        "Name": name,
        "ResourcesVpcConfig": {
            "EndpointPrivateAccess": endpoints.private_access.unwrap_or(false),
            "EndpointPublicAccess": endpoints.public_access.unwrap_or(true),
            "PublicAccessCidrs": public_cidrs,
            "SecurityGroupIds": control_plane_sgs,
            "SubnetIds": subnet_refs,
        },
        "RoleArn": role_arn,
        "Version": kubernetes_version(cfg),
    });
    if !cfg.metadata.tags.is_empty() {
        cp["Tags"] = tag_list(&cfg.metadata.tags);
    }
    add_cluster_settings(&mut cp, cfg);
    t.resource(
        CONTROL_PLANE,
        "AWS::EKS::Cluster",
        json!({ "Properties": cp }),
    );
    t.output(out::ARN, get_att(CONTROL_PLANE, "Arn"), true);
    t.output(
        out::CERTIFICATE_AUTHORITY_DATA,
        get_att(CONTROL_PLANE, "CertificateAuthorityData"),
        false,
    );
    t.output(
        out::CLUSTER_SECURITY_GROUP_ID,
        get_att(CONTROL_PLANE, out::CLUSTER_SECURITY_GROUP_ID),
        true,
    );
    t.output(out::ENDPOINT, get_att(CONTROL_PLANE, "Endpoint"), true);
    t.output(out::CLUSTER_STACK_NAME, ref_("AWS::StackName"), false);
    if cfg.with_oidc() {
        super::irsa::add_oidc_provider(&mut t);
    }
    super::fargate::add_pod_execution_role(&mut t, cfg);

    // Existing VPC outputs (a created VPC's are added with its resources).
    if let Network::Existing {
        vpc_id,
        private,
        public,
    } = &network
    {
        t.output(out::VPC, json!(vpc_id), true);
        if let Some(gateway) = cfg.nat_gateway() {
            t.output(out::FEATURE_NAT_MODE, json!(gateway), false);
        }
        if !private.is_empty() {
            t.output(
                out::SUBNETS_PRIVATE,
                json!({"Fn::Join": [",", private]}),
                true,
            );
        }
        if !public.is_empty() {
            t.output(
                out::SUBNETS_PUBLIC,
                json!({"Fn::Join": [",", public]}),
                true,
            );
        }
    }

    Ok(t.finish(
        cluster_stack_name(name),
        StackKind::Cluster,
        shared_stack_tags(cfg),
    ))
}

/// The control plane's optional settings, each as eksctl's `ClusterResourceSet` sets it:
/// `Logging` (the enabled log types, `"*"`/`all` expanded), `EncryptionConfig` (Secrets with the
/// KMS key), `ZonalShiftConfig` (only when enabled), `UpgradePolicy` and
/// `ControlPlaneScalingConfig` (when given). `cloudWatch.clusterLogging.logRetentionInDays` is not
/// here: eksctl sets the log group's retention through the CloudWatch Logs API after the cluster
/// exists, not in a template (the loader warns that it is ignored).
fn add_cluster_settings(cp: &mut Value, cfg: &ClusterConfig) {
    let log_types = cfg.cluster_log_types();
    if !log_types.is_empty() {
        let enabled: Vec<Value> = log_types.iter().map(|t| json!({ "Type": t })).collect();
        cp["Logging"] = json!({"ClusterLogging": {"EnabledTypes": enabled}});
    }
    if let Some(key) = cfg
        .secrets_encryption
        .as_ref()
        .and_then(|s| s.key_arn.as_deref())
        .filter(|k| !k.is_empty())
    {
        cp["EncryptionConfig"] = json!([{
            "Provider": {"KeyArn": key},
            "Resources": ["secrets"],
        }]);
    }
    if cfg.zonal_shift_config.as_ref().and_then(|z| z.enabled) == Some(true) {
        cp["ZonalShiftConfig"] = json!({"Enabled": true});
    }
    if let Some(support) = cfg
        .upgrade_policy
        .as_ref()
        .and_then(|u| u.support_type.as_deref())
        .filter(|s| !s.is_empty())
    {
        cp["UpgradePolicy"] = json!({ "SupportType": support });
    }
    if let Some(tier) = cfg
        .control_plane_scaling_config
        .as_ref()
        .and_then(|c| c.tier.as_deref())
        .filter(|t| !t.is_empty())
    {
        cp["ControlPlaneScalingConfig"] = json!({ "Tier": tier });
    }
}

fn all_ports_ingress(group: Value, source: Value, description: &str) -> Value {
    json!({"Properties": {
        "Description": description,
        "FromPort": 0,
        "GroupId": group,
        "IpProtocol": "-1",
        "SourceSecurityGroupId": source,
        "ToPort": 65535,
    }})
}
