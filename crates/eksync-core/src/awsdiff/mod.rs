//! Pure AWS comparison and planning: what differs between the desired AWS state rendered from Git and
//! a live snapshot read by the AWS adapter, and which steps would correct it, in dependency order.
//!
//! It does:
//! - structural template diffs on normalized JSON (key order and whitespace never count), with a
//!   readable unified diff and an RFC 6902 JSON patch, plus parameter and stack-tag diffs
//!   ([`diff`]);
//! - IAM policy normalization, including the URL-encoded documents IAM returns ([`normalize`]);
//! - resource drift: live values (Auto Scaling group sizes and tags, inline role policies, EKS
//!   settings) against what the *deployed* template says, each drift with an owner
//!   ([`drift`]). The desired capacity of an Auto Scaling group tagged
//!   `k8s.io/cluster-autoscaler/enabled` belongs to the cluster-autoscaler and is never a drift to
//!   correct;
//! - a table of properties known to force replacement, used when the endpoint gives no replacement
//!   detail in a change set ([`replacement`]);
//! - the plan: ordered steps as data ([`plan`]), and its Markdown preview ([`summary`]);
//! - EKS API objects eksctl creates without CloudFormation (Fargate profiles): desired vs live,
//!   create or delete-then-create where EKS cannot change a field, as steps ([`eks`]);
//! - the mapping from rendered stacks and `IAMRolePolicy` documents to its inputs ([`desired`]).
//!
//! It deliberately does not do I/O, async, or read the clock (time is passed in), and it never sees
//! an SDK type: the adapter (`crate::adapters::aws`) fills [`LiveAws`] and performs [`AwsStep`]s.
//!
//! # Inputs the core produces
//! - [`DesiredStack`], one per CloudFormation stack, in the graph's order: `name`
//!   (`eksctl-<cluster>-cluster`, `eksctl-<cluster>-nodegroup-<ng>`), the rendered `template`,
//!   `parameters` (literals or [`ParamValue::StackOutput`] for values that flow from another stack:
//!   these add a dependency and are "known after apply" until the producer exists), stack `tags`,
//!   `depends_on` (names of stacks this one waits for; output references are added automatically),
//!   the [`DriftMode`] and [`OwnerRule`]s (for example `NodeGroup`/`DesiredCapacity` belongs to
//!   [`Owner::ClusterAutoscaler`]).
//! - [`DesiredRolePolicy`] for inline policies that are not in a template (the scenario's
//!   `ASG-Policy-For-Worker`): the role as a [`RoleSource`] (a literal name, or a stack plus the
//!   logical id of its `AWS::IAM::Role`, resolved from live stack resources), the policy name and
//!   document, and its [`DriftMode`].

pub mod desired;
pub mod diff;
pub mod drift;
pub mod eks;
pub mod normalize;
pub mod plan;
pub mod replacement;
pub mod resolve;
pub mod summary;
pub mod types;

pub use desired::{desired_aws, desired_policy, desired_stack, DesiredAws};
pub use diff::{
    diff_parameters, diff_tags, diff_template, MapChange, TemplateChange, TemplateDiff,
};
pub use drift::{detect_drift, Disposition, Drift, DriftReport, DriftTarget};
pub use eks::{
    eks_node_id, plan_eks, AddonRequest, AddonSpec, DesiredEksObject, EksAction, EksKind,
    EksObjectPlan, EksObjectSpec, FargateProfileSpec, FargateSelector, LiveAddon,
    LiveFargateProfile, LivePodIdentity, PodIdentityRequest, PodIdentitySpec, ADDONS_NEEDING_NODES,
};
pub use normalize::{normalize_json, normalize_policy_text, policies_equal};
pub use plan::{
    live_reads_needed, plan, AsgTarget, AwsPlan, AwsStep, PlanOptions, PlannedStep, PolicyAction,
    PolicyPlan, ReadRequest, RoleTarget, StackAction, StackPlan,
};
pub use replacement::{
    annotate_preview, forces_replacement, ChangeSetPreview, RawChangeDetail, RawResourceChange,
    Replacement, ReplacementSource, ResourceChangePreview,
};
pub use summary::render_markdown;
pub use types::*;

/// Errors of the pure AWS comparison logic.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AwsDiffError {
    /// A policy document could not be decoded or parsed.
    #[error("IAM policy {policy} on role {role}: {reason}")]
    Policy {
        role: String,
        policy: String,
        reason: String,
    },
    /// A deployed template could not be parsed as JSON.
    #[error("deployed template of stack {stack} is not JSON: {reason}")]
    Template { stack: String, reason: String },
    /// Two desired stacks share a name, or a dependency names an unknown stack, or they form a cycle.
    #[error("desired stacks: {0}")]
    Desired(String),
}
