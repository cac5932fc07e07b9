//! The Kubernetes half of the executor: renders each object with the values that flow from live
//! AWS, prepares it (ownership and source labels, HPA-owned replicas), diffs a server-side dry-run
//! apply against the managed set listed once per kind, and reads each object's health from that
//! same LIST. At apply time it records the inventory ahead of any create, applies, waits until
//! the object is healthy (abandoning the wait on cancel), prunes what left Git (as the core's
//! prune decision says) and records the final inventory. Diff semantics live in `core::kdiff`,
//! decisions in `core::reconcile`, wire calls in the Kubernetes adapter.

use futures::stream::{self, StreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

use super::run::{LiveValues, StepReport};
use super::{Action, ExecOptions, Health, Item, LivePlan, Outcome};
use crate::adapters::kube::{ApplyOptions, KubeAdapter, KubeError, Propagation, ResolvedKind};
use crate::core::analysis::Analysis;
use crate::core::awsdiff::LiveAws;
use crate::core::graph::{NodeRef, System};
use crate::core::kdiff::{
    self, ImmutableDecision, Inventory, InventoryEntry, PrepareContext, Readiness,
};
use crate::core::model::KubeObject;
use crate::core::reconcile::prune::{self, PruneCandidate, PruneDecision};
use crate::core::reconcile::{deferral, Detail, DriftNote, LeftGit, Work};
use crate::core::values;
use crate::errors::error_chain;

pub use crate::core::reconcile::prune::PRUNE_ANNOTATION;

/// How long to wait for an object to become healthy.
#[derive(Debug, Clone)]
pub struct ReadinessOptions {
    pub poll: Duration,
    /// Per kind; kinds not listed use `default`.
    pub timeouts: BTreeMap<String, Duration>,
    pub default: Duration,
}

impl Default for ReadinessOptions {
    fn default() -> Self {
        let m = |s| Duration::from_secs(s);
        ReadinessOptions {
            poll: Duration::from_secs(2),
            timeouts: BTreeMap::from([
                ("Deployment".into(), m(600)),
                ("StatefulSet".into(), m(900)),
                ("DaemonSet".into(), m(600)),
                ("Job".into(), m(1800)),
                ("PersistentVolumeClaim".into(), m(300)),
                ("Namespace".into(), m(120)),
                ("CustomResourceDefinition".into(), m(120)),
                ("Service".into(), m(600)),
            ]),
            default: m(300),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct KubeState {
    ctx: PrepareContext,
    /// Graph node -> object index in the model.
    objects: BTreeMap<usize, usize>,
    /// Nodes to delete and recreate (immutable fields changed, opted in).
    recreate: BTreeSet<usize>,
    inventory: Option<Inventory>,
    pub prune: Vec<PruneCandidate>,
    /// Fingerprints of objects found unchanged (`kdiff::fingerprint`), recorded with them.
    unchanged: BTreeMap<usize, String>,
}

/// The fingerprint of an object that is known unchanged without a dry run: the inventory
/// recorded what eksync sent and the ownership it left, and both still match.
fn unchanged_since_applied(
    inventory: Option<&Inventory>,
    o: &KubeObject,
    body: &Value,
    live: Option<&Value>,
) -> Option<String> {
    let recorded = inventory?
        .get(&InventoryEntry::of(&o.body)?)?
        .applied
        .as_deref()?;
    let now = kdiff::fingerprint(body, live?);
    (recorded == now).then_some(now)
}

/// The health of a live object, from its status alone.
fn health(kind: &str, live: &Value) -> Health {
    match kdiff::readiness(kind, live) {
        Readiness::Ready => Health::Healthy,
        Readiness::Waiting(why) => Health::Progressing(why),
        Readiness::Failed(why) => Health::Degraded(why),
    }
}

/// The object with values substituted (live AWS where known, else the config's) and prepared.
fn render(
    a: &Analysis,
    o: &KubeObject,
    live: Option<&LiveAws>,
    ctx: &PrepareContext,
) -> (Value, bool, Vec<String>) {
    let cfg = o
        .cluster
        .as_deref()
        .and_then(|c| a.model.cluster(c))
        .map(|c| &c.config);
    let (body, complete) = match live {
        Some(l) => values::substitute(&o.body, &|r| values::live_value(l, cfg, r)),
        None => values::substitute(&o.body, &|r| values::offline_value(cfg, r)),
    };
    let prepared = kdiff::prepare(&body, ctx);
    (prepared.body, complete, prepared.warnings)
}

/// Discovery for every kind the repo or the inventory names (one lookup per kind, cached by the
/// adapter).
async fn resolve_kinds(
    a: &Analysis,
    kube: &KubeAdapter,
    inventory: Option<&Inventory>,
) -> Result<BTreeMap<(String, String), Option<ResolvedKind>>, KubeError> {
    let mut kinds: BTreeMap<(String, String), Option<ResolvedKind>> = BTreeMap::new();
    for o in &a.model.objects {
        kinds.insert((o.api_version.clone(), o.key.kind.clone()), None);
    }
    for e in inventory.iter().flat_map(|i| i.entries.iter()) {
        kinds.insert((e.api_version.clone(), e.kind.clone()), None);
    }
    for ((api_version, kind), slot) in kinds.iter_mut() {
        *slot = kube.resolve(api_version, kind).await?;
    }
    Ok(kinds)
}

/// Compares every object with the cluster and fills the Kubernetes items of the plan.
pub(super) async fn plan(
    a: &Analysis,
    kube: &KubeAdapter,
    opts: &ExecOptions,
    p: &mut LivePlan,
) -> Result<(), KubeError> {
    let ctx = PrepareContext::from_bodies(a.model.objects.iter().map(|o| &o.body))
        .with_source(&kube.settings().source);
    let objects: BTreeMap<usize, usize> = a
        .graph
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(n, node)| match node.what {
            NodeRef::Object(oi) => Some((n, oi)),
            _ => None,
        })
        .collect();
    let inventory = kube.read_inventory().await?;
    p.live_revision = inventory.as_ref().and_then(|i| i.revision.clone());
    let kinds = resolve_kinds(a, kube, inventory.as_ref()).await?;
    let served: Vec<ResolvedKind> = kinds.values().flatten().cloned().collect();
    let live = kdiff::index_live(kube.list_managed(&served).await?);
    let aws_live = p.aws.as_ref().map(|s| &s.live);

    // Dry-run every object whose values are known and that is not known unchanged, under the
    // concurrency bound.
    let mut jobs = Vec::new();
    let mut unchanged = BTreeMap::new();
    for (&n, &oi) in &objects {
        let o = &a.model.objects[oi];
        let (body, complete, warnings) = render(a, o, aws_live, &ctx);
        let item = &mut p.items[n];
        item.details
            .extend(warnings.into_iter().map(Detail::Warning));
        let live_obj = live.get(&o.key).cloned();
        let is_served = kinds
            .get(&(o.api_version.clone(), o.key.kind.clone()))
            .is_some_and(Option::is_some);
        if !is_served {
            let (action, detail) = deferral::not_served(a, o);
            item.action = action;
            item.details.push(detail);
        } else if !complete {
            item.action = if live_obj.is_some() {
                Action::Update
            } else {
                Action::Create
            };
            item.details.push(Detail::ValuesKnownAfterApply);
        } else if let Some(fp) =
            unchanged_since_applied(inventory.as_ref(), o, &body, live_obj.as_ref())
        {
            item.action = Action::NoChange;
            item.health = live_obj.as_ref().map(|l| health(&o.key.kind, l));
            unchanged.insert(n, fp);
        } else {
            jobs.push((n, o, body, live_obj));
        }
    }
    // Namespaces first: an object whose namespace this plan creates cannot be dry-run (the
    // answer would be a 404), so it is a create after that wave, and costs no request.
    let (namespaces, others): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .partition(|(_, o, _, _)| o.key.kind == "Namespace" && o.key.group.is_empty());
    let mut recreate = BTreeSet::new();
    let mut coming: BTreeSet<String> = BTreeSet::new();
    for (n, o, body, live_obj, r) in dry_run_all(kube, namespaces, opts.concurrency).await {
        fill_item(a, &ctx, &mut p.items[n], o, &body, live_obj.as_ref(), r);
        if p.items[n].action == Action::Create {
            coming.insert(o.key.name.clone());
        }
    }
    let mut rest = Vec::new();
    for job in others {
        let (n, o) = (job.0, job.1);
        let deferred = o
            .key
            .namespace
            .as_ref()
            .filter(|ns| coming.contains(*ns))
            .and_then(|_| deferral::namespace_missing(a, o));
        match deferred {
            Some((action, detail)) => {
                p.items[n].action = action;
                p.items[n].details.push(detail);
            }
            None => rest.push(job),
        }
    }
    for (n, o, body, live_obj, r) in dry_run_all(kube, rest, opts.concurrency).await {
        if fill_item(a, &ctx, &mut p.items[n], o, &body, live_obj.as_ref(), r) {
            recreate.insert(n);
        }
        if let (Action::NoChange, Some(live)) = (p.items[n].action, &live_obj) {
            unchanged.insert(n, kdiff::fingerprint(&body, live));
        }
    }
    let desired = Inventory::new(
        a.model
            .objects
            .iter()
            .filter_map(|o| InventoryEntry::of(&o.body)),
    );
    let prune = prune::candidates(&desired, inventory.as_ref(), &live);
    p.kube = Some(KubeState {
        ctx,
        objects,
        recreate,
        inventory,
        prune,
        unchanged,
    });
    Ok(())
}

type Job<'a> = (usize, &'a KubeObject, Value, Option<Value>);

/// Dry runs under the concurrency bound.
async fn dry_run_all<'a>(
    kube: &KubeAdapter,
    jobs: Vec<Job<'a>>,
    concurrency: usize,
) -> Vec<DryRun<'a>> {
    stream::iter(jobs)
        .map(|(n, o, body, live_obj)| dry_run(kube, n, o, body, live_obj))
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

type DryRun<'a> = (
    usize,
    &'a KubeObject,
    Value,
    Option<Value>,
    Result<Value, KubeError>,
);

