//! Where and on what a node group's instances run: its subnets (chosen from the cluster's
//! `vpc.subnets` by name, id or availability zone), the AMI (the EKS-optimized AmazonLinux2023
//! image as an SSM dynamic reference, or an explicit id), the instance architecture, the root
//! volume and the IMDS settings. It does not look anything up in AWS.

use serde_json::{json, Value};

use super::{import_cluster, outputs as out, RenderError};
use crate::eksctl::{ClusterConfig, DEFAULT_VOLUME_SIZE, DEFAULT_VOLUME_TYPE};
use crate::path::FieldPath;

/// The root volume's `Ebs` block, with eksctl's defaults (80 GiB gp3).
pub(crate) fn root_volume(
    size: Option<i64>,
    volume_type: Option<&str>,
    encrypted: Option<bool>,
    kms_key_id: Option<&str>,
    iops: Option<i64>,
    throughput: Option<i64>,
) -> Value {
    let mut ebs = json!({
        "VolumeSize": size.unwrap_or(i64::from(DEFAULT_VOLUME_SIZE)),
        "VolumeType": volume_type.unwrap_or(DEFAULT_VOLUME_TYPE),
    });
    if let Some(e) = encrypted {
        ebs["Encrypted"] = json!(e);
    }
    if let Some(k) = kms_key_id {
        ebs["KmsKeyId"] = json!(k);
    }
    if let Some(i) = iops {
        ebs["Iops"] = json!(i);
    }
    if let Some(t) = throughput {
        ebs["Throughput"] = json!(t);
    }
    ebs
}

pub(crate) fn metadata_options(
    disable_imdsv1: Option<bool>,
    disable_pod_imds: Option<bool>,
) -> Value {
    // eksctl defaults disableIMDSv1 to true.
    let pod = disable_pod_imds.unwrap_or(false);
    let tokens = if disable_imdsv1.unwrap_or(true) || pod {
        "required"
    } else {
        "optional"
    };
    json!({"HttpPutResponseHopLimit": if pod { 1 } else { 2 }, "HttpTokens": tokens})
}

/// True for Graviton (arm64) instance families: a `g` in the suffix after the generation digit
/// (`m6g`, `c7gn`, `t4g`, `x2gd`).
pub(crate) fn is_arm(instance_type: &str) -> bool {
    let family = instance_type.split('.').next().unwrap_or_default();
    match family.find(|c: char| c.is_ascii_digit()) {
        Some(i) => family[i..]
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .contains('g'),
        None => false,
    }
}

/// True for NVIDIA GPU families (`p3`, `g4dn`, `g5`).
pub(crate) fn is_gpu(instance_type: &str) -> bool {
    let mut c = instance_type.chars();
    matches!(c.next(), Some('p' | 'g')) && c.next().is_some_and(|d| d.is_ascii_digit())
}

/// The launch template's `ImageId`: an explicit `ami-...`, or the EKS-optimized AL2023 AMI as an
/// SSM dynamic reference resolved by CloudFormation (eksctl's `auto-ssm`).
pub(crate) fn image_id(
    ami: Option<&str>,
    version: &str,
    instance_type: &str,
    path: &FieldPath,
) -> Result<Value, RenderError> {
    match ami {
        None | Some("auto") | Some("auto-ssm") => {
            let arch = if is_arm(instance_type) {
                "arm64"
            } else {
                "x86_64"
            };
            let variant = if is_gpu(instance_type) {
                "nvidia"
            } else {
                "standard"
            };
            Ok(json!(format!(
                "{{{{resolve:ssm:/aws/service/eks/optimized-ami/{version}/amazon-linux-2023/{arch}/{variant}/recommended/image_id}}}}"
            )))
        }
        Some(id) if id.starts_with("ami-") => Ok(json!(id)),
        Some(_) => Err(RenderError::NotRendered {
            path: path.clone(),
            what: "an ami other than an id, auto or auto-ssm",
        }),
    }
}

