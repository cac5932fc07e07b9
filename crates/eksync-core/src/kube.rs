//! Kubernetes objects as the core sees them: identity (group, kind, namespace, name), scope from a
//! built-in table of served kinds plus CRDs found in the repo, and read-only accessors for the parts
//! of a body the graph needs (pod specs, volumes, references). Bodies stay JSON: eksync sends what
//! Git holds, so it never round-trips objects through typed structs. No I/O, no API calls.

use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// Whether objects of a kind live in a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// An object's identity. The version is not part of it: one object is served under several.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ObjectKey {
    pub group: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    /// `Deployment.apps` / `Namespace`: kubectl's way of naming a kind with its group.
    pub fn kind_group(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// A kind the built-in table knows: its group, the versions a v1.33+ API server serves, its scope.
pub struct BuiltinKind {
    pub group: &'static str,
    pub kind: &'static str,
    pub versions: &'static [&'static str],
    pub scope: Scope,
}

macro_rules! kinds {
    ($( $group:literal $kind:literal [$($v:literal),*] $scope:ident ;)*) => {
        &[ $( BuiltinKind { group: $group, kind: $kind, versions: &[$($v),*], scope: Scope::$scope }, )* ]
    };
}

/// Kinds served by a stock kube-apiserver (v1.33 and later) and EKS.
pub static BUILTIN_KINDS: &[BuiltinKind] = kinds! {
    "" "Namespace" ["v1"] Cluster;
    "" "Node" ["v1"] Cluster;
    "" "PersistentVolume" ["v1"] Cluster;
    "" "ComponentStatus" ["v1"] Cluster;
    "" "Pod" ["v1"] Namespaced;
    "" "PodTemplate" ["v1"] Namespaced;
    "" "ReplicationController" ["v1"] Namespaced;
    "" "Service" ["v1"] Namespaced;
    "" "Endpoints" ["v1"] Namespaced;
    "" "ConfigMap" ["v1"] Namespaced;
    "" "Secret" ["v1"] Namespaced;
    "" "ServiceAccount" ["v1"] Namespaced;
    "" "PersistentVolumeClaim" ["v1"] Namespaced;
    "" "LimitRange" ["v1"] Namespaced;
    "" "ResourceQuota" ["v1"] Namespaced;
    "" "Event" ["v1"] Namespaced;
    "apps" "Deployment" ["v1"] Namespaced;
    "apps" "StatefulSet" ["v1"] Namespaced;
    "apps" "DaemonSet" ["v1"] Namespaced;
    "apps" "ReplicaSet" ["v1"] Namespaced;
    "apps" "ControllerRevision" ["v1"] Namespaced;
    "batch" "Job" ["v1"] Namespaced;
    "batch" "CronJob" ["v1"] Namespaced;
    "autoscaling" "HorizontalPodAutoscaler" ["v2", "v1"] Namespaced;
    "policy" "PodDisruptionBudget" ["v1"] Namespaced;
    "networking.k8s.io" "Ingress" ["v1"] Namespaced;
    "networking.k8s.io" "IngressClass" ["v1"] Cluster;
    "networking.k8s.io" "NetworkPolicy" ["v1"] Namespaced;
    "networking.k8s.io" "ServiceCIDR" ["v1"] Cluster;
    "networking.k8s.io" "IPAddress" ["v1"] Cluster;
    "discovery.k8s.io" "EndpointSlice" ["v1"] Namespaced;
    "rbac.authorization.k8s.io" "Role" ["v1"] Namespaced;
    "rbac.authorization.k8s.io" "RoleBinding" ["v1"] Namespaced;
    "rbac.authorization.k8s.io" "ClusterRole" ["v1"] Cluster;
    "rbac.authorization.k8s.io" "ClusterRoleBinding" ["v1"] Cluster;
    "storage.k8s.io" "StorageClass" ["v1"] Cluster;
    "storage.k8s.io" "CSIDriver" ["v1"] Cluster;
    "storage.k8s.io" "CSINode" ["v1"] Cluster;
    "storage.k8s.io" "VolumeAttachment" ["v1"] Cluster;
    "storage.k8s.io" "CSIStorageCapacity" ["v1"] Namespaced;
    "storage.k8s.io" "VolumeAttributesClass" ["v1"] Cluster;
    "scheduling.k8s.io" "PriorityClass" ["v1"] Cluster;
    "node.k8s.io" "RuntimeClass" ["v1"] Cluster;
    "coordination.k8s.io" "Lease" ["v1"] Namespaced;
    "apiextensions.k8s.io" "CustomResourceDefinition" ["v1"] Cluster;
    "apiregistration.k8s.io" "APIService" ["v1"] Cluster;
    "admissionregistration.k8s.io" "MutatingWebhookConfiguration" ["v1"] Cluster;
    "admissionregistration.k8s.io" "ValidatingWebhookConfiguration" ["v1"] Cluster;
    "admissionregistration.k8s.io" "ValidatingAdmissionPolicy" ["v1"] Cluster;
    "admissionregistration.k8s.io" "ValidatingAdmissionPolicyBinding" ["v1"] Cluster;
    "certificates.k8s.io" "CertificateSigningRequest" ["v1"] Cluster;
    "flowcontrol.apiserver.k8s.io" "FlowSchema" ["v1"] Cluster;
    "flowcontrol.apiserver.k8s.io" "PriorityLevelConfiguration" ["v1"] Cluster;
    "resource.k8s.io" "DeviceClass" ["v1"] Cluster;
    "resource.k8s.io" "ResourceClaim" ["v1"] Namespaced;
    "resource.k8s.io" "ResourceClaimTemplate" ["v1"] Namespaced;
    "resource.k8s.io" "ResourceSlice" ["v1"] Cluster;
};

