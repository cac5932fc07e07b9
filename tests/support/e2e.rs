//! Shared end-to-end setup: a network in moto, a copy of `examples-repo/` with its ids, the cluster
//! stack stand-in (moto cannot create an EKS cluster inside a stack; the test creates it through
//! EKS's API), and helpers to edit the copy and read results.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

use super::moto::MotoServer;
use super::scenario::OutOfBand;

pub const CLUSTER_STACK: &str = "eksctl-eks-test-jenkins-cluster";
pub const STATIC_STACK: &str = "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins";
pub const SPOT_STACK: &str = "eksctl-eks-test-jenkins-nodegroup-ng-test-jenkins-spot";

pub struct Network {
    pub vpc: String,
    pub subnets: Vec<String>,
    pub control_plane_sg: String,
    pub cluster_sg: String,
}

pub async fn physical_ids(
    oob: &OutOfBand,
    stack: &str,
) -> std::collections::BTreeMap<String, String> {
    let res = oob
        .cloudformation
        .describe_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .expect("describe resources");
    res.stack_resources()
        .iter()
        .filter_map(|r| {
            Some((
                r.logical_resource_id()?.to_string(),
                r.physical_resource_id()?.to_string(),
            ))
        })
        .collect()
}

pub async fn create_stack(oob: &OutOfBand, name: &str, template: &Value) {
    oob.cloudformation
        .create_stack()
        .stack_name(name)
        .template_body(template.to_string())
        .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
}

/// A VPC with three subnets and two security groups, like the network a user already has.
pub async fn network(oob: &OutOfBand) -> Network {
    let subnet = |cidr: &str, az: &str| json!({"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": cidr, "AvailabilityZone": az}});
    let sg = |d: &str| json!({"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": d, "VpcId": {"Ref": "Vpc"}}});
    let template = json!({
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "192.168.0.0/16"}},
            "SubnetA": subnet("192.168.0.0/19", "us-west-2a"),
            "SubnetB": subnet("192.168.32.0/19", "us-west-2b"),
            "SubnetC": subnet("192.168.64.0/19", "us-west-2c"),
            "ControlPlaneSg": sg("control plane"),
            "ClusterSg": sg("cluster"),
        }
    });
    create_stack(oob, "test-network", &template).await;
    let ids = physical_ids(oob, "test-network").await;
    Network {
        vpc: ids["Vpc"].clone(),
        subnets: vec![
            ids["SubnetA"].clone(),
            ids["SubnetB"].clone(),
            ids["SubnetC"].clone(),
        ],
        control_plane_sg: ids["ControlPlaneSg"].clone(),
        cluster_sg: ids["ClusterSg"].clone(),
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A copy of the example with the test network's ids and the observed cluster stack.
pub fn repo(dir: &Path, net: &Network) -> PathBuf {
    let root = dir.join("repo");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples-repo"),
        &root,
    );
    let path = root.join("cluster/cluster.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("vpc-0123456789abcdef0", &net.vpc)
        .replace("sg-0123456789abcdef0", &net.control_plane_sg)
        .replace("subnet-0aaaaaaaaaaaaaaa1", &net.subnets[0])
        .replace("subnet-0bbbbbbbbbbbbbbb2", &net.subnets[1])
        .replace("subnet-0ccccccccccccccc3", &net.subnets[2])
        .replace(
            "  name: eks-test-jenkins\n",
            "  name: eks-test-jenkins\n  annotations:\n    eksync.io/cluster-stack: observe\n",
        );
    std::fs::write(&path, text).unwrap();
    root
}

pub fn edit(repo: &Path, file: &str, from: &str, to: &str) {
    let path = repo.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

/// Stands in for the EKS control plane's stack: eksync's own rendering, with the control plane's
/// attributes as literals (moto cannot create an EKS cluster).
pub async fn cluster_stack(oob: &OutOfBand, repo: &Path, net: &Network) {
    let src = eksync::adapters::fs::read_dir(repo, &Default::default()).unwrap();
    let a = eksync::core::analysis::analyze(&src);
    assert!(!a.has_errors(), "{:#?}", a.diagnostics);
    let mut template = a.stacks[0][0].template.clone();
    assert_eq!(a.stacks[0][0].name, CLUSTER_STACK);
    template["Resources"]
        .as_object_mut()
        .unwrap()
        .remove("ControlPlane");
    // moto's CloudFormation has no AWS::IAM::OIDCProvider either: the provider is created
    // through IAM's API and its ARN stands in for the resource's Ref.
    let issuer = "https://oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF";
    let provider = if template["Resources"]
        .as_object_mut()
        .unwrap()
        .remove("OIDCProvider")
        .is_some()
    {
        oob.iam
            .create_open_id_connect_provider()
            .url(issuer)
            .client_id_list("sts.amazonaws.com")
            .thumbprint_list("9e99a48a9960b14926bb7f3b02e22da2b0ab7280")
            .send()
            .await
            .expect("create the OIDC provider")
            .open_id_connect_provider_arn()
            .unwrap_or_default()
            .to_string()
    } else {
        String::new()
    };
    fn literal(v: &mut Value, sg: &str, provider: &str) {
        match v {
            Value::Object(m) => {
                if m.get("Ref") == Some(&json!("OIDCProvider")) {
                    *v = json!(provider);
                    return;
                }
                if let Some(Value::Array(att)) = m.get("Fn::GetAtt") {
                    if att.first() == Some(&json!("ControlPlane")) {
                        *v = json!(match att[1].as_str().unwrap() {
                            "Arn" => "arn:aws:eks:us-west-2:123456789012:cluster/eks-test-jenkins",
                            "CertificateAuthorityData" => "Y2VydGlmaWNhdGU=",
                            "ClusterSecurityGroupId" => sg,
                            "Endpoint" => "https://0123456789.gr7.us-west-2.eks.amazonaws.com",
                            "OpenIdConnectIssuerUrl" => {
                                "https://oidc.eks.us-west-2.amazonaws.com/id/0123456789ABCDEF"
                            }
                            other => panic!("unexpected attribute {other}"),
                        });
                        return;
                    }
                }
                for x in m.values_mut() {
                    literal(x, sg, provider);
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| literal(x, sg, provider)),
            _ => {}
        }
    }
    literal(&mut template, &net.cluster_sg, &provider);
    create_stack(oob, CLUSTER_STACK, &template).await;
    // The control plane itself, through EKS's API (its service CIDR feeds the node groups).
    oob.eks
        .create_cluster()
        .name("eks-test-jenkins")
        .role_arn("arn:aws:iam::123456789012:role/eks-service-role")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .set_subnet_ids(Some(net.subnets.clone()))
                .build(),
        )
        .send()
        .await
        .expect("create the EKS cluster");
}

pub fn item<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no item {name}"))
}

pub async fn set_up(server: &MotoServer, dir: &Path) -> (OutOfBand, PathBuf) {
    let oob = super::scenario::out_of_band(&server.url);
    let net = network(&oob).await;
    let repo = repo(dir, &net);
    cluster_stack(&oob, &repo, &net).await;
    (oob, repo)
}

pub async fn spot_asg(oob: &OutOfBand) -> aws_sdk_autoscaling::types::AutoScalingGroup {
    let name = physical_ids(oob, SPOT_STACK).await["NodeGroup"].clone();
    oob.autoscaling
        .describe_auto_scaling_groups()
        .auto_scaling_group_names(&name)
        .send()
        .await
        .unwrap()
        .auto_scaling_groups()[0]
        .clone()
}
