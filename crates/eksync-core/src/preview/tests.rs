use super::render::{self, MarkdownOptions, GITHUB_COMMENT_LIMIT};
use super::*;
use crate::analysis::analyze;
use crate::source::{Source, SourceFile};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::json;

fn example() -> Source {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples-repo");
    crate::source::test_read_tree(&root)
}

fn file_mut<'a>(src: &'a mut Source, path: &str) -> &'a mut SourceFile {
    src.files
        .iter_mut()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no file {path}"))
}

/// Replaces `from` (which must be there) by `to` in a file.
fn edit(src: &mut Source, path: &str, from: &str, to: &str) {
    let f = file_mut(src, path);
    let text = String::from_utf8(f.bytes.clone()).unwrap();
    assert!(text.contains(from), "{path} has no {from:?}");
    f.bytes = text.replacen(from, to, 1).into_bytes();
}

fn add(src: &mut Source, path: &str, text: &str) {
    src.files.retain(|f| f.path != path);
    src.files.push(SourceFile {
        path: path.into(),
        bytes: text.as_bytes().to_vec(),
    });
}

fn remove(src: &mut Source, path: &str) {
    let n = src.files.len();
    src.files.retain(|f| f.path != path);
    assert_eq!(src.files.len(), n - 1, "no file {path}");
}

fn preview(base: &Source, head: &Source) -> Preview {
    match between(base, head, Labels::default()) {
        Ok(p) => p,
        Err(e) => panic!("{e}: {e:?}"),
    }
}

const CLUSTER: &str = "cluster/cluster.yaml";
const POLICY: &str = "aws/policies/asg-policy-for-worker.json";
const STORAGE: &str = "k8s/jenkins/storage.yaml";
const DEPLOYMENT: &str = "k8s/jenkins/deployment.yaml";
const SPOT_STACK: &str =
    "aws/eks-test-jenkins/stack/eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot";
const STATIC_STACK: &str =
    "aws/eks-test-jenkins/stack/eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins";

const ADMIN_BINDING: &str = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: jenkins-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: jenkins
    namespace: jenkins
";

/// The issue's scenario: Spot instance type, wider IAM policy, a cluster-admin binding, the PVC
/// removed and the Jenkins image bumped.
fn scenario() -> Source {
    let mut s = example();
    edit(
        &mut s,
        CLUSTER,
        "[\"m5.large\", \"m5a.large\"",
        "[\"m6i.large\", \"m5a.large\"",
    );
    edit(
        &mut s,
        POLICY,
        "\"ec2:DescribeLaunchTemplateVersions\"",
        "\"ec2:DescribeLaunchTemplateVersions\",\n        \"autoscaling:UpdateAutoScalingGroup\"",
    );
    add(&mut s, "k8s/jenkins/admin.yaml", ADMIN_BINDING);
    let storage = String::from_utf8(file_mut(&mut s, STORAGE).bytes.clone()).unwrap();
    let pv_only = storage.split("\n---\n").next().unwrap().to_string();
    file_mut(&mut s, STORAGE).bytes = pv_only.into_bytes();
    edit(
        &mut s,
        DEPLOYMENT,
        "jenkins/jenkins:2.516.3-lts-jdk21",
        "jenkins/jenkins:2.528.1-lts-jdk21",
    );
    s
}

fn kinds(p: &Preview) -> Vec<(RiskKind, String)> {
    p.flags
        .iter()
        .map(|f| (f.kind(), f.resource.clone()))
        .collect()
}

#[test]
fn unchanged_is_no_change() {
    let p = preview(&example(), &example());
    assert!(!p.has_changes());
    assert!(p.flags.is_empty());
    assert_eq!(p.summary, Summary::default());
    let md = render::markdown(&p, &MarkdownOptions::default());
    assert!(
        md.starts_with("<!-- eksync-preview id=eks-test-jenkins -->\n"),
        "{md}"
    );
    assert!(md.contains("No changes."));
}

