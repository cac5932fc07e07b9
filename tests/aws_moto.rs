//! The AWS adapter against a real local endpoint (moto): create the scenario's stacks, preview and
//! apply a Spot maxSize change, find and correct out-of-band drift (and leave the autoscaler's
//! desired capacity alone), detect-only mode, stack-declared policy and tag drift, the EKS service
//! CIDR flowing into a parameter, and a create preview that leaves nothing behind.
//!
//! moto 5.2.5 gaps met here, beyond those listed in the AWS issue (the code does not special-case
//! them): stacks created through change sets get no outputs or exports, and `Fn::ImportValue` is not
//! resolved in change sets (so the cluster stack is made with CreateStack, and the rendered
//! examples-repo templates, which import the cluster's exports, are planned in `aws_render.rs`
//! instead); change sets are looked up by name across all stacks (eksync's names are unique per
//! stack); ListChangeSets ignores the stack; `LastUpdatedTime` is never set (eksync evicts its cache
//! entry for stacks it changes); a CREATE change set on a REVIEW_IN_PROGRESS stack makes a second
//! stack of the same name.

mod support;

use eksync::adapters::aws::AwsAdapter;
use eksync::core::awsdiff::{
    plan, AwsPlan, AwsStep, DesiredRolePolicy, DesiredStack, Disposition, DriftMode, DriftTarget,
    Owner, PlanOptions, PolicyAction, ReplacementSource, StackAction,
};
use eksync::exec::aws::{AwsPlanReport, AwsStepResult};
use eksync::exec::{ExecOptions, Reconciler};
use support::moto::moto;
use support::scenario::*;
use tokio_util::sync::CancellationToken;

async fn reconcile(
    aws: &AwsAdapter,
    stacks: &[DesiredStack],
    policies: &[DesiredRolePolicy],
    options: PlanOptions,
) -> AwsPlan {
    let live = aws.read_live(stacks, policies).await.expect("read live");
    plan(stacks, policies, &live, options, now()).expect("plan")
}

/// The executor over an adapter for `url`, four steps at once (the adapter's default bound).
async fn executor(url: &str) -> Reconciler {
    let aws = AwsAdapter::connect(settings(url)).await.expect("connect");
    let opts = ExecOptions {
        concurrency: 4,
        ..Default::default()
    };
    Reconciler::new(Some(aws), None, opts)
}

fn adapter(r: &Reconciler) -> &AwsAdapter {
    r.aws().expect("the reconciler was given an AWS adapter")
}

/// Runs `p` through the executor's scheduler (never cancelled).
async fn run(r: &Reconciler, p: &AwsPlan) -> AwsPlanReport {
    r.apply_aws_plan(p, &CancellationToken::new()).await
}

async fn apply(r: &Reconciler, p: &AwsPlan) {
    let report = run(r, p).await;
    let failures: Vec<_> = report
        .failures()
        .map(|(id, result)| format!("step {id}: {result:?}"))
        .collect();
    assert!(failures.is_empty(), "apply failed: {failures:#?}");
    assert_eq!(report.results.len(), p.steps.len());
}

/// The cluster stack, both node group stacks (Spot maxSize 5) and `policies`, applied.
async fn deployed(url: &str, policies: &[DesiredRolePolicy]) -> Reconciler {
    let r = executor(url).await;
    create_cluster_stack(url).await;
    let p = reconcile(adapter(&r), &stacks("5"), policies, PlanOptions::default()).await;
    apply(&r, &p).await;
    r
}

async fn spot_asg(aws: &AwsAdapter) -> eksync::core::awsdiff::LiveAsg {
    let live = aws.read_live(&stacks("5"), &[]).await.expect("read");
    let name = live.stacks[SPOT_STACK]
        .physical_id("NodeGroup")
        .expect("spot ASG")
        .to_string();
    live.asgs[&name].clone()
}

