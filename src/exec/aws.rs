//! The AWS half of the executor: reads live AWS for the desired stacks, policies and EKS objects
//! (Fargate profiles, add-ons, Pod Identity associations), asks `awsdiff` what differs, previews stack changes through change sets,
//! and runs the AWS steps of graph nodes. Mapping steps and drift onto graph nodes is the only logic here.

use std::collections::BTreeMap;

use super::run::StepReport;
use super::{Action, ExecError, ExecOptions, LivePlan, Outcome};
use crate::adapters::aws::{AwsAdapter, AwsError, StepOutcome};
use crate::core::analysis::Analysis;
use crate::core::awsdiff::{
    self, AwsPlan, AwsStep, Disposition, Drift, DriftMode, DriftTarget, EksAction, EksKind,
    LiveAws, PlanOptions, PolicyAction, StackAction,
};
use crate::core::desired::{self, DesiredAws};
use crate::core::reconcile::{deferral, Detail, DriftNote};
use crate::errors::error_chain;

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
        AwsStep::CreateFargateProfile { cluster, profile } => Some(awsdiff::eks_node_id(
            EksKind::FargateProfile,
            cluster,
            &profile.name,
        )),
        AwsStep::DeleteFargateProfile { cluster, name, .. } => {
            Some(awsdiff::eks_node_id(EksKind::FargateProfile, cluster, name))
        }
        AwsStep::CreateAddon { cluster, addon } | AwsStep::UpdateAddon { cluster, addon } => {
            Some(awsdiff::eks_node_id(EksKind::Addon, cluster, &addon.name))
        }
        AwsStep::CreatePodIdentityAssociation {
            cluster,
            association,
        }
        | AwsStep::UpdatePodIdentityAssociation {
            cluster,
            association,
            ..
        } => Some(awsdiff::eks_node_id(
            EksKind::PodIdentityAssociation,
            cluster,
            &association.name(),
        )),
    }
}

/// Reads live AWS: stacks, policies and what drift needs, then the EKS objects Git names.
async fn read_all(adapter: &AwsAdapter, d: &DesiredAws) -> Result<LiveAws, AwsError> {
    let mut live = adapter.read_live(&d.stacks, &d.policies).await?;
    adapter.read_eks_objects(&d.eks_objects, &mut live).await?;
    Ok(live)
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

/// Reads live AWS and fills the AWS items of the plan.
pub(super) async fn plan(
    a: &Analysis,
    adapter: &AwsAdapter,
    opts: &ExecOptions,
    now: jiff::Timestamp,
    p: &mut LivePlan,
) -> Result<(), ExecError> {
    let d = desired::desired_aws(a)?;
    let live = read_all(adapter, &d).await?;
    let options = PlanOptions {
        repo_mode: if opts.detect_only {
            DriftMode::DetectOnly
        } else {
            DriftMode::Correct
        },
    };
    let mut aws_plan = awsdiff::plan(&d.stacks, &d.policies, &live, options, now)?;
    awsdiff::plan_eks(&d.eks_objects, &live, options.repo_mode, &mut aws_plan);
    fill_stacks(p, &d, &aws_plan);
    fill_eks(p, &aws_plan);
    fill_policies(p, &d, &aws_plan);
    fill_drift(p, &d, &aws_plan);
    for name in &d.observed {
        observe(p, &d, &live, &mut aws_plan, name);
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
        previews(p, adapter, &aws_plan, &step_node).await;
    }
    p.aws = Some(AwsState {
        desired: d,
        live,
        plan: aws_plan,
        step_node,
    });
    Ok(())
}

/// Stack verdicts, template changes, parameter and tag changes onto their items.
fn fill_stacks(p: &mut LivePlan, d: &DesiredAws, aws_plan: &AwsPlan) {
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
                item.details.push(Detail::StackBlocked(why.clone()));
                Action::Blocked
            }
        };
        if let Some(diff) = &sp.template_diff {
            item.details
                .extend(diff.changes.iter().cloned().map(Detail::Template));
        }
        item.details.extend(
            sp.parameter_changes
                .iter()
                .chain(sp.tag_changes.iter())
                .cloned()
                .map(Detail::Map),
        );
    }
}