#[test]
fn the_scenario_flags_each_risk_once() {
    let p = preview(&example(), &scenario());
    let counts: Vec<(RiskKind, usize)> = RiskKind::ALL
        .iter()
        .map(|&k| (k, p.count(k)))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_eq!(
        counts,
        [
            (RiskKind::Replacement, 1),
            (RiskKind::DataLoss, 1),
            (RiskKind::Deletion, 1),
            (RiskKind::IamBroadening, 1),
            (RiskKind::RbacEscalation, 1),
        ]
    );
    assert_eq!(
        p.summary.aws,
        Counts {
            creates: 0,
            updates: 1,
            replacements: 1,
            deletes: 0
        }
    );
    assert_eq!(
        p.summary.kubernetes,
        Counts {
            creates: 1,
            updates: 1,
            replacements: 0,
            deletes: 1
        }
    );
    let by_id = |id: &str| p.resources.iter().find(|r| r.id == id).unwrap();
    assert_eq!(by_id(SPOT_STACK).action, Action::Replace);
    let image = by_id("k8s/eks-test-jenkins/Deployment.apps/jenkins/jenkins");
    assert!(
        image
            .diff
            .contains("-        image: jenkins/jenkins:2.516.3-lts-jdk21"),
        "{}",
        image.diff
    );
    assert!(image
        .diff
        .contains("+        image: jenkins/jenkins:2.528.1-lts-jdk21"));
    // The Deployment no longer waits for the claim it lost.
    let sentences: Vec<String> = p.edges.iter().map(render::edge_sentence).collect();
    assert!(
        sentences.contains(&"Deployment jenkins/jenkins no longer waits for PersistentVolumeClaim jenkins/jenkins-pvc (was: pods use PersistentVolumeClaim jenkins-pvc)".to_string()),
        "{sentences:#?}"
    );
    assert!(
        sentences.contains(&"Deployment jenkins/jenkins now waits for ClusterRoleBinding jenkins-admin: pods run as ServiceAccount jenkins, which ClusterRoleBinding jenkins-admin grants permissions".to_string()),
        "{sentences:#?}"
    );
    let md = render::markdown(&p, &MarkdownOptions::default());
    insta::assert_snapshot!("scenario_markdown", md);
}

#[test]
fn the_replacement_names_the_changed_instance_type() {
    let p = preview(&example(), &scenario());
    let f = p
        .flags
        .iter()
        .find(|f| f.kind() == RiskKind::Replacement)
        .unwrap();
    let Risk::Replacement { causes } = &f.risk else {
        unreachable!()
    };
    let got: Vec<(&str, &str, risk::Replaces)> = causes
        .iter()
        .map(|c| (c.logical_id.as_str(), c.property.as_str(), c.replaces))
        .collect();
    assert_eq!(
        got,
        [
            (
                "NodeGroup",
                "MixedInstancesPolicy.LaunchTemplate.Overrides[0].InstanceType",
                risk::Replaces::Nodes
            ),
            (
                "NodeGroupLaunchTemplate",
                "LaunchTemplateData.InstanceType",
                risk::Replaces::Nodes
            ),
        ]
    );
    assert_eq!(causes[1].base, Some(json!("m5.large")));
    assert_eq!(causes[1].head, Some(json!("m6i.large")));
    assert_eq!(
        render::reason(f),
        "replaces the node group's instances (rolling update) (NodeGroup MixedInstancesPolicy.LaunchTemplate.Overrides[0].InstanceType: m5.large → m6i.large, NodeGroupLaunchTemplate LaunchTemplateData.InstanceType: m5.large → m6i.large)"
    );
}

