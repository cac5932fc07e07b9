//! Risk flags of a preview, each typed with what makes it risky: CloudFormation replacement (from
//! `awsdiff::replacement`'s table, and changes that roll a node group's instances), deletions,
//! deletions that lose data (PersistentVolumeClaim, PersistentVolume, Namespace), IAM broadening
//! (new or wildcard actions and resources, `NotAction`/`NotResource`, removed denies, trust policy
//! and managed policy changes; on normalized documents), RBAC escalation (`cluster-admin`
//! bindings, `*` verbs or resources, `escalate`/`bind`/`impersonate`, bindings to every
//! authenticated user or service account), Secret changes (keys only), node group maximum lowered
//! or scaled to zero, and Spot/on-demand switches.
//!
//! It judges desired against desired: it cannot know a group's live desired size, so a lowered
//! maximum is flagged as such (it may or may not be below what runs). Newly created stacks are not
//! searched for IAM grants (every node group stack creates a role); a new `IAMRolePolicy` is.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::items::{Pair, SecretKeys};
use super::{Action, ResourceChange};
use crate::analysis::Analysis;
use crate::awsdiff::{diff_template, forces_replacement, normalize_json};
use crate::eksctl::{self, ClusterConfig, NodeGroupView};
use crate::graph::{self, System};

/// The kinds of risk, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskKind {
    Replacement,
    DataLoss,
    Deletion,
    IamBroadening,
    RbacEscalation,
    SecretChange,
    NodeGroupScaleDown,
    CapacitySwitch,
}

impl RiskKind {
    pub const ALL: [RiskKind; 8] = [
        RiskKind::Replacement,
        RiskKind::DataLoss,
        RiskKind::Deletion,
        RiskKind::IamBroadening,
        RiskKind::RbacEscalation,
        RiskKind::SecretChange,
        RiskKind::NodeGroupScaleDown,
        RiskKind::CapacitySwitch,
    ];
}

/// What a replacement replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Replaces {
    /// CloudFormation replaces the resource (eksync's table of properties).
    Resource,
    /// The node group's instances are replaced (new launch template version, rolling update).
    Nodes,
}

/// One template change that causes a replacement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplacementCause {
    pub logical_id: String,
    pub resource_type: String,
    /// Dotted path inside the resource's properties (`LaunchTemplateData.InstanceType`).
    pub property: String,
    pub base: Option<Value>,
    pub head: Option<Value>,
    pub replaces: Replaces,
}

/// Newly granted actions on a wildcard resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WildcardGrant {
    pub resource: String,
    pub actions: Vec<String>,
}

/// How an IAM document (or a role's set of them) grants more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IamBroadening {
    /// The resource inside a stack template, when the policy is not an `IAMRolePolicy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logical_id: Option<String>,
    /// Allowed actions the base did not allow at all (compared case-insensitively, as IAM does;
    /// spelled as the head writes them).
    pub new_actions: Vec<String>,
    /// Newly allowed actions that contain `*`.
    pub wildcard_actions: Vec<String>,
    /// Actions newly allowed on a resource that contains `*`.
    pub wildcard_resources: Vec<WildcardGrant>,
    /// Statements using `NotAction` or `NotResource` that the base did not have.
    pub not_statements_added: usize,
    /// `Deny` statements of the base that the head dropped.
    pub denies_removed: usize,
    /// Trust policy principals (`AWS:arn`, `Service:ec2.amazonaws.com`) added and removed.
    pub trust_added: Vec<String>,
    pub trust_removed: Vec<String>,
    /// The trust policy changed in another way (conditions, actions).
    pub trust_changed: bool,
    /// Managed policy ARNs newly attached.
    pub managed_policies_added: Vec<String>,
}

impl IamBroadening {
    fn is_empty(&self) -> bool {
        self.new_actions.is_empty()
            && self.wildcard_actions.is_empty()
            && self.wildcard_resources.is_empty()
            && self.not_statements_added == 0
            && self.denies_removed == 0
            && self.trust_added.is_empty()
            && self.trust_removed.is_empty()
            && !self.trust_changed
            && self.managed_policies_added.is_empty()
    }
}

