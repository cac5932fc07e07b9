//! The `eksctl-<cluster>-nodegroup-<name>` stack of an EKS managed node group, after eksctl's
//! `ManagedNodeGroupResourceSet` (`pkg/cfn/builder/managed_nodegroup.go`,
//! `managed_launch_template.go`): the node role (see `iam.rs`), a `LaunchTemplate` for volumes,
//! IMDS settings and security groups, and the `ManagedNodeGroup` (`AWS::EKS::Nodegroup`) with
//! `CapacityType`, instance types, labels and taints in the EKS API's form. EKS bootstraps the
//! nodes itself, so there is no user data, but for a custom `ami` (amiFamily AmazonLinux2 only):
//! its `overrideBootstrapCommand` is the user data, as eksctl writes it (`managed_al2.go`: a MIME
//! document, here with the fixed boundary `//`), and there is no `AmiType` (EKS takes the
//! template's AMI as CUSTOM). With the user's `launchTemplate` the stack has no launch template:
//! the node group names the user's (`Id`, `Version`), and what eksctl's validation says the
//! template decides (instance type, AMI, SSH, security groups, volume size, bootstrap...) is
//! refused beside it. eksctl reads that template from EC2 to choose `AmiType` and whether to send
//! `InstanceTypes`; eksync cannot, so it leaves `AmiType` to EKS (its default, x86
//! AmazonLinux2023 from Kubernetes 1.30, is eksctl's choice too unless the template names an ARM
//! or GPU instance type and no AMI) and sends
//! `InstanceTypes` only when the config lists them. `releaseVersion` and `updateConfig` go on the
//! node group, `ebsOptimized` and `enableDetailedMonitoring` in the launch template, and
//! `instancePrefix`/`instanceName` name the instances as eksctl does. Not rendered (warned by the
//! loader): custom AMIs of other families, `nodeRepairConfig`, `preBootstrapCommands`,
//! `maxPodsPerNode` (user data eksctl writes), `propagateASGTags` and `asgSuspendProcesses` (calls
//! eksctl makes after the stack). SSH keys from local files or `ssh.publicKey` are not installed
//! (the loader warns). Allowed SSH adds eksctl's `SSH` security group.

use serde_json::{json, Value};

use super::iam;
use super::nodegroup::{
    check_ami_family, check_taints, eks_taint_effect, node_labels, node_name, ssh_ingress,
};
use super::placement::{is_arm, is_gpu, metadata_options, root_volume, subnets};
use super::{
    import_cluster, name_tag, outputs as out, ref_, sub, tag_list, RenderError, RenderedStack,
    Template,
};
use crate::eksctl::{ClusterConfig, ManagedNodeGroup, Sizes, Taints, DEFAULT_INSTANCE_TYPE};
use crate::path::FieldPath;

pub(crate) const NODEGROUP: &str = "ManagedNodeGroup";
pub(crate) const LAUNCH_TEMPLATE: &str = "LaunchTemplate";
const SSH_SG: &str = "SSH";

