//! The Kubernetes side of IRSA: each `iam.serviceAccounts` entry of a ClusterConfig (but those
//! with `roleOnly: true`) becomes the ServiceAccount `<namespace>/<name>` in the model, annotated
//! `eks.amazonaws.com/role-arn` with the role's ARN: a reference to the output `Role1` of the
//! entry's role stack (`{{aws:iamserviceaccount/<namespace>/<name>/output/Role1}}`, a value that
//! flows from AWS into the manifest), or the `attachRoleARN` as written. The graph then orders the
//! ServiceAccount after the role's stack, and the workloads that run as it after the
//! ServiceAccount, as for any object of the repo.
//!
//! When the repo's manifests hold that ServiceAccount already, the two are merged into one
//! object: the role annotation is set on the repo's object (a different value written there is
//! replaced, with a warning), and the entry's `metadata.labels` and `metadata.annotations` fill in
//! only what the repo's object does not set. It deliberately does not create the namespace (the
//! graph warns when the repo does not define it, as for any object) nor render the role (see
//! `render::irsa`).

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

use super::Ctx;
use crate::diag::Diagnostic;
use crate::kube::ObjectKey;
use crate::model::{FoundRef, KubeObject, Model};
use crate::path::FieldPath;
use crate::refs::{StackRef, ValueRef};
use crate::render::outputs::IAM_SERVICE_ACCOUNT_ROLE;

/// The annotation the EKS Pod Identity webhook reads to give a pod the role's credentials.
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// The value of the role annotation for one entry: the role stack's output, or `attachRoleARN`.
pub fn role_arn_value(sa: &crate::eksctl::IamServiceAccount) -> (String, Option<ValueRef>) {
    match &sa.attach_role_arn {
        Some(arn) => (arn.clone(), None),
        None => {
            let r = ValueRef::Output {
                stack: StackRef::ServiceAccount {
                    namespace: sa.namespace().to_string(),
                    name: sa.metadata.name.clone(),
                },
                key: IAM_SERVICE_ACCOUNT_ROLE.to_string(),
            };
            (r.to_string(), Some(r))
        }
    }
}

/// Adds (or merges) the ServiceAccount of every `iam.serviceAccounts` entry of every cluster.
pub(super) fn add_service_accounts(model: &mut Model, ctx: &mut Ctx) {
    let index: HashMap<(Option<String>, ObjectKey), usize> = model
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| ((o.cluster.clone(), o.key.clone()), i))
        .collect();
    let mut generated = Vec::new();
    for c in &model.clusters {
        let cluster = c.name().to_string();
        // The first entry of each namespace/name, for duplicates.
        let mut seen: BTreeMap<(String, String), FieldPath> = BTreeMap::new();
        for (i, sa) in c.config.service_accounts().iter().enumerate() {
            let entry = FieldPath::keys(&["iam", "serviceAccounts"]).index(i);
            let ns = sa.namespace().to_string();
            let name = sa.metadata.name.clone();
            if let Some(first) = seen.get(&(ns.clone(), name.clone())) {
                let d = Diagnostic::error(
                    "E-duplicate",
                    format!("service account {ns}/{name} is listed twice in iam.serviceAccounts"),
                )
                .at(ctx.origin_loc(&c.origin, &entry.key("metadata").key("name")))
                .related(ctx.origin_loc(&c.origin, first), "first defined here");
                ctx.push(d);
                continue;
            }
            seen.insert(
                (ns.clone(), name.clone()),
                entry.key("metadata").key("name"),
            );
            if !sa.creates_service_account() {
                continue;
            }
            let key = ObjectKey {
                group: String::new(),
                kind: "ServiceAccount".into(),
                namespace: Some(ns.clone()),
                name: name.clone(),
            };
            let (value, reference) = role_arn_value(sa);
            let annotation_path = |base: &FieldPath| {
                base.key("metadata")
                    .key("annotations")
                    .key(ROLE_ARN_ANNOTATION)
            };
            match index.get(&(Some(cluster.clone()), key.clone())).copied() {
                Some(oi) => {
                    let o = &mut model.objects[oi];
                    let path = annotation_path(&o.base);
                    let Some(annotations) = metadata_map(&mut o.body, "annotations") else {
                        continue;
                    };
                    if let Some(old) = annotations
                        .get(ROLE_ARN_ANNOTATION)
                        .filter(|old| old.as_str() != Some(value.as_str()))
                    {
                        let old = crate::text::clip_json(old, 80);
                        let at = ctx.origin_loc(&o.origin, &path);
                        ctx.warn(
                            "W-irsa-annotation",
                            format!(
                                "{ROLE_ARN_ANNOTATION} ({old}) is replaced by the role of iam.serviceAccounts[{i}] in cluster {cluster}'s ClusterConfig ({value}); remove it from this manifest"
                            ),
                            at,
                        );
                    }
                    annotations.insert(ROLE_ARN_ANNOTATION.into(), json!(value));
                    for (k, v) in &sa.metadata.annotations {
                        annotations.entry(k.clone()).or_insert_with(|| json!(v));
                    }
                    if let Some(labels) = metadata_map(&mut o.body, "labels") {
                        for (k, v) in &sa.metadata.labels {
                            labels.entry(k.clone()).or_insert_with(|| json!(v));
                        }
                    }
                    o.refs.retain(|r| r.path != path);
                    if let Some(r) = reference {
                        o.refs.push(FoundRef { path, value: r });
                    }
                }
                None => {
                    let mut annotations: Map<String, Value> = sa
                        .metadata
                        .annotations
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(v)))
                        .collect();
                    annotations.insert(ROLE_ARN_ANNOTATION.into(), json!(value));
                    let mut metadata = json!({
                        "annotations": Value::Object(annotations),
                        "name": name,
                        "namespace": ns,
                    });
                    if !sa.metadata.labels.is_empty() {
                        metadata["labels"] = json!(sa.metadata.labels);
                    }
                    let body = json!({
                        "apiVersion": "v1",
                        "kind": "ServiceAccount",
                        "metadata": metadata,
                    });
                    let refs = reference
                        .map(|r| FoundRef {
                            path: annotation_path(&entry),
                            value: r,
                        })
                        .into_iter()
                        .collect();
                    generated.push(KubeObject {
                        key,
                        api_version: "v1".into(),
                        cluster: Some(cluster.clone()),
                        body,
                        origin: c.origin.clone(),
                        base: entry,
                        refs,
                    });
                }
            }
        }
    }
    model.objects.extend(generated);
}

