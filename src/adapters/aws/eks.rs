//! EKS API objects (Fargate profiles, add-ons, Pod Identity associations): the live read
//! (`DescribeFargateProfile`, `DescribeAddon`, `ListPodIdentityAssociations` of the service
//! account then `DescribePodIdentityAssociation`, of each object Git names, with bounded concurrency; one that does not exist is
//! absent) and the steps (`CreateFargateProfile` then a wait until ACTIVE, `DeleteFargateProfile`
//! then a wait until it is gone, `CreateAddon`/`UpdateAddon` then a wait until ACTIVE,
//! `CreatePodIdentityAssociation`/`UpdatePodIdentityAssociation`, which have no status), each wait polling with the adapter's backoff up to its deadline. Values from stacks
//! are read from the stacks' outputs when the step runs, and the request is the core's
//! (`FargateProfileSpec::request`). Calls go through the same clients as everything else
//! (retries with backoff on throttling and 5xx, the call counter, the User-Agent).
//!
//! It deliberately does not list or delete objects Git does not name (no prune), and decides
//! nothing: the plan is the core's.

use super::apply::{Backoff, StepOutcome};
use super::{call_error, AwsAdapter, AwsError};
use crate::core::awsdiff::{
    AddonSpec, DesiredEksObject, EksObjectSpec, FargateProfileSpec, FargateSelector, LiveAddon,
    LiveAws, LiveFargateProfile, LivePodIdentity, ParamValue, PodIdentitySpec,
};
use aws_sdk_eks::types::{FargateProfileSelector, ResolveConflicts};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::{stream, StreamExt, TryStreamExt};
use std::collections::{BTreeMap, HashMap};

/// What one read found.
enum LiveObject {
    Fargate(Option<LiveFargateProfile>),
    Addon(Option<LiveAddon>),
    PodIdentity(Option<LivePodIdentity>),
}

/// A value from the stack outputs read for a step.
fn resolve_with(
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
    v: &ParamValue,
) -> Option<String> {
    match v {
        ParamValue::Literal(s) => Some(s.clone()),
        ParamValue::Secret(s) => Some(s.expose().to_string()),
        ParamValue::StackOutput { stack, output } => {
            outputs.get(stack).and_then(|o| o.get(output)).cloned()
        }
        ParamValue::EksServiceCidr { .. } => None,
    }
}

impl AwsAdapter {
    /// Reads the live state of the EKS objects Git names into `live`.
    pub async fn read_eks_objects(
        &self,
        objects: &[DesiredEksObject],
        live: &mut LiveAws,
    ) -> Result<(), AwsError> {
        let read: Vec<LiveObject> = stream::iter(objects.iter())
            .map(|o| async move {
                Ok::<_, AwsError>(match &o.spec {
                    EksObjectSpec::FargateProfile(f) => LiveObject::Fargate(
                        self.describe_fargate_profile(&o.cluster, &f.name).await?,
                    ),
                    EksObjectSpec::Addon(a) => {
                        LiveObject::Addon(self.describe_addon(&o.cluster, &a.name).await?)
                    }
                    EksObjectSpec::PodIdentityAssociation(p) => LiveObject::PodIdentity(
                        self.describe_pod_identity(&o.cluster, &p.namespace, &p.service_account)
                            .await?,
                    ),
                })
            })
            .buffer_unordered(self.concurrency())
            .try_collect()
            .await?;
        for o in read {
            match o {
                LiveObject::Fargate(Some(p)) => {
                    live.eks_fargate_profiles
                        .entry(p.cluster.clone())
                        .or_default()
                        .insert(p.name.clone(), p);
                }
                LiveObject::Addon(Some(a)) => {
                    live.eks_addons
                        .entry(a.cluster.clone())
                        .or_default()
                        .insert(a.name.clone(), a);
                }
                LiveObject::PodIdentity(Some(p)) => {
                    live.eks_pod_identities
                        .entry(p.cluster.clone())
                        .or_default()
                        .insert(format!("{}/{}", p.namespace, p.service_account), p);
                }
                LiveObject::Fargate(None)
                | LiveObject::Addon(None)
                | LiveObject::PodIdentity(None) => {}
            }
        }
        Ok(())
    }

