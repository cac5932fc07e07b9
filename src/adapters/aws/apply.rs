//! Performs plan steps: stack create/update through change sets (execute, wait with exponential
//! backoff and jitter, detect rollback and report the failing resource from the stack events; "no
//! changes" is success), and direct drift corrections (PutRolePolicy, UpdateAutoScalingGroup min/max,
//! CreateOrUpdateTags), and EKS API object steps (Fargate profiles, in `eks.rs`). It runs one step when asked: ordering steps, skipping dependents and
//! cancelling are the executor's (one scheduler, in the core). It deliberately does not plan,
//! delete stacks, or touch desired capacity.

use super::changeset::StackChange;
use super::{call_error, AwsAdapter, AwsError, ResourceFailure, WaitSettings};
use crate::core::awsdiff::{AsgTarget, AwsStep, RoleSource};
use aws_sdk_autoscaling::types::Tag as AsgTag;
use rand::Rng;
use std::time::{Duration, Instant};

/// DescribeStackEvents pages read to find where the failed operation started.
const MAX_EVENT_PAGES: usize = 5;

/// Exponential backoff with jitter for polling, bounded by a deadline.
pub(crate) struct Backoff {
    next: Duration,
    max: Duration,
    started: Instant,
    timeout: Duration,
}

impl Backoff {
    pub fn new(w: WaitSettings) -> Self {
        Self {
            next: w.initial_delay,
            max: w.max_delay,
            started: Instant::now(),
            timeout: w.timeout,
        }
    }

    /// Sleeps for the next delay (between half and all of it, at random), or fails past the deadline.
    pub async fn wait(&mut self, what: &str) -> Result<(), AwsError> {
        let waited = self.started.elapsed();
        if waited >= self.timeout {
            return Err(AwsError::Timeout {
                what: what.to_string(),
                waited,
            });
        }
        let factor: f64 = rand::rng().random_range(0.5..=1.0);
        tokio::time::sleep(self.next.mul_f64(factor)).await;
        self.next = (self.next * 2).min(self.max);
        Ok(())
    }
}

/// What a successful step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// The stack reached `status`; `no_changes` when CloudFormation found nothing to do.
    Stack {
        stack: String,
        status: String,
        no_changes: bool,
    },
    /// A corrected or created inline policy.
    RolePolicyPut { role: String, policy: String },
    /// Corrected Auto Scaling group limits (`None`: left alone).
    AsgLimitsSet {
        asg: String,
        min_size: Option<i64>,
        max_size: Option<i64>,
    },
    /// Corrected Auto Scaling group tags.
    AsgTagsSet { asg: String, keys: Vec<String> },
    /// A Fargate profile was created and is ACTIVE.
    FargateProfileCreated { cluster: String, name: String },
    /// A Fargate profile was deleted (to be created again).
    FargateProfileDeleted { cluster: String, name: String },
    /// An add-on was created or updated and is ACTIVE.
    AddonActive { cluster: String, name: String },
    /// A Pod Identity association was created or given its role.
    PodIdentityPut {
        cluster: String,
        name: String,
        role: String,
    },
}

fn stack_status_class(status: &str) -> Option<bool> {
    match status {
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" => Some(true),
        "ROLLBACK_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "DELETE_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE" => Some(false),
        s if s.ends_with("_FAILED") => Some(false),
        _ => None,
    }
}