/// The node group's subnets: the ones it names (by id or by their name under `vpc.subnets`), the
/// ones in its availability zones, or all of the cluster's subnets of its topology (private with
/// `privateNetworking`, else public).
pub(crate) fn subnets(
    cfg: &ClusterConfig,
    named: &[String],
    zones: &[String],
    private: bool,
    path: &FieldPath,
) -> Result<Value, RenderError> {
    let topology = if private { "private" } else { "public" };
    if cfg.creates_vpc() {
        return created_subnets(cfg, named, zones, private, path);
    }
    let all = cfg
        .vpc
        .as_ref()
        .and_then(|v| v.subnets.clone())
        .unwrap_or_default();
    let mapping = if private { &all.private } else { &all.public };
    let mut ids: Vec<String> = Vec::new();
    if !named.is_empty() {
        for (i, s) in named.iter().enumerate() {
            let found = mapping
                .get(s)
                .and_then(|m| m.id.clone())
                .or_else(|| {
                    mapping
                        .values()
                        .find_map(|m| m.id.clone().filter(|id| id == s))
                })
                .or_else(|| s.starts_with("subnet-").then(|| s.clone()));
            match found {
                Some(id) => ids.push(id),
                None => {
                    return Err(RenderError::UnknownSubnet {
                        path: path.key("subnets").index(i),
                        subnet: s.clone(),
                        topology,
                    })
                }
            }
        }
    } else if !zones.is_empty() {
        for (i, az) in zones.iter().enumerate() {
            let before = ids.len();
            for (name, s) in mapping {
                if s.az.as_deref().unwrap_or(name) == az {
                    ids.extend(s.id.clone());
                }
            }
            if ids.len() == before {
                return Err(RenderError::NoSubnetInZone {
                    path: path.key("availabilityZones").index(i),
                    az: az.clone(),
                    topology,
                });
            }
        }
    } else {
        ids.extend(mapping.values().filter_map(|s| s.id.clone()));
    }
    if ids.is_empty() {
        return Err(RenderError::NoSubnets {
            path: path.key("privateNetworking"),
            topology,
        });
    }
    Ok(json!(ids))
}

/// The node group's subnets in a VPC the cluster stack creates: that stack's `SubnetsPrivate` or
/// `SubnetsPublic` output (a stack parameter once rendered), whole, or the entries of the zones
/// the group names (by zone, or by subnet name, which for a created VPC is the zone), in the
/// order of the cluster's zones; explicit `subnet-` ids are kept as given.
fn created_subnets(
    cfg: &ClusterConfig,
    named: &[String],
    zones: &[String],
    private: bool,
    path: &FieldPath,
) -> Result<Value, RenderError> {
    let topology = if private { "private" } else { "public" };
    let output = if private {
        out::SUBNETS_PRIVATE
    } else {
        out::SUBNETS_PUBLIC
    };
    let all = json!({"Fn::Split": [",", import_cluster(&cfg.metadata.name, output)]});
    let (cluster_zones, _) = cfg.vpc_zones();
    let pick = |az: &str| {
        cluster_zones
            .iter()
            .position(|z| z == az)
            .map(|i| json!({"Fn::Select": [i, all.clone()]}))
    };
    let mut picked = Vec::new();
    if !named.is_empty() {
        for (i, s) in named.iter().enumerate() {
            match pick(s) {
                Some(v) => picked.push(v),
                None if s.starts_with("subnet-") => picked.push(json!(s)),
                None => {
                    return Err(RenderError::UnknownSubnet {
                        path: path.key("subnets").index(i),
                        subnet: s.clone(),
                        topology,
                    })
                }
            }
        }
    } else if !zones.is_empty() {
        for (i, az) in zones.iter().enumerate() {
            picked.push(pick(az).ok_or_else(|| RenderError::NoSubnetInZone {
                path: path.key("availabilityZones").index(i),
                az: az.clone(),
                topology,
            })?);
        }
    } else {
        return Ok(all);
    }
    Ok(Value::Array(picked))
}
