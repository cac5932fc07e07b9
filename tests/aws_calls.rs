//! Counts every AWS call of a no-op reconcile (read live state and plan, nothing to change) against
//! moto, for 1, 20 and 100 node group stacks: deployed templates and stack resources come from the
//! cache (no GetTemplate for a stack that did not change) and Auto Scaling groups are read in batches.
//! Run with `--nocapture` to see the table.

mod support;

use eksync::adapters::aws::AwsAdapter;
use eksync::core::awsdiff::{plan, DesiredStack, DriftMode, PlanOptions};
use eksync::exec::{ExecOptions, Reconciler};
use std::collections::BTreeMap;
use support::moto::moto;
use support::scenario::*;
use tokio_util::sync::CancellationToken;

fn many_stacks(n: usize) -> Vec<DesiredStack> {
    (0..n)
        .map(|i| {
            nodegroup_stack(
                &format!("eksctl-{CLUSTER}-nodegroup-ng-{i:03}"),
                fixture("nodegroup-spot.json"),
            )
        })
        .collect()
}

fn count(calls: &BTreeMap<(String, String), u64>, service: &str) -> u64 {
    calls
        .iter()
        .filter(|((s, _), _)| s.eq_ignore_ascii_case(service))
        .map(|(_, n)| n)
        .sum()
}

fn table(calls: &BTreeMap<(String, String), u64>) -> String {
    calls
        .iter()
        .map(|((s, o), n)| format!("{s}/{o}={n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn measure(n: usize) {
    let (_guard, server) = moto().await;
    create_cluster_stack(&server.url).await;
    let aws = AwsAdapter::connect(settings(&server.url))
        .await
        .expect("connect");
    let opts = ExecOptions {
        concurrency: 4,
        ..Default::default()
    };
    let r = Reconciler::new(Some(aws), None, opts);
    let aws = r.aws().expect("the reconciler was given an AWS adapter");
    let stacks = many_stacks(n);
    let policies = [eksync::core::awsdiff::DesiredRolePolicy {
        role: eksync::core::awsdiff::RoleSource::StackResource {
            stack: stacks[0].name.clone(),
            logical_id: "NodeInstanceRole".into(),
        },
        ..worker_policy(DriftMode::Correct)
    }];
    let live = aws.read_live(&stacks, &policies).await.expect("read");
    let p = plan(&stacks, &policies, &live, PlanOptions::default(), now()).expect("plan");
    let report = r.apply_aws_plan(&p, &CancellationToken::new()).await;
    assert!(
        report.succeeded(),
        "{:?}",
        report.failures().collect::<Vec<_>>()
    );
    assert_eq!(report.results.len(), p.steps.len());

    // First reconcile after the apply: fills the cache.
    aws.reset_calls();
    let live = aws.read_live(&stacks, &policies).await.expect("read");
    assert!(
        !plan(&stacks, &policies, &live, PlanOptions::default(), now())
            .expect("plan")
            .has_changes()
    );
    let cold = aws.calls();

    // The no-op reconcile that matters: nothing changed since the last one.
    aws.reset_calls();
    let live = aws.read_live(&stacks, &policies).await.expect("read");
    let p = plan(&stacks, &policies, &live, PlanOptions::default(), now()).expect("plan");
    assert!(!p.has_changes(), "{:#?}", p.drift);
    let warm = aws.calls();
    println!(
        "no-op reconcile, {n} stacks, cold cache: total {} ({})",
        cold.values().sum::<u64>(),
        table(&cold)
    );
    println!(
        "no-op reconcile, {n} stacks, warm cache: total {} ({})",
        warm.values().sum::<u64>(),
        table(&warm)
    );

    assert_eq!(
        warm.get(&("CloudFormation".to_string(), "GetTemplate".to_string())),
        None,
        "{}",
        table(&warm)
    );
    assert_eq!(
        warm.get(&(
            "CloudFormation".to_string(),
            "ListStackResources".to_string()
        )),
        None
    );
    assert_eq!(
        cold.get(&("CloudFormation".to_string(), "GetTemplate".to_string())).copied(),
        Some(n as u64),
        "after the apply, each changed stack's template is fetched once (the cluster stack's is still cached)"
    );
    let cf = count(&warm, "CloudFormation");
    // One paginated listing (moto pages by 50); per-name DescribeStacks below the threshold.
    let expected_cf = if n + 1 >= 3 {
        (n as u64 + 1).div_ceil(50)
    } else {
        n as u64 + 1
    };
    assert_eq!(cf, expected_cf, "{}", table(&warm));
    if n == 20 {
        assert!(cf <= 3);
        // A new process (a CLI run) gets the same with the cache persisted between runs.
        let exported = serde_json::to_string(&aws.cache().export()).expect("export cache");
        let fresh = AwsAdapter::connect(settings(&server.url))
            .await
            .expect("connect");
        fresh
            .cache()
            .import(serde_json::from_str(&exported).expect("import cache"));
        let live = fresh.read_live(&stacks, &policies).await.expect("read");
        assert!(
            !plan(&stacks, &policies, &live, PlanOptions::default(), now())
                .expect("plan")
                .has_changes()
        );
        assert_eq!(
            count(&fresh.calls(), "CloudFormation"),
            cf,
            "{}",
            table(&fresh.calls())
        );
    }
    assert_eq!(
        count(&warm, "Auto Scaling"),
        (n as u64).div_ceil(50),
        "{}",
        table(&warm)
    );
    assert_eq!(count(&warm, "IAM"), 1, "{}", table(&warm));
    assert_eq!(warm.values().sum::<u64>(), cf + (n as u64).div_ceil(50) + 1);
}

#[tokio::test]
async fn no_op_reconcile_of_1_stack() {
    measure(1).await;
}

#[tokio::test]
async fn no_op_reconcile_of_20_stacks() {
    measure(20).await;
}

#[tokio::test]
async fn no_op_reconcile_of_100_stacks() {
    measure(100).await;
}
