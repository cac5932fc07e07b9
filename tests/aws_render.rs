//! The AWS plan from the real examples repo: load and render `examples-repo/` with the core, map it
//! to the AWS comparison's inputs, and plan against live snapshots (no endpoint: moto 5.2.5 cannot
//! run these templates through change sets, see `aws_moto.rs`). Shows the order (cluster stack, node
//! groups, then the inline policy on the static group's role), the cluster-autoscaler's ownership of
//! the Spot group's desired capacity, and that raising the Spot group's maxSize in Git is a
//! one-property diff on one stack.

use eksync::adapters::fs::read_dir;
use eksync::core::analysis::analyze;
use eksync::core::awsdiff::{
    desired_aws, plan, AwsStep, DesiredAws, DriftMode, LiveAws, LiveStack, LiveStackResource,
    Owner, ParamValue, PlanOptions, RoleSource, StackAction,
};
use eksync::core::load::Source;
use eksync::core::source::FileRules;
use std::collections::BTreeMap;
use std::path::Path;

const CLUSTER: &str = "eks-test-jenkins";
const CLUSTER_STACK: &str = "eksctl-eks-test-jenkins-cluster";
const STATIC_STACK: &str = "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins";
const SPOT_STACK: &str = "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot";

fn example() -> Source {
    read_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples-repo"),
        &FileRules::default(),
    )
    .expect("read examples-repo")
}

fn desired(src: &Source) -> DesiredAws {
    let a = analyze(src);
    assert!(!a.has_errors(), "{:#?}", a.diagnostics);
    let i = a
        .model
        .clusters
        .iter()
        .position(|c| c.name() == CLUSTER)
        .expect("cluster");
    desired_aws(
        CLUSTER,
        &a.stacks[i],
        &a.model.role_policies,
        DriftMode::Correct,
    )
}

fn now() -> jiff::Timestamp {
    "2026-11-22T06:30:00Z".parse().unwrap()
}

/// A live snapshot as if every desired stack had been deployed as rendered.
fn deployed(d: &DesiredAws) -> LiveAws {
    let mut live = LiveAws::default();
    for s in &d.stacks {
        let resources = s.template["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(id, r)| LiveStackResource {
                logical_id: id.clone(),
                physical_id: Some(format!("{}-{id}-PHYS", s.name)),
                resource_type: r["Type"].as_str().unwrap().to_string(),
                status: "CREATE_COMPLETE".into(),
            })
            .collect();
        let outputs: BTreeMap<String, String> = s.template["Outputs"]
            .as_object()
            .map(|o| {
                o.keys()
                    .map(|k| (k.clone(), format!("{k}-value")))
                    .collect()
            })
            .unwrap_or_default();
        let parameters = s
            .parameters
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    ParamValue::Literal(l) => l.clone(),
                    ParamValue::Secret(s) => s.expose().to_string(),
                    ParamValue::StackOutput { output, .. } => format!("{output}-value"),
                    ParamValue::EksServiceCidr { .. } => "10.100.0.0/16".to_string(),
                };
                (k.clone(), value)
            })
            .collect();
        live.stacks.insert(
            s.name.clone(),
            LiveStack {
                name: s.name.clone(),
                id: format!(
                    "arn:aws:cloudformation:us-west-2:123456789012:stack/{}/1",
                    s.name
                ),
                status: "CREATE_COMPLETE".into(),
                status_reason: None,
                parameters,
                tags: s.tags.clone(),
                outputs,
                template: s.template.clone(),
                resources,
                last_changed: None,
            },
        );
    }
    live.eks_clusters.insert(
        CLUSTER.into(),
        eksync::core::awsdiff::LiveEksCluster {
            name: CLUSTER.into(),
            version: Some("1.33".into()),
            status: Some("ACTIVE".into()),
            service_ipv4_cidr: Some("10.100.0.0/16".into()),
        },
    );
    live
}

