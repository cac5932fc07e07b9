//! Change sets: create (CREATE or UPDATE), wait until described, describe with every resource change
//! (action, and where AWS says so, Replacement and its causes), delete. Parameters that read another
//! stack's outputs are resolved here, just before the call. It deliberately does not execute change
//! sets (see `apply`) nor estimate replacement (`core::awsdiff::annotate_preview` does).

use super::apply::Backoff;
use super::{call_error, AwsAdapter, AwsError};
use crate::core::awsdiff::{
    annotate_preview, AwsPlan, AwsStep, ChangeSetPreview, ParamValue, RawChangeDetail,
    RawResourceChange, TemplateDiff,
};
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::{stream, StreamExt};
use std::collections::BTreeMap;

/// Texts CloudFormation uses for a change set that changes nothing.
const NO_CHANGES: &[&str] = &["didn't contain changes", "No updates are to be performed"];

/// A change set's described state.
#[derive(Debug, Clone)]
pub(crate) struct Described {
    pub id: Option<String>,
    pub status: String,
    pub reason: Option<String>,
    pub no_changes: bool,
    pub changes: Vec<RawResourceChange>,
}

/// The stack-change fields of a create or update step.
pub(crate) struct StackChange<'a> {
    pub stack: &'a str,
    pub change_set_name: &'a str,
    pub template: &'a serde_json::Value,
    pub parameters: &'a BTreeMap<String, ParamValue>,
    pub tags: &'a BTreeMap<String, String>,
    pub kind: ChangeSetType,
}

impl<'a> StackChange<'a> {
    pub fn from_step(step: &'a AwsStep) -> Option<Self> {
        let kind = match step {
            AwsStep::CreateStack { .. } => ChangeSetType::Create,
            AwsStep::UpdateStack { .. } => ChangeSetType::Update,
            _ => return None,
        };
        match step {
            AwsStep::CreateStack {
                stack,
                change_set_name,
                template,
                parameters,
                tags,
            }
            | AwsStep::UpdateStack {
                stack,
                change_set_name,
                template,
                parameters,
                tags,
            } => Some(Self {
                stack,
                change_set_name,
                template,
                parameters,
                tags,
                kind,
            }),
            _ => None,
        }
    }
}

impl AwsAdapter {
    /// Previews every stack step of `plan` (bounded concurrency), each with its template diff for
    /// replacement estimates. A step whose parameters wait for a stack that is not applied yet gets
    /// an [`AwsError::Resolve`] ("known after apply").
    pub async fn preview_plan(
        &self,
        plan: &AwsPlan,
    ) -> Vec<(usize, Result<ChangeSetPreview, AwsError>)> {
        let stack_steps = plan
            .steps
            .iter()
            .filter(|s| StackChange::from_step(&s.step).is_some());
        stream::iter(stack_steps)
            .map(|s| async move {
                let diff = StackChange::from_step(&s.step).and_then(|c| {
                    plan.stacks
                        .iter()
                        .find(|p| p.name == c.stack)
                        .and_then(|p| p.template_diff.as_ref())
                });
                (s.id, self.preview(&s.step, diff).await)
            })
            .buffered(self.concurrency())
            .collect()
            .await
    }

    /// Creates the step's change set, describes it and deletes it again: a preview that changes
    /// nothing. `diff` (the template diff of the plan) lets eksync estimate replacement where the
    /// endpoint gives no detail.
    pub async fn preview(
        &self,
        step: &AwsStep,
        diff: Option<&TemplateDiff>,
    ) -> Result<ChangeSetPreview, AwsError> {
        let Some(change) = StackChange::from_step(step) else {
            return Err(AwsError::Resolve {
                what: "preview".into(),
                reason: "only stack steps have change sets".into(),
            });
        };
        let described = self.create_and_describe(&change).await?;
        let preview = ChangeSetPreview {
            stack: change.stack.to_string(),
            change_set_name: change.change_set_name.to_string(),
            change_set_id: described.id.clone(),
            status: described.status.clone(),
            status_reason: described.reason.clone(),
            no_changes: described.no_changes,
            changes: annotate_preview(&described.changes, diff),
        };
        self.delete_change_set(change.stack, change.change_set_name)
            .await?;
        if change.kind == ChangeSetType::Create {
            self.remove_empty_review_stack(change.stack).await?;
        }
        Ok(preview)
    }

