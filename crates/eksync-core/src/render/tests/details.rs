//! Table tests of rendering details: Spot vs on-demand, taints, label and discovery tags, managed
//! groups, IAM policies, subnet selection and what is refused.

use serde_json::{json, Value};

use super::{asg_tags, example, props, user_data_text, variant};
use crate::render::*;

#[test]
fn spot_groups_get_a_mixed_instances_policy_and_static_groups_a_launch_template() {
    let stacks = example();
    let (static_ng, spot) = (&stacks[1], &stacks[2]);
    let p = props(static_ng, "NodeGroup");
    assert!(p.get("MixedInstancesPolicy").is_none());
    assert_eq!(
        p["LaunchTemplate"]["Version"]["Fn::GetAtt"][1],
        "LatestVersionNumber"
    );
    assert_eq!(
        (&p["MinSize"], &p["MaxSize"], p.get("DesiredCapacity")),
        (&json!("1"), &json!("1"), None)
    );
    let lt = &props(static_ng, "NodeGroupLaunchTemplate")["LaunchTemplateData"];
    assert_eq!(lt["InstanceType"], "t3.large");

    let p = props(spot, "NodeGroup");
    assert!(p.get("LaunchTemplate").is_none());
    let m = &p["MixedInstancesPolicy"];
    assert_eq!(
        m["InstancesDistribution"],
        json!({"OnDemandBaseCapacity": "0", "OnDemandPercentageAboveBaseCapacity": "0",
            "SpotAllocationStrategy": "capacity-optimized"})
    );
    assert_eq!(
        m["LaunchTemplate"]["Overrides"],
        json!([{"InstanceType": "m5.large"}, {"InstanceType": "m5a.large"},
            {"InstanceType": "m4.large"}])
    );
    assert_eq!(
        (&p["MinSize"], &p["MaxSize"], p.get("DesiredCapacity")),
        (&json!("0"), &json!("5"), None)
    );
    let lt = &props(spot, "NodeGroupLaunchTemplate")["LaunchTemplateData"];
    assert_eq!(lt["InstanceType"], "m5.large");
}

#[test]
fn labels_and_taints_reach_the_kubelet_and_the_autoscaler_tags() {
    let stacks = example();
    let spot = &stacks[2];
    let text = user_data_text(spot);
    assert!(
        text.contains(
            "\"--node-labels=alpha.eksctl.io/cluster-name=eks-test-jenkins,\
alpha.eksctl.io/nodegroup-name=ng-test-jenkins-spot,intent=apps,lifecycle=Ec2Spot\""
        ),
        "{text}"
    );
    assert!(text.contains("\"--register-with-taints=spotInstance=true:PreferNoSchedule\""));

    let tags = asg_tags(spot);
    let has = |k: &str, v: &str| tags.contains(&(k.to_string(), v.to_string()));
    assert!(has("k8s.io/cluster-autoscaler/enabled", "true"));
    assert!(has("k8s.io/cluster-autoscaler/eks-test-jenkins", "owned"));
    assert!(has(
        "k8s.io/cluster-autoscaler/node-template/label/lifecycle",
        "Ec2Spot"
    ));
    assert!(has(
        "k8s.io/cluster-autoscaler/node-template/label/intent",
        "apps"
    ));
    assert!(has(
        "k8s.io/cluster-autoscaler/node-template/taint/spotInstance",
        "true:PreferNoSchedule"
    ));
    assert!(has("kubernetes.io/cluster/eks-test-jenkins", "owned"));
    assert!(has("Name", "eks-test-jenkins-ng-test-jenkins-spot-Node"));
    let mut keys: Vec<&String> = tags.iter().map(|(k, _)| k).collect();
    let sorted = {
        let mut s = keys.clone();
        s.sort();
        s
    };
    assert_eq!(keys, sorted, "ASG tags are sorted by key");
    keys.dedup();
    assert_eq!(keys.len(), tags.len());

    // The static group has the autoScaler policy: discovery tags, but no node-template tags.
    let tags = asg_tags(&stacks[1]);
    assert!(tags
        .iter()
        .any(|(k, _)| k == "k8s.io/cluster-autoscaler/enabled"));
    assert!(!tags.iter().any(|(k, _)| k.contains("node-template")));
    assert!(!user_data_text(&stacks[1]).contains("register-with-taints"));
}

