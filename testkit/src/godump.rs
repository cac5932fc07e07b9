//! Go-style dumps of internal Kubernetes types, as some apiserver validation messages embed them
//! (`json.Marshal` of an internal type without JSON tags: Go field names in declaration order,
//! every field present, nil as `null`). Covers the pod template of the Job immutability message.
//!
//! Only the field tables of PodSpec, Container, ResourceRequirements and PodSecurityContext
//! (v1.36) are known; other nested values present in an object are converted generically
//! (keys capitalized), which may differ from the apiserver's dump.

use serde_json::{Map, Value};

/// Zero value of a field in the internal type.
#[derive(Clone, Copy)]
enum Zero {
    Null,
    Str,
    False,
}

const POD_SPEC: &[(&str, &str, Zero)] = &[
    ("Volumes", "volumes", Zero::Null),
    ("InitContainers", "initContainers", Zero::Null),
    ("Containers", "containers", Zero::Null),
    ("EphemeralContainers", "ephemeralContainers", Zero::Null),
    ("RestartPolicy", "restartPolicy", Zero::Str),
    (
        "TerminationGracePeriodSeconds",
        "terminationGracePeriodSeconds",
        Zero::Null,
    ),
    ("ActiveDeadlineSeconds", "activeDeadlineSeconds", Zero::Null),
    ("DNSPolicy", "dnsPolicy", Zero::Str),
    ("NodeSelector", "nodeSelector", Zero::Null),
    ("ServiceAccountName", "serviceAccountName", Zero::Str),
    (
        "AutomountServiceAccountToken",
        "automountServiceAccountToken",
        Zero::Null,
    ),
    ("NodeName", "nodeName", Zero::Str),
    ("SecurityContext", "securityContext", Zero::Null),
    ("ImagePullSecrets", "imagePullSecrets", Zero::Null),
    ("Hostname", "hostname", Zero::Str),
    ("Subdomain", "subdomain", Zero::Str),
    ("SetHostnameAsFQDN", "setHostnameAsFQDN", Zero::Null),
    ("Affinity", "affinity", Zero::Null),
    ("SchedulerName", "schedulerName", Zero::Str),
    ("Tolerations", "tolerations", Zero::Null),
    ("HostAliases", "hostAliases", Zero::Null),
    ("PriorityClassName", "priorityClassName", Zero::Str),
    ("Priority", "priority", Zero::Null),
    ("PreemptionPolicy", "preemptionPolicy", Zero::Null),
    ("DNSConfig", "dnsConfig", Zero::Null),
    ("ReadinessGates", "readinessGates", Zero::Null),
    ("RuntimeClassName", "runtimeClassName", Zero::Null),
    ("Overhead", "overhead", Zero::Null),
    ("EnableServiceLinks", "enableServiceLinks", Zero::Null),
    (
        "TopologySpreadConstraints",
        "topologySpreadConstraints",
        Zero::Null,
    ),
    ("OS", "os", Zero::Null),
    ("SchedulingGates", "schedulingGates", Zero::Null),
    ("ResourceClaims", "resourceClaims", Zero::Null),
    ("Resources", "resources", Zero::Null),
    ("HostnameOverride", "hostnameOverride", Zero::Null),
    ("SchedulingGroup", "schedulingGroup", Zero::Null),
];

const CONTAINER: &[(&str, &str, Zero)] = &[
    ("Name", "name", Zero::Str),
    ("Image", "image", Zero::Str),
    ("Command", "command", Zero::Null),
    ("Args", "args", Zero::Null),
    ("WorkingDir", "workingDir", Zero::Str),
    ("Ports", "ports", Zero::Null),
    ("EnvFrom", "envFrom", Zero::Null),
    ("Env", "env", Zero::Null),
    ("Resources", "resources", Zero::Null),
    ("ResizePolicy", "resizePolicy", Zero::Null),
    ("RestartPolicy", "restartPolicy", Zero::Null),
    ("RestartPolicyRules", "restartPolicyRules", Zero::Null),
    ("VolumeMounts", "volumeMounts", Zero::Null),
    ("VolumeDevices", "volumeDevices", Zero::Null),
    ("LivenessProbe", "livenessProbe", Zero::Null),
    ("ReadinessProbe", "readinessProbe", Zero::Null),
    ("StartupProbe", "startupProbe", Zero::Null),
    ("Lifecycle", "lifecycle", Zero::Null),
    (
        "TerminationMessagePath",
        "terminationMessagePath",
        Zero::Str,
    ),
    (
        "TerminationMessagePolicy",
        "terminationMessagePolicy",
        Zero::Str,
    ),
    ("ImagePullPolicy", "imagePullPolicy", Zero::Str),
    ("SecurityContext", "securityContext", Zero::Null),
    ("Stdin", "stdin", Zero::False),
    ("StdinOnce", "stdinOnce", Zero::False),
    ("TTY", "tty", Zero::False),
];