#[tokio::test]
async fn create_then_spot_max_size_change_previews_applies_and_settles() {
    let (_guard, server) = moto().await;
    let r = executor(&server.url).await;
    let aws = adapter(&r);
    let policies = [worker_policy(DriftMode::Correct)];
    create_cluster_stack(&server.url).await;

    // No node group exists: both are "to create", the policy waits for its role's stack.
    let p = reconcile(aws, &stacks("5"), &policies, PlanOptions::default()).await;
    let order: Vec<_> = p
        .stacks
        .iter()
        .map(|s| (s.name.as_str(), s.action.clone()))
        .collect();
    assert_eq!(
        order,
        vec![
            (STATIC_STACK, StackAction::Create),
            (SPOT_STACK, StackAction::Create)
        ]
    );
    assert_eq!(p.policies[0].action, PolicyAction::Create);
    assert!(matches!(&p.steps[2].step, AwsStep::PutRolePolicy { .. }));
    assert_eq!(p.steps[2].after, vec![0]);
    apply(&r, &p).await;

    // Second run: no changes at all.
    let p = reconcile(aws, &stacks("5"), &policies, PlanOptions::default()).await;
    assert!(!p.has_changes(), "after create: {:#?}", p);
    assert!(p.steps.is_empty());

    // Raise the Spot group's maxSize: a one-property diff on one stack.
    let p = reconcile(aws, &stacks("8"), &policies, PlanOptions::default()).await;
    let changed: Vec<_> = p
        .stacks
        .iter()
        .filter(|s| s.action != StackAction::NoChange)
        .collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].name, SPOT_STACK);
    assert_eq!(changed[0].action, StackAction::Update);
    let diff = changed[0].template_diff.as_ref().expect("diff");
    assert_eq!(diff.changes.len(), 1, "{}", diff.unified);
    assert_eq!(
        diff.changes[0].path,
        "/Resources/NodeGroup/Properties/MaxSize"
    );
    assert_eq!(
        diff.patch,
        serde_json::json!([{"op": "replace", "path": "/Resources/NodeGroup/Properties/MaxSize", "value": "8"}])
    );
    assert!(changed[0].parameter_changes.is_empty() && changed[0].tag_changes.is_empty());
    assert_eq!(p.steps.len(), 1);
    assert!(matches!(&p.steps[0].step, AwsStep::UpdateStack { stack, .. } if stack == SPOT_STACK));

    // Preview through a change set: NodeGroup is modified; moto gives no replacement detail, so
    // the verdict is eksync's estimate (MaxSize does not force replacement).
    let previews = aws.preview_plan(&p).await;
    assert_eq!(previews.len(), 1);
    assert_eq!(previews[0].0, p.steps[0].id);
    let preview = previews[0].1.as_ref().expect("preview");
    assert_eq!(preview.stack, SPOT_STACK);
    assert!(!preview.no_changes);
    assert_eq!(preview.changes.len(), 1, "{:#?}", preview.changes);
    assert_eq!(preview.changes[0].logical_id, "NodeGroup");
    assert_eq!(preview.changes[0].action, "Modify");
    assert_eq!(
        preview.changes[0].replacement.value.as_deref(),
        Some("False")
    );
    assert_eq!(
        preview.changes[0].replacement.source,
        ReplacementSource::EksyncEstimate
    );
    assert!(!preview.replaces_anything());

    apply(&r, &p).await;
    assert_eq!(spot_asg(aws).await.max_size, 8);

    let p = reconcile(aws, &stacks("8"), &policies, PlanOptions::default()).await;
    assert!(!p.has_changes(), "after update: {:#?}", p);
    assert!(p.steps.is_empty());
}