#[test]
fn discovery_tags_follow_the_autoscaler_policy_or_propagate_asg_tags() {
    // (autoScaler, propagateASGTags) -> discovery tags, node-template tags
    let cases = [
        (json!(true), json!(null), true, false),
        (json!(false), json!(null), false, false),
        (json!(false), json!(true), true, true),
        (json!(null), json!(false), false, false),
    ];
    for (auto, propagate, discovery, template) in cases {
        let cfg = variant(
            json!({}),
            json!({"iam": {"withAddonPolicies": {"autoScaler": auto}},
                "propagateASGTags": propagate}),
        );
        let stacks = render_cluster(&cfg).expect("renders");
        let tags = asg_tags(&stacks[1]);
        assert_eq!(
            tags.iter()
                .any(|(k, _)| k == "k8s.io/cluster-autoscaler/enabled"),
            discovery,
            "{auto} {propagate}"
        );
        assert_eq!(
            tags.iter()
                .any(|(k, _)| k.contains("/node-template/label/lifecycle")),
            template,
            "{auto} {propagate}"
        );
    }
}

#[test]
fn desired_capacity_is_left_to_the_autoscaler_when_it_owns_the_group() {
    // (autoScaler, propagateASGTags, desiredCapacity) -> DesiredCapacity in the template
    let cases = [
        (json!(false), json!(null), json!(2), Some(json!("2"))),
        (json!(false), json!(null), json!(null), None),
        (json!(true), json!(null), json!(2), None),
        (json!(false), json!(true), json!(2), None),
    ];
    for (auto, propagate, desired, want) in cases {
        let cfg = variant(
            json!({}),
            json!({"iam": {"withAddonPolicies": {"autoScaler": auto}},
                "propagateASGTags": propagate, "desiredCapacity": desired,
                "minSize": 1, "maxSize": 4}),
        );
        let stacks = render_cluster(&cfg).expect("renders");
        let p = props(&stacks[1], "NodeGroup");
        assert_eq!(
            p.get("DesiredCapacity").cloned(),
            want,
            "{auto} {propagate} {desired}"
        );
        assert_eq!((&p["MinSize"], &p["MaxSize"]), (&json!("1"), &json!("4")));
    }
}

