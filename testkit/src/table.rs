//! Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, what `kubectl get`
//! asks for) of custom resources: the `meta.k8s.io` Table with the CRD version's
//! `additionalPrinterColumns` (or the default `Age` column), cells from a small JSONPath
//! evaluator (fields, indexes, `[*]`, `[?(@.a.b=="x")]` filters), ages rendered like the
//! apiserver's `HumanDuration`, and rows carrying the object as `PartialObjectMetadata`
//! (`includeObject=Metadata`, the default; `None` and `Object` are honoured).
//!
//! It deliberately does not render built-in resources as Tables (their printers are compiled
//! into the apiserver; such requests get the plain JSON object, which kubectl also accepts), nor
//! Table watches, nor the full JSONPath grammar (ranges, unions, recursive descent, functions).

use serde_json::{json, Map, Value};

use crate::api::{ApiRequest, State, Target};

/// The Table `apiVersion` a request asks for (`meta.k8s.io/v1` or `meta.k8s.io/v1beta1`), when
/// one of its media ranges asks for a Table.
pub fn wanted(req: &ApiRequest) -> Option<&'static str> {
    req.accept.split(',').find_map(|range| {
        let params: Vec<&str> = range.split(';').map(str::trim).collect();
        let has = |p: &str| params.contains(&p);
        if !has("as=Table") || !has("g=meta.k8s.io") {
            return None;
        }
        if has("v=v1") {
            Some("meta.k8s.io/v1")
        } else if has("v=v1beta1") {
            Some("meta.k8s.io/v1beta1")
        } else {
            None
        }
    })
}

const NAME_DESCRIPTION: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

/// The printer columns of the CRD version serving `t` (the default `Age` column when it has
/// none).
fn printer_columns(state: &State, t: &Target) -> Vec<Value> {
    let columns = state
        .store
        .list("apiextensions.k8s.io", "customresourcedefinitions", None)
        .into_iter()
        .find_map(|crd| {
            let spec = &crd["spec"];
            if spec["group"] != json!(t.info.group)
                || spec["names"]["plural"] != json!(t.info.resource)
            {
                return None;
            }
            spec["versions"]
                .as_array()?
                .iter()
                .find(|v| v["name"] == json!(t.info.version))
                .map(|v| v["additionalPrinterColumns"].as_array().cloned())
        })
        .flatten();
    match columns {
        Some(c) if !c.is_empty() => c,
        _ => {
            vec![json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"})]
        }
    }
}

/// One step of a parsed JSONPath.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    All,
    /// `[?(@.path == literal)]` (or `!=`).
    Filter(Vec<String>, bool, Value),
}

fn parse_path(path: &str) -> Option<Vec<Step>> {
    let p = path.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(p);
    let mut steps = Vec::new();
    let mut rest = p.strip_prefix('$').unwrap_or(p);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            // A field name runs to the next `.` or `[` (split on characters, never on bytes).
            let name: String = r.chars().take_while(|c| *c != '.' && *c != '[').collect();
            rest = r.strip_prefix(name.as_str()).unwrap_or_default();
            if !name.is_empty() {
                steps.push(Step::Field(name));
            }
        } else if let Some(r) = rest.strip_prefix('[') {
            let (inner, tail) = if r.starts_with("?(") {
                let (cond, tail) = r.split_once(")]")?;
                (format!("{cond})"), tail)
            } else {
                let (inner, tail) = r.split_once(']')?;
                (inner.to_string(), tail)
            };
            rest = tail;
            steps.push(parse_bracket(&inner)?);
        } else {
            return None;
        }
    }
    Some(steps)
}

fn parse_bracket(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::All);
    }
    if let Ok(i) = inner.parse::<usize>() {
        return Some(Step::Index(i));
    }
    if let Some(quoted) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
        return Some(Step::Field(quoted.to_string()));
    }
    let cond = inner.strip_prefix("?(")?.strip_suffix(')')?;
    let (lhs, eq, rhs) = if let Some((l, r)) = cond.split_once("==") {
        (l, true, r)
    } else {
        let (l, r) = cond.split_once("!=")?;
        (l, false, r)
    };
    let path: Vec<String> = lhs
        .trim()
        .strip_prefix("@.")?
        .split('.')
        .map(str::to_string)
        .collect();
    let rhs = rhs.trim();
    let literal = if let Some(s) = rhs
        .strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| rhs.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
    {
        json!(s)
    } else {
        serde_json::from_str(rhs).ok()?
    };
    Some(Step::Filter(path, eq, literal))
}

