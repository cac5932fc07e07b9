//! Patch application: the server-side-apply merge of an applied configuration into the live
//! object, strategic merge patch (lists merged by key, `$patch: delete|replace`), JSON merge
//! patch (RFC 7386) and JSON patch (RFC 6902, with `test`).
//!
//! Ownership is not handled here (see `managed`); neither is validation.

use serde_json::{Map, Value};

use crate::fieldset::list_elements;
use crate::schema::{ListType, Schema};

/// Patch errors.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatchError {
    /// The patch body is not valid for its type.
    #[error("invalid patch: {0}")]
    Invalid(String),
    /// A JSON patch operation failed (including a failed `test`).
    #[error("json patch failed: {0}")]
    Failed(String),
}

/// Merges an applied configuration into the live object (SSA merge).
pub fn ssa_merge(live: &Value, config: &Value, schema: &Schema) -> Value {
    merge_walk(live, config, schema, &mut Vec::new())
}

fn merge_walk(l: &Value, r: &Value, schema: &Schema, names: &mut Vec<String>) -> Value {
    match (l, r) {
        (Value::Object(lm), Value::Object(rm)) if names.is_empty() || !schema.atomic_map(names) => {
            let mut out = lm.clone();
            for (k, rv) in rm {
                names.push(k.clone());
                let v = match lm.get(k) {
                    Some(lv) => merge_walk(lv, rv, schema, names),
                    None => rv.clone(),
                };
                names.pop();
                out.insert(k.clone(), v);
            }
            Value::Object(out)
        }
        (Value::Array(la), Value::Array(ra)) => match schema.list_type(names) {
            ListType::Atomic => r.clone(),
            lt @ ListType::Set => {
                let mut out = la.clone();
                let le = list_elements(la, &lt, schema, names);
                for (k, item) in list_elements(ra, &lt, schema, names) {
                    if !le.iter().any(|(lk, _)| *lk == k) {
                        out.push(item.clone());
                    }
                }
                Value::Array(out)
            }
            lt @ ListType::Map(_) => {
                let mut out: Vec<(String, Value)> = list_elements(la, &lt, schema, names)
                    .into_iter()
                    .map(|(k, v)| (k, v.clone()))
                    .collect();
                for (k, item) in list_elements(ra, &lt, schema, names) {
                    match out.iter_mut().find(|(ok, _)| *ok == k) {
                        Some((_, existing)) => {
                            *existing = merge_walk(existing, item, schema, names)
                        }
                        None => out.push((k, item.clone())),
                    }
                }
                Value::Array(out.into_iter().map(|(_, v)| v).collect())
            }
        },
        _ => r.clone(),
    }
}

/// Applies a strategic merge patch.
pub fn strategic_merge(orig: &Value, patch: &Value, schema: &Schema) -> Result<Value, PatchError> {
    if !patch.is_object() {
        return Err(PatchError::Invalid(
            "strategic merge patch must be a JSON object".into(),
        ));
    }
    smp_walk(orig, patch, schema, &mut Vec::new())
}

fn merge_key(lt: &ListType) -> Option<&str> {
    match lt {
        ListType::Map(keys) => keys.first().map(String::as_str),
        _ => None,
    }
}

fn smp_walk(
    orig: &Value,
    patch: &Value,
    schema: &Schema,
    names: &mut Vec<String>,
) -> Result<Value, PatchError> {
    let Some(pm) = patch.as_object() else {
        return Ok(patch.clone());
    };
    match pm.get("$patch").and_then(Value::as_str) {
        Some("replace") => {
            let mut p = pm.clone();
            p.shift_remove("$patch");
            return Ok(Value::Object(p));
        }
        Some("delete") => return Ok(Value::Null),
        _ => {}
    }
    let mut out = orig.as_object().cloned().unwrap_or_default();
    for (k, pv) in pm {
        if k.starts_with('$') {
            continue;
        }
        if pv.is_null() {
            out.shift_remove(k);
            continue;
        }
        names.push(k.clone());
        let merged = match (out.get(k), pv) {
            (Some(ov @ Value::Object(_)), Value::Object(_)) if !schema.atomic_map(names) => {
                smp_walk(ov, pv, schema, names)?
            }
            (existing, Value::Array(pa)) => {
                let lt = schema.list_type(names);
                let oa = existing
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                smp_list(&oa, pa, &lt, schema, names)?
            }
            (None, Value::Object(_)) => smp_walk(&Value::Object(Map::new()), pv, schema, names)?,
            _ => pv.clone(),
        };
        names.pop();
        if merged.is_null() {
            out.shift_remove(k);
        } else {
            out.insert(k.clone(), merged);
        }
    }
    Ok(Value::Object(out))
}

