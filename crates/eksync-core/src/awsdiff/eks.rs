//! EKS API objects: what eksctl creates through EKS's own API rather than CloudFormation, as
//! desired data ([`DesiredEksObject`]), its live counterpart (read by the adapter into
//! [`LiveAws`]), and the pure diff of the two into verdicts ([`EksObjectPlan`]) and
//! [`AwsStep`]s appended to an [`AwsPlan`] ([`plan_eks`]).
//!
//! Kinds: Fargate profiles (`fargateProfiles`, eksctl's `pkg/fargate`) and add-ons (`addons`,
//! eksctl's `pkg/actions/addon`: created, and updated in place with `UpdateAddon` when the
//! version, configuration values or service account role differ; tags only at creation) and Pod
//! Identity associations (`iam.podIdentityAssociations` naming their `roleARN`, eksctl's
//! `pkg/actions/podidentityassociation`: created, and their role updated in place). EKS cannot change a
//! Fargate profile in place (`CreateFargateProfile` and `DeleteFargateProfile` are its only
//! writes), so any difference in a field eksync sets (pod execution role, subnets, selectors,
//! tags) is a delete then a create, with the fields and that reason in the plan. EKS works on one
//! Fargate profile of a cluster at a time, so a cluster's profile steps are chained in order.
//! Values that come from stacks (the pod execution role, the private subnets) are
//! [`ParamValue`]s, resolved against live stack outputs here and again by the adapter when it
//! runs the step; until the stack exists they are "known after apply".
//!
//! It deliberately does not delete what eksync did not create: a live Fargate profile that no
//! config names is never read nor removed (no prune of EKS objects); the only delete is the first
//! half of a replacement of a profile Git names. No I/O, no clock, no SDK types.

use super::diff::MapChange;
use super::plan::{AwsPlan, AwsStep, PlannedStep};
use super::types::{DriftMode, LiveAws, ParamValue};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which EKS API object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EksKind {
    FargateProfile,
    Addon,
    PodIdentityAssociation,
}

impl EksKind {
    /// The graph node kind (`FargateProfile`).
    pub fn node_kind(self) -> &'static str {
        match self {
            EksKind::FargateProfile => "FargateProfile",
            EksKind::Addon => "Addon",
            EksKind::PodIdentityAssociation => "PodIdentityAssociation",
        }
    }

    /// The segment of graph node ids (`aws/<cluster>/fargate-profile/<name>`).
    pub fn id_segment(self) -> &'static str {
        match self {
            EksKind::FargateProfile => "fargate-profile",
            EksKind::Addon => "addon",
            EksKind::PodIdentityAssociation => "pod-identity-association",
        }
    }
}

/// The graph node id of an EKS object.
pub fn eks_node_id(kind: EksKind, cluster: &str, name: &str) -> String {
    format!("aws/{cluster}/{}/{name}", kind.id_segment())
}

/// Which pods a Fargate profile runs (EKS's `FargateProfileSelector`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FargateSelector {
    pub namespace: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A `CreateFargateProfile` request as Git wants it (the cluster is the object's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FargateProfileSpec {
    pub name: String,
    pub pod_execution_role_arn: ParamValue,
    /// Subnet ids; a value may hold several, comma-separated (eksctl's `SubnetsPrivate` output).
    pub subnets: Vec<ParamValue>,
    pub selectors: Vec<FargateSelector>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// What kind of EKS object, with its desired fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EksObjectSpec {
    FargateProfile(FargateProfileSpec),
    Addon(AddonSpec),
    PodIdentityAssociation(PodIdentitySpec),
}

