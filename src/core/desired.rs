//! Turns an [`Analysis`] (model + rendered stacks) into what the AWS comparison takes:
//! [`DesiredStack`]s with parameters, dependencies and ownership rules, and [`DesiredRolePolicy`]s
//! whose role flows from a node group stack. Pure; reading live AWS and deciding steps is
//! `awsdiff`'s and the adapter's job.

use serde_json::Value;
use std::collections::BTreeMap;

use super::analysis::Analysis;
use super::awsdiff::{
    DesiredRolePolicy, DesiredStack, DriftMode as AwsDriftMode, Owner, OwnerRule, ParamValue,
    RoleSource,
};
use super::eksctl;
use super::model::{DriftMode, RolePolicy};
use super::refs::{self, Piece, StackRef, ValueRef};
use super::render::{ParameterSource, RenderedStack, StackKind};
use super::values;

/// ClusterConfig annotation: `manage` (default) or `observe` — eksync reads the cluster stack (its
/// outputs feed the node groups) but never creates or changes it, for clusters created elsewhere.
pub const CLUSTER_STACK_ANNOTATION: &str = "eksync.io/cluster-stack";

/// The service CIDR EKS picks for a VPC outside 10.0.0.0/8 when the config names none.
pub const DEFAULT_SERVICE_CIDR: &str = "10.100.0.0/16";

/// Why the desired AWS state could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesiredError {
    #[error("IAMRolePolicy {policy}: roleName must be a role name or exactly one {{{{aws:...}}}} reference to a stack resource, not `{role}`")]
    RoleName { policy: String, role: String },
}

/// The desired AWS state of every cluster in the analysis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesiredAws {
    pub stacks: Vec<DesiredStack>,
    pub policies: Vec<DesiredRolePolicy>,
    /// The graph node id of each stack (by stack name) and policy (by policy name).
    pub stack_nodes: BTreeMap<String, String>,
    pub policy_nodes: BTreeMap<String, String>,
    /// Stacks eksync reads but never changes.
    pub observed: std::collections::BTreeSet<String>,
}

fn mode(m: DriftMode) -> AwsDriftMode {
    match m {
        DriftMode::Correct => AwsDriftMode::Correct,
        DriftMode::DetectOnly => AwsDriftMode::DetectOnly,
    }
}

/// True when the rendered Auto Scaling group leaves its desired capacity to the autoscaler (the
/// renderer omits `DesiredCapacity` exactly then).
fn autoscaled(stack: &RenderedStack) -> bool {
    stack
        .template
        .pointer("/Resources/NodeGroup/Properties")
        .is_some_and(|p| p.get("DesiredCapacity").is_none())
        && stack.resource_type("NodeGroup") == Some("AWS::AutoScaling::AutoScalingGroup")
}

fn desired_stack(cluster: &eksctl::ClusterConfig, s: &RenderedStack) -> DesiredStack {
    let mut d = DesiredStack::new(s.name.clone(), s.template.clone());
    d.tags = s.tags.clone();
    for p in &s.parameters {
        let value = match &p.source {
            ParameterSource::StackOutput { stack, output } => ParamValue::StackOutput {
                stack: stack.clone(),
                output: output.clone(),
            },
            ParameterSource::ClusterServiceCidr { .. } => ParamValue::Literal(
                cluster
                    .kubernetes_network_config
                    .as_ref()
                    .and_then(|k| k.get("serviceIPv4CIDR"))
                    .and_then(Value::as_str)
                    .unwrap_or(DEFAULT_SERVICE_CIDR)
                    .to_string(),
            ),
        };
        d.parameters.insert(p.key.clone(), value);
    }
    if let StackKind::NodeGroup { .. } = s.kind {
        d.depends_on
            .push(eksctl::cluster_stack_name(&cluster.metadata.name));
        if autoscaled(s) {
            d.ownership.push(OwnerRule {
                logical_id: "NodeGroup".into(),
                property: "DesiredCapacity".into(),
                owner: Owner::ClusterAutoscaler,
            });
        }
    }
    d
}

