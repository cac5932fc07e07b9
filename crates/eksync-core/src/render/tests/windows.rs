//! Windows unmanaged node groups, and managed node groups on a user's launch template or on a
//! custom AMI with `overrideBootstrapCommand`: eksctl's examples 14, 22 and 32.

use serde_json::{json, Value};

use super::{load, props, snapshot_view};
use crate::render::{find_nodegroup_stack, render_cluster, render_stacks, RenderError};

/// eksctl's `examples/32-windows-nodes-with-containerd.yaml`, with `metadata.version` set so the
/// AMI parameter names a version.
const WINDOWS: &str = "
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: windows-cluster
  region: us-west-2
  version: \"1.33\"
nodeGroups:
  - name: windows-ng
    amiFamily: WindowsServer2019FullContainer
    minSize: 2
    maxSize: 3
    containerRuntime: containerd
  - name: custom-windows
    amiFamily: WindowsServer2022FullContainer
    ami: ami-01579b74557facaf7
    overrideBootstrapCommand: |
      & $EKSBootstrapScriptFile -EKSClusterName \"$EKSClusterName\" -APIServerEndpoint \"$APIServerEndpoint\" -Base64ClusterCA \"$Base64ClusterCA\" -ContainerRuntime \"containerd\" -KubeletExtraArgs \"$KubeletExtraArgs\" 3>&1 4>&1 5>&1 6>&1
managedNodeGroups:
  - name: linux-ng
    instanceType: t2.large
    minSize: 2
    maxSize: 3
";

/// eksctl's `examples/22-managed-nodes-launch-template.yaml`, with the second group's SSH key
/// named as an EC2 key pair (`publicKeyName`): eksync does not import the local key file eksctl
/// would (that stays refused, see `eksctl_schema.rs`).
const MANAGED: &str = "
apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata:
  name: cluster-22
  region: us-west-2
managedNodeGroups:
- name: launch-template-ng
  launchTemplate:
    id: lt-1234
    version: \"2\"
  labels: {role: worker}
  tags:
    nodegroup-role: worker
  iam:
    withAddonPolicies:
      externalDNS: true
      certManager: true