/// A `CreatePodIdentityAssociation` as Git wants it: the service account `namespace/name` gets
/// the role `role_arn`. Its object name is `<namespace>/<service account>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodIdentitySpec {
    pub namespace: String,
    pub service_account: String,
    pub role_arn: ParamValue,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl PodIdentitySpec {
    /// `<namespace>/<service account>`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.namespace, self.service_account)
    }

    /// The request for cluster `cluster` (`create`: with tags), values from `resolve`.
    pub fn request(
        &self,
        cluster: &str,
        create: bool,
        resolve: &dyn Fn(&ParamValue) -> Option<String>,
    ) -> Result<PodIdentityRequest, String> {
        let role = resolve(&self.role_arn).ok_or_else(|| {
            format!(
                "roleArn of Pod Identity association {}: {} has no value yet",
                self.name(),
                shown(&self.role_arn)
            )
        })?;
        Ok(PodIdentityRequest {
            cluster_name: cluster.to_string(),
            namespace: self.namespace.clone(),
            service_account: self.service_account.clone(),
            role_arn: role,
            tags: if create {
                self.tags.clone()
            } else {
                BTreeMap::new()
            },
        })
    }
}

/// A `CreatePodIdentityAssociation` request (an update sends the association id and the role
/// only), in EKS's API spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodIdentityRequest {
    pub cluster_name: String,
    pub namespace: String,
    pub service_account: String,
    pub role_arn: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

/// A live Pod Identity association (`ListPodIdentityAssociations` then
/// `DescribePodIdentityAssociation`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePodIdentity {
    pub cluster: String,
    pub namespace: String,
    pub service_account: String,
    pub association_id: String,
    pub role_arn: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// A `CreateAddon` as Git wants it. `version: None` lets EKS pick its default version (eksctl
/// resolves `latest` with `DescribeAddonVersions`, a call the core cannot make).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddonSpec {
    pub name: String,
    pub version: Option<String>,
    pub configuration_values: Option<String>,
    /// `NONE`, `OVERWRITE` or `PRESERVE`, sent with create and update.
    pub resolve_conflicts: Option<String>,
    pub service_account_role_arn: Option<ParamValue>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// Add-ons whose pods must run before EKS reports them ACTIVE: they wait for the node groups.
pub const ADDONS_NEEDING_NODES: &[&str] = &[
    "coredns",
    "aws-ebs-csi-driver",
    "aws-efs-csi-driver",
    "snapshot-controller",
    "metrics-server",
    "amazon-cloudwatch-observability",
    "adot",
];

/// A live add-on as `DescribeAddon` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAddon {
    pub cluster: String,
    pub name: String,
    /// `CREATING`, `ACTIVE`, `CREATE_FAILED`, `UPDATING`, `DELETING`, `DELETE_FAILED`,
    /// `DEGRADED`, `UPDATE_FAILED`.
    pub status: String,
    pub version: Option<String>,
    pub configuration_values: Option<String>,
    pub service_account_role_arn: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// A `CreateAddon` or `UpdateAddon` request with every value resolved, in EKS's API spelling
/// (`tags` only on create: `UpdateAddon` has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddonRequest {
    pub cluster_name: String,
    pub addon_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addon_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_values: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolve_conflicts: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl AddonSpec {
    /// The request for cluster `cluster` (`create`: with tags), values from `resolve`; `Err`
    /// names a value still unknown.
    pub fn request(
        &self,
        cluster: &str,
        create: bool,
        resolve: &dyn Fn(&ParamValue) -> Option<String>,
    ) -> Result<AddonRequest, String> {
        let role = match &self.service_account_role_arn {
            None => None,
            Some(v) => Some(resolve(v).ok_or_else(|| {
                format!(
                    "serviceAccountRoleArn of add-on {}: {} has no value yet",
                    self.name,
                    shown(v)
                )
            })?),
        };
        Ok(AddonRequest {
            cluster_name: cluster.to_string(),
            addon_name: self.name.clone(),
            addon_version: self.version.clone(),
            service_account_role_arn: role,
            configuration_values: self.configuration_values.clone(),
            resolve_conflicts: self.resolve_conflicts.clone(),
            tags: if create {
                self.tags.clone()
            } else {
                BTreeMap::new()
            },
        })
    }
}