impl AwsAdapter {
    /// Performs one step.
    pub async fn apply_step(&self, step: &AwsStep) -> Result<StepOutcome, AwsError> {
        match step {
            AwsStep::CreateStack { .. } | AwsStep::UpdateStack { .. } => {
                let Some(change) = StackChange::from_step(step) else {
                    return Err(AwsError::Resolve {
                        what: "stack step".into(),
                        reason: "not a stack step".into(),
                    });
                };
                self.apply_stack(&change).await
            }
            AwsStep::PutRolePolicy {
                role,
                policy_name,
                document,
            } => {
                let role_name = self.resolve_role(role).await?;
                let body = serde_json::to_string(document).map_err(|e| AwsError::Resolve {
                    what: format!("policy {policy_name}"),
                    reason: e.to_string(),
                })?;
                self.clients
                    .iam
                    .put_role_policy()
                    .role_name(&role_name)
                    .policy_name(policy_name)
                    .policy_document(body)
                    .send()
                    .await
                    .map_err(|e| call_error("iam", "PutRolePolicy", e))?;
                tracing::info!(role = %role_name, policy = %policy_name, "put inline role policy");
                Ok(StepOutcome::RolePolicyPut {
                    role: role_name,
                    policy: policy_name.clone(),
                })
            }
            AwsStep::SetAsgLimits {
                asg,
                min_size,
                max_size,
            } => self.set_asg_limits(asg, *min_size, *max_size).await,
            AwsStep::CreateFargateProfile { cluster, profile } => {
                self.create_fargate_profile(cluster, profile).await
            }
            AwsStep::DeleteFargateProfile { cluster, name, .. } => {
                self.delete_fargate_profile(cluster, name).await
            }
            AwsStep::CreateAddon { cluster, addon } => self.put_addon(cluster, addon, true).await,
            AwsStep::CreatePodIdentityAssociation {
                cluster,
                association,
            } => self.put_pod_identity(cluster, association, None).await,
            AwsStep::UpdatePodIdentityAssociation {
                cluster,
                association_id,
                association,
            } => {
                self.put_pod_identity(cluster, association, Some(association_id))
                    .await
            }
            AwsStep::UpdateAddon { cluster, addon } => self.put_addon(cluster, addon, false).await,
            AwsStep::SetAsgTags { asg, tags } => {
                let list = tags
                    .iter()
                    .map(|(k, v)| {
                        AsgTag::builder()
                            .resource_id(&asg.name)
                            .resource_type("auto-scaling-group")
                            .key(k)
                            .value(v)
                            .propagate_at_launch(true)
                            .build()
                    })
                    .collect::<Vec<_>>();
                self.clients
                    .autoscaling
                    .create_or_update_tags()
                    .set_tags(Some(list))
                    .send()
                    .await
                    .map_err(|e| call_error("autoscaling", "CreateOrUpdateTags", e))?;
                Ok(StepOutcome::AsgTagsSet {
                    asg: asg.name.clone(),
                    keys: tags.keys().cloned().collect(),
                })
            }
        }
    }

    async fn set_asg_limits(
        &self,
        asg: &AsgTarget,
        min_size: Option<i64>,
        max_size: Option<i64>,
    ) -> Result<StepOutcome, AwsError> {
        let to_i32 = |v: Option<i64>, what: &str| -> Result<Option<i32>, AwsError> {
            v.map(|x| {
                i32::try_from(x).map_err(|_| AwsError::Resolve {
                    what: format!("{what} of {}", asg.name),
                    reason: format!("{x} is out of range"),
                })
            })
            .transpose()
        };
        self.clients
            .autoscaling
            .update_auto_scaling_group()
            .auto_scaling_group_name(&asg.name)
            .set_min_size(to_i32(min_size, "MinSize")?)
            .set_max_size(to_i32(max_size, "MaxSize")?)
            .send()
            .await
            .map_err(|e| call_error("autoscaling", "UpdateAutoScalingGroup", e))?;
        tracing::info!(asg = %asg.name, ?min_size, ?max_size, "corrected Auto Scaling group limits");
        Ok(StepOutcome::AsgLimitsSet {
            asg: asg.name.clone(),
            min_size,
            max_size,
        })
    }

    async fn resolve_role(&self, role: &RoleSource) -> Result<String, AwsError> {
        match role {
            RoleSource::Name(n) => Ok(n.clone()),
            RoleSource::StackResource { stack, logical_id } => {
                // ListStackResources, as the live read does: one paginated call that also works
                // while other resources of the stack are still being created.
                let mut token = None;
                loop {
                    let resp = self
                        .clients
                        .cloudformation
                        .list_stack_resources()
                        .stack_name(stack)
                        .set_next_token(token.take())
                        .send()
                        .await
                        .map_err(|e| call_error("cloudformation", "ListStackResources", e))?;
                    let found = resp
                        .stack_resource_summaries()
                        .iter()
                        .find(|r| r.logical_resource_id() == Some(logical_id.as_str()));
                    if let Some(r) = found {
                        return r.physical_resource_id().map(str::to_string).ok_or_else(|| {
                            AwsError::Resolve {
                                what: format!("role {stack}/{logical_id}"),
                                reason: "the stack resource has no physical id yet".into(),
                            }
                        });
                    }
                    match resp.next_token() {
                        Some(t) if !t.is_empty() => token = Some(t.to_string()),
                        _ => {
                            return Err(AwsError::Resolve {
                                what: format!("role {stack}/{logical_id}"),
                                reason: format!("stack {stack} has no resource {logical_id}"),
                            })
                        }
                    }
                }
            }
        }
    }