/// A rule that grants escalation-prone permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalatingRule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    /// What in it is dangerous: `*` verbs, `*` resources, `escalate`, `bind`, `impersonate`.
    pub because: Vec<String>,
}

/// How a role or binding escalates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RbacEscalation {
    /// The binding now grants `cluster-admin` to these subjects (`ServiceAccount ns/name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_admin_to: Option<Vec<String>>,
    /// Subjects that stand for everyone of a kind (`Group system:authenticated`), newly bound.
    pub broad_subjects: Vec<String>,
    /// New rules with escalation-prone permissions.
    pub rules: Vec<EscalatingRule>,
}

/// What a flag is about, with the facts that make it risky.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "risk")]
pub enum Risk {
    Replacement {
        causes: Vec<ReplacementCause>,
    },
    /// Removed from the repo: `apply --prune` deletes a Kubernetes object; eksync does not delete
    /// stacks or inline policies (they are left behind, unmanaged).
    Deletion {
        system: System,
    },
    /// A deletion that loses data: a PersistentVolumeClaim or PersistentVolume (its volume), a
    /// Namespace (everything in it).
    DataLoss {
        kind: String,
    },
    IamBroadening(IamBroadening),
    RbacEscalation(RbacEscalation),
    SecretChange {
        action: Action,
        #[serde(flatten)]
        keys: SecretKeys,
    },
    NodeGroupScaleDown {
        nodegroup: String,
        max_base: i64,
        max_head: i64,
        min_head: i64,
        /// The maximum is now 0: every node of the group goes.
        to_zero: bool,
    },
    CapacitySwitch {
        nodegroup: String,
        spot_base: bool,
        spot_head: bool,
        /// `onDemandBaseCapacity` and `onDemandPercentageAboveBaseCapacity` (base, head), for
        /// unmanaged groups with an `instancesDistribution`.
        on_demand_base: (Option<i64>, Option<i64>),
        on_demand_percentage: (Option<i64>, Option<i64>),
    },
}

/// A risk on one resource of the graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    /// Graph node id.
    pub resource: String,
    pub label: String,
    #[serde(flatten)]
    pub risk: Risk,
}

impl Flag {
    pub fn kind(&self) -> RiskKind {
        match self.risk {
            Risk::Replacement { .. } => RiskKind::Replacement,
            Risk::Deletion { .. } => RiskKind::Deletion,
            Risk::DataLoss { .. } => RiskKind::DataLoss,
            Risk::IamBroadening(_) => RiskKind::IamBroadening,
            Risk::RbacEscalation(_) => RiskKind::RbacEscalation,
            Risk::SecretChange { .. } => RiskKind::SecretChange,
            Risk::NodeGroupScaleDown { .. } => RiskKind::NodeGroupScaleDown,
            Risk::CapacitySwitch { .. } => RiskKind::CapacitySwitch,
        }
    }
}

pub(super) struct Inputs<'a> {
    pub base: &'a Analysis,
    pub head: &'a Analysis,
    /// The base and head documents of each changed resource, by id.
    pub changed: &'a BTreeMap<String, Pair>,
    pub resources: &'a [ResourceChange],
    pub secrets: &'a BTreeMap<String, SecretKeys>,
}

