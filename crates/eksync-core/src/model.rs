//! The desired state as loaded from a repo: clusters (eksctl `ClusterConfig`), eksync's own kinds
//! (IAM inline role policies) and Kubernetes objects, each with where it came from. Plain data; the
//! loader builds it, the graph and renderers read it. Nothing here is validated or resolved.

use serde::Serialize;
use serde_json::Value;

use super::eksctl::ClusterConfig;
use super::kube::ObjectKey;
use super::path::FieldPath;
use super::refs::ValueRef;

/// eksync's own API group for kinds eksctl has no field for.
pub const EKSYNC_API_VERSION: &str = "eksync.io/v1alpha1";

/// Where a document came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Origin {
    pub file: String,
    /// 0-based document index in the file.
    pub document: usize,
    pub line: usize,
}

/// One repo's settings (`eksync.yaml`), with defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub default_namespace: String,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    /// Which manifests belong to which cluster, for repos that hold several.
    pub clusters: Vec<ClusterPaths>,
    /// The source's name (`spec.source`): labels its objects and names its inventory, so that
    /// several sources share a cluster. `None`: derived from the repo by the reader.
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterPaths {
    pub name: String,
    pub paths: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_namespace: "default".to_string(),
            include: vec![
                "**/*.yaml".to_string(),
                "**/*.yml".to_string(),
                "**/*.json".to_string(),
            ],
            exclude: Vec::new(),
            clusters: Vec::new(),
            source: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub config: ClusterConfig,
    pub origin: Origin,
}

impl Cluster {
    pub fn name(&self) -> &str {
        &self.config.metadata.name
    }
}

/// A reference found in a document, with the path of the string that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRef {
    pub path: FieldPath,
    pub value: ValueRef,
}

/// How eksync treats drift on a resource: correct it (default) or only report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftMode {
    #[default]
    Correct,
    DetectOnly,
}

/// `kind: IAMRolePolicy`: an inline policy put on a role, typically one a node group's stack
/// creates (the role name then flows from that stack).
#[derive(Debug, Clone, PartialEq)]
pub struct RolePolicy {
    pub name: String,
    pub cluster: Option<String>,
    /// The role name as written: a literal or a string with references.
    pub role_name: String,
    pub document: Value,
    pub mode: DriftMode,
    pub origin: Origin,
    pub refs: Vec<FoundRef>,
}

/// A Kubernetes object from the repo.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeObject {
    pub key: ObjectKey,
    pub api_version: String,
    /// The cluster the object belongs to, when the repo holds a ClusterConfig.
    pub cluster: Option<String>,
    /// The body as Git holds it, with the default namespace filled in.
    pub body: Value,
    pub origin: Origin,
    /// Where the object sits in its YAML document: the root, or `items[i]` of a `kind: List`.
    pub base: FieldPath,
    pub refs: Vec<FoundRef>,
}

impl KubeObject {
    /// A path inside the object as a path inside its document, for locating diagnostics.
    pub fn field(&self, path: &FieldPath) -> FieldPath {
        self.base.join(path)
    }
}

/// Everything loaded from a repo.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    pub settings: Settings,
    pub clusters: Vec<Cluster>,
    pub role_policies: Vec<RolePolicy>,
    pub objects: Vec<KubeObject>,
}

impl Model {
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name() == name)
    }
}