/// One EKS API object as Git wants it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredEksObject {
    pub cluster: String,
    pub spec: EksObjectSpec,
    #[serde(default)]
    pub mode: DriftMode,
}

impl DesiredEksObject {
    pub fn kind(&self) -> EksKind {
        match &self.spec {
            EksObjectSpec::FargateProfile(_) => EksKind::FargateProfile,
            EksObjectSpec::Addon(_) => EksKind::Addon,
            EksObjectSpec::PodIdentityAssociation(_) => EksKind::PodIdentityAssociation,
        }
    }

    pub fn name(&self) -> String {
        match &self.spec {
            EksObjectSpec::FargateProfile(f) => f.name.clone(),
            EksObjectSpec::Addon(a) => a.name.clone(),
            EksObjectSpec::PodIdentityAssociation(p) => p.name(),
        }
    }

    /// Its graph node id.
    pub fn node_id(&self) -> String {
        eks_node_id(self.kind(), &self.cluster, &self.name())
    }

    /// Every value of the object that may come from elsewhere.
    pub fn values(&self) -> Vec<&ParamValue> {
        match &self.spec {
            EksObjectSpec::FargateProfile(f) => std::iter::once(&f.pod_execution_role_arn)
                .chain(f.subnets.iter())
                .collect(),
            EksObjectSpec::Addon(a) => a.service_account_role_arn.iter().collect(),
            EksObjectSpec::PodIdentityAssociation(p) => vec![&p.role_arn],
        }
    }

    /// The stacks whose outputs it reads, in first-use order.
    pub fn dependencies(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in self.values() {
            if let ParamValue::StackOutput { stack, .. } = v {
                if !out.contains(stack) {
                    out.push(stack.clone());
                }
            }
        }
        out
    }
}

/// A value as a person reads it before apply: literals as they are, references as "known after
/// apply", secrets masked.
pub fn shown(v: &ParamValue) -> String {
    match v {
        ParamValue::Literal(s) => s.clone(),
        ParamValue::Secret(_) => "****".into(),
        ParamValue::StackOutput { stack, output } => {
            format!("(known after apply: output {output} of stack {stack})")
        }
        ParamValue::EksServiceCidr { cluster } => {
            format!("(known after apply: the service CIDR of cluster {cluster})")
        }
    }
}

impl DesiredEksObject {
    /// The object as Git wants it, for previews and `render`: the request's fields with
    /// references shown as "known after apply"; `true` when nothing is left to resolve.
    pub fn preview(&self) -> (serde_json::Value, bool) {
        let complete = self
            .values()
            .iter()
            .all(|v| matches!(v, ParamValue::Literal(_)));
        let value = match &self.spec {
            EksObjectSpec::FargateProfile(f) => serde_json::json!({
                "clusterName": self.cluster,
                "fargateProfileName": f.name,
                "podExecutionRoleArn": shown(&f.pod_execution_role_arn),
                "subnets": f.subnets.iter().map(shown).collect::<Vec<_>>(),
                "selectors": f.selectors,
                "tags": f.tags,
            }),
            EksObjectSpec::Addon(a) => serde_json::json!({
                "clusterName": self.cluster,
                "addonName": a.name,
                "addonVersion": a.version.clone().unwrap_or_else(|| "(EKS's default)".into()),
                "serviceAccountRoleArn": a.service_account_role_arn.as_ref().map(shown),
                "configurationValues": a.configuration_values,
                "resolveConflicts": a.resolve_conflicts,
                "tags": a.tags,
            }),
            EksObjectSpec::PodIdentityAssociation(p) => serde_json::json!({
                "clusterName": self.cluster,
                "namespace": p.namespace,
                "serviceAccount": p.service_account,
                "roleArn": shown(&p.role_arn),
                "tags": p.tags,
            }),
        };
        (value, complete)
    }
}

