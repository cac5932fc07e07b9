//! The one dependency graph over AWS stacks, IAM inline policies, EKS API objects (Fargate profiles:
//! after their cluster stack, one at a time per cluster, before the workloads they select; add-ons:
//! after the cluster stack, and after the node groups when their pods need nodes; Pod Identity
//! associations: after the cluster stack) and
//! Kubernetes objects. Every edge
//! says, in words a person can check, why its target waits for its source. Building the graph also
//! finds what only the whole picture shows: references to things that do not exist, workloads no
//! node group can host, and cycles (printed with each edge's reason).
//!
//! Pure: it reads the [`Model`] and reports through a [`Locator`]; ordering into waves is `plan`'s.

use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod admission;
mod schedule;

pub use schedule::can_host;

use crate::diag::{Diagnostic, Location};
use crate::eksctl;
use crate::kube::{self, ObjectKey};
use crate::model::{Model, Origin};
use crate::path::FieldPath;
use crate::refs::{StackRef, ValueRef};

/// Finds positions for diagnostics (the loader's in-memory files back it).
pub trait Locator {
    fn locate(&self, origin: &Origin, path: &FieldPath) -> Location;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum System {
    Aws,
    Kubernetes,
}

/// What a node stands for, pointing into the model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NodeRef {
    ClusterStack {
        cluster: usize,
    },
    NodeGroupStack {
        cluster: usize,
        nodegroup: String,
    },
    /// The role stack of the IRSA service account `namespace/name` (`iam.serviceAccounts`).
    ServiceAccountStack {
        cluster: usize,
        namespace: String,
        name: String,
    },
    /// The stack of the access entry of the IAM principal `principal_arn`
    /// (`accessConfig.accessEntries`).
    AccessEntryStack {
        cluster: usize,
        principal_arn: String,
    },
    RolePolicy(usize),
    Object(usize),
    /// An EKS API object of cluster `cluster` (a Fargate profile), by kind and name.
    EksObject {
        cluster: usize,
        kind: crate::awsdiff::EksKind,
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub id: String,
    pub system: System,
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    #[serde(skip)]
    pub what: NodeRef,
}

impl Node {
    /// A short human label: `Deployment jenkins/jenkins`, `stack eksctl-x-cluster`.
    pub fn label(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// The graph's edges indexed both ways, so that "what does this wait for" and "what waits for
/// this" cost the node's degree, not a scan of every edge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adjacency {
    /// `deps[n]`: the nodes `n` waits for (sorted, without duplicates).
    pub deps: Vec<Vec<usize>>,
    /// `dependents[n]`: the nodes that wait for `n` (sorted, without duplicates).
    pub dependents: Vec<Vec<usize>>,
}

impl Graph {
    /// Indexes the edges by source and by target.
    pub fn adjacency(&self) -> Adjacency {
        let n = self.nodes.len();
        let mut deps = vec![Vec::new(); n];
        let mut dependents = vec![Vec::new(); n];
        for e in &self.edges {
            if e.from < n && e.to < n {
                deps[e.to].push(e.from);
                dependents[e.from].push(e.to);
            }
        }
        for v in deps.iter_mut().chain(dependents.iter_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        Adjacency { deps, dependents }
    }
}

pub const DEPENDS_ON_ANNOTATION: &str = "eksync.io/depends-on";

/// Stack ids and kinds, shared with renderers and reports.
pub fn stack_id(cluster: &str, stack: &str) -> String {
    format!("aws/{cluster}/stack/{stack}")
}

fn object_id(cluster: Option<&str>, key: &ObjectKey) -> String {
    format!(
        "k8s/{}/{}/{}/{}",
        cluster.unwrap_or("_"),
        key.kind_group(),
        key.namespace.as_deref().unwrap_or("_"),
        key.name
    )
}

struct Builder<'a> {
    model: &'a Model,
    loc: &'a dyn Locator,
    nodes: Vec<Node>,
    edges: BTreeMap<(usize, usize), Vec<String>>,
    diags: Vec<Diagnostic>,
    cluster_stack: HashMap<&'a str, usize>,
    ng_stack: HashMap<(&'a str, &'a str), usize>,
    /// IRSA role stacks by (cluster, namespace, service account name).
    sa_stack: HashMap<(&'a str, &'a str, &'a str), usize>,
    /// Access entry stacks by (cluster, principal ARN), in file order.
    ae_stack: Vec<(&'a str, &'a str, usize)>,
    /// Fargate profiles by cluster, in file order: (node, selectors).
    fargate: HashMap<&'a str, Vec<(usize, Vec<crate::awsdiff::FargateSelector>)>>,
    /// EKS add-ons by cluster, in file order: (node, add-on name).
    addons: HashMap<&'a str, Vec<(usize, String)>>,
    /// Pod Identity associations by cluster: (node, `<namespace>/<service account>`).
    pod_identities: HashMap<&'a str, Vec<(usize, String)>>,
    objects: HashMap<(Option<&'a str>, &'a ObjectKey), usize>,
    policies: HashMap<&'a str, usize>,
    /// RBAC bindings by the ServiceAccount they grant to: (cluster, namespace, name) -> objects.
    grants: HashMap<(Option<&'a str>, &'a str, &'a str), Vec<usize>>,
    /// PersistentVolumes by cluster (object indices).
    volumes: HashMap<Option<&'a str>, Vec<usize>>,
}

impl<'a> Builder<'a> {
    fn edge(&mut self, from: usize, to: usize, reason: String) {
        if from == to {
            return;
        }
        let reasons = self.edges.entry((from, to)).or_default();
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }

    fn error(&mut self, code: &'static str, msg: String, origin: &Origin, path: &FieldPath) {
        let at = self.loc.locate(origin, path);
        self.diags.push(Diagnostic::error(code, msg).at(at));
    }

    fn warn(&mut self, code: &'static str, msg: String, origin: &Origin, path: &FieldPath) {
        let at = self.loc.locate(origin, path);
        self.diags.push(Diagnostic::warning(code, msg).at(at));
    }

    fn object(&self, cluster: Option<&str>, key: &ObjectKey) -> Option<usize> {
        self.objects.get(&(cluster, key)).copied()
    }

    fn key(kind: &str, group: &str, ns: Option<&str>, name: &str) -> ObjectKey {
        ObjectKey {
            group: group.to_string(),
            kind: kind.to_string(),
            namespace: ns.map(str::to_string),
            name: name.to_string(),
        }
    }
}

/// Builds the graph and reports what only the whole graph shows.
pub fn build(model: &Model, loc: &dyn Locator) -> (Graph, Vec<Diagnostic>) {
    let mut b = Builder {
        model,
        loc,
        nodes: Vec::new(),
        edges: BTreeMap::new(),
        diags: Vec::new(),
        cluster_stack: HashMap::new(),
        ng_stack: HashMap::new(),
        sa_stack: HashMap::new(),
        ae_stack: Vec::new(),
        fargate: HashMap::new(),
        addons: HashMap::new(),
        pod_identities: HashMap::new(),
        objects: HashMap::new(),
        policies: HashMap::new(),
        grants: HashMap::new(),
        volumes: HashMap::new(),
    };
    add_nodes(&mut b);
    index(&mut b);
    aws_edges(&mut b);
    for i in 0..model.objects.len() {
        object_edges(&mut b, i);
    }
    // Last: what a webhook intercepts depends on what it already waits for.
    admission::intercept_edges(&mut b);
    // Every Kubernetes object needs its cluster's API; objects that already wait for something
    // else in the graph get that transitively, so only the roots get the edge.
    let has_incoming: BTreeSet<usize> = b.edges.keys().map(|(_, to)| *to).collect();
    for (i, o) in model.objects.iter().enumerate() {
        let node = b.objects[&(o.cluster.as_deref(), &o.key)];
        if has_incoming.contains(&node) {
            continue;
        }
        if let Some(&cs) = o.cluster.as_deref().and_then(|c| b.cluster_stack.get(c)) {
            let reason = format!(
                "Kubernetes objects need cluster {}'s API server",
                o.cluster.as_deref().unwrap_or_default()
            );
            b.edge(cs, node, reason);
        }
        let _ = i;
    }
    let graph = Graph {
        nodes: b.nodes,
        edges: b
            .edges
            .into_iter()
            .map(|((from, to), reasons)| Edge {
                from,
                to,
                reason: reasons.join("; "),
            })
            .collect(),
    };
    (graph, b.diags)
}

/// The graph node of one of a cluster's CloudFormation stacks.
fn stack_node(cluster: &str, stack: String, c: &crate::model::Cluster, what: NodeRef) -> Node {
    Node {
        id: stack_id(cluster, &stack),
        system: System::Aws,
        kind: "Stack".into(),
        name: stack,
        namespace: None,
        cluster: Some(cluster.to_string()),
        origin: Some(c.origin.clone()),
        what,
    }
}

fn add_nodes(b: &mut Builder) {
    let model = b.model;
    for (ci, c) in model.clusters.iter().enumerate() {
        let name = c.name();
        let stack = eksctl::cluster_stack_name(name);
        b.cluster_stack.insert(name, b.nodes.len());
        b.nodes.push(stack_node(
            name,
            stack,
            c,
            NodeRef::ClusterStack { cluster: ci },
        ));
        for ng in c.config.node_groups() {
            let stack = eksctl::nodegroup_stack_name(name, ng.name);
            b.ng_stack.insert((name, ng.name), b.nodes.len());
            b.nodes.push(stack_node(
                name,
                stack,
                c,
                NodeRef::NodeGroupStack {
                    cluster: ci,
                    nodegroup: ng.name.to_string(),
                },
            ));
        }
        // eksctl creates no stack for an entry that names an existing role (`attachRoleARN`).
        for sa in c
            .config
            .service_accounts()
            .iter()
            .filter(|sa| sa.attach_role_arn.is_none())
        {
            let (ns, sa_name) = (sa.namespace(), sa.metadata.name.as_str());
            let stack = eksctl::iamserviceaccount_stack_name(name, ns, sa_name);
            // A repeated entry is one stack (the loader reports the duplicate).
            if b.sa_stack.contains_key(&(name, ns, sa_name)) {
                continue;
            }
            b.sa_stack.insert((name, ns, sa_name), b.nodes.len());
            b.nodes.push(stack_node(
                name,
                stack,
                c,
                NodeRef::ServiceAccountStack {
                    cluster: ci,
                    namespace: ns.to_string(),
                    name: sa_name.to_string(),
                },
            ));
        }
        for entry in c.config.access_entries() {
            let principal = entry.principal_arn.as_str();
            // A repeated principal is one stack (the loader reports the duplicate).
            if b.ae_stack
                .iter()
                .any(|(cl, p, _)| *cl == name && *p == principal)
            {
                continue;
            }
            let stack = eksctl::accessentry_stack_name(name, principal);
            b.ae_stack.push((name, principal, b.nodes.len()));
            b.nodes.push(stack_node(
                name,
                stack,
                c,
                NodeRef::AccessEntryStack {
                    cluster: ci,
                    principal_arn: principal.to_string(),
                },
            ));
        }
    }
    for (ci, c) in model.clusters.iter().enumerate() {
        let name = c.name();
        for o in crate::render::eks_objects(&c.config) {
            // A repeated name is one object (the loader reports the duplicate).
            let id = o.node_id();
            if b.nodes.iter().any(|n| n.id == id) {
                continue;
            }
            match &o.spec {
                crate::awsdiff::EksObjectSpec::FargateProfile(f) => b
                    .fargate
                    .entry(name)
                    .or_default()
                    .push((b.nodes.len(), f.selectors.clone())),
                crate::awsdiff::EksObjectSpec::Addon(a) => b
                    .addons
                    .entry(name)
                    .or_default()
                    .push((b.nodes.len(), a.name.clone())),
                crate::awsdiff::EksObjectSpec::PodIdentityAssociation(p) => b
                    .pod_identities
                    .entry(name)
                    .or_default()
                    .push((b.nodes.len(), p.name())),
            }
            b.nodes.push(Node {
                id,
                system: System::Aws,
                kind: o.kind().node_kind().into(),
                name: o.name().to_string(),
                namespace: None,
                cluster: Some(name.to_string()),
                origin: Some(c.origin.clone()),
                what: NodeRef::EksObject {
                    cluster: ci,
                    kind: o.kind(),
                    name: o.name().to_string(),
                },
            });
        }
    }
    for (pi, p) in model.role_policies.iter().enumerate() {
        let cluster = policy_cluster(model, p.cluster.as_deref());
        b.policies.insert(p.name.as_str(), b.nodes.len());
        b.nodes.push(Node {
            id: format!("aws/{}/iam-role-policy/{}", cluster.unwrap_or("_"), p.name),
            system: System::Aws,
            kind: "IAMRolePolicy".into(),
            name: p.name.clone(),
            namespace: None,
            cluster: cluster.map(str::to_string),
            origin: Some(p.origin.clone()),
            what: NodeRef::RolePolicy(pi),
        });
    }
    for (oi, o) in model.objects.iter().enumerate() {
        b.objects
            .insert((o.cluster.as_deref(), &o.key), b.nodes.len());
        b.nodes.push(Node {
            id: object_id(o.cluster.as_deref(), &o.key),
            system: System::Kubernetes,
            kind: o.key.kind.clone(),
            name: o.key.name.clone(),
            namespace: o.key.namespace.clone(),
            cluster: o.cluster.clone(),
            origin: Some(o.origin.clone()),
            what: NodeRef::Object(oi),
        });
    }
}

/// Indexes what several objects look up, so that building stays linear in the repo's size.
fn index(b: &mut Builder) {
    let model = b.model;
    for (i, o) in model.objects.iter().enumerate() {
        let cluster = o.cluster.as_deref();
        if o.key.group.is_empty() && o.key.kind == "PersistentVolume" {
            b.volumes.entry(cluster).or_default().push(i);
        }
        if o.key.group == "rbac.authorization.k8s.io" && o.key.kind.ends_with("Binding") {
            for s in o
                .body
                .get("subjects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if kube::get_str(s, &["kind"]) != Some("ServiceAccount") {
                    continue;
                }
                let (Some(name), Some(ns)) = (
                    kube::get_str(s, &["name"]),
                    kube::get_str(s, &["namespace"]).or(o.key.namespace.as_deref()),
                ) else {
                    continue;
                };
                let list = b.grants.entry((cluster, ns, name)).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
    }
}

/// The cluster an IAMRolePolicy belongs to: the one it names, or the repo's only cluster.
fn policy_cluster<'m>(model: &'m Model, named: Option<&'m str>) -> Option<&'m str> {
    named.or_else(|| (model.clusters.len() == 1).then(|| model.clusters[0].name()))
}

fn aws_edges(b: &mut Builder) {
    let model = b.model;
    for c in &model.clusters {
        let cs = b.cluster_stack[c.name()];
        for ng in c.config.node_groups() {
            let ns = b.ng_stack[&(c.name(), ng.name)];
            b.edge(
                cs,
                ns,
                format!(
                    "node group {} joins cluster {} (its stack imports the cluster stack's outputs)",
                    ng.name,
                    c.name()
                ),
            );
        }
        let mut sas: Vec<(&str, &str, usize)> = b
            .sa_stack
            .iter()
            .filter(|((cluster, _, _), _)| *cluster == c.name())
            .map(|((_, ns, name), n)| (*ns, *name, *n))
            .collect();
        sas.sort_unstable();
        for (ns, name, node) in sas {
            b.edge(
                cs,
                node,
                format!(
                    "the IAM role of service account {ns}/{name} trusts cluster {}'s IAM OIDC provider (its stack reads the cluster stack's OIDC outputs)",
                    c.name()
                ),
            );
        }
        let entries: Vec<(&str, usize)> = b
            .ae_stack
            .iter()
            .filter(|(cluster, _, _)| *cluster == c.name())
            .map(|(_, p, n)| (*p, *n))
            .collect();
        for (principal, node) in entries {
            b.edge(
                cs,
                node,
                format!(
                    "the access entry of {principal} is created in cluster {}, which the cluster stack creates (eksctl creates access entries after the control plane)",
                    c.name()
                ),
            );
        }
    }
    for c in &model.clusters {
        let cs = b.cluster_stack[c.name()];
        let profiles: Vec<usize> = b
            .fargate
            .get(c.name())
            .map(|v| v.iter().map(|(n, _)| *n).collect())
            .unwrap_or_default();
        let addons = b.addons.get(c.name()).cloned().unwrap_or_default();
        let groups: Vec<(usize, &str)> = c
            .config
            .node_groups()
            .into_iter()
            .map(|ng| (b.ng_stack[&(c.name(), ng.name)], ng.name))
            .collect();
        for (node, addon) in addons {
            b.edge(
                cs,
                node,
                format!("add-on {addon} is installed in cluster {}", c.name()),
            );
            if crate::awsdiff::ADDONS_NEEDING_NODES.contains(&addon.as_str()) {
                for (ng, ng_name) in &groups {
                    b.edge(
                        *ng,
                        node,
                        format!(
                            "add-on {addon} runs pods: EKS reports it ACTIVE only once nodes (node group {ng_name}) can run them"
                        ),
                    );
                }
            }
        }
        for (node, sa) in b.pod_identities.get(c.name()).cloned().unwrap_or_default() {
            b.edge(
                cs,
                node,
                format!(
                    "the Pod Identity association of service account {sa} is made in cluster {}",
                    c.name()
                ),
            );
        }
        let mut previous: Option<usize> = None;
        for node in profiles {
            let name = b.nodes[node].name.clone();
            b.edge(
                cs,
                node,
                format!(
                    "Fargate profile {name} is created in cluster {} with the cluster stack's pod execution role and private subnets",
                    c.name()
                ),
            );
            if let Some(prev) = previous {
                let prev_name = b.nodes[prev].name.clone();
                b.edge(
                    prev,
                    node,
                    format!(
                        "EKS creates or deletes one Fargate profile of cluster {} at a time ({prev_name} first)",
                        c.name()
                    ),
                );
            }
            previous = Some(node);
        }
    }
    for (pi, p) in model.role_policies.iter().enumerate() {
        let node = b.policies[p.name.as_str()];
        let cluster = policy_cluster(model, p.cluster.as_deref());
        if let Some(named) = &p.cluster {
            if model.cluster(named).is_none() {
                b.error(
                    "E-ref",
                    format!(
                        "IAMRolePolicy {} names cluster `{named}`, which the repo does not define",
                        p.name
                    ),
                    &p.origin,
                    &FieldPath::keys(&["spec", "cluster"]),
                );
                // Its references cannot be checked against a cluster that is not there; saying
                // so for each of them would only repeat this error.
                continue;
            }
        }
        let refs = p.refs.clone();
        for r in &refs {
            ref_edge(b, node, cluster, &r.value, &p.origin, &r.path);
        }
        let _ = pi;
    }
}

/// Adds the edge for one value reference, or reports a target that does not exist.
fn ref_edge(
    b: &mut Builder,
    consumer: usize,
    cluster: Option<&str>,
    r: &ValueRef,
    origin: &Origin,
    path: &FieldPath,
) {
    let Some(cluster) = cluster else {
        b.error(
            "E-ref",
            format!("{r} needs a ClusterConfig in the repo to refer to"),
            origin,
            path,
        );
        return;
    };
    let ng = match r {
        ValueRef::MinSize(ng) | ValueRef::MaxSize(ng) => Some(ng),
        ValueRef::Resource {
            stack: StackRef::NodeGroup(ng),
            ..
        }
        | ValueRef::Output {
            stack: StackRef::NodeGroup(ng),
            ..
        } => Some(ng),
        _ => None,
    };
    if let Some(ng) = ng {
        if !b.ng_stack.contains_key(&(cluster, ng.as_str())) {
            let known: Vec<String> = b
                .ng_stack
                .keys()
                .filter(|(c, _)| *c == cluster)
                .map(|(_, n)| n.to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            b.error(
                "E-ref",
                format!(
                    "{r} refers to node group `{ng}`, which cluster {cluster} does not have (it has: {})",
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ),
                origin,
                path,
            );
            return;
        }
    }
    if let Some(StackRef::ServiceAccount { namespace, name }) = r.producer() {
        if !b
            .sa_stack
            .contains_key(&(cluster, namespace.as_str(), name.as_str()))
        {
            let known: Vec<String> = b
                .sa_stack
                .keys()
                .filter(|(c, _, _)| *c == cluster)
                .map(|(_, ns, n)| format!("{ns}/{n}"))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            b.error(
                "E-ref",
                format!(
                    "{r} refers to the role stack of service account {namespace}/{name}, which cluster {cluster} does not have (iam.serviceAccounts entries with a role stack: {})",
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ),
                origin,
                path,
            );
            return;
        }
    }
    let producer = match r.producer() {
        Some(StackRef::Cluster) => b.cluster_stack.get(cluster).copied(),
        Some(StackRef::NodeGroup(ng)) => b.ng_stack.get(&(cluster, ng.as_str())).copied(),
        Some(StackRef::ServiceAccount { namespace, name }) => b
            .sa_stack
            .get(&(cluster, namespace.as_str(), name.as_str()))
            .copied(),
        None => None,
    };
    if let Some(p) = producer {
        b.edge(p, consumer, format!("uses {r} at {path}"));
    }
}

fn object_edges(b: &mut Builder, i: usize) {
    let model = b.model;
    let o = &model.objects[i];
    let me = b.objects[&(o.cluster.as_deref(), &o.key)];
    let cluster = o.cluster.as_deref();
    for r in &o.refs {
        ref_edge(b, me, cluster, &r.value, &o.origin, &r.path);
    }
    // Namespace first.
    if let Some(ns) = &o.key.namespace {
        let ns_key = Builder::key("Namespace", "", None, ns);
        match b.object(cluster, &ns_key) {
            Some(n) => b.edge(
                n,
                me,
                format!("Namespace {ns} must exist before objects in it"),
            ),
            None if !kube::SYSTEM_NAMESPACES.contains(&ns.as_str()) => {
                b.warn(
                    "W-namespace",
                    format!("namespace `{ns}` is not defined in the repo; it must already exist in the cluster"),
                    &o.origin,
                    &o.field(&FieldPath::keys(&["metadata", "namespace"])),
                );
            }
            None => {}
        }
    }
    // A custom resource waits for its CRD.
    if !o.key.group.is_empty() && kube::builtin(&o.key.group, &o.key.kind).is_none() {
        let crd = model.objects.iter().find(|c| {
            c.key.kind == "CustomResourceDefinition"
                && c.cluster == o.cluster
                && kube::get_str(&c.body, &["spec", "group"]) == Some(o.key.group.as_str())
                && kube::get_str(&c.body, &["spec", "names", "kind"]) == Some(o.key.kind.as_str())
        });
        if let Some(crd) = crd {
            let n = b.objects[&(cluster, &crd.key)];
            b.edge(
                n,
                me,
                format!(
                    "CustomResourceDefinition {} defines {}",
                    crd.key.name, o.key.kind
                ),
            );
        }
    }
    storage_edges(b, me, o.cluster.as_deref(), &o.key, &o.body);
    rbac_edges(b, me, cluster, &o.key, &o.body);
    admission::serving_edges(b, i, me);
    if let Some(spec_path) = kube::pod_spec_path(&o.key.group, &o.key.kind) {
        if let Some(spec) = kube::get(&o.body, spec_path) {
            workload_edges(b, i, me, spec, spec_path);
        }
        fargate_edges(b, i, me, spec_path);
    }
    if o.key.kind == "HorizontalPodAutoscaler" {
        if let (Some(kind), Some(name)) = (
            kube::get_str(&o.body, &["spec", "scaleTargetRef", "kind"]),
            kube::get_str(&o.body, &["spec", "scaleTargetRef", "name"]),
        ) {
            let group = kube::get_str(&o.body, &["spec", "scaleTargetRef", "apiVersion"])
                .map(|a| kube::split_api_version(a).0.to_string())
                .unwrap_or_default();
            let key = Builder::key(kind, &group, o.key.namespace.as_deref(), name);
            if let Some(t) = b.object(cluster, &key) {
                b.edge(t, me, format!("HorizontalPodAutoscaler scales {key}"));
                hpa_replicas_warning(b, t, &o.key);
            }
        }
    }
    depends_on(b, i, me);
}

/// Pods that a Fargate profile selects (its namespace, and its labels among the pod template's)
/// run on Fargate only if the profile exists when they are created: the workload waits for it.
/// DaemonSets never run on Fargate.
fn fargate_edges(b: &mut Builder, i: usize, me: usize, spec_path: &[&str]) {
    let model = b.model;
    let o = &model.objects[i];
    let (Some(cluster), Some(ns)) = (o.cluster.as_deref(), o.key.namespace.as_deref()) else {
        return;
    };
    if o.key.kind == "DaemonSet" {
        return;
    }
    // The pod template's metadata sits beside its spec (a Pod's is the object's own).
    let meta_path: Vec<&str> = spec_path
        .split_last()
        .map(|(_, rest)| rest.to_vec())
        .unwrap_or_default();
    let labels = kube::get(&o.body, &meta_path)
        .and_then(|m| m.get("metadata"))
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object);
    let matches = |s: &crate::awsdiff::FargateSelector| {
        s.namespace == ns
            && s.labels.iter().all(|(k, v)| {
                labels
                    .and_then(|l| l.get(k))
                    .and_then(Value::as_str)
                    .is_some_and(|x| x == v)
            })
    };
    let hits: Vec<usize> = b
        .fargate
        .get(cluster)
        .into_iter()
        .flatten()
        .filter(|(_, sels)| sels.iter().any(matches))
        .map(|(n, _)| *n)
        .collect();
    for n in hits {
        let name = b.nodes[n].name.clone();
        b.edge(
            n,
            me,
            format!(
                "Fargate profile {name} selects its pods (namespace {ns}); pods created before the profile exists do not run on Fargate"
            ),
        );
    }
}

/// A workload an HPA in the repo scales: `spec.replicas` in its manifest is never applied (the
/// replicas belong to the HPA, see `kdiff::prepare`), which validate says where it is written.
fn hpa_replicas_warning(b: &mut Builder, target: usize, hpa: &ObjectKey) {
    let NodeRef::Object(ti) = b.nodes[target].what else {
        return;
    };
    let t = &b.model.objects[ti];
    let Some(replicas) = kube::get(&t.body, &["spec", "replicas"]) else {
        return;
    };
    let name = match &hpa.namespace {
        Some(ns) => format!("{ns}/{}", hpa.name),
        None => hpa.name.clone(),
    };
    b.warn(
        "W-hpa-replicas",
        format!(
            "spec.replicas ({}) is not applied: HorizontalPodAutoscaler {name} owns this {}'s replicas; remove the field to say so in Git",
            crate::text::clip_json(replicas, 40),
            t.key.kind
        ),
        &t.origin,
        &t.field(&FieldPath::keys(&["spec", "replicas"])),
    );
}

fn storage_edges(b: &mut Builder, me: usize, cluster: Option<&str>, key: &ObjectKey, body: &Value) {
    let model = b.model;
    if key.group.is_empty()
        && (key.kind == "PersistentVolume" || key.kind == "PersistentVolumeClaim")
    {
        if let Some(sc) =
            kube::get_str(body, &["spec", "storageClassName"]).filter(|s| !s.is_empty())
        {
            let sc_key = Builder::key("StorageClass", "storage.k8s.io", None, sc);
            if let Some(n) = b.object(cluster, &sc_key) {
                b.edge(n, me, format!("{} uses StorageClass {sc}", key.kind));
            }
        }
    }
    if key.group == "apps" && key.kind == "StatefulSet" {
        let templates =
            kube::get(body, &["spec", "volumeClaimTemplates"]).and_then(Value::as_array);
        for (i, t) in templates.into_iter().flatten().enumerate() {
            let Some(sc) =
                kube::get_str(t, &["spec", "storageClassName"]).filter(|s| !s.is_empty())
            else {
                continue;
            };
            let sc_key = Builder::key("StorageClass", "storage.k8s.io", None, sc);
            if let Some(n) = b.object(cluster, &sc_key) {
                let claim = kube::get_str(t, &["metadata", "name"]).unwrap_or("(unnamed)");
                b.edge(
                    n,
                    me,
                    format!("StatefulSet {}'s volumeClaimTemplates[{i}] ({claim}) uses StorageClass {sc}", key.name),
                );
            }
        }
    }
    if key.group.is_empty() && key.kind == "PersistentVolumeClaim" {
        let ns = key.namespace.as_deref();
        let explicit = kube::get_str(body, &["spec", "volumeName"]);
        for pv in model.objects.iter().filter(|p| {
            p.key.group.is_empty()
                && p.key.kind == "PersistentVolume"
                && p.cluster.as_deref() == cluster
        }) {
            let claim_ns = kube::get_str(&pv.body, &["spec", "claimRef", "namespace"]);
            let claim_name = kube::get_str(&pv.body, &["spec", "claimRef", "name"]);
            let why = if explicit == Some(pv.key.name.as_str()) {
                Some("spec.volumeName".to_string())
            } else if claim_name == Some(key.name.as_str()) && claim_ns == ns {
                Some("the volume's spec.claimRef".to_string())
            } else if explicit.is_none() && static_match(&pv.body, body) {
                Some("same storage class and access modes, enough capacity".to_string())
            } else {
                None
            };
            if let Some(why) = why {
                let n = b.objects[&(cluster, &pv.key)];
                b.edge(
                    n,
                    me,
                    format!(
                        "PersistentVolumeClaim {} binds PersistentVolume {} ({why})",
                        key.name, pv.key.name
                    ),
                );
            }
        }
    }
}

/// Whether a PV could statically satisfy a PVC: same class, every requested access mode, enough
/// capacity.
fn static_match(pv: &Value, pvc: &Value) -> bool {
    let class = |v: &Value| {
        kube::get_str(v, &["spec", "storageClassName"])
            .unwrap_or("")
            .to_string()
    };
    if class(pv) != class(pvc) || class(pv).is_empty() {
        return false;
    }
    let modes = |v: &Value| -> BTreeSet<String> {
        kube::get(v, &["spec", "accessModes"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.as_str().map(str::to_string))
            .collect()
    };
    let cap = kube::get_str(pv, &["spec", "capacity", "storage"]).and_then(quantity_bytes);
    let req =
        kube::get_str(pvc, &["spec", "resources", "requests", "storage"]).and_then(quantity_bytes);
    modes(pvc).is_subset(&modes(pv)) && matches!((cap, req), (Some(c), Some(r)) if c >= r)
}

/// Parses a Kubernetes storage quantity (`5Gi`, `500M`, `1e3`) into bytes.
pub fn quantity_bytes(q: &str) -> Option<f64> {
    let suffixes: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("Pi", 1024f64.powi(5)),
        ("Ei", 1024f64.powi(6)),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
        ("m", 1e-3),
    ];
    for (s, mult) in suffixes {
        if let Some(n) = q.strip_suffix(s) {
            return n.parse::<f64>().ok().map(|n| n * mult);
        }
    }
    q.parse::<f64>().ok()
}

fn rbac_edges(b: &mut Builder, me: usize, cluster: Option<&str>, key: &ObjectKey, body: &Value) {
    if key.group != "rbac.authorization.k8s.io" || !key.kind.ends_with("Binding") {
        return;
    }
    let (Some(kind), Some(name)) = (
        kube::get_str(body, &["roleRef", "kind"]),
        kube::get_str(body, &["roleRef", "name"]),
    ) else {
        return;
    };
    let ns = (kind == "Role")
        .then_some(key.namespace.as_deref())
        .flatten();
    let role = Builder::key(kind, "rbac.authorization.k8s.io", ns, name);
    if let Some(n) = b.object(cluster, &role) {
        b.edge(
            n,
            me,
            format!("{} {} grants {kind} {name}", key.kind, key.name),
        );
    } else if kind == "Role" {
        let o = &b.model.objects[match b.nodes[me].what {
            NodeRef::Object(i) => i,
            _ => return,
        }];
        b.warn(
            "W-missing-ref",
            format!(
                "{} {} grants Role {name}, which is not in the repo",
                key.kind, key.name
            ),
            &o.origin,
            &o.field(&FieldPath::keys(&["roleRef", "name"])),
        );
    }
}

fn workload_edges(b: &mut Builder, i: usize, me: usize, spec: &Value, spec_path: &[&str]) {
    let model = b.model;
    let o = &model.objects[i];
    let cluster = o.cluster.as_deref();
    let ns = o.key.namespace.as_deref();
    let base = FieldPath::keys(spec_path);
    let refs = kube::pod_refs(spec);
    let sub = |p: &[String]| {
        let mut f = base.clone();
        for s in p {
            f = match s.parse::<usize>() {
                Ok(n) => f.index(n),
                Err(_) => f.key(s.as_str()),
            };
        }
        f
    };
    let mut named: Vec<(&str, &str, &str, Vec<String>, bool)> = Vec::new();
    for (n, p) in &refs.pvcs {
        named.push(("PersistentVolumeClaim", "", n, p.clone(), true));
    }
    for (n, p) in &refs.config_maps {
        named.push(("ConfigMap", "", n, p.clone(), true));
    }
    for (n, p) in &refs.secrets {
        named.push(("Secret", "", n, p.clone(), true));
    }
    for (kind, group, name, path, namespaced) in named {
        let key = Builder::key(kind, group, namespaced.then_some(ns).flatten(), name);
        match b.object(cluster, &key) {
            Some(n) => b.edge(n, me, format!("pods use {kind} {name}")),
            None => b.warn(
                "W-missing-ref",
                format!("pods use {kind} `{name}`, which is not in the repo; it must already exist in the cluster"),
                &o.origin,
                &o.field(&sub(&path)),
            ),
        }
    }
    if let Some(sa) = &refs.service_account {
        let key = Builder::key("ServiceAccount", "", ns, sa);
        match b.object(cluster, &key) {
            Some(n) => b.edge(n, me, format!("pods run as ServiceAccount {sa}")),
            None if sa != "default" => b.warn(
                "W-missing-ref",
                format!("pods run as ServiceAccount `{sa}`, which is not in the repo; it must already exist in the cluster"),
                &o.origin,
                &o.field(&base.key("serviceAccountName")),
            ),
            None => {}
        }
        // Bindings that grant this ServiceAccount its permissions.
        let granted_by = ns
            .and_then(|ns| b.grants.get(&(cluster, ns, sa.as_str())))
            .cloned()
            .unwrap_or_default();
        for bind in granted_by.iter().map(|&i| &model.objects[i]) {
            {
                let n = b.objects[&(cluster, &bind.key)];
                b.edge(
                    n,
                    me,
                    format!(
                        "pods run as ServiceAccount {sa}, which {} {} grants permissions",
                        bind.key.kind, bind.key.name
                    ),
                );
            }
        }
    }
    if let Some((pc, _)) = &refs.priority_class {
        let key = Builder::key("PriorityClass", "scheduling.k8s.io", None, pc);
        if let Some(n) = b.object(cluster, &key) {
            b.edge(n, me, format!("pods use PriorityClass {pc}"));
        }
    }
    scheduling_edges(b, i, me, spec, &base);
}

fn scheduling_edges(b: &mut Builder, i: usize, me: usize, spec: &Value, base: &FieldPath) {
    let model = b.model;
    let o = &model.objects[i];
    let Some(cluster) = o.cluster.as_deref().and_then(|c| model.cluster(c)) else {
        return;
    };
    let groups = cluster.config.node_groups();
    if groups.is_empty() {
        return;
    }
    let mut hosts = Vec::new();
    let mut why_not = Vec::new();
    for ng in &groups {
        match can_host(cluster.name(), ng, spec) {
            Ok(reason) => hosts.push((ng.name, reason)),
            Err(reason) => why_not.push(format!("{}: {reason}", ng.name)),
        }
    }
    if hosts.is_empty() {
        let at = if spec.get("nodeSelector").is_some() {
            base.key("nodeSelector")
        } else if spec.get("affinity").is_some() {
            base.key("affinity")
        } else {
            base.clone()
        };
        b.error(
            "E-schedule",
            format!(
                "no node group of cluster {} can host these pods ({})",
                cluster.name(),
                why_not.join("; ")
            ),
            &o.origin,
            &o.field(&at),
        );
        return;
    }
    for (ng, reason) in hosts {
        let stack = b.ng_stack[&(cluster.name(), ng)];
        b.edge(stack, me, reason.clone());
        // An inline policy on this node group's role is what these pods act with.
        for (pi, p) in model.role_policies.iter().enumerate() {
            let on_this_group = p.refs.iter().any(|r| {
                r.path.0.last() == Some(&super::path::Seg::Key("roleName".into()))
                    && matches!(&r.value, ValueRef::Resource { stack: StackRef::NodeGroup(n), .. } | ValueRef::Output { stack: StackRef::NodeGroup(n), .. } if n == ng)
            });
            if on_this_group && policy_cluster(model, p.cluster.as_deref()) == Some(cluster.name())
            {
                let pn = b.policies[p.name.as_str()];
                b.edge(
                    pn,
                    me,
                    format!("pods on node group {ng} act with its instance role, which gets inline policy {}", p.name),
                );
            }
            let _ = pi;
        }
    }
}

/// `eksync.io/depends-on: "Kind/name, Kind.group/namespace/name, IAMRolePolicy/name, Stack/name"`.
fn depends_on(b: &mut Builder, i: usize, me: usize) {
    let model = b.model;
    let o = &model.objects[i];
    let Some(raw) = kube::get_str(&o.body, &["metadata", "annotations", DEPENDS_ON_ANNOTATION])
    else {
        return;
    };
    let path = o.field(&FieldPath::keys(&["metadata", "annotations"]).key(DEPENDS_ON_ANNOTATION));
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let parts: Vec<&str> = item.split('/').collect();
        let target = match parts.as_slice() {
            ["IAMRolePolicy", name] => b.policies.get(name).copied(),
            ["Stack", name] => b
                .nodes
                .iter()
                .position(|n| n.kind == "Stack" && n.name == *name),
            [kind_group, rest @ ..] if !rest.is_empty() && rest.len() <= 2 => {
                let (kind, group) = kind_group.split_once('.').unwrap_or((kind_group, ""));
                let (ns, name) = match rest {
                    [name] => (None, *name),
                    [ns, name] => (Some(*ns), *name),
                    _ => (None, ""),
                };
                let namespaced = ns.is_some()
                    || kube::builtin(group, kind).map(|k| k.scope) == Some(kube::Scope::Namespaced);
                let ns = if namespaced {
                    ns.or(o.key.namespace.as_deref())
                } else {
                    None
                };
                b.object(o.cluster.as_deref(), &Builder::key(kind, group, ns, name))
            }
            _ => {
                b.error(
                    "E-depends-on",
                    format!("cannot read `{item}` in {DEPENDS_ON_ANNOTATION}; write Kind[.group]/[namespace/]name, IAMRolePolicy/name or Stack/name"),
                    &o.origin,
                    &path,
                );
                continue;
            }
        };
        match target {
            // `edge` drops self-loops, so this mistake would otherwise pass unseen.
            Some(t) if t == me => b.error(
                "E-depends-on",
                format!("{DEPENDS_ON_ANNOTATION} names `{item}`, which is the object itself"),
                &o.origin,
                &path,
            ),
            Some(t) => b.edge(t, me, format!("{DEPENDS_ON_ANNOTATION} names {item}")),
            None => b.error(
                "E-depends-on",
                format!("{DEPENDS_ON_ANNOTATION} names `{item}`, which is not in the repo"),
                &o.origin,
                &path,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::SourceLocator;
    use crate::load::{self, Source, SourceFile};

    fn build_from(path: &str, text: &str) -> (Graph, Vec<Diagnostic>) {
        let src = Source {
            files: vec![SourceFile {
                path: path.into(),
                bytes: text.as_bytes().to_vec(),
            }],
            skipped: Vec::new(),
        };
        let loaded = load::load(&src);
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        build(&loaded.model, &SourceLocator::new(&src))
    }

    #[test]
    fn a_policy_naming_an_unknown_cluster_is_one_error() {
        let (_, diags) = build_from(
            "p.yaml",
            "apiVersion: eksync.io/v1alpha1\nkind: IAMRolePolicy\nmetadata:\n  name: p\nspec:\n  cluster: nope\n  roleName: \"{{aws:nodegroup/ng/resource/NodeInstanceRole}}\"\n  policyDocument:\n    Version: \"2012-10-17\"\n    Statement:\n      - Effect: Allow\n        Action: \"s3:GetObject\"\n        Resource: \"*\"\n",
        );
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0].code, "E-ref");
        assert!(diags[0].message.contains("names cluster `nope`"));
        let at = diags[0].location.as_ref().map(|l| (l.line, l.column));
        assert_eq!(at, Some((Some(6), Some(3))));
    }

    #[test]
    fn diagnostics_on_list_items_point_into_the_item() {
        let (_, diags) = build_from(
            "list.yaml",
            "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: a\n      namespace: default\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: b\n      namespace: default\n      annotations:\n        eksync.io/depends-on: ConfigMap/nope\n",
        );
        assert_eq!(diags.len(), 1, "{diags:#?}");
        let loc = diags[0]
            .location
            .clone()
            .unwrap_or_else(|| Location::file(""));
        assert_eq!((loc.line, loc.column), (Some(15), Some(9)));
        assert_eq!(
            loc.field.as_deref(),
            Some("items[1].metadata.annotations[\"eksync.io/depends-on\"]")
        );
    }

    #[test]
    fn replicas_an_hpa_owns_are_a_warning_at_the_field() {
        let deploy = |replicas: &str| {
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n{replicas}  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers: [{{name: c, image: web:1}}]\n")
        };
        let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web-hpa\n  namespace: default\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  minReplicas: 2\n  maxReplicas: 5\n";
        // (manifest, HPA present, warning expected)
        for (replicas, with_hpa, warned) in [
            ("  replicas: 3\n", true, true),
            ("", true, false),
            ("  replicas: 3\n", false, false),
        ] {
            let mut text = deploy(replicas);
            if with_hpa {
                text = format!("{text}---\n{hpa}");
            }
            let (_, diags) = build_from("web.yaml", &text);
            let hits: Vec<_> = diags
                .iter()
                .filter(|d| d.code == "W-hpa-replicas")
                .collect();
            assert_eq!(
                hits.len(),
                usize::from(warned),
                "{replicas:?} {with_hpa}: {diags:#?}"
            );
            if let Some(d) = hits.first() {
                assert!(!d.is_error());
                assert_eq!(
                    d.message,
                    "spec.replicas (3) is not applied: HorizontalPodAutoscaler default/web-hpa owns this Deployment's replicas; remove the field to say so in Git"
                );
                let loc = d.location.clone().unwrap_or_else(|| Location::file(""));
                assert_eq!(loc.file, "web.yaml");
                assert_eq!(
                    (loc.line, loc.field.as_deref()),
                    (Some(7), Some("spec.replicas"))
                );
            }
        }
    }

    #[test]
    fn depends_on_naming_the_object_itself_is_an_error() {
        let (g, diags) = build_from(
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\n  namespace: default\n  annotations:\n    eksync.io/depends-on: ConfigMap/first\n",
        );
        assert!(g.edges.is_empty());
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert_eq!(diags[0].code, "E-depends-on");
        assert!(diags[0].message.contains("the object itself"));
        let at = diags[0].location.as_ref().map(|l| (l.line, l.column));
        assert_eq!(at, Some((Some(7), Some(5))));
    }

    #[test]
    fn access_entry_stacks_wait_for_the_cluster_stack_with_a_reason() {
        let text = "apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: c1, region: us-west-2}
vpc:
  id: vpc-0123456789abcdef0
  subnets:
    private:
      us-west-2a: {id: subnet-0aaaaaaaaaaaaaaa1}
accessConfig:
  accessEntries:
    - principalARN: arn:aws:iam::111122223333:role/admin
      accessPolicies:
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
          accessScope: {type: cluster}
    - principalARN: arn:aws:iam::111122223333:user/dev
      kubernetesGroups: [dev]
";
        let src = Source {
            files: vec![SourceFile {
                path: "cluster.yaml".into(),
                bytes: text.as_bytes().to_vec(),
            }],
            skipped: Vec::new(),
        };
        let a = crate::analysis::analyze(&src);
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        let cluster_stack = a
            .graph
            .nodes
            .iter()
            .position(|n| n.name == "eksctl-c1-cluster")
            .expect("the cluster stack");
        for principal in [
            "arn:aws:iam::111122223333:role/admin",
            "arn:aws:iam::111122223333:user/dev",
        ] {
            let name = eksctl::accessentry_stack_name("c1", principal);
            let i = a
                .graph
                .nodes
                .iter()
                .position(|n| n.name == name)
                .unwrap_or_else(|| panic!("no node for {name}"));
            assert!(matches!(
                &a.graph.nodes[i].what,
                NodeRef::AccessEntryStack { principal_arn, .. } if principal_arn == principal
            ));
            // The node is the rendered stack of that name.
            assert!(a.stacks[0].iter().any(|s| s.name == name));
            let edge = a
                .graph
                .edges
                .iter()
                .find(|e| e.from == cluster_stack && e.to == i)
                .expect("an edge from the cluster stack");
            assert!(
                edge.reason.contains(principal) && edge.reason.contains("access entr"),
                "{}",
                edge.reason
            );
            assert!(a.order.wave_of[cluster_stack] < a.order.wave_of[i]);
        }
    }
}

#[cfg(test)]
mod fargate_tests {
    use crate::analysis::analyze;
    use crate::load::{Source, SourceFile};

    fn source(files: &[(&str, &str)]) -> Source {
        Source {
            files: files
                .iter()
                .map(|(p, t)| SourceFile {
                    path: p.to_string(),
                    bytes: t.as_bytes().to_vec(),
                })
                .collect(),
            ..Source::default()
        }
    }

    fn workload(name: &str, ns: &str, kind: &str, labels: &str) -> String {
        format!("apiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}{labels}}}}}\n    spec:\n      containers: [{{name: c, image: nginx}}]\n")
    }

    /// Example 16's profiles: after the cluster stack, one at a time, before the workloads they
    /// select (by namespace and labels; never a DaemonSet).
    #[test]
    fn fargate_profiles_are_nodes_with_edges_and_reasons() {
        // eksctl's examples/16-fargate-profile.yaml.
        let cluster = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: cluster-16, region: ap-northeast-1}\nnodeGroups:\n  - {name: ng-1, instanceType: m5.large, desiredCapacity: 1}\nfargateProfiles:\n  - name: fp-default\n    selectors: [{namespace: default}, {namespace: kube-system}]\n  - name: fp-dev\n    selectors: [{namespace: dev, labels: {env: dev, checks: passed}}]\n    tags: {env: dev, name: fp-dev}\n";
        let docs = [
            workload("web", "default", "Deployment", ""),
            workload("dev-ok", "dev", "Deployment", ", env: dev, checks: passed"),
            workload("dev-no", "dev", "Deployment", ", env: dev"),
            workload("agent", "default", "DaemonSet", ""),
        ]
        .join("---\n");
        let a = analyze(&source(&[
            ("cluster/cluster.yaml", cluster),
            ("k8s/apps.yaml", &docs),
        ]));
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        let node = |name: &str| {
            a.graph
                .nodes
                .iter()
                .position(|n| n.name == name)
                .unwrap_or_else(|| panic!("no node {name}"))
        };
        let reason = |from: &str, to: &str| {
            a.graph
                .edges
                .iter()
                .find(|e| e.from == node(from) && e.to == node(to))
                .map(|e| e.reason.clone())
        };
        let fp = &a.graph.nodes[node("fp-dev")];
        assert_eq!(fp.id, "aws/cluster-16/fargate-profile/fp-dev");
        assert_eq!(fp.kind, "FargateProfile");
        assert!(reason("eksctl-cluster-16-cluster", "fp-default")
            .is_some_and(|r| r.contains("pod execution role and private subnets")));
        assert!(reason("fp-default", "fp-dev").is_some_and(|r| r.contains("one Fargate profile")));
        assert!(reason("fp-default", "web").is_some_and(|r| r.contains("namespace default")));
        assert!(reason("fp-dev", "dev-ok").is_some());
        assert_eq!(reason("fp-dev", "dev-no"), None, "a label is missing");
        assert_eq!(
            reason("fp-default", "agent"),
            None,
            "DaemonSets do not run on Fargate"
        );
    }

    /// Add-ons: after the cluster stack; those whose pods must run before EKS reports them
    /// ACTIVE (coredns) also after every node group.
    #[test]
    fn addons_wait_for_the_cluster_and_node_groups_when_their_pods_need_nodes() {
        let cluster = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: c, region: us-west-2}\nmanagedNodeGroups:\n  - {name: mng1}\naddons:\n  - {name: vpc-cni}\n  - {name: coredns, version: latest}\n";
        let a = analyze(&source(&[("cluster/cluster.yaml", cluster)]));
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        let node = |name: &str| a.graph.nodes.iter().position(|n| n.name == name);
        let edge = |from: &str, to: &str| {
            a.graph
                .edges
                .iter()
                .find(|e| Some(e.from) == node(from) && Some(e.to) == node(to))
                .map(|e| e.reason.clone())
        };
        assert_eq!(
            a.graph.nodes[node("coredns").unwrap_or_default()].id,
            "aws/c/addon/coredns"
        );
        assert!(edge("eksctl-c-cluster", "vpc-cni").is_some());
        assert_eq!(edge("eksctl-c-nodegroup-mng1", "vpc-cni"), None);
        assert!(edge("eksctl-c-nodegroup-mng1", "coredns")
            .is_some_and(|r| r.contains("only once nodes (node group mng1)")));
    }
}