    /// Resolves parameters, creates the change set (replacing a leftover one of the same name) and
    /// waits until it is described.
    pub(crate) async fn create_and_describe(
        &self,
        change: &StackChange<'_>,
    ) -> Result<Described, AwsError> {
        let parameters = self
            .resolve_parameters(change.stack, change.parameters)
            .await?;
        let body = serde_json::to_string(change.template).map_err(|e| AwsError::Template {
            stack: change.stack.to_string(),
            reason: e.to_string(),
        })?;
        for attempt in 0..2 {
            let resp = self
                .clients
                .cloudformation
                .create_change_set()
                .stack_name(change.stack)
                .change_set_name(change.change_set_name)
                .change_set_type(change.kind.clone())
                .template_body(&body)
                .set_parameters(Some(parameters.clone()))
                .set_tags(Some(
                    change
                        .tags
                        .iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build())
                        .collect(),
                ))
                .capabilities(Capability::CapabilityIam)
                .capabilities(Capability::CapabilityNamedIam)
                .set_role_arn(self.settings.cfn_role_arn.clone())
                .send()
                .await;
            match resp {
                Ok(_) => break,
                Err(e) if attempt == 0 && e.code() == Some("AlreadyExistsException") => {
                    self.delete_change_set(change.stack, change.change_set_name)
                        .await?;
                }
                Err(e) => return Err(call_error("cloudformation", "CreateChangeSet", e)),
            }
        }
        self.wait_change_set(change.stack, change.change_set_name)
            .await
    }

    async fn resolve_parameters(
        &self,
        stack: &str,
        params: &BTreeMap<String, ParamValue>,
    ) -> Result<Vec<Parameter>, AwsError> {
        let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut out = Vec::new();
        for (key, value) in params {
            let resolved = match value {
                ParamValue::Literal(v) => v.clone(),
                ParamValue::Secret(v) => v.expose().to_string(),
                ParamValue::EksServiceCidr { cluster } => {
                    let resp = self
                        .clients
                        .eks
                        .describe_cluster()
                        .name(cluster)
                        .send()
                        .await
                        .map_err(|e| call_error("eks", "DescribeCluster", e))?;
                    resp.cluster()
                        .and_then(|c| c.kubernetes_network_config())
                        .and_then(|k| k.service_ipv4_cidr())
                        .map(str::to_string)
                        .ok_or_else(|| AwsError::Resolve {
                            what: format!("parameter {key} of stack {stack}"),
                            reason: format!("EKS cluster {cluster} reports no service CIDR"),
                        })?
                }
                ParamValue::StackOutput {
                    stack: producer,
                    output,
                } => {
                    if !outputs.contains_key(producer) {
                        let resp = self
                            .clients
                            .cloudformation
                            .describe_stacks()
                            .stack_name(producer)
                            .send()
                            .await
                            .map_err(|e| call_error("cloudformation", "DescribeStacks", e))?;
                        let map = resp
                            .stacks()
                            .first()
                            .map(|s| {
                                s.outputs()
                                    .iter()
                                    .filter_map(|o| {
                                        Some((
                                            o.output_key()?.to_string(),
                                            o.output_value()?.to_string(),
                                        ))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default();
                        outputs.insert(producer.clone(), map);
                    }
                    outputs
                        .get(producer)
                        .and_then(|m| m.get(output))
                        .cloned()
                        .ok_or_else(|| AwsError::Resolve {
                            what: format!("parameter {key} of stack {stack}"),
                            reason: format!(
                                "stack {producer} has no output {output} (known after it applies)"
                            ),
                        })?
                }
            };
            out.push(
                Parameter::builder()
                    .parameter_key(key)
                    .parameter_value(resolved)
                    .build(),
            );
        }
        Ok(out)
    }

    /// Polls DescribeChangeSet until the change set is created or failed, then reads every page.
    pub(crate) async fn wait_change_set(
        &self,
        stack: &str,
        name: &str,
    ) -> Result<Described, AwsError> {
        let mut backoff = Backoff::new(self.settings.wait);
        loop {
            let mut token: Option<String> = None;
            let mut described = Described {
                id: None,
                status: String::new(),
                reason: None,
                no_changes: false,
                changes: Vec::new(),
            };
            loop {
                let resp = self
                    .clients
                    .cloudformation
                    .describe_change_set()
                    .stack_name(stack)
                    .change_set_name(name)
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| call_error("cloudformation", "DescribeChangeSet", e))?;
                described.id = resp.change_set_id().map(str::to_string);
                described.status = resp
                    .status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                described.reason = resp.status_reason().map(str::to_string);
                described.changes.extend(
                    resp.changes()
                        .iter()
                        .filter_map(|c| c.resource_change())
                        .map(|r| RawResourceChange {
                            logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                            resource_type: r.resource_type().unwrap_or_default().to_string(),
                            physical_id: r.physical_resource_id().map(str::to_string),
                            action: r
                                .action()
                                .map(|a| a.as_str().to_string())
                                .unwrap_or_default(),
                            replacement: r.replacement().map(|x| x.as_str().to_string()),
                            details: r
                                .details()
                                .iter()
                                .map(|d| {
                                    let target = d.target();
                                    RawChangeDetail {
                                        attribute: target
                                            .and_then(|t| t.attribute())
                                            .map(|a| a.as_str().to_string()),
                                        name: target.and_then(|t| t.name()).map(str::to_string),
                                        requires_recreation: target
                                            .and_then(|t| t.requires_recreation())
                                            .map(|r| r.as_str().to_string()),
                                        change_source: d
                                            .change_source()
                                            .map(|s| s.as_str().to_string()),
                                        causing_entity: d.causing_entity().map(str::to_string),
                                    }
                                })
                                .collect(),
                        }),
                );
                match resp.next_token() {
                    Some(t) if !t.is_empty() && described.status == "CREATE_COMPLETE" => {
                        token = Some(t.to_string())
                    }
                    _ => break,
                }
            }
            match described.status.as_str() {
                "CREATE_COMPLETE" => return Ok(described),
                "FAILED" => {
                    let reason = described.reason.clone().unwrap_or_default();
                    if NO_CHANGES.iter().any(|t| reason.contains(t)) {
                        described.no_changes = true;
                        return Ok(described);
                    }
                    return Err(AwsError::ChangeSetFailed {
                        stack: stack.to_string(),
                        change_set: name.to_string(),
                        reason,
                    });
                }
                _ => {
                    backoff
                        .wait(&format!("change set {name} of stack {stack}"))
                        .await?
                }
            }
        }
    }

    /// A CREATE change set makes an empty stack in REVIEW_IN_PROGRESS. After a preview, remove it
    /// when it is still empty and has no other change sets, so a preview leaves nothing behind. A
    /// stack in that state has no resources to lose.
    async fn remove_empty_review_stack(&self, stack: &str) -> Result<(), AwsError> {
        let cf = &self.clients.cloudformation;
        let described = match cf.describe_stacks().stack_name(stack).send().await {
            Ok(r) => r,
            Err(e) if e.code() == Some("ValidationError") => return Ok(()),
            Err(e) => return Err(call_error("cloudformation", "DescribeStacks", e)),
        };
        let Some(live) = described.stacks().first() else {
            return Ok(());
        };
        if live.stack_status().map(|s| s.as_str()) != Some("REVIEW_IN_PROGRESS") {
            return Ok(());
        }
        let others = cf
            .list_change_sets()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| call_error("cloudformation", "ListChangeSets", e))?;
        // Delete by id, so only the stack this preview made can be removed.
        let id = live.stack_id().unwrap_or(stack);
        let of_this_stack = |c: &&aws_sdk_cloudformation::types::ChangeSetSummary| {
            c.stack_id()
                .map_or(c.stack_name() == Some(stack), |i| i == id)
        };
        if others.summaries().iter().any(|c| of_this_stack(&c)) {
            return Ok(());
        }
        cf.delete_stack()
            .stack_name(id)
            .send()
            .await
            .map_err(|e| call_error("cloudformation", "DeleteStack", e))?;
        self.cache.evict_stack(stack);
        Ok(())
    }

    /// Deletes a change set (it must not have been executed).
    pub async fn delete_change_set(&self, stack: &str, name: &str) -> Result<(), AwsError> {
        self.clients
            .cloudformation
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(name)
            .send()
            .await
            .map_err(|e| call_error("cloudformation", "DeleteChangeSet", e))?;
        Ok(())
    }
}
