//! The AWS part of a preview as Markdown, for a PR comment or a terminal: which stacks change and
//! how (template paths, parameters, tags), what each change set says (action and replacement, marked
//! when it is eksync's estimate), drift with its owner and what eksync does about it, values other
//! controllers own, and the ordered steps. Table cells are escaped so that any text keeps a row
//! one row. It deliberately does not print secrets (parameter changes arrive masked from `plan`)
//! nor whole policy documents (values are clipped to 60 characters).

use super::drift::{Disposition, Drift, DriftTarget};
use super::eks::EksAction;
use super::plan::{AwsPlan, AwsStep, StackAction};
use super::replacement::{ChangeSetPreview, ReplacementSource};
use super::types::{DriftMode, Owner, RoleSource};
use crate::text;
use serde_json::Value;
use std::fmt::Write;

const MAX_VALUE: usize = 60;

/// A value for a table cell or a list item: escaped as a cell ([`text::md_cell`]), then clipped
/// to [`MAX_VALUE`] characters (plus `…`).
fn short(v: &Value) -> String {
    text::clip(&text::md_cell(&text::json_text(v)), MAX_VALUE)
}

fn opt(v: Option<&str>) -> String {
    v.map(|s| short(&Value::String(s.to_string())))
        .unwrap_or_else(|| "(none)".to_string())
}

fn target(t: &DriftTarget) -> String {
    match t {
        DriftTarget::Asg {
            stack,
            logical_id,
            name,
        } => format!("`{stack}` {logical_id} (ASG {name})"),
        DriftTarget::RolePolicy {
            stack,
            role,
            policy,
        } => match stack {
            Some(s) => format!("`{s}` role {role}, policy {policy}"),
            None => format!("role {role}, policy {policy}"),
        },
        DriftTarget::EksCluster { stack, name, .. } => format!("`{stack}` EKS cluster {name}"),
        DriftTarget::EksNodegroup {
            stack,
            cluster,
            name,
            ..
        } => {
            format!("`{stack}` node group {cluster}/{name}")
        }
    }
}

fn owner(o: &Owner) -> String {
    match o {
        Owner::Git => "Git".to_string(),
        Owner::ClusterAutoscaler => "cluster-autoscaler".to_string(),
        Owner::Other(name) => name.clone(),
    }
}

fn drift_row(out: &mut String, d: &Drift) {
    let what = match &d.disposition {
        Disposition::Correct => "correct".to_string(),
        Disposition::DetectOnly => "report (detect-only)".to_string(),
        Disposition::ReportOnly(why) => format!("report ({why})"),
        Disposition::NotOwned => "leave".to_string(),
    };
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |",
        text::md_cell(&target(&d.target)),
        text::md_cell(&d.property),
        short(&d.expected),
        short(&d.live),
        text::md_cell(&owner(&d.owner)),
        text::md_cell(&what)
    );
}

fn role(r: &RoleSource) -> String {
    match r {
        RoleSource::Name(n) => n.clone(),
        RoleSource::StackResource { stack, logical_id } => {
            format!("{logical_id} of `{stack}` (known after apply)")
        }
    }
}

