//! JSON normalization for comparisons: objects get their keys sorted recursively, so key order and
//! whitespace never count; IAM policy documents are URL-decoded (IAM returns them RFC 3986-encoded)
//! and parsed. It deliberately does not apply IAM's semantic equivalences (a one-element list versus
//! a scalar, statement order): those are real textual differences that IAM stores as given.

use serde_json::{Map, Value};

/// A copy of `value` with every object's keys sorted (arrays keep their order).
pub fn normalize_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                if let Some(v) = map.get(k) {
                    out.insert(k.clone(), normalize_json(v));
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(normalize_json).collect()),
        other => other.clone(),
    }
}

/// Parses a policy document as IAM returns it: JSON, or URL-encoded JSON. Returns the normalized
/// document or a reason it could not be read.
pub fn normalize_policy_text(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    let parsed = match serde_json::from_str::<Value>(trimmed) {
        Ok(v) => v,
        Err(_) => {
            let decoded = percent_encoding::percent_decode_str(trimmed)
                .decode_utf8()
                .map_err(|e| format!("policy document is not UTF-8 after URL-decoding: {e}"))?;
            serde_json::from_str::<Value>(&decoded).map_err(|e| {
                format!("policy document is not JSON (also after URL-decoding): {e}")
            })?
        }
    };
    Ok(normalize_json(&parsed))
}

/// Whether two policy documents are equal once normalized.
pub fn policies_equal(a: &Value, b: &Value) -> bool {
    normalize_json(a) == normalize_json(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_whitespace_do_not_count() {
        let a: Value = serde_json::from_str(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["a:B"],"Resource":"*"}]}"#,
        )
        .unwrap();
        let b: Value = serde_json::from_str(
            "{\n  \"Statement\": [ {\"Resource\": \"*\", \"Action\": [\"a:B\"], \"Effect\": \"Allow\"} ],\n  \"Version\": \"2012-10-17\"\n}",
        )
        .unwrap();
        assert!(policies_equal(&a, &b));
        assert_eq!(
            serde_json::to_string(&normalize_json(&b)).unwrap(),
            r#"{"Statement":[{"Action":["a:B"],"Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#
        );
    }

    #[test]
    fn array_order_and_values_count() {
        assert!(!policies_equal(
            &json!({"Action": ["a", "b"]}),
            &json!({"Action": ["b", "a"]})
        ));
        assert!(!policies_equal(
            &json!({"Action": "a"}),
            &json!({"Action": "b"})
        ));
    }

    #[test]
    fn url_encoded_documents_are_decoded() {
        let encoded = "%7B%22Version%22%3A%20%222012-10-17%22%2C%20%22Statement%22%3A%20%5B%7B%22Effect%22%3A%20%22Allow%22%2C%20%22Action%22%3A%20%22autoscaling%3ADescribeTags%22%2C%20%22Resource%22%3A%20%22%2A%22%7D%5D%7D";
        let doc = normalize_policy_text(encoded).unwrap();
        assert_eq!(
            doc,
            normalize_json(&json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "autoscaling:DescribeTags", "Resource": "*"}]}))
        );
        // Plain JSON is accepted as is, including a literal percent sign.
        let plain = normalize_policy_text(r#"{"Sid":"100%"}"#).unwrap();
        assert_eq!(plain, json!({"Sid": "100%"}));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(normalize_policy_text("%7Bnot json").is_err());
        assert!(normalize_policy_text("%FF%FE").is_err());
    }
}
