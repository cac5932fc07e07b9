//! End to end with the real `eksync` binary against the project's Kubernetes API test server
//! (`testkit`) and moto: the whole example applied in graph order with values flowing from AWS, a
//! no-op re-run that writes nothing, an image change, drift taken back while HPA-owned replicas
//! are left alone, pruning with its guards, a readiness failure that stops only its dependents,
//! and injected faults survived.

mod support;

use assert_cmd::Command;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::{json, Value};
use support::cli::*;
use support::e2e::*;
use support::moto::moto;
use testkit::faults::{FaultAction, FaultRule, FaultTimes};
use testkit::{ServerConfig, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_applies_in_graph_order_then_a_rerun_writes_nothing() {
    let (_guard, moto) = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let (oob, repo) = set_up(moto, dir.path()).await;
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let aws = Some(moto.url.as_str());

    let (code, plan) = eksync(aws, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 2, "{plan:#}");
    assert_eq!(item(&plan, "jenkins-pvc")["action"], "create");
    // The autoscaler's ASG name is not known before its stack exists.
    let ca = item(&plan, "cluster-autoscaler");
    assert!(ca.to_string().contains("known after apply"), "{ca:#}");

    kube.requests().clear();
    let (code, run) = eksync(aws, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    for i in run["items"].as_array().unwrap() {
        if i["action"] != "no-change" {
            assert_eq!(i["outcome"]["status"], "done", "{i:#}");
        }
    }
    // Graph order, as the API server saw the writes.
    let applies: Vec<String> = kube
        .requests()
        .entries()
        .into_iter()
        .filter(|r| r.is_write() && r.verb == "apply")
        .map(|r| format!("{}/{}", r.resource, r.name.unwrap_or_default()))
        .collect();
    let at = |what: &str| {
        applies
            .iter()
            .position(|a| a == what)
            .unwrap_or_else(|| panic!("{what} was not applied: {applies:?}"))
    };
    assert!(at("namespaces/jenkins") < at("persistentvolumeclaims/jenkins-pvc"));
    assert!(at("persistentvolumes/jenkins-pv") < at("persistentvolumeclaims/jenkins-pvc"));
    assert!(at("persistentvolumeclaims/jenkins-pvc") < at("deployments/jenkins"));
    assert!(at("serviceaccounts/jenkins") < at("deployments/jenkins"));
    assert!(at("rolebindings/jenkins-agents") < at("deployments/jenkins"));
    assert!(at("serviceaccounts/cluster-autoscaler") < at("deployments/cluster-autoscaler"));
    // Every request named eksync.
    assert!(kube
        .requests()
        .entries()
        .iter()
        .all(|r| r.user_agent.starts_with("eksync/")));

    // The ASG name flowed from the Spot node group's stack into the autoscaler's arguments.
    let asg = physical_ids(&oob, SPOT_STACK).await["NodeGroup"].clone();
    let client = kube.client().unwrap();
    let ca: Deployment = Api::namespaced(client.clone(), "kube-system")
        .get("cluster-autoscaler")
        .await
        .unwrap();
    let args =
        serde_json::to_string(&ca.spec.unwrap().template.spec.unwrap().containers[0].command)
            .unwrap();
    assert!(args.contains(&format!("--nodes=0:5:{asg}")), "{args}");

    // IRSA: the autoscaler's role ARN flowed from its role stack's output into the annotation of
    // the ServiceAccount (the repo's own, merged with the one iam.serviceAccounts gives).
    let irsa = "eksctl-eks-test-jenkins-addon-iamserviceaccount-kube-system-cluster-autoscaler";
    let stacks = oob
        .cloudformation
        .describe_stacks()
        .stack_name(irsa)
        .send()
        .await
        .unwrap();
    let role_arn = stacks.stacks()[0]
        .outputs()
        .iter()
        .find(|o| o.output_key() == Some("Role1"))
        .and_then(|o| o.output_value())
        .expect("the role stack's Role1 output")
        .to_string();
    assert!(role_arn.starts_with("arn:aws:iam::"), "{role_arn}");
    let sa: k8s_openapi::api::core::v1::ServiceAccount =
        Api::namespaced(client.clone(), "kube-system")
            .get("cluster-autoscaler")
            .await
            .unwrap();
    let annotations = sa.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations.get("eks.amazonaws.com/role-arn"),
        Some(&role_arn),
        "{annotations:?}"
    );
    // The trust policy names the provider and exactly this service account.
    let role_name = role_arn.rsplit('/').next().unwrap_or_default();
    let role = oob
        .iam
        .get_role()
        .role_name(role_name)
        .send()
        .await
        .unwrap();
    // IAM returns the document URL-encoded; the core's normalizer reads either form.
    let trust = eksync::core::awsdiff::normalize_policy_text(
        role.role()
            .and_then(|r| r.assume_role_policy_document())
            .unwrap_or_default(),
    )
    .expect("a policy document")
    .to_string();
    assert!(
        trust.contains("system:serviceaccount:kube-system:cluster-autoscaler")
            && trust.contains("oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF"),
        "{trust}"
    );

    // A second run changes nothing: no writes, no per-object GET.
    kube.requests().clear();
    let (code, plan) = eksync(aws, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0, "{plan:#}");
    let log = kube.requests();
    assert_eq!(log.writes(), 0, "{:#?}", log.entries());
    let gets: Vec<_> = log
        .entries()
        .into_iter()
        .filter(|r| {
            r.verb == "get"
                && !r
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("eksync-inventory"))
        })
        .collect();
    assert!(gets.is_empty(), "per-object GETs: {gets:#?}");
    let (code, run) = eksync(aws, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 0, "{run:#}");
    assert_eq!(kube.requests().writes(), 0);

    // Changing the Jenkins image is a one-field diff, applied.
    edit(
        &repo,
        "k8s/jenkins/deployment.yaml",
        "jenkins/jenkins:2.516.3-lts-jdk21",
        "jenkins/jenkins:2.528.1-lts-jdk21",
    );
    let (code, plan) = eksync(aws, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 2);
    let changed: Vec<&Value> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] != "no-change")
        .collect();
    assert_eq!(changed.len(), 1, "{changed:#?}");
    let details = changed[0]["details"].to_string();
    assert!(
        details.contains("spec.template.spec.containers[0].image"),
        "{details}"
    );
    assert!(details.contains("2.528.1-lts-jdk21"), "{details}");
    let (code, run) = eksync(aws, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    let (code, _) = eksync(aws, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_on_git_fields_is_taken_back_but_hpa_replicas_are_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: api\n  minReplicas: 2\n  maxReplicas: 10\n";
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("web.yaml", &deployment("web", "nginx:1.27", 2)),
            ("api.yaml", &deployment("api", "api:1", 2)),
            ("hpa.yaml", hpa),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (code, plan) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{plan:#}");
    let api_item = item(&plan, "api");
    assert!(
        api_item["details"]
            .to_string()
            .contains("HorizontalPodAutoscaler"),
        "the manifest's replicas are not applied, with a warning: {api_item:#}"
    );

    // `kubectl scale` on a Git-owned field, and the HPA scaling its own target.
    let client = kube.client().unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client, "shop");
    let scale = |n: i32| json!({"spec": {"replicas": n}});
    deployments
        .patch_scale(
            "web",
            &PatchParams {
                field_manager: Some("kubectl".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(scale(5)),
        )
        .await
        .unwrap();
    deployments
        .patch_scale("api", &PatchParams::default(), &Patch::Merge(scale(7)))
        .await
        .unwrap();

    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 2, "{plan:#}");
    let web_drift = item(&plan, "web")["drift"].to_string();
    assert!(
        web_drift.contains("spec.replicas was changed by kubectl"),
        "{web_drift}"
    );
    assert_eq!(item(&plan, "api")["action"], "no-change", "{plan:#}");

    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    let replicas = |d: Deployment| d.spec.unwrap().replicas;
    assert_eq!(replicas(deployments.get("web").await.unwrap()), Some(2));
    assert_eq!(replicas(deployments.get("api").await.unwrap()), Some(7));
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0, "no tug of war with the HPA: {plan:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_deletes_what_left_git_behind_its_guards() {
    let dir = tempfile::tempdir().unwrap();
    let keep = "  annotations:\n    eksync.io/prune: disabled\n";
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("a.yaml", &config_map("a", "")),
            ("b.yaml", &config_map("b", "")),
            ("c.yaml", &config_map("c", "")),
            ("keep.yaml", &config_map("keep", keep)),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    let cms: Api<ConfigMap> = Api::namespaced(kube.client().unwrap(), "shop");

    // A removed manifest is reported, and pruned only with --prune.
    std::fs::remove_file(repo.join("a.yaml")).unwrap();
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 2);
    assert!(
        plan["prune"].to_string().contains("pass --prune"),
        "{plan:#}"
    );
    let (_, _) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert!(
        cms.get_opt("a").await.unwrap().is_some(),
        "not pruned without --prune"
    );
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes", "--prune"]);
    assert_eq!(code, 2, "{run:#}");
    assert!(cms.get_opt("a").await.unwrap().is_none(), "{run:#}");

    // The opt-out annotation keeps an object that left Git.
    std::fs::remove_file(repo.join("keep.yaml")).unwrap();
    let (_, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes", "--prune"]);
    assert!(
        run["prune"]
            .to_string()
            .contains("kept (eksync.io/prune: disabled)"),
        "{run:#}"
    );
    assert!(cms.get_opt("keep").await.unwrap().is_some());

    // A large share is refused without the explicit flag, naming what would go.
    std::fs::remove_file(repo.join("b.yaml")).unwrap();
    std::fs::remove_file(repo.join("c.yaml")).unwrap();
    let (code, run) = eksync(
        None,
        &kubeconfig,
        &[
            "apply",
            repo_s,
            "--yes",
            "--prune",
            "--prune-max-share",
            "0.3",
        ],
    );
    assert_eq!(code, 1, "{run:#}");
    let refused = run["refused"].as_str().unwrap_or_default();
    assert!(
        refused.contains("ConfigMap shop/b") && refused.contains("ConfigMap shop/c"),
        "{run:#}"
    );
    assert!(cms.get_opt("b").await.unwrap().is_some());

    // Emptying the repo is refused outright.
    std::fs::remove_file(repo.join("ns.yaml")).unwrap();
    let (code, run) = eksync(
        None,
        &kubeconfig,
        &["apply", repo_s, "--yes", "--prune", "--prune-allow-large"],
    );
    assert_eq!(code, 1, "{run:#}");
    assert!(
        run["refused"]
            .as_str()
            .unwrap_or_default()
            .contains("no Kubernetes objects at all"),
        "{run:#}"
    );
    assert!(cms.get_opt("b").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_readiness_failure_stops_its_dependents_and_a_fixed_run_converges() {
    let dir = tempfile::tempdir().unwrap();
    let after = "  annotations:\n    eksync.io/depends-on: Deployment.apps/broken\n";
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            (
                "broken.yaml",
                &deployment("broken", "registry.example.com/bad:1", 1),
            ),
            ("after.yaml", &config_map("after-broken", after)),
            ("independent.yaml", &config_map("independent", "")),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start_with(ServerConfig {
        failing_images: vec!["registry.example.com/bad:*".into()],
        ..ServerConfig::default()
    })
    .await
    .unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (code, run) = eksync(
        None,
        &kubeconfig,
        &["apply", repo_s, "--yes", "--readiness-timeout", "1"],
    );
    assert_eq!(code, 1, "{run:#}");
    assert_eq!(outcome(&run, "broken"), "failed", "{run:#}");
    assert_eq!(outcome(&run, "after-broken"), "skipped", "{run:#}");
    assert_eq!(outcome(&run, "independent"), "done", "{run:#}");
    assert!(item(&run, "after-broken")["outcome"]["because"]
        .as_str()
        .unwrap()
        .contains("broken"));

    edit(
        &repo,
        "broken.yaml",
        "registry.example.com/bad:1",
        "registry.example.com/good:1",
    );
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    assert_eq!(outcome(&run, "broken"), "done");
    assert_eq!(outcome(&run, "after-broken"), "done");
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0, "{plan:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_are_survived() {
    let dir = tempfile::tempdir().unwrap();
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("web.yaml", &deployment("web", "nginx:1.27", 2)),
            ("cm.yaml", &config_map("settings", "")),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let faults = kube.faults();
    faults.add(FaultRule::new(
        "apply",
        "/configmaps/settings",
        FaultAction::TooManyRequests {
            retry_after_secs: 1,
        },
        FaultTimes::Times(2),
    ));
    faults.add(FaultRule::new(
        "list",
        "",
        FaultAction::InternalError,
        FaultTimes::Times(2),
    ));
    faults.add(FaultRule::new(
        "apply",
        "/deployments/web",
        FaultAction::Drop,
        FaultTimes::Times(1),
    ));
    faults.add(FaultRule::new(
        "get",
        "/deployments/web",
        FaultAction::InternalError,
        FaultTimes::Times(1),
    ));
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    let faulted = kube
        .requests()
        .entries()
        .iter()
        .filter(|r| r.faulted)
        .count();
    assert!(faulted >= 4, "the faults fired ({faulted})");
    faults.clear();
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0, "the final state is correct: {plan:#}");
    let cms: Api<ConfigMap> = Api::namespaced(kube.client().unwrap(), "shop");
    assert!(cms.get_opt("settings").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_resource_waits_for_its_crd_created_in_the_same_plan() {
    let dir = tempfile::tempdir().unwrap();
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names:\n    plural: widgets\n    singular: widget\n    kind: Widget\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n                size:\n                  type: integer\n";
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: shop\nspec:\n  size: 3\n";
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: shop\nstringData:\n  password: hunter2-very-secret\n";
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("crd.yaml", crd),
            ("widget.yaml", widget),
            ("secret.yaml", secret),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();

    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 2, "{plan:#}");
    let w = item(&plan, "w1");
    assert_eq!(w["action"], "create", "{plan:#}");
    assert!(
        w["details"].to_string().contains("CRD arrives in wave"),
        "{w:#}"
    );
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    assert_eq!(outcome(&run, "w1"), "done", "{run:#}");
    let (code, _) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0);

    // A changed Secret shows that a key changed, never the value, in every format.
    edit(
        &repo,
        "secret.yaml",
        "hunter2-very-secret",
        "correct-horse-battery",
    );
    for format in ["text", "json", "markdown"] {
        let out = Command::cargo_bin("eksync")
            .unwrap()
            .args(["diff", repo_s, "--no-aws", "--kubeconfig"])
            .arg(&kubeconfig)
            .args(["-o", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("creds"), "{all}");
        for secret in ["hunter2", "correct-horse", "aHVudGVy", "Y29ycmVjdC1ob3Jz"] {
            assert!(
                !all.contains(secret),
                "{format} output leaks {secret}: {all}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_objects_are_adopted_and_an_hpa_takes_over_replicas_without_a_scale_down() {
    let dir = tempfile::tempdir().unwrap();
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("web.yaml", &deployment("web", "nginx:1.27", 3)),
            ("cm.yaml", &config_map("settings", "")),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let client = kube.client().unwrap();

    // The namespace and the ConfigMap already exist, made by hand without eksync's label.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &Default::default(),
            &serde_json::from_value(json!({"metadata": {"name": "shop"}})).unwrap(),
        )
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "shop");
    cms.create(
        &Default::default(),
        &serde_json::from_value(
            json!({"metadata": {"name": "settings"}, "data": {"key": "value"}}),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 2, "{plan:#}");
    assert_eq!(
        item(&plan, "settings")["action"],
        "update",
        "adopted, not created: {plan:#}"
    );
    assert_eq!(item(&plan, "shop")["action"], "update", "{plan:#}");
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    let labels = cms
        .get("settings")
        .await
        .unwrap()
        .metadata
        .labels
        .unwrap_or_default();
    assert_eq!(
        labels
            .get("app.kubernetes.io/managed-by")
            .map(String::as_str),
        Some("eksync")
    );

    // An HPA joins the repo for `web`, which eksync scaled to 3: the apply that stops setting
    // replicas must not drop the Deployment to 1.
    std::fs::write(
        repo.join("hpa.yaml"),
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  minReplicas: 2\n  maxReplicas: 10\n",
    )
    .unwrap();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    let deployments: Api<Deployment> = Api::namespaced(client, "shop");
    let replicas = |d: Deployment| d.spec.unwrap().replicas;
    assert_eq!(replicas(deployments.get("web").await.unwrap()), Some(3));
    // The next template change applies `web` without replicas: they are handed over first, so
    // the Deployment keeps its 3 instead of falling back to the default of 1.
    edit(&repo, "web.yaml", "nginx:1.27", "nginx:1.28");
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    let web_item = run["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "k8s/_/Deployment.apps/shop/web")
        .unwrap();
    assert_eq!(web_item["outcome"]["status"], "done", "{run:#}");
    assert_eq!(
        replicas(deployments.get("web").await.unwrap()),
        Some(3),
        "no scale-down on the handover"
    );
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0, "{plan:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immutable_field_change_is_an_error_unless_the_object_opts_into_recreate() {
    let dir = tempfile::tempdir().unwrap();
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("web.yaml", &deployment("web", "nginx:1.27", 1)),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");

    // A new selector (and matching labels): the API server refuses to change a selector.
    let text = std::fs::read_to_string(repo.join("web.yaml")).unwrap();
    std::fs::write(
        repo.join("web.yaml"),
        text.replace("app: web", "app: web-v2"),
    )
    .unwrap();
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 1, "{plan:#}");
    let web = item(&plan, "web");
    assert_eq!(web["action"], "blocked", "{plan:#}");
    assert!(
        web["details"].to_string().contains("spec.selector"),
        "{web:#}"
    );
    assert!(
        web["details"]
            .to_string()
            .contains("eksync.io/recreate-on-immutable-change"),
        "{web:#}"
    );

    // Opting in deletes and recreates it.
    edit(
        &repo,
        "web.yaml",
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n    eksync.io/recreate-on-immutable-change: \"true\"\n",
    );
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 2, "{plan:#}");
    assert!(
        item(&plan, "web")["details"]
            .to_string()
            .contains("delete and recreate"),
        "{plan:#}"
    );
    let old_uid = Api::<Deployment>::namespaced(kube.client().unwrap(), "shop")
        .get("web")
        .await
        .unwrap()
        .metadata
        .uid;
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    assert_eq!(outcome(&run, "web"), "done", "{run:#}");
    let now = Api::<Deployment>::namespaced(kube.client().unwrap(), "shop")
        .get("web")
        .await
        .unwrap();
    assert_ne!(now.metadata.uid, old_uid, "a new object");
    let sel = now.spec.unwrap().selector.match_labels.unwrap_or_default();
    assert_eq!(sel.get("app").map(String::as_str), Some("web-v2"));
    let (code, _) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0);
}

/// The run's item with this graph id.
fn item_by_id<'a>(run: &'a Value, id: &str) -> &'a Value {
    run["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id}: {run:#}"))
}

/// Issue 8: when live AWS cannot be read again after an AWS step, the objects that reference AWS
/// values fail with the read's cause and are not applied (no stale values), while objects without
/// references go on. A forwarding proxy in front of moto fails Auto Scaling reads on cue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_aws_reread_fails_the_objects_that_need_its_values_and_applies_nothing_stale() {
    use support::proxy::{Fault, FaultProxy, FAULT_MESSAGE};
    const CA: &str = "k8s/eks-test-jenkins/Deployment.apps/kube-system/cluster-autoscaler";
    const CA_SA: &str = "k8s/eks-test-jenkins/ServiceAccount/kube-system/cluster-autoscaler";
    const READ: &str = "DescribeAutoScalingGroups";
    let (_guard, moto) = moto().await;
    let dir = tempfile::tempdir().unwrap();
    let (oob, repo) = set_up(moto, dir.path()).await;
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let proxy = FaultProxy::start(&moto.url);
    let aws = Some(proxy.url.as_str());
    let ca_writes = |kube: &TestServer| -> Vec<String> {
        kube.requests()
            .entries()
            .into_iter()
            .filter(|r| {
                r.resource == "deployments"
                    && r.name.as_deref() == Some("cluster-autoscaler")
                    && !r.dry_run
                    && matches!(
                        r.verb.as_str(),
                        "create" | "update" | "patch" | "apply" | "delete"
                    )
            })
            .map(|r| format!("{} {} -> {}", r.verb, r.path, r.status))
            .collect()
    };
    // Where the Spot stack's change set was executed, and which requests the proxy failed.
    let executed_spot = |seen: &[support::proxy::Seen]| {
        seen.iter()
            .position(|s| s.action == "ExecuteChangeSet" && s.target == SPOT_STACK)
            .unwrap_or_else(|| panic!("the Spot stack was never executed: {seen:#?}"))
    };
    let faulted = |seen: &[support::proxy::Seen]| -> Vec<usize> {
        seen.iter()
            .enumerate()
            .filter(|(_, s)| s.faulted)
            .map(|(i, _)| i)
            .collect()
    };

    // 1. A first apply. Its plan reads no Auto Scaling group (no node group stack exists yet), so
    // every DescribeAutoScalingGroups comes from a read after an AWS step: fail them all (N = 0).
    proxy.arm(Fault {
        action: READ.into(),
        pass: 0,
    });
    let (code, run, stderr) = eksync_full(aws, &kubeconfig, &["apply", repo_s, "--yes"]);
    let seen = proxy.seen();
    assert_eq!(code, 1, "{stderr}\n{run:#}");
    let failed = faulted(&seen);
    assert!(!failed.is_empty(), "no read was failed: {seen:#?}");
    assert!(failed.iter().all(|&i| seen[i].action == READ), "{seen:#?}");
    assert!(
        failed[0] > executed_spot(&seen),
        "the plan's reads were not failed, only reads after the stacks were created: {seen:#?}"
    );
    let spot = item(&run, SPOT_STACK);
    assert_eq!(
        spot["outcome"]["status"], "done",
        "the stack itself was created: {spot:#}"
    );
    // The autoscaler's ServiceAccount needs a value from AWS too (its IRSA role's ARN). Whichever
    // of the two started on a failed read fails with that read's cause; the Deployment, which runs
    // as the ServiceAccount, fails itself or is skipped because the ServiceAccount failed.
    let ca = item_by_id(&run, CA);
    let failed_one = match ca["outcome"]["status"].as_str() {
        Some("failed") => ca,
        Some("skipped") => {
            assert_eq!(
                ca["outcome"]["because"], "ServiceAccount cluster-autoscaler failed",
                "{ca:#}"
            );
            item_by_id(&run, CA_SA)
        }
        _ => panic!("the autoscaler was applied with no values: {ca:#}"),
    };
    assert_eq!(failed_one["outcome"]["status"], "failed", "{failed_one:#}");
    let reason = failed_one["outcome"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("values from AWS are unavailable")
            && reason.contains(READ)
            && reason.contains(FAULT_MESSAGE),
        "the reason names the failed read and its cause: {reason}"
    );
    assert_eq!(ca_writes(&kube), Vec::<String>::new(), "{run:#}");
    let deployments: Api<Deployment> = Api::namespaced(kube.client().unwrap(), "kube-system");
    assert!(deployments
        .get_opt("cluster-autoscaler")
        .await
        .unwrap()
        .is_none());
    // Objects without references went on.
    for id in [
        "k8s/eks-test-jenkins/Namespace/_/jenkins",
        "k8s/eks-test-jenkins/Deployment.apps/jenkins/jenkins",
        "k8s/eks-test-jenkins/ServiceAccount/jenkins/jenkins",
    ] {
        let i = item_by_id(&run, id);
        assert_eq!(i["outcome"]["status"], "done", "{i:#}");
    }

    // 2. With AWS readable again, the next run converges: the autoscaler gets the real name.
    proxy.disarm();
    let (code, run) = eksync(aws, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    assert_eq!(item_by_id(&run, CA)["outcome"]["status"], "done", "{run:#}");
    let asg = physical_ids(&oob, SPOT_STACK).await["NodeGroup"].clone();
    let nodes = |d: Deployment| {
        serde_json::to_string(&d.spec.unwrap().template.spec.unwrap().containers[0].command)
            .unwrap()
    };
    let args = nodes(deployments.get("cluster-autoscaler").await.unwrap());
    assert!(args.contains(&format!("--nodes=0:5:{asg}")), "{args}");

    // 3. An update: the Spot group's maxSize (also in the autoscaler's --nodes) and, unrelated,
    // the Jenkins image. Now the plan reads the Auto Scaling groups once (N = 1) and the read
    // after the Spot stack's update is the next one: it fails, so the autoscaler must not be
    // applied with the values the plan read before the update.
    edit(
        &repo,
        "cluster/cluster.yaml",
        "    maxSize: 5\n",
        "    maxSize: 6\n",
    );
    edit(
        &repo,
        "k8s/jenkins/deployment.yaml",
        "jenkins/jenkins:2.516.3-lts-jdk21",
        "jenkins/jenkins:2.528.1-lts-jdk21",
    );
    proxy.clear_log();
    kube.requests().clear();
    proxy.arm(Fault {
        action: READ.into(),
        pass: 1,
    });
    let (code, run, stderr) = eksync_full(aws, &kubeconfig, &["apply", repo_s, "--yes"]);
    let seen = proxy.seen();
    assert_eq!(code, 1, "{stderr}\n{run:#}");
    let reads: Vec<usize> = (0..seen.len())
        .filter(|&i| seen[i].action == READ)
        .collect();
    assert!(
        reads.len() >= 2,
        "the plan's read and the re-read: {seen:#?}"
    );
    assert_eq!(
        faulted(&seen),
        reads[1..].to_vec(),
        "the plan's read passed and every later one failed: {seen:#?}"
    );
    assert!(reads[0] < executed_spot(&seen), "{seen:#?}");
    assert!(reads[1] > executed_spot(&seen), "{seen:#?}");
    assert_eq!(
        item(&run, SPOT_STACK)["outcome"]["status"],
        "done",
        "{run:#}"
    );
    assert_eq!(spot_asg(&oob).await.max_size(), Some(6));
    let ca = item_by_id(&run, CA);
    assert_eq!(ca["action"], "update", "{ca:#}");
    assert_eq!(ca["outcome"]["status"], "failed", "{ca:#}");
    let reason = ca["outcome"]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("values from AWS are unavailable")
            && reason.contains(&format!("reading live AWS after {SPOT_STACK}"))
            && reason.contains(READ)
            && reason.contains(FAULT_MESSAGE),
        "{reason}"
    );
    assert_eq!(ca_writes(&kube), Vec::<String>::new(), "{run:#}");
    let args = nodes(deployments.get("cluster-autoscaler").await.unwrap());
    assert!(
        args.contains(&format!("--nodes=0:5:{asg}")),
        "untouched: {args}"
    );
    let jenkins = item_by_id(&run, "k8s/eks-test-jenkins/Deployment.apps/jenkins/jenkins");
    assert_eq!(jenkins["outcome"]["status"], "done", "{jenkins:#}");

    // 4. Readable again, the autoscaler is applied with the values read after the update.
    proxy.disarm();
    let (code, run) = eksync(aws, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    assert_eq!(item_by_id(&run, CA)["outcome"]["status"], "done", "{run:#}");
    let asg = physical_ids(&oob, SPOT_STACK).await["NodeGroup"].clone();
    let args = nodes(deployments.get("cluster-autoscaler").await.unwrap());
    assert!(args.contains(&format!("--nodes=0:6:{asg}")), "{args}");
    let (code, plan) = eksync(aws, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0, "{plan:#}");
}

/// Runs the binary with plain text output (no `-o json`), for commands and formats the JSON
/// helpers do not cover. Returns the exit code, stdout and stderr.
fn eksync_text(kubeconfig: Option<&std::path::Path>, args: &[&str]) -> (i32, String, String) {
    let bin =
        std::env::var_os("EKSYNC_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_eksync").into());
    let mut cmd = std::process::Command::new(bin);
    cmd.args(args).env("EKSYNC_POLL_MS", "20");
    if let Some(k) = kubeconfig {
        cmd.arg("--kubeconfig").arg(k).arg("--no-aws");
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

fn prune_item<'a>(run: &'a Value, label: &str) -> &'a Value {
    run["prune"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["id"] == format!("prune/{label}")))
        .unwrap_or_else(|| panic!("no prune item {label}: {run:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_kept_by_its_annotation_is_reported_as_kept_not_as_a_pending_change() {
    let dir = tempfile::tempdir().unwrap();
    let keep = "  annotations:\n    eksync.io/prune: disabled\n";
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("a.yaml", &config_map("a", "")),
            ("b.yaml", &config_map("b", "")),
            ("keep.yaml", &config_map("keep", keep)),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    let cms: Api<ConfigMap> = Api::namespaced(kube.client().unwrap(), "shop");

    std::fs::remove_file(repo.join("keep.yaml")).unwrap();
    // Before: every later diff exited 2 for an object nothing will ever be done about.
    for args in [&["diff", repo_s][..], &["diff", repo_s, "--prune"][..]] {
        let (code, plan) = eksync(None, &kubeconfig, args);
        assert_eq!(code, 0, "{args:?}: kept is not a pending change: {plan:#}");
        assert_eq!(plan["summary"]["changes"], false, "{plan:#}");
        let kept = prune_item(&plan, "ConfigMap shop/keep");
        assert_eq!(kept["action"], "no-change", "{kept:#}");
        assert_eq!(
            kept["details"],
            json!(["left Git; kept (eksync.io/prune: disabled)"]),
            "{kept:#}"
        );
    }
    // Visible, once, in every format.
    for format in ["text", "markdown"] {
        let (code, out, err) = eksync_text(Some(&kubeconfig), &["diff", repo_s, "-o", format]);
        assert_eq!(code, 0, "{out}{err}");
        assert_eq!(
            out.matches("left Git; kept (eksync.io/prune: disabled)")
                .count(),
            1,
            "{format}: {out}"
        );
        assert_eq!(
            out.matches("ConfigMap shop/keep").count(),
            1,
            "{format}: {out}"
        );
    }
    // An apply with --prune has nothing to do and leaves it alone.
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes", "--prune"]);
    assert_eq!(code, 0, "{run:#}");
    assert!(cms.get_opt("keep").await.unwrap().is_some());

    // Something that really left Git is still a pending change, next to the kept one.
    std::fs::remove_file(repo.join("b.yaml")).unwrap();
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 2, "{plan:#}");
    assert_eq!(
        prune_item(&plan, "ConfigMap shop/b")["details"],
        json!(["left Git; pass --prune to delete it"])
    );
    assert_eq!(
        prune_item(&plan, "ConfigMap shop/keep")["action"],
        "no-change"
    );
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes", "--prune"]);
    assert_eq!(code, 2, "{run:#}");
    assert_eq!(
        prune_item(&run, "ConfigMap shop/b")["outcome"]["status"],
        "done",
        "{run:#}"
    );
    assert!(cms.get_opt("b").await.unwrap().is_none());
    let (code, plan) = eksync(None, &kubeconfig, &["diff", repo_s]);
    assert_eq!(code, 0, "{plan:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_prune_says_one_thing_from_the_plan_to_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("a.yaml", &config_map("a", "")),
            ("b.yaml", &config_map("b", "")),
            ("c.yaml", &config_map("c", "")),
        ],
    );
    let repo_s = repo.to_str().unwrap();
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    let cms: Api<ConfigMap> = Api::namespaced(kube.client().unwrap(), "shop");
    std::fs::remove_file(repo.join("b.yaml")).unwrap();
    std::fs::remove_file(repo.join("c.yaml")).unwrap();
    let prune = ["--prune", "--prune-max-share", "0.3"];
    let refused_line = "left Git; not deleted (prune refused)";

    // The plan already says the guard refuses (it used to say "left Git; deleted").
    let mut args = vec!["apply", repo_s, "--dry-run"];
    args.extend(prune);
    let (code, plan) = eksync(None, &kubeconfig, &args);
    assert_eq!(code, 2, "{plan:#}");
    // The run: the same words, and no "skipped" outcome repeating them.
    let mut args = vec!["apply", repo_s, "--yes"];
    args.extend(prune);
    let (code, run) = eksync(None, &kubeconfig, &args);
    assert_eq!(code, 1, "{run:#}");
    for (what, out) in [("plan", &plan), ("run", &run)] {
        for name in ["ConfigMap shop/b", "ConfigMap shop/c"] {
            let i = prune_item(out, name);
            assert_eq!(i["action"], "drift-only", "{what}: {i:#}");
            assert_eq!(i["details"], json!([refused_line]), "{what}: {i:#}");
            assert_eq!(i.get("outcome"), None, "{what}: {i:#}");
        }
        let refused = out["refused"].as_str().unwrap_or_default();
        assert!(
            refused.starts_with("prune refused: 2 of 4 inventoried objects")
                && refused.ends_with("it would have deleted: ConfigMap shop/b, ConfigMap shop/c"),
            "{what}: {out:#}"
        );
    }
    assert!(cms.get_opt("b").await.unwrap().is_some());
    // Text and Markdown: one statement per object, never "deleted" next to "refused".
    for format in ["text", "markdown"] {
        let mut args = vec!["apply", repo_s, "--yes", "-o", format];
        args.extend(prune);
        let (code, out, err) = eksync_text(Some(&kubeconfig), &args);
        assert_eq!(code, 1, "{out}{err}");
        assert_eq!(out.matches(refused_line).count(), 2, "{format}: {out}");
        assert!(!out.contains("--prune deletes it"), "{format}: {out}");
        assert!(!out.contains("skipped"), "{format}: {out}");
        assert_eq!(
            out.matches("prune refused: 2 of 4").count(),
            1,
            "{format}: {out}"
        );
    }
    assert!(cms.get_opt("c").await.unwrap().is_some());
}