/// Every flag, ordered by kind then resource id.
pub(super) fn assess(i: &Inputs) -> Vec<Flag> {
    let mut out = Vec::new();
    for r in i.resources {
        let flag = |risk| Flag {
            resource: r.id.clone(),
            label: r.label.clone(),
            risk,
        };
        let (b, h) = match i.changed.get(&r.id) {
            Some((b, h)) => (b.as_ref(), h.as_ref()),
            None => (None, None),
        };
        if r.action == Action::Delete {
            out.push(flag(Risk::Deletion { system: r.system }));
            if let Some(b) = b {
                if b.group.is_empty()
                    && matches!(
                        b.kind.as_str(),
                        "PersistentVolumeClaim" | "PersistentVolume" | "Namespace"
                    )
                {
                    out.push(flag(Risk::DataLoss {
                        kind: b.kind.clone(),
                    }));
                }
            }
        }
        if let Some(keys) = i.secrets.get(&r.id) {
            out.push(flag(Risk::SecretChange {
                action: r.action,
                keys: keys.clone(),
            }));
        }
        let Some(h) = h else { continue };
        match (r.kind.as_str(), b) {
            ("Stack", Some(b)) => {
                let (bt, ht) = (&b.value["Template"], &h.value["Template"]);
                let causes = replacement_causes(bt, ht);
                if !causes.is_empty() {
                    out.push(flag(Risk::Replacement { causes }));
                }
                out.extend(template_iam(bt, ht).into_iter().map(flag));
            }
            ("IAMRolePolicy", b) => {
                let empty = Value::Null;
                let base_doc = b.map_or(&empty, |b| &b.value["policyDocument"]);
                let br = iam_broadening(&[base_doc], &[&h.value["policyDocument"]]);
                if !br.is_empty() {
                    out.push(flag(Risk::IamBroadening(br)));
                }
            }
            _ if h.group == "rbac.authorization.k8s.io" => {
                let e = rbac_escalation(b.map(|b| &b.value), &h.value, &h.kind);
                if e != RbacEscalation::default() {
                    out.push(flag(Risk::RbacEscalation(e)));
                }
            }
            _ => {}
        }
    }
    out.extend(nodegroup_flags(i.base, i.head));
    out.sort_by(|a, b| (a.kind(), &a.resource).cmp(&(b.kind(), &b.resource)));
    out
}

/// A JSON pointer's tokens after `/Resources/<id>/Properties/` as a dotted path.
fn property_path(pointer: &str) -> String {
    let mut out = String::new();
    for t in pointer.split('/').skip(4) {
        let t = t.replace("~1", "/").replace("~0", "~");
        if t.parse::<usize>().is_ok() {
            out.push_str(&format!("[{t}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&t);
        }
    }
    out
}

/// Properties of an Auto Scaling group whose change replaces its instances under an
/// `AutoScalingRollingUpdate` policy (CloudFormation's UpdatePolicy documentation).
const ROLLING_ASG_PROPERTIES: &[&str] = &[
    "LaunchConfigurationName",
    "LaunchTemplate",
    "MixedInstancesPolicy",
    "VPCZoneIdentifier",
    "PlacementGroup",
];

/// Properties of an EKS managed node group whose change rolls its nodes.
const ROLLING_NODEGROUP_PROPERTIES: &[&str] = &["LaunchTemplate", "ReleaseVersion", "Version"];

/// Whether a template runs instances that a new launch template version replaces: an Auto Scaling
/// group with a rolling update policy, or an EKS managed node group.
fn runs_rolling_nodes(template: &Value) -> bool {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .is_some_and(|rs| {
            rs.values()
                .any(|r| match r.get("Type").and_then(Value::as_str) {
                    Some("AWS::AutoScaling::AutoScalingGroup") => r
                        .pointer("/UpdatePolicy/AutoScalingRollingUpdate")
                        .is_some(),
                    Some("AWS::EKS::Nodegroup") => true,
                    _ => false,
                })
        })
}

/// The changes between two templates that replace a resource or a node group's instances.
pub(super) fn replacement_causes(base: &Value, head: &Value) -> Vec<ReplacementCause> {
    let d = diff_template(base, head);
    let mut out = Vec::new();
    for c in &d.changes {
        let (Some(id), Some(prop)) = (&c.resource, &c.property) else {
            continue;
        };
        let ty = [head, base]
            .iter()
            .find_map(|t| {
                t.get("Resources")
                    .and_then(|r| r.get(id))
                    .and_then(|r| r.get("Type"))
                    .and_then(Value::as_str)
            })
            .unwrap_or_default();
        let rolling = |t: &Value| -> bool {
            match ty {
                "AWS::EC2::LaunchTemplate" => prop == "LaunchTemplateData" && runs_rolling_nodes(t),
                "AWS::AutoScaling::AutoScalingGroup" => {
                    ROLLING_ASG_PROPERTIES.contains(&prop.as_str())
                        && t.get("Resources")
                            .and_then(|r| r.get(id))
                            .and_then(|r| r.pointer("/UpdatePolicy/AutoScalingRollingUpdate"))
                            .is_some()
                }
                "AWS::EKS::Nodegroup" => ROLLING_NODEGROUP_PROPERTIES.contains(&prop.as_str()),
                _ => false,
            }
        };
        let replaces = if forces_replacement(ty, prop) {
            Replaces::Resource
        } else if rolling(head) {
            Replaces::Nodes
        } else {
            continue;
        };
        out.push(ReplacementCause {
            logical_id: id.clone(),
            resource_type: ty.to_string(),
            property: property_path(&c.path),
            base: c.deployed.clone(),
            head: c.desired.clone(),
            replaces,
        });
    }
    out
}

/// A value that IAM allows as a string or a list of strings, as strings.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
            .collect(),
        Some(other) => vec![other.to_string()],
        None => Vec::new(),
    }
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => Vec::new(),
    }
}