/// A server-side dry-run apply. An object that exists without the ownership label (created
/// elsewhere, or about to be adopted) is not in the listed set: it is read, so it diffs as an
/// update, not a create; a failed read fails the dry run rather than showing a false create.
async fn dry_run<'a>(
    kube: &KubeAdapter,
    n: usize,
    o: &'a KubeObject,
    body: Value,
    mut live_obj: Option<Value>,
) -> DryRun<'a> {
    let dry = ApplyOptions {
        dry_run: true,
        force: true,
    };
    let mut r = kube.apply(&body, dry).await;
    if let Ok(result) = &r {
        if kdiff::needs_live_read(result, live_obj.as_ref()) {
            let ns = o.key.namespace.as_deref();
            match kube.get(&o.api_version, &o.key.kind, ns, &o.key.name).await {
                Ok(found) => live_obj = found,
                Err(e) => r = Err(e),
            }
        }
    }
    (n, o, body, live_obj, r)
}

/// The item for one dry-run result. Returns whether the object is to be recreated.
fn fill_item(
    a: &Analysis,
    ctx: &PrepareContext,
    item: &mut Item,
    o: &KubeObject,
    body: &Value,
    live_obj: Option<&Value>,
    r: Result<Value, KubeError>,
) -> bool {
    if let Some(live) = live_obj {
        item.health = Some(health(&o.key.kind, live));
    }
    match r {
        Ok(result) => {
            let mut d = kdiff::diff(&result, live_obj);
            if live_obj.is_some() && ctx.hpa_targets.contains(&o.key) {
                d = d.ignoring("spec.replicas");
            }
            item.action = match d.action {
                kdiff::Action::Create | kdiff::Action::CreateAfterCrd(_) => Action::Create,
                kdiff::Action::Update => Action::Update,
                kdiff::Action::NoChange => Action::NoChange,
            };
            item.drift.extend(d.drift().map(|c| DriftNote::Field {
                path: c.path.clone(),
                by: c.drift_by.clone(),
            }));
            if d.action == kdiff::Action::Update {
                item.details.push(Detail::Fields(d));
            }
            false
        }
        Err(KubeError::Invalid { message, causes }) => {
            let fields = kdiff::immutable_fields(&causes);
            if fields.is_empty() {
                item.action = Action::Blocked;
                item.details.push(Detail::Rejected(message));
                return false;
            }
            match kdiff::decide_immutable(body, fields) {
                ImmutableDecision::Recreate { fields } => {
                    item.action = Action::Update;
                    item.details.push(Detail::Recreate(fields));
                    true
                }
                ImmutableDecision::Error { message, .. } => {
                    item.action = Action::Blocked;
                    item.details.push(Detail::ImmutableChange(message));
                    false
                }
            }
        }
        Err(KubeError::NamespaceNotFound { .. }) if deferral::namespace_wave(a, o).is_some() => {
            // Its namespace is created by this plan: the object cannot be dry-run before.
            if let Some((action, detail)) = deferral::namespace_missing(a, o) {
                item.action = action;
                item.details.push(detail);
            }
            false
        }
        Err(KubeError::NotFound(_))
            if deferral::role_wave(a, o).is_some() && live_obj.is_none() =>
        {
            // The role it references is created by this plan: the API server resolves it to
            // check the binding, so the dry run cannot be judged before that wave.
            if let Some((action, detail)) = deferral::role_missing(a, o) {
                item.action = action;
                item.details.push(detail);
            }
            false
        }
        Err(e) => {
            item.action = Action::Blocked;
            item.details.push(Detail::DryRunFailed(with_hint(o, &e)));
            false
        }
    }
}