/// Whether every leaf of `small` is in `big` with the same value (lists item by item).
fn contained(small: &Value, big: &Value, at: &str) -> Result<(), String> {
    match (small, big) {
        (Value::Object(s), Value::Object(b)) => s.iter().try_for_each(|(k, v)| {
            let inner = b.get(k).ok_or(format!("{at}.{k} missing"))?;
            contained(v, inner, &format!("{at}.{k}"))
        }),
        (Value::Array(s), Value::Array(b)) if s.len() == b.len() => s
            .iter()
            .zip(b)
            .enumerate()
            .try_for_each(|(i, (v, w))| contained(v, w, &format!("{at}[{i}]"))),
        _ if small == big => Ok(()),
        _ => Err(format!("{at}: rendered {small}, live {big}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_prints_what_apply_sends_and_validate_warns_about_hpa_replicas() {
    let dir = tempfile::tempdir().unwrap();
    let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  minReplicas: 2\n  maxReplicas: 5\n";
    let repo = small_repo(
        dir.path(),
        &[
            ("ns.yaml", NS),
            ("web.yaml", &deployment("web", "nginx:1", 3)),
            ("hpa.yaml", hpa),
            ("cm.yaml", &config_map("settings", "")),
        ],
    );
    let repo_s = repo.to_str().unwrap();

    // validate names the field and the HPA, with file and line.
    let (code, out, err) = eksync_text(None, &["validate", repo_s]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("warning[W-hpa-replicas]: spec.replicas (3) is not applied: HorizontalPodAutoscaler shop/web owns this Deployment's replicas")
            && err.contains("--> web.yaml:7:3 (document 1) at spec.replicas"),
        "{err}"
    );

    let (code, rendered, err) = eksync_text(None, &["render", repo_s]);
    assert_eq!(code, 0, "{err}");
    let parsed = eksync::core::yaml::parse(&rendered);
    assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    let docs: Vec<Value> = parsed
        .docs
        .into_iter()
        .map(|d| d.value)
        .filter(Value::is_object)
        .collect();
    assert_eq!(docs.len(), 4, "{rendered}");
    let web = docs
        .iter()
        .find(|d| d["kind"] == "Deployment")
        .cloned()
        .unwrap_or_default();
    assert_eq!(web.pointer("/spec/replicas"), None, "{rendered}");
    for d in &docs {
        // The source name is derived as the live commands derive it: the folder's name.
        assert_eq!(
            d["metadata"]["labels"]["app.kubernetes.io/managed-by"], "eksync",
            "{d:#}"
        );
        assert_eq!(d["metadata"]["labels"]["eksync.io/source"], "repo", "{d:#}");
    }
    let (_, flagged, _) = eksync_text(None, &["render", repo_s, "--source", "shop-a"]);
    assert_eq!(flagged.matches("eksync.io/source: shop-a").count(), 4);

    // What apply sends is what render printed: every rendered field is live as rendered, and
    // eksync owns no replicas of the HPA's workload.
    let kube = TestServer::start().await.unwrap();
    let kubeconfig = kube.write_kubeconfig(dir.path()).unwrap();
    let (code, run) = eksync(None, &kubeconfig, &["apply", repo_s, "--yes"]);
    assert_eq!(code, 2, "{run:#}");
    let client = kube.client().unwrap();
    for d in &docs {
        let kind = d["kind"].as_str().unwrap_or_default();
        let name = d["metadata"]["name"].as_str().unwrap_or_default();
        let live: Value = match kind {
            "Namespace" => {
                let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
                serde_json::to_value(api.get(name).await.unwrap()).unwrap()
            }
            "Deployment" => {
                let api: Api<Deployment> = Api::namespaced(client.clone(), "shop");
                serde_json::to_value(api.get(name).await.unwrap()).unwrap()
            }
            "ConfigMap" => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), "shop");
                serde_json::to_value(api.get(name).await.unwrap()).unwrap()
            }
            "HorizontalPodAutoscaler" => {
                let api: Api<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler> =
                    Api::namespaced(client.clone(), "shop");
                serde_json::to_value(api.get(name).await.unwrap()).unwrap()
            }
            other => panic!("unexpected {other}"),
        };
        if let Err(e) = contained(d, &live, kind) {
            panic!("{kind} {name}: {e}\nrendered {d:#}\nlive {live:#}");
        }
        let eksync_fields = live["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["manager"] == "eksync")
            .map(|m| m["fieldsV1"].to_string())
            .collect::<String>();
        assert!(!eksync_fields.is_empty(), "{kind}: {live:#}");
        if kind == "Deployment" {
            assert!(!eksync_fields.contains("f:replicas"), "{eksync_fields}");
        }
    }
}