    /// ListPodIdentityAssociations of the service account, then DescribePodIdentityAssociation of
    /// the one found; `None` when there is none.
    async fn describe_pod_identity(
        &self,
        cluster: &str,
        namespace: &str,
        service_account: &str,
    ) -> Result<Option<LivePodIdentity>, AwsError> {
        let listed = self
            .clients
            .eks
            .list_pod_identity_associations()
            .cluster_name(cluster)
            .namespace(namespace)
            .service_account(service_account)
            .send()
            .await;
        let listed = match listed {
            Ok(r) => r,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(call_error("eks", "ListPodIdentityAssociations", e)),
        };
        let Some(id) = listed
            .associations()
            .iter()
            .find_map(|a| a.association_id())
            .map(str::to_string)
        else {
            return Ok(None);
        };
        let resp = self
            .clients
            .eks
            .describe_pod_identity_association()
            .cluster_name(cluster)
            .association_id(&id)
            .send()
            .await
            .map_err(|e| call_error("eks", "DescribePodIdentityAssociation", e))?;
        Ok(resp.association().map(|a| LivePodIdentity {
            cluster: cluster.to_string(),
            namespace: namespace.to_string(),
            service_account: service_account.to_string(),
            association_id: id.clone(),
            role_arn: a.role_arn().map(str::to_string),
            tags: a
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        }))
    }

    /// Creates a Pod Identity association, or (`association_id`) updates its role. EKS gives an
    /// association no status: done when the call returns.
    pub(super) async fn put_pod_identity(
        &self,
        cluster: &str,
        spec: &PodIdentitySpec,
        association_id: Option<&str>,
    ) -> Result<StepOutcome, AwsError> {
        let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        if let ParamValue::StackOutput { stack, .. } = &spec.role_arn {
            outputs.insert(stack.clone(), self.stack_outputs(stack).await?);
        }
        let resolve = |v: &ParamValue| resolve_with(&outputs, v);
        let req = spec
            .request(cluster, association_id.is_none(), &resolve)
            .map_err(|reason| AwsError::Resolve {
                what: format!(
                    "Pod Identity association {} of cluster {cluster}",
                    spec.name()
                ),
                reason,
            })?;
        match association_id {
            None => {
                self.clients
                    .eks
                    .create_pod_identity_association()
                    .cluster_name(&req.cluster_name)
                    .namespace(&req.namespace)
                    .service_account(&req.service_account)
                    .role_arn(&req.role_arn)
                    .set_tags((!req.tags.is_empty()).then(|| {
                        req.tags
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<HashMap<_, _>>()
                    }))
                    .send()
                    .await
                    .map_err(|e| call_error("eks", "CreatePodIdentityAssociation", e))?;
            }
            Some(id) => {
                self.clients
                    .eks
                    .update_pod_identity_association()
                    .cluster_name(&req.cluster_name)
                    .association_id(id)
                    .role_arn(&req.role_arn)
                    .send()
                    .await
                    .map_err(|e| call_error("eks", "UpdatePodIdentityAssociation", e))?;
            }
        }
        tracing::info!(cluster, association = %spec.name(), "put Pod Identity association");
        Ok(StepOutcome::PodIdentityPut {
            cluster: cluster.to_string(),
            name: spec.name(),
            role: req.role_arn,
        })
    }