- name: custom-nodegroup
  instanceType: m5.xlarge
  desiredCapacity: 2
  amiFamily: AmazonLinux2
  ami: ami-0e124de4755b2734d
  ssh:
    allow: true
    publicKeyName: eksync-key
  securityGroups:
    attachIDs: [\"sg-123\", \"sg-321\"]
  overrideBootstrapCommand: |
    #!/bin/bash
    /etc/eks/bootstrap.sh cluster-22 --kubelet-extra-args '--node-labels=eks.amazonaws.com/nodegroup=custom-ng,eks.amazonaws.com/nodegroup-image=ami-0e124de4755b2734d'
";

fn windows_user_data(template: &Value) -> (&str, &Value) {
    let ud = &template["Resources"]["NodeGroupLaunchTemplate"]["Properties"]["LaunchTemplateData"]
        ["UserData"]["Fn::Base64"]["Fn::Sub"];
    (ud[0].as_str().expect("user data text"), &ud[1])
}

/// The Windows group of example 32 (template and user data), compared against eksctl 0.231's
/// `pkg/cfn/builder/nodegroup.go` (launch template, ASG, access entry of type `EC2_WINDOWS`),
/// `pkg/cfn/builder/block_device_mapping.go` (`/dev/sda1` for Windows), `pkg/ami` (the
/// `Windows_Server-2019-English-Full-EKS_Optimized-<version>` SSM parameter) and
/// `pkg/nodebootstrap/windows.go` with its `windows_test.go` (the `Start-EKSBootstrap.ps1` call,
/// parameter order, `--node-labels`/`--register-with-taints`, `-ContainerRuntime`). Differences,
/// all eksync's usual ones: the endpoint, CA and service CIDR are substitutions rather than the
/// live values eksctl reads, so the DNS IP eksctl derives from the CIDR (last octet 10) is
/// computed in the template (`ClusterDNSIP` from `Fn::Split` of the CIDR); the AMI is an SSM
/// dynamic reference resolved by CloudFormation rather than looked up by eksctl; the user data is
/// `Fn::Base64` of that text rather than pre-encoded.
#[test]
fn windows_nodegroup_stack_and_user_data_snapshot() {
    let cfg = load(WINDOWS);
    let stacks = render_cluster(&cfg).expect("example 32 renders");
    let s = find_nodegroup_stack(&stacks, "windows-ng").expect("windows-ng");
    let data = &props(s, "NodeGroupLaunchTemplate")["LaunchTemplateData"];
    assert_eq!(
        data["ImageId"],
        "{{resolve:ssm:/aws/service/ami-windows-latest/Windows_Server-2019-English-Full-EKS_Optimized-1.33/image_id}}"
    );
    assert_eq!(data["BlockDeviceMappings"][0]["DeviceName"], "/dev/sda1");
    assert_eq!(props(s, "AccessEntry")["Type"], "EC2_WINDOWS");
    let (text, vars) = windows_user_data(&s.template);
    assert!(text.contains("-ContainerRuntime \"containerd\""), "{text}");
    assert!(vars.get("ClusterDNSIP").is_some(), "{vars}");
    snap!("nodegroup_windows_ng", snapshot_view(s));
    snap!("nodegroup_windows_ng_user_data", text);
}

/// The second Windows group of example 32: a custom AMI and `overrideBootstrapCommand`, which
/// eksctl's `windows.go` precedes with PowerShell variables (`[string]$EKSClusterName = '...'`
/// ... `$KubeletExtraArgsMap = @{...}`) and runs instead of its own call; compared against
/// `pkg/nodebootstrap/windows.go` and `pkg/nodebootstrap/powershell/powershell.go`
/// (`FormatStringVariables`, `FormatHashTable`). Same differences as the group above.
#[test]
fn windows_override_bootstrap_command_user_data_snapshot() {
    let cfg = load(WINDOWS);
    let stacks = render_cluster(&cfg).expect("example 32 renders");
    let s = find_nodegroup_stack(&stacks, "custom-windows").expect("custom-windows");
    assert_eq!(
        props(s, "NodeGroupLaunchTemplate")["LaunchTemplateData"]["ImageId"],
        "ami-01579b74557facaf7"
    );
    let (text, _) = windows_user_data(&s.template);
    snap!("nodegroup_custom_windows_user_data", text);
}

/// Example 22's first group: the user's launch template, compared against eksctl 0.231's
/// `pkg/cfn/builder/managed_nodegroup.go` (`AddAllResources`: `LaunchTemplate: {Id, Version}` on
/// the `AWS::EKS::Nodegroup`, no launch template of its own, the role, labels, tags). Difference:
/// eksctl reads the template from EC2 and sets `AmiType` from its instance type when it names no
/// AMI, and `InstanceTypes` when it names no instance type; eksync cannot read it, so it leaves
/// `AmiType` to EKS and writes `InstanceTypes` only when the config lists them (eksctl requires
/// the template to name the instance type otherwise).
#[test]
fn managed_nodegroup_with_a_user_launch_template_snapshot() {
    let stacks = render_cluster(&load(MANAGED)).expect("example 22 renders");
    let s = find_nodegroup_stack(&stacks, "launch-template-ng").expect("group");
    assert_eq!(s.resource_type("LaunchTemplate"), None);
    let ng = props(s, "ManagedNodeGroup");
    assert_eq!(
        ng["LaunchTemplate"],
        json!({"Id": "lt-1234", "Version": "2"})
    );
    assert!(ng.get("AmiType").is_none() && ng.get("InstanceTypes").is_none());
    snap!("managed_launch_template_ng", snapshot_view(s));
}

/// Example 22's second group: a custom AMI bootstrapped by `overrideBootstrapCommand`, compared
/// against eksctl 0.231's `pkg/cfn/builder/managed_launch_template.go` (`ImageId`, `UserData`,
/// `SecurityGroupIds` with `securityGroups.attachIDs` after the cluster security group, the `SSH`
/// group), `managed_nodegroup.go` (no `AmiType` when the template names the AMI: EKS takes it as
/// CUSTOM) and `pkg/nodebootstrap/managed_al2.go` with `managed_al2_test.go`
/// (`makeCustomAMIUserData`: a MIME document with one shell-script part). Differences: eksctl's
/// MIME boundary is random per run, eksync's is `//` (the one eksctl's tests set); the snapshot
/// shows the document with its CRLF line ends as LF.
#[test]
fn managed_nodegroup_with_a_custom_ami_snapshot() {
    let stacks = render_cluster(&load(MANAGED)).expect("example 22 renders");
    let s = find_nodegroup_stack(&stacks, "custom-nodegroup").expect("group");
    let data = &props(s, "LaunchTemplate")["LaunchTemplateData"];
    assert_eq!(data["ImageId"], "ami-0e124de4755b2734d");
    assert_eq!(data["SecurityGroupIds"][1], "sg-123");
    assert!(props(s, "ManagedNodeGroup").get("AmiType").is_none());
    let text = data["UserData"]["Fn::Base64"].as_str().expect("user data");
    assert!(text.starts_with(
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=//\r\n\r\n--//\r\n"
    ));
    assert!(
        text.ends_with("ami-0e124de4755b2734d'\n\r\n--//--\r\n"),
        "{text:?}"
    );
    snap!("managed_custom_ami_ng", snapshot_view(s));
    snap!(
        "managed_custom_ami_ng_user_data",
        text.replace("\r\n", "\n")
    );
}

fn refusals(cfg: &str) -> Vec<(String, String)> {
    render_stacks(&load(cfg))
        .err()
        .unwrap_or_default()
        .iter()
        .map(|e| (e.path().to_string(), e.to_string()))
        .collect()
}

fn paths(r: &[(String, String)]) -> Vec<&str> {
    r.iter().map(|(p, _)| p.as_str()).collect()
}

#[test]
fn a_user_launch_template_refuses_what_it_decides() {
    let cfg = MANAGED.replace(
        "  launchTemplate:\n    id: lt-1234\n    version: \"2\"\n",
        "  launchTemplate:\n    id: lt-1234\n    version: latest\n  instanceType: m5.large\n  ami: ami-0e124de4755b2734d\n  volumeSize: 20\n  maxPodsPerNode: 20\n  disableIMDSv1: false\n  securityGroups: {attachIDs: [sg-1]}\n  ssh: {allow: true, publicKeyName: k}\n",
    );
    let r = refusals(&cfg);
    assert_eq!(
        paths(&r),
        [
            "managedNodeGroups[0].launchTemplate.version",
            "managedNodeGroups[0].instanceType",
            "managedNodeGroups[0].ami",
            "managedNodeGroups[0].ssh.allow",
            "managedNodeGroups[0].securityGroups.attachIDs",
            "managedNodeGroups[0].volumeSize",
            "managedNodeGroups[0].maxPodsPerNode",
            "managedNodeGroups[0].disableIMDSv1",
            // Set only in eksync's own template, so refused beside the user's.
            "managedNodeGroups[0].ssh.publicKeyName",
        ],
        "{r:#?}"
    );
    assert!(r[1].1.contains("eksctl refuses this too"), "{}", r[1].1);
    let no_id = MANAGED.replace("    id: lt-1234\n", "");
    assert_eq!(
        paths(&refusals(&no_id)),
        ["managedNodeGroups[0].launchTemplate.id"]
    );
    // instanceTypes in the config are passed on (the template must then name none).
    let with_types = MANAGED.replace(
        "  labels: {role: worker}\n",
        "  labels: {role: worker}\n  instanceTypes: [m5.large, m5a.large]\n",
    );
    let stacks = render_cluster(&load(&with_types)).expect("renders");
    let s = find_nodegroup_stack(&stacks, "launch-template-ng").expect("group");
    assert_eq!(
        props(s, "ManagedNodeGroup")["InstanceTypes"],
        json!(["m5.large", "m5a.large"])
    );
}

#[test]
fn a_custom_ami_needs_amazon_linux_2_and_an_override_command() {
    // Without overrideBootstrapCommand: refused, saying eksctl requires it too.
    let cfg = MANAGED.replace("  overrideBootstrapCommand: |\n", "  unused: |\n");
    let cfg = cfg
        .split("  unused: |\n")
        .next()
        .unwrap_or_default()
        .to_string();
    let r = refusals(&cfg);
    assert_eq!(paths(&r), ["managedNodeGroups[1].ami"], "{r:#?}");
    assert!(
        r[0].1.contains("eksctl requires overrideBootstrapCommand"),
        "{}",
        r[0].1
    );
    // The AmazonLinux2023 family (the default) would bootstrap with nodeadm: not rendered.
    let al2023 = MANAGED.replace("  amiFamily: AmazonLinux2\n", "");
    let r = refusals(&al2023);
    assert_eq!(paths(&r), ["managedNodeGroups[1].ami"], "{r:#?}");
    // What eksctl does not allow with a custom AMI.
    let extra = MANAGED.replace(
        "  amiFamily: AmazonLinux2\n",
        "  amiFamily: AmazonLinux2\n  maxPodsPerNode: 20\n  releaseVersion: \"1.33.0\"\n  preBootstrapCommands: [date]\n",
    );
    assert_eq!(
        paths(&refusals(&extra)),
        [
            "managedNodeGroups[1].maxPodsPerNode",
            "managedNodeGroups[1].releaseVersion",
            "managedNodeGroups[1].preBootstrapCommands",
        ]
    );
    // overrideBootstrapCommand without a custom AMI.
    let no_ami = MANAGED.replace("  ami: ami-0e124de4755b2734d\n", "");
    let r = refusals(&no_ami);
    assert!(
        paths(&r).contains(&"managedNodeGroups[1].overrideBootstrapCommand"),
        "{r:#?}"
    );
}

#[test]
fn windows_groups_check_their_container_runtime() {
    let docker = WINDOWS.replace("containerRuntime: containerd", "containerRuntime: docker");
    let stacks = render_cluster(&load(&docker)).expect("docker is accepted on Windows");
    let s = find_nodegroup_stack(&stacks, "windows-ng").expect("group");
    assert!(windows_user_data(&s.template)
        .0
        .contains("-ContainerRuntime \"docker\""));
    let bad = WINDOWS.replace("containerRuntime: containerd", "containerRuntime: cri-o");
    let r = refusals(&bad);
    assert_eq!(paths(&r), ["nodeGroups[0].containerRuntime"], "{r:#?}");
    // Linux groups run containerd.
    let linux = WINDOWS.replace(
        "    amiFamily: WindowsServer2019FullContainer\n",
        "    amiFamily: AmazonLinux2023\n",
    );
    let r = refusals(&linux.replace("containerRuntime: containerd", "containerRuntime: docker"));
    assert_eq!(paths(&r), ["nodeGroups[0].containerRuntime"], "{r:#?}");
    assert!(render_cluster(&load(&linux)).is_ok());
    // eksctl refuses kubeletExtraConfig on Windows.
    let extra = WINDOWS.replace(
        "    containerRuntime: containerd\n",
        "    containerRuntime: containerd\n    kubeletExtraConfig: {maxPods: 10}\n",
    );
    assert_eq!(
        paths(&refusals(&extra)),
        ["nodeGroups[0].kubeletExtraConfig"]
    );
    assert!(matches!(
        render_cluster(&load(&bad)),
        Err(RenderError::InvalidNodeGroup { .. })
    ));
}

#[test]
fn a_known_service_cidr_gives_the_dns_ip_directly() {
    let cfg = WINDOWS.replace(
        "  version: \"1.33\"\n",
        "  version: \"1.33\"\nkubernetesNetworkConfig:\n  serviceIPv4CIDR: 172.20.0.0/16\n",
    );
    let stacks = render_cluster(&load(&cfg)).expect("renders");
    let s = find_nodegroup_stack(&stacks, "windows-ng").expect("group");
    let (text, vars) = windows_user_data(&s.template);
    assert!(
        text.contains("-ServiceCIDR \"172.20.0.0/16\" -DNSClusterIP \"172.20.0.10\""),
        "{text}"
    );
    assert!(vars.get("ClusterDNSIP").is_none());
    assert!(!s.parameters.iter().any(|p| p.key == "ClusterServiceCIDR"));
}
