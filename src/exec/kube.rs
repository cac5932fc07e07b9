//! The Kubernetes half of the executor: renders each object with the values that flow from live
//! AWS, prepares it (ownership label, HPA-owned replicas), diffs a server-side dry-run apply against
//! the managed set listed once per kind, and at apply time applies, waits until the object is
//! healthy, prunes what left Git (behind its guards) and records the inventory. Diff semantics
//! live in `core::kdiff`; wire calls in the Kubernetes adapter.

use futures::stream::{self, StreamExt};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::{Action, ExecOptions, Item, LivePlan, Outcome};
use crate::adapters::kube::{ApplyOptions, KubeAdapter, KubeError, Propagation, ResolvedKind};
use crate::core::analysis::Analysis;
use crate::core::awsdiff::LiveAws;
use crate::core::graph::{NodeRef, System};
use crate::core::kdiff::{
    self, ImmutableDecision, Inventory, InventoryEntry, PrepareContext, Readiness,
};
use crate::core::kube::ObjectKey;
use crate::core::model::KubeObject;
use crate::core::values;

/// Annotation that keeps an object from ever being pruned.
pub const PRUNE_ANNOTATION: &str = "eksync.io/prune";

/// How pruning behaves.
#[derive(Debug, Clone)]
pub struct PruneOptions {
    /// Delete objects that left Git (otherwise they are only reported).
    pub enabled: bool,
    /// Refuse to delete more than this share of the inventory in one run...
    pub max_share: f64,
    /// ...unless this is set.
    pub allow_large: bool,
}

impl Default for PruneOptions {
    fn default() -> Self {
        PruneOptions {
            enabled: false,
            max_share: 0.5,
            allow_large: false,
        }
    }
}

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

/// A managed object that is no longer in Git.
#[derive(Debug, Clone)]
pub(crate) struct PruneCandidate {
    pub entry: InventoryEntry,
    /// Why it is kept, when a guard keeps it.
    pub kept: Option<String>,
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
}