/// One row per risk: how the head differs from the example, and the flags (kind, resource,
/// words in the reason) it must raise, and nothing else.
#[test]
fn risk_flags_table() {
    type Mutate = fn(&mut Source);
    type Case = (
        &'static str,
        Mutate,
        Vec<(RiskKind, &'static str, &'static str)>,
    );
    let cases: Vec<Case> = vec![
        (
            "launch template data change rolls the nodes (volume size)",
            |s| {
                edit(s, CLUSTER, "volumeSize: 50\n    privateNetworking: true\n    labels:\n      lifecycle: OnDemand", "volumeSize: 80\n    privateNetworking: true\n    labels:\n      lifecycle: OnDemand")
            },
            vec![(
                RiskKind::Replacement,
                STATIC_STACK,
                "LaunchTemplateData.BlockDeviceMappings[0].Ebs.VolumeSize: 50 → 80",
            )],
        ),
        (
            "a removed Service is a deletion, not data loss",
            |s| {
                let f = file_mut(s, "k8s/jenkins/services.yaml");
                let text = String::from_utf8(f.bytes.clone()).unwrap();
                f.bytes = text.split("\n---\n").nth(1).unwrap().as_bytes().to_vec();
            },
            vec![(
                RiskKind::Deletion,
                "k8s/eks-test-jenkins/Service/jenkins/jenkins-external",
                "removed from the repo",
            )],
        ),
        (
            "a removed PersistentVolume loses data",
            |s| {
                let f = file_mut(s, STORAGE);
                let text = String::from_utf8(f.bytes.clone()).unwrap();
                f.bytes = text.split("\n---\n").nth(1).unwrap().as_bytes().to_vec();
            },
            vec![
                (
                    RiskKind::DataLoss,
                    "k8s/eks-test-jenkins/PersistentVolume/_/jenkins-pv",
                    "loses its data",
                ),
                (
                    RiskKind::Deletion,
                    "k8s/eks-test-jenkins/PersistentVolume/_/jenkins-pv",
                    "removed",
                ),
            ],
        ),
        (
            "a removed Namespace loses everything in it",
            |s| remove(s, "k8s/jenkins/namespace.yaml"),
            vec![
                (
                    RiskKind::DataLoss,
                    "k8s/eks-test-jenkins/Namespace/_/jenkins",
                    "deletes everything in it",
                ),
                (
                    RiskKind::Deletion,
                    "k8s/eks-test-jenkins/Namespace/_/jenkins",
                    "removed",
                ),
            ],
        ),
        (
            "a new action on Resource *",
            |s| {
                edit(
                    s,
                    POLICY,
                    "\"ec2:DescribeLaunchTemplateVersions\"",
                    "\"ec2:DescribeLaunchTemplateVersions\", \"iam:PassRole\"",
                )
            },
            vec![(
                RiskKind::IamBroadening,
                "aws/eks-test-jenkins/iam-role-policy/ASG-Policy-For-Worker",
                "new actions iam:PassRole; Resource \"*\" newly allows iam:PassRole",
            )],
        ),
        (
            "a wildcard action",
            |s| {
                edit(
                    s,
                    POLICY,
                    "\"ec2:DescribeLaunchTemplateVersions\"",
                    "\"ec2:*\"",
                )
            },
            vec![(
                RiskKind::IamBroadening,
                "aws/eks-test-jenkins/iam-role-policy/ASG-Policy-For-Worker",
                "wildcard actions ec2:*",
            )],
        ),
        (
            "narrowing is not broadening",
            |s| edit(s, POLICY, "        \"autoscaling:DescribeTags\",\n", ""),
            vec![],
        ),
        (
            "a cluster-admin binding",
            |s| add(s, "k8s/jenkins/admin.yaml", ADMIN_BINDING),
            vec![(
                RiskKind::RbacEscalation,
                "k8s/eks-test-jenkins/ClusterRoleBinding.rbac.authorization.k8s.io/_/jenkins-admin",
                "binds ClusterRole cluster-admin to ServiceAccount jenkins/jenkins",
            )],
        ),
        (
            "a binding to every authenticated user",
            |s| {
                edit(s, "k8s/jenkins/rbac.yaml", "  - kind: ServiceAccount\n    name: jenkins\n    namespace: jenkins", "  - kind: Group\n    name: system:authenticated\n    apiGroup: rbac.authorization.k8s.io")
            },
            vec![(
                RiskKind::RbacEscalation,
                "k8s/eks-test-jenkins/RoleBinding.rbac.authorization.k8s.io/jenkins/jenkins-agents",
                "binds Group system:authenticated",
            )],
        ),
        (
            "star verbs in a ClusterRole",
            |s| {
                edit(
                    s,
                    "k8s/cluster-autoscaler/rbac.yaml",
                    "verbs: [\"create\", \"patch\"]",
                    "verbs: [\"*\"]",
                )
            },
            vec![(
                RiskKind::RbacEscalation,
                "k8s/eks-test-jenkins/ClusterRole.rbac.authorization.k8s.io/_/cluster-autoscaler",
                "rule grants verbs * (verbs *; resources events, endpoints)",
            )],
        ),
        (
            "escalate, bind and impersonate",
            |s| {
                edit(
                    s,
                    "k8s/jenkins/rbac.yaml",
                    "verbs: [\"create\", \"get\"]",
                    "verbs: [\"create\", \"get\", \"bind\", \"escalate\", \"impersonate\"]",
                )
            },
            vec![(
                RiskKind::RbacEscalation,
                "k8s/eks-test-jenkins/Role.rbac.authorization.k8s.io/jenkins/jenkins-agents",
                "rule grants escalate, bind, impersonate",
            )],
        ),
        (
            "a Secret value changed: keys only",
            |s| {
                add(s, "k8s/jenkins/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: admin\n  namespace: jenkins\nstringData:\n  password: hunter3\n  user: admin\n")
            },
            vec![(
                RiskKind::SecretChange,
                "k8s/eks-test-jenkins/Secret/jenkins/admin",
                "keys changed: stringData.password",
            )],
        ),
        (
            "node group max lowered",
            |s| edit(s, CLUSTER, "maxSize: 5", "maxSize: 3"),
            vec![(
                RiskKind::NodeGroupScaleDown,
                SPOT_STACK,
                "max lowered 5 → 3",
            )],
        ),
        (
            "node group scaled to zero",
            |s| {
                // Nothing else can host the agents: they go too.
                edit(s, CLUSTER, "maxSize: 5", "maxSize: 0");
                remove(s, "k8s/jenkins/agent-pod-template.yaml");
            },
            vec![
                (
                    RiskKind::Deletion,
                    "k8s/eks-test-jenkins/PodTemplate/jenkins/jenkins-agent",
                    "removed",
                ),
                (
                    RiskKind::NodeGroupScaleDown,
                    SPOT_STACK,
                    "scaled to zero (max 5 → 0)",
                ),
            ],
        ),
        (
            "Spot to on-demand",
            |s| {
                edit(
                    s,
                    CLUSTER,
                    "onDemandPercentageAboveBaseCapacity: 0",
                    "onDemandPercentageAboveBaseCapacity: 100",
                )
            },
            vec![(
                RiskKind::Replacement,
                SPOT_STACK,
                "MixedInstancesPolicy.InstancesDistribution.OnDemandPercentageAboveBaseCapacity: 0 → 100",
            ), (
                RiskKind::CapacitySwitch,
                SPOT_STACK,
                "switches from Spot to on-demand",
            )],
        ),
        (
            "a bigger on-demand base on a Spot group",
            |s| {
                edit(
                    s,
                    CLUSTER,
                    "onDemandBaseCapacity: 0",
                    "onDemandBaseCapacity: 2",
                )
            },
            vec![
                (RiskKind::Replacement, SPOT_STACK, "replaces the node group's instances"),
                (RiskKind::CapacitySwitch, SPOT_STACK, "on-demand base 0 → 2"),
            ],
        ),
        (
            "an image bump is no risk",
            |s| edit(s, DEPLOYMENT, "2.516.3-lts-jdk21", "2.528.1-lts-jdk21"),
            vec![],
        ),
    ];
    let secret_base = {
        let mut s = example();
        add(&mut s, "k8s/jenkins/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: admin\n  namespace: jenkins\nstringData:\n  password: hunter2\n  user: admin\n");
        s
    };
    for (name, mutate, want) in cases {
        let base = if name.contains("Secret") {
            secret_base.clone()
        } else {
            example()
        };
        let mut head = example();
        mutate(&mut head);
        let p = preview(&base, &head);
        let got = kinds(&p);
        let want_kinds: Vec<(RiskKind, String)> =
            want.iter().map(|(k, r, _)| (*k, r.to_string())).collect();
        assert_eq!(got, want_kinds, "{name}: {:#?}", p.flags);
        for (f, (_, _, words)) in p.flags.iter().zip(&want) {
            let r = render::reason(f);
            assert!(r.contains(words), "{name}: {r:?} lacks {words:?}");
        }
        for text in [
            render::markdown(&p, &MarkdownOptions { limit: None }),
            render::json(&p).to_string(),
            render::text(&p),
        ] {
            assert!(!text.contains("hunter"), "{name}: a Secret value leaked");
        }
    }
}

