//! The AWS adapter against replayed HTTP responses shaped like AWS's documented ones: what moto
//! cannot show (it completes synchronously, never rolls back, gives no replacement details, never
//! throttles, skips EKS resources in templates). Covers waiting through IN_PROGRESS states,
//! UPDATE_ROLLBACK_COMPLETE with the failing resource's reason, a stack that never settles,
//! throttling and 5xx followed by success (and bounded retries), "no changes" as success, a change
//! set with Replacement=True, a failed step skipping its dependents, a managed node group's drift,
//! bounded concurrency of reads, and the `eksync/<version>` User-Agent on every request.

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_types::body::SdkBody;
use eksync::adapters::aws::{
    AwsAdapter, AwsError, AwsSettings, CredentialsSource, RetrySettings, StepOutcome, WaitSettings,
    USER_AGENT_PRODUCT,
};
use eksync::core::awsdiff::{AwsStep, ParamValue, ReplacementSource};
use std::collections::BTreeMap;
use std::time::Duration;

const STACK: &str = "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot";

fn body(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/aws/replay/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn event(status: u16, body: String) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri("https://cloudformation.us-west-2.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap(),
        http::Response::builder()
            .status(status)
            .header("content-type", "text/xml")
            .body(SdkBody::from(body))
            .unwrap(),
    )
}

fn ok(name: &str) -> ReplayEvent {
    event(200, body(name))
}

fn stack_status(status: &str) -> ReplayEvent {
    event(
        200,
        body("describe-stacks.xml").replace("{{STATUS}}", status),
    )
}

/// Settings for a test HTTP client: a region, static keys, fast polling, SDK retries as given.
fn test_settings(http: SharedHttpClient, retry: RetrySettings) -> AwsSettings {
    AwsSettings {
        region: Some("us-west-2".into()),
        credentials: CredentialsSource::Static {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        },
        retry,
        wait: WaitSettings {
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            timeout: Duration::from_secs(10),
        },
        http_client: Some(http),
        ..AwsSettings::default()
    }
}

async fn adapter(
    events: Vec<ReplayEvent>,
    retry: RetrySettings,
) -> (AwsAdapter, StaticReplayClient) {
    let replay = StaticReplayClient::new(events);
    let settings = test_settings(SharedHttpClient::new(replay.clone()), retry);
    (
        AwsAdapter::connect(settings).await.expect("connect"),
        replay,
    )
}