fn label(o: &KubeObject) -> String {
    o.key.to_string()
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

fn entry_key(e: &InventoryEntry) -> ObjectKey {
    ObjectKey {
        group: crate::core::kube::split_api_version(&e.api_version)
            .0
            .to_string(),
        kind: e.kind.clone(),
        namespace: e.namespace.clone(),
        name: e.name.clone(),
    }
}

/// The wave (1-based) of the first repo object that `pred` accepts.
fn first_wave(a: &Analysis, pred: impl Fn(&KubeObject) -> bool) -> Option<usize> {
    a.graph
        .nodes
        .iter()
        .enumerate()
        .find_map(|(n, node)| match node.what {
            NodeRef::Object(ci) if pred(&a.model.objects[ci]) => {
                Some(a.order.wave_of.get(n).map_or(0, |w| w + 1))
            }
            _ => None,
        })
}

/// Compares every object with the cluster and fills the Kubernetes items of the plan.
pub(super) async fn plan(
    a: &Analysis,
    kube: &KubeAdapter,
    opts: &ExecOptions,
    p: &mut LivePlan,
) -> Result<(), KubeError> {
    let ctx = PrepareContext::from_bodies(a.model.objects.iter().map(|o| &o.body));
    let mut objects = BTreeMap::new();
    for (n, node) in a.graph.nodes.iter().enumerate() {
        if let NodeRef::Object(oi) = node.what {
            objects.insert(n, oi);
        }
    }
    // Discovery: one lookup per kind (cached by the adapter).
    let mut kinds: BTreeMap<(String, String), Option<ResolvedKind>> = BTreeMap::new();
    for o in &a.model.objects {
        kinds.insert((o.api_version.clone(), o.key.kind.clone()), None);
    }
    let inventory = kube.read_inventory().await?;
    for e in inventory.iter().flat_map(|i| i.entries.iter()) {
        kinds.insert((e.api_version.clone(), e.kind.clone()), None);
    }
    for ((api_version, kind), slot) in kinds.iter_mut() {
        *slot = kube.resolve(api_version, kind).await?;
    }
    let served: Vec<ResolvedKind> = kinds.values().flatten().cloned().collect();
    let live = kdiff::index_live(kube.list_managed(&served).await?);
    let aws_live = p.aws.as_ref().map(|s| &s.live);

    // The wave (1-based) of the repo's CRD that defines an object's kind, and of the repo's
    // Namespace it lives in: such objects cannot be dry-run before those exist.
    let crd_wave = |o: &KubeObject| {
        first_wave(a, |c| {
            c.key.kind == "CustomResourceDefinition"
                && kdiff::crd_defines(&c.body, &o.api_version, &o.key.kind)
        })
    };
    let ns_wave = |o: &KubeObject| {
        let ns = o.key.namespace.as_deref()?;
        first_wave(a, |c| {
            c.key.kind == "Namespace" && c.key.group.is_empty() && c.key.name == ns
        })
    };

    // Dry-run every object whose values are known, under the concurrency bound.
    let mut jobs = Vec::new();
    for (&n, &oi) in &objects {
        let o = &a.model.objects[oi];
        let (body, complete, warnings) = render(a, o, aws_live, &ctx);
        p.items[n]
            .details
            .extend(warnings.into_iter().map(|w| format!("warning: {w}")));
        let served = kinds
            .get(&(o.api_version.clone(), o.key.kind.clone()))
            .cloned()
            .flatten();
        let live_obj = live.get(&o.key).cloned();
        if served.is_none() {
            match crd_wave(o) {
                Some(w) => {
                    p.items[n].action = Action::Create;
                    p.items[n]
                        .details
                        .push(format!("create (CRD arrives in wave {w})"));
                }
                None => {
                    p.items[n].action = Action::Blocked;
                    p.items[n].details.push(format!(
                        "the cluster does not serve {} {}",
                        o.key.kind, o.api_version
                    ));
                }
            }
            continue;
        }
        if !complete {
            p.items[n].action = if live_obj.is_some() {
                Action::Update
            } else {
                Action::Create
            };
            p.items[n]
                .details
                .push("values from AWS are known after apply; diffed once they exist".into());
            continue;
        }
        jobs.push((n, o, body, live_obj));
    }
    let results: Vec<_> = stream::iter(jobs)
        .map(|(n, o, body, mut live_obj)| async move {
            let dry = ApplyOptions {
                dry_run: true,
                force: true,
            };
            let r = kube.apply(&body, dry).await;
            // An object that exists without the ownership label (created elsewhere, or about to be
            // adopted) is not in the listed set: read it, so it diffs as an update, not a create.
            if let Ok(result) = &r {
                if kdiff::needs_live_read(result, live_obj.as_ref()) {
                    let ns = o.key.namespace.as_deref();
                    if let Ok(found) = kube.get(&o.api_version, &o.key.kind, ns, &o.key.name).await
                    {
                        live_obj = found;
                    }
                }
            }
            (n, o, body, live_obj, r)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    let mut recreate = BTreeSet::new();
    for (n, o, body, live_obj, r) in results {
        let item = &mut p.items[n];
        match r {
            Ok(result) => {
                let mut d = kdiff::diff(&result, live_obj.as_ref());
                if live_obj.is_some() && ctx.hpa_targets.contains(&o.key) {
                    d = d.ignoring("spec.replicas");
                }
                item.action = match d.action {
                    kdiff::Action::Create | kdiff::Action::CreateAfterCrd(_) => Action::Create,
                    kdiff::Action::Update => Action::Update,
                    kdiff::Action::NoChange => Action::NoChange,
                };
                for c in d.drift() {
                    item.drift.push(format!(
                        "{} was changed by {}; Git's value is put back",
                        c.path,
                        c.drift_by.as_deref().unwrap_or("another manager")
                    ));
                }
                if d.action == kdiff::Action::Update {
                    item.details.extend(
                        kdiff::render(&label(o), &d)
                            .lines()
                            .skip(1)
                            .map(|l| l.trim_end().to_string()),
                    );
                }
            }
            Err(KubeError::Invalid { message, causes }) => {
                let fields = kdiff::immutable_fields(&causes);
                if fields.is_empty() {
                    item.action = Action::Blocked;
                    item.details
                        .push(format!("the API server rejects it: {message}"));
                } else {
                    match kdiff::decide_immutable(&body, fields) {
                        ImmutableDecision::Recreate { fields } => {
                            item.action = Action::Update;
                            item.details.push(format!(
                                "delete and recreate: immutable field(s) {} change",
                                fields.join(", ")
                            ));
                            recreate.insert(n);
                        }
                        ImmutableDecision::Error { message, .. } => {
                            item.action = Action::Blocked;
                            item.details.push(message);
                        }
                    }
                }
            }
            Err(KubeError::NamespaceNotFound { message: msg, .. }) if ns_wave(o).is_some() => {
                // Its namespace is created by this plan: the object cannot be dry-run before.
                item.action = Action::Create;
                item.details.push(format!(
                    "create (namespace {} arrives in wave {})",
                    o.key.namespace.as_deref().unwrap_or_default(),
                    ns_wave(o).unwrap_or_default()
                ));
                let _ = msg;
            }
            Err(e) => {
                item.action = Action::Blocked;
                item.details.push(format!("dry run failed: {e}"));
            }
        }
    }

    // What left Git: in the inventory, not desired any more.
    let desired = Inventory::new(
        a.model
            .objects
            .iter()
            .filter_map(|o| InventoryEntry::of(&o.body)),
    );
    let mut prune = Vec::new();
    if let Some(inv) = &inventory {
        for entry in inv.missing_from(&desired) {
            let key = entry_key(&entry);
            let kept = live.get(&key).and_then(|obj| {
                (obj.pointer("/metadata/annotations")
                    .and_then(|m| m.get(PRUNE_ANNOTATION))
                    .and_then(Value::as_str)
                    == Some("disabled"))
                .then(|| format!("{PRUNE_ANNOTATION}: disabled"))
            });
            if live.contains_key(&key) {
                prune.push(PruneCandidate { entry, kept });
            }
        }
    }
    p.kube = Some(KubeState {
        ctx,
        objects,
        recreate,
        inventory,
        prune,
    });
    Ok(())
}

fn prune_label(e: &InventoryEntry) -> String {
    match &e.namespace {
        Some(ns) => format!("{} {ns}/{}", e.kind, e.name),
        None => format!("{} {}", e.kind, e.name),
    }
}

/// Items for the prune candidates, for reports.
pub(super) fn prune_items(p: &LivePlan, opts: &ExecOptions) -> Vec<Item> {
    let Some(state) = &p.kube else {
        return Vec::new();
    };
    state
        .prune
        .iter()
        .map(|c| Item {
            id: format!("prune/{}", prune_label(&c.entry)),
            system: System::Kubernetes,
            kind: c.entry.kind.clone(),
            name: c.entry.name.clone(),
            namespace: c.entry.namespace.clone(),
            wave: 0,
            action: if c.kept.is_some() || !opts.prune.enabled {
                Action::DriftOnly
            } else {
                Action::Delete
            },
            details: vec![match (&c.kept, opts.prune.enabled) {
                (Some(why), _) => format!("left Git; kept ({why})"),
                (None, true) => "left Git; deleted".into(),
                (None, false) => "left Git; pass --prune to delete it".into(),
            }],
            drift: Vec::new(),
            outcome: None,
        })
        .collect()
}

async fn wait_ready(
    kube: &KubeAdapter,
    body: &Value,
    key: &ObjectKey,
    api_version: &str,
    opts: &ReadinessOptions,
) -> Result<String, String> {
    let timeout = opts
        .timeouts
        .get(&key.kind)
        .copied()
        .unwrap_or(opts.default);
    let start = Instant::now();
    let mut last;
    loop {
        match kube
            .get(api_version, &key.kind, key.namespace.as_deref(), &key.name)
            .await
        {
            Ok(Some(obj)) => match kdiff::readiness(&key.kind, &obj) {
                Readiness::Ready => return Ok("ready".into()),
                Readiness::Failed(why) => return Err(format!("not healthy: {why}")),
                Readiness::Waiting(why) => last = why,
            },
            Ok(None) => last = "not found after apply".into(),
            Err(e) => last = e.to_string(),
        }
        if start.elapsed() >= timeout {
            let _ = body;
            return Err(format!("not ready after {}s: {last}", timeout.as_secs()));
        }
        tokio::time::sleep(opts.poll).await;
    }
}

/// Applies the given Kubernetes nodes (in parallel, bounded) and waits for each to be healthy.
pub(super) async fn run_nodes(
    a: &Analysis,
    p: &LivePlan,
    kube: &KubeAdapter,
    nodes: &[usize],
    opts: &ExecOptions,
) -> Vec<(usize, Outcome)> {
    let Some(state) = &p.kube else {
        return Vec::new();
    };
    let aws_live = p.aws.as_ref().map(|s| &s.live);
    let jobs: Vec<(usize, &KubeObject)> = nodes
        .iter()
        .filter_map(|n| state.objects.get(n).map(|&oi| (*n, &a.model.objects[oi])))
        .collect();
    stream::iter(jobs)
        .map(|(n, o)| async move {
            let label = o.key.to_string();
            let started = Instant::now();
            opts.report(super::Progress::StepStarted {
                label: label.clone(),
            });
            let (n, outcome) = apply_one(a, state, kube, n, o, aws_live, opts).await;
            opts.report(super::Progress::StepFinished {
                label,
                outcome: outcome.clone(),
                seconds: started.elapsed().as_secs(),
            });
            (n, outcome)
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await
}

/// Applies one object (recreating it first when opted in) and waits until it is healthy.
async fn apply_one(
    a: &Analysis,
    state: &KubeState,
    kube: &KubeAdapter,
    n: usize,
    o: &KubeObject,
    aws_live: Option<&LiveAws>,
    opts: &ExecOptions,
) -> (usize, Outcome) {
    {
        {
            let (body, complete, _) = render(a, o, aws_live, &state.ctx);
            if !complete {
                return (
                    n,
                    Outcome::Failed {
                        reason: "a value from AWS is still unknown (its stack did not produce it)"
                            .into(),
                    },
                );
            }
            if state.recreate.contains(&n) {
                if let Err(e) = kube
                    .delete(
                        &o.api_version,
                        &o.key.kind,
                        o.key.namespace.as_deref(),
                        &o.key.name,
                        Propagation::Foreground,
                    )
                    .await
                {
                    return (
                        n,
                        Outcome::Failed {
                            reason: format!("delete before recreate: {e}"),
                        },
                    );
                }
                let start = Instant::now();
                while let Ok(Some(_)) = kube
                    .get(
                        &o.api_version,
                        &o.key.kind,
                        o.key.namespace.as_deref(),
                        &o.key.name,
                    )
                    .await
                {
                    if start.elapsed() > opts.readiness.default {
                        return (
                            n,
                            Outcome::Failed {
                                reason: "the old object was not deleted in time".into(),
                            },
                        );
                    }
                    tokio::time::sleep(opts.readiness.poll).await;
                }
            }
            // Replicas an HPA now owns are handed over first, so that the apply which drops
            // them from eksync's fields does not scale the workload down.
            if state.ctx.hpa_targets.contains(&o.key) {
                let live = kube
                    .get(
                        &o.api_version,
                        &o.key.kind,
                        o.key.namespace.as_deref(),
                        &o.key.name,
                    )
                    .await;
                if let Ok(Some(live)) = live {
                    if let Some(h) = kdiff::replicas_handover(&body, &live, &state.ctx) {
                        let handover = ApplyOptions {
                            dry_run: false,
                            force: true,
                        };
                        if let Err(e) = kube.apply_as(&h, handover, kdiff::HANDOVER_MANAGER).await {
                            let reason = format!("replicas handover: {e}");
                            return (n, Outcome::Failed { reason });
                        }
                    }
                }
            }
            if let Err(e) = kube
                .apply(
                    &body,
                    ApplyOptions {
                        dry_run: false,
                        force: true,
                    },
                )
                .await
            {
                return (
                    n,
                    Outcome::Failed {
                        reason: format!("apply: {e}"),
                    },
                );
            }
            match wait_ready(kube, &body, &o.key, &o.api_version, &opts.readiness).await {
                Ok(s) => (
                    n,
                    Outcome::Done {
                        summary: format!("applied, {s}"),
                    },
                ),
                Err(reason) => (n, Outcome::Failed { reason }),
            }
        }
    }
}

/// Deletes what left Git (guards first), in reverse install order, and records the inventory.
/// Returns items describing what happened to each candidate, notes, and the refusal if a guard
/// stopped the prune.
pub(super) async fn finish(
    a: &Analysis,
    p: &LivePlan,
    kube: &KubeAdapter,
    opts: &ExecOptions,
) -> (Vec<Item>, Vec<String>, Option<String>) {
    let Some(state) = &p.kube else {
        return (Vec::new(), Vec::new(), None);
    };
    let mut notes = Vec::new();
    let mut refused = None;
    let mut items = prune_items(p, opts);
    let to_delete: Vec<&PruneCandidate> = state.prune.iter().filter(|c| c.kept.is_none()).collect();
    let inventory_len = state.inventory.as_ref().map_or(0, |i| i.entries.len());
    let mut pruned: BTreeSet<InventoryEntry> = BTreeSet::new();
    if opts.prune.enabled && !to_delete.is_empty() {
        let names: Vec<String> = to_delete.iter().map(|c| prune_label(&c.entry)).collect();
        let share = to_delete.len() as f64 / inventory_len.max(1) as f64;
        let refusal = if a.model.objects.is_empty() {
            Some("the repo yields no Kubernetes objects at all".to_string())
        } else if share > opts.prune.max_share && !opts.prune.allow_large {
            Some(format!(
                "{} of {} inventoried objects ({:.0}%) is more than the allowed {:.0}%; pass --prune-allow-large to go ahead",
                to_delete.len(),
                inventory_len,
                share * 100.0,
                opts.prune.max_share * 100.0
            ))
        } else {
            None
        };
        match refusal {
            Some(why) => {
                refused = Some(format!(
                    "prune refused: {why}; it would have deleted: {}",
                    names.join(", ")
                ));
                for i in items.iter_mut() {
                    if i.action == Action::Delete {
                        i.action = Action::DriftOnly;
                        i.outcome = Some(Outcome::Skipped {
                            because: "prune refused".into(),
                        });
                    }
                }
            }
            None => {
                // Workloads before what they use, namespaces last: the reverse of install order.
                let rank = |k: &str| match k {
                    "Namespace" => 3,
                    "CustomResourceDefinition" => 2,
                    "PersistentVolume" | "StorageClass" | "ClusterRole" | "ClusterRoleBinding" => 1,
                    _ => 0,
                };
                let mut ordered = to_delete.clone();
                ordered.sort_by_key(|c| rank(&c.entry.kind));
                for c in ordered {
                    let e = &c.entry;
                    let r = kube
                        .delete(
                            &e.api_version,
                            &e.kind,
                            e.namespace.as_deref(),
                            &e.name,
                            Propagation::Foreground,
                        )
                        .await;
                    let label = prune_label(e);
                    if let Some(item) = items.iter_mut().find(|i| i.id == format!("prune/{label}"))
                    {
                        item.outcome = Some(match &r {
                            Ok(_) => Outcome::Done {
                                summary: "deleted".into(),
                            },
                            Err(err) => Outcome::Failed {
                                reason: err.to_string(),
                            },
                        });
                    }
                    if r.is_ok() {
                        pruned.insert(e.clone());
                    }
                }
            }
        }
    }
    // The inventory: what exists now that eksync applied, plus what it still keeps.
    let applied_or_present = p.items.iter().enumerate().filter_map(|(n, i)| {
        let oi = state.objects.get(&n)?;
        let ok = match &i.outcome {
            Some(Outcome::Done { .. }) => true,
            Some(_) => false,
            None => i.action == Action::NoChange || i.action == Action::DriftOnly,
        };
        ok.then(|| InventoryEntry::of(&a.model.objects[*oi].body))
            .flatten()
    });
    let previous = state
        .inventory
        .iter()
        .flat_map(|i| i.entries.iter().cloned())
        .filter(|e| !pruned.contains(e));
    let next = Inventory::new(previous.chain(applied_or_present));
    if state.inventory.as_ref() != Some(&next) {
        if let Err(e) = kube.write_inventory(&next).await {
            notes.push(format!("the inventory could not be written: {e}"));
        }
    }
    (items, notes, refused)
}