#[test]
fn taints_in_both_forms_and_bad_effects() {
    let cfg = variant(json!({}), json!({"taints": {"dedicated": "ci:NoExecute"}}));
    let stacks = render_cluster(&cfg).expect("legacy map form renders");
    assert!(user_data_text(&stacks[1]).contains("--register-with-taints=dedicated=ci:NoExecute"));

    let cases = [
        (
            json!([{"key": "a", "effect": "NoSchedulee"}]),
            "nodeGroups[0].taints[0].effect",
        ),
        (json!({"b": "x:Never"}), "nodeGroups[0].taints.b"),
    ];
    for (taints, path) in cases {
        let err = render_cluster(&variant(json!({}), json!({ "taints": taints })))
            .expect_err("bad effect");
        match err {
            RenderError::InvalidTaintEffect { path: p, .. } => assert_eq!(p.to_string(), path),
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn managed_groups_render_capacity_type_labels_and_eks_taints() {
    // (spot, instance type) -> CapacityType, AmiType
    let cases = [
        (json!(true), "m5.large", "SPOT", "AL2023_x86_64_STANDARD"),
        (
            json!(false),
            "m6g.large",
            "ON_DEMAND",
            "AL2023_ARM_64_STANDARD",
        ),
        (
            json!(null),
            "g5.xlarge",
            "ON_DEMAND",
            "AL2023_x86_64_NVIDIA",
        ),
    ];
    for (spot, itype, capacity, ami) in cases {
        let cfg = variant(
            json!({"managedNodeGroups": [{
                "name": "mng", "spot": spot, "instanceTypes": [itype], "minSize": 0, "maxSize": 3,
                "labels": {"role": "batch"}, "privateNetworking": true,
                "taints": [{"key": "batch", "value": "yes", "effect": "NoExecute"},
                           {"key": "gpu", "effect": "PreferNoSchedule"}]}]}),
            json!({}),
        );
        let stacks = render_cluster(&cfg).expect("renders");
        // The cluster, the example's two groups, this one, then the autoscaler's IRSA role.
        assert_eq!(stacks.len(), 5);
        let m = &stacks[3];
        assert_eq!(m.name, "eksctl-eks-test-jenkins-nodegroup-mng");
        assert_eq!(m.tags[tags::NODEGROUP_TYPE], "managed");
        assert_eq!(
            m.resource_type("ManagedNodeGroup"),
            Some("AWS::EKS::Nodegroup")
        );
        let p = props(m, "ManagedNodeGroup");
        assert_eq!(p["CapacityType"], capacity, "{spot}");
        assert_eq!(p["AmiType"], ami, "{itype}");
        assert_eq!(p["InstanceTypes"], json!([itype]));
        assert_eq!(
            p["ScalingConfig"],
            json!({"DesiredSize": 0, "MaxSize": 3, "MinSize": 0})
        );
        assert_eq!(p["Labels"]["role"], "batch");
        assert_eq!(
            p["Taints"],
            json!([{"Effect": "NO_EXECUTE", "Key": "batch", "Value": "yes"},
                   {"Effect": "PREFER_NO_SCHEDULE", "Key": "gpu"}])
        );
        assert_eq!(
            p["NodeRole"],
            json!({"Fn::GetAtt": ["NodeInstanceRole", "Arn"]})
        );
        assert_eq!(p["Subnets"].as_array().map(Vec::len), Some(3));
    }
}

fn policy_names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|p| match p {
            Value::String(s) => s.clone(),
            other => other["Fn::Sub"]
                .as_str()
                .and_then(|s| s.rsplit('/').next())
                .unwrap_or_default()
                .to_string(),
        })
        .collect()
}

#[test]
fn attach_policy_arns_replace_the_default_managed_policies() {
    let custom = "arn:aws:iam::111122223333:policy/Custom";
    let ecr = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
    // (cluster iam, node iam, managed) -> ManagedPolicyArns
    let cases: Vec<(Value, Value, bool, Vec<&str>)> = vec![
        (
            json!({}),
            json!({}),
            false,
            vec![
                "AmazonEC2ContainerRegistryReadOnly",
                "AmazonEKSWorkerNodePolicy",
                "AmazonEKS_CNI_Policy",
                "AmazonSSMManagedInstanceCore",
            ],
        ),
        (
            json!({"withOIDC": true}),
            json!({}),
            false,
            vec![
                "AmazonEC2ContainerRegistryReadOnly",
                "AmazonEKSWorkerNodePolicy",
                "AmazonEKS_CNI_Policy",
                "AmazonSSMManagedInstanceCore",
            ],
        ),
        (
            json!({}),
            json!({"attachPolicyARNs": [custom]}),
            false,
            vec![custom, "AmazonEC2ContainerRegistryReadOnly"],
        ),
        (
            json!({}),
            json!({"attachPolicyARNs": [custom, ecr]}),
            false,
            vec![custom, ecr],
        ),
        (
            json!({}),
            json!({"attachPolicyARNs": [custom]}),
            true,
            vec![custom],
        ),
        (
            json!({}),
            json!({"withAddonPolicies": {"imageBuilder": true, "cloudWatch": true}}),
            false,
            vec![
                "AmazonEC2ContainerRegistryPowerUser",
                "AmazonEKSWorkerNodePolicy",
                "AmazonEKS_CNI_Policy",
                "AmazonSSMManagedInstanceCore",
                "CloudWatchAgentServerPolicy",
            ],
        ),
    ];
    for (cluster_iam, node_iam, managed, want) in cases {
        // The node role's policies do not depend on the cluster's iam settings.
        let cfg = variant(
            json!({ "iam": cluster_iam }),
            json!({"iam": node_iam.clone()}),
        );
        let rendered = &render_cluster(&cfg).expect("renders")[1];
        if !managed {
            assert_eq!(
                policy_names(&props(rendered, "NodeInstanceRole")["ManagedPolicyArns"]),
                want,
                "{node_iam} via the renderer"
            );
        }
        let iam_cfg: crate::eksctl::NodeGroupIam =
            serde_json::from_value(node_iam.clone()).expect("iam");
        let got = iam::managed_policy_arns(&iam_cfg, managed);
        assert_eq!(policy_names(&got), want, "{node_iam} managed={managed}");
    }
    // Through the renderer: the role carries exactly that list.
    let stacks = render_cluster(&variant(
        json!({}),
        json!({"iam": {"attachPolicyARNs": [custom]}}),
    ))
    .expect("renders");
    assert_eq!(
        policy_names(&props(&stacks[1], "NodeInstanceRole")["ManagedPolicyArns"]),
        vec![custom, "AmazonEC2ContainerRegistryReadOnly"]
    );
}

#[test]
fn addon_and_attached_policies_become_inline_policies() {
    let cfg = variant(
        json!({}),
        json!({"iam": {"attachPolicy": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]},
            "withAddonPolicies": {"autoScaler": true, "externalDNS": true}}}),
    );
    let s = &render_cluster(&cfg).expect("renders")[1];
    for id in [
        "Policy1",
        "PolicyAutoScaling",
        "PolicyExternalDNSChangeSet",
        "PolicyExternalDNSHostedZones",
    ] {
        assert_eq!(s.resource_type(id), Some("AWS::IAM::Policy"), "{id}");
        assert_eq!(props(s, id)["Roles"], json!([{"Ref": "NodeInstanceRole"}]));
        assert_eq!(
            props(s, id)["PolicyName"]["Fn::Sub"],
            format!("${{AWS::StackName}}-{id}")
        );
    }
    let actions = &props(s, "PolicyAutoScaling")["PolicyDocument"]["Statement"][1]["Action"];
    assert!(actions
        .as_array()
        .expect("list")
        .contains(&json!("autoscaling:SetDesiredCapacity")));
    assert_eq!(
        props(s, "Policy1")["PolicyDocument"]["Statement"][0]["Action"],
        json!(["s3:GetObject"])
    );
}