#[tokio::test]
async fn out_of_band_drift_is_found_and_corrected_but_desired_capacity_is_not() {
    let (_guard, server) = moto().await;
    let policies = [worker_policy(DriftMode::Correct)];
    let r = deployed(&server.url, &policies).await;
    let aws = adapter(&r);

    // Out of band: someone edits the inline policy, raises the Spot ASG's max, and the autoscaler
    // sets its desired capacity.
    let live = aws.read_live(&stacks("5"), &policies).await.expect("read");
    let role = live.stacks[STATIC_STACK]
        .physical_id("NodeInstanceRole")
        .expect("role")
        .to_string();
    let asg = live.stacks[SPOT_STACK]
        .physical_id("NodeGroup")
        .expect("asg")
        .to_string();
    let oob = out_of_band(&server.url);
    let edited = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "autoscaling:*", "Resource": "*"}]});
    oob.iam
        .put_role_policy()
        .role_name(&role)
        .policy_name(WORKER_POLICY)
        .policy_document(edited.to_string())
        .send()
        .await
        .expect("out-of-band PutRolePolicy");
    oob.autoscaling
        .update_auto_scaling_group()
        .auto_scaling_group_name(&asg)
        .max_size(9)
        .desired_capacity(2)
        .send()
        .await
        .expect("out-of-band ASG change");

    // Detect-only (repo-wide): both drifts reported, nothing planned, nothing changed.
    let detect = reconcile(
        aws,
        &stacks("5"),
        &policies,
        PlanOptions {
            repo_mode: DriftMode::DetectOnly,
        },
    )
    .await;
    let found: Vec<_> = detect
        .drift
        .drift
        .iter()
        .map(|d| (d.property.as_str(), d.disposition.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            ("MaxSize", Disposition::DetectOnly),
            ("PolicyDocument", Disposition::DetectOnly)
        ]
    );
    assert_eq!(detect.drift.not_owned.len(), 1);
    assert_eq!(detect.drift.not_owned[0].property, "DesiredCapacity");
    assert_eq!(detect.drift.not_owned[0].owner, Owner::ClusterAutoscaler);
    assert!(detect.steps.is_empty());
    assert!(detect.has_changes());
    let report = run(&r, &detect).await;
    assert!(report.results.is_empty());
    let g = spot_asg(aws).await;
    assert_eq!((g.max_size, g.desired_capacity), (9, 2));

    // Per-resource detect-only does the same for the policy alone.
    let per_resource = reconcile(
        aws,
        &stacks("5"),
        &[worker_policy(DriftMode::DetectOnly)],
        PlanOptions::default(),
    )
    .await;
    assert!(per_resource
        .steps
        .iter()
        .all(|s| !matches!(s.step, AwsStep::PutRolePolicy { .. })));
    assert!(per_resource
        .steps
        .iter()
        .any(|s| matches!(s.step, AwsStep::SetAsgLimits { .. })));

    // Correct (default): max and policy are corrected; desired capacity is left to the autoscaler.
    let p = reconcile(aws, &stacks("5"), &policies, PlanOptions::default()).await;
    assert_eq!(p.steps.len(), 2, "{:#?}", p.steps);
    let report = run(&r, &p).await;
    assert!(report.succeeded(), "{report:?}");
    let corrected: Vec<_> = report
        .results
        .iter()
        .map(|(id, result)| match result {
            AwsStepResult::Done(outcome) => format!("{outcome:?}"),
            other => panic!("step {id}: {other:?}"),
        })
        .collect();
    assert!(
        corrected.iter().any(|c| c.contains("AsgLimitsSet")
            && c.contains("max_size: Some(5)")
            && c.contains("min_size: None")),
        "{corrected:?}"
    );
    assert!(
        corrected
            .iter()
            .any(|c| c.contains("RolePolicyPut") && c.contains(WORKER_POLICY)),
        "{corrected:?}"
    );

    let g = spot_asg(aws).await;
    assert_eq!((g.min_size, g.max_size, g.desired_capacity), (0, 5, 2));
    let live = aws.read_live(&stacks("5"), &policies).await.expect("read");
    let doc = live
        .role_policy(&role, WORKER_POLICY)
        .and_then(|p| p.document.clone())
        .expect("policy");
    assert_eq!(
        doc,
        eksync::core::awsdiff::normalize_json(&worker_policy_document())
    );

    let p = reconcile(aws, &stacks("5"), &policies, PlanOptions::default()).await;
    assert!(!p.has_changes(), "{:#?}", p.drift);
    assert_eq!(
        p.drift.not_owned.len(),
        1,
        "desired capacity stays the autoscaler's"
    );
}

#[tokio::test]
async fn eks_service_cidr_flows_into_a_stack_parameter() {
    let (_guard, server) = moto().await;
    create_cluster_stack(&server.url).await;
    let oob = out_of_band(&server.url);
    oob.eks
        .create_cluster()
        .name(CLUSTER)
        .role_arn("arn:aws:iam::123456789012:role/eks-service-role")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-0aaaaaaaaaaaaaaa1")
                .build(),
        )
        .send()
        .await
        .expect("create EKS cluster");
    let r = executor(&server.url).await;
    let aws = adapter(&r);
    let mut spot = stacks("5").remove(1);
    spot.template["Parameters"]["ServiceCidr"] = serde_json::json!({"Type": "String"});
    spot.parameters.insert(
        "ServiceCidr".into(),
        eksync::core::awsdiff::ParamValue::EksServiceCidr {
            cluster: CLUSTER.into(),
        },
    );
    let desired = [spot];

    let live = aws.read_live(&desired, &[]).await.expect("read");
    let cidr = live.eks_clusters[CLUSTER]
        .service_ipv4_cidr
        .clone()
        .expect("service CIDR");
    let p = plan(&desired, &[], &live, PlanOptions::default(), now()).expect("plan");
    let change = p.stacks[0]
        .parameter_changes
        .iter()
        .find(|c| c.key == "ServiceCidr")
        .expect("param");
    assert_eq!(change.desired.as_deref(), Some(cidr.as_str()));
    assert!(!change.known_after_apply);
    apply(&r, &p).await;

    let live = aws.read_live(&desired, &[]).await.expect("read");
    assert_eq!(
        live.stacks[SPOT_STACK].parameters.get("ServiceCidr"),
        Some(&cidr)
    );
    let p = plan(&desired, &[], &live, PlanOptions::default(), now()).expect("plan");
    assert!(!p.has_changes(), "{:#?}", p.stacks);
    let calls = aws.calls();
    assert!(
        calls
            .keys()
            .any(|(s, o)| s == "EKS" && o == "DescribeCluster"),
        "{calls:?}"
    );
}

