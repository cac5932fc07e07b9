//! Events served through both APIs that share their storage: core `v1` events and
//! `events.k8s.io/v1` events. Objects are stored in the shape of the API that last wrote them
//! (under the core group's key) and converted field by field on the way out, as the apiserver's
//! conversion between `v1.Event` and `events.k8s.io/v1.Event` does; the zero values Go prints
//! (`eventTime: null`, `reportingComponent: ""`, `deprecatedSource: {}`, null deprecated
//! timestamps) are added only when presenting. Also the field labels each API supports and the
//! create validation of events (`legacyValidateEvent` and the strict `events.k8s.io` rules).
//!
//! It deliberately does not convert `managedFields` (the apiserver does not either), does not
//! implement `events.k8s.io/v1beta1`, and checks only the validation rules listed in
//! [`validate_create`].

use serde_json::{json, Map, Value};

use crate::api::Target;
use crate::error::{ApiError, FieldError};

/// The group of the new Events API.
pub const EVENTS_GROUP: &str = "events.k8s.io";

/// True for `events` of either API.
pub fn is_event(t: &Target) -> bool {
    t.info.resource == "events" && matches!(t.info.group.as_str(), "" | EVENTS_GROUP)
}

fn is_new_shape(obj: &Value) -> bool {
    obj["apiVersion"]
        .as_str()
        .is_some_and(|a| a.starts_with("events.k8s.io/"))
}

/// Field pairs (core v1, events.k8s.io/v1) that only change their name.
const RENAMED: &[(&str, &str)] = &[
    ("involvedObject", "regarding"),
    ("message", "note"),
    ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"),
    ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"),
    ("reportingComponent", "reportingController"),
];

/// Fields with the same name in both APIs.
const SAME: &[&str] = &[
    "reason",
    "type",
    "eventTime",
    "series",
    "action",
    "related",
    "reportingInstance",
];

/// Converts a stored Event to the shape of `group` (`""` or `events.k8s.io`), without the zero
/// values; an object already in that shape is returned as is.
pub fn to_shape(obj: &Value, group: &str) -> Value {
    let want_new = group == EVENTS_GROUP;
    if is_new_shape(obj) == want_new {
        return obj.clone();
    }
    let Some(src) = obj.as_object() else {
        return obj.clone();
    };
    let mut out = Map::new();
    out.insert("kind".into(), json!("Event"));
    out.insert(
        "apiVersion".into(),
        json!(if want_new { "events.k8s.io/v1" } else { "v1" }),
    );
    if let Some(m) = src.get("metadata") {
        out.insert("metadata".into(), m.clone());
    }
    for (core, new) in RENAMED {
        let (from, to) = if want_new { (core, new) } else { (new, core) };
        if let Some(v) = src.get(*from) {
            out.insert((*to).to_string(), v.clone());
        }
    }
    for f in SAME {
        if let Some(v) = src.get(*f) {
            out.insert((*f).to_string(), v.clone());
        }
    }
    Value::Object(out)
}

/// The Event as `group` serves it: converted, in the Go field order, with Go's zero values.
pub fn present(obj: &Value, group: &str) -> Value {
    let shaped = to_shape(obj, group);
    let Some(src) = shaped.as_object() else {
        return shaped;
    };
    let new = group == EVENTS_GROUP;
    // (field, zero value printed when absent, or None when the field is omitted when empty).
    let order: &[(&str, Option<Value>)] = if new {
        &[
            ("eventTime", Some(Value::Null)),
            ("series", None),
            ("reportingController", None),
            ("reportingInstance", None),
            ("action", None),
            ("reason", None),
            ("regarding", Some(json!({}))),
            ("related", None),
            ("note", None),
            ("type", None),
            ("deprecatedSource", Some(json!({}))),
            ("deprecatedFirstTimestamp", Some(Value::Null)),
            ("deprecatedLastTimestamp", Some(Value::Null)),
            ("deprecatedCount", None),
        ]
    } else {
        &[
            ("involvedObject", Some(json!({}))),
            ("reason", None),
            ("message", None),
            ("source", Some(json!({}))),
            ("firstTimestamp", Some(Value::Null)),
            ("lastTimestamp", Some(Value::Null)),
            ("count", None),
            ("type", None),
            ("eventTime", Some(Value::Null)),
            ("series", None),
            ("action", None),
            ("related", None),
            ("reportingComponent", Some(json!(""))),
            ("reportingInstance", Some(json!(""))),
        ]
    };
    let mut out = Map::new();
    for k in ["kind", "apiVersion", "metadata"] {
        if let Some(v) = src.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    for (field, zero) in order {
        let present = src.get(*field).filter(|v| match (v, zero) {
            // Empty strings and zero counts are omitted by `omitempty`.
            (Value::String(s), None) => !s.is_empty(),
            (Value::Number(n), None) => n.as_i64() != Some(0),
            (Value::Null, None) => false,
            _ => true,
        });
        match (present, zero) {
            (Some(v), _) => {
                out.insert((*field).to_string(), v.clone());
            }
            (None, Some(z)) => {
                out.insert((*field).to_string(), z.clone());
            }
            (None, None) => {}
        }
    }
    for (k, v) in src {
        if !out.contains_key(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// Checks a field selector's labels against those the API supports (400
/// `field label not supported: ...`).
pub fn check_field_labels(t: &Target, selector: &str) -> Result<(), ApiError> {
    let object_ref = [
        "kind",
        "namespace",
        "name",
        "uid",
        "apiVersion",
        "resourceVersion",
        "fieldPath",
    ];
    let new = t.info.group == EVENTS_GROUP;
    let (reference, controller, source) = if new {
        ("regarding", "reportingController", "deprecatedSource")
    } else {
        ("involvedObject", "reportingComponent", "source")
    };
    for part in selector.split(',').filter(|p| !p.trim().is_empty()) {
        let label = part.split(['=', '!']).next().unwrap_or_default().trim();
        let ok = matches!(
            label,
            "metadata.name" | "metadata.namespace" | "reason" | "type"
        ) || label == controller
            || label == source
            || label
                .strip_prefix(reference)
                .and_then(|r| r.strip_prefix('.'))
                .is_some_and(|f| object_ref.contains(&f));
        if !ok {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {label}"
            )));
        }
    }
    Ok(())
}

fn text<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj[field].as_str().unwrap_or_default()
}

