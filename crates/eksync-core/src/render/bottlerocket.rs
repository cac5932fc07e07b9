//! User data and AMI of unmanaged Bottlerocket nodes, after eksctl's Bottlerocket bootstrapper
//! (`pkg/nodebootstrap/bottlerocket.go`): TOML `settings`, the user's `bottlerocket.settings`
//! with what the node group owns written over them (`kubernetes.node-labels`, `node-taints` as
//! `key = "value:Effect"`, `max-pods`, `cluster-dns-ip`, and the cluster's name, API endpoint and
//! CA), and `host-containers.admin.enabled` from `bottlerocket.enableAdminContainer` unless the
//! settings set it. Keys holding dots (labels) are quoted, as eksctl's `ProtectTOMLKeys` does.
//!
//! eksctl writes the live cluster's endpoint and CA into the text; here they are CloudFormation
//! substitutions (`${ClusterEndpoint}`, `${ClusterCertificateAuthorityData}`), and `${` in user
//! text is escaped, so the text is deterministic. Tables are written with their keys sorted
//! (eksctl's TOML library sorts them too); eksctl's comments are left out. It does not render
//! managed Bottlerocket groups or `preBootstrapCommands` (Bottlerocket has no shell to run them).

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

use super::userdata::CA_PARAMETER;
use super::{import_cluster, outputs as out, RenderError};
use crate::eksctl::Taint;
use crate::path::FieldPath;

/// What the node's settings are made of.
pub(crate) struct Settings<'a> {
    pub cluster: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub taints: &'a [Taint],
    pub max_pods: Option<i64>,
    pub cluster_dns: Option<&'a str>,
    /// `bottlerocket` of the node group (`enableAdminContainer`, `settings`).
    pub bottlerocket: Option<&'a Value>,
}

/// The launch template's `UserData`, or why the settings cannot be written.
pub(crate) fn user_data(s: &Settings<'_>, path: &FieldPath) -> Result<Value, RenderError> {
    Ok(json!({"Fn::Base64": {"Fn::Sub": [
        text(s, path)?,
        {"ClusterEndpoint": import_cluster(s.cluster, out::ENDPOINT)},
    ]}}))
}

/// A placeholder string that [`toml_value`] writes verbatim (a `Fn::Sub` variable).
const RAW: &str = "\u{0}raw:";

/// The TOML text, before `Fn::Sub` and base64.
pub(crate) fn text(s: &Settings<'_>, path: &FieldPath) -> Result<String, RenderError> {
    let user = s.bottlerocket.and_then(|b| b.get("settings"));
    let mut settings = match user {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(RenderError::NotRendered {
                path: path.key("bottlerocket").key("settings"),
                what: "bottlerocket.settings that is not a table",
            })
        }
    };
    let k8s = settings
        .entry("kubernetes")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(k8s) = k8s else {
        return Err(RenderError::NotRendered {
            path: path.key("bottlerocket").key("settings").key("kubernetes"),
            what: "bottlerocket.settings.kubernetes that is not a table",
        });
    };
    if !s.labels.is_empty() {
        k8s.insert("node-labels".into(), json!(s.labels));
    }
    if !s.taints.is_empty() {
        let taints: BTreeMap<&str, String> = s
            .taints
            .iter()
            .map(|t| {
                (
                    t.key.as_str(),
                    format!("{}:{}", t.value.clone().unwrap_or_default(), t.effect),
                )
            })
            .collect();
        k8s.insert("node-taints".into(), json!(taints));
    }
    if let Some(m) = s.max_pods {
        k8s.insert("max-pods".into(), json!(m));
    }
    if let Some(dns) = s.cluster_dns {
        k8s.insert("cluster-dns-ip".into(), json!(dns));
    }
    k8s.insert(
        "cluster-certificate".into(),
        json!(format!("{RAW}${{{CA_PARAMETER}}}")),
    );
    k8s.insert(
        "api-server".into(),
        json!(format!("{RAW}${{ClusterEndpoint}}")),
    );
    k8s.insert("cluster-name".into(), json!(s.cluster));
    let admin_set = settings
        .get("host-containers")
        .and_then(|h| h.get("admin"))
        .and_then(|a| a.get("enabled"))
        .is_some();
    let enable_admin = s
        .bottlerocket
        .and_then(|b| b.get("enableAdminContainer"))
        .and_then(Value::as_bool);
    if let (false, Some(enabled)) = (admin_set, enable_admin) {
        let hc = settings
            .entry("host-containers")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(hc) = hc {
            let admin = hc
                .entry("admin")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(admin) = admin {
                admin.insert("enabled".into(), json!(enabled));
            }
        }
    }
    let mut text = String::new();
    write_table(&mut text, &["settings".to_string()], &settings);
    Ok(text)
}