/// Where a policy's role comes from: a literal name, or one reference to a stack resource.
fn role_source(cluster: &str, p: &RolePolicy) -> Result<RoleSource, DesiredError> {
    let bad = || DesiredError::RoleName {
        policy: p.name.clone(),
        role: p.role_name.clone(),
    };
    let pieces = refs::parse(&p.role_name).map_err(|_| bad())?;
    match pieces.as_slice() {
        [Piece::Text(t)] => Ok(RoleSource::Name(t.clone())),
        [Piece::Ref(ValueRef::Resource { stack, logical_id })] => Ok(RoleSource::StackResource {
            stack: match stack {
                StackRef::Cluster => eksctl::cluster_stack_name(cluster),
                StackRef::NodeGroup(ng) => eksctl::nodegroup_stack_name(cluster, ng),
            },
            logical_id: logical_id.clone(),
        }),
        _ => Err(bad()),
    }
}

/// Builds the desired AWS state. Call only on an analysis without errors.
pub fn desired_aws(a: &Analysis) -> Result<DesiredAws, DesiredError> {
    let mut out = DesiredAws::default();
    for (ci, c) in a.model.clusters.iter().enumerate() {
        if c.config
            .metadata
            .annotations
            .get(CLUSTER_STACK_ANNOTATION)
            .map(String::as_str)
            == Some("observe")
        {
            out.observed.insert(eksctl::cluster_stack_name(c.name()));
        }
        for s in a.stacks.get(ci).into_iter().flatten() {
            out.stacks.push(desired_stack(&c.config, s));
        }
    }
    for n in &a.graph.nodes {
        if n.kind == "Stack" {
            out.stack_nodes.insert(n.name.clone(), n.id.clone());
        } else if n.kind == "IAMRolePolicy" {
            out.policy_nodes.insert(n.name.clone(), n.id.clone());
        }
    }
    for p in &a.model.role_policies {
        let cluster = p
            .cluster
            .clone()
            .or_else(|| {
                (a.model.clusters.len() == 1).then(|| a.model.clusters[0].name().to_string())
            })
            .unwrap_or_default();
        let cfg = a.model.cluster(&cluster).map(|c| &c.config);
        let (document, _) = values::substitute(&p.document, &|r| values::offline_value(cfg, r));
        out.policies.push(DesiredRolePolicy {
            role: role_source(&cluster, p)?,
            policy_name: p.name.clone(),
            document,
            mode: mode(p.mode),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::analysis::analyze;

    fn example() -> Analysis {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples-repo");
        let src = crate::adapters::fs::read_dir(&root, &Default::default()).unwrap();
        analyze(&src)
    }

    #[test]
    fn the_example_becomes_three_stacks_and_one_policy() {
        let a = example();
        assert!(!a.has_errors(), "{:?}", a.diagnostics);
        let d = desired_aws(&a).unwrap();
        let names: Vec<_> = d.stacks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "eksctl-eks-test-jenkins-cluster",
                "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins",
                "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot"
            ]
        );
        let spot = &d.stacks[2];
        assert_eq!(spot.depends_on, ["eksctl-eks-test-jenkins-cluster"]);
        assert_eq!(
            spot.ownership,
            [OwnerRule {
                logical_id: "NodeGroup".into(),
                property: "DesiredCapacity".into(),
                owner: Owner::ClusterAutoscaler
            }]
        );
        // The static group has the autoScaler add-on, so eksctl tags it for discovery and its
        // (pinned, 1/1/1) desired capacity is the autoscaler's too; the cluster stack owns none.
        assert_eq!(d.stacks[1].ownership, spot.ownership);
        assert!(d.stacks[0].ownership.is_empty());
        assert!(matches!(
            d.stacks[2]
                .parameters
                .get("ClusterCertificateAuthorityData"),
            Some(ParamValue::StackOutput { .. })
        ));
        assert_eq!(
            d.policies[0].role,
            RoleSource::StackResource {
                stack: "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins".into(),
                logical_id: "NodeInstanceRole".into()
            }
        );
        assert_eq!(d.policies[0].policy_name, "ASG-Policy-For-Worker");
    }

    #[test]
    fn a_role_name_mixing_text_and_references_is_refused() {
        let mut a = example();
        a.model.role_policies[0].role_name =
            "prefix-{{aws:nodegroup/ng-test-jenkins/resource/NodeInstanceRole}}".into();
        assert!(matches!(
            desired_aws(&a),
            Err(DesiredError::RoleName { .. })
        ));
    }
}