#[test]
fn iam_broadening_on_documents() {
    let doc = |stmts: serde_json::Value| json!({"Version": "2012-10-17", "Statement": stmts});
    let cases = vec![
        (
            "resource widened to *",
            doc(
                json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]),
            ),
            doc(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}])),
            risk::IamBroadening {
                wildcard_resources: vec![risk::WildcardGrant {
                    resource: "*".into(),
                    actions: vec!["s3:GetObject".into()],
                }],
                ..Default::default()
            },
        ),
        (
            "a removed deny and a NotAction",
            doc(json!([{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}])),
            doc(json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:x"}])),
            risk::IamBroadening {
                not_statements_added: 1,
                denies_removed: 1,
                ..Default::default()
            },
        ),
        (
            "key order and action case do not count",
            doc(json!({"Effect": "Allow", "Action": ["S3:GetObject"], "Resource": "arn:x"})),
            doc(json!([{"Resource": "arn:x", "Action": "s3:getobject", "Effect": "Allow"}])),
            risk::IamBroadening::default(),
        ),
    ];
    for (name, b, h, want) in cases {
        assert_eq!(risk::iam_broadening(&[&b], &[&h]), want, "{name}");
    }
}

#[test]
fn trust_policy_and_managed_policies_in_templates() {
    let role = |principal: &str, arns: serde_json::Value| {
        json!({"Resources": {"NodeInstanceRole": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Action": ["sts:AssumeRole"],
                "Principal": {"Service": [principal]}}]},
            "ManagedPolicyArns": arns}}}})
    };
    let b = role(
        "ec2.amazonaws.com",
        json!(["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]),
    );
    let h = role(
        "eks.amazonaws.com",
        json!([
            "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
            "arn:aws:iam::aws:policy/AdministratorAccess"
        ]),
    );
    let got = risk::template_iam_for_tests(&b, &h);
    assert_eq!(
        got,
        vec![risk::IamBroadening {
            logical_id: Some("NodeInstanceRole".into()),
            trust_added: vec!["Service:eks.amazonaws.com".into()],
            trust_removed: vec!["Service:ec2.amazonaws.com".into()],
            managed_policies_added: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
            ..Default::default()
        }]
    );
    assert!(risk::template_iam_for_tests(&b, &b).is_empty());
}

#[test]
fn table_replacement_of_a_resource() {
    let t = |name: &str| json!({"Resources": {"LT": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateName": name}}}});
    let causes = risk::replacement_causes(&t("a"), &t("b"));
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].replaces, risk::Replaces::Resource);
    assert_eq!(causes[0].property, "LaunchTemplateName");
    // Without a rolling update policy or a managed group, launch template data changes replace
    // nothing running.
    let data = |ty: &str| json!({"Resources": {"LT": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {"LaunchTemplateData": {"InstanceType": ty}}}}});
    assert!(risk::replacement_causes(&data("m5.large"), &data("m6i.large")).is_empty());
}

#[test]
fn secret_diffs_show_keys_never_values() {
    let secret = |password: &str, extra: &str| {
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: jenkins\ndata:\n  password: {password}\n{extra}")
    };
    let mut base = example();
    add(
        &mut base,
        "k8s/s.yaml",
        &secret("aHVudGVyMg==", "  gone: Z29uZQ==\n"),
    );
    let mut head = example();
    // Same length: the masked notes would be equal without the change mark.
    add(
        &mut head,
        "k8s/s.yaml",
        &secret("aHVudGVyMw==", "  new: bmV3\n"),
    );
    let p = preview(&base, &head);
    let r = p.resources.iter().find(|r| r.kind == "Secret").unwrap();
    insta::assert_snapshot!(r.diff, @r"
    --- a/k8s/eks-test-jenkins/Secret/jenkins/s
    +++ b/k8s/eks-test-jenkins/Secret/jenkins/s
    @@ -6,5 +6,5 @@
       labels:
         app.kubernetes.io/managed-by: eksync
     data:
    -  password: (secret, hidden)
    -  gone: (secret, 8 characters, hidden)
    +  password: (secret, hidden, changed)
    +  new: (secret, 4 characters, hidden)
    ");
    let f = p
        .flags
        .iter()
        .find(|f| f.kind() == RiskKind::SecretChange)
        .unwrap();
    assert_eq!(
        render::reason(f),
        "Secret update; keys added: data.new; keys changed: data.password; keys removed: data.gone (values are never shown)"
    );
    let all = format!(
        "{}{}{}",
        render::markdown(&p, &MarkdownOptions { limit: None }),
        render::json(&p),
        render::text(&p)
    );
    for v in ["aHVudGVyMg", "aHVudGVyMw", "Z29uZQ", "bmV3"] {
        assert!(!all.contains(v), "{v} leaked");
    }
}

#[test]
fn edge_changes_read_as_sentences() {
    let mut head = example();
    edit(
        &mut head,
        "k8s/jenkins/agent-pod-template.yaml",
        "  namespace: jenkins\n",
        "  namespace: jenkins\n  annotations:\n    eksync.io/depends-on: Deployment.apps/jenkins\n",
    );
    edit(
        &mut head,
        DEPLOYMENT,
        "  labels:\n    app: jenkins\nspec:",
        "  labels:\n    app: jenkins\n  annotations:\n    eksync.io/depends-on: IAMRolePolicy/ASG-Policy-For-Worker\nspec:",
    );
    let p = preview(&example(), &head);
    let sentences: Vec<String> = p.edges.iter().map(render::edge_sentence).collect();
    assert_eq!(
        sentences,
        [
            "Deployment jenkins/jenkins still waits for IAMRolePolicy ASG-Policy-For-Worker, now because pods on node group ng-test-jenkins act with its instance role, which gets inline policy ASG-Policy-For-Worker; eksync.io/depends-on names IAMRolePolicy/ASG-Policy-For-Worker (was: pods on node group ng-test-jenkins act with its instance role, which gets inline policy ASG-Policy-For-Worker)",
            "PodTemplate jenkins/jenkins-agent now waits for Deployment jenkins/jenkins: eksync.io/depends-on names Deployment.apps/jenkins",
        ]
    );
    let waves: Vec<String> = p
        .waves
        .iter()
        .map(|w| format!("{} {} -> {}", w.label, w.base, w.head))
        .collect();
    assert_eq!(waves, ["PodTemplate jenkins/jenkins-agent 5 -> 6"]);
}

#[test]
fn known_after_apply_is_never_made_up() {
    let mut head = example();
    edit(&mut head, CLUSTER, "maxSize: 5", "maxSize: 6");
    let p = preview(&example(), &head);
    let ca = p
        .resources
        .iter()
        .find(|r| r.label == "Deployment kube-system/cluster-autoscaler")
        .unwrap();
    assert!(ca.known_after_apply);
    assert!(
        ca.diff.contains("+        - '--nodes=0:6:(known after apply: {{aws:nodegroup/ng-test-jenkins-spot/resource/NodeGroup}})'"),
        "{}",
        ca.diff
    );
}

/// What a GFM parser sees in a comment.
#[derive(Debug, Default, PartialEq)]
struct Shape {
    tables: usize,
    code_blocks: usize,
    details_open: usize,
    details_close: usize,
    first_html: String,
}

fn shape(md: &str) -> Shape {
    let mut s = Shape::default();
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    for ev in Parser::new_ext(md, opts) {
        match ev {
            Event::Start(Tag::Table(_)) => s.tables += 1,
            Event::Start(Tag::CodeBlock(_)) => s.code_blocks += 1,
            Event::End(TagEnd::CodeBlock) => {}
            Event::Html(h) | Event::InlineHtml(h) => {
                if s.first_html.is_empty() {
                    s.first_html = h.to_string();
                }
                s.details_open += h.matches("<details>").count();
                s.details_close += h.matches("</details>").count();
            }
            _ => {}
        }
    }
    s
}

fn html(md: &str) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, Parser::new_ext(md, opts));
    out
}

