//! The control plane's settings (logging, Secrets encryption, service CIDR, zonal shift, upgrade
//! policy, scaling tier, access configuration) and the access entry stacks.
//!
//! Compared against eksctl's `pkg/cfn/builder/cluster.go` (`addResourcesForControlPlane`:
//! `EncryptionConfig`, `Logging`, `KubernetesNetworkConfig`, `ZonalShiftConfig`, `AccessConfig`),
//! `pkg/cfn/builder/cloudwatch_logging.go` (`makeClusterLogging`), `pkg/cfn/builder/access_entry.go`
//! (`AccessEntryResourceSet`), its test data `pkg/cfn/builder/testdata/access_entry/{1,3,4}.json`
//! (the resource `AccessEntry` and its `Name` tag), `pkg/actions/accessentry/creator.go`
//! (`MakeStackName`) and eksctl's examples 11, 19, 40, 41, 45 and 46.

use serde_json::json;

use super::{load, props, snapshot_view, variant};
use crate::eksctl::accessentry_stack_name;
use crate::render::{find_access_entry_stack, find_cluster_stack, render_cluster, StackKind};

/// The example with every control plane setting of eksctl set.
fn all_settings() -> crate::eksctl::ClusterConfig {
    variant(
        json!({
            "cloudWatch": {"clusterLogging": {
                "enableTypes": ["audit", "authenticator", "controllerManager"],
                "logRetentionInDays": 60,
            }},
            "secretsEncryption": {
                "keyARN": "arn:aws:kms:us-west-2:000000000000:key/00000000-0000-0000-0000-000000000000"
            },
            "kubernetesNetworkConfig": {"serviceIPv4CIDR": "172.20.0.0/16"},
            "zonalShiftConfig": {"enabled": true},
            "upgradePolicy": {"supportType": "STANDARD"},
            "controlPlaneScalingConfig": {"tier": "tier-xl"},
            "accessConfig": {
                "authenticationMode": "API",
                "bootstrapClusterCreatorAdminPermissions": false,
            },
        }),
        json!({}),
    )
}

/// The cluster stack with every cluster-level setting eksync renders (on the reference example).
///
/// Compared against eksctl's `cluster.go`/`cloudwatch_logging.go` (property names and shapes:
/// `Logging.ClusterLogging.EnabledTypes[].Type`, `EncryptionConfig[].{Provider.KeyArn,
/// Resources: [secrets]}`, `KubernetesNetworkConfig.ServiceIpv4Cidr`, `ZonalShiftConfig.Enabled`
/// only when enabled, `AccessConfig`) and the CloudFormation schema of `AWS::EKS::Cluster` for
/// `UpgradePolicy.SupportType` and `ControlPlaneScalingConfig.Tier` (eksctl 0.231 sets both on
/// the cluster it creates). Differences from eksctl: none in this resource;
/// `logRetentionInDays` is absent because eksctl applies it through the CloudWatch Logs API, not
/// the template (the loader warns that eksync ignores it).
#[test]
fn cluster_stack_with_every_setting_snapshot() {
    let stacks = render_cluster(&all_settings()).expect("renders");
    let cluster = find_cluster_stack(&stacks).expect("the cluster stack");
    let cp = props(cluster, "ControlPlane");
    assert_eq!(
        cp["Logging"]["ClusterLogging"]["EnabledTypes"],
        json!([{"Type": "audit"}, {"Type": "authenticator"}, {"Type": "controllerManager"}])
    );
    assert_eq!(cp["EncryptionConfig"][0]["Resources"], json!(["secrets"]));
    assert_eq!(cp["AccessConfig"]["AuthenticationMode"], "API");
    assert_eq!(
        cp["AccessConfig"]["BootstrapClusterCreatorAdminPermissions"],
        false
    );
    snap!("cluster_stack_all_settings", snapshot_view(cluster));
}

#[test]
fn unset_settings_leave_the_control_plane_as_it_was() {
    let stacks = super::example();
    let cp = props(&stacks[0], "ControlPlane");
    for key in [
        "Logging",
        "EncryptionConfig",
        "ZonalShiftConfig",
        "UpgradePolicy",
        "ControlPlaneScalingConfig",
    ] {
        assert!(cp.get(key).is_none(), "{key} is set: {cp}");
    }
    // Zonal shift disabled is left out, as eksctl does.
    let off = render_cluster(&variant(
        json!({"zonalShiftConfig": {"enabled": false}}),
        json!({}),
    ))
    .expect("renders");
    assert!(props(&off[0], "ControlPlane")
        .get("ZonalShiftConfig")
        .is_none());
}