pub fn builtin(group: &str, kind: &str) -> Option<&'static BuiltinKind> {
    BUILTIN_KINDS
        .iter()
        .find(|k| k.group == group && k.kind == kind)
}

/// The resource name (plural) the API server serves a kind under, as admission rules and RBAC
/// name it: `deployments`, `networkpolicies`, `ingressclasses`, `endpoints`. Right for every kind
/// of [`BUILTIN_KINDS`]; for a custom resource the CRD's `spec.names.plural` is authoritative and
/// this is only the conventional guess (the rule `kubectl` and the code generators use).
pub fn plural(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if lower == "endpoints" {
        return lower;
    }
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        return format!("{lower}es");
    }
    if let Some(stem) = lower.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    format!("{lower}s")
}

/// Namespaces every cluster has, which a repo need not declare.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Kinds whose objects run pods, and where their pod spec sits.
pub fn pod_spec_path(group: &str, kind: &str) -> Option<&'static [&'static str]> {
    match (group, kind) {
        ("", "Pod") => Some(&["spec"]),
        ("", "PodTemplate") => Some(&["template", "spec"]),
        ("", "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => Some(&["spec", "template", "spec"]),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

/// Walks `path` of keys into a JSON value.
pub fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.get(k))
}

pub fn get_str<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(v, path).and_then(Value::as_str)
}

/// What a pod spec refers to by name, each with the field path (relative to the pod spec) where it
/// is referenced. Optional references (`optional: true`) are left out: they may be absent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PodRefs {
    pub service_account: Option<String>,
    pub priority_class: Option<(String, Vec<String>)>,
    pub pvcs: Vec<(String, Vec<String>)>,
    pub config_maps: Vec<(String, Vec<String>)>,
    pub secrets: Vec<(String, Vec<String>)>,
}

fn push_unique(list: &mut Vec<(String, Vec<String>)>, name: &str, path: Vec<String>) {
    if !list.iter().any(|(n, _)| n == name) {
        list.push((name.to_string(), path));
    }
}

fn is_optional(v: &Value) -> bool {
    v.get("optional").and_then(Value::as_bool) == Some(true)
}