#[test]
fn the_comment_is_well_formed_gfm() {
    let p = preview(&example(), &scenario());
    let md = render::markdown(&p, &MarkdownOptions::default());
    let s = shape(&md);
    assert_eq!(s.tables, 2, "summary and flag counts");
    assert_eq!(s.details_open, p.resources.len());
    assert_eq!(s.details_close, p.resources.len());
    assert_eq!(
        s.code_blocks,
        p.resources.len(),
        "one diff block per resource"
    );
    assert!(s.first_html.starts_with("<!-- eksync-preview id="), "{s:?}");
    let h = html(&md);
    assert_eq!(h.matches("<table>").count(), 2);
    assert_eq!(
        h.matches("<code class=\"language-diff\">").count(),
        p.resources.len()
    );
    assert!(h.contains("<td>CloudFormation replacement</td>"), "{h}");
    // The flags come before the first diff.
    let (flags, details) = (
        md.find("Risk flags").unwrap(),
        md.find("<details>").unwrap(),
    );
    assert!(flags < details);
}

#[test]
fn user_text_cannot_break_the_comment() {
    let mut base = example();
    let mut head = example();
    // A ConfigMap whose data holds a fence, HTML and a table row.
    let cm = |v: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tricky\n  namespace: jenkins\ndata:\n  readme: |\n    ```\n    </details>\n    | a | b |\n    {v}\n")
    };
    add(&mut base, "k8s/cm.yaml", &cm("one"));
    add(&mut head, "k8s/cm.yaml", &cm("two ````` five"));
    let labels = Labels {
        base: "main | <b>x</b> `".into(),
        head: "feature/*a*_b_ -->".into(),
    };
    let p = between(&base, &head, labels).unwrap();
    let md = render::markdown(&p, &MarkdownOptions::default());
    let s = shape(&md);
    assert_eq!(s.details_open, 1);
    assert_eq!(s.details_close, 1);
    assert_eq!(s.code_blocks, 1);
    assert!(
        md.contains("``````diff\n"),
        "a fence longer than the body's runs:\n{md}"
    );
    let h = html(&md);
    assert!(
        h.contains("main \\| &lt;b&gt;x&lt;/b&gt;") || h.contains("main | &lt;b&gt;x&lt;/b&gt;"),
        "{h}"
    );
    assert!(!h.contains("<b>x</b>"));
    assert!(h.contains("feature/*a*_b_ --&gt;"), "{h}");
    assert!(md.lines().next().unwrap().ends_with(" -->"));
    assert_eq!(
        md.matches("-->").count(),
        1,
        "only the marker closes a comment"
    );
}