/// A `CreateFargateProfile` request with every value resolved, in EKS's API spelling: what the
/// adapter sends, field for field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateFargateProfileRequest {
    pub cluster_name: String,
    pub fargate_profile_name: String,
    pub pod_execution_role_arn: String,
    pub subnets: Vec<String>,
    pub selectors: Vec<FargateSelector>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl FargateProfileSpec {
    /// The request for cluster `cluster`, with values from `resolve` (the adapter reads stack
    /// outputs when the step runs); `Err` names the value that is still unknown. Subnets keep
    /// their order (eksctl's zone order); selectors keep the config's order.
    pub fn request(
        &self,
        cluster: &str,
        resolve: &dyn Fn(&ParamValue) -> Option<String>,
    ) -> Result<CreateFargateProfileRequest, String> {
        let unknown = |what: &str, v: &ParamValue| match v {
            ParamValue::StackOutput { stack, output } => {
                format!(
                    "{what} of Fargate profile {}: output {output} of stack {stack} is not there",
                    self.name
                )
            }
            _ => format!("{what} of Fargate profile {}: no value", self.name),
        };
        let role = resolve(&self.pod_execution_role_arn)
            .ok_or_else(|| unknown("podExecutionRoleArn", &self.pod_execution_role_arn))?;
        let mut subnets: Vec<String> = Vec::new();
        for v in &self.subnets {
            let value = resolve(v).ok_or_else(|| unknown("subnets", v))?;
            for s in split_list(&value) {
                if !subnets.contains(&s) {
                    subnets.push(s);
                }
            }
        }
        Ok(CreateFargateProfileRequest {
            cluster_name: cluster.to_string(),
            fargate_profile_name: self.name.clone(),
            pod_execution_role_arn: role,
            subnets,
            selectors: self.selectors.clone(),
            tags: self.tags.clone(),
        })
    }
}

/// A live Fargate profile as `DescribeFargateProfile` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveFargateProfile {
    pub cluster: String,
    pub name: String,
    /// `CREATING`, `ACTIVE`, `DELETING`, `CREATE_FAILED`, `DELETE_FAILED`.
    pub status: String,
    pub pod_execution_role_arn: Option<String>,
    pub subnets: Vec<String>,
    pub selectors: Vec<FargateSelector>,
    pub tags: BTreeMap<String, String>,
}

/// What happens to an EKS object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EksAction {
    Create,
    NoChange,
    /// Changed in place (`UpdateAddon`).
    Update,
    /// EKS cannot change these fields in place: delete, then create.
    Replace {
        reason: String,
    },
    /// It cannot be changed now (an operation in progress, a failed delete).
    Blocked(String),
}

/// The verdict for one desired EKS object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EksObjectPlan {
    pub kind: EksKind,
    pub cluster: String,
    pub name: String,
    pub action: EksAction,
    pub mode: DriftMode,
    /// Field by field: live and desired (`known_after_apply` when a stack has yet to give it).
    pub changes: Vec<MapChange>,
}

impl EksObjectPlan {
    pub fn node_id(&self) -> String {
        eks_node_id(self.kind, &self.cluster, &self.name)
    }
}

/// A list value (`SubnetsPrivate` is `subnet-a,subnet-b`): its items, trimmed, without empties.
fn split_list(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The subnet ids, sorted, or `None` while one of the values is known only after apply.
pub fn resolve_subnets(values: &[ParamValue], live: &LiveAws) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for v in values {
        out.extend(split_list(&live.resolve(v)?).collect::<Vec<_>>());
    }
    out.sort();
    out.dedup();
    Some(out)
}

fn selectors_text(s: &[FargateSelector]) -> String {
    let mut sorted = s.to_vec();
    sorted.sort();
    serde_json::to_string(&sorted).unwrap_or_default()
}

fn map_text(m: &BTreeMap<String, String>) -> String {
    serde_json::to_string(m).unwrap_or_default()
}

fn change(key: &str, live: Option<String>, desired: Option<String>) -> MapChange {
    MapChange {
        key: key.to_string(),
        known_after_apply: desired.is_none(),
        live,
        desired,
    }
}