fn smp_list(
    orig: &[Value],
    patch: &[Value],
    lt: &ListType,
    schema: &Schema,
    names: &mut Vec<String>,
) -> Result<Value, PatchError> {
    match lt {
        ListType::Atomic => Ok(Value::Array(
            patch
                .iter()
                .filter(|p| p.get("$patch").is_none())
                .cloned()
                .collect(),
        )),
        ListType::Set => {
            let mut out = orig.to_vec();
            for p in patch {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
            Ok(Value::Array(out))
        }
        ListType::Map(_) => {
            let mkey = merge_key(lt).unwrap_or("name");
            if patch
                .iter()
                .any(|p| p.get("$patch").and_then(Value::as_str) == Some("replace"))
            {
                return Ok(Value::Array(
                    patch
                        .iter()
                        .filter(|p| p.get("$patch").is_none())
                        .cloned()
                        .collect(),
                ));
            }
            let mut out: Vec<Value> = orig.to_vec();
            for p in patch {
                let Some(pv) = p.get(mkey) else {
                    return Err(PatchError::Invalid(format!(
                        "map: {p} does not contain declared merge key: {mkey}"
                    )));
                };
                let pos = out.iter().position(|o| o.get(mkey) == Some(pv));
                let is_delete = p.get("$patch").and_then(Value::as_str) == Some("delete");
                match (pos, is_delete) {
                    (Some(i), true) => {
                        out.remove(i);
                    }
                    (None, true) => {}
                    (Some(i), false) => out[i] = smp_walk(&out[i], p, schema, names)?,
                    (None, false) => {
                        out.push(smp_walk(&Value::Object(Map::new()), p, schema, names)?)
                    }
                }
            }
            Ok(Value::Array(out))
        }
    }
}

/// Applies a JSON merge patch (RFC 7386).
pub fn json_merge(orig: &Value, patch: &Value) -> Value {
    let mut out = orig.clone();
    json_patch::merge(&mut out, patch);
    out
}

/// Applies a JSON patch (RFC 6902).
pub fn json_patch(orig: &Value, patch: &Value) -> Result<Value, PatchError> {
    let p: json_patch::Patch =
        serde_json::from_value(patch.clone()).map_err(|e| PatchError::Invalid(e.to_string()))?;
    let mut out = orig.clone();
    json_patch::patch(&mut out, &p).map_err(|e| PatchError::Failed(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(containers: Value) -> Value {
        json!({"spec": {"template": {"spec": {"containers": containers}}}})
    }

    #[test]
    fn smp_merges_containers_by_name_and_deletes() {
        let s = Schema::builtin("Deployment");
        let orig = deploy(
            json!([{"name": "web", "image": "a"}, {"name": "side", "image": "b", "command": ["x"]}]),
        );
        let patched = strategic_merge(&orig, &deploy(json!([{"name": "side", "image": "c"}])), &s)
            .expect("smp");
        assert_eq!(
            patched,
            deploy(
                json!([{"name": "web", "image": "a"}, {"name": "side", "image": "c", "command": ["x"]}])
            )
        );
        let deleted = strategic_merge(
            &patched,
            &deploy(json!([{"name": "side", "$patch": "delete"}])),
            &s,
        )
        .expect("delete");
        assert_eq!(deleted, deploy(json!([{"name": "web", "image": "a"}])));
    }

    #[test]
    fn merge_patch_replaces_lists_and_json_patch_tests() {
        let orig = deploy(json!([{"name": "web"}, {"name": "side"}]));
        let merged = json_merge(&orig, &deploy(json!([{"name": "side", "image": "c"}])));
        assert_eq!(merged, deploy(json!([{"name": "side", "image": "c"}])));
        let failed = json_patch(
            &json!({"a": 1}),
            &json!([{"op": "test", "path": "/a", "value": 2}]),
        );
        assert!(matches!(failed, Err(PatchError::Failed(_))));
    }

    #[test]
    fn ssa_merge_keeps_live_items_and_adds_new() {
        let s = Schema::builtin("Deployment");
        let live = deploy(json!([{"name": "web", "image": "a", "resources": {}}]));
        let cfg = deploy(json!([{"name": "web", "image": "b"}, {"name": "side", "image": "c"}]));
        assert_eq!(
            ssa_merge(&live, &cfg, &s),
            deploy(
                json!([{"name": "web", "image": "b", "resources": {}}, {"name": "side", "image": "c"}])
            )
        );
    }
}
