//! Change-set previews as data, and eksync's own table of properties known to force replacement.
//!
//! The adapter turns a described change set into [`RawResourceChange`]s; [`annotate_preview`] keeps
//! what AWS says about replacement (`Replacement` and the causing details) and, where the endpoint
//! gave no replacement detail for a `Modify`, estimates it from the template diff and
//! [`forces_replacement`], marked as eksync's estimate. It deliberately does not talk to AWS and the
//! table is not complete: it covers the resource types eksctl's stacks use.

use super::diff::TemplateDiff;
use serde::{Deserialize, Serialize};

/// Properties whose change makes CloudFormation replace the resource (from the CloudFormation
/// resource reference, "Update requires: Replacement").
const REPLACEMENT_TABLE: &[(&str, &[&str])] = &[
    (
        "AWS::AutoScaling::AutoScalingGroup",
        &["AutoScalingGroupName"],
    ),
    (
        "AWS::AutoScaling::LaunchConfiguration",
        &[
            "AssociatePublicIpAddress",
            "BlockDeviceMappings",
            "IamInstanceProfile",
            "ImageId",
            "InstanceType",
            "KeyName",
            "LaunchConfigurationName",
            "SecurityGroups",
            "UserData",
        ],
    ),
    ("AWS::EC2::LaunchTemplate", &["LaunchTemplateName"]),
    (
        "AWS::EC2::SecurityGroup",
        &["GroupDescription", "GroupName", "VpcId"],
    ),
    (
        "AWS::EC2::VPC",
        &["CidrBlock", "InstanceTenancy", "Ipv4IpamPoolId"],
    ),
    (
        "AWS::EC2::Subnet",
        &[
            "AvailabilityZone",
            "AvailabilityZoneId",
            "CidrBlock",
            "VpcId",
        ],
    ),
    (
        "AWS::EC2::NatGateway",
        &["AllocationId", "ConnectivityType", "SubnetId"],
    ),
    ("AWS::EC2::RouteTable", &["VpcId"]),
    (
        "AWS::EC2::Route",
        &[
            "DestinationCidrBlock",
            "DestinationIpv6CidrBlock",
            "RouteTableId",
        ],
    ),
    ("AWS::EC2::EIP", &["Domain"]),
    ("AWS::IAM::Role", &["Path", "RoleName"]),
    (
        "AWS::IAM::InstanceProfile",
        &["InstanceProfileName", "Path"],
    ),
    ("AWS::IAM::ManagedPolicy", &["ManagedPolicyName", "Path"]),
    ("AWS::IAM::OIDCProvider", &["Url"]),
    (
        "AWS::EKS::Cluster",
        &[
            "Name",
            "RoleArn",
            "EncryptionConfig",
            "KubernetesNetworkConfig",
            "BootstrapSelfManagedAddons",
        ],
    ),
    (
        "AWS::EKS::Nodegroup",
        &[
            "AmiType",
            "CapacityType",
            "ClusterName",
            "DiskSize",
            "InstanceTypes",
            "NodeRole",
            "NodegroupName",
            "RemoteAccess",
            "Subnets",
        ],
    ),
    ("AWS::EKS::Addon", &["AddonName", "ClusterName"]),
    (
        "AWS::EKS::AccessEntry",
        &["ClusterName", "PrincipalArn", "Type"],
    ),
];

/// Whether changing `property` of a resource of type `resource_type` forces replacement, per
/// eksync's table.
pub fn forces_replacement(resource_type: &str, property: &str) -> bool {
    REPLACEMENT_TABLE
        .iter()
        .any(|(t, props)| *t == resource_type && props.contains(&property))
}

/// One detail of a resource change, as the change set gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawChangeDetail {
    /// `Properties`, `Tags`, ...
    pub attribute: Option<String>,
    /// The property name, for `Properties`.
    pub name: Option<String>,
    /// `Never`, `Conditionally`, `Always`.
    pub requires_recreation: Option<String>,
    pub change_source: Option<String>,
    pub causing_entity: Option<String>,
}

/// A resource change as the change set gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawResourceChange {
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: Option<String>,
    /// `Add`, `Modify`, `Remove`, `Import`, `Dynamic`.
    pub action: String,
    /// `True`, `False`, `Conditional`, or absent.
    pub replacement: Option<String>,
    pub details: Vec<RawChangeDetail>,
}

/// Where a replacement verdict comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplacementSource {
    /// CloudFormation said so in the change set.
    Aws,
    /// The change set had no replacement detail; eksync estimated it from its own table.
    EksyncEstimate,
    /// Not a modification: replacement does not apply.
    NotApplicable,
}

/// Replacement verdict for one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// `True`, `False` or `Conditional`; `None` when not applicable.
    pub value: Option<String>,
    pub source: ReplacementSource,
    /// Human-readable causes (`MaxSize (RequiresRecreation: Always, DirectModification)`).
    pub causes: Vec<String>,
}

/// One row of a change-set preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChangePreview {
    pub logical_id: String,
    pub resource_type: String,
    pub action: String,
    pub replacement: Replacement,
}

/// A described change set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSetPreview {
    pub stack: String,
    pub change_set_name: String,
    pub change_set_id: Option<String>,
    /// `CREATE_COMPLETE`, `FAILED`, ...
    pub status: String,
    pub status_reason: Option<String>,
    /// CloudFormation found nothing to change.
    pub no_changes: bool,
    pub changes: Vec<ResourceChangePreview>,
}