/// The create validation of an Event (`ValidateEventCreate`): events with `eventTime` need
/// reporting controller, instance and action; through `events.k8s.io` also `eventTime`, type
/// `Normal` or `Warning`, and no deprecated fields. Namespace agreement, length limits and the
/// series rules are not checked.
pub fn validate_create(t: &Target, obj: &Value) -> Vec<FieldError> {
    let new = t.info.group == EVENTS_GROUP;
    let mut errs = Vec::new();
    let has_time = !obj["eventTime"].is_null();
    let controller = if new {
        "reportingController"
    } else {
        "reportingComponent"
    };
    if has_time {
        if text(obj, controller).is_empty() {
            errs.push(FieldError::required(controller, ""));
        }
        if text(obj, "reportingInstance").is_empty() {
            errs.push(FieldError::required("reportingInstance", ""));
        }
        if text(obj, "action").is_empty() {
            errs.push(FieldError::required("action", ""));
        }
    }
    if !new {
        return errs;
    }
    if !has_time {
        errs.push(FieldError::required("eventTime", ""));
    }
    let ty = text(obj, "type");
    if ty != "Normal" && ty != "Warning" {
        errs.push(FieldError::invalid(
            "type",
            &json!(""),
            &format!("has invalid value: {ty}"),
        ));
    }
    for (field, name) in [
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
    ] {
        if !obj[field].is_null() {
            errs.push(FieldError::invalid(name, &json!(""), "needs to be unset"));
        }
    }
    if obj["deprecatedCount"].as_i64().unwrap_or(0) != 0 {
        errs.push(FieldError::invalid(
            "count",
            &json!(""),
            "needs to be unset",
        ));
    }
    let src = &obj["deprecatedSource"];
    if !text(src, "component").is_empty() || !text(src, "host").is_empty() {
        errs.push(FieldError::invalid(
            "source",
            &json!(""),
            "needs to be unset",
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_round_trips_and_adds_zero_values() {
        let new = json!({"kind": "Event", "apiVersion": "events.k8s.io/v1", "metadata": {"name": "e"},
            "regarding": {"kind": "ConfigMap", "name": "c"}, "note": "n", "reportingController": "x",
            "reportingInstance": "i", "action": "A", "type": "Normal", "eventTime": "2026-01-01T00:00:00.000000Z"});
        let core = present(&new, "");
        assert_eq!(core["apiVersion"], json!("v1"));
        assert_eq!(core["involvedObject"], new["regarding"]);
        assert_eq!(core["message"], json!("n"));
        assert_eq!(core["reportingComponent"], json!("x"));
        assert_eq!(core["source"], json!({}));
        assert_eq!(core["firstTimestamp"], Value::Null);
        assert!(core.get("count").is_none());
        let back = present(&to_shape(&core, ""), EVENTS_GROUP);
        assert_eq!(back["regarding"], new["regarding"]);
        assert_eq!(back["deprecatedSource"], json!({}));
        assert_eq!(back["deprecatedLastTimestamp"], Value::Null);
    }

    fn target(group: &str) -> Target {
        let catalog = crate::catalog::Catalog::default();
        let path = if group.is_empty() {
            "/api/v1/namespaces/ns/events".to_string()
        } else {
            format!("/apis/{group}/v1/namespaces/ns/events")
        };
        match crate::api::route(&catalog, &path) {
            crate::api::Route::Resource(t) => t,
            other => panic!("no events route: {other:?}"),
        }
    }

    #[test]
    fn field_labels_depend_on_the_api() {
        let core = target("");
        let new = target(EVENTS_GROUP);
        assert!(check_field_labels(&core, "involvedObject.name=x,type=Normal").is_ok());
        assert!(check_field_labels(&new, "regarding.name=x").is_ok());
        let err = check_field_labels(&core, "regarding.name=x").expect_err("unsupported");
        assert_eq!(err.code(), 400);
        assert!(check_field_labels(&new, "involvedObject.name=x").is_err());
    }

    #[test]
    fn strict_validation_only_for_the_new_api() {
        let body = json!({"eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "c",
            "reportingInstance": "i", "action": "A", "type": "Info"});
        let errs = validate_create(&target(EVENTS_GROUP), &body);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "type");
        // Core v1 names the controller `reportingComponent` and accepts any type.
        let errs = validate_create(&target(""), &body);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "reportingComponent");
        let mut core = body.clone();
        core["reportingComponent"] = json!("c");
        assert!(validate_create(&target(""), &core).is_empty());
        let old_style = json!({"type": "Normal", "count": 1});
        assert!(validate_create(&target(""), &old_style).is_empty());
        let errs = validate_create(&target(EVENTS_GROUP), &json!({"type": "Normal"}));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "eventTime");
    }
}
