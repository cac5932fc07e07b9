//! The least privilege a repo needs: from an analysis, the Kubernetes RBAC rules and the AWS IAM
//! policy that eksync's reconcile of that repo uses, each rule with the repo objects that need
//! it. It mirrors what the adapters call (listed per rule); it does not talk to a cluster or to
//! AWS, and it grants nothing for objects that are no longer in the repo (see
//! [`Options::extra_kinds`]).
//!
//! Kubernetes: eksync LISTs each kind it manages across namespaces (one request per kind, by its
//! labels), so `list` is cluster-wide; every write (`create`/`patch` for server-side apply and its
//! dry runs, `delete` for prune and recreate), `get` and `watch` (health waits) is granted per
//! namespace in a Role where the objects are namespaced. `bind` and `escalate` appear only for
//! the RBAC objects the repo holds, by `resourceNames`.
//!
//! AWS: the CloudFormation, IAM, Auto Scaling and EKS actions the AWS adapter calls for the
//! repo's stacks, policies, Fargate profiles, add-ons and Pod Identity associations (and
//! `iam:PassRole` for the roles EKS is given), with `Resource` scoped to the stacks, roles,
//! groups, cluster, profiles, add-ons and associations.
//! CloudFormation creates the stacks' resources with a service role ([`Options::cfn_role`]), so
//! the agent itself holds only `iam:PassRole` for that role, not the rights to create VPCs or
//! instances.

mod render;

pub use render::{iam_policy, kube_objects, to_json, to_yaml, Part};

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{json, Value};

use crate::analysis::Analysis;
use crate::eksctl;
use crate::kdiff;
use crate::kube;
use crate::model::RolePolicy;
use crate::refs::{self, Piece, StackRef, ValueRef};

/// Who the rules are for and what eksync's own objects are called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The source name: it names the inventory and the generated roles.
    pub source: String,
    /// The namespace of the inventory ConfigMap (`eksync-system`).
    pub inventory_namespace: String,
    pub subject: Subject,
    /// The CloudFormation service role the stacks are created with (`--cfn-role-arn`), whose
    /// `iam:PassRole` the agent needs. `None`: CloudFormation acts with the caller's rights, and
    /// the policy says so.
    pub cfn_role: Option<String>,
    /// Kinds (group, kind) that left the repo but may still have objects to prune; granted
    /// `list` and `delete` like the repo's kinds.
    pub extra_kinds: Vec<(String, String)>,
    /// Also what `eksync agent` needs for itself (its `Sync` object and status, its Lease, its
    /// Events), in the inventory's namespace. `false`: only what `eksync apply` needs.
    pub agent: bool,
}

/// The identity the bindings name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind")]
pub enum Subject {
    ServiceAccount { namespace: String, name: String },
    User { name: String },
}

/// The verbs eksync uses, in the order RBAC rules list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Patch,
    Delete,
    Bind,
    Escalate,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
            Verb::Bind => "bind",
            Verb::Escalate => "escalate",
        }
    }
}

/// One RBAC policy rule and why it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub api_group: String,
    pub resource: String,
    pub verbs: BTreeSet<Verb>,
    /// Empty: every object of the resource (in the role's namespace).
    pub resource_names: BTreeSet<String>,
    /// What eksync does with these rights.
    pub purpose: String,
    /// The repo objects (or eksync's own objects) that need the rule.
    pub needed_by: BTreeSet<String>,
}

/// A ClusterRole (namespace `None`) or a Role, with the binding to the subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleSet {
    pub namespace: Option<String>,
    pub name: String,
    pub rules: Vec<Rule>,
}

/// One IAM policy statement and why it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    pub sid: String,
    pub actions: BTreeSet<String>,
    pub resources: BTreeSet<String>,
    pub condition: Option<Value>,
    pub needed_by: BTreeSet<String>,
}

/// Everything `eksync permissions` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permissions {
    pub source: String,
    pub subject: Subject,
    /// Namespaces the repo creates that hold a Role: they must exist before the Role can, so
    /// the output creates them (eksync then adopts them from the repo).
    pub namespaces: Vec<String>,
    /// The ClusterRole first, then the Roles by namespace.
    pub roles: Vec<RoleSet>,
    /// The agent's IAM policy; empty when the repo holds nothing on AWS.
    pub iam: Vec<Statement>,
    /// What the output does not cover, said once.
    pub notes: Vec<String>,
}