/// EKS object verdicts onto their items: a replacement is an update whose details say which
/// fields EKS cannot change in place.
fn fill_eks(p: &mut LivePlan, aws_plan: &AwsPlan) {
    for o in &aws_plan.eks_objects {
        let Some(i) = node_index(p, &o.node_id()) else {
            continue;
        };
        let item = &mut p.items[i];
        item.action = match &o.action {
            EksAction::Create => Action::Create,
            EksAction::NoChange => Action::NoChange,
            EksAction::Update if o.mode == DriftMode::DetectOnly => Action::DriftOnly,
            EksAction::Update => Action::Update,
            EksAction::Replace { reason } => {
                if o.changes.is_empty() {
                    item.details.push(Detail::Warning(reason.clone()));
                } else {
                    item.details.push(Detail::Recreate(
                        o.changes.iter().map(|c| c.key.clone()).collect(),
                    ));
                }
                if o.mode == DriftMode::DetectOnly {
                    Action::DriftOnly
                } else {
                    Action::Update
                }
            }
            EksAction::Blocked(why) => {
                item.details.push(Detail::StackBlocked(why.clone()));
                Action::Blocked
            }
        };
        item.details
            .extend(o.changes.iter().cloned().map(Detail::Map));
    }
}

fn fill_policies(p: &mut LivePlan, d: &DesiredAws, aws_plan: &AwsPlan) {
    for pp in &aws_plan.policies {
        let Some(i) = d
            .policy_nodes
            .get(&pp.policy_name)
            .and_then(|id| node_index(p, id))
        else {
            continue;
        };
        p.items[i].action = match pp.action {
            PolicyAction::Create => Action::Create,
            PolicyAction::Update => Action::Update,
            PolicyAction::NoChange => Action::NoChange,
        };
        if let Some(role) = &pp.role_name {
            p.items[i].details.push(Detail::Role(role.clone()));
        }
    }
}

/// Drift onto the item that owns it; an unchanged item with drift to correct becomes an update.
fn fill_drift(p: &mut LivePlan, d: &DesiredAws, aws_plan: &AwsPlan) {
    for drift in aws_plan
        .drift
        .drift
        .iter()
        .chain(aws_plan.drift.not_owned.iter())
    {
        let Some(i) = drift_owner(d, drift).and_then(|id| node_index(p, &id)) else {
            continue;
        };
        let item = &mut p.items[i];
        item.drift.push(DriftNote::Aws(Box::new(drift.clone())));
        if item.action == Action::NoChange {
            item.action = match drift.disposition {
                Disposition::Correct => Action::Update,
                Disposition::NotOwned => Action::NoChange,
                _ => Action::DriftOnly,
            };
        }
    }
}

/// An observed stack is read (its outputs flow) but never changed: its steps go, and it is
/// blocked when it does not exist.
fn observe(p: &mut LivePlan, d: &DesiredAws, live: &LiveAws, aws_plan: &mut AwsPlan, name: &str) {
    let Some(i) = d.stack_nodes.get(name).and_then(|id| node_index(p, id)) else {
        return;
    };
    let item = &mut p.items[i];
    let (action, details) = deferral::observed(live.stacks.contains_key(name), item.details.len());
    item.action = action;
    item.details = details;
    let node_id = d.stack_nodes.get(name).cloned();
    aws_plan.steps.retain(|s| step_owner(d, &s.step) != node_id);
}

/// Change-set previews of stack steps, as detail lines (a failed preview says so).
async fn previews(
    p: &mut LivePlan,
    adapter: &AwsAdapter,
    aws_plan: &AwsPlan,
    step_node: &BTreeMap<usize, usize>,
) {
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
            .find(|sp| p.items[i].name == sp.name)
            .and_then(|sp| sp.template_diff.as_ref());
        match adapter.preview(&s.step, diff).await {
            Ok(preview) => p.items[i]
                .details
                .extend(preview.changes.into_iter().map(Detail::ChangeSet)),
            Err(e) => p.items[i]
                .details
                .push(Detail::PreviewUnavailable(error_chain(&e))),
        }
    }
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
        StepOutcome::FargateProfileCreated { cluster, name } => {
            format!("Fargate profile {name} of cluster {cluster}: ACTIVE")
        }
        StepOutcome::FargateProfileDeleted { cluster, name } => {
            format!("Fargate profile {name} of cluster {cluster}: deleted (to be created again)")
        }
        StepOutcome::PodIdentityPut {
            cluster,
            name,
            role,
        } => format!("Pod Identity association {name} of cluster {cluster}: role {role}"),
        StepOutcome::AddonActive { cluster, name } => {
            format!("add-on {name} of cluster {cluster}: ACTIVE")
        }
        StepOutcome::AsgTagsSet { asg, keys } => {
            format!(
                "Auto Scaling group {asg}: tags {} put back",
                keys.join(", ")
            )
        }
    }
}

