//! The API catalogue: which groups, versions and resources the server serves, built-in
//! (`catalog.txt`, the resource table of kube-apiserver v1.36.2) plus those of Established CRDs,
//! and the discovery documents built from it (`/api`, `/apis`, `/apis/{g}/{v}`, aggregated v2).
//!
//! Only the catalogue and the documents live here; serving objects is `api`'s job. Most built-in
//! resources are listed (so discovery is complete) but only a few kinds get defaults or
//! validation; see the crate README.

use std::sync::OnceLock;

use base64::Engine as _;
use serde_json::{json, Map, Value};
use sha2::Digest as _;

/// One subresource of a resource (`status`, `scale`, `finalize`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct SubResource {
    /// `status`.
    pub name: String,
    /// Response kind group (`autoscaling` for `scale`, empty when same as parent).
    pub group: String,
    /// Response kind version (empty when same as parent).
    pub version: String,
    /// Response kind.
    pub kind: String,
    /// Verbs.
    pub verbs: Vec<String>,
}

/// One served resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    /// API group (`""` for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Plural resource name.
    pub resource: String,
    /// Singular name.
    pub singular: String,
    /// Kind.
    pub kind: String,
    /// Namespaced or cluster scoped.
    pub namespaced: bool,
    /// Verbs in discovery order.
    pub verbs: Vec<String>,
    /// Short names.
    pub short_names: Vec<String>,
    /// Categories.
    pub categories: Vec<String>,
    /// Subresources.
    pub subresources: Vec<SubResource>,
    /// `storageVersionHash` (absent for resources that cannot be stored).
    pub storage_version_hash: Option<String>,
    /// True for CRD-defined resources.
    pub custom: bool,
}

impl ResourceInfo {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    /// True when the resource has the named subresource.
    pub fn has_sub(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s.name == name)
    }
    /// True when the verb is served.
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

/// Group and version with their resources, in discovery order.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupVersion {
    /// Group (`""` for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Resources.
    pub resources: Vec<ResourceInfo>,
}

/// `storageVersionHash`: the first 8 bytes of sha256("group/version/kind"), base64.
pub fn storage_version_hash(group: &str, version: &str, kind: &str) -> String {
    let digest = sha2::Sha256::digest(format!("{group}/{version}/{kind}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&digest[..8])
}

fn split_list(s: &str) -> Vec<String> {
    if s == "-" {
        Vec::new()
    } else {
        s.split(',').map(str::to_string).collect()
    }
}

fn parse_catalog(text: &str) -> Vec<GroupVersion> {
    let mut out: Vec<GroupVersion> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split(' ').collect();
        if cols.len() != 11 {
            continue;
        }
        let group = if cols[0] == "-" {
            String::new()
        } else {
            cols[0].to_string()
        };
        let version = cols[1].to_string();
        let subresources = if cols[9] == "-" {
            Vec::new()
        } else {
            cols[9]
                .split(';')
                .filter_map(|s| {
                    let p: Vec<&str> = s.split(':').collect();
                    (p.len() == 5).then(|| SubResource {
                        name: p[0].to_string(),
                        group: p[1].to_string(),
                        version: p[2].to_string(),
                        kind: p[3].to_string(),
                        verbs: split_list(p[4]),
                    })
                })
                .collect()
        };
        let storage_version_hash = match cols[10] {
            "none" => None,
            "-" => Some(storage_version_hash(&group, &version, cols[4])),
            other => Some(other.to_string()),
        };
        let info = ResourceInfo {
            group: group.clone(),
            version: version.clone(),
            resource: cols[2].to_string(),
            singular: cols[3].to_string(),
            kind: cols[4].to_string(),
            namespaced: cols[5] == "N",
            verbs: split_list(cols[6]),
            short_names: split_list(cols[7]),
            categories: split_list(cols[8]),
            subresources,
            storage_version_hash,
            custom: false,
        };
        match out
            .iter_mut()
            .find(|gv| gv.group == group && gv.version == version)
        {
            Some(gv) => gv.resources.push(info),
            None => out.push(GroupVersion {
                group,
                version,
                resources: vec![info],
            }),
        }
    }
    out
}

/// The built-in catalogue, parsed once.
pub fn builtin() -> &'static [GroupVersion] {
    static CATALOG: OnceLock<Vec<GroupVersion>> = OnceLock::new();
    CATALOG.get_or_init(|| parse_catalog(include_str!("catalog.txt")))
}

/// The served catalogue: built-ins followed by CRD group versions.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// CRD-defined group versions, in order of establishment.
    pub custom: Vec<GroupVersion>,
}

impl Catalog {
    /// All group versions, built-ins first.
    pub fn all(&self) -> impl Iterator<Item = &GroupVersion> {
        builtin().iter().chain(self.custom.iter())
    }

