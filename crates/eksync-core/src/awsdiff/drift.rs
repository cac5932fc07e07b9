//! Resource drift without CloudFormation drift detection: the live values the config owns (Auto
//! Scaling group min/max/desired and tags, inline role policies, EKS cluster version and managed
//! node group scaling and labels) compared with what the *deployed* template says, plus inline role
//! policies Git owns outside templates compared with their desired documents.
//!
//! Every difference gets an owner. Values owned by Git are drift (corrected, or only reported in
//! detect-only mode); values owned by another controller are listed separately and never corrected.
//! The desired capacity of an Auto Scaling group whose template tags it
//! `k8s.io/cluster-autoscaler/enabled: "true"`, and the desired size of every EKS managed node
//! group, belong to the cluster-autoscaler unless an explicit [`OwnerRule`] says otherwise. EKS
//! settings and Git-owned desired capacities are reported, not corrected directly (they change
//! through the stack). It deliberately does not decide *how* to correct (see `plan`) and
//! compares nothing it cannot resolve (values behind `Fn::GetAtt` or imports are skipped with a note).

use super::normalize::normalize_json;
use super::resolve::{resolve, scalar_string, ResolveContext};
use super::types::{
    DesiredRolePolicy, DesiredStack, DriftMode, LiveAws, LiveStack, Owner, OwnerRule,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// Tag that marks an Auto Scaling group as managed by the cluster-autoscaler.
pub const AUTOSCALER_ENABLED_TAG: &str = "k8s.io/cluster-autoscaler/enabled";

/// What drifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DriftTarget {
    Asg {
        stack: String,
        logical_id: String,
        name: String,
    },
    RolePolicy {
        /// Stack whose template declares the policy; `None` for a [`DesiredRolePolicy`].
        stack: Option<String>,
        role: String,
        policy: String,
    },
    EksCluster {
        stack: String,
        logical_id: String,
        name: String,
    },
    EksNodegroup {
        stack: String,
        logical_id: String,
        cluster: String,
        name: String,
    },
}

impl DriftTarget {
    /// The stack the drifted resource belongs to, if any.
    pub fn stack(&self) -> Option<&str> {
        match self {
            DriftTarget::Asg { stack, .. }
            | DriftTarget::EksCluster { stack, .. }
            | DriftTarget::EksNodegroup { stack, .. } => Some(stack),
            DriftTarget::RolePolicy { stack, .. } => stack.as_deref(),
        }
    }
}

/// What eksync does about a drift.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Owned by Git and correctable directly: the plan corrects it.
    Correct,
    /// Detect-only mode: reported, nothing changes.
    DetectOnly,
    /// Owned by Git but eksync has no direct correction; the next stack update or a human fixes it.
    ReportOnly(String),
    /// Owned by another controller: expected to change, never corrected.
    NotOwned,
}

/// One live value that differs from what it should be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub target: DriftTarget,
    /// Template property (`MaxSize`, `Tags.<key>`, `PolicyDocument`, `ScalingConfig.MinSize`).
    pub property: String,
    pub expected: Value,
    pub live: Value,
    pub owner: Owner,
    pub disposition: Disposition,
}

/// The result of drift detection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Git-owned differences.
    pub drift: Vec<Drift>,
    /// Differences in values another controller owns (never corrected).
    pub not_owned: Vec<Drift>,
    /// Values that could not be compared, and why.
    pub notes: Vec<String>,
}

/// Builds the resolve context for a live stack's deployed template.
pub fn deployed_context(live: &LiveStack) -> ResolveContext {
    let (partition, region, account) = live.arn_parts().unwrap_or(("aws", "", ""));
    ResolveContext {
        stack_name: live.name.clone(),
        partition: partition.to_string(),
        region: region.to_string(),
        account: account.to_string(),
        parameters: live.parameters.clone(),
        resources: live
            .resources
            .iter()
            .filter_map(|r| Some((r.logical_id.clone(), r.physical_id.clone()?)))
            .collect(),
    }
}

fn effective_mode(resource: DriftMode, repo: DriftMode) -> DriftMode {
    if repo == DriftMode::DetectOnly {
        DriftMode::DetectOnly
    } else {
        resource
    }
}

