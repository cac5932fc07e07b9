//! AWS plan tests: verdicts, step order, deferred and skipped corrections, masked parameters.

use super::*;
use crate::awsdiff::types::{LiveAsg, LiveRolePolicy, LiveStackResource};
use serde_json::json;

const CLUSTER: &str = include_str!("../../../../tests/fixtures/aws/templates/cluster.json");
const SPOT: &str = include_str!("../../../../tests/fixtures/aws/templates/nodegroup-spot.json");
const CS: &str = "eksctl-eks-test-jenkins-cluster";
const NG: &str = "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot";

fn now() -> jiff::Timestamp {
    "2026-11-22T05:30:00Z".parse().unwrap()
}

fn desired() -> Vec<DesiredStack> {
    let cluster = DesiredStack::new(CS, serde_json::from_str(CLUSTER).unwrap());
    let mut ng = DesiredStack::new(NG, serde_json::from_str(SPOT).unwrap());
    ng.parameters.insert(
        "ClusterSubnets".into(),
        ParamValue::StackOutput {
            stack: CS.into(),
            output: "SubnetsPublic".into(),
        },
    );
    ng.parameters.insert(
        "SharedNodeSecurityGroup".into(),
        ParamValue::StackOutput {
            stack: CS.into(),
            output: "SharedNodeSecurityGroup".into(),
        },
    );
    // Given in reverse: the plan must still put the cluster first.
    vec![ng, cluster]
}

fn worker_policy() -> DesiredRolePolicy {
    DesiredRolePolicy {
        role: RoleSource::StackResource {
            stack: NG.into(),
            logical_id: "NodeInstanceRole".into(),
        },
        policy_name: "ASG-Policy-For-Worker".into(),
        document: json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["autoscaling:DescribeTags"], "Resource": "*"}]}),
        mode: DriftMode::Correct,
    }
}

fn live_stack(
    name: &str,
    template: &str,
    params: &[(&str, &str)],
    resources: &[(&str, &str, &str)],
) -> LiveStack {
    LiveStack {
        name: name.into(),
        id: format!("arn:aws:cloudformation:us-west-2:123456789012:stack/{name}/1"),
        status: "CREATE_COMPLETE".into(),
        status_reason: None,
        parameters: params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        tags: BTreeMap::new(),
        outputs: BTreeMap::from([
            ("SubnetsPublic".into(), "subnet-a,subnet-b".into()),
            ("SharedNodeSecurityGroup".into(), "sg-1".into()),
        ]),
        template: serde_json::from_str(template).unwrap(),
        resources: resources
            .iter()
            .map(|(l, p, t)| LiveStackResource {
                logical_id: l.to_string(),
                physical_id: Some(p.to_string()),
                resource_type: t.to_string(),
                status: "CREATE_COMPLETE".into(),
            })
            .collect(),
        last_changed: None,
    }
}

