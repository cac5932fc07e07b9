//! The `eksctl-<cluster>-cluster` stack, after eksctl's `ClusterResourceSet`
//! (`pkg/cfn/builder/cluster.go`, `iam.go`, `vpc_existing.go`): the `ControlPlane`, its
//! `ServiceRole`, the control-plane and shared node security groups with their rules, and the
//! outputs (all exported as `<stack>::<Output>` except `CertificateAuthorityData`,
//! `ClusterStackName` and `FeatureNATMode`, as eksctl does). It uses an existing VPC only; it does
//! not render VPC resources, Fargate profiles, secrets encryption, logging or VPC endpoints.

use serde_json::{json, Value};

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

pub(super) fn render(cfg: &ClusterConfig) -> Result<RenderedStack, RenderError> {
    let vpc_path = FieldPath::keys(&["vpc"]);
    let vpc = cfg.vpc.as_ref().filter(|v| v.id.is_some()).ok_or_else(|| {
        RenderError::VpcCreationNotSupported {
            path: vpc_path.key("id"),
        }
    })?;
    let vpc_id = vpc.id.clone().unwrap_or_default();
    let subnets = vpc.subnets.clone().unwrap_or_default();
    let private = subnet_ids(&subnets.private, &vpc_path.key("subnets").key("private"))?;
    let public = subnet_ids(&subnets.public, &vpc_path.key("subnets").key("public"))?;
    if private.is_empty() && public.is_empty() {
        return Err(RenderError::VpcCreationNotSupported {
            path: vpc_path.key("subnets"),
        });
    }
    if let Some(knc) = &cfg.kubernetes_network_config {
        if knc
            .get("ipFamily")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
            == Some("ipv6".into())
        {
            return Err(RenderError::NotRendered {
                path: FieldPath::keys(&["kubernetesNetworkConfig", "ipFamily"]),
                what: "an IPv6 cluster",
            });
        }
    }

    let name = &cfg.metadata.name;
    let cluster_iam = cfg.iam.clone().unwrap_or_default();
    let dedicated_iam = cluster_iam.service_role_arn.is_none();
    let mut t = Template::new(format!(
        "EKS cluster (dedicated VPC: false, dedicated IAM: {dedicated_iam}) [created and managed by eksctl]"
    ));
    t.with_partition_mappings();

    // Security groups.
    let control_plane_sg = match &vpc.security_group {
        Some(sg) => json!(sg),
        None => {
            t.resource(
                CONTROL_PLANE_SG,
                "AWS::EC2::SecurityGroup",
                json!({"Properties": {
                    "GroupDescription": "Communication between the control plane and worker nodegroups",
                    "Tags": name_tag(CONTROL_PLANE_SG),
                    "VpcId": vpc_id,
                }}),
            );
            ref_(CONTROL_PLANE_SG)
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
                    "VpcId": vpc_id,
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
    let mut subnet_refs = private.clone();
    subnet_refs.extend(public.iter().cloned());
    let access = cfg.access_config.clone().unwrap_or(Value::Null);
    let mut network = json!({"IpFamily": "ipv4"});
    if let Some(cidr) = cfg
        .kubernetes_network_config
        .as_ref()
        .and_then(|k| k.get("serviceIPv4CIDR"))
        .and_then(Value::as_str)
    {
        network["ServiceIpv4Cidr"] = json!(cidr);
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
        "KubernetesNetworkConfig": network,
        "Name": name,
        "ResourcesVpcConfig": {
            "EndpointPrivateAccess": endpoints.private_access.unwrap_or(false),
            "EndpointPublicAccess": endpoints.public_access.unwrap_or(true),
            "PublicAccessCidrs": public_cidrs,
            "SecurityGroupIds": [control_plane_sg],
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

    // Existing VPC outputs.
    t.output(out::VPC, json!(vpc_id), true);
    if let Some(gateway) = vpc
        .nat
        .as_ref()
        .and_then(|n| n.get("gateway"))
        .and_then(Value::as_str)
    {
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
