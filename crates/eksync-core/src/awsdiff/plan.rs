//! The AWS plan: desired stacks and role policies plus a live snapshot become per-stack verdicts
//! (create, update, no change, blocked), a drift report and ordered steps as data. Stack steps
//! follow the desired stacks' dependencies (explicit ones and stack-output parameters); drift
//! corrections and role policies wait for the stack they live in. It also lists which live values
//! the adapter must read ([`live_reads_needed`]).
//!
//! It deliberately does not perform anything, and it defers drift corrections on a stack that is
//! being updated (the update may change those values; the next reconcile re-checks them).

use super::diff::{diff_parameters, diff_tags, diff_template, MapChange, TemplateDiff};
use super::drift::{
    deployed_context, detect_drift, resource_policies, Disposition, DriftReport, DriftTarget,
};
use super::normalize::normalize_json;
use super::resolve::scalar_string;
use super::types::{
    DesiredRolePolicy, DesiredStack, DriftMode, LiveAws, LiveStack, ParamValue, RoleSource,
};
use super::AwsDiffError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Plan-wide options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanOptions {
    /// Repo-wide mode; detect-only here overrides every resource's mode.
    pub repo_mode: DriftMode,
}

/// What happens to a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StackAction {
    Create,
    Update,
    NoChange,
    /// The stack cannot be changed now (rollback state, operation in progress).
    Blocked(String),
}

/// The verdict for one desired stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackPlan {
    pub name: String,
    pub action: StackAction,
    pub mode: DriftMode,
    /// `None` when the stack does not exist yet.
    pub template_diff: Option<TemplateDiff>,
    pub parameter_changes: Vec<MapChange>,
    pub tag_changes: Vec<MapChange>,
}

/// An Auto Scaling group addressed by its stack resource, with its name when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsgTarget {
    pub stack: String,
    pub logical_id: String,
    pub name: String,
}

/// Where a role policy step's role comes from (resolved by the executor when it runs).
pub type RoleTarget = RoleSource;

/// One side effect, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AwsStep {
    /// Create a stack through a `CREATE` change set, execute it and wait.
    CreateStack {
        stack: String,
        change_set_name: String,
        template: Value,
        parameters: BTreeMap<String, ParamValue>,
        tags: BTreeMap<String, String>,
    },
    /// Update a stack through an `UPDATE` change set, execute it and wait.
    UpdateStack {
        stack: String,
        change_set_name: String,
        template: Value,
        parameters: BTreeMap<String, ParamValue>,
        tags: BTreeMap<String, String>,
    },
    /// Put an inline role policy (create, or correct drift).
    PutRolePolicy {
        role: RoleTarget,
        policy_name: String,
        document: Value,
    },
    /// Set an Auto Scaling group's min/max (never its desired capacity).
    SetAsgLimits {
        asg: AsgTarget,
        min_size: Option<i64>,
        max_size: Option<i64>,
    },
    /// Set Auto Scaling group tags back to the template's values.
    SetAsgTags {
        asg: AsgTarget,
        tags: BTreeMap<String, String>,
    },
    /// `CreateFargateProfile`, then wait until it is ACTIVE.
    CreateFargateProfile {
        cluster: String,
        profile: super::eks::FargateProfileSpec,
    },
    /// `CreateAddon`, then wait until it is ACTIVE.
    CreateAddon {
        cluster: String,
        addon: super::eks::AddonSpec,
    },
    /// `UpdateAddon`, then wait until it is ACTIVE again.
    UpdateAddon {
        cluster: String,
        addon: super::eks::AddonSpec,
    },
    /// `CreatePodIdentityAssociation` (no wait: it has no status).
    CreatePodIdentityAssociation {
        cluster: String,
        association: super::eks::PodIdentitySpec,
    },
    /// `UpdatePodIdentityAssociation` of association `association_id`: its role.
    UpdatePodIdentityAssociation {
        cluster: String,
        association_id: String,
        association: super::eks::PodIdentitySpec,
    },
    /// `DeleteFargateProfile`, then wait until it is gone: the first half of a replacement
    /// (`reason` says why).
    DeleteFargateProfile {
        cluster: String,
        name: String,
        reason: String,
    },
}