fn owner_of(rules: &[OwnerRule], logical_id: &str, property: &str, default: Owner) -> Owner {
    rules
        .iter()
        .find(|r| r.logical_id == logical_id && r.property == property)
        .map(|r| r.owner.clone())
        .unwrap_or(default)
}

/// Whether eksync can correct a value with a direct API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    Direct,
    ThroughStack,
}

/// The default owner of a compared value and how it is fixed.
struct Rule {
    default_owner: Owner,
    fix: Fix,
}

impl Rule {
    fn new(default_owner: Owner, fix: Fix) -> Self {
        Self { default_owner, fix }
    }
}

struct Collector<'a> {
    report: DriftReport,
    mode: DriftMode,
    rules: &'a [OwnerRule],
}

impl Collector<'_> {
    fn push(
        &mut self,
        target: DriftTarget,
        logical_id: &str,
        property: &str,
        expected: Value,
        live: Value,
        rule: Rule,
    ) {
        let owner = owner_of(self.rules, logical_id, property, rule.default_owner);
        let disposition = if owner != Owner::Git {
            Disposition::NotOwned
        } else if self.mode == DriftMode::DetectOnly {
            Disposition::DetectOnly
        } else if rule.fix == Fix::Direct {
            Disposition::Correct
        } else {
            Disposition::ReportOnly("no direct correction; change it through the stack".to_string())
        };
        let drift = Drift {
            target,
            property: property.to_string(),
            expected,
            live,
            owner,
            disposition,
        };
        if drift.disposition == Disposition::NotOwned {
            self.report.not_owned.push(drift);
        } else {
            self.report.drift.push(drift);
        }
    }
}

fn int_of(v: &Value) -> Option<i64> {
    scalar_string(v)?.trim().parse().ok()
}

fn template_tags(props: &Value, ctx: &ResolveContext) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Array(tags)) = props.get("Tags") {
        for t in tags {
            let key = t
                .get("Key")
                .and_then(|k| resolve(k, ctx))
                .and_then(|k| scalar_string(&k));
            let value = t
                .get("Value")
                .and_then(|v| resolve(v, ctx))
                .and_then(|v| scalar_string(&v));
            if let (Some(k), Some(v)) = (key, value) {
                out.insert(k, v);
            }
        }
    }
    out
}

/// Detects drift for every desired stack that exists live and every desired role policy.
/// `repo_mode` is the repo-wide mode: detect-only there overrides every resource's mode.
pub fn detect_drift(
    stacks: &[DesiredStack],
    policies: &[DesiredRolePolicy],
    live: &LiveAws,
    repo_mode: DriftMode,
) -> DriftReport {
    let mut report = DriftReport::default();
    for desired in stacks {
        let Some(stack) = live.stacks.get(&desired.name) else {
            continue;
        };
        let mut c = Collector {
            report: std::mem::take(&mut report),
            mode: effective_mode(desired.mode, repo_mode),
            rules: &desired.ownership,
        };
        stack_drift(&mut c, stack, live);
        report = c.report;
    }
    for p in policies {
        let mode = effective_mode(p.mode, repo_mode);
        let Some(role) = live.role_name(&p.role) else {
            // The role's stack does not exist yet: the policy is created after it.
            continue;
        };
        let live_doc = live
            .role_policy(&role, &p.policy_name)
            .map(|l| l.document.clone());
        let Some(live_doc) = live_doc else {
            report
                .notes
                .push(format!("role policy {role}/{} was not read", p.policy_name));
            continue;
        };
        let expected = normalize_json(&p.document);
        let live_norm = live_doc.as_ref().map(normalize_json).unwrap_or(Value::Null);
        if expected != live_norm && live_doc.is_some() {
            let mut c = Collector {
                report: std::mem::take(&mut report),
                mode,
                rules: &[],
            };
            c.push(
                DriftTarget::RolePolicy {
                    stack: None,
                    role: role.clone(),
                    policy: p.policy_name.clone(),
                },
                "",
                "PolicyDocument",
                expected,
                live_norm,
                Rule::new(Owner::Git, Fix::Direct),
            );
            report = c.report;
        }
    }
    report
}

