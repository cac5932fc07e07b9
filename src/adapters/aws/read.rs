//! Live read: stacks (status, parameters, tags, outputs), their deployed templates and physical
//! resources (cached by stack id and last-changed time), and the live values drift detection needs
//! (Auto Scaling groups in batches, inline role policies, EKS clusters and managed node groups). A
//! stack that does not exist is simply absent from the snapshot ("to create"). It deliberately does
//! not compare anything: that is `core::awsdiff`.

use super::{call_error, AwsAdapter, AwsError};
use crate::core::awsdiff::{
    live_reads_needed, normalize_policy_text, DesiredRolePolicy, DesiredStack, LiveAsg, LiveAws,
    LiveEksCluster, LiveNodegroup, LiveRolePolicy, LiveStack, LiveStackResource, ParamValue,
    RoleSource,
};
use aws_sdk_cloudformation::types::{Stack, TemplateStage};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::{stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// Auto Scaling groups named per DescribeAutoScalingGroups call.
const ASG_BATCH: usize = 50;

/// A deployed template and the stack's resources, valid while the stack's last-changed time is
/// `last_changed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedStack {
    pub last_changed: Option<String>,
    pub template: Value,
    pub resources: Vec<LiveStackResource>,
}

/// Deployed templates and resources by stack id. Shared by clones of the adapter.
#[derive(Debug, Clone, Default)]
pub struct StackCache {
    entries: Arc<Mutex<HashMap<String, CachedStack>>>,
    /// Stack ids read or written by this process: what is worth persisting.
    used: Arc<Mutex<BTreeSet<String>>>,
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked while holding it; the map is whole.
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl StackCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedStack>> {
        locked(&self.entries)
    }

    fn get(&self, stack_id: &str, last_changed: &Option<String>) -> Option<CachedStack> {
        locked(&self.used).insert(stack_id.to_string());
        self.lock()
            .get(stack_id)
            .filter(|c| &c.last_changed == last_changed)
            .cloned()
    }

    fn put(&self, stack_id: &str, entry: CachedStack) {
        locked(&self.used).insert(stack_id.to_string());
        self.lock().insert(stack_id.to_string(), entry);
    }