#[tokio::test]
async fn stack_declared_policy_and_asg_tag_drift_are_corrected() {
    let (_guard, server) = moto().await;
    let r = deployed(&server.url, &[]).await;
    let aws = adapter(&r);
    let live = aws.read_live(&stacks("5"), &[]).await.expect("read");
    let role = live.stacks[STATIC_STACK]
        .physical_id("NodeInstanceRole")
        .expect("role")
        .to_string();
    let asg = live.stacks[SPOT_STACK]
        .physical_id("NodeGroup")
        .expect("asg")
        .to_string();
    // The static stack declares eksctl's PolicyAutoScaling (an AWS::IAM::Policy on its role).
    let stack_policy = format!("{STATIC_STACK}-PolicyAutoScaling");
    assert!(live
        .role_policy(&role, &stack_policy)
        .and_then(|p| p.document.as_ref())
        .is_some());

    let oob = out_of_band(&server.url);
    oob.iam
        .put_role_policy()
        .role_name(&role)
        .policy_name(&stack_policy)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("out-of-band edit of the stack's policy");
    let intent = "k8s.io/cluster-autoscaler/node-template/label/intent";
    oob.autoscaling
        .delete_tags()
        .tags(
            aws_sdk_autoscaling::types::Tag::builder()
                .resource_id(&asg)
                .resource_type("auto-scaling-group")
                .key(intent)
                .build(),
        )
        .send()
        .await
        .expect("out-of-band DeleteTags");

    let p = reconcile(aws, &stacks("5"), &[], PlanOptions::default()).await;
    let found: Vec<_> = p
        .drift
        .drift
        .iter()
        .map(|d| (d.target.clone(), d.property.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                DriftTarget::RolePolicy {
                    stack: Some(STATIC_STACK.into()),
                    role: role.clone(),
                    policy: stack_policy.clone()
                },
                "PolicyDocument".to_string()
            ),
            (
                DriftTarget::Asg {
                    stack: SPOT_STACK.into(),
                    logical_id: "NodeGroup".into(),
                    name: asg.clone()
                },
                format!("Tags.{intent}")
            ),
        ]
    );
    let report = run(&r, &p).await;
    assert!(report.succeeded(), "{report:?}");
    let live = aws.read_live(&stacks("5"), &[]).await.expect("read");
    assert_eq!(
        live.asgs[&asg].tags.get(intent).map(String::as_str),
        Some("apps")
    );
    let p = reconcile(aws, &stacks("5"), &[], PlanOptions::default()).await;
    assert!(!p.has_changes(), "{:#?}", p.drift);
}

#[tokio::test]
async fn previewing_a_create_then_applying_it_works() {
    let (_guard, server) = moto().await;
    let r = executor(&server.url).await;
    let aws = adapter(&r);
    create_cluster_stack(&server.url).await;
    let p = reconcile(aws, &stacks("5"), &[], PlanOptions::default()).await;
    let previews = aws.preview_plan(&p).await;
    assert_eq!(previews.len(), 2);
    for (id, preview) in &previews {
        let preview = preview
            .as_ref()
            .unwrap_or_else(|e| panic!("step {id}: {e}"));
        assert!(
            preview.changes.iter().all(|c| c.action == "Add"),
            "{preview:#?}"
        );
        assert!(preview.changes.iter().any(|c| c.logical_id == "NodeGroup"));
    }
    // The preview left nothing that changes the plan...
    let again = reconcile(aws, &stacks("5"), &[], PlanOptions::default()).await;
    assert!(
        again.stacks.iter().all(|s| s.action == StackAction::Create),
        "{:#?}",
        again.stacks
    );
    // ...and the create still applies.
    apply(&r, &again).await;
    let p = reconcile(aws, &stacks("5"), &[], PlanOptions::default()).await;
    assert!(!p.has_changes(), "{:#?}", p.stacks);
}