/// A step with its place in the order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStep {
    pub id: usize,
    /// Ids of steps that must succeed first.
    pub after: Vec<usize>,
    pub step: AwsStep,
}

/// Role policy verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyPlan {
    pub role: RoleSource,
    pub role_name: Option<String>,
    pub policy_name: String,
    pub action: PolicyAction,
}

/// What happens to an inline role policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyAction {
    Create,
    Update,
    NoChange,
}

impl std::fmt::Display for PolicyAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PolicyAction::Create => "create",
            PolicyAction::Update => "update",
            PolicyAction::NoChange => "no-change",
        })
    }
}

/// Everything eksync would do on AWS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AwsPlan {
    pub stacks: Vec<StackPlan>,
    pub policies: Vec<PolicyPlan>,
    pub drift: DriftReport,
    pub steps: Vec<PlannedStep>,
    /// Notes such as deferred corrections.
    pub notes: Vec<String>,
    /// Verdicts on EKS API objects ([`super::eks::plan_eks`]).
    #[serde(default)]
    pub eks_objects: Vec<super::eks::EksObjectPlan>,
}

impl AwsPlan {
    /// Whether anything differs that Git owns (stack changes, policies to put, drift).
    pub fn has_changes(&self) -> bool {
        self.stacks
            .iter()
            .any(|s| s.action != StackAction::NoChange)
            || self
                .policies
                .iter()
                .any(|p| p.action != PolicyAction::NoChange)
            || !self.drift.drift.is_empty()
            || self
                .eks_objects
                .iter()
                .any(|o| o.action != super::eks::EksAction::NoChange)
    }
}

/// Which live values the adapter must read after reading the stacks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadRequest {
    pub asg_names: BTreeSet<String>,
    /// `(role name, policy name)`.
    pub role_policies: BTreeSet<(String, String)>,
    pub eks_clusters: BTreeSet<String>,
    /// `(cluster, node group)`.
    pub eks_nodegroups: BTreeSet<(String, String)>,
}

/// Lists the live values drift detection needs, from the deployed templates and resources.
pub fn live_reads_needed(
    stacks: &[DesiredStack],
    policies: &[DesiredRolePolicy],
    live_stacks: &BTreeMap<String, LiveStack>,
) -> ReadRequest {
    let mut req = ReadRequest::default();
    for d in stacks {
        let Some(stack) = live_stacks.get(&d.name) else {
            continue;
        };
        let ctx = deployed_context(stack);
        let Some(resources) = stack.template.get("Resources").and_then(Value::as_object) else {
            continue;
        };
        for (logical_id, r) in resources {
            let physical = stack.physical_id(logical_id).map(str::to_string);
            match r.get("Type").and_then(Value::as_str).unwrap_or("") {
                "AWS::AutoScaling::AutoScalingGroup" => req.asg_names.extend(physical),
                "AWS::IAM::Role" | "AWS::IAM::Policy" => {
                    for p in resource_policies(r, physical.as_deref(), &ctx) {
                        req.role_policies.insert((p.role, p.name));
                    }
                }
                "AWS::EKS::Cluster" => req.eks_clusters.extend(physical),
                "AWS::EKS::Nodegroup" => {
                    if let Some((c, n)) = physical.as_deref().and_then(|p| p.split_once('/')) {
                        req.eks_nodegroups.insert((c.to_string(), n.to_string()));
                    }
                }
                _ => {}
            }
        }
    }
    for d in stacks {
        for p in d.parameters.values() {
            if let ParamValue::EksServiceCidr { cluster } = p {
                req.eks_clusters.insert(cluster.clone());
            }
        }
    }
    let live = LiveAws {
        stacks: live_stacks.clone(),
        ..Default::default()
    };
    for p in policies {
        if let Some(role) = live.role_name(&p.role) {
            req.role_policies.insert((role, p.policy_name.clone()));
        }
    }
    req
}