/// What documents allow: (action, resource) pairs, `Not*` statements and denies.
#[derive(Default)]
struct Grants {
    /// (lowercased action, resource).
    pairs: BTreeSet<(String, String)>,
    /// Lowercased action -> its spelling in the document.
    actions: BTreeMap<String, String>,
    not_statements: BTreeSet<String>,
    denies: BTreeSet<String>,
}

fn grants(docs: &[&Value]) -> Grants {
    let mut g = Grants::default();
    for doc in docs {
        for s in statements(doc) {
            let effect = s.get("Effect").and_then(Value::as_str).unwrap_or("Allow");
            if effect == "Deny" {
                g.denies.insert(normalize_json(s).to_string());
                continue;
            }
            if s.get("NotAction").is_some() || s.get("NotResource").is_some() {
                g.not_statements.insert(normalize_json(s).to_string());
            }
            let actions = strings(s.get("Action"));
            let mut resources = strings(s.get("Resource"));
            if resources.is_empty() {
                resources.push(String::new());
            }
            for original in actions {
                let a = original.to_ascii_lowercase();
                g.actions.entry(a.clone()).or_insert(original);
                for r in &resources {
                    g.pairs.insert((a.clone(), r.clone()));
                }
            }
        }
    }
    g
}

/// How `head` documents grant more than `base` ones (together: a role's several policies).
pub(super) fn iam_broadening(base: &[&Value], head: &[&Value]) -> IamBroadening {
    let (b, h) = (grants(base), grants(head));
    let mut out = IamBroadening::default();
    let new_pairs: Vec<&(String, String)> = h.pairs.difference(&b.pairs).collect();
    let spelled = |a: &str| h.actions.get(a).cloned().unwrap_or_else(|| a.to_string());
    out.new_actions = h
        .actions
        .iter()
        .filter(|(a, _)| !b.actions.contains_key(*a))
        .map(|(_, original)| original.clone())
        .collect();
    out.wildcard_actions = out
        .new_actions
        .iter()
        .filter(|a| a.contains('*'))
        .cloned()
        .collect();
    let mut wild: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (a, r) in &new_pairs {
        if r.contains('*') {
            wild.entry(r.as_str()).or_default().insert(a.as_str());
        }
    }
    out.wildcard_resources = wild
        .into_iter()
        .map(|(r, a)| WildcardGrant {
            resource: r.to_string(),
            actions: a.into_iter().map(spelled).collect(),
        })
        .collect();
    out.not_statements_added = h.not_statements.difference(&b.not_statements).count();
    out.denies_removed = b.denies.difference(&h.denies).count();
    out
}