/// The fields of a Fargate profile that differ from the live one (all of them when it does not
/// exist). A value known only after apply is a change only when there is nothing live.
fn fargate_changes(
    f: &FargateProfileSpec,
    l: Option<&LiveFargateProfile>,
    live: &LiveAws,
) -> Vec<MapChange> {
    let role = live.resolve(&f.pod_execution_role_arn);
    let subnets = resolve_subnets(&f.subnets, live).map(|s| s.join(","));
    let selectors = selectors_text(&f.selectors);
    let tags = map_text(&f.tags);
    let Some(l) = l else {
        return vec![
            change("podExecutionRoleArn", None, role),
            change("subnets", None, subnets),
            change("selectors", None, Some(selectors)),
            change("tags", None, Some(tags)),
        ];
    };
    let mut live_subnets = l.subnets.clone();
    live_subnets.sort();
    let mut out = Vec::new();
    if role.is_some() && role != l.pod_execution_role_arn {
        out.push(change(
            "podExecutionRoleArn",
            l.pod_execution_role_arn.clone(),
            role,
        ));
    }
    let live_subnets = live_subnets.join(",");
    if subnets.as_ref().is_some_and(|s| s != &live_subnets) {
        out.push(change("subnets", Some(live_subnets), subnets));
    }
    let live_selectors = selectors_text(&l.selectors);
    if live_selectors != selectors {
        out.push(change("selectors", Some(live_selectors), Some(selectors)));
    }
    let live_tags = map_text(&l.tags);
    if live_tags != tags {
        out.push(change("tags", Some(live_tags), Some(tags)));
    }
    out
}