fn prune_label(e: &InventoryEntry) -> String {
    match &e.namespace {
        Some(ns) => format!("{} {ns}/{}", e.kind, e.name),
        None => format!("{} {}", e.kind, e.name),
    }
}

/// Items for the prune candidates, for reports, as the core's prune decision says, and the
/// refusal when a guard will stop the prune. Decided once, before anything runs, so that a plan
/// and the run after it say the same thing: an object a guard keeps reads "not deleted (prune
/// refused)" from the start, never "deleted" first. An object kept by its annotation is reported
/// as kept, and is not a pending change (a later `diff` exits 0 when nothing else differs).
pub(super) fn prune_items(
    a: &Analysis,
    p: &LivePlan,
    opts: &ExecOptions,
) -> (Vec<Item>, Option<String>) {
    let Some(state) = &p.kube else {
        return (Vec::new(), None);
    };
    let inventory_len = state.inventory.as_ref().map_or(0, |i| i.entries.len());
    let decision = prune::decide(
        &state.prune,
        inventory_len,
        a.model.objects.len(),
        &opts.prune,
    );
    let refused = match &decision {
        PruneDecision::Refused {
            refusal,
            would_delete,
        } => {
            let names: Vec<String> = would_delete.iter().map(prune_label).collect();
            Some(format!(
                "prune refused: {refusal}; it would have deleted: {}",
                names.join(", ")
            ))
        }
        _ => None,
    };
    let items = state
        .prune
        .iter()
        .map(|c| {
            let (action, left) = match (&c.kept, opts.prune.enabled, refused.is_some()) {
                (Some(why), _, _) => (Action::NoChange, LeftGit::Kept(why.clone())),
                (None, false, _) => (Action::DriftOnly, LeftGit::NotPruning),
                (None, true, true) => (Action::DriftOnly, LeftGit::Refused),
                (None, true, false) => (Action::Delete, LeftGit::Deleted),
            };
            Item {
                id: format!("prune/{}", prune_label(&c.entry)),
                system: System::Kubernetes,
                kind: c.entry.kind.clone(),
                name: c.entry.name.clone(),
                namespace: c.entry.namespace.clone(),
                wave: 0,
                action,
                details: vec![Detail::LeftGit(left)],
                drift: Vec::new(),
                health: None,
                outcome: None,
            }
        })
        .collect();
    (items, refused)
}

