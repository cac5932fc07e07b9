//! The AWS half of the executor: reads live AWS for the desired stacks and policies, asks
//! `awsdiff` what differs, previews stack changes through change sets, and runs the AWS steps of
//! graph nodes. Mapping steps and drift onto graph nodes is the only logic here.

use futures::stream::{self, StreamExt};
use serde_json::Value;
use std::collections::BTreeMap;

use super::{Action, ExecError, ExecOptions, LivePlan, Outcome};
use crate::adapters::aws::{AwsAdapter, StepOutcome};
use crate::core::analysis::Analysis;
use crate::core::awsdiff::{
    self, AwsPlan, AwsStep, Disposition, Drift, DriftMode, DriftTarget, LiveAws, PlanOptions,
    StackAction,
};
use crate::core::desired::{self, DesiredAws};

/// What the AWS half keeps between planning and applying.
#[derive(Debug, Clone)]
pub(crate) struct AwsState {
    pub desired: DesiredAws,
    pub live: LiveAws,
    pub plan: AwsPlan,
    /// Graph node index of each step (by step id).
    pub step_node: BTreeMap<usize, usize>,
}

fn node_index(p: &LivePlan, id: &str) -> Option<usize> {
    p.items.iter().position(|i| i.id == id)
}

fn step_owner(d: &DesiredAws, step: &AwsStep) -> Option<String> {
    match step {
        AwsStep::CreateStack { stack, .. } | AwsStep::UpdateStack { stack, .. } => {
            d.stack_nodes.get(stack).cloned()
        }
        AwsStep::PutRolePolicy { policy_name, .. } => d.policy_nodes.get(policy_name).cloned(),
        AwsStep::SetAsgLimits { asg, .. } | AwsStep::SetAsgTags { asg, .. } => {
            d.stack_nodes.get(&asg.stack).cloned()
        }
    }
}

