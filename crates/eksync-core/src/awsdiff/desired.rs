//! Builds the AWS comparison's inputs from what the rest of the core produces: rendered stacks
//! (`core::render`) become [`DesiredStack`]s and `IAMRolePolicy` documents (`core::model`) become
//! [`DesiredRolePolicy`]s. Dependencies come from the templates (`Fn::ImportValue` of another
//! stack's export) and from parameters that read another stack's outputs; the cluster-autoscaler is
//! given ownership of the desired capacity of every Auto Scaling group tagged for it and of every
//! managed node group's desired size.
//!
//! It deliberately does not decide the order between AWS and Kubernetes (that is `graph`/`plan`),
//! and refuses (with a note) role names it cannot map to a role source: only a literal name or a
//! single `{{aws:<stack>/resource/<LogicalId>}}` reference.

use super::drift::AUTOSCALER_ENABLED_TAG;
use super::types::{
    DesiredRolePolicy, DesiredStack, DriftMode, Owner, OwnerRule, ParamValue, RoleSource,
};
use crate::model::{self, RolePolicy};
use crate::refs::{self, Piece, StackRef, ValueRef};
use crate::render::{ParameterSource, RenderedStack};
use serde_json::Value;

/// The AWS side of a repo, ready for `plan`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesiredAws {
    pub stacks: Vec<DesiredStack>,
    pub policies: Vec<DesiredRolePolicy>,
    /// Inputs that could not be mapped, and why.
    pub notes: Vec<String>,
}

fn imports(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(name)) = map.get("Fn::ImportValue") {
                if let Some((stack, _)) = name.split_once("::") {
                    if !out.iter().any(|s| s == stack) {
                        out.push(stack.to_string());
                    }
                }
            }
            map.values().for_each(|v| imports(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| imports(v, out)),
        _ => {}
    }
}

fn autoscaler_rules(template: &Value) -> Vec<OwnerRule> {
    let mut rules = Vec::new();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return rules;
    };
    for (logical_id, r) in resources {
        let kind = r.get("Type").and_then(Value::as_str).unwrap_or("");
        let props = r.get("Properties");
        let tagged = props
            .and_then(|p| p.get("Tags"))
            .and_then(Value::as_array)
            .is_some_and(|tags| {
                tags.iter().any(|t| {
                    t.get("Key").and_then(Value::as_str) == Some(AUTOSCALER_ENABLED_TAG)
                        && t.get("Value").and_then(Value::as_str) == Some("true")
                })
            });
        let property = match kind {
            "AWS::AutoScaling::AutoScalingGroup" if tagged => "DesiredCapacity",
            "AWS::EKS::Nodegroup" => "ScalingConfig.DesiredSize",
            _ => continue,
        };
        rules.push(OwnerRule {
            logical_id: logical_id.clone(),
            property: property.to_string(),
            owner: Owner::ClusterAutoscaler,
        });
    }
    rules
}

/// One rendered stack as a desired stack.
pub fn desired_stack(stack: &RenderedStack, mode: DriftMode) -> DesiredStack {
    let mut depends_on = Vec::new();
    imports(&stack.template, &mut depends_on);
    depends_on.retain(|s| s != &stack.name);
    let parameters = stack
        .parameters
        .iter()
        .map(|p| {
            let value = match &p.source {
                ParameterSource::StackOutput { stack, output } => ParamValue::StackOutput {
                    stack: stack.clone(),
                    output: output.clone(),
                },
                ParameterSource::ClusterServiceCidr { cluster: c } => {
                    ParamValue::EksServiceCidr { cluster: c.clone() }
                }
            };
            (p.key.clone(), value)
        })
        .collect();
    DesiredStack {
        name: stack.name.clone(),
        template: stack.template.clone(),
        parameters,
        tags: stack.tags.clone(),
        depends_on,
        mode,
        ownership: autoscaler_rules(&stack.template),
    }
}

fn stack_name(cluster: &str, stack: &StackRef) -> String {
    stack.stack_name(cluster)
}

fn mode(m: model::DriftMode) -> DriftMode {
    match m {
        model::DriftMode::Correct => DriftMode::Correct,
        model::DriftMode::DetectOnly => DriftMode::DetectOnly,
    }
}