const POD_SECURITY_CONTEXT: &[(&str, &str, Zero)] = &[
    ("HostNetwork", "hostNetwork", Zero::False),
    ("HostPID", "hostPID", Zero::False),
    ("HostIPC", "hostIPC", Zero::False),
    ("ShareProcessNamespace", "shareProcessNamespace", Zero::Null),
    ("HostUsers", "hostUsers", Zero::Null),
    ("SELinuxOptions", "seLinuxOptions", Zero::Null),
    ("WindowsOptions", "windowsOptions", Zero::Null),
    ("RunAsUser", "runAsUser", Zero::Null),
    ("RunAsGroup", "runAsGroup", Zero::Null),
    ("RunAsNonRoot", "runAsNonRoot", Zero::Null),
    ("SupplementalGroups", "supplementalGroups", Zero::Null),
    (
        "SupplementalGroupsPolicy",
        "supplementalGroupsPolicy",
        Zero::Null,
    ),
    ("FSGroup", "fsGroup", Zero::Null),
    ("FSGroupChangePolicy", "fsGroupChangePolicy", Zero::Null),
    ("Sysctls", "sysctls", Zero::Null),
    ("SeccompProfile", "seccompProfile", Zero::Null),
    ("AppArmorProfile", "appArmorProfile", Zero::Null),
    ("SELinuxChangePolicy", "seLinuxChangePolicy", Zero::Null),
];

fn generic(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let mut c = k.chars();
                    let go = c
                        .next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default();
                    (go, generic(x))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(generic).collect()),
        other => other.clone(),
    }
}

fn table(
    src: &Value,
    fields: &[(&str, &str, Zero)],
    nested: &dyn Fn(&str, &Value) -> Option<Value>,
) -> Value {
    let mut m = Map::new();
    for (go, json, zero) in fields {
        let v = &src[*json];
        let out = if v.is_null() {
            match zero {
                Zero::Null => Value::Null,
                Zero::Str => Value::from(""),
                Zero::False => Value::Bool(false),
            }
        } else {
            nested(go, v).unwrap_or_else(|| generic(v))
        };
        m.insert((*go).to_string(), out);
    }
    Value::Object(m)
}

fn container(c: &Value) -> Value {
    table(c, CONTAINER, &|go, v| match go {
        "Resources" => {
            let mut m = Map::new();
            m.insert("Limits".into(), v["limits"].clone());
            m.insert("Requests".into(), v["requests"].clone());
            m.insert(
                "Claims".into(),
                if v["claims"].is_null() {
                    Value::Null
                } else {
                    generic(&v["claims"])
                },
            );
            Some(Value::Object(m))
        }
        _ => None,
    })
}

/// The internal `PodTemplateSpec` of a v1 pod template, compact, as `json.Marshal` prints it.
pub fn pod_template(t: &Value) -> String {
    let spec = &t["spec"];
    let pod_spec = table(spec, POD_SPEC, &|go, v| match go {
        "Containers" | "InitContainers" | "EphemeralContainers" => Some(Value::Array(
            v.as_array()
                .map(|a| a.iter().map(container).collect())
                .unwrap_or_default(),
        )),
        "SecurityContext" => {
            let mut merged = v.clone();
            for k in ["hostNetwork", "hostPID", "hostIPC"] {
                if let Some(x) = spec.get(k) {
                    merged[k] = x.clone();
                }
            }
            Some(table(&merged, POD_SECURITY_CONTEXT, &|_, _| None))
        }
        _ => None,
    });
    let mut m = Map::new();
    if let Some(meta) = t["metadata"].as_object() {
        let mut keys: Vec<&String> = meta.keys().collect();
        keys.sort_by_key(|k| {
            ["name", "generateName", "namespace", "labels", "annotations"]
                .iter()
                .position(|x| x == k)
                .unwrap_or(99)
        });
        for k in keys {
            m.insert(k.clone(), meta[k].clone());
        }
    }
    m.insert("Spec".into(), pod_spec);
    Value::Object(m).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pod_template_dump_has_go_names_and_zeros() {
        let t = json!({"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "m", "image": "i"}],
            "restartPolicy": "Never", "securityContext": {}}});
        let d = pod_template(&t);
        assert!(d.starts_with("{\"labels\":{\"a\":\"b\"},\"Spec\":{\"Volumes\":null,\"InitContainers\":null,\"Containers\":[{\"Name\":\"m\",\"Image\":\"i\",\"Command\":null"), "{d}");
        assert!(
            d.contains(
                "\"SecurityContext\":{\"HostNetwork\":false,\"HostPID\":false,\"HostIPC\":false,"
            ),
            "{d}"
        );
        assert!(d.contains("\"TTY\":false}]"), "{d}");
    }
}