/// `metadata.<field>` of a body as a mutable map, created when missing or null; `None` when the
/// body holds something else there (the loader reported it already).
fn metadata_map<'v>(body: &'v mut Value, field: &str) -> Option<&'v mut Map<String, Value>> {
    let Value::Object(root) = body else {
        return None;
    };
    let Value::Object(meta) = root.entry("metadata").or_insert_with(|| json!({})) else {
        return None;
    };
    let map = meta.entry(field).or_insert_with(|| json!({}));
    if map.is_null() {
        *map = json!({});
    }
    map.as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{analyze, Analysis};
    use crate::graph::Node;
    use crate::load::{Source, SourceFile};

    const ROLE_REF: &str = "{{aws:iamserviceaccount/kube-system/cluster-autoscaler/output/Role1}}";

    fn example() -> Analysis {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples-repo");
        analyze(&crate::source::test_read_tree(&root))
    }

    fn src(files: &[(&str, &str)]) -> Source {
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

    /// A cluster with an existing VPC, withOIDC and `service_accounts` (YAML list items).
    fn cluster(service_accounts: &str) -> String {
        format!(
            "apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {{name: c1, region: us-west-2, version: \"1.33\"}}
vpc:
  id: vpc-0123456789abcdef0
  subnets:
    private:
      us-west-2a: {{id: subnet-0aaaaaaaaaaaaaaa1}}
iam:
  withOIDC: true
  serviceAccounts:
{service_accounts}
"
        )
    }

    fn node<'a>(a: &'a Analysis, kind: &str, name: &str) -> (usize, &'a Node) {
        a.graph
            .nodes
            .iter()
            .enumerate()
            .find(|(_, n)| n.kind == kind && n.name == name)
            .unwrap_or_else(|| panic!("no {kind} {name}"))
    }

    fn service_accounts(a: &Analysis) -> Vec<&KubeObject> {
        a.model
            .objects
            .iter()
            .filter(|o| o.key.kind == "ServiceAccount")
            .collect()
    }

    #[test]
    fn the_example_service_account_waits_for_its_role_and_the_autoscaler_for_it() {
        let a = example();
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        let sa: Vec<_> = service_accounts(&a)
            .into_iter()
            .filter(|o| o.key.name == "cluster-autoscaler")
            .collect();
        // Merged into the repo's object (k8s/cluster-autoscaler/rbac.yaml): one object.
        assert_eq!(sa.len(), 1);
        let sa = sa[0];
        assert_eq!(sa.origin.file, "k8s/cluster-autoscaler/rbac.yaml");
        assert_eq!(
            sa.body["metadata"]["annotations"][ROLE_ARN_ANNOTATION],
            ROLE_REF
        );
        assert_eq!(
            sa.body["metadata"]["labels"]["k8s-app"],
            "cluster-autoscaler"
        );
        assert!(sa.refs.iter().any(|r| r.value.to_string() == ROLE_REF));

        let (stack, _) = node(
            &a,
            "Stack",
            "eksctl-eks-test-jenkins-addon-iamserviceaccount-kube-system-cluster-autoscaler",
        );
        let (cluster_stack, _) = node(&a, "Stack", "eksctl-eks-test-jenkins-cluster");
        let (sa_node, _) = node(&a, "ServiceAccount", "cluster-autoscaler");
        let (deployment, _) = a
            .graph
            .nodes
            .iter()
            .enumerate()
            .find(|(_, n)| n.kind == "Deployment" && n.name == "cluster-autoscaler")
            .expect("the cluster-autoscaler Deployment");
        let edge = |from: usize, to: usize| {
            a.graph
                .edges
                .iter()
                .find(|e| e.from == from && e.to == to)
                .map(|e| e.reason.as_str())
        };
        let reason = edge(stack, sa_node).expect("an edge from the role stack");
        assert!(reason.contains(ROLE_REF), "{reason}");
        assert!(edge(cluster_stack, stack)
            .expect("the role stack waits for the cluster stack")
            .contains("OIDC provider"));
        assert!(
            edge(sa_node, deployment).is_some(),
            "the Deployment runs as it"
        );
        let wave = |n: usize| a.order.wave_of[n];
        assert!(wave(cluster_stack) < wave(stack));
        assert!(wave(stack) < wave(sa_node));
        assert!(wave(sa_node) < wave(deployment));
    }

    #[test]
    fn a_repo_service_account_is_merged_with_the_generated_one() {
        let cfg = cluster(
            "    - metadata:
        name: app
        namespace: kube-system
        labels: {k8s-app: from-config, team: a}
        annotations: {example.com/extra: y}
      attachPolicyARNs: [arn:aws:iam::aws:policy/ReadOnlyAccess]",
        );
        let manifest = "apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: kube-system
  labels: {k8s-app: from-repo}
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/old
";
        let a = analyze(&src(&[("cluster.yaml", &cfg), ("sa.yaml", manifest)]));
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        let sas = service_accounts(&a);
        assert_eq!(sas.len(), 1, "never two objects");
        let meta = &sas[0].body["metadata"];
        assert_eq!(
            meta["labels"]["k8s-app"], "from-repo",
            "the repo's label wins"
        );
        assert_eq!(meta["labels"]["team"], "a", "the config fills in the rest");
        assert_eq!(meta["annotations"]["example.com/extra"], "y");
        assert_eq!(
            meta["annotations"][ROLE_ARN_ANNOTATION],
            "{{aws:iamserviceaccount/kube-system/app/output/Role1}}"
        );
        assert!(a.diagnostics.iter().any(|d| d.code == "W-irsa-annotation"
            && d.location.as_ref().is_some_and(|l| l.file == "sa.yaml")));
        assert_eq!(
            a.graph
                .nodes
                .iter()
                .filter(|n| n.kind == "ServiceAccount")
                .count(),
            1
        );
    }

    #[test]
    fn role_only_gives_a_role_but_no_service_account() {
        let cfg = cluster(
            "    - metadata: {name: app, namespace: kube-system}
      roleOnly: true
      wellKnownPolicies: {externalDNS: true}",
        );
        let a = analyze(&src(&[("cluster.yaml", &cfg)]));
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        assert!(service_accounts(&a).is_empty());
        assert!(a.graph.nodes.iter().all(|n| n.kind != "ServiceAccount"));
        node(
            &a,
            "Stack",
            "eksctl-c1-addon-iamserviceaccount-kube-system-app",
        );
    }

    #[test]
    fn an_attached_role_is_annotated_as_written_without_a_stack() {
        let cfg = cluster(
            "    - metadata: {name: app}
      attachRoleARN: arn:aws:iam::123456789012:role/existing",
        );
        let a = analyze(&src(&[("cluster.yaml", &cfg)]));
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        let sas = service_accounts(&a);
        assert_eq!(sas.len(), 1);
        assert_eq!(sas[0].key.namespace.as_deref(), Some("default"));
        assert_eq!(
            sas[0].body["metadata"]["annotations"][ROLE_ARN_ANNOTATION],
            "arn:aws:iam::123456789012:role/existing"
        );
        assert!(sas[0].refs.is_empty());
        assert_eq!(a.stacks[0].len(), 1, "only the cluster stack");
        assert!(a
            .graph
            .nodes
            .iter()
            .all(|n| !n.name.contains("iamserviceaccount")));
    }

    #[test]
    fn a_reference_to_a_missing_role_stack_is_an_error() {
        let cfg = cluster("    - metadata: {name: app}\n      roleOnly: true");
        let cm = "apiVersion: v1
kind: ConfigMap
metadata: {name: x, namespace: default}
data: {role: \"{{aws:iamserviceaccount/default/nope/output/Role1}}\"}
";
        let a = analyze(&src(&[("cluster.yaml", &cfg), ("cm.yaml", cm)]));
        assert!(a
            .diagnostics
            .iter()
            .any(|d| d.code == "E-ref" && d.message.contains("default/app")));
    }
}