/// Orders stacks so that every stack comes after its dependencies, keeping the given order
/// otherwise. Dependencies on stacks that are not desired must exist live.
fn order_stacks<'a>(
    stacks: &'a [DesiredStack],
    live: &LiveAws,
) -> Result<Vec<&'a DesiredStack>, AwsDiffError> {
    let mut names = BTreeSet::new();
    for s in stacks {
        if !names.insert(s.name.as_str()) {
            return Err(AwsDiffError::Desired(format!(
                "stack {} is listed twice",
                s.name
            )));
        }
    }
    for s in stacks {
        for dep in s.dependencies() {
            if !names.contains(dep.as_str()) && !live.stacks.contains_key(&dep) {
                return Err(AwsDiffError::Desired(format!(
                    "stack {} depends on {dep}, which is neither desired nor live",
                    s.name
                )));
            }
        }
    }
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    while out.len() < stacks.len() {
        let next = stacks.iter().find(|s| {
            !done.contains(&s.name)
                && s.dependencies()
                    .iter()
                    .all(|d| done.contains(d) || !names.contains(d.as_str()))
        });
        let Some(next) = next else {
            let rest: Vec<_> = stacks
                .iter()
                .filter(|s| !done.contains(&s.name))
                .map(|s| s.name.as_str())
                .collect();
            return Err(AwsDiffError::Desired(format!(
                "dependency cycle among stacks: {}",
                rest.join(", ")
            )));
        };
        done.insert(next.name.clone());
        out.push(next);
    }
    Ok(out)
}

fn resolved_parameters(d: &DesiredStack, live: &LiveAws) -> BTreeMap<String, Option<String>> {
    d.parameters
        .iter()
        .map(|(k, v)| (k.clone(), live.resolve(v)))
        .collect()
}

fn blocked_reason(status: &str) -> Option<String> {
    match status {
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "DELETE_FAILED" | "UPDATE_ROLLBACK_FAILED" => {
            Some(format!(
                "stack is in {status}; it must be deleted or repaired before eksync can change it"
            ))
        }
        s if s.ends_with("_IN_PROGRESS") && s != "REVIEW_IN_PROGRESS" => Some(format!(
            "an operation is in progress ({s}); retry on the next reconcile"
        )),
        _ => None,
    }
}

/// Hides the values of parameters the template declares `NoEcho`: a plan shows that such a
/// parameter changes, never its value.
fn mask_no_echo(changes: Vec<MapChange>, d: &DesiredStack) -> Vec<MapChange> {
    let secret = |key: &str| is_secret(d, key);
    changes
        .into_iter()
        .map(|mut c| {
            if secret(&c.key) {
                c.live = c.live.map(|_| "****".to_string());
                c.desired = c.desired.map(|_| "****".to_string());
            }
            c
        })
        .collect()
}

/// Whether parameter `key` of `d` is secret: declared `NoEcho` or given as a secret.
fn is_secret(d: &DesiredStack, key: &str) -> bool {
    matches!(d.parameters.get(key), Some(ParamValue::Secret(_)))
        || d.template
            .get("Parameters")
            .and_then(|p| p.get(key))
            .and_then(|p| p.get("NoEcho"))
            .is_some_and(|v| v == &Value::Bool(true) || v.as_str() == Some("true"))
}

/// The step's parameters, with `NoEcho` literals turned into secrets so a printed plan hides them.
fn step_parameters(d: &DesiredStack) -> BTreeMap<String, ParamValue> {
    d.parameters
        .iter()
        .map(|(k, v)| match v {
            ParamValue::Literal(l) if is_secret(d, k) => (
                k.clone(),
                ParamValue::Secret(super::types::SecretValue::new(l.clone())),
            ),
            other => (k.clone(), other.clone()),
        })
        .collect()
}