fn update_step() -> AwsStep {
    let mut template = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(format!(
            "{}/tests/fixtures/aws/templates/nodegroup-spot.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    template["Resources"]["NodeGroup"]["Properties"]["MaxSize"] = serde_json::json!("8");
    AwsStep::UpdateStack {
        stack: STACK.into(),
        change_set_name: "eksync-20261122T060000Z-0badc0de".into(),
        template,
        parameters: BTreeMap::from([
            (
                "ClusterSubnets".to_string(),
                ParamValue::Literal("subnet-a,subnet-b".into()),
            ),
            (
                "SharedNodeSecurityGroup".to_string(),
                ParamValue::Literal("sg-1".into()),
            ),
        ]),
        tags: BTreeMap::from([(
            "alpha.eksctl.io/cluster-name".to_string(),
            "eks-test-jenkins".to_string(),
        )]),
    }
}

fn calls(aws: &AwsAdapter, op: &str) -> u64 {
    aws.calls()
        .iter()
        .filter(|((_, o), _)| o == op)
        .map(|(_, n)| *n)
        .sum()
}

#[tokio::test]
async fn update_waits_through_in_progress_states() {
    let (aws, replay) = adapter(
        vec![
            ok("create-change-set.xml"),
            ok("describe-change-set-pending.xml"),
            ok("describe-change-set-max-size.xml"),
            ok("execute-change-set.xml"),
            stack_status("UPDATE_IN_PROGRESS"),
            stack_status("UPDATE_IN_PROGRESS"),
            stack_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            stack_status("UPDATE_COMPLETE"),
        ],
        RetrySettings::off(),
    )
    .await;
    let outcome = aws
        .apply_step(&update_step())
        .await
        .expect("update succeeds");
    assert_eq!(
        outcome,
        StepOutcome::Stack {
            stack: STACK.into(),
            status: "UPDATE_COMPLETE".into(),
            no_changes: false
        }
    );
    assert_eq!(calls(&aws, "DescribeChangeSet"), 2);
    assert_eq!(calls(&aws, "DescribeStacks"), 4);
    assert_eq!(aws.calls().values().sum::<u64>(), 8);

    // Every request names eksync first in its User-Agent, and the change set asked for what we sent.
    let requests: Vec<_> = replay.actual_requests().collect();
    assert_eq!(requests.len(), 8);
    for r in &requests {
        let ua = r.headers().get("user-agent").expect("user-agent");
        assert!(ua.starts_with(&format!("{USER_AGENT_PRODUCT} ")), "{ua}");
    }
    assert!(USER_AGENT_PRODUCT.starts_with("eksync/0."));
    let create = std::str::from_utf8(requests[0].body().bytes().expect("body"))
        .expect("utf8")
        .to_string();
    for expected in [
        "Action=CreateChangeSet",
        "ChangeSetType=UPDATE",
        "CAPABILITY_NAMED_IAM",
        "ParameterKey=ClusterSubnets",
        "MaxSize",
    ] {
        assert!(
            create.contains(expected),
            "{expected} missing from {create}"
        );
    }
}

#[tokio::test]
async fn update_rollback_reports_the_failing_resource_and_reason() {
    let (aws, _replay) = adapter(
        vec![
            ok("create-change-set.xml"),
            ok("describe-change-set-max-size.xml"),
            ok("execute-change-set.xml"),
            stack_status("UPDATE_IN_PROGRESS"),
            stack_status("UPDATE_ROLLBACK_IN_PROGRESS"),
            stack_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
            stack_status("UPDATE_ROLLBACK_COMPLETE"),
            ok("describe-stack-events-rollback.xml"),
        ],
        RetrySettings::off(),
    )
    .await;
    let err = aws
        .apply_step(&update_step())
        .await
        .expect_err("rollback is a failure");
    match &err {
        AwsError::StackFailed {
            stack,
            status,
            failure,
        } => {
            assert_eq!(stack, STACK);
            assert_eq!(status, "UPDATE_ROLLBACK_COMPLETE");
            let f = failure.as_ref().expect("failing resource");
            assert_eq!(f.logical_id, "NodeGroup");
            assert_eq!(f.resource_type, "AWS::AutoScaling::AutoScalingGroup");
            assert_eq!(f.status, "UPDATE_FAILED");
            assert!(
                f.reason
                    .contains("Max bound, 3, must be greater than or equal to min bound, 4"),
                "{}",
                f.reason
            );
        }
        other => panic!("unexpected error {other:?}"),
    }
    let text = err.to_string();
    assert!(
        text.contains("UPDATE_ROLLBACK_COMPLETE") && text.contains("NodeGroup"),
        "{text}"
    );
    assert!(!text.contains("older operation"), "{text}");
}

#[tokio::test]
async fn throttling_and_5xx_are_retried_until_success() {
    let retry = RetrySettings {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    };
    let (aws, replay) = adapter(
        vec![
            event(400, body("throttling.xml")),
            event(503, body("service-unavailable.xml")),
            stack_status("UPDATE_COMPLETE"),
        ],
        retry,
    )
    .await;
    let status = aws.wait_stack(STACK).await.expect("third attempt succeeds");
    assert_eq!(status, "UPDATE_COMPLETE");
    assert_eq!(calls(&aws, "DescribeStacks"), 3, "every attempt is counted");
    assert_eq!(replay.actual_requests().count(), 3);
}

#[tokio::test]
async fn retries_are_bounded() {
    let retry = RetrySettings {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    };
    let (aws, _replay) = adapter(
        vec![
            event(400, body("throttling.xml")),
            event(400, body("throttling.xml")),
            stack_status("UPDATE_COMPLETE"),
        ],
        retry,
    )
    .await;
    let err = aws
        .wait_stack(STACK)
        .await
        .expect_err("gives up after two attempts");
    assert!(
        matches!(&err, AwsError::Call { code: Some(c), operation: "DescribeStacks", .. } if c == "Throttling"),
        "{err:?}"
    );
    assert_eq!(calls(&aws, "DescribeStacks"), 2);
}

#[tokio::test]
async fn change_set_with_replacement_true_is_previewed_with_its_cause() {
    let (aws, replay) = adapter(
        vec![
            ok("create-change-set.xml"),
            ok("describe-change-set-replacement.xml"),
            ok("delete-change-set.xml"),
        ],
        RetrySettings::off(),
    )
    .await;
    let preview = aws.preview(&update_step(), None).await.expect("preview");
    assert_eq!(preview.status, "CREATE_COMPLETE");
    assert!(preview.replaces_anything());
    let lt = &preview.changes[0];
    assert_eq!(
        (lt.logical_id.as_str(), lt.action.as_str()),
        ("NodeGroupLaunchTemplate", "Modify")
    );
    assert_eq!(lt.replacement.value.as_deref(), Some("True"));
    assert_eq!(lt.replacement.source, ReplacementSource::Aws);
    assert_eq!(
        lt.replacement.causes,
        vec!["LaunchTemplateName (RequiresRecreation: Always, DirectModification)"]
    );
    let ng = &preview.changes[1];
    assert_eq!(ng.replacement.value.as_deref(), Some("False"));
    assert_eq!(ng.replacement.source, ReplacementSource::Aws);
    assert!(ng.replacement.causes.is_empty());
    // The preview deleted its change set.
    let last = replay.actual_requests().last().expect("requests");
    assert!(std::str::from_utf8(last.body().bytes().expect("body"))
        .expect("utf8")
        .contains("Action=DeleteChangeSet"));
}

#[tokio::test]
async fn no_changes_is_success() {
    let (aws, _replay) = adapter(
        vec![
            ok("create-change-set.xml"),
            ok("describe-change-set-no-changes.xml"),
            ok("delete-change-set.xml"),
        ],
        RetrySettings::off(),
    )
    .await;
    let outcome = aws
        .apply_step(&update_step())
        .await
        .expect("no changes is success");
    assert_eq!(
        outcome,
        StepOutcome::Stack {
            stack: STACK.into(),
            status: "NO_CHANGES".into(),
            no_changes: true
        }
    );
    assert_eq!(calls(&aws, "ExecuteChangeSet"), 0);
}

#[tokio::test]
async fn a_failed_step_skips_the_steps_that_wait_for_it() {
    use eksync::core::awsdiff::{AwsPlan, PlannedStep, RoleSource};
    use eksync::exec::aws::AwsStepResult;
    use eksync::exec::{ExecOptions, Reconciler};
    use tokio_util::sync::CancellationToken;
    let (aws, replay) = adapter(
        vec![event(400, body("validation-error.xml"))],
        RetrySettings::off(),
    )
    .await;
    let plan = AwsPlan {
        stacks: Vec::new(),
        policies: Vec::new(),
        drift: Default::default(),
        notes: Vec::new(),
        eks_objects: Vec::new(),
        steps: vec![
            PlannedStep {
                id: 0,
                after: vec![],
                step: update_step(),
            },
            PlannedStep {
                id: 1,
                after: vec![0],
                step: AwsStep::PutRolePolicy {
                    role: RoleSource::StackResource {
                        stack: STACK.into(),
                        logical_id: "NodeInstanceRole".into(),
                    },
                    policy_name: "ASG-Policy-For-Worker".into(),
                    document: serde_json::json!({"Version": "2012-10-17", "Statement": []}),
                },
            },
        ],
    };
    let opts = ExecOptions {
        concurrency: 4,
        ..Default::default()
    };
    let r = Reconciler::new(Some(aws), None, opts);
    let report = r.apply_aws_plan(&plan, &CancellationToken::new()).await;
    assert!(!report.succeeded());
    assert_eq!(report.results.len(), 2);
    let first = &report.results[&0];
    assert!(
        matches!(first, AwsStepResult::Failed(AwsError::Call { operation: "CreateChangeSet", code: Some(c), message, .. }) if c == "ValidationError" && message.contains("NodeInstanceRoel")),
        "{first:?}"
    );
    let second = &report.results[&1];
    assert!(
        matches!(second, AwsStepResult::Skipped { after: 0 }),
        "{second:?}"
    );
    assert_eq!(
        replay.actual_requests().count(),
        1,
        "nothing after the failure was sent"
    );
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[tokio::test]
async fn managed_node_group_drift_is_read_and_owned() {
    use eksync::core::awsdiff::{detect_drift, Disposition, DriftMode, Owner};
    const MANAGED: &str = "eksctl-eks-test-jenkins-nodegroup-ng-managed";
    let template = serde_json::json!({
        "Resources": {"ManagedNodeGroup": {"Type": "AWS::EKS::Nodegroup", "Properties": {
            "ClusterName": "eks-test-jenkins", "NodegroupName": "ng-managed", "CapacityType": "SPOT",
            "ScalingConfig": {"MinSize": 1, "MaxSize": 5, "DesiredSize": 2},
            "Labels": {"lifecycle": "Ec2Spot", "intent": "apps"}}}}
    });
    let stacks = body("describe-stacks.xml")
        .replace("{{STATUS}}", "CREATE_COMPLETE")
        .replace(STACK, MANAGED);
    let get_template = format!(
        r#"<GetTemplateResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><GetTemplateResult><TemplateBody>{}</TemplateBody><StagesAvailable><member>Original</member><member>Processed</member></StagesAvailable></GetTemplateResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetTemplateResponse>"#,
        xml_escape(&template.to_string())
    );
    let (aws, replay) = adapter(
        vec![
            event(200, stacks),
            event(200, get_template),
            ok("list-stack-resources-managed.xml"),
            event(200, body("describe-nodegroup.json")),
        ],
        RetrySettings::off(),
    )
    .await;
    let desired = [eksync::core::awsdiff::DesiredStack::new(MANAGED, template)];
    let live = aws.read_live(&desired, &[]).await.expect("read");
    let ng = live
        .nodegroup("eks-test-jenkins", "ng-managed")
        .expect("node group read");
    assert_eq!(
        (ng.min_size, ng.max_size, ng.desired_size),
        (Some(1), Some(7), Some(4))
    );
    assert_eq!(replay.actual_requests().count(), 4);
    assert!(replay
        .actual_requests()
        .last()
        .unwrap()
        .uri()
        .contains("/clusters/eks-test-jenkins/node-groups/ng-managed"));

    let report = detect_drift(&desired, &[], &live, DriftMode::Correct);
    let drift: Vec<_> = report
        .drift
        .iter()
        .map(|d| (d.property.as_str(), d.expected.clone(), d.live.clone()))
        .collect();
    assert_eq!(
        drift,
        vec![
            (
                "ScalingConfig.MaxSize",
                serde_json::json!(5),
                serde_json::json!(7)
            ),
            (
                "Labels.intent",
                serde_json::json!("apps"),
                serde_json::json!("batch")
            ),
        ]
    );
    assert!(report
        .drift
        .iter()
        .all(|d| matches!(d.disposition, Disposition::ReportOnly(_))));
    assert_eq!(report.not_owned.len(), 1);
    assert_eq!(report.not_owned[0].property, "ScalingConfig.DesiredSize");
    assert_eq!(report.not_owned[0].owner, Owner::ClusterAutoscaler);
}

#[tokio::test]
async fn connect_without_a_region_is_an_error() {
    let settings = AwsSettings {
        region: None,
        ..test_settings(
            SharedHttpClient::new(StaticReplayClient::new(vec![])),
            RetrySettings::off(),
        )
    };
    // Only meaningful when neither the environment nor a shared config file names a region.
    let home_config =
        std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".aws/config"));
    let configured = [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some())
        || home_config.is_some_and(|p| p.exists());
    if !configured {
        let err = AwsAdapter::connect(settings).await.expect_err("no region");
        assert!(err.to_string().contains("no AWS region"), "{err}");
    }
}

#[tokio::test]
async fn a_stack_that_never_settles_times_out() {
    // What moto does with a failing resource: the stack stays IN_PROGRESS.
    let mut events = vec![
        ok("create-change-set.xml"),
        ok("describe-change-set-max-size.xml"),
        ok("execute-change-set.xml"),
    ];
    events.extend((0..200).map(|_| stack_status("UPDATE_IN_PROGRESS")));
    let replay = StaticReplayClient::new(events);
    let settings = AwsSettings {
        wait: WaitSettings {
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            timeout: Duration::from_millis(60),
        },
        ..test_settings(SharedHttpClient::new(replay.clone()), RetrySettings::off())
    };
    let aws = AwsAdapter::connect(settings).await.expect("connect");
    let err = aws.apply_step(&update_step()).await.expect_err("times out");
    assert!(
        matches!(&err, AwsError::Timeout { what, .. } if what.contains(STACK) && what.contains("UPDATE_IN_PROGRESS")),
        "{err:?}"
    );
    let polls = calls(&aws, "DescribeStacks");
    assert!(
        (3..200).contains(&polls),
        "polled {polls} times with backoff"
    );
}

mod concurrency {
    use super::*;
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use eksync::core::awsdiff::{plan, DesiredStack, PlanOptions, StackAction};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    const MISSING: &str = r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id eksctl-x does not exist</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;

    /// Answers every call slowly with "stack does not exist", tracking how many are in flight.
    #[derive(Debug, Clone, Default)]
    struct SlowEndpoint {
        in_flight: Arc<AtomicUsize>,
        max: Arc<AtomicUsize>,
        total: Arc<AtomicUsize>,
    }

    impl HttpConnector for SlowEndpoint {
        fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
            let me = self.clone();
            HttpConnectorFuture::new(async move {
                let now = me.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                me.max.fetch_max(now, Ordering::SeqCst);
                me.total.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(40)).await;
                me.in_flight.fetch_sub(1, Ordering::SeqCst);
                let response = http::Response::builder()
                    .status(400)
                    .header("content-type", "text/xml")
                    .body(SdkBody::from(MISSING))
                    .unwrap();
                Ok(HttpResponse::try_from(response).unwrap())
            })
        }
    }

    impl HttpClient for SlowEndpoint {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn reads_across_stacks_are_bounded_and_missing_stacks_are_to_create() {
        let endpoint = SlowEndpoint::default();
        let settings = AwsSettings {
            max_concurrency: 3,
            // One DescribeStacks per stack, so there is something to run in parallel.
            list_all_threshold: 1000,
            ..test_settings(
                SharedHttpClient::new(endpoint.clone()),
                RetrySettings::off(),
            )
        };
        let aws = AwsAdapter::connect(settings).await.expect("connect");
        let stacks: Vec<DesiredStack> = (0..12)
            .map(|i| {
                DesiredStack::new(
                    format!("eksctl-c-nodegroup-ng-{i}"),
                    serde_json::json!({"Resources": {}}),
                )
            })
            .collect();
        let live = aws
            .read_live(&stacks, &[])
            .await
            .expect("missing stacks are not an error");
        assert!(live.stacks.is_empty());
        assert_eq!(endpoint.total.load(Ordering::SeqCst), 12);
        let max = endpoint.max.load(Ordering::SeqCst);
        assert!(max <= 3, "at most 3 calls in flight, saw {max}");
        assert!(max >= 2, "calls ran in parallel (max in flight {max})");
        let p = plan(
            &stacks,
            &[],
            &live,
            PlanOptions::default(),
            "2026-11-22T06:00:00Z".parse().unwrap(),
        )
        .unwrap();
        assert!(p.stacks.iter().all(|s| s.action == StackAction::Create));
    }
}
