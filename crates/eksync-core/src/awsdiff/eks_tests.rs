//! EKS object plan tests: verdicts and steps per live state (absent, equal, changed, in progress,
//! failed), known-after-apply values, per-cluster chaining of Fargate steps, detect-only, and
//! the `CreateFargateProfile` request shape.

use super::*;
use crate::awsdiff::types::LiveStack;
use crate::awsdiff::DriftReport;

const CS: &str = "eksctl-c-cluster";
const ROLE: &str = "arn:aws:iam::111122223333:role/eksctl-c-cluster-FargatePodExecutionRole-X";

fn out(output: &str) -> ParamValue {
    ParamValue::StackOutput {
        stack: CS.into(),
        output: output.into(),
    }
}

fn selector(ns: &str, labels: &[(&str, &str)]) -> FargateSelector {
    FargateSelector {
        namespace: ns.into(),
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

fn profile(name: &str, selectors: Vec<FargateSelector>) -> DesiredEksObject {
    DesiredEksObject {
        cluster: "c".into(),
        spec: EksObjectSpec::FargateProfile(FargateProfileSpec {
            name: name.into(),
            pod_execution_role_arn: out("FargatePodExecutionRoleARN"),
            subnets: vec![out("SubnetsPrivate")],
            selectors,
            tags: BTreeMap::from([("env".to_string(), "dev".to_string())]),
        }),
        mode: DriftMode::Correct,
    }
}

fn cluster_stack() -> LiveStack {
    LiveStack {
        name: CS.into(),
        id: format!("arn:aws:cloudformation:us-west-2:111122223333:stack/{CS}/1"),
        status: "CREATE_COMPLETE".into(),
        status_reason: None,
        parameters: BTreeMap::new(),
        tags: BTreeMap::new(),
        outputs: BTreeMap::from([
            ("FargatePodExecutionRoleARN".to_string(), ROLE.to_string()),
            (
                "SubnetsPrivate".to_string(),
                "subnet-b,subnet-a".to_string(),
            ),
        ]),
        template: serde_json::json!({}),
        resources: Vec::new(),
        last_changed: None,
    }
}

fn live_profile(name: &str, status: &str, selectors: Vec<FargateSelector>) -> LiveFargateProfile {
    LiveFargateProfile {
        cluster: "c".into(),
        name: name.into(),
        status: status.into(),
        pod_execution_role_arn: Some(ROLE.into()),
        subnets: vec!["subnet-a".into(), "subnet-b".into()],
        selectors,
        tags: BTreeMap::from([("env".to_string(), "dev".to_string())]),
    }
}

fn live_with(profiles: Vec<LiveFargateProfile>) -> LiveAws {
    let mut live = LiveAws::default();
    live.stacks.insert(CS.into(), cluster_stack());
    for p in profiles {
        live.eks_fargate_profiles
            .entry(p.cluster.clone())
            .or_default()
            .insert(p.name.clone(), p);
    }
    live
}

fn empty_plan() -> AwsPlan {
    AwsPlan {
        stacks: Vec::new(),
        policies: Vec::new(),
        drift: DriftReport::default(),
        steps: Vec::new(),
        notes: Vec::new(),
        eks_objects: Vec::new(),
    }
}

fn planned(objects: &[DesiredEksObject], live: &LiveAws, mode: DriftMode) -> AwsPlan {
    let mut p = empty_plan();
    plan_eks(objects, live, mode, &mut p);
    p
}

fn step_kinds(p: &AwsPlan) -> Vec<(usize, &'static str, Vec<usize>)> {
    p.steps
        .iter()
        .map(|s| {
            let k = match &s.step {
                AwsStep::CreateFargateProfile { .. } => "create",
                AwsStep::DeleteFargateProfile { .. } => "delete",
                AwsStep::CreateStack { .. } => "create-stack",
                _ => "other",
            };
            (s.id, k, s.after.clone())
        })
        .collect()
}

#[test]
fn an_absent_profile_is_created_after_the_cluster_stack_step() {
    let mut p = empty_plan();
    p.steps.push(PlannedStep {
        id: 0,
        after: vec![],
        step: AwsStep::CreateStack {
            stack: CS.into(),
            change_set_name: "cs".into(),
            template: serde_json::json!({}),
            parameters: BTreeMap::new(),
            tags: BTreeMap::new(),
        },
    });
    // The cluster stack does not exist yet: its outputs are known after apply.
    plan_eks(
        &[profile("fp", vec![selector("default", &[])])],
        &LiveAws::default(),
        DriftMode::Correct,
        &mut p,
    );
    assert_eq!(
        step_kinds(&p),
        [(0, "create-stack", vec![]), (1, "create", vec![0])]
    );
    let v = &p.eks_objects[0];
    assert_eq!(v.action, EksAction::Create);
    assert_eq!(v.node_id(), "aws/c/fargate-profile/fp");
    let role = &v.changes[0];
    assert_eq!(role.key, "podExecutionRoleArn");
    assert!(role.known_after_apply && role.desired.is_none());
    assert!(p.has_changes());
}

#[test]
fn an_equal_profile_is_no_change_whatever_the_order_of_subnets_and_selectors() {
    let sels = vec![selector("default", &[]), selector("kube-system", &[])];
    let mut reversed = sels.clone();
    reversed.reverse();
    let live = live_with(vec![live_profile("fp", "ACTIVE", reversed)]);
    let p = planned(&[profile("fp", sels)], &live, DriftMode::Correct);
    assert_eq!(p.eks_objects[0].action, EksAction::NoChange);
    assert!(p.eks_objects[0].changes.is_empty());
    assert!(p.steps.is_empty());
    assert!(!p.has_changes());
}

#[test]
fn a_changed_selector_is_a_delete_then_a_create_with_the_reason() {
    let live = live_with(vec![live_profile(
        "fp",
        "ACTIVE",
        vec![selector("dev", &[("env", "dev")])],
    )]);
    let p = planned(
        &[profile("fp", vec![selector("dev", &[("env", "prod")])])],
        &live,
        DriftMode::Correct,
    );
    let v = &p.eks_objects[0];
    let EksAction::Replace { reason } = &v.action else {
        panic!("expected a replacement: {:?}", v.action)
    };
    assert!(reason.contains("selectors differ"), "{reason}");
    assert_eq!(v.changes.len(), 1);
    assert_eq!(
        v.changes[0].desired.as_deref(),
        Some(r#"[{"namespace":"dev","labels":{"env":"prod"}}]"#)
    );
    assert_eq!(
        step_kinds(&p),
        [(0, "delete", vec![]), (1, "create", vec![0])]
    );
    assert!(matches!(
        &p.steps[0].step,
        AwsStep::DeleteFargateProfile { name, reason, .. } if name == "fp" && reason.contains("EKS cannot change")
    ));
}

#[test]
fn changed_role_subnets_and_tags_each_count() {
    let mut l = live_profile("fp", "ACTIVE", vec![selector("default", &[])]);
    l.pod_execution_role_arn = Some("arn:aws:iam::111122223333:role/other".into());
    l.subnets = vec!["subnet-a".into()];
    l.tags.clear();
    let p = planned(
        &[profile("fp", vec![selector("default", &[])])],
        &live_with(vec![l]),
        DriftMode::Correct,
    );
    let keys: Vec<_> = p.eks_objects[0]
        .changes
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(keys, ["podExecutionRoleArn", "subnets", "tags"]);
    assert_eq!(p.steps.len(), 2);
}

#[test]
fn a_value_known_only_after_apply_is_not_a_difference_of_an_existing_profile() {
    let mut live = live_with(vec![live_profile(
        "fp",
        "ACTIVE",
        vec![selector("default", &[])],
    )]);
    live.stacks.clear();
    let p = planned(
        &[profile("fp", vec![selector("default", &[])])],
        &live,
        DriftMode::Correct,
    );
    assert_eq!(p.eks_objects[0].action, EksAction::NoChange);
}

#[test]
fn profiles_of_one_cluster_are_chained_one_at_a_time() {
    let objects = [
        profile("a", vec![selector("a", &[])]),
        profile("b", vec![selector("b", &[])]),
        profile("c", vec![selector("c", &[])]),
    ];
    // `b` exists and changes: delete+create, between the creations of `a` and `c`.
    let live = live_with(vec![live_profile("b", "ACTIVE", vec![selector("x", &[])])]);
    let p = planned(&objects, &live, DriftMode::Correct);
    assert_eq!(
        step_kinds(&p),
        [
            (0, "create", vec![]),
            (1, "delete", vec![0]),
            (2, "create", vec![1]),
            (3, "create", vec![2])
        ]
    );
}

#[test]
fn statuses_in_progress_or_failed() {
    let sels = vec![selector("default", &[])];
    for (status, blocked) in [
        ("CREATING", true),
        ("DELETING", true),
        ("DELETE_FAILED", true),
        ("CREATE_FAILED", false),
    ] {
        let live = live_with(vec![live_profile("fp", status, sels.clone())]);
        let p = planned(&[profile("fp", sels.clone())], &live, DriftMode::Correct);
        match &p.eks_objects[0].action {
            EksAction::Blocked(why) => {
                assert!(blocked, "{status}");
                assert!(why.contains(status), "{why}");
                assert!(p.steps.is_empty());
            }
            EksAction::Replace { reason } => {
                assert!(!blocked, "{status}");
                assert!(reason.contains("CREATE_FAILED"));
                assert_eq!(p.steps.len(), 2);
            }
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[test]
fn detect_only_reports_without_steps() {
    let live = live_with(vec![live_profile("fp", "ACTIVE", vec![selector("x", &[])])]);
    let objects = [profile("fp", vec![selector("default", &[])])];
    let p = planned(&objects, &live, DriftMode::DetectOnly);
    assert!(matches!(p.eks_objects[0].action, EksAction::Replace { .. }));
    assert_eq!(p.eks_objects[0].mode, DriftMode::DetectOnly);
    assert!(p.steps.is_empty());
    let mut one = objects[0].clone();
    one.mode = DriftMode::DetectOnly;
    assert!(planned(&[one], &live, DriftMode::Correct).steps.is_empty());
}

#[test]
fn dependencies_are_the_stacks_read() {
    let o = profile("fp", vec![selector("default", &[])]);
    assert_eq!(o.dependencies(), [CS]);
    let mut literal = o.clone();
    let EksObjectSpec::FargateProfile(f) = &mut literal.spec else {
        panic!("a Fargate profile")
    };
    f.pod_execution_role_arn = ParamValue::Literal(ROLE.into());
    f.subnets = vec![ParamValue::Literal("subnet-1".into())];
    assert!(literal.dependencies().is_empty());
}

/// The `CreateFargateProfile` request, in EKS's API spelling (compared with eksctl's
/// `pkg/fargate/create.go` `createRequest`: name, selectors {namespace, labels}, pod execution
/// role, subnets, tags). eksctl sends the subnets it was given or none (EKS then picks the
/// cluster's private subnets); eksync always sends the cluster's private subnets, from the
/// cluster stack's `SubnetsPrivate` output, so that the plan can compare them.
#[test]
fn create_request_shape() {
    let live = live_with(vec![]);
    let o = profile(
        "fp-dev",
        vec![selector("dev", &[("env", "dev"), ("checks", "passed")])],
    );
    let EksObjectSpec::FargateProfile(f) = &o.spec else {
        panic!("a Fargate profile")
    };
    let req = f.request("c", &|v| live.resolve(v)).unwrap();
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        serde_json::json!({
            "clusterName": "c",
            "fargateProfileName": "fp-dev",
            "podExecutionRoleArn": ROLE,
            "subnets": ["subnet-b", "subnet-a"],
            "selectors": [{"namespace": "dev", "labels": {"checks": "passed", "env": "dev"}}],
            "tags": {"env": "dev"}
        })
    );
    let err = f.request("c", &|_| None).unwrap_err();
    assert!(
        err.contains("output FargatePodExecutionRoleARN of stack eksctl-c-cluster"),
        "{err}"
    );
}

fn addon(name: &str, version: Option<&str>, config: Option<&str>) -> DesiredEksObject {
    DesiredEksObject {
        cluster: "c".into(),
        spec: EksObjectSpec::Addon(AddonSpec {
            name: name.into(),
            version: version.map(str::to_string),
            configuration_values: config.map(str::to_string),
            resolve_conflicts: Some("OVERWRITE".into()),
            service_account_role_arn: Some(ParamValue::Literal(
                "arn:aws:iam::111122223333:role/cni".into(),
            )),
            tags: BTreeMap::from([("team".to_string(), "net".to_string())]),
        }),
        mode: DriftMode::Correct,
    }
}

fn live_addon(name: &str, status: &str, version: &str, config: Option<&str>) -> LiveAddon {
    LiveAddon {
        cluster: "c".into(),
        name: name.into(),
        status: status.into(),
        version: Some(version.into()),
        configuration_values: config.map(str::to_string),
        service_account_role_arn: Some("arn:aws:iam::111122223333:role/cni".into()),
        tags: BTreeMap::new(),
    }
}

fn with_addons(addons: Vec<LiveAddon>) -> LiveAws {
    let mut live = live_with(vec![]);
    for a in addons {
        live.eks_addons
            .entry(a.cluster.clone())
            .or_default()
            .insert(a.name.clone(), a);
    }
    live
}

fn addon_steps(p: &AwsPlan) -> Vec<&'static str> {
    p.steps
        .iter()
        .map(|s| match &s.step {
            AwsStep::CreateAddon { .. } => "create",
            AwsStep::UpdateAddon { .. } => "update",
            _ => "other",
        })
        .collect()
}

/// What a case is about, the desired add-on, the live one, the verdict and the steps.
type AddonCase = (
    &'static str,
    DesiredEksObject,
    Option<LiveAddon>,
    &'static str,
    &'static [&'static str],
);

/// Add-on verdicts and steps per live state: absent (create), equal (nothing), a version, the
/// configuration values or the role changed (update in place, never a replacement), in
/// progress or failed (blocked), Git naming no version (EKS's own is kept).
#[test]
fn addon_table() {
    let cases: &[AddonCase] = &[
        (
            "absent",
            addon("vpc-cni", Some("v1.19.0-eksbuild.1"), None),
            None,
            "create",
            &["create"],
        ),
        (
            "equal",
            addon("vpc-cni", Some("v1"), Some("{}")),
            Some(live_addon("vpc-cni", "ACTIVE", "v1", Some("{}"))),
            "no-change",
            &[],
        ),
        (
            "no version in Git",
            addon("vpc-cni", None, None),
            Some(live_addon("vpc-cni", "ACTIVE", "v9", None)),
            "no-change",
            &[],
        ),
        (
            "version",
            addon("vpc-cni", Some("v2"), None),
            Some(live_addon("vpc-cni", "ACTIVE", "v1", None)),
            "update",
            &["update"],
        ),
        (
            "configuration",
            addon("vpc-cni", Some("v1"), Some("{\"a\":1}")),
            Some(live_addon("vpc-cni", "DEGRADED", "v1", None)),
            "update",
            &["update"],
        ),
        (
            "configuration removed",
            addon("vpc-cni", Some("v1"), None),
            Some(live_addon("vpc-cni", "ACTIVE", "v1", Some("{\"a\":1}"))),
            "update",
            &["update"],
        ),
        (
            "updating",
            addon("vpc-cni", Some("v2"), None),
            Some(live_addon("vpc-cni", "UPDATING", "v1", None)),
            "blocked",
            &[],
        ),
        (
            "create failed",
            addon("vpc-cni", Some("v2"), None),
            Some(live_addon("vpc-cni", "CREATE_FAILED", "v1", None)),
            "blocked",
            &[],
        ),
    ];
    for (what, desired, live, action, steps) in cases {
        let live = with_addons(live.iter().cloned().collect());
        let p = planned(std::slice::from_ref(desired), &live, DriftMode::Correct);
        let got = match &p.eks_objects[0].action {
            EksAction::Create => "create",
            EksAction::NoChange => "no-change",
            EksAction::Update => "update",
            EksAction::Replace { .. } => "replace",
            EksAction::Blocked(_) => "blocked",
        };
        assert_eq!(got, *action, "{what}");
        assert_eq!(addon_steps(&p), *steps, "{what}");
        assert_eq!(p.eks_objects[0].node_id(), "aws/c/addon/vpc-cni");
    }
    // A changed role is an update naming the field.
    let mut l = live_addon("vpc-cni", "ACTIVE", "v1", None);
    l.service_account_role_arn = Some("arn:aws:iam::111122223333:role/old".into());
    let p = planned(
        &[addon("vpc-cni", Some("v1"), None)],
        &with_addons(vec![l]),
        DriftMode::Correct,
    );
    let keys: Vec<_> = p.eks_objects[0]
        .changes
        .iter()
        .map(|c| c.key.as_str())
        .collect();
    assert_eq!(keys, ["serviceAccountRoleArn"]);
    // Detect-only: the verdict without a step.
    let live = with_addons(vec![live_addon("vpc-cni", "ACTIVE", "v1", None)]);
    let p = planned(
        &[addon("vpc-cni", Some("v2"), None)],
        &live,
        DriftMode::DetectOnly,
    );
    assert_eq!(p.eks_objects[0].action, EksAction::Update);
    assert!(p.steps.is_empty());
}

/// The `CreateAddon` and `UpdateAddon` requests, in EKS's API spelling (compared with eksctl's
/// `pkg/actions/addon/create.go` and `update.go`: name, version, service account role,
/// configuration values, resolve conflicts, tags on create). eksctl resolves `version: latest`
/// with DescribeAddonVersions; eksync sends no version then (EKS installs its default).
#[test]
fn addon_request_shapes() {
    let o = addon("vpc-cni", Some("v1.19.0-eksbuild.1"), Some("{\"env\":{}}"));
    let EksObjectSpec::Addon(a) = &o.spec else {
        panic!("an add-on")
    };
    let live = LiveAws::default();
    let create = a.request("c", true, &|v| live.resolve(v)).unwrap();
    assert_eq!(
        serde_json::to_value(&create).unwrap(),
        serde_json::json!({
            "clusterName": "c",
            "addonName": "vpc-cni",
            "addonVersion": "v1.19.0-eksbuild.1",
            "serviceAccountRoleArn": "arn:aws:iam::111122223333:role/cni",
            "configurationValues": "{\"env\":{}}",
            "resolveConflicts": "OVERWRITE",
            "tags": {"team": "net"}
        })
    );
    let update = a.request("c", false, &|v| live.resolve(v)).unwrap();
    assert!(update.tags.is_empty(), "UpdateAddon takes no tags");
    let mut unresolved = a.clone();
    unresolved.service_account_role_arn = Some(out("RoleArn"));
    let err = unresolved.request("c", true, &|_| None).unwrap_err();
    assert!(err.contains("known after apply: output RoleArn"), "{err}");
}

fn association(role: &str) -> DesiredEksObject {
    DesiredEksObject {
        cluster: "c".into(),
        spec: EksObjectSpec::PodIdentityAssociation(PodIdentitySpec {
            namespace: "default".into(),
            service_account: "s3-reader".into(),
            role_arn: ParamValue::Literal(role.into()),
            tags: BTreeMap::from([("team".to_string(), "eks".to_string())]),
        }),
        mode: DriftMode::Correct,
    }
}

fn live_association(role: &str) -> LiveAws {
    let mut live = LiveAws::default();
    live.eks_pod_identities
        .entry("c".into())
        .or_default()
        .insert(
            "default/s3-reader".into(),
            LivePodIdentity {
                cluster: "c".into(),
                namespace: "default".into(),
                service_account: "s3-reader".into(),
                association_id: "a-123".into(),
                role_arn: Some(role.into()),
                tags: BTreeMap::new(),
            },
        );
    live
}

/// Pod Identity associations: absent (create), same role (nothing), another role (update of
/// the role in place, with the association's id), detect-only (no step).
#[test]
fn pod_identity_table() {
    const R1: &str = "arn:aws:iam::111122223333:role/role-1";
    const R2: &str = "arn:aws:iam::111122223333:role/role-2";
    let p = planned(&[association(R1)], &LiveAws::default(), DriftMode::Correct);
    assert_eq!(p.eks_objects[0].action, EksAction::Create);
    assert_eq!(
        p.eks_objects[0].node_id(),
        "aws/c/pod-identity-association/default/s3-reader"
    );
    assert!(matches!(
        p.steps[0].step,
        AwsStep::CreatePodIdentityAssociation { .. }
    ));
    let p = planned(
        &[association(R1)],
        &live_association(R1),
        DriftMode::Correct,
    );
    assert_eq!(p.eks_objects[0].action, EksAction::NoChange);
    assert!(p.steps.is_empty());
    let p = planned(
        &[association(R2)],
        &live_association(R1),
        DriftMode::Correct,
    );
    assert_eq!(p.eks_objects[0].action, EksAction::Update);
    assert_eq!(p.eks_objects[0].changes[0].key, "roleArn");
    assert!(matches!(
        &p.steps[0].step,
        AwsStep::UpdatePodIdentityAssociation { association_id, .. } if association_id == "a-123"
    ));
    let p = planned(
        &[association(R2)],
        &live_association(R1),
        DriftMode::DetectOnly,
    );
    assert_eq!(p.eks_objects[0].action, EksAction::Update);
    assert!(p.steps.is_empty());
}

/// The `CreatePodIdentityAssociation` request in EKS's API spelling (compared with eksctl's
/// `pkg/actions/podidentityassociation/creator.go`: cluster, namespace, service account, role,
/// tags). eksctl also creates the role when `roleARN` is absent and the service account with
/// `createServiceAccount`; eksync does neither (warned).
#[test]
fn pod_identity_request_shape() {
    let o = association("arn:aws:iam::111122223333:role/role-1");
    let EksObjectSpec::PodIdentityAssociation(p) = &o.spec else {
        panic!("an association")
    };
    let req = p
        .request("c", true, &|v| LiveAws::default().resolve(v))
        .unwrap();
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        serde_json::json!({
            "clusterName": "c",
            "namespace": "default",
            "serviceAccount": "s3-reader",
            "roleArn": "arn:aws:iam::111122223333:role/role-1",
            "tags": {"team": "eks"}
        })
    );
    assert!(p
        .request("c", false, &|v| LiveAws::default().resolve(v))
        .unwrap()
        .tags
        .is_empty());
}
