use super::*;
use crate::analysis::analyze;
use crate::source::{Source, SourceFile};

fn example() -> Source {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples-repo");
    crate::source::test_read_tree(&root)
}

fn opts() -> Options {
    Options {
        source: "examples-repo".into(),
        inventory_namespace: "eksync-system".into(),
        subject: Subject::ServiceAccount {
            namespace: "eksync-system".into(),
            name: "eksync".into(),
        },
        cfn_role: Some("arn:aws:iam::123456789012:role/eksync-cloudformation".into()),
        extra_kinds: Vec::new(),
        agent: true,
    }
}

fn repo(files: &[(&str, &str)]) -> Source {
    Source {
        files: files
            .iter()
            .map(|(p, t)| SourceFile {
                path: (*p).into(),
                bytes: t.as_bytes().to_vec(),
            })
            .collect(),
        ..Source::default()
    }
}

fn rules<'a>(p: &'a Permissions, ns: Option<&str>) -> &'a [Rule] {
    p.roles
        .iter()
        .find(|r| r.namespace.as_deref() == ns)
        .map(|r| r.rules.as_slice())
        .unwrap_or_default()
}

fn verbs(p: &Permissions, ns: Option<&str>, resource: &str, names: &[&str]) -> Vec<&'static str> {
    let names: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
    let mut out: BTreeSet<Verb> = BTreeSet::new();
    for r in rules(p, ns) {
        if r.resource == resource && r.resource_names == names {
            out.extend(r.verbs.iter().copied());
        }
    }
    out.into_iter().map(Verb::as_str).collect()
}

#[test]
fn the_example_needs_no_wildcard_and_each_rule_says_why() {
    let a = analyze(&example());
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let p = permissions(&a, &opts());
    for r in &p.roles {
        for rule in &r.rules {
            assert!(!rule.verbs.is_empty());
            assert_ne!(rule.resource, "*");
            assert_ne!(rule.api_group, "*");
            assert!(!rule.needed_by.is_empty(), "{rule:?} names nothing");
        }
    }
    for s in &p.iam {
        assert!(s.actions.iter().all(|a| !a.contains('*')), "{s:?}");
        assert!(!s.needed_by.is_empty());
        // "*" only where AWS has no resource-level permission for the action.
        if s.resources.contains("*") {
            assert_eq!(
                s.actions.iter().map(String::as_str).collect::<Vec<_>>(),
                ["autoscaling:DescribeAutoScalingGroups"]
            );
        }
    }
    let yaml = to_yaml(&p, Part::All);
    insta::assert_snapshot!("example_permissions", yaml);
}

#[test]
fn verbs_follow_what_eksync_does_per_kind_and_namespace() {
    let a = analyze(&example());
    let p = permissions(&a, &opts());
    // Listing is cluster-wide (one LIST per kind), writes are in the objects' namespaces.
    assert_eq!(verbs(&p, None, "deployments", &[]), ["list"]);
    assert_eq!(
        verbs(&p, Some("kube-system"), "deployments", &[]),
        ["get", "watch", "create", "patch", "delete"]
    );
    // A LoadBalancer Service is waited for (its address); a PodTemplate never is.
    assert_eq!(
        verbs(&p, Some("jenkins"), "services", &[]),
        ["get", "watch", "create", "patch", "delete"]
    );
    assert_eq!(
        verbs(&p, Some("jenkins"), "podtemplates", &[]),
        ["get", "create", "patch", "delete"]
    );
    assert!(verbs(&p, Some("kube-system"), "services", &[]).is_empty());
    // Cluster-scoped kinds are written through the ClusterRole.
    assert_eq!(
        verbs(&p, None, "persistentvolumes", &[]),
        ["get", "list", "create", "patch", "delete"]
    );
    // The namespace the repo creates comes first, so that its Role can exist.
    assert_eq!(p.namespaces, ["jenkins"]);
    // eksync's own inventory, by name.
    assert_eq!(
        verbs(
            &p,
            Some("eksync-system"),
            "configmaps",
            &["eksync-inventory-examples-repo"]
        ),
        ["get", "patch"]
    );
    // Reading the inventory's namespace is covered by the repo's own Namespace rule: the rule
    // by name is not added, its reason moves there.
    assert!(verbs(&p, None, "namespaces", &["eksync-system"]).is_empty());
    let ns_rule = rules(&p, None)
        .iter()
        .find(|r| r.resource == "namespaces" && r.verbs.contains(&Verb::Get))
        .unwrap();
    assert!(ns_rule
        .needed_by
        .iter()
        .any(|b| b.contains("eksync's inventory")));
}

