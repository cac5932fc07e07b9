//! Validation as the apiserver answers it for the recorded cases: object names, Deployment
//! selector/template agreement, immutable fields (Deployment selector, Service clusterIP, Job
//! template, PVC spec, immutable ConfigMaps/Secrets), CRD schema checks (required, minimum,
//! maximum, enum, types), SSA typed-conversion errors (500) and unknown-field handling.
//!
//! It is not a full port of the apiserver's validation: only these rules exist, each returning
//! the recorded message. Messages that embed Go struct dumps use `godump` (Job template) and a
//! unified diff of the Go-named PVC spec.

use serde_json::{Map, Value};

use crate::error::{go_json, FieldError};
use crate::schema::Schema;

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

fn is_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn is_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_label)
}

/// Validates `metadata.name` for a kind (DNS label for Namespace and Service, a path segment
/// for the RBAC kinds, whose names like `system:controller:x` hold colons, subdomain else).
pub fn validate_name(kind: &str, name: &str) -> Vec<FieldError> {
    let label = matches!(kind, "Namespace" | "Service");
    if name.is_empty() {
        return vec![FieldError::required(
            "metadata.name",
            "name or generateName is required",
        )];
    }
    if matches!(
        kind,
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
    ) {
        // The apiserver's path.IsValidPathSegmentName.
        let msg = if name == "." || name == ".." {
            Some(format!("may not be '{name}'"))
        } else if name.contains('/') {
            Some("may not contain '/'".to_string())
        } else if name.contains('%') {
            Some("may not contain '%'".to_string())
        } else {
            None
        };
        return msg
            .map(|m| vec![FieldError::invalid("metadata.name", &Value::from(name), &m)])
            .unwrap_or_default();
    }
    let ok = if label {
        is_label(name)
    } else {
        is_subdomain(name)
    };
    if ok {
        Vec::new()
    } else {
        vec![FieldError::invalid(
            "metadata.name",
            &Value::from(name),
            if label { LABEL_MSG } else { SUBDOMAIN_MSG },
        )]
    }
}

fn selector_matches(selector: &Value, labels: &Value) -> bool {
    let Some(ml) = selector.get("matchLabels").and_then(Value::as_object) else {
        return true;
    };
    ml.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Validates a new or updated object of a built-in kind. `old` is the live object on update.
pub fn validate(kind: &str, new: &Value, old: Option<&Value>) -> Vec<FieldError> {
    let mut errs = Vec::new();
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => {
            let sel = &new["spec"]["selector"];
            let labels = &new["spec"]["template"]["metadata"]["labels"];
            if sel.is_null() {
                errs.push(FieldError::required("spec.selector", ""));
            } else if !selector_matches(sel, labels) {
                errs.push(FieldError::invalid(
                    "spec.template.metadata.labels",
                    if labels.is_null() {
                        &Value::Null
                    } else {
                        labels
                    },
                    "`selector` does not match template `labels`",
                ));
            }
            if let Some(old) = old {
                if old["spec"]["selector"] != new["spec"]["selector"] {
                    errs.push(FieldError::invalid(
                        "spec.selector",
                        sel,
                        "field is immutable",
                    ));
                }
            }
        }
        "Service" => {
            if let Some(old) = old {
                let (o, n) = (&old["spec"]["clusterIPs"], &new["spec"]["clusterIPs"]);
                if !o.is_null() && o != n {
                    errs.push(FieldError::invalid(
                        "spec.clusterIPs[0]",
                        n,
                        "may not change once set",
                    ));
                }
            }
        }
        "Job" => {
            if let Some(old) = old {
                if old["spec"]["template"] != new["spec"]["template"] {
                    errs.push(FieldError {
                        reason: "FieldValueInvalid",
                        message: format!(
                            "Invalid value: {}: field is immutable",
                            crate::godump::pod_template(&new["spec"]["template"])
                        ),
                        field: "spec.template".into(),
                    });
                }
            }
        }
        "PersistentVolumeClaim" => {
            if let Some(old) = old {
                let bound = old["status"]["phase"] == "Bound";
                if bound {
                    // Like the apiserver, only a request that goes down is held against the
                    // capacity: re-sending an unchanged request to a claim bound to a larger
                    // volume is fine.
                    let cap = quantity_bytes(&old["status"]["capacity"]["storage"]);
                    let req = quantity_bytes(&new["spec"]["resources"]["requests"]["storage"]);
                    let old_req = quantity_bytes(&old["spec"]["resources"]["requests"]["storage"]);
                    let decreased = matches!((req, old_req), (Some(r), Some(o)) if r < o);
                    if let (Some(c), Some(r), true) = (cap, req, decreased) {
                        if r < c {
                            errs.push(FieldError::forbidden(
                                "spec.resources.requests.storage",
                                "field can not be less than status.capacity",
                            ));
                        }
                    }
                } else if old["spec"] != new["spec"] {
                    errs.push(FieldError::forbidden(
                        "spec",
                        &format!(
                            "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n{}",
                            pvc_spec_diff(&old["spec"], &new["spec"])
                        ),
                    ));
                }
            }
        }
        "ConfigMap" | "Secret" => {
            if let Some(old) = old {
                if old["immutable"] == Value::Bool(true) {
                    if old["data"] != new["data"] {
                        errs.push(FieldError::forbidden(
                            "data",
                            "field is immutable when `immutable` is set",
                        ));
                    }
                    if old["binaryData"] != new["binaryData"] {
                        errs.push(FieldError::forbidden(
                            "binaryData",
                            "field is immutable when `immutable` is set",
                        ));
                    }
                    if new["immutable"] != Value::Bool(true) {
                        errs.push(FieldError::forbidden(
                            "immutable",
                            "field is immutable when `immutable` is set",
                        ));
                    }
                }
            }
        }
        _ => {}
    }
    errs
}