/// Records, before anything is applied, every object this run may create: a run killed halfway
/// leaves no object that a later prune does not know. Writes nothing when nothing is new.
/// Returns the inventory as the cluster now records it.
pub(super) async fn write_ahead(
    a: &Analysis,
    p: &LivePlan,
    work: &[Work],
    kube: &KubeAdapter,
) -> Result<Option<Inventory>, KubeError> {
    let Some(state) = &p.kube else {
        return Ok(None);
    };
    let coming = state.objects.iter().filter_map(|(&n, &oi)| {
        let creates = work.get(n) == Some(&Work::Apply) && p.items[n].action.changes();
        creates
            .then(|| InventoryEntry::of(&a.model.objects[oi].body))
            .flatten()
    });
    let previous = state
        .inventory
        .iter()
        .flat_map(|i| i.entries.iter().cloned());
    let ahead = Inventory::new(previous.chain(coming))
        .at_revision(state.inventory.as_ref().and_then(|i| i.revision.clone()));
    if state.inventory.as_ref() == Some(&ahead)
        || (state.inventory.is_none() && ahead.entries.is_empty())
    {
        return Ok(state.inventory.clone());
    }
    kube.write_inventory(&ahead).await?;
    Ok(Some(ahead))
}

/// The outcome a settled readiness verdict stands for.
fn settled_outcome(verdict: Readiness) -> Option<Outcome> {
    match verdict {
        Readiness::Ready => Some(Outcome::Done {
            summary: "ready".into(),
        }),
        Readiness::Failed(why) => Some(Outcome::Failed {
            reason: format!("not healthy: {why}"),
        }),
        Readiness::Waiting(_) => None,
    }
}

