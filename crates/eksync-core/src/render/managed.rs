//! The `eksctl-<cluster>-nodegroup-<name>` stack of an EKS managed node group, after eksctl's
//! `ManagedNodeGroupResourceSet` (`pkg/cfn/builder/managed_nodegroup.go`,
//! `managed_launch_template.go`): the node role (see `iam.rs`), a `LaunchTemplate` for volumes,
//! IMDS settings and security groups, and the `ManagedNodeGroup` (`AWS::EKS::Nodegroup`) with
//! `CapacityType`, instance types, labels and taints in the EKS API's form. EKS bootstraps the
//! nodes itself, so there is no user data. `releaseVersion` and `updateConfig` go on the node
//! group, `ebsOptimized` and `enableDetailedMonitoring` in the launch template, and
//! `instancePrefix`/`instanceName` name the instances as eksctl does. Not rendered (warned by the
//! loader): custom AMIs, user-supplied launch templates, `nodeRepairConfig`,
//! `preBootstrapCommands`, `maxPodsPerNode` (user data eksctl writes), `propagateASGTags` and
//! `asgSuspendProcesses` (calls eksctl makes after the stack). SSH keys from local files or
//! `ssh.publicKey` are not installed (the loader warns). Allowed SSH adds eksctl's `SSH` security
//! group.

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
    errors.extend(check_ami_family(ng.ami_family.as_deref(), path, false).err());
    let refuse = |field: &str, what: &'static str| RenderError::NotRendered {
        path: path.key(field),
        what,
    };
    if ng.ami.is_some() {
        errors.push(refuse("ami", "a custom AMI for a managed node group"));
    }
    if ng.launch_template.is_some() {
        errors.push(refuse("launchTemplate", "a user-supplied launch template"));
    }
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

    let mut t = Template::new("EKS Managed Nodes (SSH access: false) [created by eksctl]");
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
    // eksctl's `SSH` group: port 22 on a group of its own, added to the template's groups.
    let ssh_rules = ssh_ingress(
        cfg,
        ng.ssh.as_ref(),
        ng.private_networking.unwrap_or(false),
        &format!("managed worker nodes in group {}", ng.name),
        &path.key("ssh"),
    )
    .map_err(|e| errors.push(e))
    .unwrap_or_default();
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
    t.resource(
        LAUNCH_TEMPLATE,
        "AWS::EC2::LaunchTemplate",
        json!({"Properties": {
            "LaunchTemplateData": data,
            "LaunchTemplateName": sub("${AWS::StackName}"),
        }}),
    );

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
        "LaunchTemplate": {"Id": ref_(LAUNCH_TEMPLATE)},
        "NodegroupName": ng.name,
        "ScalingConfig": {"DesiredSize": sizes.desired, "MaxSize": sizes.max, "MinSize": sizes.min},
        "Subnets": subnets(cfg, &ng.subnets, &ng.availability_zones,
            ng.private_networking.unwrap_or(false), path)
            .map_err(|e| errors.push(e)).unwrap_or_default(),
    });
    if !errors.is_empty() {
        return Err(errors);
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
            errors.push(RenderError::Invalid {
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
