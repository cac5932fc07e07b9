//! The VPC eksctl creates, as eksync renders it into the cluster stack, created by a real
//! CloudFormation implementation (moto) with each NAT mode. moto's CloudFormation cannot create an
//! EKS cluster (`AWS::EKS::Cluster`), so the stack is created without the control plane and what
//! names it; every network resource of the rendered template is created as rendered, and the test
//! checks each reached CREATE_COMPLETE with the type the template gave it, and the subnet outputs
//! the node group stacks import (in zone order). (The IRSA role stack and the OIDC provider run on
//! moto in `e2e_kube.rs`, through the whole binary.)
//!
//! Not here: the dual-stack VPC of an IPv6 cluster. Like eksctl's, its subnets are cut by `Fn::Cidr`
//! at deploy time (the IPv6 block is only known then), and moto 5.2.5's CloudFormation has no
//! `Fn::Cidr`; its shape is pinned by the `vpc_ipv6` snapshot.

mod support;

use std::collections::BTreeMap;

use serde_json::{json, Value};
use support::e2e::{create_stack, physical_ids};
use support::moto::moto;
use support::scenario::{out_of_band, OutOfBand};

/// The rendered stacks of one ClusterConfig.
fn render(config: &str) -> Vec<eksync::core::render::RenderedStack> {
    let src = eksync::core::load::Source {
        files: vec![eksync::core::load::SourceFile {
            path: "cluster/cluster.yaml".into(),
            bytes: config.as_bytes().to_vec(),
        }],
        ..Default::default()
    };
    let a = eksync::core::analysis::analyze(&src);
    assert!(!a.has_errors(), "{:#?}", a.diagnostics);
    a.stacks[0].clone()
}

/// The cluster stack's template without what moto cannot create (the control plane, its service
/// role and policies, the OIDC provider) and without the outputs that name them.
fn network_part(template: &Value) -> Value {
    let mut t = template.clone();
    let resources = t["Resources"].as_object_mut().expect("resources");
    resources.retain(|_, r| {
        r["Type"]
            .as_str()
            .is_some_and(|ty| ty.starts_with("AWS::EC2::"))
    });
    let kept: Vec<String> = resources.keys().cloned().collect();
    // Outputs and security-group rules may only name kept resources.
    fn names_only(v: &Value, kept: &[String]) -> bool {
        match v {
            Value::Object(m) => {
                let named = m
                    .get("Ref")
                    .and_then(Value::as_str)
                    .or_else(|| m.get("Fn::GetAtt").and_then(|a| a[0].as_str()));
                if let Some(n) = named {
                    if !n.starts_with("AWS::") && !kept.iter().any(|k| k == n) {
                        return false;
                    }
                }
                m.values().all(|x| names_only(x, kept))
            }
            Value::Array(a) => a.iter().all(|x| names_only(x, kept)),
            _ => true,
        }
    }
    let all = t["Resources"].clone();
    let resources = t["Resources"].as_object_mut().expect("resources");
    resources.retain(|_, r| names_only(r, &kept));
    if let Some(outputs) = t["Outputs"].as_object_mut() {
        outputs.retain(|_, o| names_only(o, &kept));
    }
    // Parameters only the removed resources used would be unresolved.
    if let Some(p) = t.get_mut("Parameters") {
        *p = json!({});
    }
    assert!(
        all.as_object().is_some_and(|a| a.contains_key("VPC")),
        "the rendered stack has the VPC"
    );
    t
}

/// The stack's resources by logical id: (type, status).
async fn resources(oob: &OutOfBand, stack: &str) -> BTreeMap<String, (String, String)> {
    let res = oob
        .cloudformation
        .describe_stack_resources()
        .stack_name(stack)
        .send()
        .await
        .expect("describe resources");
    res.stack_resources()
        .iter()
        .map(|r| {
            (
                r.logical_resource_id().unwrap_or_default().to_string(),
                (
                    r.resource_type().unwrap_or_default().to_string(),
                    r.resource_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                ),
            )
        })
        .collect()
}

async fn outputs(oob: &OutOfBand, stack: &str) -> BTreeMap<String, String> {
    let d = oob
        .cloudformation
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .expect("describe stack");
    d.stacks()[0]
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect()
}

/// Creates the network part of `config`'s cluster stack and checks every resource and the subnet
/// outputs; returns the resources by type.
async fn create_network(oob: &OutOfBand, config: &str) -> BTreeMap<String, usize> {
    let stacks = render(config);
    let cluster = &stacks[0];
    let template = network_part(&cluster.template);
    create_stack(oob, &cluster.name, &template).await;
    let created = resources(oob, &cluster.name).await;
    let wanted = template["Resources"].as_object().expect("resources");
    assert_eq!(
        created.keys().collect::<Vec<_>>(),
        wanted.keys().collect::<Vec<_>>(),
        "every rendered network resource is created"
    );
    for (id, (ty, status)) in &created {
        assert_eq!(ty, wanted[id]["Type"].as_str().unwrap_or_default(), "{id}");
        assert_eq!(status, "CREATE_COMPLETE", "{id}");
    }
    let ids = physical_ids(oob, &cluster.name).await;
    let out = outputs(oob, &cluster.name).await;
    for (output, prefix) in [("SubnetsPublic", "Public"), ("SubnetsPrivate", "Private")] {
        let listed: Vec<&str> = out[output].split(',').collect();
        // The zone order of the config: a, b, c.
        let expected: Vec<&str> = ["USWEST2A", "USWEST2B", "USWEST2C"]
            .iter()
            .map(|z| {
                ids.iter()
                    .find(|(id, _)| {
                        id.ends_with(z)
                            && (id.starts_with(&format!("Subnet{prefix}"))
                                || id.starts_with(&format!("{prefix}Subnet")))
                            && !id.contains("Route")
                    })
                    .map(|(_, phys)| phys.as_str())
                    .unwrap_or_else(|| panic!("no {prefix} subnet in {z}: {ids:#?}"))
            })
            .collect();
        assert_eq!(listed, expected, "{output}");
    }
    assert_eq!(out["VPC"], ids["VPC"]);
    let mut by_type = BTreeMap::new();
    for (ty, _) in created.values() {
        *by_type.entry(ty.clone()).or_insert(0) += 1;
    }
    by_type
}

const BASE: &str = "\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: net
  region: us-west-2
  version: \"1.33\"
availabilityZones: [us-west-2a, us-west-2b, us-west-2c]
";

#[tokio::test]
async fn the_vpc_eksctl_creates_is_created_as_rendered_for_each_nat_mode() {
    for (nat, gateways) in [("Single", 1), ("HighlyAvailable", 3), ("Disable", 0)] {
        let (_guard, server) = moto().await;
        let oob = out_of_band(&server.url);
        let config = format!("{BASE}vpc:\n  cidr: 10.20.0.0/16\n  nat:\n    gateway: {nat}\n");
        let by_type = create_network(&oob, &config).await;
        assert_eq!(by_type["AWS::EC2::VPC"], 1, "{nat}");
        assert_eq!(by_type["AWS::EC2::Subnet"], 6, "{nat}");
        // One public route table and one per zone for the private subnets.
        assert_eq!(by_type["AWS::EC2::RouteTable"], 4, "{nat}");
        assert_eq!(
            by_type.get("AWS::EC2::NatGateway").copied().unwrap_or(0),
            gateways,
            "{nat}"
        );
        assert_eq!(
            by_type.get("AWS::EC2::EIP").copied().unwrap_or(0),
            gateways,
            "{nat}"
        );
    }
}