/// Waits until the object is healthy: through a watch, so the step ends as soon as it is ready;
/// by polling its status if the watch cannot be had. Gives up at the kind's timeout, or when
/// the run is cancelled.
async fn wait_ready(
    kube: &KubeAdapter,
    o: &KubeObject,
    opts: &ReadinessOptions,
    cancel: &CancellationToken,
) -> Outcome {
    let key = &o.key;
    let timeout = opts
        .timeouts
        .get(&key.kind)
        .copied()
        .unwrap_or(opts.default);
    let start = Instant::now();
    let last = std::sync::Arc::new(std::sync::Mutex::new(String::from("not seen yet")));
    let seen = last.clone();
    let kind = key.kind.clone();
    let watch = kube.wait_for(
        &o.api_version,
        &key.kind,
        key.namespace.as_deref(),
        &key.name,
        move |obj| {
            let (settled, why) = match obj.map(|v| kdiff::readiness(&kind, v)) {
                None => (false, "not found after apply".to_string()),
                Some(Readiness::Waiting(why)) => (false, why),
                Some(_) => (true, String::new()),
            };
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = why;
            settled
        },
    );
    let last_seen = || last.lock().unwrap_or_else(|e| e.into_inner()).clone();
    tokio::select! {
        watched = tokio::time::timeout(timeout, watch) => match watched {
            Ok(Ok(Some(obj))) => settled_outcome(kdiff::readiness(&key.kind, &obj))
                .unwrap_or_else(|| Outcome::Failed { reason: format!("not healthy: {}", last_seen()) }),
            Ok(Ok(None)) | Ok(Err(_)) => {
                let left = timeout.saturating_sub(start.elapsed());
                poll_ready(kube, o, opts, cancel, left).await
            }
            Err(_) => Outcome::Failed {
                reason: format!("not ready after {}s: {}", timeout.as_secs(), last_seen()),
            },
        },
        _ = cancel.cancelled() => Outcome::Cancelled {
            because: format!("the run was cancelled while waiting until healthy ({})", last_seen()),
        },
    }
}

