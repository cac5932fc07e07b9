//! Fargate: eksctl's pod execution role in the cluster stack and the desired profiles.
//!
//! Compared against eksctl's `pkg/cfn/builder/fargate.go` (`addResourcesForFargate`: the
//! `FargatePodExecutionRole` logical id, its trust of `eks-fargate-pods` restricted by
//! `aws:SourceArn` to `fargateprofile/<cluster>/*`, `AmazonEKSFargatePodExecutionRolePolicy`, the
//! permissions boundary, the exported `FargatePodExecutionRoleARN` output, and the given ARN as
//! that output when `iam.fargatePodExecutionRoleARN` is set) and `pkg/fargate/create.go`
//! (`createRequest`). Differences: eksctl writes the account id and region it looked up into the
//! SourceArn; eksync writes `${AWS::AccountId}` and `${AWS::Region}` (the stack's own, the same
//! values, without a lookup). A profile without subnets gets the cluster stack's
//! `SubnetsPrivate` (eksctl leaves them out and EKS picks the private subnets), so the plan can
//! compare them.

use serde_json::{json, Value};

use super::load;
use crate::awsdiff::{EksObjectSpec, ParamValue};
use crate::render::{eks_objects, render_cluster, render_stacks};

const CONFIG: &str = r#"
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: cluster-16
  region: ap-northeast-1
nodeGroups:
  - name: ng-1
    instanceType: m5.large
    desiredCapacity: 1
fargateProfiles:
  - name: fp-default
    selectors:
      - namespace: default
      - namespace: kube-system
  - name: fp-dev
    selectors:
      - namespace: dev
        labels:
          env: dev
          checks: passed
    tags:
      env: dev
      name: fp-dev
"#;

fn role_view(template: &Value) -> String {
    let v = json!({
        "FargatePodExecutionRole": template["Resources"]["FargatePodExecutionRole"],
        "Outputs": {"FargatePodExecutionRoleARN": template["Outputs"]["FargatePodExecutionRoleARN"]},
    });
    serde_json::to_string_pretty(&v).expect("serializable")
}

/// Example 16 (`examples/16-fargate-profile.yaml`): the role and its output in the cluster stack.
#[test]
fn fargate_profiles_add_the_pod_execution_role_to_the_cluster_stack() {
    let stacks = render_cluster(&load(CONFIG)).expect("renders");
    let cluster = &stacks[0];
    assert_eq!(
        cluster.resource_type("FargatePodExecutionRole"),
        Some("AWS::IAM::Role")
    );
    snap!("fargate_pod_execution_role", role_view(&cluster.template));

    // A given role: no role resource, its ARN as the output, and the profiles use it directly.
    let given = CONFIG.replace(
        "fargateProfiles:",
        "iam:\n  fargatePodExecutionRoleARN: arn:aws:iam::111122223333:role/fargate\nfargateProfiles:",
    );
    let cfg = load(&given);
    let stacks = render_cluster(&cfg).expect("renders");
    assert_eq!(stacks[0].resource_type("FargatePodExecutionRole"), None);
    assert_eq!(
        stacks[0].template["Outputs"]["FargatePodExecutionRoleARN"]["Value"],
        json!("arn:aws:iam::111122223333:role/fargate")
    );
    let EksObjectSpec::FargateProfile(f) = &eks_objects(&cfg)[0].spec else {
        panic!("a Fargate profile")
    };
    assert_eq!(
        f.pod_execution_role_arn,
        ParamValue::Literal("arn:aws:iam::111122223333:role/fargate".into())
    );

    // No profiles, no role.
    let without = CONFIG.split("fargateProfiles:").next().unwrap_or_default();
    let none = render_cluster(&load(without)).expect("renders");
    assert_eq!(none[0].resource_type("FargatePodExecutionRole"), None);
    assert!(!none[0].has_output("FargatePodExecutionRoleARN"));
}

/// The desired profiles of example 16, as `CreateFargateProfile` will be asked (eksctl's
/// `pkg/fargate/create.go`): values from the cluster stack stay references until apply.
#[test]
fn example_16_profiles() {
    let objects = eks_objects(&load(CONFIG));
    let views: Vec<Value> = objects.iter().map(|o| o.preview().0).collect();
    snap!(
        "fargate_profiles_example_16",
        serde_json::to_string_pretty(&views).expect("serializable")
    );
    assert_eq!(
        objects[1].node_id(),
        "aws/cluster-16/fargate-profile/fp-dev"
    );
    assert_eq!(objects[0].dependencies(), ["eksctl-cluster-16-cluster"]);
    // A profile's own subnets and role are used as given.
    let own = CONFIG.replace(
        "  - name: fp-dev\n",
        "  - name: fp-dev\n    podExecutionRoleARN: arn:aws:iam::111122223333:role/dev\n    subnets: [subnet-1, subnet-2]\n",
    );
    let objects = eks_objects(&load(&own));
    assert!(objects[1].dependencies().is_empty());
}

#[test]
fn a_profile_needs_private_subnets() {
    let public_only = r#"
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: c, region: us-west-2}
vpc:
  id: vpc-0123456789abcdef0
  subnets:
    public:
      us-west-2a: {id: subnet-0ccccccccccccccc3}
fargateProfiles:
  - name: fp
    selectors: [{namespace: default}]
"#;
    let errors = render_stacks(&load(public_only)).expect_err("refused");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].path().to_string(), "fargateProfiles[0].subnets");
    // With its own subnets it renders.
    let own = public_only.replace(
        "selectors: [{namespace: default}]",
        "selectors: [{namespace: default}]\n    subnets: [subnet-0ccccccccccccccc3]",
    );
    assert!(render_stacks(&load(&own)).is_ok());
}
