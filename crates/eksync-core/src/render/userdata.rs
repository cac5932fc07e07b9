//! User data for unmanaged AmazonLinux2023 nodes, after eksctl's AL2023 bootstrapper
//! (`pkg/nodebootstrap/al2023.go`): a MIME multi-part document with the `preBootstrapCommands` as a
//! shell script and a `nodeadm` `NodeConfig` whose kubelet flags carry the node labels
//! (`--node-labels`) and taints (`--register-with-taints`), so they are on the node from the moment
//! it registers. AmazonLinux2 nodes get the same document with the EKS AMI's
//! `/etc/eks/bootstrap.sh` (or `overrideBootstrapCommand`) in the script instead of a `NodeConfig`
//! (eksctl's AL2 bootstrapper writes its own kubelet files; the flags it passes are the same).
//!
//! eksctl writes the live cluster's endpoint, CA and service CIDR into the text. Here they are
//! CloudFormation substitutions instead (`${ClusterEndpoint}` from the cluster stack's export, the
//! CA and service CIDR from stack parameters), so the text is deterministic. It does not render
//! other AMI families (Bottlerocket is `bottlerocket.rs`, Windows `windows.rs`, a managed group's
//! custom AMI `managed.rs`) or `kubeletExtraConfig`, nor
//! `overrideBootstrapCommand` on AmazonLinux2023.

use serde_json::{json, Value};
use std::collections::BTreeMap;

use crate::eksctl::Taint;

pub(crate) const BOUNDARY: &str = "//";
/// Template parameter holding the cluster CA (the cluster stack's `CertificateAuthorityData`).
pub(crate) const CA_PARAMETER: &str = "ClusterCertificateAuthorityData";
/// Template parameter holding the cluster's service CIDR.
pub(crate) const SERVICE_CIDR_PARAMETER: &str = "ClusterServiceCIDR";

/// What the kubelet of a node group needs to know.
pub(crate) struct NodeBootstrap<'a> {
    pub cluster: &'a str,
    /// All labels, eksctl's own included.
    pub labels: &'a BTreeMap<String, String>,
    pub taints: &'a [Taint],
    pub max_pods: Option<i64>,
    pub cluster_dns: Option<&'a str>,
    pub pre_bootstrap_commands: &'a [String],
    /// The service CIDR when the config names it; otherwise the `ClusterServiceCIDR` parameter.
    pub service_cidr: Option<&'a str>,
}

