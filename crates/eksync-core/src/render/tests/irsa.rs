//! IRSA: the cluster's IAM OIDC provider and the role stacks of `iam.serviceAccounts`.
//!
//! Compared against eksctl's `pkg/cfn/builder/iam.go` (`IAMRoleResourceSet.AddAllResources`:
//! `Role1`, its output, `Policy1`), `pkg/cfn/builder/iam_helper.go` (`createWellKnownPolicies`:
//! policy names and which switch gives which), `pkg/cfn/builder/statement.go` (the statements),
//! `pkg/iam/oidc/api.go` (`CreateProvider`: audience `sts.amazonaws.com`; the trust policy's
//! `<issuer>:sub`/`<issuer>:aud` conditions) and `pkg/cfn/manager` (the stack name
//! `eksctl-<cluster>-addon-iamserviceaccount-<namespace>-<name>`).

use serde_json::{json, Value};

use super::{example, load, props, snapshot_view, variant, EXAMPLE};
use crate::render::{find_service_account_stack, render_cluster, RenderError, StackKind};

/// The provider and its outputs, as the cluster stack holds them.
fn oidc_view(template: &Value) -> String {
    let outputs = &template["Outputs"];
    let v = json!({
        "OIDCProvider": template["Resources"]["OIDCProvider"],
        "Outputs": {
            "OIDCIssuer": outputs["OIDCIssuer"],
            "OIDCProviderArn": outputs["OIDCProviderArn"],
        },
    });
    serde_json::to_string_pretty(&v).expect("serializable")
}

#[test]
fn with_oidc_renders_the_provider_in_the_cluster_stack() {
    let stacks = example();
    let cluster = &stacks[0];
    assert_eq!(
        cluster.resource_type("OIDCProvider"),
        Some("AWS::IAM::OIDCProvider")
    );
    assert!(cluster.has_output("OIDCProviderArn") && cluster.has_output("OIDCIssuer"));
    snap!("oidc_provider", oidc_view(&cluster.template));

    // Without withOIDC there is no provider.
    let without = render_cluster(&variant(
        json!({"iam": {"withOIDC": false, "serviceAccounts": null}}),
        json!({}),
    ))
    .expect("renders");
    assert_eq!(without[0].resource_type("OIDCProvider"), None);
    assert!(!without[0].has_output("OIDCProviderArn"));
}

#[test]
fn the_example_autoscaler_role_trusts_only_its_service_account() {
    let stacks = example();
    let s = find_service_account_stack(&stacks, "kube-system", "cluster-autoscaler")
        .expect("the cluster-autoscaler's role stack");
    assert_eq!(
        s.name,
        "eksctl-eks-test-jenkins-addon-iamserviceaccount-kube-system-cluster-autoscaler"
    );
    assert_eq!(
        s.kind,
        StackKind::ServiceAccount {
            namespace: "kube-system".into(),
            name: "cluster-autoscaler".into()
        }
    );
    assert_eq!(s.outputs, ["Role1"]);
    assert_eq!(s.resource_type("Role1"), Some("AWS::IAM::Role"));
    assert_eq!(
        s.resource_type("PolicyAutoScaling"),
        Some("AWS::IAM::Policy")
    );
    let trust = props(s, "Role1")["AssumeRolePolicyDocument"]["Fn::Sub"]
        .as_str()
        .expect("the trust policy text");
    let doc: Value = serde_json::from_str(trust).expect("the trust policy is JSON");
    assert_eq!(
        doc["Statement"][0]["Condition"]["StringEquals"],
        json!({
            "${ClusterOIDCIssuer}:aud": "sts.amazonaws.com",
            "${ClusterOIDCIssuer}:sub": "system:serviceaccount:kube-system:cluster-autoscaler",
        })
    );
    assert_eq!(
        doc["Statement"][0]["Principal"]["Federated"],
        "${ClusterOIDCProviderArn}"
    );
    assert_eq!(
        s.tags["alpha.eksctl.io/iamserviceaccount-name"],
        "kube-system/cluster-autoscaler"
    );
}

/// Every field of an entry eksync renders, and every well-known policy.
#[test]
fn a_service_account_stack_snapshot() {
    let cfg = variant(
        json!({"iam": {"serviceAccounts": [{
            "metadata": {"name": "everything", "namespace": "apps", "labels": {"team": "a"}},
            "attachPolicyARNs": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
            "attachPolicy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"}]},
            "wellKnownPolicies": {
                "autoScaler": true, "awsLoadBalancerController": true, "ebsCSIController": true,
                "efsCSIController": true, "externalDNS": true, "certManager": true,
                "imageBuilder": true
            },
            "permissionsBoundary": "arn:aws:iam::123456789012:policy/boundary",
            "roleName": "apps-everything",
            "tags": {"owner": "team-a"}
        }]}}),
        json!({}),
    );
    let stacks = render_cluster(&cfg).expect("renders");
    let s = find_service_account_stack(&stacks, "apps", "everything").expect("its stack");
    snap!("iamserviceaccount_apps_everything", snapshot_view(s));
    let ids: Vec<&str> = s.resources.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "Policy1",
            "PolicyAWSLoadBalancerController",
            "PolicyAutoScaling",
            "PolicyCertManagerChangeSet",
            "PolicyCertManagerGetChange",
            "PolicyCertManagerHostedZones",
            "PolicyEBSCSIController",
            "PolicyEFSCSIController",
            "PolicyExternalDNSChangeSet",
            "PolicyExternalDNSHostedZones",
            "Role1"
        ]
    );
}

#[test]
fn an_existing_role_needs_no_stack_and_irsa_needs_oidc() {
    let attached = variant(
        json!({"iam": {"serviceAccounts": [{
            "metadata": {"name": "app"},
            "attachRoleARN": "arn:aws:iam::123456789012:role/existing"
        }]}}),
        json!({}),
    );
    let stacks = render_cluster(&attached).expect("renders");
    assert_eq!(stacks.len(), 3, "no role stack for attachRoleARN");

    let no_oidc = variant(json!({"iam": {"withOIDC": null}}), json!({}));
    let err = render_cluster(&no_oidc).expect_err("refused");
    assert!(matches!(err, RenderError::NeedsOidc { .. }), "{err}");
    assert_eq!(err.path().to_string(), "iam.serviceAccounts[0]");
    // The example itself has withOIDC.
    assert!(load(EXAMPLE).with_oidc());
}