/// The internal (Go) `PersistentVolumeClaimSpec` as the apiserver's diff prints it: Go field
/// names in declaration order, nulls included, one-space indentation.
fn go_pvc_spec(spec: &Value) -> String {
    let or_null = |v: &Value| if v.is_null() { Value::Null } else { v.clone() };
    let capitalized = |v: &Value| match v.as_object() {
        Some(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let mut c = k.chars();
                    let go = c
                        .next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default();
                    (go, x.clone())
                })
                .collect(),
        ),
        None => Value::Null,
    };
    let mut m = Map::new();
    m.insert("AccessModes".into(), or_null(&spec["accessModes"]));
    m.insert("Selector".into(), or_null(&spec["selector"]));
    let mut res = Map::new();
    res.insert("Limits".into(), or_null(&spec["resources"]["limits"]));
    res.insert("Requests".into(), or_null(&spec["resources"]["requests"]));
    m.insert("Resources".into(), Value::Object(res));
    m.insert(
        "VolumeName".into(),
        Value::from(spec["volumeName"].as_str().unwrap_or_default()),
    );
    m.insert(
        "StorageClassName".into(),
        or_null(&spec["storageClassName"]),
    );
    m.insert("VolumeMode".into(), or_null(&spec["volumeMode"]));
    m.insert("DataSource".into(), capitalized(&spec["dataSource"]));
    m.insert("DataSourceRef".into(), capitalized(&spec["dataSourceRef"]));
    m.insert(
        "VolumeAttributesClassName".into(),
        or_null(&spec["volumeAttributesClassName"]),
    );
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    if serde::Serialize::serialize(&Value::Object(m), &mut ser).is_err() {
        return String::new();
    }
    let mut text = String::from_utf8_lossy(&out).into_owned();
    text.push('\n');
    text
}

/// Unified diff (3 lines of context, no file header) of two PVC specs, as in the apiserver's
/// "spec is immutable" message.
fn pvc_spec_diff(old: &Value, new: &Value) -> String {
    let (a, b) = (go_pvc_spec(old), go_pvc_spec(new));
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .to_string()
}

/// Parses a Kubernetes quantity (`5Gi`, `500M`, `1`) into bytes.
pub fn quantity_bytes(v: &Value) -> Option<f64> {
    let s = v.as_str()?;
    let units: [(&str, f64); 12] = [
        ("Ki", 1024f64),
        ("Mi", 1024f64.powi(2)),
        ("Gi", 1024f64.powi(3)),
        ("Ti", 1024f64.powi(4)),
        ("Pi", 1024f64.powi(5)),
        ("Ei", 1024f64.powi(6)),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (suffix, mult) in units {
        if let Some(n) = s.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|n| n * mult);
        }
    }
    s.parse::<f64>().ok()
}