pub(super) fn render(
    cfg: &ClusterConfig,
    ng: &ManagedNodeGroup,
    path: &FieldPath,
) -> Result<RenderedStack, Vec<RenderError>> {
    let cluster = cfg.metadata.name.as_str();
    // Every refusal of the group is collected before rendering stops.
    let mut errors: Vec<RenderError> = Vec::new();
    let mode = mode(ng, path, &mut errors);
    errors.extend(check_taints(
        &ng.taints,
        &Taints::List(ng.taints.clone()),
        &path.key("taints"),
    ));
    let spot = ng.spot.unwrap_or(false);
    let sizes = Sizes::resolve(ng.desired_capacity, ng.min_size, ng.max_size);
    let instance_types: Vec<String> = if !ng.instance_types.is_empty() {
        ng.instance_types.clone()
    } else {
        vec![ng
            .instance_type
            .clone()
            .unwrap_or_else(|| DEFAULT_INSTANCE_TYPE.to_string())]
    };

    // eksctl's description says whether SSH is allowed (after its defaults: a named key allows it).
    let ssh_access = ng
        .ssh
        .as_ref()
        .is_some_and(crate::eksctl::NodeGroupSsh::allowed);
    let mut t = Template::new(format!(
        "EKS Managed Nodes (SSH access: {ssh_access}) [created by eksctl]"
    ));
    t.with_partition_mappings();
    let node_iam = iam::add_node_iam(&mut t, &ng.iam.clone().unwrap_or_default(), true, path)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();

    let mut user_tags = cfg.metadata.tags.clone();
    user_tags.extend(ng.tags.clone());
    let mut lt_tags = user_tags.clone();
    lt_tags.insert(
        "Name".into(),
        node_name(
            cluster,
            &ng.name,
            ng.instance_prefix.as_deref(),
            ng.instance_name.as_deref(),
        ),
    );
    let lt_tag_list = tag_list(&lt_tags);
    let ebs = root_volume(
        ng.volume_size,
        ng.volume_type.as_deref(),
        ng.volume_encrypted,
        ng.volume_kms_key_id.as_deref(),
        ng.volume_iops,
        ng.volume_throughput,
    );
    let mut sg_ids = vec![import_cluster(cluster, out::CLUSTER_SECURITY_GROUP_ID)];
    if let Some(sgs) = &ng.security_groups {
        sg_ids.extend(sgs.attach_ids.iter().map(|id| json!(id)));
    }
    let mut data = json!({
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": ebs}],
        "MetadataOptions": metadata_options(ng.disable_imdsv1, ng.disable_pod_imds),
        "SecurityGroupIds": sg_ids,
        "TagSpecifications": super::tag_specifications(&lt_tag_list),
    });
    if let Some(key) = ng.ssh.as_ref().and_then(|s| s.public_key_name.clone()) {
        data["KeyName"] = json!(key);
    }
    if let Some(e) = ng.ebs_optimized {
        data["EbsOptimized"] = json!(e);
    }
    if let Some(m) = ng.enable_detailed_monitoring {
        data["Monitoring"] = json!({ "Enabled": m });
    }
    if let Mode::CustomAmi { ami, command } = &mode {
        data["ImageId"] = json!(ami);
        data["UserData"] = json!({ "Fn::Base64": custom_ami_user_data(&[command]) });
    }
    // eksctl's `SSH` group: port 22 on a group of its own, added to the template's groups. A
    // user's launch template brings its own (ssh.allow is refused with it, above).
    let ssh_rules = if matches!(mode, Mode::UserTemplate { .. }) {
        Vec::new()
    } else {
        ssh_ingress(
            cfg,
            ng.ssh.as_ref(),
            ng.private_networking.unwrap_or(false),
            &format!("managed worker nodes in group {}", ng.name),
            &path.key("ssh"),
        )
        .map_err(|e| errors.push(e))
        .unwrap_or_default()
    };
    if !ssh_rules.is_empty() {
        t.resource(
            SSH_SG,
            "AWS::EC2::SecurityGroup",
            json!({"Properties": {
                "GroupDescription": "Allow SSH access",
                "GroupName": sub("${AWS::StackName}-remoteAccess"),
                "SecurityGroupIngress": ssh_rules,
                "Tags": name_tag(SSH_SG),
                "VpcId": import_cluster(cluster, out::VPC),
            }}),
        );
        if let Some(Value::Array(groups)) = data.get_mut("SecurityGroupIds") {
            groups.push(ref_(SSH_SG));
        }
    }
    let launch_template = match &mode {
        Mode::UserTemplate { id, version } => {
            let mut lt = json!({ "Id": id });
            if let Some(v) = version {
                lt["Version"] = json!(v);
            }
            lt
        }
        Mode::Own | Mode::CustomAmi { .. } => {
            t.resource(
                LAUNCH_TEMPLATE,
                "AWS::EC2::LaunchTemplate",
                json!({"Properties": {
                    "LaunchTemplateData": data,
                    "LaunchTemplateName": sub("${AWS::StackName}"),
                }}),
            );
            json!({"Id": ref_(LAUNCH_TEMPLATE)})
        }
    };

    // `instance_types` is never empty (it falls back to one default type above).
    let first = instance_types
        .iter()
        .find(|i| is_gpu(i))
        .or(instance_types.first())
        .map_or(DEFAULT_INSTANCE_TYPE, String::as_str);
    let ami_type = match (is_arm(first), is_gpu(first)) {
        (true, _) => "AL2023_ARM_64_STANDARD",
        (false, true) => "AL2023_x86_64_NVIDIA",
        (false, false) => "AL2023_x86_64_STANDARD",
    };
    let taints: Vec<Value> = ng
        .taints
        .iter()
        .map(|t| {
            let mut v = json!({
                "Effect": eks_taint_effect(&t.effect).unwrap_or_default(),
                "Key": t.key,
            });
            if let Some(val) = &t.value {
                v["Value"] = json!(val);
            }
            v
        })
        .collect();
    let mut props = json!({
        "AmiType": ami_type,
        "CapacityType": if spot { "SPOT" } else { "ON_DEMAND" },
        "ClusterName": cluster,
        "InstanceTypes": instance_types,
        "Labels": node_labels(cluster, &ng.name, &ng.labels),
        "LaunchTemplate": launch_template,
        "NodegroupName": ng.name,
        "ScalingConfig": {"DesiredSize": sizes.desired, "MaxSize": sizes.max, "MinSize": sizes.min},
        "Subnets": subnets(cfg, &ng.subnets, &ng.availability_zones,
            ng.private_networking.unwrap_or(false), path)
            .map_err(|e| errors.push(e)).unwrap_or_default(),
    });
    if !errors.is_empty() {
        return Err(errors);
    }
    match &mode {
        // eksctl names no AMI type for an AMI of the launch template's own (EKS takes it as
        // CUSTOM and fails the group if one is given), and reads a user's template to choose;
        // eksync cannot read it and leaves both to EKS (see the module docs).
        Mode::CustomAmi { .. } => {
            if let Some(m) = props.as_object_mut() {
                m.remove("AmiType");
            }
        }
        Mode::UserTemplate { .. } => {
            if let Some(m) = props.as_object_mut() {
                m.remove("AmiType");
                if ng.instance_types.is_empty() {
                    m.remove("InstanceTypes");
                }
            }
        }
        Mode::Own => {}
    }
    if let Some(role) = node_iam.role_arn {
        props["NodeRole"] = role;
    }
    if let Some(v) = &ng.release_version {
        props["ReleaseVersion"] = json!(v);
    }
    if let Some(u) = ng.update_config.as_ref().and_then(Value::as_object) {
        // eksctl's checks: one of the two, each in range.
        let at = path.key("updateConfig");
        let count = u.get("maxUnavailable").and_then(Value::as_i64);
        let percent = u.get("maxUnavailablePercentage").and_then(Value::as_i64);
        let mut invalid = |field: &str, reason: String| {
            errors.push(RenderError::InvalidNodeGroup {
                path: at.key(field),
                reason,
            });
        };
        match (count, percent) {
            (Some(_), Some(_)) => invalid(
                "maxUnavailablePercentage",
                "cannot be set with maxUnavailable (eksctl and EKS take one of the two)".into(),
            ),
            (None, None) => invalid(
                "maxUnavailable",
                "updateConfig needs maxUnavailable or maxUnavailablePercentage".into(),
            ),
            (Some(c), None) if !(1..=100).contains(&c) => {
                invalid("maxUnavailable", format!("{c} is not between 1 and 100"));
            }
            (None, Some(p)) if !(1..=100).contains(&p) => {
                invalid(
                    "maxUnavailablePercentage",
                    format!("{p} is not between 1 and 100"),
                );
            }
            _ => {}
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut update = json!({});
        for (from, to) in [
            ("maxUnavailable", "MaxUnavailable"),
            ("maxUnavailablePercentage", "MaxUnavailablePercentage"),
        ] {
            if let Some(v) = u.get(from) {
                update[to] = v.clone();
            }
        }
        props["UpdateConfig"] = update;
    }
    if !user_tags.is_empty() {
        props["Tags"] = json!(user_tags);
    }
    if !taints.is_empty() {
        props["Taints"] = Value::Array(taints);
    }
    t.resource(
        NODEGROUP,
        "AWS::EKS::Nodegroup",
        json!({ "Properties": props }),
    );

    Ok(super::finish_nodegroup(t, cfg, &ng.name, &ng.tags, true))
}

/// Which launch template the group runs on.
enum Mode<'a> {
    /// eksctl's own `LaunchTemplate`, EKS's AMI and bootstrap.
    Own,
    /// The user's template (`launchTemplate`): no template in the stack.
    UserTemplate { id: String, version: Option<String> },
    /// eksctl's own template with a custom AMI bootstrapped by `overrideBootstrapCommand`.
    CustomAmi { ami: &'a str, command: &'a str },
}