fn fargate_action(l: Option<&LiveFargateProfile>, changes: &[MapChange]) -> EksAction {
    let Some(l) = l else {
        return EksAction::Create;
    };
    match l.status.as_str() {
        "CREATING" | "DELETING" => EksAction::Blocked(format!(
            "the Fargate profile is {}; retry on the next reconcile",
            l.status
        )),
        "DELETE_FAILED" => EksAction::Blocked(
            "the Fargate profile is DELETE_FAILED; it must be repaired or deleted before eksync can change it"
                .into(),
        ),
        "CREATE_FAILED" => EksAction::Replace {
            reason: "the live Fargate profile is CREATE_FAILED: it is deleted and created again"
                .into(),
        },
        _ if changes.is_empty() => EksAction::NoChange,
        _ => EksAction::Replace {
            reason: format!(
                "EKS cannot change a Fargate profile in place ({} differ): it is deleted and created again",
                changes
                    .iter()
                    .map(|c| c.key.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// The fields of an add-on that differ from the live one (all of them when it does not exist):
/// the version when Git names one, the configuration values (none in Git clears them), the
/// service account role when Git names one. Tags are sent with the create only (`UpdateAddon`
/// takes none) and are not compared.
fn addon_changes(a: &AddonSpec, l: Option<&LiveAddon>, live: &LiveAws) -> Vec<MapChange> {
    let role = a.service_account_role_arn.as_ref().map(|v| live.resolve(v));
    let Some(l) = l else {
        let mut out = vec![change(
            "addonVersion",
            None,
            Some(
                a.version
                    .clone()
                    .unwrap_or_else(|| "(EKS's default)".into()),
            ),
        )];
        if let Some(role) = role {
            out.push(change("serviceAccountRoleArn", None, role));
        }
        if let Some(c) = &a.configuration_values {
            out.push(change("configurationValues", None, Some(c.clone())));
        }
        return out;
    };
    let mut out = Vec::new();
    if let Some(v) = &a.version {
        if Some(v) != l.version.as_ref() {
            out.push(change("addonVersion", l.version.clone(), Some(v.clone())));
        }
    }
    let desired_cfg = a.configuration_values.clone().unwrap_or_default();
    let live_cfg = l.configuration_values.clone().unwrap_or_default();
    if desired_cfg.trim() != live_cfg.trim() {
        out.push(change(
            "configurationValues",
            Some(live_cfg),
            Some(desired_cfg),
        ));
    }
    if let Some(Some(r)) = role {
        if Some(&r) != l.service_account_role_arn.as_ref() {
            out.push(change(
                "serviceAccountRoleArn",
                l.service_account_role_arn.clone(),
                Some(r),
            ));
        }
    }
    out
}

fn addon_action(l: Option<&LiveAddon>, changes: &[MapChange]) -> EksAction {
    let Some(l) = l else {
        return EksAction::Create;
    };
    match l.status.as_str() {
        "CREATING" | "UPDATING" | "DELETING" => EksAction::Blocked(format!(
            "the add-on is {}; retry on the next reconcile",
            l.status
        )),
        "CREATE_FAILED" | "DELETE_FAILED" => EksAction::Blocked(format!(
            "the add-on is {}; it must be repaired or deleted before eksync can change it",
            l.status
        )),
        _ if changes.is_empty() => EksAction::NoChange,
        _ => EksAction::Update,
    }
}

/// A Pod Identity association's differences: the role (the only field EKS updates; tags are
/// sent with the create only).
fn pod_identity_changes(
    p: &PodIdentitySpec,
    l: Option<&LivePodIdentity>,
    live: &LiveAws,
) -> Vec<MapChange> {
    let role = live.resolve(&p.role_arn);
    match l {
        None => vec![change("roleArn", None, role)],
        Some(l) if role.is_some() && role != l.role_arn => {
            vec![change("roleArn", l.role_arn.clone(), role)]
        }
        Some(_) => Vec::new(),
    }
}

/// Pod Identity associations: create, or `UpdatePodIdentityAssociation` of the role.
fn plan_pod_identity(
    o: &DesiredEksObject,
    p: &PodIdentitySpec,
    live: &LiveAws,
    detect_only: bool,
    after: Vec<usize>,
    next_id: &mut usize,
    new_steps: &mut Vec<PlannedStep>,
) -> EksObjectPlan {
    let l = live.pod_identity(&o.cluster, &p.namespace, &p.service_account);
    let changes = pod_identity_changes(p, l, live);
    let (action, step) = match l {
        None => (
            EksAction::Create,
            Some(AwsStep::CreatePodIdentityAssociation {
                cluster: o.cluster.clone(),
                association: p.clone(),
            }),
        ),
        Some(_) if changes.is_empty() => (EksAction::NoChange, None),
        Some(l) => (
            EksAction::Update,
            Some(AwsStep::UpdatePodIdentityAssociation {
                cluster: o.cluster.clone(),
                association_id: l.association_id.clone(),
                association: p.clone(),
            }),
        ),
    };
    if let Some(step) = step.filter(|_| !detect_only) {
        let id = *next_id;
        *next_id += 1;
        new_steps.push(PlannedStep { id, after, step });
    }
    EksObjectPlan {
        kind: EksKind::PodIdentityAssociation,
        cluster: o.cluster.clone(),
        name: p.name(),
        action,
        mode: if detect_only {
            DriftMode::DetectOnly
        } else {
            DriftMode::Correct
        },
        changes,
    }
}

/// Plans the EKS objects onto `plan`: a verdict per object and its steps, each after the steps of
/// the stacks it reads and, for Fargate profiles, after the previous profile step of the same
/// cluster (EKS runs one at a time). Detect-only objects (or a detect-only repo) get verdicts and
/// no steps.
pub fn plan_eks(
    objects: &[DesiredEksObject],
    live: &LiveAws,
    repo_mode: DriftMode,
    plan: &mut AwsPlan,
) {
    let stack_step: BTreeMap<&str, usize> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.step {
            AwsStep::CreateStack { stack, .. } | AwsStep::UpdateStack { stack, .. } => {
                Some((stack.as_str(), s.id))
            }
            _ => None,
        })
        .collect();
    let mut new_steps: Vec<PlannedStep> = Vec::new();
    let mut next_id = plan.steps.iter().map(|s| s.id + 1).max().unwrap_or(0);
    // The last Fargate step of each cluster.
    let mut last_fargate: BTreeMap<String, usize> = BTreeMap::new();
    let mut verdicts = Vec::new();
    for o in objects {
        let detect_only = repo_mode == DriftMode::DetectOnly || o.mode == DriftMode::DetectOnly;
        let mut after: Vec<usize> = o
            .dependencies()
            .iter()
            .filter_map(|d| stack_step.get(d.as_str()).copied())
            .collect();
        match &o.spec {
            EksObjectSpec::FargateProfile(f) => {
                let l = live.fargate_profile(&o.cluster, &f.name);
                let changes = fargate_changes(f, l, live);
                let action = fargate_action(l, &changes);
                if !detect_only {
                    if let Some(&prev) = last_fargate.get(&o.cluster) {
                        after.push(prev);
                    }
                    let mut push = |step: AwsStep, after: Vec<usize>| {
                        let id = next_id;
                        next_id += 1;
                        new_steps.push(PlannedStep { id, after, step });
                        id
                    };
                    let create = |after| {
                        (
                            AwsStep::CreateFargateProfile {
                                cluster: o.cluster.clone(),
                                profile: f.clone(),
                            },
                            after,
                        )
                    };
                    let last = match &action {
                        EksAction::Create => {
                            let (s, a) = create(after);
                            Some(push(s, a))
                        }
                        EksAction::Replace { reason } => {
                            let deleted = push(
                                AwsStep::DeleteFargateProfile {
                                    cluster: o.cluster.clone(),
                                    name: f.name.clone(),
                                    reason: reason.clone(),
                                },
                                after,
                            );
                            let (s, a) = create(vec![deleted]);
                            Some(push(s, a))
                        }
                        EksAction::NoChange | EksAction::Update | EksAction::Blocked(_) => None,
                    };
                    if let Some(id) = last {
                        last_fargate.insert(o.cluster.clone(), id);
                    }
                }
                verdicts.push(EksObjectPlan {
                    kind: EksKind::FargateProfile,
                    cluster: o.cluster.clone(),
                    name: f.name.clone(),
                    action,
                    mode: if detect_only {
                        DriftMode::DetectOnly
                    } else {
                        DriftMode::Correct
                    },
                    changes,
                });
            }
            EksObjectSpec::Addon(a) => {
                let l = live.addon(&o.cluster, &a.name);
                let changes = addon_changes(a, l, live);
                let action = addon_action(l, &changes);
                let step = match &action {
                    EksAction::Create => Some(AwsStep::CreateAddon {
                        cluster: o.cluster.clone(),
                        addon: a.clone(),
                    }),
                    EksAction::Update => Some(AwsStep::UpdateAddon {
                        cluster: o.cluster.clone(),
                        addon: a.clone(),
                    }),
                    _ => None,
                };
                if let Some(step) = step.filter(|_| !detect_only) {
                    let id = next_id;
                    next_id += 1;
                    new_steps.push(PlannedStep { id, after, step });
                }
                verdicts.push(EksObjectPlan {
                    kind: EksKind::Addon,
                    cluster: o.cluster.clone(),
                    name: a.name.clone(),
                    action,
                    mode: if detect_only {
                        DriftMode::DetectOnly
                    } else {
                        DriftMode::Correct
                    },
                    changes,
                });
            }
            EksObjectSpec::PodIdentityAssociation(p) => verdicts.push(plan_pod_identity(
                o,
                p,
                live,
                detect_only,
                after,
                &mut next_id,
                &mut new_steps,
            )),
        }
    }
    plan.steps.extend(new_steps);
    plan.eks_objects.extend(verdicts);
}

#[cfg(test)]
#[path = "eks_tests.rs"]
mod tests;