fn stack_drift(c: &mut Collector<'_>, stack: &LiveStack, live: &LiveAws) {
    let ctx = deployed_context(stack);
    let Some(resources) = stack.template.get("Resources").and_then(Value::as_object) else {
        return;
    };
    for (logical_id, resource) in resources {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        let props = resource.get("Properties").cloned().unwrap_or(Value::Null);
        let physical = stack.physical_id(logical_id).map(str::to_string);
        match kind {
            "AWS::AutoScaling::AutoScalingGroup" => {
                let Some(name) = physical else { continue };
                let Some(asg) = live.asgs.get(&name) else {
                    c.report.notes.push(format!(
                        "{}/{logical_id}: Auto Scaling group {name} not found live",
                        stack.name
                    ));
                    continue;
                };
                let tags = template_tags(&props, &ctx);
                let scaled_by_autoscaler =
                    tags.get(AUTOSCALER_ENABLED_TAG).map(String::as_str) == Some("true");
                let target = DriftTarget::Asg {
                    stack: stack.name.clone(),
                    logical_id: logical_id.clone(),
                    name: name.clone(),
                };
                for (prop, have) in [
                    ("MinSize", asg.min_size),
                    ("MaxSize", asg.max_size),
                    ("DesiredCapacity", asg.desired_capacity),
                ] {
                    let Some(raw) = props.get(prop) else { continue };
                    let Some(want) = resolve(raw, &ctx).as_ref().and_then(int_of) else {
                        c.report.notes.push(format!(
                            "{}/{logical_id}.{prop}: not resolvable, not compared",
                            stack.name
                        ));
                        continue;
                    };
                    if want != have {
                        let default_owner = if prop == "DesiredCapacity" && scaled_by_autoscaler {
                            Owner::ClusterAutoscaler
                        } else {
                            Owner::Git
                        };
                        let fix = if prop == "DesiredCapacity" {
                            Fix::ThroughStack
                        } else {
                            Fix::Direct
                        };
                        c.push(
                            target.clone(),
                            logical_id,
                            prop,
                            Value::from(want),
                            Value::from(have),
                            Rule::new(default_owner, fix),
                        );
                    }
                }
                for (key, want) in &tags {
                    let have = asg.tags.get(key);
                    if have != Some(want) {
                        c.push(
                            target.clone(),
                            logical_id,
                            &format!("Tags.{key}"),
                            Value::from(want.clone()),
                            have.cloned().map(Value::from).unwrap_or(Value::Null),
                            Rule::new(Owner::Git, Fix::Direct),
                        );
                    }
                }
            }
            "AWS::IAM::Role" | "AWS::IAM::Policy" => {
                for p in resource_policies(resource, physical.as_deref(), &ctx) {
                    policy_drift(
                        c, stack, logical_id, &p.role, &p.name, p.document, &ctx, live,
                    );
                }
            }
            "AWS::EKS::Cluster" => {
                let Some(name) = physical else { continue };
                let Some(cluster) = live.eks_clusters.get(&name) else {
                    continue;
                };
                if let Some(want) = props
                    .get("Version")
                    .and_then(|v| resolve(v, &ctx))
                    .and_then(|v| scalar_string(&v))
                {
                    if cluster.version.as_deref() != Some(want.as_str()) {
                        let target = DriftTarget::EksCluster {
                            stack: stack.name.clone(),
                            logical_id: logical_id.clone(),
                            name,
                        };
                        c.push(
                            target,
                            logical_id,
                            "Version",
                            Value::from(want),
                            cluster
                                .version
                                .clone()
                                .map(Value::from)
                                .unwrap_or(Value::Null),
                            Rule::new(Owner::Git, Fix::ThroughStack),
                        );
                    }
                }
            }
            "AWS::EKS::Nodegroup" => {
                // The physical id of an EKS node group is `<cluster>/<nodegroup>`.
                let Some((cluster, name)) = physical.as_deref().and_then(|p| p.split_once('/'))
                else {
                    continue;
                };
                let Some(ng) = live.nodegroup(cluster, name) else {
                    continue;
                };
                let target = DriftTarget::EksNodegroup {
                    stack: stack.name.clone(),
                    logical_id: logical_id.clone(),
                    cluster: cluster.to_string(),
                    name: name.to_string(),
                };
                let scaling = props
                    .get("ScalingConfig")
                    .and_then(|s| resolve(s, &ctx))
                    .unwrap_or(Value::Null);
                for (prop, have) in [
                    ("MinSize", ng.min_size),
                    ("MaxSize", ng.max_size),
                    ("DesiredSize", ng.desired_size),
                ] {
                    let Some(want) = scaling.get(prop).and_then(int_of) else {
                        continue;
                    };
                    if Some(want) != have {
                        let owner = if prop == "DesiredSize" {
                            Owner::ClusterAutoscaler
                        } else {
                            Owner::Git
                        };
                        c.push(
                            target.clone(),
                            logical_id,
                            &format!("ScalingConfig.{prop}"),
                            Value::from(want),
                            have.map(Value::from).unwrap_or(Value::Null),
                            Rule::new(owner, Fix::ThroughStack),
                        );
                    }
                }
                if let Some(Value::Object(labels)) =
                    props.get("Labels").and_then(|l| resolve(l, &ctx))
                {
                    for (k, v) in labels {
                        let want = scalar_string(&v).unwrap_or_default();
                        if ng.labels.get(&k) != Some(&want) {
                            c.push(
                                target.clone(),
                                logical_id,
                                &format!("Labels.{k}"),
                                Value::from(want),
                                ng.labels
                                    .get(&k)
                                    .cloned()
                                    .map(Value::from)
                                    .unwrap_or(Value::Null),
                                Rule::new(Owner::Git, Fix::ThroughStack),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// An inline policy a template resource puts on a role, with names resolved.
pub(crate) struct ResourcePolicy<'a> {
    pub role: String,
    pub name: String,
    pub document: Option<&'a Value>,
}

/// The inline policies of one deployed resource: an `AWS::IAM::Role`'s `Policies` (on the role,
/// `physical`) or an `AWS::IAM::Policy` (on each of its `Roles`). Names that need intrinsics this
/// module cannot evaluate are left out.
pub(crate) fn resource_policies<'a>(
    resource: &'a Value,
    physical: Option<&str>,
    ctx: &ResolveContext,
) -> Vec<ResourcePolicy<'a>> {
    let props = resource.get("Properties");
    let name_of = |v: Option<&Value>| {
        v.and_then(|n| resolve(n, ctx))
            .and_then(|n| scalar_string(&n))
    };
    match resource.get("Type").and_then(Value::as_str) {
        Some("AWS::IAM::Role") => {
            let Some(role) = physical else {
                return Vec::new();
            };
            props
                .and_then(|p| p.get("Policies"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    Some(ResourcePolicy {
                        role: role.to_string(),
                        name: name_of(p.get("PolicyName"))?,
                        document: p.get("PolicyDocument"),
                    })
                })
                .collect()
        }
        Some("AWS::IAM::Policy") => {
            let name = name_of(props.and_then(|p| p.get("PolicyName")));
            let roles = props
                .and_then(|p| p.get("Roles"))
                .and_then(|r| resolve(r, ctx));
            let (Some(name), Some(Value::Array(roles))) = (name, roles) else {
                return Vec::new();
            };
            roles
                .iter()
                .filter_map(scalar_string)
                .map(|role| ResourcePolicy {
                    role,
                    name: name.clone(),
                    document: props.and_then(|p| p.get("PolicyDocument")),
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn policy_drift(
    c: &mut Collector<'_>,
    stack: &LiveStack,
    logical_id: &str,
    role: &str,
    name: &str,
    document: Option<&Value>,
    ctx: &ResolveContext,
    live: &LiveAws,
) {
    let Some(expected) = document.and_then(|d| resolve(d, ctx)) else {
        c.report.notes.push(format!(
            "{}/{logical_id}: policy {name} has intrinsics eksync does not evaluate, not compared",
            stack.name
        ));
        return;
    };
    let Some(have) = live.role_policy(role, name) else {
        c.report
            .notes
            .push(format!("role policy {role}/{name} was not read"));
        return;
    };
    let expected = normalize_json(&expected);
    let have = have
        .document
        .as_ref()
        .map(normalize_json)
        .unwrap_or(Value::Null);
    if expected != have {
        let target = DriftTarget::RolePolicy {
            stack: Some(stack.name.clone()),
            role: role.to_string(),
            policy: name.to_string(),
        };
        c.push(
            target,
            logical_id,
            "PolicyDocument",
            expected,
            have,
            Rule::new(Owner::Git, Fix::Direct),
        );
    }
}

#[cfg(test)]
#[path = "drift_tests.rs"]
mod tests;
