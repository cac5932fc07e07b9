//! OpenAPI v3 discovery, as far as clients such as `kubectl` need it: the index `GET /openapi/v3`
//! (one `serverRelativeURL` with a content hash per served group version) and one OpenAPI 3.0
//! document per group version (`GET /openapi/v3/api/v1`, `/openapi/v3/apis/{group}/{version}`)
//! built from the catalogue: every path and operation the resource's verbs allow, with the
//! apiserver's operation ids, `x-kubernetes-action`, `x-kubernetes-group-version-kind` and query
//! parameters (`dryRun`, `fieldManager`, `fieldValidation`, `force`, ...). `kubectl apply` and
//! `kubectl diff` read the `fieldValidation` parameter of a kind's PATCH operation to decide that
//! the server validates fields itself (so they send `fieldValidation=Strict` instead of
//! validating on the client).
//!
//! Deliberately **not** served: the type schemas. Each kind's component schema holds only
//! `apiVersion`, `kind` and `metadata` and keeps every other field (`x-kubernetes-preserve-unknown-
//! fields`), so a client cannot validate or explain fields from it; `/openapi/v2` stays a 404
//! (clients that find v3 do not ask for it). No recording in `../shared/kube-golden/` holds an
//! OpenAPI response: the shapes follow kube-apiserver's published format (v1.36), not a replay.

use serde_json::{json, Map, Value};
use sha2::Digest as _;

use crate::catalog::{Catalog, GroupVersion, ResourceInfo};

