//! API errors as the apiserver reports them: a `Status` object with code, reason, message and
//! details, or the plain-text `404 page not found` of an unknown group.
//!
//! This module only shapes errors; deciding *which* error applies is up to the handlers.

use serde_json::{json, Map, Value};

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// A JSON `Status` body.
    #[error("{code} {message}")]
    Status {
        /// HTTP status code (also `Status.code`).
        code: u16,
        /// `Status.reason`, absent for the SSA 500s.
        reason: Option<String>,
        /// `Status.message`.
        message: String,
        /// `Status.details`, absent when `None`.
        details: Option<Value>,
    },
    /// `404 page not found` as `text/plain` (unknown group or CRD resource).
    #[error("404 page not found")]
    PlainNotFound,
}

impl ApiError {
    /// A Status error with a reason and details.
    pub fn new(
        code: u16,
        reason: &str,
        message: impl Into<String>,
        details: Option<Value>,
    ) -> Self {
        ApiError::Status {
            code,
            reason: if reason.is_empty() {
                None
            } else {
                Some(reason.to_string())
            },
            message: message.into(),
            details,
        }
    }

    /// `404 NotFound` for a named object.
    pub fn not_found(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(resource, group);
        Self::new(
            404,
            "NotFound",
            format!("{qualified} \"{name}\" not found"),
            Some(details(name, group, resource, None)),
        )
    }

    /// `404` for an unknown resource in a known group.
    pub fn no_resource() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(json!({})),
        )
    }

    /// `409 AlreadyExists`.
    pub fn already_exists(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(resource, group);
        Self::new(
            409,
            "AlreadyExists",
            format!("{qualified} \"{name}\" already exists"),
            Some(details(name, group, resource, None)),
        )
    }

    /// `409 Conflict` for a stale resourceVersion.
    pub fn stale(group: &str, resource: &str, name: &str) -> Self {
        let qualified = qualified(resource, group);
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {qualified} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
            Some(details(name, group, resource, None)),
        )
    }

    /// `400 BadRequest` without details.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message, None)
    }

    /// `500` without a reason (the SSA "failed to create typed patch object" errors).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "", message, None)
    }

    /// `415 UnsupportedMediaType`.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            "415: Unsupported Media Type",
            Some(json!({})),
        )
    }

    /// `422 Invalid` for an object, with one cause per field error.
    pub fn invalid(kind_group: (&str, &str), name: &str, causes: &[FieldError]) -> Self {
        let (kind, group) = kind_group;
        let qualified = qualified(kind, group);
        let joined = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect::<Vec<_>>()
            .join(", ");
        let message = if causes.len() > 1 {
            format!("{qualified} \"{name}\" is invalid: [{joined}]")
        } else {
            format!("{qualified} \"{name}\" is invalid: {joined}")
        };
        let causes_json: Vec<Value> = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        let mut d = Map::new();
        if !name.is_empty() {
            d.insert("name".into(), json!(name));
        }
        if !group.is_empty() {
            d.insert("group".into(), json!(group));
        }
        d.insert("kind".into(), json!(kind));
        d.insert("causes".into(), Value::Array(causes_json));
        Self::new(422, "Invalid", message, Some(Value::Object(d)))
    }

    /// HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::Status { code, .. } => *code,
            ApiError::PlainNotFound => 404,
        }
    }

    /// The `Status` object (or `None` for the plain-text 404).
    pub fn to_status(&self) -> Option<Value> {
        match self {
            ApiError::Status {
                code,
                reason,
                message,
                details,
            } => {
                let mut m = Map::new();
                m.insert("kind".into(), json!("Status"));
                m.insert("apiVersion".into(), json!("v1"));
                m.insert("metadata".into(), json!({}));
                m.insert("status".into(), json!("Failure"));
                m.insert("message".into(), json!(message));
                if let Some(r) = reason {
                    m.insert("reason".into(), json!(r));
                }
                if let Some(d) = details {
                    m.insert("details".into(), d.clone());
                }
                m.insert("code".into(), json!(code));
                Some(Value::Object(m))
            }
            ApiError::PlainNotFound => None,
        }
    }
}

/// One field error of a 422.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueForbidden`, ...
    pub reason: &'static str,
    /// The message without the field prefix.
    pub message: String,
    /// The field path, like `spec.selector`.
    pub field: String,
}

impl FieldError {
    /// `Invalid value: <json>: <detail>`.
    pub fn invalid(field: &str, value: &Value, detail: &str) -> Self {
        FieldError {
            reason: "FieldValueInvalid",
            message: format!("Invalid value: {}: {detail}", go_json(value)),
            field: field.to_string(),
        }
    }
    /// `Required value`.
    pub fn required(field: &str, detail: &str) -> Self {
        let message = if detail.is_empty() {
            "Required value".to_string()
        } else {
            format!("Required value: {detail}")
        };
        FieldError {
            reason: "FieldValueRequired",
            message,
            field: field.to_string(),
        }
    }
    /// `Forbidden: <detail>`.
    pub fn forbidden(field: &str, detail: &str) -> Self {
        FieldError {
            reason: "FieldValueForbidden",
            message: format!("Forbidden: {detail}"),
            field: field.to_string(),
        }
    }
}

/// JSON as Go's `encoding/json` prints it in messages (compact; map keys sorted).
pub fn go_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

/// `deployments.apps` or `configmaps` (core group has no suffix).
pub fn qualified(resource: &str, group: &str) -> String {
    if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    }
}

/// Status details for a named object.
pub fn details(name: &str, group: &str, resource: &str, uid: Option<&str>) -> Value {
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    if !group.is_empty() {
        d.insert("group".into(), json!(group));
    }
    d.insert("kind".into(), json!(resource));
    if let Some(u) = uid {
        d.insert("uid".into(), json!(u));
    }
    Value::Object(d)
}