/// Checks a CR against its structural schema (required, minimum, maximum, enum, type).
pub fn validate_schema(v: &Value, schema: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    schema_walk(v, schema, "", &mut errs);
    errs
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn schema_walk(v: &Value, s: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    if let Some(t) = s.get("type").and_then(Value::as_str) {
        let actual = type_name(v);
        let ok = actual == t || (t == "number" && actual == "integer");
        if !ok && !v.is_null() {
            errs.push(FieldError::invalid(
                path,
                &Value::from(actual),
                &format!(
                    "{path} in body must be of type {t}: {}",
                    go_json(&Value::from(actual))
                ),
            ));
            return;
        }
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
            if n < min {
                errs.push(FieldError::invalid(
                    path,
                    v,
                    &format!(
                        "{path} in body should be greater than or equal to {}",
                        s["minimum"]
                    ),
                ));
            }
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
            if n > max {
                errs.push(FieldError::invalid(
                    path,
                    v,
                    &format!(
                        "{path} in body should be less than or equal to {}",
                        s["maximum"]
                    ),
                ));
            }
        }
    }
    if let Some(en) = s.get("enum").and_then(Value::as_array) {
        if !en.contains(v) {
            let allowed: Vec<String> = en.iter().map(|e| e.to_string()).collect();
            errs.push(FieldError {
                reason: "FieldValueNotSupported",
                message: format!(
                    "Unsupported value: {}: supported values: {}",
                    go_json(v),
                    allowed.join(", ")
                ),
                field: path.to_string(),
            });
        }
    }
    if let Some(m) = v.as_object() {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !m.contains_key(r) {
                errs.push(FieldError::required(&join(r), ""));
            }
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (k, child) in m {
                if path.is_empty() && matches!(k.as_str(), "metadata" | "apiVersion" | "kind") {
                    continue;
                }
                if let Some(ps) = props.get(k) {
                    schema_walk(child, ps, &join(k), errs);
                }
            }
        }
    }
    if let (Some(a), Some(items)) = (v.as_array(), s.get("items")) {
        for (i, item) in a.iter().enumerate() {
            schema_walk(item, items, &format!("{path}[{i}]"), errs);
        }
    }
}

/// Removes fields a CRD schema does not declare; returns their paths (`spec.shape`).
pub fn prune_unknown(v: &mut Value, schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    prune_walk(v, schema, "", &mut out);
    out
}

fn prune_walk(v: &mut Value, s: &Value, path: &str, out: &mut Vec<String>) {
    if s.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true)) {
        return;
    }
    if let Some(m) = v.as_object_mut() {
        let Some(props) = s.get("properties").and_then(Value::as_object) else {
            return;
        };
        let keys: Vec<String> = m.keys().cloned().collect();
        for k in keys {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if path.is_empty() && matches!(k.as_str(), "metadata" | "apiVersion" | "kind") {
                continue;
            }
            match props.get(&k) {
                Some(ps) => {
                    if let Some(c) = m.get_mut(&k) {
                        prune_walk(c, ps, &p, out);
                    }
                }
                None => {
                    m.shift_remove(&k);
                    out.push(p);
                }
            }
        }
    } else if let (Some(a), Some(items)) = (v.as_array_mut(), s.get("items")) {
        for item in a {
            prune_walk(item, items, path, out);
        }
    }
}