/// Collects the named objects a pod spec uses.
pub fn pod_refs(spec: &Value) -> PodRefs {
    let mut r = PodRefs {
        service_account: get_str(spec, &["serviceAccountName"])
            .or_else(|| get_str(spec, &["serviceAccount"]))
            .map(str::to_string),
        ..PodRefs::default()
    };
    if let Some(pc) = get_str(spec, &["priorityClassName"]) {
        r.priority_class = Some((pc.to_string(), vec!["priorityClassName".into()]));
    }
    let p = |parts: &[&str]| parts.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    for (i, vol) in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let idx = i.to_string();
        if let Some(c) = get_str(vol, &["persistentVolumeClaim", "claimName"]) {
            push_unique(
                &mut r.pvcs,
                c,
                p(&["volumes", &idx, "persistentVolumeClaim"]),
            );
        }
        if let Some(cm) = vol.get("configMap").filter(|c| !is_optional(c)) {
            if let Some(n) = get_str(cm, &["name"]) {
                push_unique(&mut r.config_maps, n, p(&["volumes", &idx, "configMap"]));
            }
        }
        if let Some(s) = vol.get("secret").filter(|c| !is_optional(c)) {
            if let Some(n) = get_str(s, &["secretName"]) {
                push_unique(&mut r.secrets, n, p(&["volumes", &idx, "secret"]));
            }
        }
        for (j, src) in get(vol, &["projected", "sources"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let jdx = j.to_string();
            if let Some(cm) = src.get("configMap").filter(|c| !is_optional(c)) {
                if let Some(n) = get_str(cm, &["name"]) {
                    let path = p(&["volumes", &idx, "projected", "sources", &jdx]);
                    push_unique(&mut r.config_maps, n, path);
                }
            }
            if let Some(s) = src.get("secret").filter(|c| !is_optional(c)) {
                if let Some(n) = get_str(s, &["name"]) {
                    let path = p(&["volumes", &idx, "projected", "sources", &jdx]);
                    push_unique(&mut r.secrets, n, path);
                }
            }
        }
    }
    for (i, s) in spec
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(n) = get_str(s, &["name"]) {
            push_unique(&mut r.secrets, n, p(&["imagePullSecrets", &i.to_string()]));
        }
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (ci, c) in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let cidx = ci.to_string();
            for (ei, e) in c
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let eidx = ei.to_string();
                if let Some(k) =
                    get(e, &["valueFrom", "configMapKeyRef"]).filter(|k| !is_optional(k))
                {
                    if let Some(n) = get_str(k, &["name"]) {
                        push_unique(&mut r.config_maps, n, p(&[list, &cidx, "env", &eidx]));
                    }
                }
                if let Some(k) = get(e, &["valueFrom", "secretKeyRef"]).filter(|k| !is_optional(k))
                {
                    if let Some(n) = get_str(k, &["name"]) {
                        push_unique(&mut r.secrets, n, p(&[list, &cidx, "env", &eidx]));
                    }
                }
            }
            for (ei, e) in c
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let eidx = ei.to_string();
                if let Some(k) = e.get("configMapRef").filter(|k| !is_optional(k)) {
                    if let Some(n) = get_str(k, &["name"]) {
                        push_unique(&mut r.config_maps, n, p(&[list, &cidx, "envFrom", &eidx]));
                    }
                }
                if let Some(k) = e.get("secretRef").filter(|k| !is_optional(k)) {
                    if let Some(n) = get_str(k, &["name"]) {
                        push_unique(&mut r.secrets, n, p(&[list, &cidx, "envFrom", &eidx]));
                    }
                }
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_knows_scope_and_versions() {
        assert_eq!(
            builtin("", "PersistentVolume").map(|k| k.scope),
            Some(Scope::Cluster)
        );
        assert_eq!(
            builtin("apps", "Deployment").map(|k| k.scope),
            Some(Scope::Namespaced)
        );
        assert!(builtin("extensions", "Deployment").is_none());
        assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
        assert_eq!(split_api_version("v1"), ("", "v1"));
    }

    #[test]
    fn plurals_are_the_served_resource_names() {
        let served = [
            "namespaces",
            "nodes",
            "persistentvolumes",
            "componentstatuses",
            "pods",
            "podtemplates",
            "replicationcontrollers",
            "services",
            "endpoints",
            "configmaps",
            "secrets",
            "serviceaccounts",
            "persistentvolumeclaims",
            "limitranges",
            "resourcequotas",
            "events",
            "deployments",
            "statefulsets",
            "daemonsets",
            "replicasets",
            "controllerrevisions",
            "jobs",
            "cronjobs",
            "horizontalpodautoscalers",
            "poddisruptionbudgets",
            "ingresses",
            "ingressclasses",
            "networkpolicies",
            "servicecidrs",
            "ipaddresses",
            "endpointslices",
            "roles",
            "rolebindings",
            "clusterroles",
            "clusterrolebindings",
            "storageclasses",
            "csidrivers",
            "csinodes",
            "volumeattachments",
            "csistoragecapacities",
            "volumeattributesclasses",
            "priorityclasses",
            "runtimeclasses",
            "leases",
            "customresourcedefinitions",
            "apiservices",
            "mutatingwebhookconfigurations",
            "validatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
            "certificatesigningrequests",
            "flowschemas",
            "prioritylevelconfigurations",
            "deviceclasses",
            "resourceclaims",
            "resourceclaimtemplates",
            "resourceslices",
        ];
        assert_eq!(served.len(), BUILTIN_KINDS.len());
        for (k, want) in BUILTIN_KINDS.iter().zip(served) {
            assert_eq!(plural(k.kind), want, "{}", k.kind);
        }
        assert_eq!(plural("Gateway"), "gateways");
        assert_eq!(plural("Policy"), "policies");
        assert_eq!(plural("Proxy"), "proxies");
        assert_eq!(plural("Key"), "keys");
    }

    #[test]
    fn pod_refs_collects_named_dependencies() {
        let spec = json!({
            "serviceAccountName": "jenkins",
            "priorityClassName": "high",
            "volumes": [
                {"name": "home", "persistentVolumeClaim": {"claimName": "jenkins-pvc"}},
                {"name": "cfg", "configMap": {"name": "casc"}},
                {"name": "opt", "configMap": {"name": "maybe", "optional": true}},
                {"name": "p", "projected": {"sources": [{"secret": {"name": "tls"}}]}}
            ],
            "containers": [{"name": "c", "env": [
                {"name": "A", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "k"}}}
            ], "envFrom": [{"configMapRef": {"name": "casc"}}]}],
            "imagePullSecrets": [{"name": "pull"}]
        });
        let r = pod_refs(&spec);
        assert_eq!(r.service_account.as_deref(), Some("jenkins"));
        assert_eq!(r.priority_class.map(|p| p.0), Some("high".into()));
        let names = |l: &[(String, Vec<String>)]| l.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
        assert_eq!(names(&r.pvcs), ["jenkins-pvc"]);
        assert_eq!(names(&r.config_maps), ["casc"]);
        assert_eq!(names(&r.secrets), ["tls", "pull", "creds"]);
    }
}
