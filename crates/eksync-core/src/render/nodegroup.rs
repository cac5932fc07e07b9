//! The `eksctl-<cluster>-nodegroup-<name>` stack of an unmanaged node group, after eksctl's
//! `NodeGroupResourceSet` (`pkg/cfn/builder/nodegroup.go`): IAM (see `iam.rs`), an access entry
//! for the node role, the local security group `SG` with its control-plane rules, the
//! `NodeGroupLaunchTemplate` and the Auto Scaling group `NodeGroup` (its physical id is the ASG
//! name). It also holds what managed groups share with it: labels, taint checks, autoscaler tags.
//! Windows groups (`windows.rs`) differ as eksctl's do: the Windows AMI and PowerShell user data,
//! the `/dev/sda1` root device, an `EC2_WINDOWS` access entry and `containerRuntime` (docker or
//! containerd; Linux groups accept only containerd, which they run anyway).
//!
//! Cluster-autoscaler tags: the discovery tags (`k8s.io/cluster-autoscaler/enabled`,
//! `k8s.io/cluster-autoscaler/<cluster>`) are added when `withAddonPolicies.autoScaler` is on (as
//! eksctl does) and also when `propagateASGTags` is on (eksync's choice: node-template tags exist
//! for the autoscaler to scale the group from zero, which it only does for groups it discovers).
//! With `propagateASGTags` every label becomes `k8s.io/cluster-autoscaler/node-template/label/<k>`
//! and every taint `.../node-template/taint/<key>: <value>:<Effect>` (the cluster-autoscaler's
//! format; eksctl writes the value alone). Such autoscaled groups get no `DesiredCapacity`: a
//! stack update would reset the group to it (eksctl issue #3532), so the group starts at
//! `minSize` and the autoscaler owns the count from then on. Allowed SSH opens port 22 on the local
//! security group as eksctl does; only a key named as an EC2 key pair (`ssh.publicKeyName`) is
//! installed (a key eksctl would import from a local file or from `ssh.publicKey` is not: the loader
//! warns). Not rendered: EFA, placement groups, capacity reservations, Spot Ocean, warm pools.

use serde_json::{json, Value};
use std::collections::BTreeMap;

use super::iam;
use super::placement::{image_id, is_arm, is_gpu, metadata_options, root_volume, subnets};
use super::userdata::{self, NodeBootstrap};
use super::windows::{self, WindowsBootstrap};
use super::{
    import_cluster, kubernetes_version, name_tag, outputs as out, ref_, sub, ParameterSource,
    RenderError, RenderedStack, Template,
};
use crate::eksctl::{
    cluster_stack_name, ClusterConfig, NodeGroup, NodeGroupSecurityGroups, NodeGroupSsh, Sizes,
    Taint, Taints, DEFAULT_INSTANCE_TYPE,
};
use crate::path::FieldPath;

pub(crate) const LAUNCH_TEMPLATE: &str = "NodeGroupLaunchTemplate";
pub(crate) const ASG: &str = "NodeGroup";
pub(crate) const LOCAL_SG: &str = "SG";
const AMI_FAMILY: &str = "AmazonLinux2023";
const BOTTLEROCKET: &str = "Bottlerocket";
const AL2: &str = "AmazonLinux2";
const LABEL_PREFIX: &str = "k8s.io/cluster-autoscaler/node-template/label/";
const TAINT_PREFIX: &str = "k8s.io/cluster-autoscaler/node-template/taint/";

