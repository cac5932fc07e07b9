//! User data and AMI of unmanaged Windows nodes (`amiFamily` WindowsServer2019FullContainer,
//! WindowsServer2019CoreContainer, WindowsServer2022FullContainer, WindowsServer2022CoreContainer),
//! after eksctl's Windows bootstrapper (`pkg/nodebootstrap/windows.go`,
//! `pkg/nodebootstrap/powershell/powershell.go`) and its SSM parameter names (`pkg/ami`).
//!
//! The user data is a `<powershell>` block: the path of the EKS AMI's `Start-EKSBootstrap.ps1` in
//! `$EKSBootstrapScriptFile`, the `preBootstrapCommands`, then the script called with
//! `-EKSClusterName`, `-APIServerEndpoint`, `-Base64ClusterCA`, `-ServiceCIDR`, `-DNSClusterIP`,
//! `-ContainerRuntime` (when `containerRuntime` is set) and `-KubeletExtraArgs` (`--node-labels`,
//! `--register-with-taints`, `--max-pods`), in eksctl's order. With `overrideBootstrapCommand` the
//! same values are PowerShell variables (`[string]$EKSClusterName = '...'`, ...,
//! `$KubeletExtraArgsMap = @{...}`) and the user's command runs instead of the call.
//!
//! eksctl writes the live cluster's endpoint, CA and service CIDR into the text, and the DNS IP it
//! derives from the CIDR (its last octet set to 10). Here they are CloudFormation substitutions
//! (`${ClusterEndpoint}`, `${ClusterCertificateAuthorityData}`, `${ClusterServiceCIDR}` and
//! `${ClusterDNSIP}`, computed in the template from the CIDR the same way), unless the config names
//! the service CIDR or `clusterDNS`; `${` in user text is escaped, so the text is deterministic.
//! User values inside quotes are escaped for PowerShell (eksctl leaves them as they are; eksctl's
//! validation keeps them free of quotes). It does not render Windows Server 2025, managed Windows
//! groups or `kubeletExtraConfig` (eksctl refuses it on Windows).

use serde_json::{json, Value};
use std::collections::BTreeMap;

use super::userdata::{format_labels, format_taints, CA_PARAMETER, SERVICE_CIDR_PARAMETER};
use super::{import_cluster, outputs as out};
use crate::eksctl::Taint;

/// The AMI families rendered here.
pub(crate) const FAMILIES: &[&str] = &[
    "WindowsServer2019FullContainer",
    "WindowsServer2019CoreContainer",
    "WindowsServer2022FullContainer",
    "WindowsServer2022CoreContainer",
];

/// The `Fn::Sub` variable holding the cluster DNS IP derived from the service CIDR parameter.
const DNS_VARIABLE: &str = "ClusterDNSIP";

/// Whether `family` is a Windows AMI family eksync renders.
pub(crate) fn is_windows(family: Option<&str>) -> bool {
    family.is_some_and(|f| FAMILIES.contains(&f))
}

/// The EKS-optimized Windows AMI of the family for the Kubernetes version, as an SSM dynamic
/// reference (eksctl's `MakeSSMParameterName`).
pub(crate) fn image_id(family: &str, version: &str) -> Value {
    let (year, edition) = match family {
        "WindowsServer2019CoreContainer" => ("2019", "Core"),
        "WindowsServer2022FullContainer" => ("2022", "Full"),
        "WindowsServer2022CoreContainer" => ("2022", "Core"),
        _ => ("2019", "Full"),
    };
    json!(format!(
        "{{{{resolve:ssm:/aws/service/ami-windows-latest/Windows_Server-{year}-English-{edition}-EKS_Optimized-{version}/image_id}}}}"
    ))
}

/// What the bootstrap script of a Windows node group needs to know.
pub(crate) struct WindowsBootstrap<'a> {
    pub cluster: &'a str,
    /// All labels, eksctl's own included.
    pub labels: &'a BTreeMap<String, String>,
    pub taints: &'a [Taint],
    pub max_pods: Option<i64>,
    /// `clusterDNS`; without it the DNS IP is derived from the service CIDR.
    pub cluster_dns: Option<&'a str>,
    /// The service CIDR when the config names it; otherwise the `ClusterServiceCIDR` parameter.
    pub service_cidr: Option<&'a str>,
    pub container_runtime: Option<&'a str>,
    pub pre_bootstrap_commands: &'a [String],
    pub override_command: Option<&'a str>,
}

/// Escapes `${` so that `Fn::Sub` leaves user text alone (`${!` is its literal form).
fn escape_sub(s: &str) -> String {
    s.replace("${", "${!")
}

/// The inside of a PowerShell double-quoted string: backtick before `` ` ``, `"` and `$`.
fn ps_double(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '`' | '"' | '$') {
            o.push('`');
        }
        o.push(c);
    }
    escape_sub(&o)
}

/// The inside of a PowerShell single-quoted string: `'` doubled.
fn ps_single(s: &str) -> String {
    escape_sub(&s.replace('\'', "''"))
}

/// A parameter value: user text (escaped as `quote` says) or a `Fn::Sub` placeholder (as is).
enum Val {
    User(String),
    Sub(String),
}