/// Trust policy principals as `Type:value` strings.
fn principals(doc: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for s in statements(doc) {
        match s.get("Principal") {
            Some(Value::String(p)) => {
                out.insert(p.clone());
            }
            Some(Value::Object(m)) => {
                for (t, v) in m {
                    for p in strings(Some(v)) {
                        out.insert(format!("{t}:{p}"));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// IAM broadening inside a changed stack's template: per role or policy resource.
fn template_iam(base: &Value, head: &Value) -> Vec<Risk> {
    let resources = |t: &Value| {
        t.get("Resources")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (br, hr) = (resources(base), resources(head));
    let mut out = Vec::new();
    for (id, h) in &hr {
        let Some(b) = br.get(id) else { continue };
        let ty = h.get("Type").and_then(Value::as_str).unwrap_or_default();
        let docs = |r: &Value| -> Vec<Value> {
            match ty {
                "AWS::IAM::Role" => r
                    .pointer("/Properties/Policies")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get("PolicyDocument").cloned())
                    .collect(),
                "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => r
                    .pointer("/Properties/PolicyDocument")
                    .cloned()
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            }
        };
        if !matches!(
            ty,
            "AWS::IAM::Role" | "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy"
        ) {
            continue;
        }
        let (bd, hd) = (docs(b), docs(h));
        let mut w = iam_broadening(
            &bd.iter().collect::<Vec<_>>(),
            &hd.iter().collect::<Vec<_>>(),
        );
        w.logical_id = Some(id.clone());
        if ty == "AWS::IAM::Role" {
            let trust = |r: &Value| {
                r.pointer("/Properties/AssumeRolePolicyDocument")
                    .map(normalize_json)
                    .unwrap_or(Value::Null)
            };
            let (bt, ht) = (trust(b), trust(h));
            if bt != ht {
                let (bp, hp) = (principals(&bt), principals(&ht));
                w.trust_added = hp.difference(&bp).cloned().collect();
                w.trust_removed = bp.difference(&hp).cloned().collect();
                w.trust_changed = w.trust_added.is_empty() && w.trust_removed.is_empty();
            }
            let arns = |r: &Value| -> BTreeSet<String> {
                strings(r.pointer("/Properties/ManagedPolicyArns"))
                    .into_iter()
                    .collect()
            };
            w.managed_policies_added = arns(h).difference(&arns(b)).cloned().collect();
        }
        if !w.is_empty() {
            out.push(Risk::IamBroadening(w));
        }
    }
    out
}

/// [`template_iam`]'s findings, for tests.
#[cfg(test)]
pub(super) fn template_iam_for_tests(base: &Value, head: &Value) -> Vec<IamBroadening> {
    template_iam(base, head)
        .into_iter()
        .filter_map(|r| match r {
            Risk::IamBroadening(b) => Some(b),
            _ => None,
        })
        .collect()
}

const ESCALATING_VERBS: &[&str] = &["escalate", "bind", "impersonate"];
const BROAD_GROUPS: &[&str] = &[
    "system:authenticated",
    "system:unauthenticated",
    "system:serviceaccounts",
];

fn subjects(body: &Value) -> Vec<String> {
    body.get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            let kind = s.get("kind").and_then(Value::as_str).unwrap_or("?");
            let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
            match s.get("namespace").and_then(Value::as_str) {
                Some(ns) => format!("{kind} {ns}/{name}"),
                None => format!("{kind} {name}"),
            }
        })
        .collect()
}

/// How a Role, ClusterRole or binding escalates compared with its base (`None`: new).
pub(super) fn rbac_escalation(base: Option<&Value>, head: &Value, kind: &str) -> RbacEscalation {
    let mut out = RbacEscalation::default();
    if kind.ends_with("Binding") {
        let role = |b: &Value| {
            (
                b.pointer("/roleRef/kind")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                b.pointer("/roleRef/name")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )
        };
        let hs = subjects(head);
        let bs = base.map(subjects).unwrap_or_default();
        let (hk, hn) = role(head);
        let admin = hk.as_deref() == Some("ClusterRole") && hn.as_deref() == Some("cluster-admin");
        if admin && (base.map(role) != Some((hk.clone(), hn.clone())) || hs != bs) {
            out.cluster_admin_to = Some(hs.clone());
        }
        out.broad_subjects = hs
            .iter()
            .filter(|s| {
                s.strip_prefix("Group ")
                    .is_some_and(|g| BROAD_GROUPS.contains(&g))
                    && !bs.contains(s)
            })
            .cloned()
            .collect();
        return out;
    }
    let rules = |b: &Value| -> Vec<Value> {
        b.get("rules")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let base_rules: BTreeSet<String> = base
        .map(rules)
        .unwrap_or_default()
        .iter()
        .map(|r| normalize_json(r).to_string())
        .collect();
    for r in rules(head) {
        if base_rules.contains(&normalize_json(&r).to_string()) {
            continue;
        }
        let verbs = strings(r.get("verbs"));
        let resources = strings(r.get("resources"));
        let mut because = Vec::new();
        if verbs.iter().any(|v| v == "*") {
            because.push("verbs *".to_string());
        }
        if resources.iter().any(|v| v == "*") {
            because.push("resources *".to_string());
        }
        for v in ESCALATING_VERBS {
            if verbs.iter().any(|x| x == v) {
                because.push((*v).to_string());
            }
        }
        if !because.is_empty() {
            out.rules.push(EscalatingRule {
                api_groups: strings(r.get("apiGroups")),
                resources,
                verbs,
                because,
            });
        }
    }
    out
}

fn nodegroups(c: &ClusterConfig) -> BTreeMap<&str, NodeGroupView<'_>> {
    c.node_groups().into_iter().map(|n| (n.name, n)).collect()
}

fn distribution(c: &ClusterConfig, ng: &str) -> (Option<i64>, Option<i64>) {
    c.node_groups
        .iter()
        .find(|n| n.name == ng)
        .and_then(|n| n.instances_distribution.as_ref())
        .map_or((None, None), |d| {
            (
                d.on_demand_base_capacity,
                d.on_demand_percentage_above_base_capacity,
            )
        })
}

/// Node group bounds and capacity type, per node group on both sides.
fn nodegroup_flags(base: &Analysis, head: &Analysis) -> Vec<Flag> {
    let mut out = Vec::new();
    for hc in &head.model.clusters {
        let Some(bc) = base.model.cluster(hc.name()) else {
            continue;
        };
        let (bg, hg) = (nodegroups(&bc.config), nodegroups(&hc.config));
        for (name, h) in &hg {
            let Some(b) = bg.get(name) else { continue };
            let stack = eksctl::nodegroup_stack_name(hc.name(), name);
            let id = graph::stack_id(hc.name(), &stack);
            let label = head
                .graph
                .nodes
                .iter()
                .find(|n| n.id == id)
                .map_or_else(|| format!("Stack {stack}"), |n| n.label());
            let flag = |risk| Flag {
                resource: id.clone(),
                label: label.clone(),
                risk,
            };
            if h.sizes.max < b.sizes.max {
                out.push(flag(Risk::NodeGroupScaleDown {
                    nodegroup: name.to_string(),
                    max_base: b.sizes.max,
                    max_head: h.sizes.max,
                    min_head: h.sizes.min,
                    to_zero: h.sizes.max == 0,
                }));
            }
            let (bd, hd) = (
                distribution(&bc.config, name),
                distribution(&hc.config, name),
            );
            if h.spot != b.spot || (h.spot && bd != hd) {
                out.push(flag(Risk::CapacitySwitch {
                    nodegroup: name.to_string(),
                    spot_base: b.spot,
                    spot_head: h.spot,
                    on_demand_base: (bd.0, hd.0),
                    on_demand_percentage: (bd.1, hd.1),
                }));
            }
        }
    }
    out
}
