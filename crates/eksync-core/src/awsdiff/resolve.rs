//! Evaluates the simple CloudFormation intrinsics in a template value so it can be compared with a
//! live value: `Ref` to parameters, pseudo parameters and resources (their physical id), `Fn::Sub`,
//! `Fn::Join` and `Fn::Split`. It deliberately does not evaluate `Fn::GetAtt`, `Fn::ImportValue`,
//! conditions or mappings: a value that needs them is "unknown" (`None`) and is not compared.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What intrinsics may refer to.
#[derive(Debug, Clone, Default)]
pub struct ResolveContext {
    pub stack_name: String,
    pub partition: String,
    pub region: String,
    pub account: String,
    pub parameters: BTreeMap<String, String>,
    /// Physical ids of the stack's resources, by logical id.
    pub resources: BTreeMap<String, String>,
}

impl ResolveContext {
    fn reference(&self, name: &str) -> Option<String> {
        match name {
            "AWS::StackName" => Some(self.stack_name.clone()),
            "AWS::Partition" => Some(self.partition.clone()),
            "AWS::Region" => Some(self.region.clone()),
            "AWS::AccountId" => Some(self.account.clone()),
            "AWS::URLSuffix" => Some(if self.partition == "aws-cn" {
                "amazonaws.com.cn".to_string()
            } else {
                "amazonaws.com".to_string()
            }),
            "AWS::NoValue" => None,
            other => self
                .parameters
                .get(other)
                .or_else(|| self.resources.get(other))
                .cloned(),
        }
    }

    fn substitute(&self, text: &str, vars: &Map<String, Value>) -> Option<String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            if let Some(stripped) = after.strip_prefix('!') {
                // `${!Literal}` is the literal text `${Literal}`.
                out.push_str("${");
                rest = stripped;
                continue;
            }
            let end = after.find('}')?;
            let name = &after[..end];
            let value = match vars.get(name) {
                Some(v) => scalar_string(&resolve(v, self)?)?,
                None => self.reference(name)?,
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }
}

/// A scalar as CloudFormation stringifies it.
pub fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Fully resolves `value`, or `None` when any part needs an intrinsic this module does not evaluate.
pub fn resolve(value: &Value, ctx: &ResolveContext) -> Option<Value> {
    match value {
        Value::Object(map) if map.len() == 1 => {
            let (key, arg) = map.iter().next()?;
            match key.as_str() {
                "Ref" => ctx.reference(arg.as_str()?).map(Value::String),
                "Fn::Sub" => match arg {
                    Value::String(text) => ctx.substitute(text, &Map::new()).map(Value::String),
                    Value::Array(items) if items.len() == 2 => {
                        let vars = items[1].as_object()?;
                        ctx.substitute(items[0].as_str()?, vars).map(Value::String)
                    }
                    _ => None,
                },
                "Fn::Join" => {
                    let items = arg.as_array()?;
                    let sep = items.first()?.as_str()?;
                    let list = resolve(items.get(1)?, ctx)?;
                    let parts: Option<Vec<String>> =
                        list.as_array()?.iter().map(scalar_string).collect();
                    Some(Value::String(parts?.join(sep)))
                }
                "Fn::Split" => {
                    let items = arg.as_array()?;
                    let sep = items.first()?.as_str()?;
                    let text = resolve(items.get(1)?, ctx)?;
                    Some(Value::Array(
                        text.as_str()?
                            .split(sep)
                            .map(|s| Value::String(s.to_string()))
                            .collect(),
                    ))
                }
                k if k.starts_with("Fn::") => None,
                _ => resolve_object(map, ctx),
            }
        }
        Value::Object(map) => resolve_object(map, ctx),
        Value::Array(items) => items
            .iter()
            .map(|v| resolve(v, ctx))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        other => Some(other.clone()),
    }
}

fn resolve_object(map: &Map<String, Value>, ctx: &ResolveContext) -> Option<Value> {
    let mut out = Map::new();
    for (k, v) in map {
        out.insert(k.clone(), resolve(v, ctx)?);
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> ResolveContext {
        ResolveContext {
            stack_name: "eksctl-c-nodegroup-ng".into(),
            partition: "aws".into(),
            region: "us-west-2".into(),
            account: "123456789012".into(),
            parameters: BTreeMap::from([("Max".to_string(), "5".to_string())]),
            resources: BTreeMap::from([("NodeInstanceRole".to_string(), "role-1".to_string())]),
        }
    }

    #[test]
    fn resolves_simple_intrinsics() {
        let c = ctx();
        assert_eq!(resolve(&json!({"Ref": "Max"}), &c), Some(json!("5")));
        assert_eq!(
            resolve(&json!({"Ref": "NodeInstanceRole"}), &c),
            Some(json!("role-1"))
        );
        assert_eq!(
            resolve(
                &json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:x/${AWS::StackName}"}),
                &c
            ),
            Some(json!("arn:aws:iam::123456789012:x/eksctl-c-nodegroup-ng"))
        );
        assert_eq!(
            resolve(
                &json!({"Fn::Sub": ["${A}-${!Lit}", {"A": {"Ref": "Max"}}]}),
                &c
            ),
            Some(json!("5-${Lit}"))
        );
        assert_eq!(
            resolve(&json!({"Fn::Join": [",", ["a", {"Ref": "Max"}]]}), &c),
            Some(json!("a,5"))
        );
        assert_eq!(
            resolve(&json!({"Fn::Split": [",", "a,b"]}), &c),
            Some(json!(["a", "b"]))
        );
        assert_eq!(
            resolve(
                &json!({"Statement": [{"Resource": {"Ref": "AWS::Region"}, "N": 1}]}),
                &c
            ),
            Some(json!({"Statement": [{"Resource": "us-west-2", "N": 1}]}))
        );
    }

    #[test]
    fn unknown_intrinsics_are_unknown() {
        let c = ctx();
        assert_eq!(resolve(&json!({"Fn::GetAtt": ["R", "Arn"]}), &c), None);
        assert_eq!(resolve(&json!({"Ref": "Missing"}), &c), None);
        assert_eq!(resolve(&json!({"Fn::Sub": "${Missing}"}), &c), None);
        assert_eq!(resolve(&json!({"Fn::Sub": "${unterminated"}), &c), None);
        assert_eq!(resolve(&json!([1, {"Fn::ImportValue": "x"}]), &c), None);
    }
}