#[test]
fn examples_repo_plans_in_order_on_an_empty_account() {
    let d = desired(&example());
    assert!(d.notes.is_empty(), "{:?}", d.notes);
    let names: Vec<_> = d.stacks.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            CLUSTER_STACK,
            STATIC_STACK,
            SPOT_STACK,
            "eksctl-eks-test-jenkins-addon-iamserviceaccount-kube-system-cluster-autoscaler"
        ]
    );
    // Node groups and the autoscaler's IRSA role each wait for the cluster stack only.
    for ng in &d.stacks[1..] {
        assert_eq!(
            ng.dependencies(),
            vec![CLUSTER_STACK.to_string()],
            "{}",
            ng.name
        );
    }
    // The Spot group's desired capacity is the autoscaler's (its ASG carries the discovery tags).
    let spot = &d.stacks[2];
    assert_eq!(spot.ownership.len(), 1);
    assert!(spot.ownership.iter().any(|r| r.logical_id == "NodeGroup"
        && r.property == "DesiredCapacity"
        && r.owner == Owner::ClusterAutoscaler));
    assert!(
        d.stacks[0].ownership.is_empty(),
        "the cluster stack has no Auto Scaling group"
    );
    assert_eq!(d.policies.len(), 1);
    assert_eq!(d.policies[0].policy_name, "ASG-Policy-For-Worker");
    assert_eq!(
        d.policies[0].role,
        RoleSource::StackResource {
            stack: STATIC_STACK.into(),
            logical_id: "NodeInstanceRole".into()
        }
    );

    let p = plan(
        &d.stacks,
        &d.policies,
        &LiveAws::default(),
        PlanOptions::default(),
        now(),
    )
    .expect("plan");
    assert!(p.stacks.iter().all(|s| s.action == StackAction::Create));
    let steps: Vec<(usize, Vec<usize>, String)> = p
        .steps
        .iter()
        .map(|s| {
            let what = match &s.step {
                AwsStep::CreateStack { stack, .. } => format!("create {stack}"),
                AwsStep::PutRolePolicy { policy_name, .. } => format!("put {policy_name}"),
                other => format!("{other:?}"),
            };
            (s.id, s.after.clone(), what)
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            (0, vec![], format!("create {CLUSTER_STACK}")),
            (1, vec![0], format!("create {STATIC_STACK}")),
            (2, vec![0], format!("create {SPOT_STACK}")),
            (
                3,
                vec![0],
                "create eksctl-eks-test-jenkins-addon-iamserviceaccount-kube-system-cluster-autoscaler"
                    .to_string()
            ),
            (4, vec![1], "put ASG-Policy-For-Worker".to_string()),
        ]
    );
}

#[test]
fn raising_spot_max_size_in_git_is_a_one_property_update() {
    let src = example();
    let before = desired(&src);
    let live = deployed(&before);
    let p = plan(&before.stacks, &[], &live, PlanOptions::default(), now()).expect("plan");
    assert!(
        p.stacks.iter().all(|s| s.action == StackAction::NoChange),
        "{:#?}",
        p.stacks
    );

    let mut edited = src.clone();
    let file = edited
        .files
        .iter_mut()
        .find(|f| f.path == "cluster/cluster.yaml")
        .expect("cluster.yaml");
    let text = String::from_utf8(file.bytes.clone()).unwrap();
    assert_eq!(text.matches("maxSize: 5").count(), 1);
    file.bytes = text.replace("maxSize: 5", "maxSize: 8").into_bytes();
    let after = desired(&edited);
    let p = plan(&after.stacks, &[], &live, PlanOptions::default(), now()).expect("plan");
    let changed: Vec<_> = p
        .stacks
        .iter()
        .filter(|s| s.action != StackAction::NoChange)
        .collect();
    assert_eq!(changed.len(), 1, "{:#?}", p.stacks);
    assert_eq!(changed[0].name, SPOT_STACK);
    let diff = changed[0].template_diff.as_ref().unwrap();
    let paths: Vec<_> = diff.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["/Resources/NodeGroup/Properties/MaxSize"],
        "{}",
        diff.unified
    );
    assert_eq!(diff.changes[0].desired, Some(serde_json::json!("8")));
    assert_eq!(p.steps.len(), 1);
}
