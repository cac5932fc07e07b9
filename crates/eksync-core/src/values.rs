//! Substitutes value references inside documents. Offline, only what the config itself decides is
//! known (region, cluster name, node group bounds); stack outputs and physical ids render as
//! "known after apply". The executor passes a lookup backed by live AWS instead. Also masks Secret
//! data for anything shown to people. Pure.

use serde_json::Value;

use super::awsdiff::LiveAws;
use super::eksctl::ClusterConfig;
use super::kdiff::diff::LAST_APPLIED;
use super::refs::{self, StackRef, ValueRef};

/// The value of a reference that the config alone decides.
pub fn offline_value(cluster: Option<&ClusterConfig>, r: &ValueRef) -> Option<String> {
    let c = cluster?;
    let ng = |name: &str| c.node_groups().into_iter().find(|n| n.name == name);
    match r {
        ValueRef::Region => Some(c.metadata.region.clone()),
        ValueRef::ClusterName => Some(c.metadata.name.clone()),
        ValueRef::MinSize(n) => ng(n).map(|g| g.sizes.min.to_string()),
        ValueRef::MaxSize(n) => ng(n).map(|g| g.sizes.max.to_string()),
        ValueRef::Resource { .. } | ValueRef::Output { .. } => None,
    }
}

/// The value of a reference from live AWS (falling back to what the config decides): a stack
/// resource's physical id or a stack output, once the stack exists.
pub fn live_value(live: &LiveAws, cluster: Option<&ClusterConfig>, r: &ValueRef) -> Option<String> {
    let c = cluster?;
    let stack_name = |s: &StackRef| s.stack_name(&c.metadata.name);
    match r {
        ValueRef::Resource { stack, logical_id } => live
            .stacks
            .get(&stack_name(stack))
            .and_then(|s| s.physical_id(logical_id))
            .map(str::to_string),
        ValueRef::Output { stack, key } => live
            .stacks
            .get(&stack_name(stack))
            .and_then(|s| s.outputs.get(key))
            .cloned(),
        _ => offline_value(Some(c), r),
    }
}

/// Returns `v` with every reference substituted by `lookup` (unknown ones as "known after apply")
/// and whether all were known. Strings without references are left untouched.
pub fn substitute(v: &Value, lookup: &dyn Fn(&ValueRef) -> Option<String>) -> (Value, bool) {
    match v {
        Value::String(s) if refs::may_contain(s) => match refs::parse(s) {
            Ok(pieces) => {
                let (out, complete) = refs::render(&pieces, lookup);
                (Value::String(out), complete)
            }
            // The loader already reported the syntax error; keep the text as written.
            Err(_) => (v.clone(), true),
        },
        Value::Array(items) => {
            let mut complete = true;
            let out = items
                .iter()
                .map(|i| {
                    let (v, c) = substitute(i, lookup);
                    complete &= c;
                    v
                })
                .collect();
            (Value::Array(out), complete)
        }
        Value::Object(map) => {
            let mut complete = true;
            let out = map
                .iter()
                .map(|(k, i)| {
                    let (v, c) = substitute(i, lookup);
                    complete &= c;
                    (k.clone(), v)
                })
                .collect();
            (Value::Object(out), complete)
        }
        _ => (v.clone(), true),
    }
}

/// Replaces the values of a Secret's `data` and `stringData` with a note of their size (in
/// characters) for string values, or a plain note for anything else, so that nothing shown to a
/// person (plans, diffs, logs, reports) carries secret material. Keys stay visible. A `data` or
/// `stringData` that is not a mapping (invalid, but it can be written) is hidden as a whole, and
/// so is kubectl's last-applied annotation, which repeats the data.
pub fn mask_secret(group: &str, kind: &str, body: &Value) -> Value {
    if !(group.is_empty() && kind == "Secret") {
        return body.clone();
    }
    let hidden = |v: &Value| match v.as_str() {
        Some(s) => Value::String(format!(
            "(secret, {} characters, hidden)",
            s.chars().count()
        )),
        None => Value::String("(secret, hidden)".to_string()),
    };
    let mut out = body.clone();
    for field in ["data", "stringData"] {
        match out.get_mut(field) {
            Some(Value::Object(map)) => {
                for v in map.values_mut() {
                    *v = hidden(v);
                }
            }
            None | Some(Value::Null) => {}
            Some(other) => *other = hidden(&Value::Null),
        }
    }
    if let Some(record) = out
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
        .and_then(|a| a.get_mut(LAST_APPLIED))
    {
        *record = hidden(&Value::Null);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_secret_values_but_keeps_keys() {
        let s = json!({"kind": "Secret", "data": {"password": "aHVudGVyMg=="}, "stringData": {"token": "abc"}});
        let m = mask_secret("", "Secret", &s);
        let text = m.to_string();
        assert!(!text.contains("aHVudGVyMg=="));
        assert!(!text.contains("abc\""));
        assert!(text.contains("password"));
        assert_eq!(mask_secret("", "ConfigMap", &s), s);
    }

    #[test]
    fn mask_notes_count_characters_and_hide_every_shape() {
        let cases = [
            (
                json!({"k": "é🦀"}),
                json!({"k": "(secret, 2 characters, hidden)"}),
            ),
            (
                json!({"k": ""}),
                json!({"k": "(secret, 0 characters, hidden)"}),
            ),
            (
                json!({"k": {"nested": "s3cr3t"}}),
                json!({"k": "(secret, hidden)"}),
            ),
            (json!({"k": ["s3cr3t"]}), json!({"k": "(secret, hidden)"})),
            (json!("s3cr3t"), json!("(secret, hidden)")),
            (json!(["s3cr3t"]), json!("(secret, hidden)")),
            (json!(12345), json!("(secret, hidden)")),
            (Value::Null, Value::Null),
        ];
        for (data, want) in cases {
            for field in ["data", "stringData"] {
                let body = json!({"kind": "Secret", field: data.clone()});
                assert_eq!(
                    mask_secret("", "Secret", &body)[field],
                    want,
                    "{field}: {data}"
                );
            }
        }
        let recorded = json!({"kind": "Secret", "metadata": {"annotations": {
            LAST_APPLIED: r#"{"data":{"password":"aHVudGVyMg=="}}"#, "team": "ci"}}});
        assert_eq!(
            mask_secret("", "Secret", &recorded)["metadata"]["annotations"],
            json!({LAST_APPLIED: "(secret, hidden)", "team": "ci"})
        );
    }

    #[test]
    fn substitutes_known_and_marks_unknown() {
        let v = json!({"args": ["--nodes={{aws:nodegroup/spot/max-size}}:{{aws:nodegroup/spot/resource/NodeGroup}}"], "plain": "x"});
        let lookup = |r: &ValueRef| match r {
            ValueRef::MaxSize(_) => Some("5".to_string()),
            _ => None,
        };
        let (out, complete) = substitute(&v, &lookup);
        assert!(!complete);
        assert_eq!(
            out,
            json!({"args": ["--nodes=5:(known after apply: {{aws:nodegroup/spot/resource/NodeGroup}})"], "plain": "x"})
        );
    }
}