/// The name of the generated ClusterRole and Roles (and their bindings).
pub fn role_name(source: &str) -> String {
    format!("eksync:{source}")
}

/// The permissions the reconcile of `a` needs.
pub fn permissions(a: &Analysis, opts: &Options) -> Permissions {
    let mut k = KubeRules::default();
    kube_rules(a, opts, &mut k);
    let iam = iam_statements(a, opts);
    let declared: BTreeSet<&str> = a
        .model
        .objects
        .iter()
        .filter(|o| o.key.group.is_empty() && o.key.kind == "Namespace")
        .map(|o| o.key.name.as_str())
        .collect();
    let namespaces = k
        .namespaced
        .keys()
        .filter(|ns| declared.contains(ns.as_str()))
        .cloned()
        .collect();
    let mut roles = vec![RoleSet {
        namespace: None,
        name: role_name(&opts.source),
        rules: subsume(k.cluster.into_values().collect()),
    }];
    for (ns, rules) in k.namespaced {
        roles.push(RoleSet {
            namespace: Some(ns),
            name: role_name(&opts.source),
            rules: subsume(rules.into_values().collect()),
        });
    }
    let mut notes = vec![
        "Discovery (/api, /apis, /openapi) is granted to every authenticated user by the \
         cluster's default `system:discovery` role; nothing is added for it."
            .to_string(),
        "Rights are for the objects in this revision: before removing the last object of a kind \
         from the repo, keep its kind (`--keep-kind KIND.GROUP`) so that prune may delete it."
            .to_string(),
    ];
    if !iam.is_empty() && opts.cfn_role.is_none() {
        notes.push(
            "No CloudFormation service role (`--cfn-role-arn`): CloudFormation then creates the \
             stacks' resources with the agent's own credentials, which this policy does not \
             grant. Give the stacks a service role."
                .to_string(),
        );
    }
    Permissions {
        source: opts.source.clone(),
        subject: opts.subject.clone(),
        namespaces,
        roles,
        iam,
        notes,
    }
}

/// Drops a rule scoped by `resourceNames` when an unscoped rule of the role already grants its
/// verbs on its resource (its reasons move to that rule): no rule is there for nothing.
fn subsume(mut rules: Vec<Rule>) -> Vec<Rule> {
    let mut keep = vec![true; rules.len()];
    for i in 0..rules.len() {
        if rules[i].resource_names.is_empty() {
            continue;
        }
        let cover = (0..rules.len()).find(|&c| {
            rules[c].resource_names.is_empty()
                && rules[c].api_group == rules[i].api_group
                && rules[c].resource == rules[i].resource
                && rules[i].verbs.is_subset(&rules[c].verbs)
        });
        if let Some(c) = cover {
            let moved = std::mem::take(&mut rules[i].needed_by);
            rules[c].needed_by.extend(moved);
            keep[i] = false;
        }
    }
    rules
        .into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect()
}

/// Rules keyed by (group, resource, resourceNames, purpose) so that each rule keeps one reason.
type RuleKey = (String, String, Vec<String>, &'static str);

#[derive(Default)]
struct KubeRules {
    cluster: BTreeMap<RuleKey, Rule>,
    namespaced: BTreeMap<String, BTreeMap<RuleKey, Rule>>,
}

impl KubeRules {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        namespace: Option<&str>,
        group: &str,
        resource: &str,
        verbs: &[Verb],
        names: &[&str],
        purpose: &'static str,
        by: &str,
    ) {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let key = (
            group.to_string(),
            resource.to_string(),
            names.clone(),
            purpose,
        );
        let map = match namespace {
            None => &mut self.cluster,
            Some(ns) => self.namespaced.entry(ns.to_string()).or_default(),
        };
        let rule = map.entry(key).or_insert_with(|| Rule {
            api_group: group.to_string(),
            resource: resource.to_string(),
            verbs: BTreeSet::new(),
            resource_names: names.into_iter().collect(),
            purpose: purpose.to_string(),
            needed_by: BTreeSet::new(),
        });
        rule.verbs.extend(verbs.iter().copied());
        rule.needed_by.insert(by.to_string());
        if purpose == APPLY && rule.verbs.contains(&Verb::Watch) {
            rule.purpose = WAIT.to_string();
        }
    }
}