/// `eksync-<UTC time>-<8 hex digits of the stack name's SHA-256>`: unique per stack and run, so a
/// change set is never confused with another stack's, even by endpoints that look names up globally.
pub fn change_set_name(stamp: &str, stack: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(stack.as_bytes());
    format!("eksync-{stamp}-{}", hex::encode(&digest[..4]))
}

/// `(stack, logical id, group name)`.
type AsgKey = (String, String, String);

/// Plans the AWS side. `now` names the change sets (`eksync-<UTC time>`).
pub fn plan(
    stacks: &[DesiredStack],
    policies: &[DesiredRolePolicy],
    live: &LiveAws,
    options: PlanOptions,
    now: jiff::Timestamp,
) -> Result<AwsPlan, AwsDiffError> {
    let ordered = order_stacks(stacks, live)?;
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    let detect_only =
        |m: DriftMode| options.repo_mode == DriftMode::DetectOnly || m == DriftMode::DetectOnly;
    let mut steps: Vec<PlannedStep> = Vec::new();
    let mut stack_step: BTreeMap<String, usize> = BTreeMap::new();
    let mut stack_plans = Vec::new();
    let mut notes = Vec::new();

    for d in ordered {
        let params = resolved_parameters(d, live);
        let existing = live
            .stacks
            .get(&d.name)
            .filter(|s| s.status != "REVIEW_IN_PROGRESS");
        let (action, template_diff, parameter_changes, tag_changes) = match existing {
            None => {
                let pc = mask_no_echo(diff_parameters(&params, &BTreeMap::new()), d);
                let tc = diff_tags(&d.tags, &BTreeMap::new());
                (StackAction::Create, None, pc, tc)
            }
            Some(live_stack) => {
                let td = diff_template(&live_stack.template, &d.template);
                let pc = mask_no_echo(diff_parameters(&params, &live_stack.parameters), d);
                let tc = diff_tags(&d.tags, &live_stack.tags);
                let action = if let Some(reason) = blocked_reason(&live_stack.status) {
                    StackAction::Blocked(reason)
                } else if td.is_empty() && pc.is_empty() && tc.is_empty() {
                    StackAction::NoChange
                } else {
                    StackAction::Update
                };
                (action, Some(td), pc, tc)
            }
        };
        if matches!(action, StackAction::Create | StackAction::Update) && !detect_only(d.mode) {
            let after = d
                .dependencies()
                .iter()
                .filter_map(|dep| stack_step.get(dep).copied())
                .collect();
            let (stack, template, parameters, tags) = (
                d.name.clone(),
                d.template.clone(),
                step_parameters(d),
                d.tags.clone(),
            );
            let change_set_name = change_set_name(&stamp, &d.name);
            let step = if action == StackAction::Create {
                AwsStep::CreateStack {
                    stack,
                    change_set_name,
                    template,
                    parameters,
                    tags,
                }
            } else {
                AwsStep::UpdateStack {
                    stack,
                    change_set_name,
                    template,
                    parameters,
                    tags,
                }
            };
            let id = steps.len();
            steps.push(PlannedStep { id, after, step });
            stack_step.insert(d.name.clone(), id);
        }
        stack_plans.push(StackPlan {
            name: d.name.clone(),
            action,
            mode: if detect_only(d.mode) {
                DriftMode::DetectOnly
            } else {
                DriftMode::Correct
            },
            template_diff,
            parameter_changes,
            tag_changes,
        });
    }

    let drift = detect_drift(stacks, policies, live, options.repo_mode);
    // Corrections, grouped per target so one call fixes min and max together.
    let mut limits: BTreeMap<AsgKey, (Option<i64>, Option<i64>)> = BTreeMap::new();
    let mut tags: BTreeMap<(String, String, String), BTreeMap<String, String>> = BTreeMap::new();
    for dr in drift
        .drift
        .iter()
        .filter(|d| d.disposition == Disposition::Correct)
    {
        if let Some(stack) = dr.target.stack() {
            if stack_step.contains_key(stack) {
                notes.push(format!("{stack}: correction of {} deferred until after the stack update; re-checked on the next reconcile", dr.property));
                continue;
            }
            let blocked = stack_plans
                .iter()
                .any(|s| s.name == stack && matches!(s.action, StackAction::Blocked(_)));
            if blocked {
                notes.push(format!(
                    "{stack}: correction of {} skipped while the stack is blocked",
                    dr.property
                ));
                continue;
            }
        }
        match &dr.target {
            DriftTarget::Asg {
                stack,
                logical_id,
                name,
            } => {
                let key = (stack.clone(), logical_id.clone(), name.clone());
                if let Some(tag) = dr.property.strip_prefix("Tags.") {
                    tags.entry(key).or_default().insert(
                        tag.to_string(),
                        scalar_string(&dr.expected).unwrap_or_default(),
                    );
                } else {
                    let entry = limits.entry(key).or_default();
                    match dr.property.as_str() {
                        "MinSize" => entry.0 = dr.expected.as_i64(),
                        "MaxSize" => entry.1 = dr.expected.as_i64(),
                        _ => {}
                    }
                }
            }
            DriftTarget::RolePolicy {
                role,
                policy,
                stack: Some(_),
            } => {
                let id = steps.len();
                steps.push(PlannedStep {
                    id,
                    after: Vec::new(),
                    step: AwsStep::PutRolePolicy {
                        role: RoleSource::Name(role.clone()),
                        policy_name: policy.clone(),
                        document: dr.expected.clone(),
                    },
                });
            }
            // Desired role policies are handled below with creation.
            _ => {}
        }
    }
    for ((stack, logical_id, name), (min_size, max_size)) in limits {
        let id = steps.len();
        steps.push(PlannedStep {
            id,
            after: Vec::new(),
            step: AwsStep::SetAsgLimits {
                asg: AsgTarget {
                    stack,
                    logical_id,
                    name,
                },
                min_size,
                max_size,
            },
        });
    }
    for ((stack, logical_id, name), tags) in tags {
        let id = steps.len();
        steps.push(PlannedStep {
            id,
            after: Vec::new(),
            step: AwsStep::SetAsgTags {
                asg: AsgTarget {
                    stack,
                    logical_id,
                    name,
                },
                tags,
            },
        });
    }

    let mut policy_plans = Vec::new();
    for p in policies {
        let role_name = live.role_name(&p.role);
        let live_doc = role_name
            .as_ref()
            .and_then(|r| live.role_policy(r, &p.policy_name))
            .and_then(|l| l.document.as_ref());
        let action = match live_doc {
            None => PolicyAction::Create,
            Some(doc) if normalize_json(doc) != normalize_json(&p.document) => PolicyAction::Update,
            Some(_) => PolicyAction::NoChange,
        };
        if action != PolicyAction::NoChange && !detect_only(p.mode) {
            let after = match &p.role {
                RoleSource::StackResource { stack, .. } => {
                    stack_step.get(stack).copied().into_iter().collect()
                }
                RoleSource::Name(_) => Vec::new(),
            };
            let id = steps.len();
            steps.push(PlannedStep {
                id,
                after,
                step: AwsStep::PutRolePolicy {
                    role: p.role.clone(),
                    policy_name: p.policy_name.clone(),
                    document: p.document.clone(),
                },
            });
        }
        policy_plans.push(PolicyPlan {
            role: p.role.clone(),
            role_name,
            policy_name: p.policy_name.clone(),
            action,
        });
    }

    Ok(AwsPlan {
        stacks: stack_plans,
        policies: policy_plans,
        drift,
        steps,
        notes,
        eks_objects: Vec::new(),
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