/// One `IAMRolePolicy` as a desired role policy; `Err` explains why it cannot be mapped.
pub fn desired_policy(p: &RolePolicy, cluster: &str) -> Result<DesiredRolePolicy, String> {
    let pieces = refs::parse(&p.role_name).map_err(|e| format!("{}: roleName: {e}", p.name))?;
    let role = match pieces.as_slice() {
        [] => return Err(format!("{}: roleName is empty", p.name)),
        [Piece::Text(name)] => RoleSource::Name(name.clone()),
        [Piece::Ref(ValueRef::Resource { stack, logical_id })] => RoleSource::StackResource {
            stack: stack_name(cluster, stack),
            logical_id: logical_id.clone(),
        },
        _ => {
            return Err(format!(
                "{}: roleName must be a literal name or one {{{{aws:<stack>/resource/<LogicalId>}}}} reference",
                p.name
            ))
        }
    };
    Ok(DesiredRolePolicy {
        role,
        policy_name: p.name.clone(),
        document: p.document.clone(),
        mode: mode(p.mode),
    })
}

/// The AWS side of one cluster: its rendered stacks (in render order) and the role policies that
/// belong to it (or to no cluster, when the repo has one). `mode` applies to every stack.
pub fn desired_aws(
    cluster: &str,
    stacks: &[RenderedStack],
    policies: &[RolePolicy],
    stack_mode: DriftMode,
) -> DesiredAws {
    let mut out = DesiredAws {
        stacks: stacks
            .iter()
            .map(|s| desired_stack(s, stack_mode))
            .collect(),
        ..Default::default()
    };
    for p in policies
        .iter()
        .filter(|p| p.cluster.as_deref().is_none_or(|c| c == cluster))
    {
        match desired_policy(p, cluster) {
            Ok(d) => out.policies.push(d),
            Err(note) => out.notes.push(note),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Origin;
    use serde_json::json;

    fn policy(role_name: &str, cluster: Option<&str>) -> RolePolicy {
        RolePolicy {
            name: "ASG-Policy-For-Worker".into(),
            cluster: cluster.map(str::to_string),
            role_name: role_name.into(),
            document: json!({"Version": "2012-10-17", "Statement": []}),
            mode: model::DriftMode::DetectOnly,
            origin: Origin {
                file: "aws/p.yaml".into(),
                document: 0,
                line: 1,
            },
            refs: Vec::new(),
        }
    }

    #[test]
    fn role_sources() {
        let p = desired_policy(
            &policy("{{aws:nodegroup/ng-a/resource/NodeInstanceRole}}", None),
            "c",
        )
        .unwrap();
        assert_eq!(
            p.role,
            RoleSource::StackResource {
                stack: "eksctl-c-nodegroup-ng-a".into(),
                logical_id: "NodeInstanceRole".into()
            }
        );
        assert_eq!(p.mode, DriftMode::DetectOnly);
        let p = desired_policy(&policy("{{aws:cluster/resource/ServiceRole}}", None), "c").unwrap();
        assert_eq!(
            p.role,
            RoleSource::StackResource {
                stack: "eksctl-c-cluster".into(),
                logical_id: "ServiceRole".into()
            }
        );
        let p = desired_policy(&policy("my-role", None), "c").unwrap();
        assert_eq!(p.role, RoleSource::Name("my-role".into()));
    }

    #[test]
    fn unmappable_role_names_are_notes() {
        let mixed = policy(
            "prefix-{{aws:nodegroup/ng-a/resource/NodeInstanceRole}}",
            None,
        );
        assert!(desired_policy(&mixed, "c")
            .unwrap_err()
            .contains("roleName must be"));
        assert!(desired_policy(&policy("", None), "c").is_err());
        let out = desired_aws(
            "c",
            &[],
            &[mixed, policy("r", Some("other"))],
            DriftMode::Correct,
        );
        assert_eq!(out.policies, vec![]);
        assert_eq!(
            out.notes.len(),
            1,
            "policies of other clusters are not this cluster's"
        );
    }

    #[test]
    fn imports_make_dependencies() {
        let mut found = Vec::new();
        imports(
            &json!({"A": [{"Fn::ImportValue": "eksctl-c-cluster::VPC"}], "B": {"Fn::ImportValue": "eksctl-c-cluster::SG"}}),
            &mut found,
        );
        assert_eq!(found, vec!["eksctl-c-cluster"]);
    }
}