impl ChangeSetPreview {
    /// Whether any resource would be (or may be) replaced.
    pub fn replaces_anything(&self) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c.replacement.value.as_deref(), Some("True" | "Conditional")))
    }
}

fn describe_detail(d: &RawChangeDetail) -> String {
    let what = match (&d.attribute, &d.name) {
        (Some(a), Some(n)) if a == "Properties" => n.clone(),
        (Some(a), Some(n)) => format!("{a}.{n}"),
        (Some(a), None) => a.clone(),
        (None, Some(n)) => n.clone(),
        (None, None) => "(unnamed)".to_string(),
    };
    let mut extra = Vec::new();
    if let Some(r) = &d.requires_recreation {
        extra.push(format!("RequiresRecreation: {r}"));
    }
    if let Some(s) = &d.change_source {
        extra.push(s.clone());
    }
    if let Some(e) = &d.causing_entity {
        extra.push(format!("caused by {e}"));
    }
    if extra.is_empty() {
        what
    } else {
        format!("{what} ({})", extra.join(", "))
    }
}

/// Turns raw change-set rows into a preview, estimating replacement where AWS gave no detail.
pub fn annotate_preview(
    raw: &[RawResourceChange],
    diff: Option<&TemplateDiff>,
) -> Vec<ResourceChangePreview> {
    raw.iter()
        .map(|r| {
            let replacement = if r.action != "Modify" {
                Replacement {
                    value: None,
                    source: ReplacementSource::NotApplicable,
                    causes: Vec::new(),
                }
            } else if let Some(v) = r.replacement.clone().filter(|v| !v.is_empty()) {
                let causes = r
                    .details
                    .iter()
                    .filter(|d| {
                        matches!(
                            d.requires_recreation.as_deref(),
                            Some("Always" | "Conditionally")
                        )
                    })
                    .map(describe_detail)
                    .collect();
                Replacement {
                    value: Some(v),
                    source: ReplacementSource::Aws,
                    causes,
                }
            } else {
                let forcing: Vec<String> = diff
                    .map(|d| d.changed_properties(&r.logical_id))
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|p| forces_replacement(&r.resource_type, p))
                    .map(|p| format!("{p} (forces replacement per eksync's table; estimate)"))
                    .collect();
                let value = if forcing.is_empty() { "False" } else { "True" };
                Replacement {
                    value: Some(value.to_string()),
                    source: ReplacementSource::EksyncEstimate,
                    causes: forcing,
                }
            };
            ResourceChangePreview {
                logical_id: r.logical_id.clone(),
                resource_type: r.resource_type.clone(),
                action: r.action.clone(),
                replacement,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::awsdiff::diff::diff_template;
    use serde_json::json;

    fn modify(logical: &str, kind: &str) -> RawResourceChange {
        RawResourceChange {
            logical_id: logical.into(),
            resource_type: kind.into(),
            action: "Modify".into(),
            ..Default::default()
        }
    }

    #[test]
    fn table_lookups() {
        assert!(forces_replacement(
            "AWS::EC2::LaunchTemplate",
            "LaunchTemplateName"
        ));
        assert!(forces_replacement("AWS::EKS::Nodegroup", "InstanceTypes"));
        assert!(forces_replacement("AWS::EKS::AccessEntry", "PrincipalArn"));
        assert!(!forces_replacement(
            "AWS::EKS::AccessEntry",
            "AccessPolicies"
        ));
        assert!(!forces_replacement(
            "AWS::AutoScaling::AutoScalingGroup",
            "MaxSize"
        ));
        assert!(!forces_replacement("AWS::Unknown::Thing", "Name"));
    }

    #[test]
    fn aws_replacement_details_win() {
        let mut r = modify("NodeGroupLaunchTemplate", "AWS::EC2::LaunchTemplate");
        r.replacement = Some("True".into());
        r.details = vec![RawChangeDetail {
            attribute: Some("Properties".into()),
            name: Some("LaunchTemplateName".into()),
            requires_recreation: Some("Always".into()),
            change_source: Some("DirectModification".into()),
            causing_entity: None,
        }];
        let out = annotate_preview(&[r], None);
        assert_eq!(out[0].replacement.value.as_deref(), Some("True"));
        assert_eq!(out[0].replacement.source, ReplacementSource::Aws);
        assert_eq!(
            out[0].replacement.causes,
            vec!["LaunchTemplateName (RequiresRecreation: Always, DirectModification)"]
        );
    }

    #[test]
    fn estimate_when_aws_is_silent() {
        let before = json!({"Resources": {
            "LT": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateName": "a"}},
            "NodeGroup": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {"MaxSize": "5"}}}});
        let after = json!({"Resources": {
            "LT": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateName": "b"}},
            "NodeGroup": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {"MaxSize": "8"}}}});
        let d = diff_template(&before, &after);
        let mut add = modify("New", "AWS::IAM::Policy");
        add.action = "Add".into();
        let out = annotate_preview(
            &[
                modify("LT", "AWS::EC2::LaunchTemplate"),
                modify("NodeGroup", "AWS::AutoScaling::AutoScalingGroup"),
                add,
            ],
            Some(&d),
        );
        assert_eq!(out[0].replacement.value.as_deref(), Some("True"));
        assert_eq!(out[0].replacement.source, ReplacementSource::EksyncEstimate);
        assert!(out[0].replacement.causes[0].contains("estimate"));
        assert_eq!(out[1].replacement.value.as_deref(), Some("False"));
        assert_eq!(out[1].replacement.source, ReplacementSource::EksyncEstimate);
        assert_eq!(out[2].replacement.source, ReplacementSource::NotApplicable);
    }
}