    /// True when some group version of the group is served.
    pub fn has_group(&self, group: &str) -> bool {
        self.all().any(|gv| gv.group == group)
    }

    /// True when the group/version is served.
    pub fn group_version(&self, group: &str, version: &str) -> Option<&GroupVersion> {
        self.all()
            .find(|gv| gv.group == group && gv.version == version)
    }

    /// True when the group is defined by CRDs only.
    pub fn is_custom_group(&self, group: &str) -> bool {
        !builtin().iter().any(|gv| gv.group == group)
    }

    /// Looks a resource up.
    pub fn find(&self, group: &str, version: &str, resource: &str) -> Option<&ResourceInfo> {
        self.group_version(group, version)?
            .resources
            .iter()
            .find(|r| r.resource == resource)
    }

    /// Looks a resource up by kind (any version of the group; preferred first).
    pub fn find_kind(&self, group: &str, kind: &str) -> Option<&ResourceInfo> {
        self.all()
            .filter(|gv| gv.group == group)
            .flat_map(|gv| gv.resources.iter())
            .find(|r| r.kind == kind)
    }

    /// Ordered list of group names (core excluded), each with its versions.
    fn groups(&self) -> Vec<(String, Vec<&GroupVersion>)> {
        let mut out: Vec<(String, Vec<&GroupVersion>)> = Vec::new();
        for gv in self.all().filter(|gv| !gv.group.is_empty()) {
            match out.iter_mut().find(|(g, _)| *g == gv.group) {
                Some((_, v)) => v.push(gv),
                None => out.push((gv.group.clone(), vec![gv])),
            }
        }
        out
    }

    /// `GET /api`.
    pub fn api_versions(&self, server_address: &str) -> Value {
        json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
        })
    }

    /// `GET /apis`.
    pub fn api_group_list(&self) -> Value {
        let groups: Vec<Value> = self
            .groups()
            .iter()
            .map(|(g, vs)| api_group(g, vs))
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// `GET /apis/{group}`.
    pub fn api_group(&self, group: &str) -> Option<Value> {
        self.groups()
            .iter()
            .find(|(g, _)| g == group)
            .map(|(g, vs)| {
                let mut v = api_group(g, vs);
                if let Value::Object(m) = &mut v {
                    let mut out = Map::new();
                    out.insert("kind".into(), json!("APIGroup"));
                    out.insert("apiVersion".into(), json!("v1"));
                    out.extend(std::mem::take(m));
                    return Value::Object(out);
                }
                v
            })
    }

    /// `GET /api/v1` or `GET /apis/{group}/{version}`.
    pub fn api_resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let gv = self.group_version(group, version)?;
        let mut resources = Vec::new();
        for r in &gv.resources {
            let mut m = Map::new();
            m.insert("name".into(), json!(r.resource));
            m.insert("singularName".into(), json!(r.singular));
            m.insert("namespaced".into(), json!(r.namespaced));
            m.insert("kind".into(), json!(r.kind));
            m.insert("verbs".into(), json!(r.verbs));
            if !r.short_names.is_empty() {
                m.insert("shortNames".into(), json!(r.short_names));
            }
            if !r.categories.is_empty() {
                m.insert("categories".into(), json!(r.categories));
            }
            if let Some(h) = &r.storage_version_hash {
                m.insert("storageVersionHash".into(), json!(h));
            }
            resources.push(Value::Object(m));
            for s in &r.subresources {
                let mut m = Map::new();
                m.insert("name".into(), json!(format!("{}/{}", r.resource, s.name)));
                m.insert("singularName".into(), json!(""));
                m.insert("namespaced".into(), json!(r.namespaced));
                if !s.group.is_empty() || !s.version.is_empty() {
                    m.insert("group".into(), json!(s.group));
                    m.insert("version".into(), json!(s.version));
                }
                m.insert("kind".into(), json!(s.kind));
                m.insert("verbs".into(), json!(s.verbs));
                resources.push(Value::Object(m));
            }
        }
        let mut out = Map::new();
        out.insert("kind".into(), json!("APIResourceList"));
        if !group.is_empty() {
            out.insert("apiVersion".into(), json!("v1"));
        }
        out.insert("groupVersion".into(), json!(gv_string(group, version)));
        out.insert("resources".into(), Value::Array(resources));
        Some(Value::Object(out))
    }

    /// Aggregated discovery (`apidiscovery.k8s.io/v2`) of the core group (`core == true`) or of
    /// all other groups.
    pub fn aggregated(&self, core: bool) -> Value {
        let items: Vec<Value> = if core {
            self.all()
                .filter(|gv| gv.group.is_empty())
                .map(|gv| json!({"metadata": {}, "versions": [aggregated_version(gv)]}))
                .collect()
        } else {
            self.groups()
                .iter()
                .map(|(g, vs)| {
                    json!({
                        "metadata": {"name": g},
                        "versions": vs.iter().map(|gv| aggregated_version(gv)).collect::<Vec<_>>()
                    })
                })
                .collect()
        };
        json!({
            "kind": "APIGroupDiscoveryList",
            "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {},
            "items": items
        })
    }
}