    /// The entries of the stacks this process read: what a later run can reuse.
    pub fn export_used(&self) -> BTreeMap<String, CachedStack> {
        let used = locked(&self.used).clone();
        self.lock()
            .iter()
            .filter(|(k, _)| used.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Drops every entry of stack `name` (after eksync changed it: some endpoints do not move the
    /// last-changed time on update).
    pub fn evict_stack(&self, name: &str) {
        let marker = format!(":stack/{name}/");
        self.lock().retain(|id, _| !id.contains(&marker));
    }

    /// All entries, to persist them.
    pub fn export(&self) -> BTreeMap<String, CachedStack> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Loads persisted entries.
    pub fn import(&self, entries: BTreeMap<String, CachedStack>) {
        self.lock().extend(entries);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn stack_names_to_read(
    stacks: &[DesiredStack],
    policies: &[DesiredRolePolicy],
) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for s in stacks {
        names.insert(s.name.clone());
        names.extend(s.depends_on.iter().cloned());
        for p in s.parameters.values() {
            if let ParamValue::StackOutput { stack, .. } = p {
                names.insert(stack.clone());
            }
        }
    }
    for p in policies {
        if let RoleSource::StackResource { stack, .. } = &p.role {
            names.insert(stack.clone());
        }
    }
    names
}

fn last_changed(stack: &Stack) -> Option<String> {
    stack
        .last_updated_time()
        .or(stack.creation_time())
        .and_then(|t| t.fmt(Format::DateTime).ok())
}

/// Key/value lists as a map; entries without a key are dropped, a missing value is empty.
fn pairs<T>(
    items: &[T],
    kv: impl Fn(&T) -> (Option<&str>, Option<&str>),
) -> BTreeMap<String, String> {
    items
        .iter()
        .filter_map(|item| {
            let (k, v) = kv(item);
            Some((k?.to_string(), v.unwrap_or_default().to_string()))
        })
        .collect()
}

fn to_live(stack: &Stack) -> LiveStack {
    LiveStack {
        name: stack.stack_name().unwrap_or_default().to_string(),
        id: stack.stack_id().unwrap_or_default().to_string(),
        status: stack
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        status_reason: stack.stack_status_reason().map(str::to_string),
        parameters: pairs(stack.parameters(), |p| {
            (p.parameter_key(), p.parameter_value())
        }),
        tags: pairs(stack.tags(), |t| (t.key(), t.value())),
        outputs: pairs(stack.outputs(), |o| (o.output_key(), o.output_value())),
        template: Value::Null,
        resources: Vec::new(),
        last_changed: last_changed(stack),
    }
}

impl AwsAdapter {
    /// Reads everything the plan needs for these desired stacks and role policies.
    pub async fn read_live(
        &self,
        stacks: &[DesiredStack],
        policies: &[DesiredRolePolicy],
    ) -> Result<LiveAws, AwsError> {
        let names = stack_names_to_read(stacks, policies);
        let described = self.describe_stacks(&names).await?;
        let live_stacks: Vec<LiveStack> = stream::iter(described.iter().map(to_live))
            .map(|s| self.complete_stack(s))
            .buffer_unordered(self.concurrency())
            .try_collect()
            .await?;
        let mut live = LiveAws {
            stacks: live_stacks
                .into_iter()
                .map(|s| (s.name.clone(), s))
                .collect(),
            ..Default::default()
        };
        let req = live_reads_needed(stacks, policies, &live.stacks);
        live.asgs = self.read_asgs(&req.asg_names).await?;
        let policies_read: Vec<LiveRolePolicy> = stream::iter(req.role_policies.iter().cloned())
            .map(|(role, name)| self.read_role_policy(role, name))
            .buffer_unordered(self.concurrency())
            .try_collect()
            .await?;
        for p in policies_read {
            live.insert_role_policy(p);
        }
        for name in &req.eks_clusters {
            if let Some(c) = self.read_eks_cluster(name).await? {
                live.eks_clusters.insert(name.clone(), c);
            }
        }
        for (cluster, name) in &req.eks_nodegroups {
            if let Some(ng) = self.read_nodegroup(cluster, name).await? {
                live.eks_nodegroups
                    .entry(cluster.clone())
                    .or_default()
                    .insert(name.clone(), ng);
            }
        }
        Ok(live)
    }

    /// DescribeStacks: one paginated listing when many stacks are wanted, else one call per name.
    async fn describe_stacks(&self, names: &BTreeSet<String>) -> Result<Vec<Stack>, AwsError> {
        let cf = &self.clients.cloudformation;
        let mut out = Vec::new();
        if names.len() >= self.settings.list_all_threshold {
            let all: Vec<Stack> = cf
                .describe_stacks()
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| call_error("cloudformation", "DescribeStacks", e))?;
            out.extend(
                all.into_iter()
                    .filter(|s| s.stack_name().is_some_and(|n| names.contains(n))),
            );
        } else {
            let found: Vec<Option<Stack>> = stream::iter(names.iter().cloned())
                .map(|name| async move {
                    match cf.describe_stacks().stack_name(name).send().await {
                        Ok(resp) => Ok(resp.stacks().first().cloned()),
                        Err(e)
                            if e.code() == Some("ValidationError")
                                && e.message().is_some_and(|m| m.contains("does not exist")) =>
                        {
                            Ok(None)
                        }
                        Err(e) => Err(call_error("cloudformation", "DescribeStacks", e)),
                    }
                })
                .buffer_unordered(self.concurrency())
                .try_collect()
                .await?;
            out.extend(found.into_iter().flatten());
        }
        Ok(out
            .into_iter()
            .filter(|s| s.stack_status().map(|st| st.as_str()) != Some("DELETE_COMPLETE"))
            .collect())
    }

    /// Fills the template and resources, from the cache when the stack has not changed.
    async fn complete_stack(&self, mut stack: LiveStack) -> Result<LiveStack, AwsError> {
        if stack.status == "REVIEW_IN_PROGRESS" {
            return Ok(stack);
        }
        if let Some(hit) = self.cache.get(&stack.id, &stack.last_changed) {
            stack.template = hit.template;
            stack.resources = hit.resources;
            return Ok(stack);
        }
        let cf = &self.clients.cloudformation;
        let body = cf
            .get_template()
            .stack_name(&stack.name)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| call_error("cloudformation", "GetTemplate", e))?;
        let text = body.template_body().unwrap_or_default();
        stack.template = serde_json::from_str(text).map_err(|e| AwsError::Template {
            stack: stack.name.clone(),
            reason: format!("not JSON ({e}); eksync deploys JSON templates"),
        })?;
        let summaries = cf
            .list_stack_resources()
            .stack_name(&stack.name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("cloudformation", "ListStackResources", e))?;
        stack.resources = summaries
            .iter()
            .map(|r| LiveStackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                physical_id: r.physical_resource_id().map(str::to_string),
                resource_type: r.resource_type().unwrap_or_default().to_string(),
                status: r
                    .resource_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            })
            .collect();
        if !stack.status.ends_with("_IN_PROGRESS") {
            self.cache.put(
                &stack.id,
                CachedStack {
                    last_changed: stack.last_changed.clone(),
                    template: stack.template.clone(),
                    resources: stack.resources.clone(),
                },
            );
        }
        Ok(stack)
    }

    /// DescribeAutoScalingGroups for the named groups, [`ASG_BATCH`] names per call.
    pub(crate) async fn read_asgs(
        &self,
        names: &BTreeSet<String>,
    ) -> Result<BTreeMap<String, LiveAsg>, AwsError> {
        let names: Vec<String> = names.iter().cloned().collect();
        let mut out = BTreeMap::new();
        for chunk in names.chunks(ASG_BATCH) {
            let groups = self
                .clients
                .autoscaling
                .describe_auto_scaling_groups()
                .set_auto_scaling_group_names(Some(chunk.to_vec()))
                .max_records(100)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| call_error("autoscaling", "DescribeAutoScalingGroups", e))?;
            for g in groups {
                let name = g.auto_scaling_group_name().unwrap_or_default().to_string();
                let asg = LiveAsg {
                    name: name.clone(),
                    min_size: g.min_size().unwrap_or_default().into(),
                    max_size: g.max_size().unwrap_or_default().into(),
                    desired_capacity: g.desired_capacity().unwrap_or_default().into(),
                    tags: pairs(g.tags(), |t| (t.key(), t.value())),
                };
                out.insert(name, asg);
            }
        }
        Ok(out)
    }