pub(super) fn render(
    cfg: &ClusterConfig,
    ng: &NodeGroup,
    path: &FieldPath,
) -> Result<RenderedStack, Vec<RenderError>> {
    let cluster = cfg.metadata.name.as_str();
    // Every refusal of the group is collected before rendering stops.
    let mut errors: Vec<RenderError> = Vec::new();
    errors.extend(check_ami_family(ng.ami_family.as_deref(), path, true).err());
    let bottlerocket = ng.ami_family.as_deref() == Some(BOTTLEROCKET);
    if bottlerocket && !ng.pre_bootstrap_commands.is_empty() {
        errors.push(not_rendered(
            path.key("preBootstrapCommands"),
            "preBootstrapCommands on Bottlerocket (it has no shell to run them; eksctl refuses them too)",
        ));
    }
    let win = windows::is_windows(ng.ami_family.as_deref());
    let family = match ng.ami_family.as_deref() {
        Some(f @ (BOTTLEROCKET | AL2)) => f,
        Some(f) if win => f,
        _ => AMI_FAMILY,
    };
    if ng.efa_enabled.unwrap_or(false) {
        errors.push(not_rendered(path.key("efaEnabled"), "efaEnabled"));
    }
    let al2 = ng.ami_family.as_deref() == Some(AL2);
    if ng.override_bootstrap_command.is_some() && !al2 && !win {
        errors.push(not_rendered(
            path.key("overrideBootstrapCommand"),
            "overrideBootstrapCommand (AmazonLinux2023 nodes bootstrap with nodeadm)",
        ));
    }
    if win && ng.kubelet_extra_config.is_some() {
        errors.push(RenderError::InvalidNodeGroup {
            path: path.key("kubeletExtraConfig"),
            reason: format!("kubeletExtraConfig is not supported for {family} node groups (eksctl refuses it too)"),
        });
    }
    errors.extend(check_container_runtime(
        ng.container_runtime.as_deref(),
        win,
        &path.key("containerRuntime"),
    ));
    let taints = ng.taints.to_list();
    errors.extend(check_taints(&taints, &ng.taints, &path.key("taints")));
    let private = ng.private_networking.unwrap_or(false);
    let sgs = ng.security_groups.clone().unwrap_or_default();
    let with_shared = sgs.with_shared.unwrap_or(true);
    let with_local = sgs.with_local.unwrap_or(true);
    let sizes = Sizes::resolve(ng.desired_capacity, ng.min_size, ng.max_size);

    // eksctl's description says whether SSH is allowed (after its defaults: a named key allows it).
    let ssh_access = ng.ssh.as_ref().is_some_and(NodeGroupSsh::allowed);
    let mut t = Template::new(format!(
        "EKS nodes (AMI family: {family}, SSH access: {ssh_access}, private networking: {private}) [created and managed by eksctl]"
    ));
    t.with_partition_mappings();
    t.output(out::FEATURE_PRIVATE_NETWORKING, json!(private), false);
    t.output(
        out::FEATURE_SHARED_SECURITY_GROUP,
        json!(with_shared),
        false,
    );
    t.output(out::FEATURE_LOCAL_SECURITY_GROUP, json!(with_local), false);

    // IAM.
    let node_iam = iam::add_node_iam(&mut t, &ng.iam.clone().unwrap_or_default(), false, path)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    if let Some(profile) = &node_iam.profile_arn {
        t.output(out::INSTANCE_PROFILE_ARN, profile.clone(), true);
    }
    if let Some(role) = &node_iam.role_arn {
        t.output(out::INSTANCE_ROLE_ARN, role.clone(), true);
        if uses_access_entries(cfg) {
            t.resource(
                "AccessEntry",
                "AWS::EKS::AccessEntry",
                json!({"Properties": {
                    "ClusterName": cluster,
                    "PrincipalArn": role,
                    "Tags": name_tag("AccessEntry"),
                    "Type": if win { "EC2_WINDOWS" } else { "EC2_LINUX" },
                }}),
            );
            t.output(out::NODEGROUP_USES_ACCESS_ENTRY, json!(true), false);
        }
    }

    // Security groups.
    let ssh_rules = ssh_ingress(
        cfg,
        ng.ssh.as_ref(),
        private,
        &format!("worker nodes in group {}", ng.name),
        &path.key("ssh"),
    )
    .map_err(|e| errors.push(e))
    .unwrap_or_default();
    let groups = security_groups(
        &mut t,
        cluster,
        &ng.name,
        &sgs,
        with_shared,
        with_local,
        ssh_rules,
    );

    // Launch template.
    let labels = node_labels(cluster, &ng.name, &ng.labels);
    let mut user_tags = cfg.metadata.tags.clone();
    user_tags.extend(ng.tags.clone());
    let node_name = node_name(
        cluster,
        &ng.name,
        ng.instance_prefix.as_deref(),
        ng.instance_name.as_deref(),
    );
    let mixed = ng.instances_distribution.as_ref();
    let instance_type = match mixed {
        Some(d) => d.instance_types.first().cloned().unwrap_or_else(|| {
            errors.push(RenderError::NoInstanceTypes {
                path: path.key("instancesDistribution").key("instanceTypes"),
            });
            DEFAULT_INSTANCE_TYPE.to_string()
        }),
        None => ng
            .instance_type
            .clone()
            .unwrap_or_else(|| DEFAULT_INSTANCE_TYPE.to_string()),
    };
    let service_cidr = cfg
        .kubernetes_network_config
        .as_ref()
        .and_then(|k| k.get("serviceIPv4CIDR"))
        .and_then(Value::as_str);
    t.parameter(
        userdata::CA_PARAMETER,
        "The cluster's certificate authority data (cluster stack output CertificateAuthorityData)",
        ParameterSource::StackOutput {
            stack: cluster_stack_name(cluster),
            output: out::CERTIFICATE_AUTHORITY_DATA.into(),
        },
    );
    if service_cidr.is_none() && !bottlerocket {
        t.parameter(
            userdata::SERVICE_CIDR_PARAMETER,
            "The cluster's Kubernetes service CIDR",
            ParameterSource::ClusterServiceCidr {
                cluster: cluster.into(),
            },
        );
    }
    let boot = NodeBootstrap {
        cluster,
        labels: &labels,
        taints: &taints,
        max_pods: ng.max_pods_per_node,
        cluster_dns: ng.cluster_dns.as_deref(),
        pre_bootstrap_commands: &ng.pre_bootstrap_commands,
        service_cidr,
    };
    let version = kubernetes_version(cfg);
    let (image, user_data) = if win {
        let image = match ng.ami.as_deref() {
            None | Some("auto") | Some("auto-ssm") => Ok(windows::image_id(family, version)),
            other => image_id(other, version, &instance_type, &path.key("ami")),
        };
        let boot = WindowsBootstrap {
            cluster,
            labels: &labels,
            taints: &taints,
            max_pods: ng.max_pods_per_node,
            cluster_dns: ng.cluster_dns.as_deref(),
            service_cidr,
            container_runtime: ng.container_runtime.as_deref(),
            pre_bootstrap_commands: &ng.pre_bootstrap_commands,
            override_command: ng.override_bootstrap_command.as_deref(),
        };
        (image, Ok(windows::user_data(&boot)))
    } else if bottlerocket {
        let image = match ng.ami.as_deref() {
            None | Some("auto") | Some("auto-ssm") => Ok(super::bottlerocket::image_id(
                version,
                is_arm(&instance_type),
                is_gpu(&instance_type),
            )),
            other => image_id(other, version, &instance_type, &path.key("ami")),
        };
        let settings = super::bottlerocket::Settings {
            cluster,
            labels: &labels,
            taints: &taints,
            max_pods: ng.max_pods_per_node,
            cluster_dns: ng.cluster_dns.as_deref(),
            bottlerocket: ng.bottlerocket.as_ref(),
        };
        (image, super::bottlerocket::user_data(&settings, path))
    } else if al2 {
        let image = match ng.ami.as_deref() {
            None | Some("auto") | Some("auto-ssm") if al2_retired(version) => {
                Err(not_rendered(
                    path.key("amiFamily"),
                    "AmazonLinux2 without an explicit ami on Kubernetes 1.33 or later (EKS publishes no AmazonLinux2 AMIs for them)",
                ))
            }
            None | Some("auto") | Some("auto-ssm") => Ok(al2_image_id(version, &instance_type)),
            other => image_id(other, version, &instance_type, &path.key("ami")),
        };
        let command = ng.override_bootstrap_command.as_deref();
        (image, Ok(userdata::al2_user_data(&boot, command)))
    } else {
        (
            image_id(ng.ami.as_deref(), version, &instance_type, &path.key("ami")),
            Ok(userdata::user_data(&boot)),
        )
    };
    let image = image.map_err(|e| errors.push(e)).unwrap_or_default();
    let user_data = user_data.map_err(|e| errors.push(e)).unwrap_or_default();
    let ebs = root_volume(
        ng.volume_size,
        ng.volume_type.as_deref(),
        ng.volume_encrypted,
        ng.volume_kms_key_id.as_deref(),
        ng.volume_iops,
        ng.volume_throughput,
    );
    let mut lt_tags = user_tags.clone();
    lt_tags.insert("Name".into(), node_name.clone());
    let lt_tag_list = super::tag_list(&lt_tags);
    let mut data = json!({
        "BlockDeviceMappings": [{
            // Bottlerocket's data volume is the second device; its OS volume keeps the AMI's size.
            // Windows AMIs boot from /dev/sda1 (eksctl's `rootDeviceForWindows`).
            "DeviceName": ng.volume_name.clone().unwrap_or_else(|| {
                if bottlerocket {
                    "/dev/xvdb"
                } else if win {
                    "/dev/sda1"
                } else {
                    "/dev/xvda"
                }
                .to_string()
            }),
            "Ebs": ebs,
        }],
        "ImageId": image,
        "InstanceType": instance_type,
        "MetadataOptions": metadata_options(ng.disable_imdsv1, ng.disable_pod_imds),
        "NetworkInterfaces": [{"DeviceIndex": 0, "Groups": groups, "NetworkCardIndex": 0}],
        "TagSpecifications": super::tag_specifications(&lt_tag_list),
        "UserData": user_data,
    });
    if let Some(profile) = node_iam.profile_arn {
        data["IamInstanceProfile"] = json!({ "Arn": profile });
    }
    if let Some(key) = ng.ssh.as_ref().and_then(|s| s.public_key_name.clone()) {
        data["KeyName"] = json!(key);
    }
    if let Some(e) = ng.ebs_optimized {
        data["EbsOptimized"] = json!(e);
    }
    if let Some(c) = &ng.cpu_credits {
        data["CreditSpecification"] = json!({"CpuCredits": c.to_lowercase()});
    }
    if let Some(m) = ng.enable_detailed_monitoring {
        data["Monitoring"] = json!({ "Enabled": m });
    }
    t.resource(
        LAUNCH_TEMPLATE,
        "AWS::EC2::LaunchTemplate",
        json!({"Properties": {
            "LaunchTemplateData": data,
            "LaunchTemplateName": sub("${AWS::StackName}"),
        }}),
    );

    // Auto Scaling group.
    let mut asg_tags = user_tags;
    asg_tags.insert("Name".into(), node_name);
    asg_tags.insert(format!("kubernetes.io/cluster/{cluster}"), "owned".into());
    let auto_scaler = ng
        .iam
        .as_ref()
        .and_then(|i| i.with_addon_policies.as_ref())
        .and_then(|a| a.auto_scaler)
        .unwrap_or(false);
    let propagate = ng.propagate_asg_tags.unwrap_or(false);
    let autoscaled = auto_scaler || propagate;
    if autoscaled {
        asg_tags.insert("k8s.io/cluster-autoscaler/enabled".into(), "true".into());
        asg_tags.insert(
            format!("k8s.io/cluster-autoscaler/{cluster}"),
            "owned".into(),
        );
    }
    if propagate {
        asg_tags.extend(node_template_tags(&labels, &taints));
    }
    let lt_spec = json!({
        "LaunchTemplateName": sub("${AWS::StackName}"),
        "Version": super::get_att(LAUNCH_TEMPLATE, "LatestVersionNumber"),
    });
    let mut props = json!({
        "MaxSize": sizes.max.to_string(),
        "MinSize": sizes.min.to_string(),
        "Tags": asg_tags.iter().map(|(k, v)| json!({"Key": k, "PropagateAtLaunch": "true", "Value": v}))
            .collect::<Vec<_>>(),
        "VPCZoneIdentifier": subnets(cfg, &ng.subnets, &ng.availability_zones, private, path)
            .map_err(|e| errors.push(e)).unwrap_or_default(),
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    // Like eksctl, DesiredCapacity is only written when the config sets it, and unlike eksctl
    // never for a group the cluster-autoscaler owns: CloudFormation re-applies the template's
    // value on every update of the group, undoing the autoscaler's work (eksctl issue #3532).
    if let Some(d) = ng.desired_capacity.filter(|_| !autoscaled) {
        props["DesiredCapacity"] = json!(d.to_string());
    }
    match mixed {
        Some(d) => {
            let mut dist = serde_json::Map::new();
            if let Some(p) = d.max_price {
                dist.insert("SpotMaxPrice".into(), json!(format!("{p:.6}")));
            }
            if let Some(v) = d.on_demand_base_capacity {
                dist.insert("OnDemandBaseCapacity".into(), json!(v.to_string()));
            }
            if let Some(v) = d.on_demand_percentage_above_base_capacity {
                dist.insert(
                    "OnDemandPercentageAboveBaseCapacity".into(),
                    json!(v.to_string()),
                );
            }
            if let Some(v) = d.spot_instance_pools {
                dist.insert("SpotInstancePools".into(), json!(v.to_string()));
            }
            if let Some(s) = &d.spot_allocation_strategy {
                dist.insert("SpotAllocationStrategy".into(), json!(s));
            }
            props["MixedInstancesPolicy"] = json!({
                "InstancesDistribution": dist,
                "LaunchTemplate": {
                    "LaunchTemplateSpecification": lt_spec,
                    "Overrides": d.instance_types.iter().map(|i| json!({"InstanceType": i}))
                        .collect::<Vec<_>>(),
                },
            });
            if d.capacity_rebalance == Some(true) {
                props["CapacityRebalance"] = json!(true);
            }
        }
        None => props["LaunchTemplate"] = lt_spec,
    }
    if !ng.classic_load_balancer_names.is_empty() {
        props["LoadBalancerNames"] = json!(ng.classic_load_balancer_names);
    }
    if !ng.target_group_arns.is_empty() {
        props["TargetGroupARNs"] = json!(ng.target_group_arns);
    }
    if let Some(l) = ng.max_instance_lifetime {
        props["MaxInstanceLifetime"] = json!(l);
    }
    let mut rolling = json!({});
    if !ng.asg_suspend_processes.is_empty() {
        rolling["SuspendProcesses"] = json!(ng.asg_suspend_processes);
    }
    t.resource(
        ASG,
        "AWS::AutoScaling::AutoScalingGroup",
        json!({"Properties": props, "UpdatePolicy": {"AutoScalingRollingUpdate": rolling}}),
    );

    Ok(super::finish_nodegroup(t, cfg, &ng.name, &ng.tags, false))
}

/// The SSH ingress rules when SSH is allowed (`ssh.allow`, or a key named without `allow: false`,
/// as eksctl defaults it; eksctl's `makeSSHIngressRules`): port 22 from the
/// `sourceSecurityGroupIds`, else from the VPC's CIDR for a private group, else from anywhere.
/// `desc` names the nodes (`worker nodes in group <name>`). Empty when SSH is not allowed.
pub(crate) fn ssh_ingress(
    cfg: &ClusterConfig,
    ssh: Option<&NodeGroupSsh>,
    private: bool,
    desc: &str,
    path: &FieldPath,
) -> Result<Vec<Value>, RenderError> {
    // A key that is not an EC2 key pair is not installed (the loader warns); the port is still
    // opened, as eksctl opens it (EC2 Instance Connect can push a key through it).
    let Some(ssh) = ssh.filter(|s| s.allowed()) else {
        return Ok(Vec::new());
    };
    let port = |mut rule: Value| {
        rule["FromPort"] = json!(22);
        rule["ToPort"] = json!(22);
        rule["IpProtocol"] = json!("tcp");
        rule
    };
    if !ssh.source_security_group_ids.is_empty() {
        return Ok(ssh
            .source_security_group_ids
            .iter()
            .map(|sg| port(json!({ "SourceSecurityGroupId": sg })))
            .collect());
    }
    let text = format!("Allow SSH access to {desc}");
    if private {
        let cidr = if cfg.creates_vpc() {
            Some(
                cfg.vpc
                    .as_ref()
                    .and_then(|v| v.cidr.clone())
                    .unwrap_or_else(|| crate::eksctl::DEFAULT_VPC_CIDR.to_string()),
            )
        } else {
            cfg.vpc.as_ref().and_then(|v| v.cidr.clone())
        };
        let Some(cidr) = cidr else {
            return Err(not_rendered(
                path.key(ssh.allowed_by()),
                "SSH allowed on a private node group in an existing VPC without vpc.cidr (SSH is allowed from the VPC's CIDR, which eksctl reads from EC2)",
            ));
        };
        return Ok(vec![port(json!({
            "CidrIp": cidr,
            "Description": format!("{text} (private, only inside VPC)"),
        }))]);
    }
    Ok(vec![
        port(json!({"CidrIp": "0.0.0.0/0", "Description": text})),
        port(json!({"CidrIpv6": "::/0", "Description": text})),
    ])
}

fn not_rendered(path: FieldPath, what: &'static str) -> RenderError {
    RenderError::NotRendered { path, what }
}

/// Nodes register through access entries unless the cluster uses only the aws-auth ConfigMap.
pub(crate) fn uses_access_entries(cfg: &ClusterConfig) -> bool {
    cfg.authentication_mode() != "CONFIG_MAP"
}

/// The security groups of the nodes (attached ids, shared, local), adding the local group and its
/// rules on the control-plane security group.
fn security_groups(
    t: &mut Template,
    cluster: &str,
    ng_name: &str,
    sgs: &NodeGroupSecurityGroups,
    with_shared: bool,
    with_local: bool,
    ssh_rules: Vec<Value>,
) -> Vec<Value> {
    let mut groups: Vec<Value> = sgs.attach_ids.iter().map(|id| json!(id)).collect();
    if with_shared {
        groups.push(import_cluster(cluster, out::SHARED_NODE_SECURITY_GROUP));
    }
    if !with_local {
        return groups;
    }
    let desc = format!("worker nodes in group {ng_name}");
    let cp_sg = import_cluster(cluster, out::SECURITY_GROUP);
    let rule = |tag: &str, what: &str, from: u16, to: u16| {
        json!({
            "Description": format!("[{tag}] Allow {desc} to communicate with control plane ({what})"),
            "FromPort": from, "IpProtocol": "tcp", "SourceSecurityGroupId": cp_sg.clone(), "ToPort": to,
        })
    };
    let kubelet = "kubelet and workload TCP ports";
    let https = "workloads using HTTPS port, commonly used with extension API servers";
    let mut ingress = vec![
        rule("IngressInterCluster", kubelet, 1025, 65535),
        rule("IngressInterClusterAPI", https, 443, 443),
    ];
    ingress.extend(ssh_rules);
    let mut sg_tags = name_tag(LOCAL_SG);
    if let Value::Array(a) = &mut sg_tags {
        a.insert(
            0,
            json!({"Key": format!("kubernetes.io/cluster/{cluster}"), "Value": "owned"}),
        );
    }
    t.resource(
        LOCAL_SG,
        "AWS::EC2::SecurityGroup",
        json!({"Properties": {
            "GroupDescription": format!("Communication between the control plane and {desc}"),
            "SecurityGroupIngress": ingress,
            "Tags": sg_tags,
            "VpcId": import_cluster(cluster, out::VPC),
        }}),
    );
    let egress = |what: &str, from: u16, to: u16| {
        json!({"Properties": {
            "Description": format!("Allow control plane to communicate with {desc} ({what})"),
            "DestinationSecurityGroupId": ref_(LOCAL_SG),
            "FromPort": from, "GroupId": cp_sg.clone(), "IpProtocol": "tcp", "ToPort": to,
        }})
    };
    t.resource(
        "EgressInterCluster",
        "AWS::EC2::SecurityGroupEgress",
        egress(kubelet, 1025, 65535),
    );
    t.resource(
        "EgressInterClusterAPI",
        "AWS::EC2::SecurityGroupEgress",
        egress(https, 443, 443),
    );
    t.resource(
        "IngressInterClusterCP",
        "AWS::EC2::SecurityGroupIngress",
        json!({"Properties": {
            "Description": format!("Allow control plane to receive API requests from {desc}"),
            "FromPort": 443, "GroupId": cp_sg.clone(), "IpProtocol": "tcp",
            "SourceSecurityGroupId": ref_(LOCAL_SG), "ToPort": 443,
        }}),
    );
    groups.push(ref_(LOCAL_SG));
    groups
}

/// The node's labels as eksctl sets them: the user's, plus the cluster and node group names.
pub(crate) fn node_labels(
    cluster: &str,
    ng: &str,
    labels: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut l = labels.clone();
    l.insert("alpha.eksctl.io/cluster-name".into(), cluster.into());
    l.insert("alpha.eksctl.io/nodegroup-name".into(), ng.into());
    l
}

/// The cluster-autoscaler node-template tags for labels and taints.
pub(crate) fn node_template_tags(
    labels: &BTreeMap<String, String>,
    taints: &[Taint],
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (format!("{LABEL_PREFIX}{k}"), v.clone()))
        .collect();
    for t in taints {
        out.insert(
            format!("{TAINT_PREFIX}{}", t.key),
            format!("{}:{}", t.value.clone().unwrap_or_default(), t.effect),
        );
    }
    out
}

/// eksctl's instance `Name`: `[<prefix>-]<instanceName>` or `<cluster>-<group>-Node`.
pub(crate) fn node_name(
    cluster: &str,
    ng: &str,
    prefix: Option<&str>,
    name: Option<&str>,
) -> String {
    let base = name
        .map(str::to_string)
        .unwrap_or_else(|| format!("{cluster}-{ng}-Node"));
    match prefix.filter(|p| !p.is_empty()) {
        Some(p) => format!("{p}-{base}"),
        None => base,
    }
}

/// AmazonLinux2023, and for `unmanaged` groups also Bottlerocket, AmazonLinux2 and the Windows
/// families of `windows.rs`.
pub(crate) fn check_ami_family(
    family: Option<&str>,
    path: &FieldPath,
    unmanaged: bool,
) -> Result<(), RenderError> {
    match family {
        None | Some(AMI_FAMILY) => Ok(()),
        Some(BOTTLEROCKET | AL2) if unmanaged => Ok(()),
        f if unmanaged && windows::is_windows(f) => Ok(()),
        Some(f) => Err(RenderError::UnsupportedAmiFamily {
            path: path.key("amiFamily"),
            family: f.to_string(),
        }),
    }
}

/// `containerRuntime`: Windows nodes take `docker` or `containerd` (what `Start-EKSBootstrap.ps1`
/// accepts); Linux nodes run containerd, so only `containerd` is accepted there (and changes nothing).
fn check_container_runtime(
    runtime: Option<&str>,
    windows: bool,
    path: &FieldPath,
) -> Option<RenderError> {
    let runtime = runtime?;
    let ok = if windows {
        ["docker", "containerd"].contains(&runtime)
    } else {
        runtime == "containerd"
    };
    (!ok).then(|| RenderError::InvalidNodeGroup {
        path: path.clone(),
        reason: if windows {
            format!("container runtime {runtime:?} is not one of docker, containerd (what Start-EKSBootstrap.ps1 accepts)")
        } else {
            format!("container runtime {runtime:?}: Linux nodes run containerd; only Windows node groups choose their runtime")
        },
    })
}

/// Rejects taint effects Kubernetes does not know, each naming the taint's place in the file.
pub(crate) fn check_taints(list: &[Taint], raw: &Taints, path: &FieldPath) -> Vec<RenderError> {
    list.iter()
        .enumerate()
        .filter(|(_, t)| eks_taint_effect(&t.effect).is_none())
        .map(|(i, t)| RenderError::InvalidTaintEffect {
            path: match raw {
                Taints::List(_) => path.index(i).key("effect"),
                Taints::Map(_) => path.key(t.key.clone()),
            },
            effect: t.effect.clone(),
        })
        .collect()
}

/// The EKS API's name for a Kubernetes taint effect.
pub(crate) fn eks_taint_effect(effect: &str) -> Option<&'static str> {
    match effect {
        "NoSchedule" => Some("NO_SCHEDULE"),
        "PreferNoSchedule" => Some("PREFER_NO_SCHEDULE"),
        "NoExecute" => Some("NO_EXECUTE"),
        _ => None,
    }
}

/// The EKS-optimized AmazonLinux2 AMI as an SSM dynamic reference (EKS publishes none for
/// Kubernetes 1.33 and later: such groups need an explicit `ami`).
fn al2_image_id(version: &str, instance_type: &str) -> Value {
    let variant = if is_gpu(instance_type) {
        "amazon-linux-2-gpu"
    } else if is_arm(instance_type) {
        "amazon-linux-2-arm64"
    } else {
        "amazon-linux-2"
    };
    json!(format!(
        "{{{{resolve:ssm:/aws/service/eks/optimized-ami/{version}/{variant}/recommended/image_id}}}}"
    ))
}

/// Whether EKS publishes no AmazonLinux2 AMIs for this Kubernetes version (1.33 and later).
fn al2_retired(version: &str) -> bool {
    version
        .strip_prefix("1.")
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|m| m >= 33)
}