#[test]
fn a_lone_wildcard_log_type_enables_every_type() {
    for wildcard in ["*", "all"] {
        let stacks = render_cluster(&variant(
            json!({"cloudWatch": {"clusterLogging": {"enableTypes": [wildcard]}}}),
            json!({}),
        ))
        .expect("renders");
        let types: Vec<&str> = props(&stacks[0], "ControlPlane")["Logging"]["ClusterLogging"]
            ["EnabledTypes"]
            .as_array()
            .expect("types")
            .iter()
            .filter_map(|t| t["Type"].as_str())
            .collect();
        assert_eq!(
            types,
            [
                "api",
                "audit",
                "authenticator",
                "controllerManager",
                "scheduler"
            ],
            "{wildcard}"
        );
    }
}

/// eksctl's example 40's access entries (in `us-west-2`, cluster `access-entries-cluster`).
const ACCESS_ENTRIES: &str = r#"
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: access-entries-cluster
  region: us-west-2
vpc:
  id: vpc-0123456789abcdef0
  subnets:
    private:
      us-west-2a: { id: subnet-0aaaaaaaaaaaaaaa1 }
accessConfig:
  authenticationMode: API
  accessEntries:
    - principalARN: arn:aws:iam::111122223333:user/my-user-name
      type: STANDARD
      kubernetesGroups: [group1, group2]
    - principalARN: arn:aws:iam::111122223333:role/role-name-1
      kubernetesUsername: viewer
      accessPolicies:
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
          accessScope:
            type: namespace
            namespaces: [default, my-namespace, dev-*]
        - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy
          accessScope:
            type: cluster
    - principalARN: arn:aws:iam::111122223333:role/role-name-2
      type: EC2_LINUX
"#;

/// An access entry stack with two access policies, one scoped to namespaces.
///
/// Compared against eksctl's `access_entry.go` and `testdata/access_entry/3.json` (the resource
/// `AccessEntry` of type `AWS::EKS::AccessEntry` with `ClusterName`, `PrincipalArn`,
/// `KubernetesGroups`, `Username`, the policies with `PolicyArn` and `AccessScope.{Type,
/// Namespaces}`, and the `Name` tag `${AWS::StackName}/AccessEntry`), `creator.go`
/// (`MakeStackName`: base32 of the SHA-1 of the principal ARN) and `task.go` (the stack is created
/// with eksctl's default stack tags). Differences from eksctl: the template has a `Description`
/// (eksctl's access entry template has none), and the policies are under `AccessPolicies`, the
/// CloudFormation property name (eksctl's older test data spells it `Policies`, from an older
/// goformation; CloudFormation's schema and eksctl's current builder field are `AccessPolicies`).
#[test]
fn access_entry_stack_with_two_policies_snapshot() {
    let stacks = render_cluster(&load(ACCESS_ENTRIES)).expect("renders");
    // The cluster, then one stack per entry in file order.
    assert_eq!(stacks.len(), 4);
    let principal = "arn:aws:iam::111122223333:role/role-name-1";
    let s = find_access_entry_stack(&stacks, principal).expect("the entry's stack");
    assert_eq!(
        s.kind,
        StackKind::AccessEntry {
            principal_arn: principal.into()
        }
    );
    assert_eq!(
        s.name,
        accessentry_stack_name("access-entries-cluster", principal)
    );
    assert_eq!(
        s.resources,
        [(
            "AccessEntry".to_string(),
            "AWS::EKS::AccessEntry".to_string()
        )]
    );
    assert!(s.outputs.is_empty() && s.parameters.is_empty());
    snap!("access_entry_two_policies", snapshot_view(s));

    // A node entry carries its type and nothing else.
    let node = find_access_entry_stack(&stacks, "arn:aws:iam::111122223333:role/role-name-2")
        .expect("the node entry's stack");
    assert_eq!(
        props(node, "AccessEntry"),
        &json!({
            "ClusterName": "access-entries-cluster",
            "PrincipalArn": "arn:aws:iam::111122223333:role/role-name-2",
            "Tags": [{"Key": "Name", "Value": {"Fn::Sub": "${AWS::StackName}/AccessEntry"}}],
            "Type": "EC2_LINUX",
        })
    );
}

#[test]
fn access_entry_stack_names_hash_the_principal_like_eksctl() {
    // base32(sha1("arn:aws:iam::111122223333:role/role-1")), computed independently.
    assert_eq!(
        accessentry_stack_name("cluster", "arn:aws:iam::111122223333:role/role-1"),
        "eksctl-cluster-accessentry-AGJ6A7BJC5H4IT6QWP3RWI6UFFBSR62E"
    );
    // Different principals, different stacks.
    assert_ne!(
        accessentry_stack_name("c", "arn:aws:iam::1:role/a"),
        accessentry_stack_name("c", "arn:aws:iam::1:role/b")
    );
}

#[test]
fn a_repeated_principal_is_one_stack() {
    let text = ACCESS_ENTRIES.replace("role/role-name-2", "role/role-name-1");
    let stacks = render_cluster(&load(&text)).expect("renders");
    assert_eq!(stacks.len(), 3);
}