/// The group's [`Mode`], and every combination eksctl's `ValidateManagedNodeGroup` refuses.
fn mode<'a>(ng: &'a ManagedNodeGroup, path: &FieldPath, errors: &mut Vec<RenderError>) -> Mode<'a> {
    let invalid = |field: &str, reason: String| RenderError::InvalidNodeGroup {
        path: path.key(field),
        reason,
    };
    let ssh = ng.ssh.clone().unwrap_or_default();
    if let Some(lt) = &ng.launch_template {
        errors.extend(check_ami_family(ng.ami_family.as_deref(), path, false).err());
        let lt_path = path.key("launchTemplate");
        let id = match lt.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => {
                errors.push(RenderError::InvalidNodeGroup {
                    path: lt_path.key("id"),
                    reason: "launchTemplate.id is required if launchTemplate is set".into(),
                });
                String::new()
            }
        };
        let version = match lt.get("version") {
            None | Some(Value::Null) => None,
            Some(Value::String(v)) if v.parse::<u64>().is_ok_and(|n| n >= 1) => Some(v.clone()),
            Some(other) => {
                errors.push(RenderError::InvalidNodeGroup {
                    path: lt_path.key("version"),
                    reason: format!(
                        "launchTemplate.version must be a version number >= 1 as a string (got {other})"
                    ),
                });
                None
            }
        };
        // eksctl's list of what the launch template decides instead of the node group.
        let set = [
            ("instanceType", ng.instance_type.is_some()),
            ("ami", ng.ami.is_some()),
            ("ssh.allow", ssh.allow == Some(true)),
            ("ssh.enableSSM", ssh.enable_ssm == Some(true)),
            (
                "ssh.sourceSecurityGroupIds",
                !ssh.source_security_group_ids.is_empty(),
            ),
            (
                "securityGroups.attachIDs",
                ng.security_groups
                    .as_ref()
                    .is_some_and(|s| !s.attach_ids.is_empty()),
            ),
            ("volumeSize", ng.volume_size.is_some()),
            ("instanceName", ng.instance_name.is_some()),
            ("instancePrefix", ng.instance_prefix.is_some()),
            (
                "maxPodsPerNode",
                ng.max_pods_per_node.is_some_and(|m| m != 0),
            ),
            ("disableIMDSv1", ng.disable_imdsv1 == Some(false)),
            ("disablePodIMDS", ng.disable_pod_imds == Some(true)),
            (
                "preBootstrapCommands",
                !ng.pre_bootstrap_commands.is_empty(),
            ),
            (
                "overrideBootstrapCommand",
                ng.override_bootstrap_command.is_some(),
            ),
            ("placement", ng.placement.is_some()),
            // Not in eksctl's list, but set in eksync's own launch template only: beside a
            // user's template they would be dropped without a word.
            ("ssh.publicKeyName", ssh.public_key_name.is_some()),
            ("ssh.publicKeyPath", ssh.public_key_path.is_some()),
            ("ssh.publicKey", ssh.public_key.is_some()),
            ("ebsOptimized", ng.ebs_optimized.is_some()),
            (
                "enableDetailedMonitoring",
                ng.enable_detailed_monitoring.is_some(),
            ),
            ("volumeType", ng.volume_type.is_some()),
            ("volumeEncrypted", ng.volume_encrypted.is_some()),
            ("volumeKmsKeyID", ng.volume_kms_key_id.is_some()),
            ("volumeIOPS", ng.volume_iops.is_some()),
            ("volumeThroughput", ng.volume_throughput.is_some()),
        ];
        for (field, _) in set.iter().filter(|(_, on)| *on) {
            let mut p = path.clone();
            for k in field.split('.') {
                p = p.key(k);
            }
            errors.push(RenderError::InvalidNodeGroup {
                path: p,
                reason: format!("cannot set {field} in a managed node group when a launch template is supplied (launchTemplate decides it; eksctl refuses this too)"),
            });
        }
        return Mode::UserTemplate { id, version };
    }
    let Some(ami) = ng.ami.as_deref() else {
        errors.extend(check_ami_family(ng.ami_family.as_deref(), path, false).err());
        if ng.override_bootstrap_command.is_some() {
            errors.push(invalid(
                "overrideBootstrapCommand",
                "overrideBootstrapCommand can only be set with a custom AMI (ami); EKS bootstraps its own AMIs (eksctl refuses this too)".into(),
            ));
        }
        return Mode::Own;
    };
    match ng.ami_family.as_deref() {
        Some("AmazonLinux2") => {}
        None | Some("AmazonLinux2023") => errors.push(RenderError::NotRendered {
            path: path.key("ami"),
            what: "a custom AMI on a managed node group of the AmazonLinux2023 family (eksync renders custom AMIs of amiFamily: AmazonLinux2 with overrideBootstrapCommand)",
        }),
        f => errors.extend(check_ami_family(f, path, false).err()),
    }
    for (field, on) in [
        (
            "maxPodsPerNode",
            ng.max_pods_per_node.is_some_and(|m| m != 0),
        ),
        ("releaseVersion", ng.release_version.is_some()),
    ] {
        if on {
            errors.push(invalid(
                field,
                format!(
                    "{field} is not supported when using a custom AMI (ami); eksctl refuses it too"
                ),
            ));
        }
    }
    if ssh.enable_ssm == Some(true) {
        errors.push(RenderError::InvalidNodeGroup {
            path: path.key("ssh").key("enableSSM"),
            reason: "ssh.enableSSM is not supported when using a custom AMI (ami); eksctl refuses it too".into(),
        });
    }
    if !ng.pre_bootstrap_commands.is_empty() {
        errors.push(RenderError::NotRendered {
            path: path.key("preBootstrapCommands"),
            what: "preBootstrapCommands on managed node groups (with a custom AMI, put them at the start of overrideBootstrapCommand)",
        });
    }
    match ng.override_bootstrap_command.as_deref() {
        Some(command) => Mode::CustomAmi { ami, command },
        None => {
            errors.push(invalid(
                "ami",
                "a custom AMI needs overrideBootstrapCommand: EKS does not bootstrap nodes of an AMI it does not know, and eksctl requires overrideBootstrapCommand with a custom AMI too".into(),
            ));
            Mode::Own
        }
    }
}

/// The boundary of [`custom_ami_user_data`]'s MIME document (eksctl's is random per run; its tests
/// use this one, and a fixed one keeps the template deterministic).
const MIME_BOUNDARY: &str = "//";

/// eksctl's user data for a managed group with a custom AMI (`makeCustomAMIUserData` in
/// `pkg/nodebootstrap/managed_al2.go`): a MIME multi-part document, one `text/x-shellscript` part
/// per script, written as Go's `mime/multipart` writes it (CRLF line ends, the two header values
/// on two lines). The text is not passed through `Fn::Sub`, so it needs no escaping.
pub(crate) fn custom_ami_user_data(scripts: &[&str]) -> String {
    let mut s = format!(
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary={MIME_BOUNDARY}\r\n\r\n"
    );
    for (i, script) in scripts.iter().enumerate() {
        if i > 0 {
            s.push_str("\r\n");
        }
        s.push_str(&format!("--{MIME_BOUNDARY}\r\n"));
        s.push_str("Content-Type: text/x-shellscript\r\n");
        s.push_str("Content-Type: charset=\"us-ascii\"\r\n\r\n");
        s.push_str(script);
    }
    s.push_str(&format!("\r\n--{MIME_BOUNDARY}--\r\n"));
    s
}