fn gv_string(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

fn api_group(group: &str, versions: &[&GroupVersion]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|gv| json!({"groupVersion": gv_string(group, &gv.version), "version": gv.version}))
        .collect();
    let preferred = vs.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": vs, "preferredVersion": preferred})
}

fn aggregated_version(gv: &GroupVersion) -> Value {
    let resources: Vec<Value> = gv
        .resources
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("resource".into(), json!(r.resource));
            m.insert("responseKind".into(), json!({"group": "", "version": "", "kind": r.kind}));
            m.insert("scope".into(), json!(if r.namespaced { "Namespaced" } else { "Cluster" }));
            m.insert("singularResource".into(), json!(r.singular));
            m.insert("verbs".into(), json!(r.verbs));
            if !r.short_names.is_empty() {
                m.insert("shortNames".into(), json!(r.short_names));
            }
            if !r.categories.is_empty() {
                m.insert("categories".into(), json!(r.categories));
            }
            if !r.subresources.is_empty() {
                let subs: Vec<Value> = r
                    .subresources
                    .iter()
                    .map(|s| {
                        json!({
                            "subresource": s.name,
                            "responseKind": {"group": s.group, "version": s.version, "kind": s.kind},
                            "verbs": s.verbs
                        })
                    })
                    .collect();
                m.insert("subresources".into(), Value::Array(subs));
            }
            Value::Object(m)
        })
        .collect();
    json!({"version": gv.version, "resources": resources, "freshness": "Current"})
}

/// The resources a CRD defines (one per served version), as served once it is Established.
pub fn crd_resources(crd: &Value) -> Vec<ResourceInfo> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default().to_string();
    let names = &spec["names"];
    let plural = names["plural"].as_str().unwrap_or_default().to_string();
    let kind = names["kind"].as_str().unwrap_or_default().to_string();
    let singular = names["singular"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_lowercase());
    let namespaced = spec["scope"].as_str() != Some("Cluster");
    let short_names: Vec<String> = names["shortNames"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let categories: Vec<String> = names["categories"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let storage = spec["versions"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["storage"] == json!(true)))
        .and_then(|v| v["name"].as_str())
        .unwrap_or("v1")
        .to_string();
    let mut out = Vec::new();
    for v in spec["versions"].as_array().into_iter().flatten() {
        if v["served"] != json!(true) {
            continue;
        }
        let version = v["name"].as_str().unwrap_or_default().to_string();
        let mut subresources = Vec::new();
        if v["subresources"].get("status").is_some() {
            subresources.push(SubResource {
                name: "status".into(),
                group: String::new(),
                version: String::new(),
                kind: kind.clone(),
                verbs: vec!["get".into(), "patch".into(), "update".into()],
            });
        }
        if v["subresources"].get("scale").is_some() {
            subresources.push(SubResource {
                name: "scale".into(),
                group: "autoscaling".into(),
                version: "v1".into(),
                kind: "Scale".into(),
                verbs: vec!["get".into(), "patch".into(), "update".into()],
            });
        }
        out.push(ResourceInfo {
            group: group.clone(),
            version,
            resource: plural.clone(),
            singular: singular.clone(),
            kind: kind.clone(),
            namespaced,
            verbs: [
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "create",
                "update",
                "watch",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            short_names: short_names.clone(),
            categories: categories.clone(),
            subresources,
            storage_version_hash: Some(storage_version_hash(&group, &storage, &kind)),
            custom: true,
        });
    }
    out
}

/// ETag of an aggregated discovery document: SHA-512 of its JSON, upper-case hex, quoted.
pub fn etag(doc: &Value) -> String {
    let digest = sha2::Sha512::digest(doc.to_string().as_bytes());
    format!("\"{}\"", hex::encode_upper(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_hash_matches_kube() {
        assert_eq!(storage_version_hash("", "v1", "ConfigMap"), "qFsyl6wFWjQ=");
        assert_eq!(
            storage_version_hash("apps", "v1", "Deployment"),
            "8aSe+NMegvE="
        );
    }

    #[test]
    fn catalog_has_core_and_apps() {
        let c = Catalog::default();
        assert!(c.find("", "v1", "configmaps").is_some());
        let d = c.find("apps", "v1", "deployments").expect("deployments");
        assert!(d.has_sub("scale") && d.has_sub("status"));
        assert!(c.find("apps", "v1", "things").is_none());
        assert!(c.is_custom_group("golden.example.com"));
    }
}