/// 3,000 ConfigMaps: 2,000 changed, 1,000 removed.
fn big() -> (Source, Source) {
    let mut b = String::new();
    let mut h = String::new();
    for i in 0..3_000 {
        let data: String = (0..12)
            .map(|l| format!("    line {l} of object {i}\n"))
            .collect();
        let doc = |d: &str| {
            format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i:04}\n  namespace: default\ndata:\n  file: |\n{d}")
        };
        b.push_str(&doc(&data));
        if i % 3 != 0 {
            h.push_str(&doc(&data.replace("line 5", "LINE 5")));
        }
    }
    let src = |t: String| Source {
        files: vec![SourceFile {
            path: "cms.yaml".into(),
            bytes: t.into_bytes(),
        }],
        skipped: Vec::new(),
    };
    (src(b), src(h))
}

#[test]
fn three_thousand_changes_fit_and_say_what_was_cut() {
    let (b, h) = big();
    let p = preview(&b, &h);
    assert_eq!(p.resources.len(), 3_000);
    assert_eq!(p.count(RiskKind::Deletion), 1_000);
    let full = render::markdown(&p, &MarkdownOptions { limit: None });
    assert!(render::size(&full) > 10 * GITHUB_COMMENT_LIMIT);
    let md = render::markdown(&p, &MarkdownOptions::default());
    assert!(
        render::size(&md) <= GITHUB_COMMENT_LIMIT,
        "{}",
        render::size(&md)
    );
    assert!(md.contains("Cut to fit GitHub's 65536-character comment limit"));
    assert!(md.contains("--report-file"));
    assert!(md.contains("| Deletion | 1000 |"), "flag counts stay whole");
    let s = shape(&md);
    assert_eq!(s.details_open, s.details_close);
    assert!(s.details_open > 0);
    // What the note says was left out matches what is missing.
    let listed = s.details_open;
    assert!(
        md.contains(&format!("{} resource(s)", 3_000 - listed)),
        "{}",
        md.lines().last().unwrap()
    );
    // Diffs are cut before resources are dropped: every listed block lost its diff or kept it
    // whole, and the kept diffs are the smallest.
    // Flagged resources (the deletions) are the last to be left out.
    assert!(listed < 1_000);
    assert_eq!(md.matches("<b>delete</b>").count(), listed);
    let cut = md.matches("Diff cut to fit the comment").count();
    assert!(cut > 0);
    assert!(md.contains(&format!("{cut} diff(s) cut, largest first")));
}

