//! Snapshots of the VPC part of the cluster stack when the VPC is left to eksctl, compared against
//! eksctl's `pkg/cfn/builder/vpc_ipv4.go` (resources, logical ids, tags, NAT modes), `vpc.go`
//! (constants), `cluster.go` (`addResourcesForSecurityGroups`, `addResourcesForControlPlane`),
//! `pkg/vpc/vpc.go` (`SetSubnets`, `SplitInto8`) and the rendered fixture
//! `pkg/cfn/builder/testdata/vpc_private.json`. Deliberate differences: subnets and the
//! `SubnetsPublic`/`SubnetsPrivate` outputs follow the zone order (eksctl's follow Go map order),
//! and the default zones are the region's `a`, `b`, `c` rather than a random pick.

use serde_json::{json, Map, Value};

use super::super::render_cluster;
use super::{load, props};

const BASE: &str = "\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: vpc-test
  region: us-west-2
  version: \"1.33\"
managedNodeGroups:
  - name: private
    privateNetworking: true
  - name: zone-b
    availabilityZones: [us-west-2b]
";

/// The VPC part of the cluster stack: the network resources and security groups, the control
/// plane's `ResourcesVpcConfig`, and the outputs.
fn vpc_view(extra: &str) -> String {
    let cfg = load(&format!("{BASE}{extra}"));
    let stacks = render_cluster(&cfg).expect("renders");
    let cluster = &stacks[0];
    let resources: Map<String, Value> = cluster.template["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| {
            r["Type"]
                .as_str()
                .is_some_and(|t| t.starts_with("AWS::EC2::"))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let v = json!({
        "Description": cluster.template["Description"],
        "Resources": resources,
        "ControlPlane.ResourcesVpcConfig": props(cluster, "ControlPlane")["ResourcesVpcConfig"],
        "Outputs": cluster.template["Outputs"],
    });
    serde_json::to_string_pretty(&v).expect("serializable")
}

#[test]
fn default_vpc_snapshot() {
    snap!("vpc_default", vpc_view(""));
}

#[test]
fn custom_cidr_highly_available_nat_snapshot() {
    snap!(
        "vpc_cidr_ha_nat",
        vpc_view("vpc:\n  cidr: 10.10.0.0/16\n  nat:\n    gateway: HighlyAvailable\n")
    );
}

#[test]
fn nat_disabled_snapshot() {
    snap!(
        "vpc_nat_disabled",
        vpc_view("vpc:\n  nat:\n    gateway: Disable\n")
    );
}

#[test]
fn two_explicit_zones_snapshot() {
    snap!(
        "vpc_two_zones",
        vpc_view("availabilityZones: [us-west-2b, us-west-2d]\n")
    );
}

#[test]
fn node_groups_take_the_created_subnets_of_their_topology_and_zones() {
    let cfg = load(BASE);
    let stacks = render_cluster(&cfg).expect("renders");
    let private = props(&stacks[1], "ManagedNodeGroup")["Subnets"].clone();
    assert_eq!(
        private,
        json!({"Fn::Split": [",", {"Ref": "ClusterSubnetsPrivate"}]})
    );
    let zone_b = props(&stacks[2], "ManagedNodeGroup")["Subnets"].clone();
    assert_eq!(
        zone_b,
        json!([{"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "ClusterSubnetsPublic"}]}]}])
    );
    // The parameter is fed from the output the cluster stack exports under that name.
    let param = stacks[2]
        .parameters
        .iter()
        .find(|p| p.key == "ClusterSubnetsPublic")
        .expect("parameter");
    assert_eq!(
        param.source,
        super::ParameterSource::StackOutput {
            stack: "eksctl-vpc-test-cluster".into(),
            output: "SubnetsPublic".into()
        }
    );
    assert!(stacks[0]
        .exports()
        .contains(&"eksctl-vpc-test-cluster::SubnetsPublic".to_string()));
}

#[test]
fn control_plane_subnets_and_security_groups_follow_the_vpc_settings() {
    let cp = |extra: &str| {
        let stacks = render_cluster(&load(&format!("{BASE}{extra}"))).expect("renders");
        props(&stacks[0], "ControlPlane")["ResourcesVpcConfig"].clone()
    };
    let private_only = cp("vpc:\n  controlPlaneOnPrivateSubnets: true\n");
    assert_eq!(
        private_only["SubnetIds"],
        json!([{"Ref": "SubnetPrivateUSWEST2A"}, {"Ref": "SubnetPrivateUSWEST2B"},
            {"Ref": "SubnetPrivateUSWEST2C"}])
    );
    let given = cp(
        "vpc:\n  controlPlaneSubnetIDs: [subnet-1, subnet-2]\n  controlPlaneSecurityGroupIDs: [sg-1, sg-2]\n  clusterEndpoints: {privateAccess: true, publicAccess: false}\n  publicAccessCIDRs: [1.1.1.1/32]\n",
    );
    assert_eq!(given["SubnetIds"], json!(["subnet-1", "subnet-2"]));
    assert_eq!(given["SecurityGroupIds"], json!(["sg-1", "sg-2"]));
    assert_eq!(given["EndpointPrivateAccess"], json!(true));
    assert_eq!(given["EndpointPublicAccess"], json!(false));
    assert_eq!(given["PublicAccessCidrs"], json!(["1.1.1.1/32"]));
}

#[test]
fn every_vpc_refusal_is_reported_with_its_path() {
    let cfg = load(&format!(
        "{BASE}availabilityZones: [us-west-2a]\nvpc:\n  cidr: 10.0.0.0/8\n  nat:\n    gateway: Double\n"
    ));
    let errs = super::super::render_stacks(&cfg).expect_err("refused");
    let paths: Vec<String> = errs.iter().map(|e| e.path().to_string()).collect();
    assert_eq!(
        paths,
        [
            "vpc.nat.gateway",
            "availabilityZones",
            "vpc.cidr",
            // The zone-b group's zone is not one of the cluster's.
            "managedNodeGroups[1].availabilityZones[0]"
        ],
        "{errs:?}"
    );
}

#[test]
fn public_ssh_is_open_to_anywhere_on_both_ip_families() {
    let cfg = load(&format!(
        "{BASE}nodeGroups:\n  - name: public\n    ssh: {{allow: true, publicKeyName: ops}}\n"
    ));
    let stacks = render_cluster(&cfg).expect("renders");
    // Unmanaged groups come first, after the cluster stack.
    let rules = props(&stacks[1], "SG")["SecurityGroupIngress"].clone();
    let ssh: Vec<&Value> = rules
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["FromPort"] == 22)
        .collect();
    let text = "Allow SSH access to worker nodes in group public";
    assert_eq!(
        ssh,
        [
            &json!({"CidrIp": "0.0.0.0/0", "Description": text, "FromPort": 22, "IpProtocol": "tcp", "ToPort": 22}),
            &json!({"CidrIpv6": "::/0", "Description": text, "FromPort": 22, "IpProtocol": "tcp", "ToPort": 22}),
        ]
    );
}

#[test]
fn every_value_a_node_group_takes_from_the_cluster_stack_is_one_of_its_outputs() {
    let cfg = load(&format!(
        "{BASE}nodeGroups:\n  - name: self-managed\n  - name: private-self-managed\n    privateNetworking: true\n"
    ));
    let stacks = render_cluster(&cfg).expect("renders");
    let cluster = &stacks[0];
    let mut seen = Vec::new();
    for ng in &stacks[1..] {
        for p in &ng.parameters {
            if let super::ParameterSource::StackOutput { stack, output } = &p.source {
                assert_eq!(stack, &cluster.name);
                assert!(
                    cluster.has_output(output),
                    "{}: {output} is not an output of {}",
                    ng.name,
                    cluster.name
                );
                seen.push(output.clone());
            }
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen,
        [
            "CertificateAuthorityData",
            "ClusterSecurityGroupId",
            "Endpoint",
            "SecurityGroup",
            "SharedNodeSecurityGroup",
            "SubnetsPrivate",
            "SubnetsPublic",
            "VPC"
        ]
    );
}

const IPV6: &str = "\
kubernetesNetworkConfig:
  ipFamily: IPv6
iam:
  withOIDC: true
addons:
  - name: vpc-cni
  - name: coredns
  - name: kube-proxy
";

/// An IPv6 cluster's VPC, compared against eksctl's `pkg/cfn/builder/vpc_ipv6.go`
/// (`IPv6VPCResourceSet`: the Amazon-provided `IPv6CidrBlock`, `PublicSubnet<ZONE>` and
/// `PrivateSubnet<ZONE>` cut by `Fn::Cidr` into `2n + 2` blocks with `calculateDesiredMask`'s
/// host bits (13 for a /16 and 3 zones), the egress-only gateway, the single `NATGateway` with its
/// `EIP`, and the IPv4 and IPv6 default routes) and `vpc.go` (the logical ids). The control plane's
/// `KubernetesNetworkConfig` says `ipv6`. Deliberate difference: zone order, as for IPv4.
#[test]
fn ipv6_vpc_snapshot() {
    snap!("vpc_ipv6", vpc_view(IPV6));
    let cfg = load(&format!("{BASE}{IPV6}"));
    let stacks = render_cluster(&cfg).expect("renders");
    assert_eq!(
        props(&stacks[0], "ControlPlane")["KubernetesNetworkConfig"],
        json!({"IpFamily": "ipv6"})
    );
}

/// eksctl's IPv6 checks (`ValidateClusterConfig`), each at its field and all reported at once.
#[test]
fn ipv6_requirements_are_eksctls() {
    let cfg = load(&format!(
        "{BASE}kubernetesNetworkConfig:\n  ipFamily: ipv6\n  serviceIPv4CIDR: 10.100.0.0/16\nvpc:\n  nat:\n    gateway: Single\naddons:\n  - name: vpc-cni\nnodeGroups:\n  - name: self-managed\n"
    ));
    let errors = crate::render::render_stacks(&cfg).expect_err("refused");
    let got: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "kubernetesNetworkConfig.ipFamily: an IPv6 cluster needs the default core add-ons in `addons`; missing: coredns, kube-proxy (eksctl refuses this too)",
            "kubernetesNetworkConfig.ipFamily: an IPv6 cluster needs iam.withOIDC: true (eksctl refuses this too)",
            "kubernetesNetworkConfig.serviceIPv4CIDR: an IPv6 cluster has no service IPv4 CIDR (eksctl refuses this too)",
            "vpc.nat: an IPv6 cluster gets one NAT gateway for IPv4 egress; vpc.nat cannot be set (eksctl refuses this too)",
            "nodeGroups[0]: an unmanaged node group in an IPv6 cluster (its bootstrap needs the cluster's IPv6 service CIDR, which EKS assigns; use managedNodeGroups) is not rendered yet",
        ]
    );
}