/// A TOML key: bare when it can be, else a quoted string.
fn key(k: &str) -> String {
    let bare = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        k.to_string()
    } else {
        quote(k)
    }
}

/// A TOML basic string; JSON's escapes are all valid TOML escapes. `${` is escaped for `Fn::Sub`.
fn quote(s: &str) -> String {
    let s = s.replace("${", "${!");
    serde_json::to_string(&s).unwrap_or_else(|_| format!("{s:?}"))
}

fn toml_value(v: &Value) -> String {
    match v {
        Value::String(s) => match s.strip_prefix(RAW) {
            Some(raw) => format!("\"{raw}\""),
            None => quote(s),
        },
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .filter(|i| !i.is_null())
                .map(toml_value)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(m) => {
            let sorted: BTreeMap<&String, &Value> =
                m.iter().filter(|(_, v)| !v.is_null()).collect();
            format!(
                "{{{}}}",
                sorted
                    .iter()
                    .map(|(k, v)| format!("{} = {}", key(k), toml_value(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        other => other.to_string(),
    }
}

/// Writes `[path]` with its plain values, then its sub-tables, keys sorted.
fn write_table(out: &mut String, path: &[String], table: &Map<String, Value>) {
    let sorted: BTreeMap<&String, &Value> = table.iter().filter(|(_, v)| !v.is_null()).collect();
    let plain: Vec<_> = sorted.iter().filter(|(_, v)| !v.is_object()).collect();
    if !plain.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        let header: Vec<String> = path.iter().map(|p| key(p)).collect();
        out.push_str(&format!("[{}]\n", header.join(".")));
        for (k, v) in plain {
            out.push_str(&format!("{} = {}\n", key(k), toml_value(v)));
        }
    }
    for (k, v) in sorted {
        if let Value::Object(sub) = v {
            let mut p = path.to_vec();
            p.push(k.to_string());
            write_table(out, &p, sub);
        }
    }
}

/// The Bottlerocket AMI as an SSM dynamic reference (eksctl's `auto-ssm` for Bottlerocket).
pub(crate) fn image_id(version: &str, arm: bool, gpu: bool) -> Value {
    let variant = if gpu { "-nvidia" } else { "" };
    let arch = if arm { "arm64" } else { "x86_64" };
    json!(format!(
        "{{{{resolve:ssm:/aws/service/bottlerocket/aws-k8s-{version}{variant}/{arch}/latest/image_id}}}}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_merge_the_users_and_the_node_groups() {
        let labels = BTreeMap::from([
            (
                "alpha.eksctl.io/nodegroup-name".to_string(),
                "ng".to_string(),
            ),
            ("role".to_string(), "web".to_string()),
        ]);
        let taints = [Taint {
            key: "dedicated".into(),
            value: Some("ci".into()),
            effect: "NoSchedule".into(),
        }];
        let br = json!({"enableAdminContainer": true, "settings": {
            "motd": "Hello ${USER}",
            "kubernetes": {"cluster-name": "not-mine", "eviction-hard": {"memory.available": "15%"}},
            "ntp": {"time-servers": ["a", "b"]},
        }});
        let s = Settings {
            cluster: "c",
            labels: &labels,
            taints: &taints,
            max_pods: Some(58),
            cluster_dns: None,
            bottlerocket: Some(&br),
        };
        let text = text(&s, &FieldPath::root()).expect("renders");
        assert_eq!(
            text,
            "\
[settings]
motd = \"Hello ${!USER}\"

[settings.host-containers.admin]
enabled = true

[settings.kubernetes]
api-server = \"${ClusterEndpoint}\"
cluster-certificate = \"${ClusterCertificateAuthorityData}\"
cluster-name = \"c\"
max-pods = 58

[settings.kubernetes.eviction-hard]
\"memory.available\" = \"15%\"

[settings.kubernetes.node-labels]
\"alpha.eksctl.io/nodegroup-name\" = \"ng\"
role = \"web\"

[settings.kubernetes.node-taints]
dedicated = \"ci:NoSchedule\"

[settings.ntp]
time-servers = [\"a\", \"b\"]
"
        );
    }
}