fn live_all() -> LiveAws {
    let mut l = LiveAws::default();
    l.stacks
        .insert(CS.into(), live_stack(CS, CLUSTER, &[], &[]));
    l.stacks.insert(
        NG.into(),
        live_stack(
            NG,
            SPOT,
            &[
                ("ClusterSubnets", "subnet-a,subnet-b"),
                ("SharedNodeSecurityGroup", "sg-1"),
            ],
            &[
                ("NodeGroup", "asg-1", "AWS::AutoScaling::AutoScalingGroup"),
                ("NodeInstanceRole", "role-1", "AWS::IAM::Role"),
            ],
        ),
    );
    let tmpl: Value = serde_json::from_str(SPOT).unwrap();
    let tags = tmpl["Resources"]["NodeGroup"]["Properties"]["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().to_string(),
                t["Value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    l.asgs.insert(
        "asg-1".into(),
        LiveAsg {
            name: "asg-1".into(),
            min_size: 0,
            max_size: 5,
            desired_capacity: 0,
            tags,
        },
    );
    l.insert_role_policy(LiveRolePolicy {
        role_name: "role-1".into(),
        policy_name: "ASG-Policy-For-Worker".into(),
        document: Some(worker_policy().document),
    });
    l
}

#[test]
fn empty_account_creates_in_dependency_order_with_known_after_apply() {
    let p = plan(
        &desired(),
        &[worker_policy()],
        &LiveAws::default(),
        PlanOptions::default(),
        now(),
    )
    .unwrap();
    let names: Vec<_> = p
        .stacks
        .iter()
        .map(|s| (s.name.as_str(), s.action.clone()))
        .collect();
    assert_eq!(
        names,
        vec![(CS, StackAction::Create), (NG, StackAction::Create)]
    );
    assert!(p.stacks[1]
        .parameter_changes
        .iter()
        .all(|c| c.known_after_apply));
    assert_eq!(p.steps.len(), 3);
    assert!(
        matches!(&p.steps[0].step, AwsStep::CreateStack { stack, change_set_name, .. } if stack == CS && change_set_name.starts_with("eksync-20261122T053000Z-"))
    );
    let names: BTreeSet<_> = p.steps[..2]
        .iter()
        .map(|s| match &s.step {
            AwsStep::CreateStack {
                change_set_name, ..
            } => change_set_name.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names.len(), 2, "change set names differ per stack");
    assert_eq!(change_set_name("T", "a"), change_set_name("T", "a"));
    assert_eq!(p.steps[1].after, vec![0]);
    assert!(matches!(
        &p.steps[2].step,
        AwsStep::PutRolePolicy {
            role: RoleSource::StackResource { .. },
            ..
        }
    ));
    assert_eq!(p.steps[2].after, vec![1]);
    assert_eq!(p.policies[0].action, PolicyAction::Create);
    assert!(p.has_changes());
}

#[test]
fn in_sync_is_no_change() {
    let l = live_all();
    let p = plan(
        &desired(),
        &[worker_policy()],
        &l,
        PlanOptions::default(),
        now(),
    )
    .unwrap();
    assert!(
        p.stacks.iter().all(|s| s.action == StackAction::NoChange),
        "{:#?}",
        p.stacks
    );
    assert_eq!(p.steps, vec![]);
    assert!(!p.has_changes());
}

#[test]
fn max_size_change_is_a_one_property_update() {
    let mut d = desired();
    d[0].template["Resources"]["NodeGroup"]["Properties"]["MaxSize"] = json!("8");
    let p = plan(
        &d,
        &[worker_policy()],
        &live_all(),
        PlanOptions::default(),
        now(),
    )
    .unwrap();
    assert_eq!(p.stacks[0].action, StackAction::NoChange);
    assert_eq!(p.stacks[1].action, StackAction::Update);
    let diff = p.stacks[1].template_diff.as_ref().unwrap();
    assert_eq!(diff.changes.len(), 1);
    assert_eq!(
        diff.changes[0].path,
        "/Resources/NodeGroup/Properties/MaxSize"
    );
    assert_eq!(p.steps.len(), 1);
    assert!(matches!(&p.steps[0].step, AwsStep::UpdateStack { stack, .. } if stack == NG));
}

#[test]
fn drift_becomes_corrections_and_desired_capacity_is_left_alone() {
    let mut l = live_all();
    let asg = l.asgs.get_mut("asg-1").unwrap();
    asg.max_size = 9;
    asg.desired_capacity = 3;
    l.insert_role_policy(LiveRolePolicy {
        role_name: "role-1".into(),
        policy_name: "ASG-Policy-For-Worker".into(),
        document: Some(json!({"Statement": []})),
    });
    let p = plan(
        &desired(),
        &[worker_policy()],
        &l,
        PlanOptions::default(),
        now(),
    )
    .unwrap();
    let steps: Vec<_> = p.steps.iter().map(|s| s.step.clone()).collect();
    assert_eq!(
        steps,
        vec![
            AwsStep::SetAsgLimits {
                asg: AsgTarget {
                    stack: NG.into(),
                    logical_id: "NodeGroup".into(),
                    name: "asg-1".into()
                },
                min_size: None,
                max_size: Some(5)
            },
            AwsStep::PutRolePolicy {
                role: worker_policy().role,
                policy_name: "ASG-Policy-For-Worker".into(),
                document: worker_policy().document
            },
        ]
    );
    assert_eq!(p.drift.not_owned.len(), 1);

    let detect = plan(
        &desired(),
        &[worker_policy()],
        &l,
        PlanOptions {
            repo_mode: DriftMode::DetectOnly,
        },
        now(),
    )
    .unwrap();
    assert_eq!(detect.steps, vec![]);
    assert_eq!(detect.drift.drift.len(), 2);
    assert!(detect.has_changes());
}

#[test]
fn corrections_wait_for_a_stack_update() {
    let mut d = desired();
    d[0].template["Resources"]["NodeGroup"]["Properties"]["MaxSize"] = json!("8");
    let mut l = live_all();
    l.asgs.get_mut("asg-1").unwrap().min_size = 2;
    let p = plan(&d, &[], &l, PlanOptions::default(), now()).unwrap();
    assert_eq!(p.steps.len(), 1);
    assert_eq!(p.notes.len(), 1);
    assert!(p.notes[0].contains("MinSize"));
}

#[test]
fn blocked_and_invalid() {
    let mut l = live_all();
    l.stacks.get_mut(NG).unwrap().status = "ROLLBACK_COMPLETE".into();
    let mut d = desired();
    d[0].template["Resources"]["NodeGroup"]["Properties"]["MaxSize"] = json!("8");
    let p = plan(&d, &[], &l, PlanOptions::default(), now()).unwrap();
    assert!(
        matches!(&p.stacks[1].action, StackAction::Blocked(r) if r.contains("ROLLBACK_COMPLETE"))
    );
    assert_eq!(p.steps, vec![]);

    let mut dup = desired();
    dup.push(dup[0].clone());
    assert!(
        matches!(plan(&dup, &[], &l, PlanOptions::default(), now()), Err(AwsDiffError::Desired(m)) if m.contains("twice"))
    );
    let mut cyc = desired();
    cyc[1].depends_on.push(NG.into());
    assert!(
        matches!(plan(&cyc, &[], &LiveAws::default(), PlanOptions::default(), now()), Err(AwsDiffError::Desired(m)) if m.contains("cycle"))
    );
}

#[test]
fn reads_needed_cover_asgs_and_policies() {
    let l = live_all();
    let r = live_reads_needed(&desired(), &[worker_policy()], &l.stacks);
    assert_eq!(r.asg_names.into_iter().collect::<Vec<_>>(), vec!["asg-1"]);
    assert_eq!(
        r.role_policies.into_iter().collect::<Vec<_>>(),
        vec![("role-1".to_string(), "ASG-Policy-For-Worker".to_string())]
    );
}

#[test]
fn no_echo_parameters_are_masked() {
    let mut d = desired();
    d[0].template["Parameters"]["Token"] = json!({"Type": "String", "NoEcho": true});
    d[0].parameters
        .insert("Token".into(), ParamValue::Literal("s3cr3t-value".into()));
    let p = plan(&d, &[], &LiveAws::default(), PlanOptions::default(), now()).unwrap();
    let text = serde_json::to_string(&p).unwrap();
    assert!(!text.contains("s3cr3t-value"), "{text}");
    assert!(!format!("{p:?}").contains("s3cr3t-value"));
    match &p.steps[1].step {
        AwsStep::CreateStack { parameters, .. } => match &parameters["Token"] {
            ParamValue::Secret(s) => assert_eq!(s.expose(), "s3cr3t-value"),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    let token = p.stacks[1]
        .parameter_changes
        .iter()
        .find(|c| c.key == "Token")
        .unwrap();
    assert_eq!(token.desired.as_deref(), Some("****"));
    // Updating: AWS shows the live value as ****, which never counts as a change by itself.
    let mut l = live_all();
    l.stacks
        .get_mut(NG)
        .unwrap()
        .parameters
        .insert("Token".into(), "****".into());
    l.stacks.get_mut(NG).unwrap().template = d[0].template.clone();
    let p = plan(&d, &[], &l, PlanOptions::default(), now()).unwrap();
    assert_eq!(
        p.stacks[1].action,
        StackAction::NoChange,
        "{:#?}",
        p.stacks[1]
    );
}

#[test]
fn no_corrections_while_a_stack_is_in_progress() {
    let mut l = live_all();
    l.stacks.get_mut(NG).unwrap().status = "UPDATE_IN_PROGRESS".into();
    l.asgs.get_mut("asg-1").unwrap().max_size = 9;
    let p = plan(&desired(), &[], &l, PlanOptions::default(), now()).unwrap();
    assert!(matches!(&p.stacks[1].action, StackAction::Blocked(r) if r.contains("in progress")));
    assert_eq!(p.drift.drift.len(), 1, "still reported");
    assert_eq!(p.steps, vec![]);
    assert!(p.notes[0].contains("blocked"));
}