#[test]
fn subnets_are_chosen_by_name_id_or_zone() {
    // (node group patch) -> VPCZoneIdentifier, or the error path
    let cases: Vec<(Value, Result<Value, &str>)> = vec![
        (
            json!({}),
            Ok(json!([
                "subnet-0aaaaaaaaaaaaaaa1",
                "subnet-0bbbbbbbbbbbbbbb2",
                "subnet-0ccccccccccccccc3"
            ])),
        ),
        (
            json!({"subnets": ["us-west-2b", "subnet-0ccccccccccccccc3"]}),
            Ok(json!([
                "subnet-0bbbbbbbbbbbbbbb2",
                "subnet-0ccccccccccccccc3"
            ])),
        ),
        (
            json!({"availabilityZones": ["us-west-2a"]}),
            Ok(json!(["subnet-0aaaaaaaaaaaaaaa1"])),
        ),
        (
            json!({"subnets": ["nowhere"]}),
            Err("nodeGroups[0].subnets[0]"),
        ),
        (
            json!({"availabilityZones": ["us-east-1a"]}),
            Err("nodeGroups[0].availabilityZones[0]"),
        ),
        (
            json!({"privateNetworking": false}),
            Err("nodeGroups[0].privateNetworking"),
        ),
    ];
    for (patch, want) in cases {
        let got = render_cluster(&variant(json!({}), patch.clone()));
        match (got, want) {
            (Ok(stacks), Ok(ids)) => {
                assert_eq!(
                    props(&stacks[1], "NodeGroup")["VPCZoneIdentifier"],
                    ids,
                    "{patch}"
                )
            }
            (Err(e), Err(path)) => {
                let p = match e {
                    RenderError::UnknownSubnet { path, .. }
                    | RenderError::NoSubnetInZone { path, .. }
                    | RenderError::NoSubnets { path, .. } => path,
                    other => panic!("unexpected {other:?}"),
                };
                assert_eq!(p.to_string(), path, "{patch}");
            }
            (got, want) => panic!("{patch}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn what_is_not_rendered_is_refused_with_its_path() {
    // (top-level patch, node group patch) -> error path
    let cases = [
        (json!({"vpc": {"id": null}}), json!({}), "vpc.id"),
        (json!({"vpc": {"subnets": null}}), json!({}), "vpc.subnets"),
        (
            json!({}),
            json!({"amiFamily": "WindowsServer2025FullContainer"}),
            "nodeGroups[0].amiFamily",
        ),
        (
            json!({}),
            json!({"ssh": {"allow": true}}),
            "nodeGroups[0].ssh.allow",
        ),
        (
            json!({}),
            json!({"iam": {"withAddonPolicies": {"awsLoadBalancerController": true}}}),
            "nodeGroups[0].iam.withAddonPolicies.awsLoadBalancerController",
        ),
        (
            json!({}),
            json!({"instancesDistribution": {"instanceTypes": []}}),
            "nodeGroups[0].instancesDistribution.instanceTypes",
        ),
    ];
    for (top, ng, path) in cases {
        let err = render_cluster(&variant(top.clone(), ng.clone())).expect_err("refused");
        let p = match &err {
            RenderError::ExistingVpc { path, .. }
            | RenderError::UnsupportedAmiFamily { path, .. }
            | RenderError::NotRendered { path, .. }
            | RenderError::NoInstanceTypes { path } => path.to_string(),
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(p, path, "{top} {ng}: {err}");
    }
}

#[test]
fn user_text_in_user_data_is_protected_from_fn_sub() {
    let cfg = variant(
        json!({}),
        json!({"preBootstrapCommands": ["echo ${HOME} > /tmp/x"], "maxPodsPerNode": 29}),
    );
    let stacks = render_cluster(&cfg).expect("renders");
    let text = user_data_text(&stacks[1]);
    assert!(text.contains("echo ${!HOME} > /tmp/x"), "{text}");
    assert!(text.contains("maxPods: 29"));
    assert!(text.contains("apiServerEndpoint: \"${ClusterEndpoint}\""));
    // The only substitutions left are the ones the template provides.
    let vars = &props(&stacks[1], "NodeGroupLaunchTemplate")["LaunchTemplateData"]["UserData"]
        ["Fn::Base64"]["Fn::Sub"][1];
    assert_eq!(vars["ClusterEndpoint"]["Ref"], "ClusterEndpoint");
    let params: Vec<&str> = stacks[1]
        .parameters
        .iter()
        .map(|p| p.key.as_str())
        .collect();
    assert_eq!(
        params,
        [
            "ClusterCertificateAuthorityData",
            "ClusterEndpoint",
            "ClusterSecurityGroup",
            "ClusterServiceCIDR",
            "ClusterSharedNodeSecurityGroup",
            "ClusterVPC"
        ]
    );
}

#[test]
fn a_configured_service_cidr_needs_no_parameter() {
    let cfg = variant(
        json!({"kubernetesNetworkConfig": {"serviceIPv4CIDR": "172.20.0.0/16"}}),
        json!({}),
    );
    let stacks = render_cluster(&cfg).expect("renders");
    assert!(user_data_text(&stacks[1]).contains("cidr: \"172.20.0.0/16\""));
    // Every parameter comes from a cluster-stack output; none asks EKS for the service CIDR.
    assert_eq!(stacks[1].parameters.len(), 5);
    assert!(stacks[1].parameters.iter().all(|p| matches!(
        &p.source,
        ParameterSource::StackOutput { stack, .. } if stack == "eksctl-eks-test-jenkins-cluster"
    )));
    assert_eq!(
        props(&stacks[0], "ControlPlane")["KubernetesNetworkConfig"]["ServiceIpv4Cidr"],
        "172.20.0.0/16"
    );
}

#[test]
fn instance_architecture_and_gpu_detection() {
    let cases = [
        ("m5.large", false, false),
        ("m6g.large", true, false),
        ("c7gn.xlarge", true, false),
        ("t4g.small", true, false),
        ("x2gd.medium", true, false),
        ("g4dn.xlarge", false, true),
        ("g5g.xlarge", true, true),
        ("p3.2xlarge", false, true),
        ("m7i-flex.large", false, false),
    ];
    for (t, arm, gpu) in cases {
        assert_eq!(placement::is_arm(t), arm, "{t}");
        assert_eq!(placement::is_gpu(t), gpu, "{t}");
    }
}

#[test]
fn canonical_sorts_keys_at_every_depth_and_keeps_array_order() {
    let a: Value = serde_json::from_str(r#"{"b": {"y": 1, "x": [3, {"d": 1, "c": 2}]}, "a": 0}"#)
        .expect("json");
    let b: Value = serde_json::from_str(r#"{"a": 0, "b": {"x": [3, {"c": 2, "d": 1}], "y": 1}}"#)
        .expect("json");
    let (ca, cb) = (canonical(a), canonical(b));
    let text = serde_json::to_string(&ca).expect("serializable");
    assert_eq!(text, r#"{"a":0,"b":{"x":[3,{"c":2,"d":1}],"y":1}}"#);
    assert_eq!(text, serde_json::to_string(&cb).expect("serializable"));
}

#[test]
fn errors_name_their_field_path() {
    let err = render_cluster(&variant(json!({}), json!({"amiFamily": "Ubuntu2204"})))
        .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "nodeGroups[0].amiFamily: AMI family \"Ubuntu2204\" is not rendered yet: eksync writes the AmazonLinux2023 bootstrap, and for unmanaged groups also AmazonLinux2's and Bottlerocket's; these nodes need their own"
    );
    // Every refusal of a config is reported, each with its path, not only the first.
    let all = render_stacks(&variant(
        json!({"kubernetesNetworkConfig": {"ipFamily": "IPv6"}}),
        json!({"amiFamily": "Ubuntu2204", "ssh": {"allow": true}, "efaEnabled": true}),
    ))
    .expect_err("refused");
    let paths: Vec<String> = all.iter().map(|e| e.path().to_string()).collect();
    assert_eq!(
        paths,
        [
            // An IPv6 cluster without the core add-ons and OIDC, whose unmanaged groups eksync
            // cannot bootstrap.
            "kubernetesNetworkConfig.ipFamily",
            "nodeGroups[0]",
            "nodeGroups[1]",
            "nodeGroups[0].amiFamily",
            "nodeGroups[0].efaEnabled",
            // SSH from inside an existing VPC whose CIDR the config does not give.
            "nodeGroups[0].ssh.allow"
        ]
    );
}

#[test]
fn ssh_allow_opens_port_22_like_eksctl() {
    let key = json!({"ssh": {"allow": true, "publicKeyName": "ops"}});
    // The example's first group is private: SSH from inside the VPC, whose CIDR must be known.
    let err = render_cluster(&variant(json!({}), key.clone())).expect_err("no vpc.cidr");
    assert!(err.to_string().contains("vpc.cidr"), "{err}");
    let stacks =
        render_cluster(&variant(json!({"vpc": {"cidr": "10.0.0.0/16"}}), key)).expect("renders");
    let ng = &stacks[1];
    let ingress = props(ng, "SG")["SecurityGroupIngress"].clone();
    let ssh: Vec<&Value> = ingress
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["FromPort"] == 22)
        .collect();
    assert_eq!(ssh.len(), 1, "{ingress:#?}");
    assert_eq!(ssh[0]["CidrIp"], "10.0.0.0/16");
    assert_eq!(
        props(ng, "NodeGroupLaunchTemplate")["LaunchTemplateData"]["KeyName"],
        "ops"
    );
    // From given security groups only.
    let sourced = render_cluster(&variant(
        json!({}),
        json!({"ssh": {"allow": true, "publicKeyName": "ops", "sourceSecurityGroupIds": ["sg-1"]}}),
    ))
    .expect("renders");
    let rules = props(&sourced[1], "SG")["SecurityGroupIngress"].clone();
    let ssh: Vec<&Value> = rules
        .as_array()
        .expect("rules")
        .iter()
        .filter(|r| r["FromPort"] == 22)
        .collect();
    assert_eq!(
        ssh,
        [
            &json!({"FromPort": 22, "IpProtocol": "tcp", "SourceSecurityGroupId": "sg-1", "ToPort": 22})
        ]
    );
    // A key eksctl would import from a local file is not installed (the loader warns), but the port
    // is opened as eksctl opens it.
    let cidr = json!({"vpc": {"cidr": "10.0.0.0/16"}});
    let no_key =
        render_cluster(&variant(cidr.clone(), json!({"ssh": {"allow": true}}))).expect("renders");
    let opened = |stacks: &[crate::render::RenderedStack]| {
        props(&stacks[1], "SG")["SecurityGroupIngress"]
            .as_array()
            .expect("rules")
            .iter()
            .any(|r| r["FromPort"] == 22)
    };
    assert!(opened(&no_key));
    assert!(
        props(&no_key[1], "NodeGroupLaunchTemplate")["LaunchTemplateData"]
            .get("KeyName")
            .is_none()
    );
    // eksctl's default (`setSSHDefaults`): naming a key allows SSH unless `allow: false`.
    for (ssh, open) in [
        (json!({"publicKeyName": "ops"}), true),
        (json!({"publicKeyPath": "~/.ssh/ops.pub"}), true),
        (json!({"publicKey": "ssh-ed25519 AAAA ops"}), true),
        (json!({"publicKeyName": "ops", "allow": false}), false),
        (json!({}), false),
    ] {
        let stacks =
            render_cluster(&variant(cidr.clone(), json!({ "ssh": ssh }))).expect("renders");
        assert_eq!(opened(&stacks), open, "{ssh}");
        // eksctl's template description says the same.
        let description = stacks[1].template["Description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            description.contains(&format!("SSH access: {open}")),
            "{description}"
        );
    }
}

#[test]
fn managed_ssh_gets_eksctls_remote_access_group() {
    let cfg = crate::render::tests::load(
        "\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: ssh, region: eu-west-1}
managedNodeGroups:
  - name: private
    privateNetworking: true
    ssh: {allow: true, publicKeyName: ops}
",
    );
    let stacks = render_cluster(&cfg).expect("renders");
    let sg = props(&stacks[1], "SSH");
    assert_eq!(sg["GroupDescription"], "Allow SSH access");
    assert_eq!(
        sg["SecurityGroupIngress"],
        json!([{"CidrIp": "192.168.0.0/16", "Description":
            "Allow SSH access to managed worker nodes in group private (private, only inside VPC)",
            "FromPort": 22, "IpProtocol": "tcp", "ToPort": 22}])
    );
    assert_eq!(sg["VpcId"], json!({"Ref": "ClusterVPC"}));
    let groups = &props(&stacks[1], "LaunchTemplate")["LaunchTemplateData"]["SecurityGroupIds"];
    assert_eq!(
        groups.as_array().and_then(|g| g.last()),
        Some(&json!({"Ref": "SSH"}))
    );
}

#[test]
fn bottlerocket_groups_get_toml_settings_and_their_ami() {
    let cfg = crate::render::tests::load(
        "\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: br, region: us-west-2, version: \"1.32\"}
nodeGroups:
  - name: ng
    instanceType: m6g.large
    amiFamily: Bottlerocket
    labels: {role: web}
    bottlerocket:
      enableAdminContainer: true
      settings:
        motd: hello
",
    );
    let stacks = render_cluster(&cfg).expect("renders");
    let ng = &stacks[1];
    let data = &props(ng, "NodeGroupLaunchTemplate")["LaunchTemplateData"];
    assert_eq!(
        data["ImageId"],
        "{{resolve:ssm:/aws/service/bottlerocket/aws-k8s-1.32/arm64/latest/image_id}}"
    );
    assert_eq!(data["BlockDeviceMappings"][0]["DeviceName"], "/dev/xvdb");
    let text = data["UserData"]["Fn::Base64"]["Fn::Sub"][0]
        .as_str()
        .expect("user data");
    assert!(text.starts_with("[settings]\nmotd = \"hello\"\n"), "{text}");
    assert!(
        text.contains("[settings.host-containers.admin]\nenabled = true\n"),
        "{text}"
    );
    assert!(
        text.contains("api-server = \"${ClusterEndpoint}\""),
        "{text}"
    );
    assert!(
        text.contains("\"alpha.eksctl.io/cluster-name\" = \"br\""),
        "{text}"
    );
    assert!(text.contains("role = \"web\""), "{text}");
    // Bottlerocket derives the cluster DNS itself: no service CIDR parameter.
    let keys: Vec<&str> = ng.parameters.iter().map(|p| p.key.as_str()).collect();
    assert!(!keys.contains(&"ClusterServiceCIDR"), "{keys:?}");
    assert!(ng.template["Description"]
        .as_str()
        .is_some_and(|d| d.contains("AMI family: Bottlerocket")));
    // Managed Bottlerocket groups are not rendered yet.
    let managed = crate::render::tests::load(
        "\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: br, region: us-west-2}
managedNodeGroups:
  - name: m
    amiFamily: Bottlerocket
",
    );
    let err = render_cluster(&managed).expect_err("refused");
    assert_eq!(err.path().to_string(), "managedNodeGroups[0].amiFamily");
}

#[test]
fn amazon_linux_2_groups_bootstrap_with_the_eks_script() {
    let cfg = variant(
        json!({}),
        json!({"amiFamily": "AmazonLinux2", "ami": "ami-05ecac759c81e0b0c", "maxPodsPerNode": 20,
            "preBootstrapCommands": ["echo ${HOME}"]}),
    );
    let stacks = render_cluster(&cfg).expect("renders");
    let data = &props(&stacks[1], "NodeGroupLaunchTemplate")["LaunchTemplateData"];
    assert_eq!(data["ImageId"], "ami-05ecac759c81e0b0c");
    let text = user_data_text(&stacks[1]);
    assert!(text.contains("echo ${!HOME}\n"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("/etc/eks/bootstrap.sh "))
        .expect("bootstrap line");
    assert!(
        line.starts_with(
            "/etc/eks/bootstrap.sh 'eks-test-jenkins' --apiserver-endpoint \"${ClusterEndpoint}\" --b64-cluster-ca \"${ClusterCertificateAuthorityData}\" --service-ipv4-cidr "
        ),
        "{line}"
    );
    assert!(
        line.contains("--use-max-pods false --kubelet-extra-args '--node-labels="),
        "{line}"
    );
    assert!(line.ends_with(" --max-pods=20'"), "{line}");
    // Without an AMI, 1.33 and later have no AmazonLinux2 image to resolve.
    let err = render_cluster(&variant(json!({}), json!({"amiFamily": "AmazonLinux2"})))
        .expect_err("no AL2 AMI for 1.33");
    assert_eq!(err.path().to_string(), "nodeGroups[0].amiFamily");
    // overrideBootstrapCommand replaces the bootstrap line on AmazonLinux2.
    let cfg = variant(
        json!({"metadata": {"version": "1.32"}}),
        json!({"amiFamily": "AmazonLinux2", "overrideBootstrapCommand": "/etc/eks/bootstrap.sh x"}),
    );
    let stacks = render_cluster(&cfg).expect("renders");
    let text = user_data_text(&stacks[1]);
    assert!(
        text.contains("set -ex\n/etc/eks/bootstrap.sh x\n"),
        "{text}"
    );
    assert_eq!(
        props(&stacks[1], "NodeGroupLaunchTemplate")["LaunchTemplateData"]["ImageId"],
        "{{resolve:ssm:/aws/service/eks/optimized-ami/1.32/amazon-linux-2/recommended/image_id}}"
    );
}

/// The managed node group fields eksctl puts on the node group and its launch template
/// (`pkg/cfn/builder/managed_nodegroup.go`: `ReleaseVersion`, `UpdateConfig`;
/// `managed_launch_template.go`: `EbsOptimized`, `Monitoring`, the instances' `Name` tag from
/// `generateNodeName`), and eksctl's checks of `updateConfig`.
#[test]
fn managed_group_release_update_and_launch_template_fields_are_eksctls() {
    let base = "\
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: mng, region: eu-west-1}
managedNodeGroups:
  - name: workers
";
    let cfg = crate::render::tests::load(&format!(
        "{base}    releaseVersion: 1.33.0-20250704\n    updateConfig: {{maxUnavailablePercentage: 25}}\n    ebsOptimized: true\n    enableDetailedMonitoring: true\n    instancePrefix: team\n    instanceName: worker\n"
    ));
    let stacks = render_cluster(&cfg).expect("renders");
    let ng = props(&stacks[1], "ManagedNodeGroup");
    assert_eq!(ng["ReleaseVersion"], "1.33.0-20250704");
    assert_eq!(ng["UpdateConfig"], json!({"MaxUnavailablePercentage": 25}));
    let data = &props(&stacks[1], "LaunchTemplate")["LaunchTemplateData"];
    assert_eq!(data["EbsOptimized"], true);
    assert_eq!(data["Monitoring"], json!({"Enabled": true}));
    let tags = &data["TagSpecifications"][0]["Tags"];
    assert!(
        tags.as_array()
            .expect("tags")
            .contains(&json!({"Key": "Name", "Value": "team-worker"})),
        "{tags}"
    );
    for (update, path, words) in [
        (
            "{maxUnavailable: 1, maxUnavailablePercentage: 10}",
            "managedNodeGroups[0].updateConfig.maxUnavailablePercentage",
            "cannot be set with maxUnavailable",
        ),
        (
            "{maxUnavailable: 0}",
            "managedNodeGroups[0].updateConfig.maxUnavailable",
            "0 is not between 1 and 100",
        ),
        (
            "{}",
            "managedNodeGroups[0].updateConfig.maxUnavailable",
            "needs maxUnavailable or maxUnavailablePercentage",
        ),
    ] {
        let cfg = crate::render::tests::load(&format!("{base}    updateConfig: {update}\n"));
        let err = render_cluster(&cfg).expect_err("refused");
        assert_eq!(err.path().to_string(), path, "{update}");
        assert!(err.to_string().contains(words), "{err}");
    }
}