/// Runs the AWS steps of one node in plan order, then reads live AWS again so that what waits
/// for this node sees the values it produced. A failed read is returned, not dropped: the
/// executor fails the objects that need those values, with the reason.
pub(super) async fn run_node(p: &LivePlan, adapter: &AwsAdapter, node: usize) -> StepReport {
    let Some(state) = p.aws.as_ref() else {
        return StepReport {
            node,
            outcome: Outcome::Skipped {
                because: "AWS was not consulted".into(),
            },
            wrote: false,
            reread: None,
            fingerprint: None,
        };
    };
    let steps: Vec<&AwsStep> = state
        .plan
        .steps
        .iter()
        .filter(|s| state.step_node.get(&s.id) == Some(&node))
        .map(|s| &s.step)
        .collect();
    let mut done = Vec::new();
    let mut failure = None;
    for step in &steps {
        match adapter.apply_step(step).await {
            Ok(o) => done.push(summarize(&o)),
            Err(e) => {
                failure = Some(error_chain(&e));
                break;
            }
        }
    }
    let wrote = !done.is_empty() || failure.is_some();
    let reread = if wrote {
        let began = std::time::Instant::now();
        let read = read_all(adapter, &state.desired).await.map_err(|e| {
            format!(
                "reading live AWS after {}: {}",
                p.items[node].name,
                error_chain(&e)
            )
        });
        Some((began, read))
    } else {
        None
    };
    let outcome = match failure {
        Some(reason) => Outcome::Failed { reason },
        None if done.is_empty() => Outcome::Done {
            summary: "nothing to do".into(),
        },
        None => Outcome::Done {
            summary: done.join("; "),
        },
    };
    StepReport {
        node,
        outcome,
        wrote,
        reread,
        fingerprint: None,
    }
}

/// What one step of a bare AWS plan came to.
#[derive(Debug)]
pub enum AwsStepResult {
    Done(StepOutcome),
    Failed(crate::adapters::aws::AwsError),
    /// Not run: the step it waits for (by id) failed.
    Skipped {
        after: usize,
    },
    /// Not run: the step waits for an id the plan does not hold.
    UnknownDependency,
    /// Not started: the run was cancelled.
    Cancelled,
}

/// Results of a bare AWS plan, by step id.
#[derive(Debug, Default)]
pub struct AwsPlanReport {
    pub results: BTreeMap<usize, AwsStepResult>,
}

impl AwsPlanReport {
    pub fn succeeded(&self) -> bool {
        self.results
            .values()
            .all(|r| matches!(r, AwsStepResult::Done(_)))
    }

    /// Steps that did not end done, by id.
    pub fn failures(&self) -> impl Iterator<Item = (&usize, &AwsStepResult)> {
        self.results
            .iter()
            .filter(|(_, r)| !matches!(r, AwsStepResult::Done(_)))
    }
}

/// Runs an AWS plan's steps (ordered by their `after` ids) through the executor's one scheduler
/// and driver loop, each step as the node path runs it.
pub(super) async fn apply_plan(
    adapter: &AwsAdapter,
    plan: &AwsPlan,
    opts: &ExecOptions,
    cancel: &tokio_util::sync::CancellationToken,
) -> AwsPlanReport {
    use crate::core::graph::Adjacency;
    use crate::core::reconcile::{Scheduler, State, Work};
    let index: BTreeMap<usize, usize> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id, i))
        .collect();
    let n = plan.steps.len();
    let mut adj = Adjacency {
        deps: vec![Vec::new(); n],
        dependents: vec![Vec::new(); n],
    };
    let mut work = vec![Work::Apply; n];
    for (i, s) in plan.steps.iter().enumerate() {
        for after in &s.after {
            match index.get(after) {
                Some(&d) => {
                    adj.deps[i].push(d);
                    adj.dependents[d].push(i);
                }
                None => work[i] = Work::Blocked(format!("unknown step {after}")),
            }
        }
    }
    let mut sched = Scheduler::new(adj, work);
    let mut results: BTreeMap<usize, AwsStepResult> = BTreeMap::new();
    super::run::drive(
        &mut sched,
        opts,
        cancel,
        |i| async move { (i, adapter.apply_step(&plan.steps[i].step).await) },
        |(i, r)| {
            let ok = r.is_ok();
            let result = match r {
                Ok(o) => AwsStepResult::Done(o),
                Err(e) => AwsStepResult::Failed(e),
            };
            results.insert(plan.steps[i].id, result);
            (i, ok)
        },
    )
    .await;
    for (i, state) in sched.states().iter().enumerate() {
        let id = plan.steps[i].id;
        let result = match state {
            State::Skipped { cause } => AwsStepResult::Skipped {
                after: plan.steps[*cause].id,
            },
            State::Failed if !results.contains_key(&id) => AwsStepResult::UnknownDependency,
            State::NotStarted | State::Pending => AwsStepResult::Cancelled,
            _ => continue,
        };
        results.insert(id, result);
    }
    AwsPlanReport { results }
}
