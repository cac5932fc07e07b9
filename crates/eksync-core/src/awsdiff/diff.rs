//! Desired-versus-deployed comparisons of a stack: the template (structurally, on normalized JSON,
//! with a readable unified diff and an RFC 6902 JSON patch), its parameters and its tags. It
//! deliberately does not judge replacement (see `replacement`) or look at live resources (see
//! `drift`).

use super::normalize::normalize_json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// One changed location in a template, from the JSON patch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateChange {
    /// `add`, `remove` or `replace`.
    pub op: String,
    /// JSON pointer into the template (`/Resources/NodeGroup/Properties/MaxSize`).
    pub path: String,
    /// The logical id when the change is inside `Resources`.
    pub resource: Option<String>,
    /// The top-level property name when the change is inside a resource's `Properties`.
    pub property: Option<String>,
    pub deployed: Option<Value>,
    pub desired: Option<Value>,
}

/// The structural difference between a deployed and a desired template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDiff {
    pub changes: Vec<TemplateChange>,
    /// RFC 6902 patch that turns the deployed template into the desired one.
    pub patch: Value,
    /// Unified diff of the pretty-printed normalized templates (empty when equal).
    pub unified: String,
}

impl TemplateDiff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Changed top-level properties of a resource.
    pub fn changed_properties(&self, logical_id: &str) -> BTreeSet<String> {
        self.changes
            .iter()
            .filter(|c| c.resource.as_deref() == Some(logical_id))
            .filter_map(|c| c.property.clone())
            .collect()
    }
}

/// A key whose value differs between desired and live (parameters, tags).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapChange {
    pub key: String,
    pub live: Option<String>,
    /// `None` with `known_after_apply == false` means the key is removed.
    pub desired: Option<String>,
    /// The desired value comes from a stack that is not applied yet.
    pub known_after_apply: bool,
}

fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Compares two templates structurally. Key order and formatting never count.
pub fn diff_template(deployed: &Value, desired: &Value) -> TemplateDiff {
    let left = normalize_json(deployed);
    let right = normalize_json(desired);
    let patch = json_patch::diff(&left, &right);
    let patch_value = serde_json::to_value(&patch).unwrap_or(Value::Array(Vec::new()));
    let mut changes = Vec::new();
    if let Value::Array(ops) = &patch_value {
        for op in ops {
            let kind = op
                .get("op")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let path = op
                .get("path")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let tokens: Vec<String> = path
                .split('/')
                .skip(1)
                .map(unescape_pointer_token)
                .collect();
            let resource = (tokens.first().map(String::as_str) == Some("Resources"))
                .then(|| tokens.get(1).cloned())
                .flatten();
            let property = (resource.is_some()
                && tokens.get(2).map(String::as_str) == Some("Properties"))
            .then(|| tokens.get(3).cloned())
            .flatten();
            changes.push(TemplateChange {
                deployed: left.pointer(&path).cloned().filter(|_| kind != "add"),
                desired: right.pointer(&path).cloned().filter(|_| kind != "remove"),
                op: kind,
                path,
                resource,
                property,
            });
        }
    }
    let unified = if changes.is_empty() {
        String::new()
    } else {
        let a = serde_json::to_string_pretty(&left).unwrap_or_default();
        let b = serde_json::to_string_pretty(&right).unwrap_or_default();
        similar::TextDiff::from_lines(&a, &b)
            .unified_diff()
            .context_radius(3)
            .header("deployed", "desired")
            .to_string()
    };
    TemplateDiff {
        changes,
        patch: patch_value,
        unified,
    }
}

/// Compares desired parameters (`None` = known after apply) with live ones. A live value of
/// `****` is a `NoEcho` parameter whose value AWS hides: it is never reported as a change.
pub fn diff_parameters(
    desired: &BTreeMap<String, Option<String>>,
    live: &BTreeMap<String, String>,
) -> Vec<MapChange> {
    let mut out = Vec::new();
    for (key, want) in desired {
        let have = live.get(key);
        match want {
            None => out.push(MapChange {
                key: key.clone(),
                live: have.cloned(),
                desired: None,
                known_after_apply: true,
            }),
            Some(_) if have.map(String::as_str) == Some("****") => {}
            Some(w) if have != Some(w) => out.push(MapChange {
                key: key.clone(),
                live: have.cloned(),
                desired: Some(w.clone()),
                known_after_apply: false,
            }),
            Some(_) => {}
        }
    }
    for (key, have) in live {
        if !desired.contains_key(key) {
            out.push(MapChange {
                key: key.clone(),
                live: Some(have.clone()),
                desired: None,
                known_after_apply: false,
            });
        }
    }
    out
}