    /// DescribeAddon; `None` when it is not installed.
    async fn describe_addon(
        &self,
        cluster: &str,
        name: &str,
    ) -> Result<Option<LiveAddon>, AwsError> {
        let resp = self
            .clients
            .eks
            .describe_addon()
            .cluster_name(cluster)
            .addon_name(name)
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(call_error("eks", "DescribeAddon", e)),
        };
        Ok(resp.addon().map(|a| LiveAddon {
            cluster: cluster.to_string(),
            name: name.to_string(),
            status: a
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            version: a.addon_version().map(str::to_string),
            configuration_values: a.configuration_values().map(str::to_string),
            service_account_role_arn: a.service_account_role_arn().map(str::to_string),
            tags: a
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        }))
    }

    /// Creates (`create`) or updates an add-on, then waits until it is ACTIVE.
    pub(super) async fn put_addon(
        &self,
        cluster: &str,
        addon: &AddonSpec,
        create: bool,
    ) -> Result<StepOutcome, AwsError> {
        let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        if let Some(ParamValue::StackOutput { stack, .. }) = &addon.service_account_role_arn {
            outputs.insert(stack.clone(), self.stack_outputs(stack).await?);
        }
        let resolve = |v: &ParamValue| resolve_with(&outputs, v);
        let req = addon
            .request(cluster, create, &resolve)
            .map_err(|reason| AwsError::Resolve {
                what: format!("add-on {} of cluster {cluster}", addon.name),
                reason,
            })?;
        let conflicts = req.resolve_conflicts.as_deref().map(ResolveConflicts::from);
        if create {
            self.clients
                .eks
                .create_addon()
                .cluster_name(&req.cluster_name)
                .addon_name(&req.addon_name)
                .set_addon_version(req.addon_version.clone())
                .set_service_account_role_arn(req.service_account_role_arn.clone())
                .set_configuration_values(req.configuration_values.clone())
                .set_resolve_conflicts(conflicts)
                .set_tags((!req.tags.is_empty()).then(|| {
                    req.tags
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect::<HashMap<_, _>>()
                }))
                .send()
                .await
                .map_err(|e| call_error("eks", "CreateAddon", e))?;
        } else {
            self.clients
                .eks
                .update_addon()
                .cluster_name(&req.cluster_name)
                .addon_name(&req.addon_name)
                .set_addon_version(req.addon_version.clone())
                .set_service_account_role_arn(req.service_account_role_arn.clone())
                // Git without configuration values clears them.
                .configuration_values(req.configuration_values.clone().unwrap_or_default())
                .set_resolve_conflicts(conflicts)
                .send()
                .await
                .map_err(|e| call_error("eks", "UpdateAddon", e))?;
        }
        tracing::info!(cluster, addon = %addon.name, create, "put add-on");
        let what = format!("add-on {} of cluster {cluster}", addon.name);
        self.wait_active(
            &what,
            |s| s.ends_with("_FAILED"),
            || async {
                Ok(self
                    .describe_addon(cluster, &addon.name)
                    .await?
                    .map(|a| a.status))
            },
        )
        .await?;
        Ok(StepOutcome::AddonActive {
            cluster: cluster.to_string(),
            name: addon.name.clone(),
        })
    }

    /// Polls `status` with backoff (up to the wait deadline) until it says ACTIVE; a status
    /// `failed` accepts is an error naming `what`, as is the deadline. `None`: not visible yet.
    async fn wait_active<F, Fut>(
        &self,
        what: &str,
        failed: impl Fn(&str) -> bool,
        status: F,
    ) -> Result<(), AwsError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<String>, AwsError>>,
    {
        let mut backoff = Backoff::new(self.settings.wait);
        loop {
            match status().await? {
                Some(s) if s == "ACTIVE" => return Ok(()),
                Some(s) if failed(&s) => {
                    return Err(AwsError::Resolve {
                        what: what.to_string(),
                        reason: format!("EKS reports {s}"),
                    })
                }
                s => {
                    backoff
                        .wait(&format!(
                            "{what} ({})",
                            s.as_deref().unwrap_or("not visible yet")
                        ))
                        .await?
                }
            }
        }
    }

    /// DescribeFargateProfile; `None` when it does not exist (nor its cluster).
    async fn describe_fargate_profile(
        &self,
        cluster: &str,
        name: &str,
    ) -> Result<Option<LiveFargateProfile>, AwsError> {
        let resp = self
            .clients
            .eks
            .describe_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(name)
            .send()
            .await;
        let resp = match resp {
            Ok(r) => r,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(call_error("eks", "DescribeFargateProfile", e)),
        };
        Ok(resp.fargate_profile().map(|p| LiveFargateProfile {
            cluster: cluster.to_string(),
            name: name.to_string(),
            status: p
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            pod_execution_role_arn: p.pod_execution_role_arn().map(str::to_string),
            subnets: p.subnets().to_vec(),
            selectors: p
                .selectors()
                .iter()
                .map(|s| FargateSelector {
                    namespace: s.namespace().unwrap_or_default().to_string(),
                    labels: s
                        .labels()
                        .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default(),
                })
                .collect(),
            tags: p
                .tags()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        }))
    }

    /// The outputs of `stack` (DescribeStacks).
    async fn stack_outputs(&self, stack: &str) -> Result<BTreeMap<String, String>, AwsError> {
        let resp = self
            .clients
            .cloudformation
            .describe_stacks()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| call_error("cloudformation", "DescribeStacks", e))?;
        Ok(resp
            .stacks()
            .first()
            .map(|s| {
                s.outputs()
                    .iter()
                    .filter_map(|o| {
                        Some((o.output_key()?.to_string(), o.output_value()?.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Creates a Fargate profile and waits until it is ACTIVE.
    pub(super) async fn create_fargate_profile(
        &self,
        cluster: &str,
        profile: &FargateProfileSpec,
    ) -> Result<StepOutcome, AwsError> {
        // The outputs of each stack the request reads, once.
        let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for v in std::iter::once(&profile.pod_execution_role_arn).chain(profile.subnets.iter()) {
            if let ParamValue::StackOutput { stack, .. } = v {
                if !outputs.contains_key(stack) {
                    let o = self.stack_outputs(stack).await?;
                    outputs.insert(stack.clone(), o);
                }
            }
        }
        let resolve = |v: &ParamValue| resolve_with(&outputs, v);
        let req = profile
            .request(cluster, &resolve)
            .map_err(|reason| AwsError::Resolve {
                what: format!("Fargate profile {} of cluster {cluster}", profile.name),
                reason,
            })?;
        let selectors = req
            .selectors
            .iter()
            .map(|s| {
                FargateProfileSelector::builder()
                    .namespace(&s.namespace)
                    .set_labels((!s.labels.is_empty()).then(|| {
                        s.labels
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<HashMap<_, _>>()
                    }))
                    .build()
            })
            .collect();
        self.clients
            .eks
            .create_fargate_profile()
            .cluster_name(&req.cluster_name)
            .fargate_profile_name(&req.fargate_profile_name)
            .pod_execution_role_arn(&req.pod_execution_role_arn)
            .set_subnets(Some(req.subnets.clone()))
            .set_selectors(Some(selectors))
            .set_tags((!req.tags.is_empty()).then(|| {
                req.tags
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<HashMap<_, _>>()
            }))
            .send()
            .await
            .map_err(|e| call_error("eks", "CreateFargateProfile", e))?;
        tracing::info!(cluster, profile = %profile.name, "created Fargate profile");
        let what = format!("Fargate profile {} of cluster {cluster}", profile.name);
        self.wait_active(
            &what,
            |s| s == "CREATE_FAILED",
            || async {
                Ok(self
                    .describe_fargate_profile(cluster, &profile.name)
                    .await?
                    .map(|p| p.status))
            },
        )
        .await?;
        Ok(StepOutcome::FargateProfileCreated {
            cluster: cluster.to_string(),
            name: profile.name.clone(),
        })
    }

    /// Deletes a Fargate profile and waits until it is gone (one already gone is done).
    pub(super) async fn delete_fargate_profile(
        &self,
        cluster: &str,
        name: &str,
    ) -> Result<StepOutcome, AwsError> {
        match self
            .clients
            .eks
            .delete_fargate_profile()
            .cluster_name(cluster)
            .fargate_profile_name(name)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if e.code() == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(call_error("eks", "DeleteFargateProfile", e)),
        }
        tracing::info!(cluster, profile = %name, "deleting Fargate profile");
        let what = format!("deletion of Fargate profile {name} of cluster {cluster}");
        let mut backoff = Backoff::new(self.settings.wait);
        loop {
            match self.describe_fargate_profile(cluster, name).await? {
                None => {
                    return Ok(StepOutcome::FargateProfileDeleted {
                        cluster: cluster.to_string(),
                        name: name.to_string(),
                    })
                }
                Some(p) if p.status == "DELETE_FAILED" => {
                    return Err(AwsError::Resolve {
                        what,
                        reason: "EKS reports DELETE_FAILED".into(),
                    })
                }
                Some(p) => backoff.wait(&format!("{what} ({})", p.status)).await?,
            }
        }
    }
}
