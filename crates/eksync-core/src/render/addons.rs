//! EKS add-ons (`addons`), after eksctl's `pkg/actions/addon` (`Create`, `Update`), and Pod
//! Identity associations (`iam.podIdentityAssociations` with a `roleARN`, after eksctl's
//! `pkg/actions/podidentityassociation`): each add-on becomes a desired EKS object with its name, version, configuration values, conflict
//! resolution, service account role (`serviceAccountRoleARN`) and tags.
//!
//! It deliberately does not resolve `version: latest` (eksctl asks `DescribeAddonVersions`; the
//! core makes no call): the version is left out and EKS installs its default version, which the
//! plan says. It does not create the IAM roles eksctl would make for an add-on
//! (`attachPolicyARNs`, `attachPolicy`, `wellKnownPolicies`, `permissionsBoundary`, Pod Identity
//! associations, an association's role when it names none): those fields draw a warning, and eksctl's default add-ons (vpc-cni, kube-proxy,
//! coredns) are installed only when listed.

use crate::awsdiff::{
    AddonSpec, DesiredEksObject, DriftMode, EksObjectSpec, ParamValue, PodIdentitySpec,
};
use crate::eksctl::ClusterConfig;

/// The desired add-ons of a cluster, in file order.
pub(crate) fn addons(cfg: &ClusterConfig) -> Vec<DesiredEksObject> {
    cfg.addons
        .iter()
        .map(|a| DesiredEksObject {
            cluster: cfg.metadata.name.clone(),
            spec: EksObjectSpec::Addon(AddonSpec {
                name: a.name.clone(),
                version: a
                    .version
                    .clone()
                    .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("latest")),
                configuration_values: a.configuration_values.clone().filter(|c| !c.is_empty()),
                // eksctl spells them in lower case, EKS's API in upper case.
                resolve_conflicts: a.resolve_conflicts.as_ref().map(|r| r.to_ascii_uppercase()),
                service_account_role_arn: a
                    .service_account_role_arn
                    .clone()
                    .map(ParamValue::Literal),
                tags: a.tags.clone(),
            }),
            mode: DriftMode::Correct,
        })
        .collect()
}

/// The desired Pod Identity associations of a cluster (`iam.podIdentityAssociations` entries that
/// name their `roleARN`; the loader warns about the others), in file order.
pub(crate) fn pod_identities(cfg: &ClusterConfig) -> Vec<DesiredEksObject> {
    cfg.service_pod_identity()
        .iter()
        .filter_map(|p| {
            let role = p.role_arn.clone()?;
            Some(DesiredEksObject {
                cluster: cfg.metadata.name.clone(),
                spec: EksObjectSpec::PodIdentityAssociation(PodIdentitySpec {
                    namespace: p.namespace.clone(),
                    service_account: p.service_account_name.clone(),
                    role_arn: ParamValue::Literal(role),
                    tags: p.tags.clone(),
                }),
                mode: DriftMode::Correct,
            })
        })
        .collect()
}
