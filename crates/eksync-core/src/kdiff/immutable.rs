//! Immutable-field changes: recognises them in the causes of a dry-run 422 (`field is immutable`,
//! `may not change once set`, `Forbidden: ... immutable`) and decides between delete+recreate
//! (only when the object opts in with `eksync.io/recreate-on-immutable-change: "true"`) and an
//! error that names the fields.
//!
//! It does not perform the delete or the create, and does not guess immutability without the
//! server's answer.

use serde::Serialize;
use serde_json::Value;

use super::RECREATE_ANNOTATION;

/// What to do about an immutable-field change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "decision")]
pub enum ImmutableDecision {
    /// The object opted in: delete it (waiting until it is gone) and create it again.
    Recreate { fields: Vec<String> },
    /// The change cannot be applied; the message names the fields and the opt-in annotation.
    Error {
        fields: Vec<String>,
        message: String,
    },
}

/// The fields an Invalid (422) answer reports as immutable, from its `(field, message)` causes.
/// Empty when the error is about something else.
pub fn immutable_fields(causes: &[(String, String)]) -> Vec<String> {
    let mut out: Vec<String> = causes
        .iter()
        .filter(|(_, message)| is_immutable_message(message))
        .map(|(field, _)| field.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn is_immutable_message(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("field is immutable")
        || m.contains("may not change once set")
        || (m.contains("forbidden") && m.contains("immutable"))
        || m.contains("is immutable")
}

/// Decides for an object (the body from Git) whose dry-run reported immutable `fields`.
pub fn decide_immutable(body: &Value, fields: Vec<String>) -> ImmutableDecision {
    let opted_in = body
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(RECREATE_ANNOTATION))
        .and_then(Value::as_str)
        == Some("true");
    if opted_in {
        ImmutableDecision::Recreate { fields }
    } else {
        let message = format!(
            "immutable field{} changed: {}; set the annotation {RECREATE_ANNOTATION}: \"true\" to delete and recreate the object",
            if fields.len() == 1 { "" } else { "s" },
            fields.join(", ")
        );
        ImmutableDecision::Error { fields, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(field: &str, message: &str) -> (String, String) {
        (field.to_string(), message.to_string())
    }

    #[test]
    fn recognises_the_servers_immutable_messages() {
        let table = [
            (
                c(
                    "spec.selector",
                    "Invalid value: {\"matchLabels\":{\"app\":\"b\"}}: field is immutable",
                ),
                true,
            ),
            (
                c(
                    "spec.clusterIP",
                    "Invalid value: \"10.0.0.9\": may not change once set",
                ),
                true,
            ),
            (
                c(
                    "spec.template",
                    "Invalid value: core.PodTemplateSpec{}: field is immutable",
                ),
                true,
            ),
            (
                c(
                    "spec",
                    "Forbidden: spec is immutable after creation except resources.requests",
                ),
                true,
            ),
            (
                c(
                    "data",
                    "Forbidden: field is immutable when `immutable` is set",
                ),
                true,
            ),
            (
                c(
                    "spec.replicas",
                    "Invalid value: -1: must be greater than or equal to 0",
                ),
                false,
            ),
            (
                c(
                    "metadata.name",
                    "Required value: name or generateName is required",
                ),
                false,
            ),
        ];
        for (cause, immutable) in table {
            let got = immutable_fields(std::slice::from_ref(&cause));
            assert_eq!(!got.is_empty(), immutable, "{cause:?}");
        }
        let both = immutable_fields(&[
            c("spec.selector", "field is immutable"),
            c("spec.replicas", "must be greater than or equal to 0"),
            c("spec.selector", "field is immutable"),
        ]);
        assert_eq!(both, vec!["spec.selector".to_string()]);
    }

    #[test]
    fn recreate_only_with_the_annotation() {
        let plain = json!({"metadata": {"name": "web"}});
        match decide_immutable(&plain, vec!["spec.selector".into()]) {
            ImmutableDecision::Error { fields, message } => {
                assert_eq!(fields, vec!["spec.selector".to_string()]);
                assert!(message.contains("spec.selector"), "{message}");
                assert!(message.contains(RECREATE_ANNOTATION), "{message}");
            }
            other => panic!("expected an error, got {other:?}"),
        }
        let opted =
            json!({"metadata": {"name": "web", "annotations": {RECREATE_ANNOTATION: "true"}}});
        assert_eq!(
            decide_immutable(&opted, vec!["spec.selector".into()]),
            ImmutableDecision::Recreate {
                fields: vec!["spec.selector".into()]
            }
        );
        let not_true = json!({"metadata": {"annotations": {RECREATE_ANNOTATION: "yes"}}});
        assert!(matches!(
            decide_immutable(&not_true, vec!["spec.template".into()]),
            ImmutableDecision::Error { .. }
        ));
    }
}