impl Val {
    fn write(&self, quote: fn(&str) -> String) -> String {
        match self {
            Val::User(s) => quote(s),
            Val::Sub(s) => s.clone(),
        }
    }
}

/// eksctl's `GetClusterDNS`: the service CIDR's network address with its last octet set to 10.
/// `None` when the CIDR is not IPv4 text.
pub(crate) fn dns_ip_of(cidr: &str) -> Option<String> {
    let (ip, bits) = cidr.split_once('/')?;
    let bits: u32 = bits.parse().ok().filter(|b| *b <= 32)?;
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    let [a, b, c, _] = (u32::from(ip) & mask).to_be_bytes();
    Some(format!("{a}.{b}.{c}.10"))
}

/// `(name, value)` pairs, in eksctl's order.
type Pairs<T> = Vec<(&'static str, T)>;

/// The script's parameters and, separately, the kubelet flags `KubeletExtraArgs` is made of.
fn params(b: &WindowsBootstrap<'_>) -> (Pairs<Val>, Pairs<String>) {
    let cidr = match b.service_cidr {
        Some(c) => Val::User(c.to_string()),
        None => Val::Sub(format!("${{{SERVICE_CIDR_PARAMETER}}}")),
    };
    let dns = match (b.cluster_dns, b.service_cidr) {
        (Some(d), _) => Val::User(d.to_string()),
        (None, Some(c)) => Val::User(dns_ip_of(c).unwrap_or_default()),
        (None, None) => Val::Sub(format!("${{{DNS_VARIABLE}}}")),
    };
    let mut p = vec![
        ("EKSClusterName", Val::User(b.cluster.to_string())),
        ("APIServerEndpoint", Val::Sub("${ClusterEndpoint}".into())),
        ("Base64ClusterCA", Val::Sub(format!("${{{CA_PARAMETER}}}"))),
        ("ServiceCIDR", cidr),
        ("DNSClusterIP", dns),
    ];
    if let Some(rt) = b.container_runtime {
        p.push(("ContainerRuntime", Val::User(rt.to_string())));
    }
    let mut kubelet = vec![
        ("node-labels", format_labels(b.labels)),
        ("register-with-taints", format_taints(b.taints)),
    ];
    if let Some(m) = b.max_pods.filter(|m| *m != 0) {
        kubelet.push(("max-pods", m.to_string()));
    }
    let args = kubelet
        .iter()
        .map(|(k, v)| format!("--{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ");
    p.push(("KubeletExtraArgs", Val::User(args)));
    (p, kubelet)
}

/// The `<powershell>` text, before `Fn::Sub` and base64. Deterministic for a given input.
pub(crate) fn text(b: &WindowsBootstrap<'_>) -> String {
    let mut lines = vec![
        "<powershell>".to_string(),
        "[string]$EKSBootstrapScriptFile = \"$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1\""
            .to_string(),
    ];
    lines.extend(b.pre_bootstrap_commands.iter().map(|c| escape_sub(c)));
    let (params, kubelet) = params(b);
    match b.override_command {
        Some(command) => {
            for (k, v) in &params {
                lines.push(format!("[string]${k} = '{}'", v.write(ps_single)));
            }
            let table = kubelet
                .iter()
                .map(|(k, v)| format!(" '{}' = '{}'", ps_single(k), ps_single(v)))
                .collect::<Vec<_>>()
                .join(";");
            lines.push(format!("$KubeletExtraArgsMap = @{{{table}}}"));
            lines.push(escape_sub(command));
        }
        None => {
            let args = params
                .iter()
                .map(|(k, v)| (k, v.write(ps_double)))
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| format!("-{k} \"{v}\""))
                .collect::<Vec<_>>()
                .join(" ");
            lines.push(format!(
                "& $EKSBootstrapScriptFile {args} 3>&1 4>&1 5>&1 6>&1"
            ));
        }
    }
    lines.push("</powershell>".to_string());
    lines.join("\n")
}

/// The launch template's `UserData`: `Fn::Base64` of `Fn::Sub` of [`text`], with the endpoint
/// imported from the cluster stack and, when the text needs it, the DNS IP derived from the
/// `ClusterServiceCIDR` parameter.
pub(crate) fn user_data(b: &WindowsBootstrap<'_>) -> Value {
    let text = text(b);
    let mut vars = json!({"ClusterEndpoint": import_cluster(b.cluster, out::ENDPOINT)});
    if text.contains(&format!("${{{DNS_VARIABLE}}}")) {
        let octet = |i: u8| json!({"Fn::Select": [i, {"Fn::Split": [".", {"Ref": SERVICE_CIDR_PARAMETER}]}]});
        vars[DNS_VARIABLE] = json!({"Fn::Join": [".", [octet(0), octet(1), octet(2), "10"]]});
    }
    json!({"Fn::Base64": {"Fn::Sub": [text, vars]}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot<'a>(labels: &'a BTreeMap<String, String>, taints: &'a [Taint]) -> WindowsBootstrap<'a> {
        WindowsBootstrap {
            cluster: "windohs",
            labels,
            taints,
            max_pods: None,
            cluster_dns: None,
            service_cidr: Some("10.100.0.0/16"),
            container_runtime: Some("containerd"),
            pre_bootstrap_commands: &[],
            override_command: None,
        }
    }

    /// eksctl's `windows_test.go` cases (taints, maxPods, preBootstrapCommands, containerd,
    /// clusterDNS), with the endpoint and CA as substitutions instead of eksctl's live values.
    #[test]
    fn the_bootstrap_call_follows_eksctls_parameter_order() {
        let labels = BTreeMap::from([("foo".to_string(), "bar".to_string())]);
        let taints = [Taint {
            key: "foo".into(),
            value: Some("bar".into()),
            effect: "NoSchedule".into(),
        }];
        let pre = ["start /wait msiexec.exe /qb /i \"agent.msi\"".to_string()];
        let mut b = boot(&labels, &taints);
        b.max_pods = Some(100);
        b.pre_bootstrap_commands = &pre;
        assert_eq!(
            text(&b),
            "<powershell>
[string]$EKSBootstrapScriptFile = \"$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1\"
start /wait msiexec.exe /qb /i \"agent.msi\"
& $EKSBootstrapScriptFile -EKSClusterName \"windohs\" -APIServerEndpoint \"${ClusterEndpoint}\" -Base64ClusterCA \"${ClusterCertificateAuthorityData}\" -ServiceCIDR \"10.100.0.0/16\" -DNSClusterIP \"10.100.0.10\" -ContainerRuntime \"containerd\" -KubeletExtraArgs \"--node-labels=foo=bar --register-with-taints=foo=bar:NoSchedule --max-pods=100\" 3>&1 4>&1 5>&1 6>&1
</powershell>"
        );
        let no_labels = BTreeMap::new();
        let mut b = boot(&no_labels, &[]);
        b.cluster_dns = Some("172.20.0.10");
        b.container_runtime = None;
        assert!(text(&b).contains(
            "-ServiceCIDR \"10.100.0.0/16\" -DNSClusterIP \"172.20.0.10\" -KubeletExtraArgs \"--node-labels= --register-with-taints=\" 3>"
        ));
    }

    #[test]
    fn an_override_command_gets_eksctls_variables() {
        let labels = BTreeMap::from([("role".to_string(), "win".to_string())]);
        let mut b = boot(&labels, &[]);
        b.service_cidr = None;
        b.override_command =
            Some("& $EKSBootstrapScriptFile -EKSClusterName \"$EKSClusterName\" ${x}\n");
        assert_eq!(
            text(&b),
            "<powershell>
[string]$EKSBootstrapScriptFile = \"$env:ProgramFiles\\Amazon\\EKS\\Start-EKSBootstrap.ps1\"
[string]$EKSClusterName = 'windohs'
[string]$APIServerEndpoint = '${ClusterEndpoint}'
[string]$Base64ClusterCA = '${ClusterCertificateAuthorityData}'
[string]$ServiceCIDR = '${ClusterServiceCIDR}'
[string]$DNSClusterIP = '${ClusterDNSIP}'
[string]$ContainerRuntime = 'containerd'
[string]$KubeletExtraArgs = '--node-labels=role=win --register-with-taints='
$KubeletExtraArgsMap = @{ 'node-labels' = 'role=win'; 'register-with-taints' = ''}
& $EKSBootstrapScriptFile -EKSClusterName \"$EKSClusterName\" ${!x}

</powershell>"
        );
        let ud = user_data(&b);
        let vars = &ud["Fn::Base64"]["Fn::Sub"][1];
        assert_eq!(
            vars["ClusterDNSIP"]["Fn::Join"][1][3],
            json!("10"),
            "{vars}"
        );
        assert_eq!(
            vars["ClusterDNSIP"]["Fn::Join"][1][0]["Fn::Select"][1]["Fn::Split"][1]["Ref"],
            "ClusterServiceCIDR"
        );
    }

    #[test]
    fn user_values_are_quoted_for_powershell_and_the_dns_ip_is_eksctls() {
        assert_eq!(ps_double("a\"b$c`d"), "a`\"b`$c``d");
        assert_eq!(ps_single("it's ${x}"), "it''s ${!x}");
        assert_eq!(dns_ip_of("10.100.0.0/16").as_deref(), Some("10.100.0.10"));
        assert_eq!(dns_ip_of("172.20.5.7/16").as_deref(), Some("172.20.0.10"));
        assert_eq!(dns_ip_of("10.9.0.0/0").as_deref(), Some("0.0.0.10"));
        assert_eq!(dns_ip_of("fd00::/108"), None);
        assert_eq!(dns_ip_of("10.0.0.0/33"), None);
        assert_eq!(
            image_id("WindowsServer2022CoreContainer", "1.33"),
            "{{resolve:ssm:/aws/service/ami-windows-latest/Windows_Server-2022-English-Core-EKS_Optimized-1.33/image_id}}"
        );
        assert!(is_windows(Some("WindowsServer2019FullContainer")));
        assert!(!is_windows(Some("WindowsServer2025FullContainer")));
        assert!(!is_windows(None));
    }
}
