//! EKS access entries, after eksctl's `AccessEntryResourceSet` (`pkg/cfn/builder/access_entry.go`)
//! and `pkg/actions/accessentry` (`creator.go`, `task.go`): one stack per
//! `accessConfig.accessEntries` entry, named `eksctl-<cluster>-accessentry-<hash>` (see
//! [`crate::eksctl::accessentry_stack_name`]), holding the single resource `AccessEntry`
//! (`AWS::EKS::AccessEntry`: `ClusterName`, `PrincipalArn`, and when given `Type`,
//! `KubernetesGroups`, `Username` and `AccessPolicies` with their `AccessScope`), tagged
//! `Name: <stack>/AccessEntry` as eksctl tags its resources. The stack has no outputs, as eksctl's
//! has none; eksctl creates these stacks after the cluster stack, and the graph says so with an
//! edge from the cluster stack.
//!
//! One difference from eksctl: the template carries a `Description` (eksctl's access entry
//! template has none), because every template eksync renders says what made it.
//!
//! It deliberately does not validate the entries (the loader does, with eksctl's rules, see
//! `load::cluster`), render the access entries eksctl adds for node groups (those are in the node
//! group stacks), nor `iamIdentityMappings` (the aws-auth ConfigMap, warned about as ignored).
//! A principal listed twice is rendered once (the loader reports the duplicate).

use serde_json::{json, Value};

use super::{name_tag, shared_stack_tags, RenderedStack, StackKind, Template};
use crate::eksctl::{accessentry_stack_name, AccessEntry, ClusterConfig};

/// The resource's logical id in eksctl's access entry stacks.
pub(crate) const ACCESS_ENTRY: &str = "AccessEntry";

/// The stacks of every access entry of the config, in file order, a repeated principal once.
pub(super) fn render_all(cfg: &ClusterConfig) -> Vec<RenderedStack> {
    let mut seen = std::collections::BTreeSet::new();
    cfg.access_entries()
        .iter()
        .filter(|e| seen.insert(e.principal_arn.as_str()))
        .map(|e| render(cfg, e))
        .collect()
}

/// The stack of one access entry.
pub(super) fn render(cfg: &ClusterConfig, entry: &AccessEntry) -> RenderedStack {
    let cluster = &cfg.metadata.name;
    let mut t = Template::new(format!(
        "EKS access entry for principal {} [created and managed by eksctl]",
        entry.principal_arn
    ));
    let mut props = json!({
        "ClusterName": cluster,
        "PrincipalArn": entry.principal_arn,
        "Tags": name_tag(ACCESS_ENTRY),
    });
    if let Some(kind) = entry.entry_type.as_deref().filter(|k| !k.is_empty()) {
        props["Type"] = json!(kind);
    }
    if !entry.kubernetes_groups.is_empty() {
        props["KubernetesGroups"] = json!(entry.kubernetes_groups);
    }
    if let Some(user) = entry
        .kubernetes_username
        .as_deref()
        .filter(|u| !u.is_empty())
    {
        props["Username"] = json!(user);
    }
    if !entry.access_policies.is_empty() {
        let policies: Vec<Value> = entry
            .access_policies
            .iter()
            .map(|p| {
                let mut scope = json!({ "Type": p.access_scope.scope_type });
                if !p.access_scope.namespaces.is_empty() {
                    scope["Namespaces"] = json!(p.access_scope.namespaces);
                }
                json!({ "AccessScope": scope, "PolicyArn": p.policy_arn })
            })
            .collect();
        props["AccessPolicies"] = Value::Array(policies);
    }
    t.resource(
        ACCESS_ENTRY,
        "AWS::EKS::AccessEntry",
        json!({ "Properties": props }),
    );
    t.finish(
        accessentry_stack_name(cluster, &entry.principal_arn),
        StackKind::AccessEntry {
            principal_arn: entry.principal_arn.clone(),
        },
        shared_stack_tags(cfg),
    )
}