#[test]
fn huge_revision_names_still_fit() {
    let mut head = example();
    edit(
        &mut head,
        DEPLOYMENT,
        "2.516.3-lts-jdk21",
        "2.528.1-lts-jdk21",
    );
    let labels = Labels {
        base: "é".repeat(100_000),
        head: "🦀".repeat(100_000),
    };
    let p = between(&example(), &head, labels).unwrap();
    let md = render::markdown(&p, &MarkdownOptions::default());
    assert!(render::size(&md) <= GITHUB_COMMENT_LIMIT);
    assert!(md.contains(&format!("{}…", "🦀".repeat(200))));
    assert!(md.contains("+        image: jenkins/jenkins:2.528.1-lts-jdk21"));
}

#[test]
fn a_tight_limit_cuts_the_largest_diff_first() {
    let mut head = example();
    edit(
        &mut head,
        CLUSTER,
        "[\"m5.large\", \"m5a.large\"",
        "[\"m6i.large\", \"m5a.large\"",
    );
    edit(
        &mut head,
        DEPLOYMENT,
        "2.516.3-lts-jdk21",
        "2.528.1-lts-jdk21",
    );
    let p = preview(&example(), &head);
    let full = render::markdown(&p, &MarkdownOptions { limit: None });
    let spot = p.resources.iter().find(|r| r.id == SPOT_STACK).unwrap();
    let limit = render::size(&full) - spot.diff.len() / 2 + 1_200;
    let md = render::markdown(&p, &MarkdownOptions { limit: Some(limit) });
    assert!(render::size(&md) <= limit);
    assert!(
        md.contains("1 diff(s) cut, largest first; 0 resource(s)"),
        "{md}"
    );
    assert!(
        md.contains("+        image: jenkins/jenkins:2.528.1-lts-jdk21"),
        "the small diff stays"
    );
    assert!(
        !md.contains("\"InstanceType\": \"m6i.large\""),
        "the big one is cut"
    );
}