/// `--node-labels` value: `k=v` pairs sorted by key, comma-separated.
pub(crate) fn format_labels(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// `--register-with-taints` value: `key=value:Effect` (or `key:Effect`), in the given order.
pub(crate) fn format_taints(taints: &[Taint]) -> String {
    taints
        .iter()
        .map(|t| match &t.value {
            Some(v) if !v.is_empty() => format!("{}={v}:{}", t.key, t.effect),
            _ => format!("{}:{}", t.key, t.effect),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

/// Escapes `${` so that `Fn::Sub` leaves user text alone (`${!` is its literal form).
fn escape_sub(s: &str) -> String {
    s.replace("${", "${!")
}

/// The MIME document, before `Fn::Sub` and base64. Deterministic for a given input.
pub(crate) fn text(b: &NodeBootstrap<'_>) -> String {
    let mut s = String::new();
    s.push_str("MIME-Version: 1.0\n");
    s.push_str(&format!(
        "Content-Type: multipart/mixed; boundary=\"{BOUNDARY}\"\n\n"
    ));
    if !b.pre_bootstrap_commands.is_empty() {
        s.push_str(&format!("--{BOUNDARY}\n"));
        s.push_str("Content-Type: text/x-shellscript; charset=\"us-ascii\"\n\n");
        s.push_str("#!/bin/bash\nset -ex\n");
        for c in b.pre_bootstrap_commands {
            s.push_str(&escape_sub(c));
            s.push('\n');
        }
        s.push('\n');
    }
    s.push_str(&format!("--{BOUNDARY}\n"));
    s.push_str("Content-Type: application/node.eks.aws\n\n");
    s.push_str("---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n");
    s.push_str("  cluster:\n");
    s.push_str("    apiServerEndpoint: \"${ClusterEndpoint}\"\n");
    s.push_str(&format!(
        "    certificateAuthority: \"${{{CA_PARAMETER}}}\"\n"
    ));
    match b.service_cidr {
        Some(cidr) => s.push_str(&format!("    cidr: {}\n", q(&escape_sub(cidr)))),
        None => s.push_str(&format!("    cidr: \"${{{SERVICE_CIDR_PARAMETER}}}\"\n")),
    }
    s.push_str(&format!("    name: {}\n", q(b.cluster)));
    s.push_str("  kubelet:\n");
    if b.max_pods.is_some() || b.cluster_dns.is_some() {
        s.push_str("    config:\n");
        if let Some(dns) = b.cluster_dns {
            s.push_str(&format!(
                "      clusterDNS:\n      - {}\n",
                q(&escape_sub(dns))
            ));
        }
        if let Some(m) = b.max_pods {
            s.push_str(&format!("      maxPods: {m}\n"));
        }
    }
    s.push_str("    flags:\n");
    s.push_str(&format!(
        "    - {}\n",
        q(&escape_sub(&format!(
            "--node-labels={}",
            format_labels(b.labels)
        )))
    ));
    if !b.taints.is_empty() {
        s.push_str(&format!(
            "    - {}\n",
            q(&escape_sub(&format!(
                "--register-with-taints={}",
                format_taints(b.taints)
            )))
        ));
    }
    s.push_str(&format!("\n--{BOUNDARY}--\n"));
    s
}

/// The launch template's `UserData`: `Fn::Base64` of `Fn::Sub` of [`text`], with the endpoint
/// imported from the cluster stack.
pub(crate) fn user_data(b: &NodeBootstrap<'_>) -> Value {
    json!({"Fn::Base64": {"Fn::Sub": [
        text(b),
        {"ClusterEndpoint": super::import_cluster(b.cluster, super::outputs::ENDPOINT)},
    ]}})
}

/// A single-quoted shell word.
fn sh(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\"'\"'"))
}

/// The AmazonLinux2 MIME document: `preBootstrapCommands`, then `overrideBootstrapCommand` or the
/// EKS AMI's `bootstrap.sh` with the cluster's endpoint, CA and service CIDR and the kubelet flags.
pub(crate) fn al2_text(b: &NodeBootstrap<'_>, override_command: Option<&str>) -> String {
    let mut s = String::new();
    s.push_str("MIME-Version: 1.0\n");
    s.push_str(&format!(
        "Content-Type: multipart/mixed; boundary=\"{BOUNDARY}\"\n\n"
    ));
    s.push_str(&format!("--{BOUNDARY}\n"));
    s.push_str("Content-Type: text/x-shellscript; charset=\"us-ascii\"\n\n");
    s.push_str("#!/bin/bash\nset -ex\n");
    for c in b.pre_bootstrap_commands {
        s.push_str(&escape_sub(c));
        s.push('\n');
    }
    match override_command {
        Some(c) => {
            s.push_str(&escape_sub(c));
            if !c.ends_with('\n') {
                s.push('\n');
            }
        }
        None => {
            let mut kubelet = vec![format!("--node-labels={}", format_labels(b.labels))];
            if !b.taints.is_empty() {
                kubelet.push(format!(
                    "--register-with-taints={}",
                    format_taints(b.taints)
                ));
            }
            let mut args = vec![
                "/etc/eks/bootstrap.sh".to_string(),
                sh(&escape_sub(b.cluster)),
                "--apiserver-endpoint".to_string(),
                "\"${ClusterEndpoint}\"".to_string(),
                "--b64-cluster-ca".to_string(),
                format!("\"${{{CA_PARAMETER}}}\""),
                "--service-ipv4-cidr".to_string(),
                match b.service_cidr {
                    Some(cidr) => sh(&escape_sub(cidr)),
                    None => format!("\"${{{SERVICE_CIDR_PARAMETER}}}\""),
                },
            ];
            if let Some(dns) = b.cluster_dns {
                args.push("--dns-cluster-ip".into());
                args.push(sh(&escape_sub(dns)));
            }
            if let Some(m) = b.max_pods {
                args.push("--use-max-pods".into());
                args.push("false".into());
                kubelet.push(format!("--max-pods={m}"));
            }
            args.push("--kubelet-extra-args".into());
            args.push(sh(&escape_sub(&kubelet.join(" "))));
            s.push_str(&args.join(" "));
            s.push('\n');
        }
    }
    s.push_str(&format!("\n--{BOUNDARY}--\n"));
    s
}

/// The launch template's `UserData` for AmazonLinux2 (see [`al2_text`]).
pub(crate) fn al2_user_data(b: &NodeBootstrap<'_>, override_command: Option<&str>) -> Value {
    json!({"Fn::Base64": {"Fn::Sub": [
        al2_text(b, override_command),
        {"ClusterEndpoint": super::import_cluster(b.cluster, super::outputs::ENDPOINT)},
    ]}})
}