/// Compares desired stack tags with live ones. Tags AWS adds (`aws:` prefix) never count.
pub fn diff_tags(
    desired: &BTreeMap<String, String>,
    live: &BTreeMap<String, String>,
) -> Vec<MapChange> {
    let mut out = Vec::new();
    for (key, want) in desired {
        if live.get(key) != Some(want) {
            out.push(MapChange {
                key: key.clone(),
                live: live.get(key).cloned(),
                desired: Some(want.clone()),
                known_after_apply: false,
            });
        }
    }
    for (key, have) in live {
        if !desired.contains_key(key) && !key.starts_with("aws:") {
            out.push(MapChange {
                key: key.clone(),
                live: Some(have.clone()),
                desired: None,
                known_after_apply: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ng(max: &str) -> Value {
        json!({
            "Resources": {
                "NodeGroup": {
                    "Type": "AWS::AutoScaling::AutoScalingGroup",
                    "Properties": {"MinSize": "0", "MaxSize": max, "Tags": [{"Key": "a/b", "Value": "1"}]}
                }
            },
            "Outputs": {}
        })
    }

    #[test]
    fn max_size_change_is_one_property() {
        let d = diff_template(&ng("5"), &ng("8"));
        assert_eq!(d.changes.len(), 1);
        let c = &d.changes[0];
        assert_eq!(c.op, "replace");
        assert_eq!(c.path, "/Resources/NodeGroup/Properties/MaxSize");
        assert_eq!(c.resource.as_deref(), Some("NodeGroup"));
        assert_eq!(c.property.as_deref(), Some("MaxSize"));
        assert_eq!(c.deployed, Some(json!("5")));
        assert_eq!(c.desired, Some(json!("8")));
        assert_eq!(
            d.patch,
            json!([{"op": "replace", "path": "/Resources/NodeGroup/Properties/MaxSize", "value": "8"}])
        );
        assert!(
            d.unified.contains("-        \"MaxSize\": \"5\","),
            "{}",
            d.unified
        );
        assert!(
            d.unified.contains("+        \"MaxSize\": \"8\","),
            "{}",
            d.unified
        );
        // The patch applies: deployed + patch == desired.
        let mut doc = ng("5");
        let p: json_patch::Patch = serde_json::from_value(d.patch.clone()).unwrap();
        json_patch::patch(&mut doc, &p).unwrap();
        assert_eq!(normalize_json(&doc), normalize_json(&ng("8")));
    }

    #[test]
    fn key_order_does_not_count() {
        let a: Value =
            serde_json::from_str(r#"{"Resources":{"R":{"Type":"T","Properties":{"A":1,"B":2}}}}"#)
                .unwrap();
        let b: Value =
            serde_json::from_str(r#"{"Resources":{"R":{"Properties":{"B":2,"A":1},"Type":"T"}}}"#)
                .unwrap();
        let d = diff_template(&a, &b);
        assert!(d.is_empty());
        assert_eq!(d.unified, "");
        assert_eq!(d.patch, json!([]));
    }

    #[test]
    fn added_resource_and_nested_property() {
        let mut b = ng("5");
        b["Resources"]["Extra"] = json!({"Type": "AWS::IAM::Policy", "Properties": {}});
        b["Resources"]["NodeGroup"]["Properties"]["Tags"][0]["Value"] = json!("2");
        let d = diff_template(&ng("5"), &b);
        let paths: Vec<_> = d.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "/Resources/Extra",
                "/Resources/NodeGroup/Properties/Tags/0/Value"
            ]
        );
        assert_eq!(d.changes[0].op, "add");
        assert_eq!(d.changes[0].deployed, None);
        assert_eq!(d.changes[1].property.as_deref(), Some("Tags"));
        assert_eq!(
            d.changed_properties("NodeGroup")
                .into_iter()
                .collect::<Vec<_>>(),
            vec!["Tags"]
        );
    }

    #[test]
    fn escaped_pointer_tokens_are_unescaped() {
        let a = json!({"Resources": {"R": {"Properties": {"Tags": {"k8s.io/x": "1"}}}}});
        let b = json!({"Resources": {"R": {"Properties": {"Tags": {"k8s.io/x": "2"}}}}});
        let d = diff_template(&a, &b);
        assert_eq!(d.changes[0].path, "/Resources/R/Properties/Tags/k8s.io~1x");
        assert_eq!(d.changes[0].deployed, Some(json!("1")));
    }

    #[test]
    fn parameters_diff() {
        let desired = BTreeMap::from([
            ("Same".to_string(), Some("x".to_string())),
            ("Changed".to_string(), Some("new".to_string())),
            ("Later".to_string(), None),
            ("Secret".to_string(), Some("s3cr3t".to_string())),
        ]);
        let live = BTreeMap::from([
            ("Same".to_string(), "x".to_string()),
            ("Changed".to_string(), "old".to_string()),
            ("Secret".to_string(), "****".to_string()),
            ("Gone".to_string(), "g".to_string()),
        ]);
        let changes = diff_parameters(&desired, &live);
        let keys: Vec<_> = changes.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, vec!["Changed", "Later", "Gone"]);
        assert_eq!(changes[0].live.as_deref(), Some("old"));
        assert!(changes[1].known_after_apply);
        assert_eq!(changes[2].desired, None);
    }

    #[test]
    fn tags_diff_ignores_aws_tags() {
        let desired = BTreeMap::from([("a".to_string(), "1".to_string())]);
        let live = BTreeMap::from([
            ("a".to_string(), "2".to_string()),
            ("aws:cloudformation:stack-name".to_string(), "s".to_string()),
        ]);
        let changes = diff_tags(&desired, &live);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].desired.as_deref(), Some("1"));
        assert!(diff_tags(&desired, &desired).is_empty());
    }
}