#[test]
fn json_carries_the_same_content() {
    let p = preview(&example(), &scenario());
    let j = render::json(&p);
    assert_eq!(j["flags"].as_array().unwrap().len(), 5);
    assert_eq!(j["flags"][0]["risk"], "replacement");
    assert_eq!(j["summary"]["aws"]["replacements"], 1);
    assert_eq!(j["resources"].as_array().unwrap().len(), p.resources.len());
    assert!(j["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["change"] == "removed"));
}

#[test]
fn why_explains_the_wave() {
    let a = analyze(&example());
    let w = why(&a, "Deployment/jenkins/jenkins").unwrap();
    assert_eq!(
        w.resource.id,
        "k8s/eks-test-jenkins/Deployment.apps/jenkins/jenkins"
    );
    assert!(w.chains[0].sets_wave);
    assert_eq!(
        w.chains[0].links.len() + 1,
        w.resource.wave,
        "the longest chain sets the wave"
    );
    assert_eq!(w.chains.iter().filter(|c| c.sets_wave).count(), 1);
    for c in &w.chains {
        assert_eq!(c.links.last().unwrap().to.id, w.resource.id);
        assert!(c.links.iter().all(|l| !l.reason.is_empty()));
        for pair in c.links.windows(2) {
            assert_eq!(pair[0].to.id, pair[1].from.id, "a chain is connected");
        }
    }
    insta::assert_snapshot!("why_jenkins", why_text(&w));
    // By id, by kind with group, case-insensitive kind; roots and leaves.
    assert_eq!(why(&a, &w.resource.id).unwrap(), w);
    assert_eq!(why(&a, "deployment.apps/jenkins/jenkins").unwrap(), w);
    let root = why(&a, "Stack/eksctl-eks-test-jenkins-cluster").unwrap();
    assert!(root.chains.is_empty());
    assert_eq!(root.all_dependents, a.graph.nodes.len() - 1);
    assert!(why_text(&root).contains("it is a root of the graph"));
}

#[test]
fn why_refuses_unknown_and_ambiguous_addresses() {
    let a = analyze(&example());
    let cases = [
        ("Deployment/nope", "no resource matches `Deployment/nope`"),
        (
            "Service/jenkins/nope",
            "no resource matches `Service/jenkins/nope`",
        ),
        (
            "ConfigMap/jenkins",
            "no resource matches `ConfigMap/jenkins` (did you mean: ",
        ),
        ("jenkins", "cannot read `jenkins`"),
        ("a/b/c/d", "cannot read"),
    ];
    for (addr, want) in cases {
        let e = why(&a, addr).unwrap_err().to_string();
        assert!(e.contains(want), "{addr}: {e}");
    }
    // Same kind and name in two namespaces: the ids tell them apart.
    let mut src = example();
    add(
        &mut src,
        "k8s/sa.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: jenkins\n  namespace: kube-system\n",
    );
    let a = analyze(&src);
    let e = why(&a, "ServiceAccount/jenkins").unwrap_err();
    assert!(
        matches!(&e, PreviewError::Ambiguous { candidates, .. } if candidates.len() == 2),
        "{e}"
    );
    assert!(why(&a, "ServiceAccount/kube-system/jenkins").is_ok());
    let e = why(&a, "StatefulSet/jenkins").unwrap_err().to_string();
    assert!(e.contains("did you mean"), "{e}");
}

#[test]
fn an_invalid_side_is_an_error_naming_it() {
    let mut head = example();
    edit(&mut head, CLUSTER, "maxSize: 5", "maxSize: five");
    match between(&example(), &head, Labels::default()) {
        Err(PreviewError::Invalid { side, diagnostics }) => {
            assert_eq!(side, Side::Head);
            assert!(!diagnostics.is_empty());
            assert!(diagnostics.iter().all(|d| d.is_error()));
        }
        other => panic!("{other:?}"),
    }
}

mod escaping {
    use super::render::{fence_for, md_text};
    use proptest::prelude::*;
    use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

    /// The text and code blocks a GFM parser reads from `md`.
    fn read(md: &str) -> (String, Vec<String>) {
        let mut text = String::new();
        let mut blocks = Vec::new();
        let mut in_code = false;
        for ev in Parser::new_ext(md, Options::ENABLE_TABLES) {
            match ev {
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => {
                    in_code = true;
                    blocks.push(String::new());
                }
                Event::End(TagEnd::CodeBlock) => in_code = false,
                Event::Text(t) if in_code => {
                    if let Some(b) = blocks.last_mut() {
                        b.push_str(&t);
                    }
                }
                Event::Text(t) => text.push_str(&t),
                _ => {}
            }
        }
        (text, blocks)
    }

    proptest! {
        /// Escaped inline text reads back as itself (line endings as spaces): no markup, no HTML.
        #[test]
        fn inline_text_reads_back(s in "[ -~é🦀\n]{0,60}") {
            let md = format!("x {} x\n", md_text(&s));
            let (text, blocks) = read(&md);
            prop_assert!(blocks.is_empty());
            prop_assert_eq!(text, format!("x {} x", s.replace('\n', " ")));
        }

        /// A diff body in its fence is one code block holding exactly the body.
        #[test]
        fn fenced_bodies_stay_whole(lines in proptest::collection::vec("[ -~]{0,12}|`{3,8}[a-z]{0,3}|</details>", 0..12)) {
            let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
            let fence = fence_for(&body);
            let md = format!("<details><summary>s</summary>\n\n{fence}diff\n{body}{fence}\n\n</details>\n\nafter\n");
            let (text, blocks) = read(&md);
            prop_assert_eq!(blocks, vec![body]);
            prop_assert_eq!(text, "after");
        }
    }
}