/// Renders the plan and any change-set previews as Markdown.
pub fn render_markdown(plan: &AwsPlan, previews: &[ChangeSetPreview]) -> String {
    let mut out = String::from("## AWS\n\n| stack | action | mode |\n|---|---|---|\n");
    for s in &plan.stacks {
        let action = match &s.action {
            StackAction::Create => "create".to_string(),
            StackAction::Update => "update".to_string(),
            StackAction::NoChange => "no change".to_string(),
            StackAction::Blocked(why) => format!("blocked: {why}"),
        };
        let mode = match s.mode {
            DriftMode::Correct => "correct",
            DriftMode::DetectOnly => "detect-only",
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {mode} |",
            text::md_cell(&s.name),
            text::md_cell(&action)
        );
    }
    for s in plan
        .stacks
        .iter()
        .filter(|s| s.action == StackAction::Update)
    {
        let _ = writeln!(out, "\n### `{}`\n", s.name);
        for c in s.template_diff.iter().flat_map(|d| &d.changes) {
            let _ = writeln!(
                out,
                "- template `{}`: {} → {}",
                c.path,
                c.deployed
                    .as_ref()
                    .map(short)
                    .unwrap_or_else(|| "(absent)".into()),
                c.desired
                    .as_ref()
                    .map(short)
                    .unwrap_or_else(|| "(removed)".into())
            );
        }
        for c in &s.parameter_changes {
            let to = if c.known_after_apply {
                "(known after apply)".to_string()
            } else {
                opt(c.desired.as_deref())
            };
            let _ = writeln!(
                out,
                "- parameter `{}`: {} → {to}",
                c.key,
                opt(c.live.as_deref())
            );
        }
        for c in &s.tag_changes {
            let _ = writeln!(
                out,
                "- tag `{}`: {} → {}",
                c.key,
                opt(c.live.as_deref()),
                opt(c.desired.as_deref())
            );
        }
        if let Some(p) = previews.iter().find(|p| p.stack == s.name) {
            let _ = writeln!(
                out,
                "\n| resource | type | action | replacement |\n|---|---|---|---|"
            );
            for r in &p.changes {
                let replacement = match (&r.replacement.value, r.replacement.source) {
                    (None, _) => "—".to_string(),
                    (Some(v), ReplacementSource::EksyncEstimate) => {
                        format!("{v} (eksync's estimate)")
                    }
                    (Some(v), _) => v.clone(),
                };
                let causes = if r.replacement.causes.is_empty() {
                    String::new()
                } else {
                    format!(": {}", r.replacement.causes.join("; "))
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    text::md_cell(&r.logical_id),
                    text::md_cell(&r.resource_type),
                    text::md_cell(&r.action),
                    text::md_cell(&format!("{replacement}{causes}"))
                );
            }
        }
    }
    if !plan.policies.is_empty() {
        out.push_str("\n### Inline role policies\n\n");
        for p in &plan.policies {
            let name = p.role_name.clone().unwrap_or_else(|| role(&p.role));
            let _ = writeln!(out, "- `{}` on {name}: {}", p.policy_name, p.action);
        }
    }
    if !plan.eks_objects.is_empty() {
        out.push_str("\n### EKS objects\n\n");
        for o in &plan.eks_objects {
            let action = match &o.action {
                EksAction::Create => "create".to_string(),
                EksAction::NoChange => "no change".to_string(),
                EksAction::Update => "update".to_string(),
                EksAction::Replace { reason } => format!("replace: {reason}"),
                EksAction::Blocked(why) => format!("blocked: {why}"),
            };
            let _ = writeln!(
                out,
                "- {} `{}` of cluster {}: {}",
                o.kind.node_kind(),
                text::md_cell(&o.name),
                text::md_cell(&o.cluster),
                text::md_cell(&action)
            );
        }
    }
    if !plan.drift.drift.is_empty() || !plan.drift.not_owned.is_empty() {
        out.push_str("\n### Drift\n\n| resource | property | expected | live | owner | eksync |\n|---|---|---|---|---|---|\n");
        for d in plan.drift.drift.iter().chain(&plan.drift.not_owned) {
            drift_row(&mut out, d);
        }
    }
    if !plan.steps.is_empty() {
        out.push_str("\n### Steps\n\n");
        for s in &plan.steps {
            let what = match &s.step {
                AwsStep::CreateStack { stack, .. } => {
                    format!("create stack `{stack}` (change set)")
                }
                AwsStep::UpdateStack { stack, .. } => {
                    format!("update stack `{stack}` (change set)")
                }
                AwsStep::PutRolePolicy {
                    role: r,
                    policy_name,
                    ..
                } => format!("put policy `{policy_name}` on {}", role(r)),
                AwsStep::SetAsgLimits {
                    asg,
                    min_size,
                    max_size,
                } => format!(
                    "set ASG {} {}",
                    asg.name,
                    [
                        min_size.map(|v| format!("min={v}")),
                        max_size.map(|v| format!("max={v}"))
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
                ),
                AwsStep::SetAsgTags { asg, tags } => format!(
                    "set tags {} on ASG {}",
                    tags.keys().cloned().collect::<Vec<_>>().join(", "),
                    asg.name
                ),
                AwsStep::CreateFargateProfile { cluster, profile } => format!(
                    "create Fargate profile `{}` of cluster {cluster}",
                    text::md_cell(&profile.name)
                ),
                AwsStep::CreateAddon { cluster, addon } => format!(
                    "create add-on `{}` of cluster {cluster}",
                    text::md_cell(&addon.name)
                ),
                AwsStep::UpdateAddon { cluster, addon } => format!(
                    "update add-on `{}` of cluster {cluster}",
                    text::md_cell(&addon.name)
                ),
                AwsStep::CreatePodIdentityAssociation {
                    cluster,
                    association,
                } => format!(
                    "create Pod Identity association of `{}` in cluster {cluster}",
                    text::md_cell(&association.name())
                ),
                AwsStep::UpdatePodIdentityAssociation {
                    cluster,
                    association,
                    ..
                } => format!(
                    "update the role of Pod Identity association `{}` in cluster {cluster}",
                    text::md_cell(&association.name())
                ),
                AwsStep::DeleteFargateProfile { cluster, name, .. } => format!(
                    "delete Fargate profile `{}` of cluster {cluster} (to create it again)",
                    text::md_cell(name)
                ),
            };
            let after = if s.after.is_empty() {
                String::new()
            } else {
                format!(
                    " (after {})",
                    s.after
                        .iter()
                        .map(|a| (a + 1).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let _ = writeln!(out, "{}. {what}{after}", s.id + 1);
        }
    }
    for n in &plan.notes {
        let _ = writeln!(out, "\n> {n}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::awsdiff::plan::{AsgTarget, PlannedStep, PolicyPlan, StackPlan};
    use crate::awsdiff::replacement::{Replacement, ResourceChangePreview};
    use crate::awsdiff::{diff_template, DriftReport, MapChange};
    use serde_json::json;

    #[test]
    fn markdown_preview() {
        let before = json!({"Resources": {"NodeGroup": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {"MaxSize": "5"}}}});
        let after = json!({"Resources": {"NodeGroup": {"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {"MaxSize": "8"}}}});
        let asg = AsgTarget {
            stack: "eksctl-c-nodegroup-spot".into(),
            logical_id: "NodeGroup".into(),
            name: "asg-1".into(),
        };
        let plan = AwsPlan {
            stacks: vec![
                StackPlan { name: "eksctl-c-cluster".into(), action: StackAction::NoChange, mode: DriftMode::Correct, template_diff: None, parameter_changes: vec![], tag_changes: vec![] },
                StackPlan {
                    name: "eksctl-c-nodegroup-spot".into(),
                    action: StackAction::Update,
                    mode: DriftMode::Correct,
                    template_diff: Some(diff_template(&before, &after)),
                    parameter_changes: vec![MapChange { key: "Token".into(), live: Some("****".into()), desired: Some("****".into()), known_after_apply: false }],
                    tag_changes: vec![],
                },
            ],
            policies: vec![PolicyPlan { role: RoleSource::Name("role-1".into()), role_name: Some("role-1".into()), policy_name: "ASG-Policy-For-Worker".into(), action: crate::awsdiff::PolicyAction::Update }],
            drift: DriftReport {
                drift: vec![Drift {
                    target: DriftTarget::RolePolicy { stack: None, role: "role-1".into(), policy: "ASG-Policy-For-Worker".into() },
                    property: "PolicyDocument".into(),
                    expected: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["autoscaling:DescribeTags"], "Resource": "*"}]}),
                    live: json!({"Statement": []}),
                    owner: Owner::Git,
                    disposition: Disposition::Correct,
                }],
                not_owned: vec![Drift {
                    target: DriftTarget::Asg { stack: asg.stack.clone(), logical_id: asg.logical_id.clone(), name: asg.name.clone() },
                    property: "DesiredCapacity".into(),
                    expected: json!(0),
                    live: json!(2),
                    owner: Owner::ClusterAutoscaler,
                    disposition: Disposition::NotOwned,
                }],
                notes: vec![],
            },
            steps: vec![
                PlannedStep { id: 0, after: vec![], step: AwsStep::UpdateStack { stack: "eksctl-c-nodegroup-spot".into(), change_set_name: "cs".into(), template: after.clone(), parameters: Default::default(), tags: Default::default() } },
                PlannedStep { id: 1, after: vec![], step: AwsStep::PutRolePolicy { role: RoleSource::Name("role-1".into()), policy_name: "ASG-Policy-For-Worker".into(), document: json!({}) } },
                PlannedStep { id: 2, after: vec![0], step: AwsStep::SetAsgLimits { asg, min_size: None, max_size: Some(5) } },
            ],
            notes: vec!["eksctl-c-nodegroup-spot: correction of MinSize deferred until after the stack update; re-checked on the next reconcile".into()],
            eks_objects: vec![],
        };
        let preview = ChangeSetPreview {
            stack: "eksctl-c-nodegroup-spot".into(),
            change_set_name: "cs".into(),
            change_set_id: None,
            status: "CREATE_COMPLETE".into(),
            status_reason: None,
            no_changes: false,
            changes: vec![
                ResourceChangePreview {
                    logical_id: "NodeGroup".into(),
                    resource_type: "AWS::AutoScaling::AutoScalingGroup".into(),
                    action: "Modify".into(),
                    replacement: Replacement {
                        value: Some("False".into()),
                        source: ReplacementSource::EksyncEstimate,
                        causes: vec![],
                    },
                },
                ResourceChangePreview {
                    logical_id: "NodeGroupLaunchTemplate".into(),
                    resource_type: "AWS::EC2::LaunchTemplate".into(),
                    action: "Modify".into(),
                    replacement: Replacement {
                        value: Some("True".into()),
                        source: ReplacementSource::Aws,
                        causes: vec![
                            "LaunchTemplateName (RequiresRecreation: Always, DirectModification)"
                                .into(),
                        ],
                    },
                },
            ],
        };
        insta::assert_snapshot!(render_markdown(&plan, &[preview]));
    }
}
