//! The `eksctl-<cluster>-cluster` stack, after eksctl's `ClusterResourceSet`
//! (`pkg/cfn/builder/cluster.go`, `iam.go`, `vpc_existing.go`, `vpc_ipv4.go`): the `ControlPlane`,
//! its `ServiceRole`, the control-plane and shared node security groups with their rules, the VPC
//! when eksctl would create it (see `vpc.rs`), and the outputs (all exported as `<stack>::<Output>`
//! except `CertificateAuthorityData`, `ClusterStackName` and `FeatureNATMode`, as eksctl does).
//! An existing VPC (`vpc.id`) must list its subnets with ids: eksync does not look them up. It
//! renders the IAM OIDC provider under `iam.withOIDC` (see `irsa.rs`) and, with `fargateProfiles`,
//! the Fargate pod execution role (see `fargate.rs`; the profiles themselves are EKS API objects,
//! not stack resources). It does not render secrets encryption, logging, VPC endpoints (a fully private
//! cluster is refused) or IPv6.

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

pub(super) fn render(cfg: &ClusterConfig) -> Result<RenderedStack, Vec<RenderError>> {
    let mut errors = Vec::new();
    let network = network(cfg).map_err(|e| errors.extend(e)).ok();
    if let Some(knc) = &cfg.kubernetes_network_config {
        if knc
            .get("ipFamily")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
            == Some("ipv6".into())
        {
            errors.push(RenderError::NotRendered {
                path: FieldPath::keys(&["kubernetesNetworkConfig", "ipFamily"]),
                what: "an IPv6 cluster",
            });
        }
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
    let access = cfg.access_config.clone().unwrap_or(Value::Null);
    let mut k8s_network = json!({"IpFamily": "ipv4"});
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
            "AuthenticationMode": access.get("authenticationMode").and_then(Value::as_str)
                .unwrap_or("API_AND_CONFIG_MAP"),
            "BootstrapClusterCreatorAdminPermissions": access
                .get("bootstrapClusterCreatorAdminPermissions").and_then(Value::as_bool)
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