    /// GetRolePolicy; a missing role or policy reads as "no document".
    async fn read_role_policy(
        &self,
        role: String,
        policy: String,
    ) -> Result<LiveRolePolicy, AwsError> {
        let resp = self
            .clients
            .iam
            .get_role_policy()
            .role_name(&role)
            .policy_name(&policy)
            .send()
            .await;
        let document = match resp {
            Ok(r) => Some(
                normalize_policy_text(r.policy_document()).map_err(|reason| AwsError::Resolve {
                    what: format!("policy {policy} of role {role}"),
                    reason,
                })?,
            ),
            Err(e) if e.code() == Some("NoSuchEntity") => None,
            Err(e) => return Err(call_error("iam", "GetRolePolicy", e)),
        };
        Ok(LiveRolePolicy {
            role_name: role,
            policy_name: policy,
            document,
        })
    }

    async fn read_eks_cluster(&self, name: &str) -> Result<Option<LiveEksCluster>, AwsError> {
        match self.clients.eks.describe_cluster().name(name).send().await {
            Ok(r) => Ok(r.cluster().map(|c| LiveEksCluster {
                name: name.to_string(),
                version: c.version().map(str::to_string),
                status: c.status().map(|s| s.as_str().to_string()),
                service_ipv4_cidr: c
                    .kubernetes_network_config()
                    .and_then(|k| k.service_ipv4_cidr())
                    .map(str::to_string),
            })),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(call_error("eks", "DescribeCluster", e)),
        }
    }

    async fn read_nodegroup(
        &self,
        cluster: &str,
        name: &str,
    ) -> Result<Option<LiveNodegroup>, AwsError> {
        match self
            .clients
            .eks
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .send()
            .await
        {
            Ok(r) => Ok(r.nodegroup().map(|n| {
                let scaling = n.scaling_config();
                LiveNodegroup {
                    cluster: cluster.to_string(),
                    name: name.to_string(),
                    min_size: scaling.and_then(|s| s.min_size()).map(i64::from),
                    max_size: scaling.and_then(|s| s.max_size()).map(i64::from),
                    desired_size: scaling.and_then(|s| s.desired_size()).map(i64::from),
                    labels: n
                        .labels()
                        .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default(),
                }
            })),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(call_error("eks", "DescribeNodegroup", e)),
        }
    }
}