#[test]
fn bind_and_escalate_only_for_the_roles_the_repo_grants() {
    let a = analyze(&example());
    let p = permissions(&a, &opts());
    assert_eq!(
        verbs(&p, None, "clusterroles", &["cluster-autoscaler"]),
        ["bind", "escalate"]
    );
    assert_eq!(
        verbs(&p, Some("kube-system"), "roles", &["cluster-autoscaler"]),
        ["bind", "escalate"]
    );
    assert_eq!(
        verbs(&p, Some("jenkins"), "roles", &["jenkins-agents"]),
        ["bind", "escalate"]
    );
    // No unscoped bind or escalate anywhere.
    for r in &p.roles {
        for rule in &r.rules {
            if rule.verbs.contains(&Verb::Bind) || rule.verbs.contains(&Verb::Escalate) {
                assert!(!rule.resource_names.is_empty(), "{rule:?}");
            }
        }
    }
}

#[test]
fn a_binding_to_a_cluster_role_from_a_role_binding_is_bound_in_its_namespace() {
    let src = repo(&[(
        "rb.yaml",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: view\n  namespace: team\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: view\nsubjects:\n- kind: User\n  name: ann\n",
    )]);
    let a = analyze(&src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let p = permissions(&a, &opts());
    assert_eq!(verbs(&p, Some("team"), "clusterroles", &["view"]), ["bind"]);
    assert!(verbs(&p, None, "clusterroles", &["view"]).is_empty());
    // The repo does not create `team`: no Namespace is emitted for it.
    assert!(p.namespaces.is_empty());
}

#[test]
fn custom_resources_use_the_plural_of_their_crd() {
    let src = repo(&[
        (
            "crd.yaml",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: octopi.sea.example.com\nspec:\n  group: sea.example.com\n  scope: Namespaced\n  names:\n    kind: Octopus\n    plural: octopi\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n",
        ),
        (
            "o.yaml",
            "apiVersion: sea.example.com/v1\nkind: Octopus\nmetadata:\n  name: paul\n  namespace: sea\n",
        ),
    ]);
    let a = analyze(&src);
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let p = permissions(&a, &opts());
    assert_eq!(verbs(&p, None, "octopi", &[]), ["list"]);
    assert_eq!(
        verbs(&p, Some("sea"), "octopi", &[]),
        ["get", "create", "patch", "delete"]
    );
    // The CRD itself is waited for (Established).
    assert_eq!(
        verbs(&p, None, "customresourcedefinitions", &[]),
        ["get", "list", "watch", "create", "patch", "delete"]
    );
}

#[test]
fn iam_is_scoped_to_the_repo_stacks_and_passes_only_the_service_role() {
    let a = analyze(&example());
    let p = permissions(&a, &opts());
    let stacks: BTreeSet<&str> = p
        .iam
        .iter()
        .filter(|s| s.sid == "ManageTheRepoStacks")
        .flat_map(|s| s.resources.iter().map(String::as_str))
        .collect();
    assert_eq!(
        stacks,
        BTreeSet::from([
            "arn:aws:cloudformation:us-west-2:${aws:PrincipalAccount}:stack/eksctl-eks-test-jenkins-addon-iamserviceaccount-kube-system-cluster-autoscaler/*",
            "arn:aws:cloudformation:us-west-2:${aws:PrincipalAccount}:stack/eksctl-eks-test-jenkins-cluster/*",
            "arn:aws:cloudformation:us-west-2:${aws:PrincipalAccount}:stack/eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins/*",
            "arn:aws:cloudformation:us-west-2:${aws:PrincipalAccount}:stack/eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot/*",
        ])
    );
    let pass: Vec<&Statement> = p
        .iam
        .iter()
        .filter(|s| s.actions.contains("iam:PassRole"))
        .collect();
    assert_eq!(pass.len(), 1);
    assert_eq!(
        pass[0].resources,
        BTreeSet::from(["arn:aws:iam::123456789012:role/eksync-cloudformation".to_string()])
    );
    // Without a service role: no PassRole, and a note says what that means.
    let p = permissions(
        &a,
        &Options {
            cfn_role: None,
            ..opts()
        },
    );
    assert!(p.iam.iter().all(|s| !s.actions.contains("iam:PassRole")));
    assert!(p.notes.iter().any(|n| n.contains("--cfn-role-arn")));
}

#[test]
fn a_repo_without_a_cluster_needs_no_aws() {
    let src = repo(&[(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n",
    )]);
    let a = analyze(&src);
    let p = permissions(&a, &opts());
    assert!(p.iam.is_empty());
    assert!(iam_policy(&p).is_none());
    assert_eq!(
        verbs(&p, Some("default"), "configmaps", &[]),
        ["get", "create", "patch", "delete"]
    );
    // No Namespace in the repo: reading the inventory's namespace is a rule of its own.
    assert_eq!(verbs(&p, None, "namespaces", &["eksync-system"]), ["get"]);
}

#[test]
fn json_parts_are_what_kubectl_and_the_aws_cli_take() {
    let a = analyze(&example());
    let p = permissions(&a, &opts());
    let list = to_json(&p, Part::Kubernetes);
    assert_eq!(list["kind"], "List");
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[0], "Namespace");
    assert!(kinds.contains(&"ClusterRoleBinding") && kinds.contains(&"RoleBinding"));
    let policy = to_json(&p, Part::Aws);
    assert_eq!(policy["Version"], "2012-10-17");
    assert!(policy["Statement"].as_array().unwrap().len() >= 3);
    // YAML parses back to the same objects.
    let yaml = to_yaml(&p, Part::Kubernetes);
    let docs: Vec<Value> = yaml
        .split("\n---\n")
        .filter_map(|d| serde_yaml_ng::from_str::<Value>(d).ok())
        .filter(|v| !v.is_null())
        .collect();
    assert_eq!(docs, list["items"].as_array().unwrap().clone());
}