/// `/openapi/v3/` + this key is a group version's document (`api/v1`, `apis/apps/v1`).
fn key(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `GET /openapi/v3`: every served group version with the hash of its current document.
pub fn index(catalog: &Catalog) -> Value {
    let mut paths = Map::new();
    for gv in catalog.all() {
        let doc = document(gv);
        let k = key(&gv.group, &gv.version);
        paths.insert(
            k.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{k}?hash={}", hash(&doc))}),
        );
    }
    json!({ "paths": paths })
}

/// Hash of a document as the apiserver writes it: SHA-512 of its JSON, upper-case hex.
pub fn hash(doc: &Value) -> String {
    hex::encode_upper(sha2::Sha512::digest(doc.to_string().as_bytes()))
}

/// The document at `/openapi/v3/{rest}` (`rest` without the leading slash), if served.
pub fn lookup(catalog: &Catalog, rest: &str) -> Option<Value> {
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let (group, version) = match segs.as_slice() {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return None,
    };
    catalog.group_version(group, version).map(document)
}

/// `rbac.authorization.k8s.io` -> `RbacAuthorization`; core -> `Core`; `golden.example.com` ->
/// `GoldenExampleCom` (the apiserver's operation-id spelling).
fn group_camel(group: &str) -> String {
    if group.is_empty() {
        return "Core".into();
    }
    let trimmed = group.strip_suffix(".k8s.io").unwrap_or(group);
    trimmed
        .split(['.', '-'])
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The component schema name of a kind: `io.k8s.api.apps.v1.Deployment`, or for CRD kinds the
/// reversed group (`com.example.golden.v1.Widget`), as the apiserver names them.
pub fn schema_name(r: &ResourceInfo) -> String {
    if r.custom {
        let rev: Vec<&str> = r.group.split('.').rev().collect();
        return format!("{}.{}.{}", rev.join("."), r.version, r.kind);
    }
    let package = match r.group.as_str() {
        "" => "io.k8s.api.core".to_string(),
        "apiextensions.k8s.io" => "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".into(),
        "apiregistration.k8s.io" => "io.k8s.kube-aggregator.pkg.apis.apiregistration".into(),
        "rbac.authorization.k8s.io" => "io.k8s.api.rbac".into(),
        g => format!(
            "io.k8s.api.{}",
            g.split('.').next().unwrap_or(g).replace('-', "")
        ),
    };
    format!("{package}.{}.{}", r.version, r.kind)
}

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

fn query(name: &str, description: &str, ty: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": ty, "uniqueItems": true}})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "description": description, "required": true, "schema": {"type": "string", "uniqueItems": true}})
}

fn write_params(with_force: bool) -> Vec<Value> {
    let mut v = vec![
        query("dryRun", "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed", "string"),
        query("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes.", "string"),
        query("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict", "string"),
    ];
    if with_force {
        v.push(query(
            "force",
            "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people.",
            "boolean",
        ));
    }
    v
}

fn list_params() -> Vec<Value> {
    let mut v: Vec<Value> = [
        ("allowWatchBookmarks", "boolean"),
        ("continue", "string"),
        ("fieldSelector", "string"),
        ("labelSelector", "string"),
        ("limit", "integer"),
        ("resourceVersion", "string"),
        ("resourceVersionMatch", "string"),
        ("sendInitialEvents", "boolean"),
        ("timeoutSeconds", "integer"),
        ("watch", "boolean"),
    ]
    .iter()
    .map(|(n, t)| query(n, "", t))
    .collect();
    for p in &mut v {
        if let Some(m) = p.as_object_mut() {
            m.shift_remove("description");
        }
    }
    v
}

fn json_content(schema: &str) -> Value {
    let r = json!({"schema": {"$ref": format!("#/components/schemas/{schema}")}});
    json!({"application/json": r.clone(), "application/yaml": r})
}

/// One operation of a resource.
fn operation(
    r: &ResourceInfo,
    action: &str,
    id_verb: &str,
    scope: &str,
    params: Vec<Value>,
    body: Option<Value>,
    ok: &[(&str, &str)],
) -> Value {
    let mut op = Map::new();
    op.insert(
        "tags".into(),
        json!([format!(
            "{}_{}",
            group_camel(&r.group).to_lowercase(),
            r.version
        )]),
    );
    op.insert("description".into(), json!(format!("{action} {}", r.kind)));
    op.insert(
        "operationId".into(),
        json!(format!(
            "{id_verb}{}{}{scope}{}",
            group_camel(&r.group),
            {
                let mut c = r.version.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            },
            r.kind
        )),
    );
    op.insert("parameters".into(), Value::Array(params));
    if let Some(b) = body {
        op.insert("requestBody".into(), b);
    }
    let mut responses = Map::new();
    for (code, schema) in ok {
        responses.insert(
            code.to_string(),
            json!({"description": if *code == "201" { "Created" } else if *code == "202" { "Accepted" } else { "OK" }, "content": json_content(schema)}),
        );
    }
    responses.insert("401".into(), json!({"description": "Unauthorized"}));
    op.insert("responses".into(), Value::Object(responses));
    op.insert("x-kubernetes-action".into(), json!(action));
    op.insert(
        "x-kubernetes-group-version-kind".into(),
        json!({"group": r.group, "kind": r.kind, "version": r.version}),
    );
    Value::Object(op)
}

/// The OpenAPI 3.0 document of one group version.
pub fn document(gv: &GroupVersion) -> Value {
    let prefix = if gv.group.is_empty() {
        format!("/api/{}", gv.version)
    } else {
        format!("/apis/{}/{}", gv.group, gv.version)
    };
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut needs_list_meta = false;
    for r in &gv.resources {
        let schema = schema_name(r);
        let list_schema = format!("{schema}List");
        let scope = if r.namespaced { "Namespaced" } else { "" };
        let base = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", r.resource)
        } else {
            format!("{prefix}/{}", r.resource)
        };
        let mut common = vec![
            json!({"name": "pretty", "in": "query", "description": "If 'true', then the output is pretty printed.", "schema": {"type": "string", "uniqueItems": true}}),
        ];
        if r.namespaced {
            common.insert(
                0,
                path_param(
                    "namespace",
                    "object name and auth scope, such as for teams and projects",
                ),
            );
        }
        let body = |types: &[&str], schema: &str| {
            let mut content = Map::new();
            for t in types {
                content.insert(
                    t.to_string(),
                    json!({"schema": {"$ref": format!("#/components/schemas/{schema}")}}),
                );
            }
            json!({"content": content, "required": true})
        };
        // The collection: list, create, deletecollection.
        let mut coll = Map::new();
        if r.has_verb("list") {
            needs_list_meta = true;
            coll.insert(
                "get".into(),
                operation(
                    r,
                    "list",
                    "list",
                    scope,
                    list_params(),
                    None,
                    &[("200", &list_schema)],
                ),
            );
        }
        if r.has_verb("create") {
            coll.insert(
                "post".into(),
                operation(
                    r,
                    "post",
                    "create",
                    scope,
                    write_params(false),
                    Some(body(&["*/*"], &schema)),
                    &[("200", &schema), ("201", &schema), ("202", &schema)],
                ),
            );
        }
        if r.has_verb("deletecollection") {
            coll.insert(
                "delete".into(),
                operation(
                    r,
                    "deletecollection",
                    "deleteCollection",
                    scope,
                    vec![
                        query("dryRun", "", "string"),
                        query("labelSelector", "", "string"),
                    ],
                    None,
                    &[("200", &format!("{META}.Status"))],
                ),
            );
        }
        if !coll.is_empty() {
            coll.insert("parameters".into(), Value::Array(common.clone()));
            paths.insert(base.clone(), Value::Object(coll));
        }
        // The object: read, replace, patch, delete.
        let mut item = Map::new();
        if r.has_verb("get") {
            item.insert(
                "get".into(),
                operation(
                    r,
                    "get",
                    "read",
                    scope,
                    Vec::new(),
                    None,
                    &[("200", &schema)],
                ),
            );
        }
        if r.has_verb("update") {
            item.insert(
                "put".into(),
                operation(
                    r,
                    "put",
                    "replace",
                    scope,
                    write_params(false),
                    Some(body(&["*/*"], &schema)),
                    &[("200", &schema), ("201", &schema)],
                ),
            );
        }
        if r.has_verb("patch") {
            item.insert(
                "patch".into(),
                operation(
                    r,
                    "patch",
                    "patch",
                    scope,
                    write_params(true),
                    Some(body(
                        &[
                            "application/apply-patch+yaml",
                            "application/json-patch+json",
                            "application/merge-patch+json",
                            "application/strategic-merge-patch+json",
                        ],
                        &format!("{META}.Patch"),
                    )),
                    &[("200", &schema), ("201", &schema)],
                ),
            );
        }
        if r.has_verb("delete") {
            item.insert(
                "delete".into(),
                operation(
                    r,
                    "delete",
                    "delete",
                    scope,
                    vec![
                        query("dryRun", "", "string"),
                        query("gracePeriodSeconds", "", "integer"),
                        query("propagationPolicy", "", "string"),
                    ],
                    None,
                    &[
                        ("200", &format!("{META}.Status")),
                        ("202", &format!("{META}.Status")),
                    ],
                ),
            );
        }
        if !item.is_empty() {
            let mut params = vec![path_param("name", &format!("name of the {}", r.kind))];
            params.extend(common.iter().cloned());
            item.insert("parameters".into(), Value::Array(params));
            paths.insert(format!("{base}/{{name}}"), Value::Object(item));
        }
        let gvk = json!([{"group": r.group, "kind": r.kind, "version": r.version}]);
        schemas.insert(
            schema.clone(),
            json!({
                "description": format!("{} (testkit serves no field schema: fields other than apiVersion, kind and metadata are kept unchecked)", r.kind),
                "type": "object",
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"default": {}, "allOf": [{"$ref": format!("#/components/schemas/{META}.ObjectMeta")}]}
                },
                "x-kubernetes-preserve-unknown-fields": true,
                "x-kubernetes-group-version-kind": gvk
            }),
        );
        if r.has_verb("list") {
            schemas.insert(
                list_schema,
                json!({
                    "type": "object",
                    "required": ["items"],
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "items": {"type": "array", "items": {"default": {}, "allOf": [{"$ref": format!("#/components/schemas/{schema}")}]}},
                        "metadata": {"default": {}, "allOf": [{"$ref": format!("#/components/schemas/{META}.ListMeta")}]}
                    },
                    "x-kubernetes-group-version-kind": [{"group": r.group, "kind": format!("{}List", r.kind), "version": r.version}]
                }),
            );
        }
    }
    for (name, v) in [
        (
            "ObjectMeta",
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        ),
        ("Patch", json!({"type": "object"})),
        (
            "Status",
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        ),
    ] {
        schemas.insert(format!("{META}.{name}"), v);
    }
    if needs_list_meta {
        schemas.insert(
            format!("{META}.ListMeta"),
            json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.36.2"},
        "paths": paths,
        "components": {"schemas": schemas}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lists_every_group_version_with_its_hash() {
        let c = Catalog::default();
        let idx = index(&c);
        let paths = idx["paths"].as_object().expect("paths");
        assert_eq!(paths.len(), c.all().count());
        let apps = paths["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .expect("apps url");
        let doc = lookup(&c, "apis/apps/v1").expect("apps doc");
        assert_eq!(
            apps,
            format!("/openapi/v3/apis/apps/v1?hash={}", hash(&doc))
        );
        assert!(paths.contains_key("api/v1"));
        assert!(lookup(&c, "apis/apps/v9").is_none());
        assert!(lookup(&c, "apis/nothing.example/v1").is_none());
    }

    /// What kubectl's field-validation check looks for: a PATCH operation carrying the kind's
    /// `x-kubernetes-group-version-kind` and a `fieldValidation` query parameter.
    #[test]
    fn patch_operations_declare_field_validation() {
        let c = Catalog::default();
        for (rest, path, kind, id) in [
            (
                "apis/apps/v1",
                "/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
                "Deployment",
                "patchAppsV1NamespacedDeployment",
            ),
            (
                "api/v1",
                "/api/v1/namespaces/{name}",
                "Namespace",
                "patchCoreV1Namespace",
            ),
            (
                "apis/rbac.authorization.k8s.io/v1",
                "/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings/{name}",
                "RoleBinding",
                "patchRbacAuthorizationV1NamespacedRoleBinding",
            ),
        ] {
            let doc = lookup(&c, rest).expect("doc");
            let op = &doc["paths"][path]["patch"];
            assert_eq!(op["operationId"], id, "{path}");
            assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], kind);
            let params = op["parameters"].as_array().expect("parameters");
            assert!(params
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
            let schema = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .expect("ref")
                .trim_start_matches("#/components/schemas/");
            assert!(
                doc["components"]["schemas"].get(schema).is_some(),
                "{schema}"
            );
        }
        // A resource without the patch verb has no PATCH operation.
        let authz = lookup(&c, "apis/authorization.k8s.io/v1").expect("authz");
        assert!(authz["paths"]
            .as_object()
            .expect("paths")
            .values()
            .all(|p| p.get("patch").is_none()));
    }

    #[test]
    fn names_follow_the_apiserver() {
        let c = Catalog::default();
        let crd = c
            .find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
            .expect("crd");
        assert_eq!(
            schema_name(crd),
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition"
        );
        let role = c
            .find("rbac.authorization.k8s.io", "v1", "roles")
            .expect("roles");
        assert_eq!(schema_name(role), "io.k8s.api.rbac.v1.Role");
        assert_eq!(group_camel("golden.example.com"), "GoldenExampleCom");
    }
}
