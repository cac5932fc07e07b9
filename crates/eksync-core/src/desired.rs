//! Turns an [`Analysis`] (model + rendered stacks) into what the AWS comparison takes:
//! [`DesiredStack`]s with parameters, dependencies and ownership rules, [`DesiredRolePolicy`]s
//! whose role flows from a node group stack, and the EKS API objects (Fargate profiles) of each
//! cluster. Pure; reading live AWS and deciding steps is
//! `awsdiff`'s and the adapter's job.

use std::collections::{BTreeMap, BTreeSet};

use super::analysis::Analysis;
use super::awsdiff::{self, DesiredRolePolicy, DesiredStack, DriftMode};
use super::eksctl;
use super::values;

/// ClusterConfig annotation: `manage` (default) or `observe` — eksync reads the cluster stack (its
/// outputs feed the node groups) but never creates or changes it, for clusters created elsewhere.
pub const CLUSTER_STACK_ANNOTATION: &str = "eksync.io/cluster-stack";

/// Why the desired AWS state could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesiredError {
    #[error("IAMRolePolicy {0}")]
    RoleName(String),
}

/// The desired AWS state of every cluster in the analysis, with the graph node of each part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DesiredAws {
    pub stacks: Vec<DesiredStack>,
    pub policies: Vec<DesiredRolePolicy>,
    /// The graph node id of each stack (by stack name) and policy (by policy name).
    pub stack_nodes: BTreeMap<String, String>,
    pub policy_nodes: BTreeMap<String, String>,
    /// Stacks eksync reads but never changes.
    pub observed: BTreeSet<String>,
    /// EKS API objects (Fargate profiles), in cluster then file order; each is the graph node
    /// [`awsdiff::DesiredEksObject::node_id`].
    pub eks_objects: Vec<awsdiff::DesiredEksObject>,
}

/// Builds the desired AWS state: per cluster, `awsdiff::desired` maps rendered stacks and role
/// policies; this adds the graph's node ids, observed stacks, and the values the config decides
/// inside policy documents. Call only on an analysis without errors.
pub fn desired_aws(a: &Analysis) -> Result<DesiredAws, DesiredError> {
    let mut out = DesiredAws::default();
    let single = (a.model.clusters.len() == 1).then(|| a.model.clusters[0].name());
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
        let stacks = a.stacks.get(ci).map(Vec::as_slice).unwrap_or_default();
        out.stacks.extend(
            stacks
                .iter()
                .map(|s| awsdiff::desired::desired_stack(s, DriftMode::Correct)),
        );
        out.eks_objects
            .extend(crate::render::eks_objects(&c.config));
    }
    for p in &a.model.role_policies {
        let cluster = p.cluster.as_deref().or(single).unwrap_or_default();
        let mut d = awsdiff::desired::desired_policy(p, cluster).map_err(DesiredError::RoleName)?;
        let cfg = a.model.cluster(cluster).map(|c| &c.config);
        d.document = values::substitute(&p.document, &|r| values::offline_value(cfg, r)).0;
        out.policies.push(d);
    }
    for n in &a.graph.nodes {
        if n.kind == "Stack" {
            out.stack_nodes.insert(n.name.clone(), n.id.clone());
        } else if n.kind == "IAMRolePolicy" {
            out.policy_nodes.insert(n.name.clone(), n.id.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::analyze;
    use crate::awsdiff::{Owner, OwnerRule, ParamValue, RoleSource};

    fn example() -> Analysis {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples-repo");
        let src = crate::source::test_read_tree(&root);
        analyze(&src)
    }

    #[test]
    fn the_example_becomes_four_stacks_and_one_policy() {
        let a = example();
        assert!(!a.has_errors(), "{:?}", a.diagnostics);
        let d = desired_aws(&a).unwrap();
        let names: Vec<_> = d.stacks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "eksctl-eks-test-jenkins-cluster",
                "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins",
                "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot",
                "eksctl-eks-test-jenkins-addon-iamserviceaccount-kube-system-cluster-autoscaler"
            ]
        );
        // The cluster-autoscaler's IRSA role reads the OIDC provider from the cluster stack.
        assert_eq!(
            d.stacks[3].dependencies(),
            ["eksctl-eks-test-jenkins-cluster"]
        );
        assert!(d.stacks[3].ownership.is_empty());
        let spot = &d.stacks[2];
        assert_eq!(spot.dependencies(), ["eksctl-eks-test-jenkins-cluster"]);
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