#[test]
fn the_agent_gets_its_own_objects_by_name_and_only_with_agent() {
    let a = analyze(&example());
    let p = permissions(&a, &opts());
    let ns = Some("eksync-system");
    assert_eq!(verbs(&p, ns, "syncs", &["examples-repo"]), ["get", "patch"]);
    assert_eq!(verbs(&p, ns, "syncs/status", &["examples-repo"]), ["patch"]);
    assert_eq!(
        verbs(&p, ns, "leases", &["eksync-examples-repo"]),
        ["get", "patch"]
    );
    assert_eq!(verbs(&p, ns, "leases", &[]), ["create"]);
    assert_eq!(verbs(&p, ns, "events", &[]), ["create"]);
    let p = permissions(
        &a,
        &Options {
            agent: false,
            ..opts()
        },
    );
    assert!(verbs(&p, ns, "leases", &[]).is_empty());
    assert!(verbs(&p, ns, "syncs", &["examples-repo"]).is_empty());
}

#[test]
fn fargate_profiles_need_their_eks_actions_and_pass_the_pod_execution_role() {
    let cfg = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: c, region: us-west-2}\nfargateProfiles:\n  - name: fp\n    selectors: [{namespace: default}]\n";
    let a = analyze(&repo(&[("cluster/cluster.yaml", cfg)]));
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let p = permissions(&a, &opts());
    let fargate = p
        .iam
        .iter()
        .find(|s| s.sid == "ManageFargateProfiles")
        .expect("a Fargate statement");
    assert_eq!(
        fargate.actions,
        BTreeSet::from(
            [
                "eks:CreateFargateProfile",
                "eks:DeleteFargateProfile",
                "eks:DescribeFargateProfile",
                "eks:TagResource"
            ]
            .map(String::from)
        )
    );
    assert!(fargate
        .resources
        .contains("arn:aws:eks:us-west-2:${aws:PrincipalAccount}:fargateprofile/c/fp/*"));
    let pass = p
        .iam
        .iter()
        .find(|s| s.sid == "PassThePodExecutionRoleToEks")
        .expect("PassRole for the pod execution role");
    assert_eq!(
        pass.resources,
        BTreeSet::from([
            "arn:aws:iam::${aws:PrincipalAccount}:role/eksctl-c-cluster-FargatePodExecutionRole-*"
                .to_string()
        ])
    );
    // Without profiles, none of it.
    let a = analyze(&repo(&[(
        "cluster/cluster.yaml",
        cfg.split("fargateProfiles").next().unwrap_or_default(),
    )]));
    let p = permissions(&a, &opts());
    assert!(p.iam.iter().all(|s| s.sid != "ManageFargateProfiles"));
}