/// Evaluates a JSONPath against `obj`; every matching value, in order.
fn find(obj: &Value, path: &str) -> Vec<Value> {
    let Some(steps) = parse_path(path) else {
        return Vec::new();
    };
    let mut current = vec![obj.clone()];
    for step in steps {
        let mut next = Vec::new();
        for v in current {
            match &step {
                Step::Field(f) => {
                    if let Some(x) = v.get(f.as_str()) {
                        next.push(x.clone());
                    }
                }
                Step::Index(i) => {
                    if let Some(x) = v.get(*i) {
                        next.push(x.clone());
                    }
                }
                Step::All => match &v {
                    Value::Array(a) => next.extend(a.iter().cloned()),
                    Value::Object(m) => next.extend(m.values().cloned()),
                    _ => {}
                },
                Step::Filter(path, eq, lit) => {
                    for item in v.as_array().into_iter().flatten() {
                        let mut got = Some(item);
                        for f in path {
                            got = got.and_then(|g| g.get(f.as_str()));
                        }
                        if got.is_some_and(|g| (g == lit) == *eq) {
                            next.push(item.clone());
                        }
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// The apiserver's `duration.HumanDuration`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let d = (hours / 24) % 365;
        return if d == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{d}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

fn age(value: &Value) -> Value {
    let Some(s) = value.as_str() else {
        return value.clone();
    };
    match s.parse::<jiff::Timestamp>() {
        Ok(t) => {
            let secs = jiff::Timestamp::now().as_second() - t.as_second();
            json!(human_duration(secs))
        }
        Err(_) => json!("<invalid>"),
    }
}

/// One cell of a printer column.
fn cell(obj: &Value, column: &Value) -> Value {
    let path = column["jsonPath"].as_str().unwrap_or_default();
    let Some(value) = find(obj, path).into_iter().next() else {
        return Value::Null;
    };
    match column["type"].as_str().unwrap_or("string") {
        "string" => match &value {
            Value::String(s) => json!(s),
            Value::Null => Value::Null,
            other => json!(other.to_string()),
        },
        "date" => age(&value),
        "integer" => value.as_i64().map(|i| json!(i)).unwrap_or(value),
        "number" => value.as_f64().map(|f| json!(f)).unwrap_or(value),
        "boolean" => value.as_bool().map(|b| json!(b)).unwrap_or(value),
        _ => value,
    }
}

fn column_definitions(columns: &[Value]) -> Vec<Value> {
    let mut defs = vec![json!({"name": "Name", "type": "string", "format": "name",
        "description": NAME_DESCRIPTION, "priority": 0})];
    for c in columns {
        let path = c["jsonPath"].as_str().unwrap_or_default();
        let description = match c["description"].as_str() {
            Some(d) if !d.is_empty() => d.to_string(),
            _ => format!("Custom resource definition column (in JSONPath format): {path}"),
        };
        defs.push(json!({
            "name": c["name"], "type": c["type"],
            "format": c["format"].as_str().unwrap_or_default(),
            "description": description,
            "priority": c["priority"].as_i64().unwrap_or(0)
        }));
    }
    defs
}

fn row(obj: &Value, columns: &[Value], include: &str, table_version: &str) -> Value {
    let mut cells = vec![obj["metadata"]["name"].clone()];
    cells.extend(columns.iter().map(|c| cell(obj, c)));
    let mut r = Map::new();
    r.insert("cells".into(), Value::Array(cells));
    match include {
        "None" => {}
        "Object" => {
            r.insert("object".into(), obj.clone());
        }
        _ => {
            r.insert(
                "object".into(),
                json!({"kind": "PartialObjectMetadata", "apiVersion": table_version,
                    "metadata": obj["metadata"]}),
            );
        }
    }
    Value::Object(r)
}

/// Renders a GET answer (one object) or a LIST answer (a list) of a custom resource as a Table.
pub fn render(
    state: &State,
    t: &Target,
    req: &ApiRequest,
    table_version: &str,
    body: &Value,
) -> Value {
    let columns = printer_columns(state, t);
    let include = req.q("includeObject").unwrap_or("Metadata");
    let (meta, objects): (Value, Vec<Value>) = match body["items"].as_array() {
        Some(items) => (body["metadata"].clone(), items.clone()),
        None => {
            let mut m = Map::new();
            if let Some(rv) = body.pointer("/metadata/resourceVersion") {
                m.insert("resourceVersion".into(), rv.clone());
            }
            (Value::Object(m), vec![body.clone()])
        }
    };
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| row(o, &columns, include, table_version))
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": table_version,
        "metadata": meta,
        "columnDefinitions": column_definitions(&columns),
        "rows": rows
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonpath_filters_and_fields() {
        let obj = json!({"status": {"conditions": [{"type": "Synced", "status": "False"},
            {"type": "Ready", "status": "True"}], "rev": "r1", "n": 3}});
        assert_eq!(
            find(&obj, r#".status.conditions[?(@.type=="Ready")].status"#),
            vec![json!("True")]
        );
        assert_eq!(find(&obj, ".status.rev"), vec![json!("r1")]);
        assert_eq!(
            find(&obj, ".status.conditions[0].type"),
            vec![json!("Synced")]
        );
        assert!(find(&obj, ".status.missing").is_empty());
        let col = json!({"name": "N", "type": "string", "jsonPath": ".status.n"});
        assert_eq!(cell(&obj, &col), json!("3"));
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(125), "2m5s");
        assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
        assert_eq!(human_duration(50 * 3600), "2d2h");
    }

    #[test]
    fn accept_header_selects_table_version() {
        let req = |a: &str| ApiRequest {
            accept: a.into(),
            ..Default::default()
        };
        assert_eq!(
            wanted(&req(
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
            )),
            Some("meta.k8s.io/v1")
        );
        assert_eq!(wanted(&req("application/json")), None);
    }
}