fn drift_owner(d: &DesiredAws, drift: &Drift) -> Option<String> {
    match &drift.target {
        DriftTarget::Asg { stack, .. } | DriftTarget::EksCluster { stack, .. } => {
            d.stack_nodes.get(stack).cloned()
        }
        DriftTarget::RolePolicy {
            stack: Some(stack), ..
        } => d.stack_nodes.get(stack).cloned(),
        DriftTarget::RolePolicy {
            stack: None,
            policy,
            ..
        } => d.policy_nodes.get(policy).cloned(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

fn short(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        other => {
            let s = other.to_string();
            if s.len() > 120 {
                format!("{}…", &s[..120])
            } else {
                s
            }
        }
    }
}

fn describe_drift(drift: &Drift) -> String {
    let what = match &drift.target {
        DriftTarget::Asg { name, .. } => format!("Auto Scaling group {name} {}", drift.property),
        DriftTarget::RolePolicy { role, policy, .. } => {
            format!("inline policy {policy} on role {role}")
        }
        DriftTarget::EksCluster { name, .. } => format!("EKS cluster {name} {}", drift.property),
        #[allow(unreachable_patterns)]
        _ => drift.property.clone(),
    };
    let verdict = match &drift.disposition {
        Disposition::Correct => "Git's value is put back".to_string(),
        Disposition::DetectOnly => "detect-only: left as is".to_string(),
        Disposition::ReportOnly(why) => format!("not corrected: {why}"),
        Disposition::NotOwned => format!("owned by {:?}: left alone", drift.owner),
    };
    if matches!(&drift.target, DriftTarget::RolePolicy { .. }) {
        format!("{what} was changed outside Git ({verdict})")
    } else {
        format!(
            "{what}: live {}, Git {} ({verdict})",
            short(&drift.live),
            short(&drift.expected)
        )
    }
}

/// Reads live AWS and fills the AWS items of the plan.
pub(super) async fn plan(
    a: &Analysis,
    adapter: &AwsAdapter,
    opts: &ExecOptions,
    now: jiff::Timestamp,
    p: &mut LivePlan,
) -> Result<(), ExecError> {
    let d = desired::desired_aws(a)?;
    let live = adapter.read_live(&d.stacks, &d.policies).await?;
    let options = PlanOptions {
        repo_mode: if opts.detect_only {
            DriftMode::DetectOnly
        } else {
            DriftMode::Correct
        },
    };
    let aws_plan = awsdiff::plan(&d.stacks, &d.policies, &live, options, now)?;
    for sp in &aws_plan.stacks {
        let Some(i) = d.stack_nodes.get(&sp.name).and_then(|id| node_index(p, id)) else {
            continue;
        };
        let item = &mut p.items[i];
        item.action = match &sp.action {
            StackAction::Create => Action::Create,
            StackAction::Update => Action::Update,
            StackAction::NoChange => Action::NoChange,
            StackAction::Blocked(why) => {
                item.details.push(format!("blocked: {why}"));
                Action::Blocked
            }
        };
        if let Some(diff) = &sp.template_diff {
            for c in &diff.changes {
                let path = c.path.trim_start_matches('/').replace('/', ".");
                let line = match (&c.deployed, &c.desired) {
                    (Some(old), Some(new)) => format!("~ {path}: {} → {}", short(old), short(new)),
                    (None, Some(new)) => format!("+ {path}: {}", short(new)),
                    (Some(old), None) => format!("- {path}: {}", short(old)),
                    (None, None) => format!("~ {path}"),
                };
                item.details.push(line);
            }
        }
        for c in sp.parameter_changes.iter().chain(sp.tag_changes.iter()) {
            let desired = if c.known_after_apply {
                "(known after apply)".to_string()
            } else {
                c.desired.clone().unwrap_or_else(|| "(removed)".into())
            };
            item.details.push(format!(
                "~ {}: {} → {desired}",
                c.key,
                c.live.clone().unwrap_or_else(|| "(none)".into())
            ));
        }
    }
    for pp in &aws_plan.policies {
        let Some(i) = d
            .policy_nodes
            .get(&pp.policy_name)
            .and_then(|id| node_index(p, id))
        else {
            continue;
        };
        p.items[i].action = match pp.action.as_str() {
            "create" => Action::Create,
            "update" => Action::Update,
            _ => Action::NoChange,
        };
        if let Some(role) = &pp.role_name {
            p.items[i].details.push(format!("role: {role}"));
        }
    }
    for drift in aws_plan
        .drift
        .drift
        .iter()
        .chain(aws_plan.drift.not_owned.iter())
    {
        let Some(i) = drift_owner(&d, drift).and_then(|id| node_index(p, &id)) else {
            continue;
        };
        p.items[i].drift.push(describe_drift(drift));
        let item = &mut p.items[i];
        if item.action == Action::NoChange {
            item.action = match drift.disposition {
                Disposition::Correct => Action::Update,
                Disposition::NotOwned => Action::NoChange,
                _ => Action::DriftOnly,
            };
        }
    }
    // Observed stacks are read (their outputs flow) but never changed.
    let mut aws_plan = aws_plan;
    for name in &d.observed {
        let Some(i) = d.stack_nodes.get(name).and_then(|id| node_index(p, id)) else {
            continue;
        };
        let item = &mut p.items[i];
        let differs = item.details.len();
        item.details.clear();
        item.details.push(format!(
            "observed ({}: observe): read, never changed",
            desired::CLUSTER_STACK_ANNOTATION
        ));
        item.action = if live.stacks.contains_key(name) {
            if differs > 0 {
                item.details.push(format!(
                    "differs from Git in {differs} place(s); not applied"
                ));
            }
            Action::NoChange
        } else {
            item.details
                .push("the stack does not exist; create the cluster first".into());
            Action::Blocked
        };
        let node_id = d.stack_nodes.get(name).cloned();
        aws_plan
            .steps
            .retain(|s| step_owner(&d, &s.step) != node_id);
    }
    p.notes.extend(aws_plan.notes.iter().cloned());
    p.notes.extend(aws_plan.drift.notes.iter().cloned());
    let mut step_node = BTreeMap::new();
    for s in &aws_plan.steps {
        if let Some(i) = step_owner(&d, &s.step).and_then(|id| node_index(p, &id)) {
            step_node.insert(s.id, i);
        }
    }
    if opts.preview {
        for s in &aws_plan.steps {
            if !matches!(
                s.step,
                AwsStep::CreateStack { .. } | AwsStep::UpdateStack { .. }
            ) {
                continue;
            }
            let Some(&i) = step_node.get(&s.id) else {
                continue;
            };
            let diff = aws_plan
                .stacks
                .iter()
                .find(|sp| Some(p.items[i].name.as_str()) == Some(sp.name.as_str()))
                .and_then(|sp| sp.template_diff.as_ref());
            match adapter.preview(&s.step, diff).await {
                Ok(preview) => {
                    for r in &preview.changes {
                        let mut line = format!(
                            "change set: {} {} ({})",
                            r.action, r.logical_id, r.resource_type
                        );
                        if let Some(v) = &r.replacement.value {
                            line.push_str(&format!(", replacement: {v}"));
                            if !r.replacement.causes.is_empty() {
                                line.push_str(&format!(
                                    " because {}",
                                    r.replacement.causes.join(", ")
                                ));
                            }
                            line.push_str(&format!(" [{:?}]", r.replacement.source));
                        }
                        p.items[i].details.push(line);
                    }
                }
                Err(e) => p.items[i]
                    .details
                    .push(format!("change-set preview unavailable: {e}")),
            }
        }
    }
    p.aws = Some(AwsState {
        desired: d,
        live,
        plan: aws_plan,
        step_node,
    });
    Ok(())
}

/// Whether node `i` has AWS steps to run (drift corrections count).
pub(super) fn has_steps(p: &LivePlan, i: usize) -> bool {
    p.aws
        .as_ref()
        .is_some_and(|s| s.step_node.values().any(|&n| n == i))
}

fn summarize(o: &StepOutcome) -> String {
    match o {
        StepOutcome::Stack {
            stack,
            status,
            no_changes,
        } => {
            if *no_changes {
                format!("stack {stack}: no changes")
            } else {
                format!("stack {stack}: {status}")
            }
        }
        StepOutcome::RolePolicyPut { role, policy } => {
            format!("put policy {policy} on role {role}")
        }
        StepOutcome::AsgLimitsSet {
            asg,
            min_size,
            max_size,
        } => format!("Auto Scaling group {asg}: min {min_size:?}, max {max_size:?} put back"),
        StepOutcome::AsgTagsSet { asg, keys } => {
            format!(
                "Auto Scaling group {asg}: tags {} put back",
                keys.join(", ")
            )
        }
    }
}

/// Runs the AWS steps of the given nodes: nodes in parallel (bounded), each node's steps in plan
/// order. Afterwards live AWS is read again (returned), so later waves see the values just
/// produced.
pub(super) async fn run_nodes(
    p: &LivePlan,
    adapter: &AwsAdapter,
    nodes: &[usize],
    opts: &ExecOptions,
) -> (Vec<(usize, Outcome)>, Option<LiveAws>) {
    let Some(state) = p.aws.as_ref() else {
        return (Vec::new(), None);
    };
    let per_node: Vec<(usize, Vec<AwsStep>)> = nodes
        .iter()
        .map(|&i| {
            let steps = state
                .plan
                .steps
                .iter()
                .filter(|s| state.step_node.get(&s.id) == Some(&i))
                .map(|s| s.step.clone())
                .collect();
            (i, steps)
        })
        .filter(|(_, steps): &(usize, Vec<AwsStep>)| !steps.is_empty())
        .collect();
    if per_node.is_empty() {
        return (Vec::new(), None);
    }
    let results: Vec<(usize, Outcome)> = stream::iter(per_node)
        .map(|(i, steps)| async move {
            let label = format!("{} {}", p.items[i].kind, p.items[i].name);
            let started = std::time::Instant::now();
            opts.report(super::Progress::StepStarted {
                label: label.clone(),
            });
            let outcome = run_steps(adapter, &steps).await;
            opts.report(super::Progress::StepFinished {
                label,
                outcome: outcome.clone(),
                seconds: started.elapsed().as_secs(),
            });
            (i, outcome)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    let live = adapter
        .read_live(&state.desired.stacks, &state.desired.policies)
        .await
        .ok();
    (results, live)
}

async fn run_steps(adapter: &AwsAdapter, steps: &[AwsStep]) -> Outcome {
    {
        {
            let mut done = Vec::new();
            for step in steps {
                match adapter.apply_step(step).await {
                    Ok(o) => done.push(summarize(&o)),
                    Err(e) => {
                        return Outcome::Failed {
                            reason: e.to_string(),
                        }
                    }
                }
            }
            Outcome::Done {
                summary: done.join("; "),
            }
        }
    }
}