const LIST: &str = "list its objects of this kind in every namespace (by its labels)";
const APPLY: &str = "server-side apply and its dry runs (create when missing), read, prune";
const WAIT: &str =
    "server-side apply and its dry runs (create when missing), read, prune, and wait for health";
const BIND: &str = "create bindings to roles it does not hold every right of";
const ESCALATE: &str = "create roles that grant rights it does not hold";
const INVENTORY: &str = "read and write its inventory";
const INVENTORY_CREATE: &str = "create its inventory the first time";
const INVENTORY_NS: &str = "check that the inventory's namespace exists";
const SYNC: &str = "the agent: read its Sync object (spec.suspend) and create it when missing";
const SYNC_STATUS: &str = "the agent: write its Sync status";
const LEASE: &str = "the agent: leader election (read and renew its Lease)";
const LEASE_CREATE: &str = "the agent: create its Lease the first time";
const EVENTS: &str = "the agent: record Events on its Sync object";

fn kube_rules(a: &Analysis, opts: &Options, k: &mut KubeRules) {
    // Custom resources: the repo's CRDs give the plural and the scope.
    let mut crds: BTreeMap<(String, String), (String, bool)> = BTreeMap::new();
    for o in &a.model.objects {
        if o.key.group != "apiextensions.k8s.io" || o.key.kind != "CustomResourceDefinition" {
            continue;
        }
        let b = &o.body;
        if let (Some(g), Some(kind), Some(plural)) = (
            kube::get_str(b, &["spec", "group"]),
            kube::get_str(b, &["spec", "names", "kind"]),
            kube::get_str(b, &["spec", "names", "plural"]),
        ) {
            let namespaced = kube::get_str(b, &["spec", "scope"]) != Some("Cluster");
            crds.insert(
                (g.to_string(), kind.to_string()),
                (plural.to_string(), namespaced),
            );
        }
    }
    let plural_of = |group: &str, kind: &str| -> String {
        crds.get(&(group.to_string(), kind.to_string()))
            .map(|(p, _)| p.clone())
            .unwrap_or_else(|| kube::plural(kind))
    };
    for o in &a.model.objects {
        let (g, kind) = (o.key.group.as_str(), o.key.kind.as_str());
        let resource = plural_of(g, kind);
        let label = object_label(&o.key);
        k.add(None, g, &resource, &[Verb::List], &[], LIST, &label);
        let waits = kdiff::needs_wait(kind, &o.body);
        let verbs: &[Verb] = if waits {
            &[
                Verb::Get,
                Verb::Watch,
                Verb::Create,
                Verb::Patch,
                Verb::Delete,
            ]
        } else {
            &[Verb::Get, Verb::Create, Verb::Patch, Verb::Delete]
        };
        let ns = o.key.namespace.as_deref();
        // One rule per kind and namespace: its purpose says "wait" once any object is waited for.
        k.add(ns, g, &resource, verbs, &[], APPLY, &label);
        if g == "rbac.authorization.k8s.io" {
            match kind {
                "ClusterRole" => k.add(
                    None,
                    g,
                    "clusterroles",
                    &[Verb::Escalate],
                    &[o.key.name.as_str()],
                    ESCALATE,
                    &label,
                ),
                "Role" => k.add(
                    ns,
                    g,
                    "roles",
                    &[Verb::Escalate],
                    &[o.key.name.as_str()],
                    ESCALATE,
                    &label,
                ),
                "ClusterRoleBinding" | "RoleBinding" => {
                    let ref_kind = kube::get_str(&o.body, &["roleRef", "kind"]);
                    let ref_name = kube::get_str(&o.body, &["roleRef", "name"]);
                    let resource = match ref_kind {
                        Some("ClusterRole") => Some("clusterroles"),
                        Some("Role") => Some("roles"),
                        _ => None,
                    };
                    if let (Some(resource), Some(name)) = (resource, ref_name) {
                        k.add(ns, g, resource, &[Verb::Bind], &[name], BIND, &label);
                    }
                }
                _ => {}
            }
        }
    }
    for (g, kind) in &opts.extra_kinds {
        let resource = plural_of(g, kind);
        let key = kube::ObjectKey {
            group: g.clone(),
            kind: kind.clone(),
            namespace: None,
            name: String::new(),
        };
        let label = format!("{} (kept for prune)", key.kind_group());
        k.add(None, g, &resource, &[Verb::List], &[], LIST, &label);
        // Where its objects were is unknown offline: delete is granted cluster-wide.
        k.add(None, g, &resource, &[Verb::Delete], &[], APPLY, &label);
    }
    // eksync's own objects.
    let inv_name = format!("eksync-inventory-{}", opts.source);
    let inv_label = format!(
        "ConfigMap {}/{inv_name} (eksync's inventory)",
        opts.inventory_namespace
    );
    let inv_ns = Some(opts.inventory_namespace.as_str());
    k.add(
        inv_ns,
        "",
        "configmaps",
        &[Verb::Get, Verb::Patch],
        &[inv_name.as_str()],
        INVENTORY,
        &inv_label,
    );
    k.add(
        inv_ns,
        "",
        "configmaps",
        &[Verb::Create],
        &[],
        INVENTORY_CREATE,
        &inv_label,
    );
    k.add(
        None,
        "",
        "namespaces",
        &[Verb::Get],
        &[opts.inventory_namespace.as_str()],
        INVENTORY_NS,
        &inv_label,
    );
    if opts.agent {
        let name = opts.source.as_str();
        let sync = format!(
            "Sync {}/{name} (the agent's status)",
            opts.inventory_namespace
        );
        let lease_name = format!("eksync-{name}");
        let lease = format!(
            "Lease {}/{lease_name} (the agent's leader election)",
            opts.inventory_namespace
        );
        k.add(
            inv_ns,
            "eksync.io",
            "syncs",
            &[Verb::Get, Verb::Patch],
            &[name],
            SYNC,
            &sync,
        );
        k.add(
            inv_ns,
            "eksync.io",
            "syncs",
            &[Verb::Create],
            &[],
            SYNC,
            &sync,
        );
        k.add(
            inv_ns,
            "eksync.io",
            "syncs/status",
            &[Verb::Patch],
            &[name],
            SYNC_STATUS,
            &sync,
        );
        k.add(
            inv_ns,
            "coordination.k8s.io",
            "leases",
            &[Verb::Get, Verb::Patch],
            &[lease_name.as_str()],
            LEASE,
            &lease,
        );
        k.add(
            inv_ns,
            "coordination.k8s.io",
            "leases",
            &[Verb::Create],
            &[],
            LEASE_CREATE,
            &lease,
        );
        k.add(inv_ns, "", "events", &[Verb::Create], &[], EVENTS, &sync);
    }
}