/// Waits by reading the object's status every `opts.poll`, for at most `timeout`.
async fn poll_ready(
    kube: &KubeAdapter,
    o: &KubeObject,
    opts: &ReadinessOptions,
    cancel: &CancellationToken,
    timeout: Duration,
) -> Outcome {
    let key = &o.key;
    let start = Instant::now();
    let mut last;
    loop {
        match kube
            .get(
                &o.api_version,
                &key.kind,
                key.namespace.as_deref(),
                &key.name,
            )
            .await
        {
            Ok(Some(obj)) => match settled_outcome(kdiff::readiness(&key.kind, &obj)) {
                Some(outcome) => return outcome,
                None => last = kdiff::readiness(&key.kind, &obj),
            },
            Ok(None) => last = Readiness::Waiting("not found after apply".into()),
            Err(e) => last = Readiness::Waiting(error_chain(&e)),
        }
        let why = match &last {
            Readiness::Waiting(w) | Readiness::Failed(w) => w.clone(),
            Readiness::Ready => String::new(),
        };
        if start.elapsed() >= timeout {
            return Outcome::Failed {
                reason: format!("not ready after {}s: {why}", timeout.as_secs()),
            };
        }
        tokio::select! {
            _ = tokio::time::sleep(opts.poll) => {}
            _ = cancel.cancelled() => {
                return Outcome::Cancelled {
                    because: format!("the run was cancelled while waiting until healthy ({why})"),
                };
            }
        }
    }
}

/// Runs one Kubernetes node: apply (recreating first when opted in) and wait until healthy, or,
/// for an unchanged object that is not healthy, only the wait.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run_node(
    a: &Analysis,
    p: &LivePlan,
    kube: &KubeAdapter,
    node: usize,
    work: &Work,
    values: LiveValues,
    opts: &ExecOptions,
    cancel: &CancellationToken,
) -> StepReport {
    let report = |outcome: Outcome, wrote: bool| StepReport {
        node,
        outcome,
        wrote,
        reread: None,
        fingerprint: None,
    };
    let Some((state, o)) = p.kube.as_ref().and_then(|s| {
        let oi = *s.objects.get(&node)?;
        Some((s, &a.model.objects[oi]))
    }) else {
        return report(
            Outcome::Skipped {
                because: "Kubernetes was not consulted".into(),
            },
            false,
        );
    };
    if *work == Work::AwaitHealth {
        return report(wait_ready(kube, o, &opts.readiness, cancel).await, false);
    }
    let live = match (&values, o.refs.is_empty()) {
        (Some(Err(why)), false) => {
            return report(
                Outcome::Failed {
                    reason: format!("values from AWS are unavailable: {why}"),
                },
                false,
            )
        }
        (Some(Ok(l)), _) => Some(l.as_ref()),
        _ => None,
    };
    let (body, complete, _) = render(a, o, live, &state.ctx);
    if !complete {
        return report(
            Outcome::Failed {
                reason: "a value from AWS is still unknown (its stack did not produce it)".into(),
            },
            false,
        );
    }
    if let Err(reason) = prepare_write(kube, state, node, o, &body, opts, cancel).await {
        return report(Outcome::Failed { reason }, false);
    }
    let write = ApplyOptions {
        dry_run: false,
        force: true,
    };
    let applied = match kube.apply(&body, write).await {
        Ok(applied) => applied,
        Err(e) => {
            // No answer: the server may have carried the apply out (the answer lost on the way
            // back), so the object counts as possibly written and stays in the inventory.
            let maybe_written = matches!(e, KubeError::Transport { .. });
            let reason = format!("apply: {}", with_hint(o, &e));
            return report(Outcome::Failed { reason }, maybe_written);
        }
    };
    // A kind that is ready once applied costs no read.
    let outcome = if !kdiff::needs_wait(&o.key.kind, &body) {
        Outcome::Done {
            summary: "applied, ready".into(),
        }
    } else {
        match wait_ready(kube, o, &opts.readiness, cancel).await {
            Outcome::Done { summary } => Outcome::Done {
                summary: format!("applied, {summary}"),
            },
            other => other,
        }
    };
    StepReport {
        fingerprint: Some(kdiff::fingerprint(&body, &applied)),
        ..report(outcome, true)
    }
}