#[test]
fn addons_need_their_eks_actions_and_pass_their_role() {
    let cfg = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: c, region: us-west-2}\naddons:\n  - name: vpc-cni\n    serviceAccountRoleARN: arn:aws:iam::111122223333:role/cni\n";
    let a = analyze(&repo(&[("cluster/cluster.yaml", cfg)]));
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let p = permissions(&a, &opts());
    let addons = p
        .iam
        .iter()
        .find(|s| s.sid == "ManageAddons")
        .expect("an add-on statement");
    assert_eq!(
        addons.actions,
        BTreeSet::from(
            [
                "eks:CreateAddon",
                "eks:DescribeAddon",
                "eks:TagResource",
                "eks:UpdateAddon"
            ]
            .map(String::from)
        )
    );
    assert!(addons
        .resources
        .contains("arn:aws:eks:us-west-2:${aws:PrincipalAccount}:addon/c/vpc-cni/*"));
    let pass = p
        .iam
        .iter()
        .find(|s| s.sid == "PassTheAddonRolesToEks")
        .expect("PassRole for the add-on's role");
    assert_eq!(
        pass.resources,
        BTreeSet::from(["arn:aws:iam::111122223333:role/cni".to_string()])
    );
}

#[test]
fn pod_identity_associations_need_their_eks_actions_and_pass_their_role() {
    let cfg = "apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: c, region: us-west-2}\niam:\n  podIdentityAssociations:\n    - {namespace: default, serviceAccountName: s3-reader, roleARN: \"arn:aws:iam::111122223333:role/role-1\"}\n    - {namespace: dev, serviceAccountName: nginx, roleName: made-by-eksctl}\n";
    let a = analyze(&repo(&[("cluster/cluster.yaml", cfg)]));
    assert!(!a.has_errors(), "{:?}", a.diagnostics);
    let p = permissions(&a, &opts());
    let s = p
        .iam
        .iter()
        .find(|s| s.sid == "ManagePodIdentityAssociations")
        .expect("a Pod Identity statement");
    assert!(s.actions.contains("eks:CreatePodIdentityAssociation"));
    assert!(s.actions.contains("eks:UpdatePodIdentityAssociation"));
    let pass = p
        .iam
        .iter()
        .find(|s| s.sid == "PassThePodIdentityRolesToEks")
        .expect("PassRole for the association's role");
    assert_eq!(
        pass.resources,
        BTreeSet::from(["arn:aws:iam::111122223333:role/role-1".to_string()]),
        "only the given role: the other entry is not acted on"
    );
}