/// SSA typed-conversion check: numbers where the schema wants numbers, and (for CRs) no
/// undeclared fields. Returns the SMD error text, like `.spec.size: expected numeric (int or
/// float), got string`.
pub fn typed_check(v: &Value, schema: &Schema) -> Option<String> {
    fn walk(v: &Value, schema: &Schema, names: &mut Vec<String>) -> Option<String> {
        fn dotted(names: &[String]) -> String {
            names.iter().map(|n| format!(".{n}")).collect::<String>()
        }
        if !names.is_empty() && schema.numeric(names) && !v.is_number() && !v.is_null() {
            let got = match v {
                Value::String(_) => "string",
                Value::Bool(_) => "bool",
                Value::Array(_) => "list",
                _ => "map",
            };
            return Some(format!(
                "{}: expected numeric (int or float), got {got}",
                dotted(names)
            ));
        }
        if let Some(m) = v.as_object() {
            for (k, c) in m {
                if names.is_empty() && matches!(k.as_str(), "metadata" | "apiVersion" | "kind") {
                    continue;
                }
                names.push(k.clone());
                if schema.crd.is_some() {
                    let parent = &names[..names.len() - 1];
                    let parent_node = if parent.is_empty() {
                        schema.crd
                    } else {
                        schema.crd_node(parent)
                    };
                    let preserve = parent_node
                        .and_then(|n| n.get("x-kubernetes-preserve-unknown-fields"))
                        .is_some_and(|b| b == &Value::Bool(true));
                    let has_props = parent_node.and_then(|n| n.get("properties")).is_some();
                    if !preserve && has_props && schema.crd_node(names).is_none() {
                        return Some(format!("{}: field not declared in schema", dotted(names)));
                    }
                }
                let r = walk(c, schema, names);
                names.pop();
                if r.is_some() {
                    return r;
                }
            }
        }
        None
    }
    walk(v, schema, &mut Vec::new())
}

/// Known top-level fields of built-in kinds, for unknown-field warnings (`None`: not checked).
pub fn known_top_level(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "ConfigMap" => &["data", "binaryData", "immutable"],
        "Secret" => &["data", "stringData", "type", "immutable"],
        "ServiceAccount" => &[
            "secrets",
            "imagePullSecrets",
            "automountServiceAccountToken",
        ],
        "Role" | "ClusterRole" => &["rules", "aggregationRule"],
        "RoleBinding" | "ClusterRoleBinding" => &["subjects", "roleRef"],
        "Namespace"
        | "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "CronJob"
        | "Service"
        | "PersistentVolume"
        | "PersistentVolumeClaim"
        | "Lease"
        | "CustomResourceDefinition"
        | "Pod" => &["spec", "status"],
        _ => return None,
    })
}

/// Removes unknown top-level fields of a built-in kind; returns their names.
pub fn drop_unknown_top_level(kind: &str, v: &mut Value) -> Vec<String> {
    let Some(known) = known_top_level(kind) else {
        return Vec::new();
    };
    let Some(m) = v.as_object_mut() else {
        return Vec::new();
    };
    let unknown: Vec<String> = m
        .keys()
        .filter(|k| {
            !matches!(k.as_str(), "apiVersion" | "kind" | "metadata")
                && !known.contains(&k.as_str())
        })
        .cloned()
        .collect();
    for k in &unknown {
        m.shift_remove(k);
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_selectors() {
        assert!(validate_name("ConfigMap", "ok-name.x").is_empty());
        assert_eq!(
            validate_name("ConfigMap", "Bad_Name")[0].field,
            "metadata.name"
        );
        let d = json!({"spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "other"}}}}});
        let e = validate("Deployment", &d, None);
        assert_eq!(
            e[0].message,
            "Invalid value: {\"app\":\"other\"}: `selector` does not match template `labels`"
        );
    }

    #[test]
    fn crd_schema_rules() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["size"],
            "properties": {"size": {"type": "integer", "minimum": 1}, "color": {"type": "string"}}}}});
        assert_eq!(
            validate_schema(&json!({"spec": {"color": "red"}}), &s)[0].field,
            "spec.size"
        );
        let e = validate_schema(&json!({"spec": {"size": 0}}), &s);
        assert_eq!(
            e[0].message,
            "Invalid value: 0: spec.size in body should be greater than or equal to 1"
        );
        let sc = Schema {
            kind: "Widget",
            crd: Some(&s),
        };
        assert_eq!(
            typed_check(&json!({"spec": {"size": "big"}}), &sc).as_deref(),
            Some(".spec.size: expected numeric (int or float), got string")
        );
        assert_eq!(
            typed_check(&json!({"spec": {"size": 1, "shape": "x"}}), &sc).as_deref(),
            Some(".spec.shape: field not declared in schema")
        );
        assert!(quantity_bytes(&json!("5Gi")) > quantity_bytes(&json!("1Gi")));
    }
}