/// An error's text, with the right to grant when it is an RBAC escalation refusal.
fn with_hint(o: &KubeObject, e: &KubeError) -> String {
    let text = error_chain(e);
    match kdiff::escalation_hint(&o.key.kind, &o.body, &text) {
        Some(hint) => format!("{text} ({hint})"),
        None => text,
    }
}

/// What must happen before the apply: delete the old object (recreate) and wait until it is
/// gone; hand HPA-owned replicas over so that the apply does not scale the workload down. A
/// failed read here fails the step: guessing would risk the very scale-down it prevents.
async fn prepare_write(
    kube: &KubeAdapter,
    state: &KubeState,
    node: usize,
    o: &KubeObject,
    body: &Value,
    opts: &ExecOptions,
    cancel: &CancellationToken,
) -> Result<(), String> {
    let ns = o.key.namespace.as_deref();
    if state.recreate.contains(&node) {
        kube.delete(
            &o.api_version,
            &o.key.kind,
            ns,
            &o.key.name,
            Propagation::Foreground,
        )
        .await
        .map_err(|e| format!("delete before recreate: {}", error_chain(&e)))?;
        let start = Instant::now();
        loop {
            match kube.get(&o.api_version, &o.key.kind, ns, &o.key.name).await {
                Ok(None) => break,
                Ok(Some(_)) => {}
                Err(e) => {
                    return Err(format!(
                        "waiting for the old object to go: {}",
                        error_chain(&e)
                    ))
                }
            }
            if start.elapsed() > opts.readiness.default {
                return Err("the old object was not deleted in time".into());
            }
            tokio::select! {
                _ = tokio::time::sleep(opts.readiness.poll) => {}
                _ = cancel.cancelled() => return Err("the run was cancelled while the old object was deleted".into()),
            }
        }
    }
    if state.ctx.hpa_targets.contains(&o.key) {
        let live = kube
            .get(&o.api_version, &o.key.kind, ns, &o.key.name)
            .await
            .map_err(|e| {
                format!(
                    "replicas handover: reading the live object failed, so it is not applied (applying could scale it down): {}",
                    error_chain(&e)
                )
            })?;
        if let Some(h) = live.and_then(|l| kdiff::replicas_handover(body, &l, &state.ctx)) {
            let handover = ApplyOptions {
                dry_run: false,
                force: true,
            };
            kube.apply_as(&h, handover, kdiff::HANDOVER_MANAGER)
                .await
                .map_err(|e| format!("replicas handover: {}", error_chain(&e)))?;
        }
    }
    Ok(())
}