fn object_label(key: &kube::ObjectKey) -> String {
    match &key.namespace {
        Some(ns) => format!("{} {ns}/{}", key.kind, key.name),
        None => format!("{} {}", key.kind, key.name),
    }
}

/// The partition of a region's ARNs.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The account in ARNs: the caller's own, as an IAM policy variable.
const ACCOUNT: &str = "${aws:PrincipalAccount}";

/// CloudFormation actions on a stack eksync manages, and why each is called.
const STACK_ACTIONS: &[&str] = &[
    // read_live: the stack, its resources and (cached by last change) its template
    "cloudformation:DescribeStacks",
    "cloudformation:ListStackResources",
    "cloudformation:GetTemplate",
    // diff and apply go through change sets
    "cloudformation:CreateChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:ListChangeSets",
    // the first failed event of a failed update names its cause
    "cloudformation:DescribeStackEvents",
    // a preview of a stack not created yet leaves an empty REVIEW_IN_PROGRESS stack: removed
    "cloudformation:DeleteStack",
];

fn iam_statements(a: &Analysis, opts: &Options) -> Vec<Statement> {
    let mut out: BTreeMap<String, Statement> = BTreeMap::new();
    let mut add =
        |sid: &str, actions: &[&str], resources: Vec<String>, cond: Option<Value>, by: &str| {
            let s = out.entry(sid.to_string()).or_insert_with(|| Statement {
                sid: sid.to_string(),
                actions: BTreeSet::new(),
                resources: BTreeSet::new(),
                condition: cond.clone(),
                needed_by: BTreeSet::new(),
            });
            s.actions.extend(actions.iter().map(|x| x.to_string()));
            s.resources.extend(resources);
            s.needed_by.insert(by.to_string());
        };
    let mut any_stack = false;
    for (ci, c) in a.model.clusters.iter().enumerate() {
        let cfg = &c.config;
        let (cluster, region) = (cfg.metadata.name.as_str(), cfg.metadata.region.as_str());
        let p = partition(region);
        let stacks = a.stacks.get(ci).map(Vec::as_slice).unwrap_or_default();
        for st in stacks {
            any_stack = true;
            add(
                "ManageTheRepoStacks",
                STACK_ACTIONS,
                vec![format!(
                    "arn:{p}:cloudformation:{region}:{ACCOUNT}:stack/{}/*",
                    st.name
                )],
                None,
                &format!("Stack {}", st.name),
            );
        }
        if !stacks.is_empty() {
            // Parameters that come from the cluster (its service CIDR) and its endpoint.
            add(
                "ReadTheCluster",
                &["eks:DescribeCluster"],
                vec![format!("arn:{p}:eks:{region}:{ACCOUNT}:cluster/{cluster}")],
                None,
                &format!("ClusterConfig {cluster}"),
            );
        }
        for fp in &cfg.fargate_profiles {
            let by = format!("Fargate profile {}", fp.name);
            // CreateFargateProfile is authorized on the cluster; the profile's ARN ends in an id.
            add(
                "ManageFargateProfiles",
                &["eks:CreateFargateProfile"],
                vec![format!("arn:{p}:eks:{region}:{ACCOUNT}:cluster/{cluster}")],
                None,
                &by,
            );
            add(
                "ManageFargateProfiles",
                &[
                    "eks:DescribeFargateProfile",
                    "eks:DeleteFargateProfile",
                    "eks:TagResource",
                ],
                vec![format!(
                    "arn:{p}:eks:{region}:{ACCOUNT}:fargateprofile/{cluster}/{}/*",
                    fp.name
                )],
                None,
                &by,
            );
            // The pod execution role is passed to EKS: the given one, or the cluster stack's.
            let role = fp
                .pod_execution_role_arn
                .clone()
                .or_else(|| {
                    cfg.iam
                        .as_ref()
                        .and_then(|i| i.fargate_pod_execution_role_arn.clone())
                })
                .unwrap_or_else(|| {
                    format!(
                        "arn:{p}:iam::{ACCOUNT}:role/{}-FargatePodExecutionRole-*",
                        eksctl::cluster_stack_name(cluster)
                    )
                });
            add(
                "PassThePodExecutionRoleToEks",
                &["iam:PassRole"],
                vec![role],
                None,
                &by,
            );
        }
        for pia in cfg.service_pod_identity() {
            let Some(role) = &pia.role_arn else { continue };
            let by = format!(
                "Pod Identity association {}/{}",
                pia.namespace, pia.service_account_name
            );
            // Create and list are authorized on the cluster; an association's ARN ends in an id.
            add(
                "ManagePodIdentityAssociations",
                &[
                    "eks:CreatePodIdentityAssociation",
                    "eks:ListPodIdentityAssociations",
                ],
                vec![format!("arn:{p}:eks:{region}:{ACCOUNT}:cluster/{cluster}")],
                None,
                &by,
            );
            add(
                "ManagePodIdentityAssociations",
                &[
                    "eks:DescribePodIdentityAssociation",
                    "eks:UpdatePodIdentityAssociation",
                    "eks:TagResource",
                ],
                vec![format!(
                    "arn:{p}:eks:{region}:{ACCOUNT}:podidentityassociation/{cluster}/*"
                )],
                None,
                &by,
            );
            // EKS reads the role and is handed it.
            add(
                "PassThePodIdentityRolesToEks",
                &["iam:GetRole", "iam:PassRole"],
                vec![role.clone()],
                None,
                &by,
            );
        }
        for addon in &cfg.addons {
            let by = format!("add-on {}", addon.name);
            // CreateAddon is authorized on the cluster; the add-on's ARN ends in an id.
            add(
                "ManageAddons",
                &["eks:CreateAddon"],
                vec![format!("arn:{p}:eks:{region}:{ACCOUNT}:cluster/{cluster}")],
                None,
                &by,
            );
            add(
                "ManageAddons",
                &["eks:DescribeAddon", "eks:UpdateAddon", "eks:TagResource"],
                vec![format!(
                    "arn:{p}:eks:{region}:{ACCOUNT}:addon/{cluster}/{}/*",
                    addon.name
                )],
                None,
                &by,
            );
            if let Some(role) = &addon.service_account_role_arn {
                add(
                    "PassTheAddonRolesToEks",
                    &["iam:PassRole"],
                    vec![role.clone()],
                    None,
                    &by,
                );
            }
        }
        for ng in cfg.node_groups() {
            let stack = eksctl::nodegroup_stack_name(cluster, ng.name);
            let by = format!("node group {} (stack {stack})", ng.name);
            if ng.managed {
                add(
                    "ReadManagedNodeGroups",
                    &["eks:DescribeNodegroup"],
                    vec![format!(
                        "arn:{p}:eks:{region}:{ACCOUNT}:nodegroup/{cluster}/{}/*",
                        ng.name
                    )],
                    None,
                    &by,
                );
            } else {
                // The group's name is generated by CloudFormation from the stack's name.
                add(
                    "CorrectNodeGroupDrift",
                    &["autoscaling:UpdateAutoScalingGroup", "autoscaling:CreateOrUpdateTags"],
                    vec![format!(
                        "arn:{p}:autoscaling:{region}:{ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/{stack}-*"
                    )],
                    None,
                    &by,
                );
                // Describe calls support no resource-level permissions: AWS requires "*".
                add(
                    "ReadNodeGroupsDescribeOnly",
                    &["autoscaling:DescribeAutoScalingGroups"],
                    vec!["*".to_string()],
                    None,
                    &by,
                );
            }
        }
    }
    for rp in &a.model.role_policies {
        let by = format!("IAMRolePolicy {}", rp.name);
        let (resource, condition, stack) = role_resource(a, rp);
        // One statement per condition: roles of one stack share it.
        let sid = match &stack {
            Some(stack) => format!("PutPoliciesOnRolesOfStack{}", sid_part(stack)),
            None => "PutPoliciesOnNamedRoles".to_string(),
        };
        add(
            &sid,
            &["iam:GetRolePolicy", "iam:PutRolePolicy"],
            vec![resource],
            condition,
            &by,
        );
    }
    if any_stack {
        if let Some(role) = &opts.cfn_role {
            add(
                "PassTheServiceRoleToCloudFormation",
                &["iam:PassRole"],
                vec![role.clone()],
                Some(
                    json!({"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}),
                ),
                "every stack (CloudFormation creates their resources with this role)",
            );
        }
    }
    out.into_values().collect()
}

/// A name as IAM statement ids allow it (letters and digits), words capitalized.
fn sid_part(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The ARN pattern of a role policy's role: its name when literal; when CloudFormation names it
/// (a stack resource), the roles of the cluster's stacks, narrowed by the stack's tags.
fn role_resource(a: &Analysis, rp: &RolePolicy) -> (String, Option<Value>, Option<String>) {
    let cfg = rp
        .cluster
        .as_deref()
        .and_then(|n| a.model.cluster(n))
        .or_else(|| (a.model.clusters.len() == 1).then(|| &a.model.clusters[0]))
        .map(|c| &c.config);
    let (cluster, region) = cfg
        .map(|c| (c.metadata.name.as_str(), c.metadata.region.as_str()))
        .unwrap_or(("", ""));
    let p = partition(region);
    let pieces = refs::parse(&rp.role_name).unwrap_or_default();
    let mut literal = String::new();
    let mut from_stack: Option<&StackRef> = None;
    for piece in &pieces {
        match piece {
            Piece::Text(t) => literal.push_str(t),
            Piece::Ref(ValueRef::ClusterName) => literal.push_str(cluster),
            Piece::Ref(ValueRef::Region) => literal.push_str(region),
            Piece::Ref(r) => {
                from_stack = r.producer();
                literal.push('*');
            }
        }
    }
    match from_stack {
        None => (format!("arn:{p}:iam::{ACCOUNT}:role/{literal}"), None, None),
        Some(stack) => {
            // CloudFormation shortens generated names to IAM's 64 characters, so the prefix
            // is eksctl's and the stack's tags (propagated to the role) say which one.
            let mut tags = serde_json::Map::new();
            tags.insert(
                format!("aws:ResourceTag/{}", crate::render::tags::CLUSTER_NAME),
                json!(cluster),
            );
            if let StackRef::NodeGroup(ng) = stack {
                tags.insert(
                    format!("aws:ResourceTag/{}", crate::render::tags::NODEGROUP_NAME),
                    json!(ng),
                );
            }
            let stack_name = stack.stack_name(cluster);
            (
                format!("arn:{p}:iam::{ACCOUNT}:role/eksctl-*"),
                Some(json!({ "StringEquals": tags })),
                Some(stack_name),
            )
        }
    }
}

#[cfg(test)]
mod tests;