    async fn apply_stack(&self, change: &StackChange<'_>) -> Result<StepOutcome, AwsError> {
        let described = self.create_and_describe(change).await?;
        if described.no_changes {
            // A failed change set stays around; remove it so the next run can reuse the name.
            self.delete_change_set(change.stack, change.change_set_name)
                .await?;
            return Ok(StepOutcome::Stack {
                stack: change.stack.to_string(),
                status: "NO_CHANGES".into(),
                no_changes: true,
            });
        }
        self.clients
            .cloudformation
            .execute_change_set()
            .stack_name(change.stack)
            .change_set_name(change.change_set_name)
            .send()
            .await
            .map_err(|e| call_error("cloudformation", "ExecuteChangeSet", e))?;
        self.cache.evict_stack(change.stack);
        let status = self.wait_stack(change.stack).await;
        self.cache.evict_stack(change.stack);
        let status = status?;
        Ok(StepOutcome::Stack {
            stack: change.stack.to_string(),
            status,
            no_changes: false,
        })
    }

    /// Polls DescribeStacks until the stack settles; a rollback or failure is an error naming the
    /// first failing resource.
    pub async fn wait_stack(&self, stack: &str) -> Result<String, AwsError> {
        let mut backoff = Backoff::new(self.settings.wait);
        loop {
            let resp = self
                .clients
                .cloudformation
                .describe_stacks()
                .stack_name(stack)
                .send()
                .await
                .map_err(|e| call_error("cloudformation", "DescribeStacks", e))?;
            let status = resp
                .stacks()
                .first()
                .and_then(|s| s.stack_status())
                .map(|s| s.as_str().to_string())
                .unwrap_or_default();
            match stack_status_class(&status) {
                Some(true) => return Ok(status),
                Some(false) => {
                    let failure = self.first_failure(stack).await?;
                    return Err(AwsError::StackFailed {
                        stack: stack.to_string(),
                        status,
                        failure: failure.map(Box::new),
                    });
                }
                None => backoff.wait(&format!("stack {stack} ({status})")).await?,
            }
        }
    }

    /// The earliest resource failure of the latest operation, from DescribeStackEvents (newest
    /// first; the operation starts at the stack's own "User Initiated" event).
    async fn first_failure(&self, stack: &str) -> Result<Option<ResourceFailure>, AwsError> {
        let mut first = None;
        let mut token: Option<String> = None;
        // Events come newest first, 100 a page; the operation's start is rarely far back.
        for _page in 0..MAX_EVENT_PAGES {
            let resp = self
                .clients
                .cloudformation
                .describe_stack_events()
                .stack_name(stack)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| call_error("cloudformation", "DescribeStackEvents", e))?;
            for e in resp.stack_events() {
                let logical = e.logical_resource_id().unwrap_or_default();
                let status = e.resource_status().map(|s| s.as_str()).unwrap_or_default();
                let is_stack =
                    e.resource_type() == Some("AWS::CloudFormation::Stack") && logical == stack;
                if is_stack
                    && status.ends_with("_IN_PROGRESS")
                    && e.resource_status_reason() == Some("User Initiated")
                {
                    return Ok(first);
                }
                if !is_stack && status.ends_with("_FAILED") {
                    first = Some(ResourceFailure {
                        logical_id: logical.to_string(),
                        resource_type: e.resource_type().unwrap_or_default().to_string(),
                        status: status.to_string(),
                        reason: e.resource_status_reason().unwrap_or_default().to_string(),
                    });
                }
            }
            match resp.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(first)
    }
}
