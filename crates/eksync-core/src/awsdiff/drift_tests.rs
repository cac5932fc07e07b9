//! Drift detection tests: owner rules, dispositions, detect-only, and what is never compared.

use super::*;
use crate::awsdiff::types::{LiveAsg, LiveRolePolicy, LiveStackResource, RoleSource};
use serde_json::json;

const SPOT: &str = include_str!("../../../../tests/fixtures/aws/templates/nodegroup-spot.json");
const STACK: &str = "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot";
const ASG: &str = "eksctl-spot-NodeGroup-ABC";
const ROLE: &str = "eksctl-spot-NodeInstanceRole-XYZ";

fn template() -> Value {
    let mut t: Value = serde_json::from_str(SPOT).unwrap();
    t["Resources"]["NodeGroup"]["Properties"]["DesiredCapacity"] = json!("0");
    t["Resources"]["NodeInstanceRole"]["Properties"]["Policies"] = json!([{
        "PolicyName": "PolicyCloudWatch",
        "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["cloudwatch:PutMetricData"],
            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:*"}}]}
    }]);
    t
}

fn spot_tags() -> BTreeMap<String, String> {
    let t = template();
    t["Resources"]["NodeGroup"]["Properties"]["Tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().to_string(),
                t["Value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn live(min: i64, max: i64, desired: i64, policy: Value) -> LiveAws {
    let mut l = LiveAws::default();
    l.stacks.insert(
        STACK.into(),
        LiveStack {
            name: STACK.into(),
            id: format!("arn:aws:cloudformation:us-west-2:123456789012:stack/{STACK}/1"),
            status: "CREATE_COMPLETE".into(),
            status_reason: None,
            parameters: BTreeMap::from([
                ("ClusterSubnets".into(), "subnet-a,subnet-b".into()),
                ("SharedNodeSecurityGroup".into(), "sg-1".into()),
            ]),
            tags: BTreeMap::new(),
            outputs: BTreeMap::new(),
            template: template(),
            resources: vec![
                LiveStackResource {
                    logical_id: "NodeGroup".into(),
                    physical_id: Some(ASG.into()),
                    resource_type: "AWS::AutoScaling::AutoScalingGroup".into(),
                    status: "CREATE_COMPLETE".into(),
                },
                LiveStackResource {
                    logical_id: "NodeInstanceRole".into(),
                    physical_id: Some(ROLE.into()),
                    resource_type: "AWS::IAM::Role".into(),
                    status: "CREATE_COMPLETE".into(),
                },
            ],
            last_changed: None,
        },
    );
    l.asgs.insert(
        ASG.into(),
        LiveAsg {
            name: ASG.into(),
            min_size: min,
            max_size: max,
            desired_capacity: desired,
            tags: spot_tags(),
        },
    );
    l.insert_role_policy(LiveRolePolicy {
        role_name: ROLE.into(),
        policy_name: "PolicyCloudWatch".into(),
        document: Some(policy),
    });
    l
}

fn cloudwatch_policy() -> Value {
    json!({"Statement": [{"Resource": "arn:aws:cloudwatch:us-west-2:123456789012:*", "Action": ["cloudwatch:PutMetricData"], "Effect": "Allow"}], "Version": "2012-10-17"})
}

fn desired() -> Vec<DesiredStack> {
    vec![DesiredStack::new(STACK, template())]
}

#[test]
fn in_sync_has_no_drift() {
    let r = detect_drift(
        &desired(),
        &[],
        &live(0, 5, 0, cloudwatch_policy()),
        DriftMode::Correct,
    );
    assert_eq!(r.drift, vec![]);
    assert_eq!(r.not_owned, vec![]);
    assert_eq!(r.notes, Vec::<String>::new());
}

#[test]
fn autoscaler_owns_desired_capacity_of_tagged_group() {
    let r = detect_drift(
        &desired(),
        &[],
        &live(0, 5, 3, cloudwatch_policy()),
        DriftMode::Correct,
    );
    assert_eq!(
        r.drift,
        vec![],
        "desired capacity must never be drift to correct"
    );
    assert_eq!(r.not_owned.len(), 1);
    assert_eq!(r.not_owned[0].property, "DesiredCapacity");
    assert_eq!(r.not_owned[0].owner, Owner::ClusterAutoscaler);
    assert_eq!(r.not_owned[0].disposition, Disposition::NotOwned);
}

#[test]
fn explicit_owner_rule_applies_without_tag() {
    let mut t = template();
    t["Resources"]["NodeGroup"]["Properties"]["Tags"] = json!([]);
    let mut l = live(0, 5, 2, cloudwatch_policy());
    l.stacks.get_mut(STACK).unwrap().template = t.clone();
    let mut d = DesiredStack::new(STACK, t);
    // Without a rule or tag the desired capacity is Git's.
    let r = detect_drift(std::slice::from_ref(&d), &[], &l, DriftMode::Correct);
    assert_eq!(r.drift.len(), 1);
    assert_eq!(r.drift[0].owner, Owner::Git);
    assert!(matches!(r.drift[0].disposition, Disposition::ReportOnly(_)));
    d.ownership.push(OwnerRule {
        logical_id: "NodeGroup".into(),
        property: "DesiredCapacity".into(),
        owner: Owner::ClusterAutoscaler,
    });
    let r = detect_drift(&[d], &[], &l, DriftMode::Correct);
    assert_eq!(r.drift, vec![]);
    assert_eq!(r.not_owned[0].owner, Owner::ClusterAutoscaler);
}

#[test]
fn max_size_and_policy_drift_are_git_owned() {
    let mut edited = cloudwatch_policy();
    edited["Statement"][0]["Action"] = json!(["cloudwatch:*"]);
    let r = detect_drift(&desired(), &[], &live(0, 9, 0, edited), DriftMode::Correct);
    let props: Vec<_> = r.drift.iter().map(|d| d.property.as_str()).collect();
    assert_eq!(props, vec!["PolicyDocument", "MaxSize"]);
    assert_eq!(r.drift[1].expected, json!(5));
    assert_eq!(r.drift[1].live, json!(9));
    assert!(r
        .drift
        .iter()
        .all(|d| d.disposition == Disposition::Correct && d.owner == Owner::Git));
    assert_eq!(
        r.drift[0].target,
        DriftTarget::RolePolicy {
            stack: Some(STACK.into()),
            role: ROLE.into(),
            policy: "PolicyCloudWatch".into()
        }
    );
}

#[test]
fn detect_only_reports_without_correcting() {
    let r = detect_drift(
        &desired(),
        &[],
        &live(1, 9, 0, cloudwatch_policy()),
        DriftMode::DetectOnly,
    );
    assert_eq!(r.drift.len(), 2);
    assert!(r
        .drift
        .iter()
        .all(|d| d.disposition == Disposition::DetectOnly));
    let mut d = desired();
    d[0].mode = DriftMode::DetectOnly;
    let r = detect_drift(
        &d,
        &[],
        &live(1, 9, 0, cloudwatch_policy()),
        DriftMode::Correct,
    );
    assert!(r
        .drift
        .iter()
        .all(|d| d.disposition == Disposition::DetectOnly));
}

#[test]
fn asg_tag_drift() {
    let mut l = live(0, 5, 0, cloudwatch_policy());
    l.asgs
        .get_mut(ASG)
        .unwrap()
        .tags
        .remove("k8s.io/cluster-autoscaler/node-template/label/intent");
    let r = detect_drift(&desired(), &[], &l, DriftMode::Correct);
    assert_eq!(r.drift.len(), 1);
    assert_eq!(
        r.drift[0].property,
        "Tags.k8s.io/cluster-autoscaler/node-template/label/intent"
    );
    assert_eq!(r.drift[0].live, Value::Null);
}

#[test]
fn desired_role_policy_drift() {
    let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["autoscaling:SetDesiredCapacity"], "Resource": "*"}]});
    let p = DesiredRolePolicy {
        role: RoleSource::StackResource {
            stack: STACK.into(),
            logical_id: "NodeInstanceRole".into(),
        },
        policy_name: "ASG-Policy-For-Worker".into(),
        document: doc.clone(),
        mode: DriftMode::Correct,
    };
    let mut l = live(0, 5, 0, cloudwatch_policy());
    // Same document with other key order: no drift.
    let reordered: Value = serde_json::from_str(r#"{"Statement":[{"Resource":"*","Action":["autoscaling:SetDesiredCapacity"],"Effect":"Allow"}],"Version":"2012-10-17"}"#).unwrap();
    l.insert_role_policy(LiveRolePolicy {
        role_name: ROLE.into(),
        policy_name: "ASG-Policy-For-Worker".into(),
        document: Some(reordered),
    });
    assert_eq!(
        detect_drift(&desired(), std::slice::from_ref(&p), &l, DriftMode::Correct).drift,
        vec![]
    );
    l.insert_role_policy(LiveRolePolicy {
        role_name: ROLE.into(),
        policy_name: "ASG-Policy-For-Worker".into(),
        document: Some(json!({"Version": "2012-10-17", "Statement": []})),
    });
    let r = detect_drift(&desired(), &[p], &l, DriftMode::Correct);
    assert_eq!(r.drift.len(), 1);
    assert_eq!(
        r.drift[0].target,
        DriftTarget::RolePolicy {
            stack: None,
            role: ROLE.into(),
            policy: "ASG-Policy-For-Worker".into()
        }
    );
}

#[test]
fn unresolvable_values_are_noted_not_compared() {
    let mut t = template();
    t["Resources"]["NodeGroup"]["Properties"]["MaxSize"] = json!({"Fn::ImportValue": "x"});
    let mut l = live(0, 7, 0, cloudwatch_policy());
    l.stacks.get_mut(STACK).unwrap().template = t.clone();
    let r = detect_drift(&[DesiredStack::new(STACK, t)], &[], &l, DriftMode::Correct);
    assert_eq!(r.drift, vec![]);
    assert_eq!(r.notes.len(), 1);
    assert!(r.notes[0].contains("MaxSize"));
}