/// Deletes what left Git (as the core's prune decision says, in reverse install order) unless
/// the run was cancelled, and records the inventory. Returns the prune items, notes, and the
/// refusal if a guard stopped the prune.
pub(super) async fn finish(
    a: &Analysis,
    p: &LivePlan,
    kube: &KubeAdapter,
    opts: &ExecOptions,
    wrote: &BTreeMap<usize, Option<String>>,
    recorded: Option<&Inventory>,
) -> (Vec<Item>, Vec<String>, Option<String>) {
    let Some(state) = &p.kube else {
        return (Vec::new(), Vec::new(), None);
    };
    let mut notes = Vec::new();
    let (mut items, refused) = prune_items(a, p, opts);
    let inventory_len = state.inventory.as_ref().map_or(0, |i| i.entries.len());
    let mut pruned: BTreeSet<InventoryEntry> = BTreeSet::new();
    let decision = prune::decide(
        &state.prune,
        inventory_len,
        a.model.objects.len(),
        &opts.prune,
    );
    match decision {
        _ if p.cancelled => {
            for i in items.iter_mut().filter(|i| i.action == Action::Delete) {
                i.outcome = Some(Outcome::Cancelled {
                    because: "not pruned: the run was cancelled".into(),
                });
            }
        }
        // A refusal is already on the items (`prune_items`) and in `refused`: nothing to add.
        PruneDecision::Nothing | PruneDecision::ReportOnly | PruneDecision::Refused { .. } => {}
        PruneDecision::Delete(order) => pruned = delete_in_order(kube, order, &mut items).await,
    }
    if let Err(e) = write_final(a, p, kube, wrote, &pruned, recorded).await {
        notes.push(format!(
            "the inventory could not be written: {}",
            error_chain(&e)
        ));
    }
    (items, notes, refused)
}

/// Deletes in the given order (reverse install order), recording each outcome on its item.
/// Returns what was deleted.
async fn delete_in_order(
    kube: &KubeAdapter,
    order: Vec<InventoryEntry>,
    items: &mut [Item],
) -> BTreeSet<InventoryEntry> {
    let mut pruned = BTreeSet::new();
    for e in order {
        let r = kube
            .delete(
                &e.api_version,
                &e.kind,
                e.namespace.as_deref(),
                &e.name,
                Propagation::Foreground,
            )
            .await;
        let id = format!("prune/{}", prune_label(&e));
        if let Some(item) = items.iter_mut().find(|i| i.id == id) {
            item.outcome = Some(match &r {
                Ok(_) => Outcome::Done {
                    summary: "deleted".into(),
                },
                Err(err) => Outcome::Failed {
                    reason: error_chain(err),
                },
            });
        }
        if r.is_ok() {
            pruned.insert(e);
        }
    }
    pruned
}

/// The inventory after a run: what it held (minus what was pruned), plus every repo object
/// that now exists because this run applied it or found it in sync. Written only when it
/// differs from what is recorded (the write-ahead record included).
async fn write_final(
    a: &Analysis,
    p: &LivePlan,
    kube: &KubeAdapter,
    wrote: &BTreeMap<usize, Option<String>>,
    pruned: &BTreeSet<InventoryEntry>,
    recorded: Option<&Inventory>,
) -> Result<(), KubeError> {
    let Some(state) = &p.kube else {
        return Ok(());
    };
    let present = p.items.iter().enumerate().filter_map(|(n, i)| {
        let oi = state.objects.get(&n)?;
        let exists = wrote.contains_key(&n)
            || matches!(i.outcome, Some(Outcome::Done { .. }))
            || (i.outcome.is_none() && matches!(i.action, Action::NoChange | Action::DriftOnly));
        let fingerprint = match wrote.get(&n) {
            Some(applied) => applied.clone(),
            None => state.unchanged.get(&n).cloned(),
        };
        exists
            .then(|| InventoryEntry::of(&a.model.objects[*oi].body))
            .flatten()
            .map(|e| e.with_applied(fingerprint))
    });
    let previous = state
        .inventory
        .iter()
        .flat_map(|i| i.entries.iter().cloned())
        .filter(|e| !pruned.iter().any(|gone| gone.key() == e.key()));
    // Fresh entries first: their fingerprints replace the recorded ones. The revision is the
    // plan's once the run went through; a failed or cancelled run leaves the recorded one.
    let went_through = !p.cancelled && p.failed() == 0;
    let revision = match (went_through, &state.inventory) {
        (true, _) => p.revision.clone(),
        (false, recorded) => recorded.as_ref().and_then(|i| i.revision.clone()),
    };
    let next = Inventory::new(present.chain(previous)).at_revision(revision);
    // What the cluster holds now may include the write-ahead record: compare with that.
    if recorded != Some(&next) {
        kube.write_inventory(&next).await?;
    }
    Ok(())
}
