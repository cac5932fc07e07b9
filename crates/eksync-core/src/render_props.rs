//! Property tests for every renderer in the core that turns drift, diffs or reports into text:
//! Kubernetes object diffs (`kdiff::diff` + `kdiff::render`), AWS template, parameter and tag diffs
//! (`awsdiff::diff`), drift detection and the AWS plan (`awsdiff::drift`, `awsdiff::plan`), the
//! Markdown preview (`awsdiff::summary`), Secret masking (`values::mask_secret`), reference
//! substitution (`refs`, `values::substitute`, `awsdiff::resolve`), readiness and immutable-field
//! messages, and the offline reports (`report`). Inputs hold arbitrary Unicode (multi-byte
//! characters, emoji, combining marks, control characters, NUL, bidi marks, line separators) and
//! huge values (strings of 100,000+ characters, JSON nested 100 deep).
//!
//! Every property asserts that nothing panics, and where a renderer promises a bound or masking it
//! checks the promise: Secret material never shows, Markdown table rows stay rows, DOT strings stay
//! quoted, summary values are clipped. It deliberately does not pin exact output (the unit and
//! snapshot tests beside each renderer do) and measures no time.

use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

use crate::analysis::{analyze, Analysis};
use crate::awsdiff::drift::AUTOSCALER_ENABLED_TAG;
use crate::awsdiff::{
    annotate_preview, detect_drift, diff_parameters, diff_tags, diff_template, normalize_json,
    plan, render_markdown, AsgTarget, AwsPlan, AwsStep, ChangeSetPreview, DesiredRolePolicy,
    DesiredStack, Disposition, Drift, DriftMode, DriftReport, DriftTarget, LiveAsg, LiveAws,
    LiveEksCluster, LiveNodegroup, LiveRolePolicy, LiveStack, LiveStackResource, MapChange, Owner,
    OwnerRule, ParamValue, PlanOptions, PlannedStep, RawChangeDetail, RawResourceChange,
    RoleSource, SecretValue, StackAction, StackPlan,
};
use crate::diag::{Diagnostic, Location};
use crate::graph::{Edge, Graph, Node, NodeRef, System};
use crate::kdiff::diff::LAST_APPLIED;
use crate::kdiff::{self, Action, FIELD_MANAGER};
use crate::load::{Source, SourceFile};
use crate::model::Origin;
use crate::report::{self, PlanView};
use crate::text::{clip, json_text, md_cell};
use crate::{plan as waves, refs, values};

/// Length of a huge generated string, in characters (at least).
const HUGE: usize = 100_000;
/// Deepest generated JSON nesting.
const DEEP: usize = 100;
/// Marks secret material in generated inputs; no other generated text contains it, so any
/// occurrence in an output is a leak.
const SECRET_MARK: char = '\u{E000}';
/// Starts the names of secret stack parameters, so that no generated `Fn::Sub` or `Ref` can name
/// one (see [`build_world`]).
const SECRET_KEY_MARK: char = '\u{E002}';
/// Cases per property: enough to meet every generator arm many times, few enough that all of
/// these run in a few seconds in a debug build.
const CASES: u32 = 64;
/// The summary's clip length for values (`awsdiff::summary`).
const SUMMARY_VALUE_CHARS: usize = 60;

/// Characters that break naive text handling: controls, NUL, bidi and zero-width marks, line
/// separators, combining marks, multi-byte letters, emoji and modifiers, noncharacters, and the
/// punctuation Markdown, DOT, JSON pointers, CloudFormation `Fn::Sub` and `{{aws:...}}` care about.
const SPECIAL: &str = concat!(
    "\0\u{1}\u{1b}\t\n\r\u{7f}\u{85}\u{a0}\u{ad}",
    "\u{200b}\u{200d}\u{200e}\u{200f}\u{202a}\u{202e}\u{2066}\u{2069}\u{2028}\u{2029}",
    "\u{feff}\u{fffd}\u{fffe}\u{301}\u{308}\u{20e3}",
    "éßİﬀ日語アعש🦀👨\u{1f3fd}\u{1f1fa}\u{10ffff}",
    "|`\"'\\{}$!<>&*./~[]:#-% ",
);

static SPECIAL_CHARS: std::sync::OnceLock<Vec<char>> = std::sync::OnceLock::new();

/// Pieces that trigger parsers inside renderers.
const FRAGMENTS: &[&str] = &[
    "${",
    "${!",
    "}",
    "${AWS::Region}",
    "${AWS::StackName}",
    "{{",
    "}}",
    "{{aws:",
    "{{!aws:",
    "{{ aws:cluster/resource/X }}",
    "{{aws:region}}",
    "****",
    "\r\n",
    "%7B",
    "%FF",
    "~0",
    "~1",
    "aws:",
    "data.",
    "k:{",
    "v:",
    "|---|",
    "<br>",
];

/// SplitMix64: strings are expanded from one generated seed, which is much cheaper than one
/// generated value per character (the suite runs in debug) and still shrinks by length.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Any scalar value (all planes, or the BMP), one of [`SPECIAL`], or a lowercase letter; never
    /// a secret mark.
    fn char(&mut self) -> char {
        let r = self.next();
        let c = match r % 8 {
            0 => char::from_u32(((r >> 8) % 0x11_0000) as u32),
            1 | 2 => char::from_u32(((r >> 8) % 0x1_0000) as u32),
            3..=5 => {
                let special = SPECIAL_CHARS.get_or_init(|| SPECIAL.chars().collect());
                special
                    .get(((r >> 8) % special.len() as u64) as usize)
                    .copied()
            }
            _ => char::from_u32(u32::from(b'a') + ((r >> 8) % 26) as u32),
        };
        match c {
            Some(SECRET_MARK | SECRET_KEY_MARK) | None => '\u{FFFD}',
            Some(c) => c,
        }
    }

    fn text(&mut self, chars: usize) -> String {
        (0..chars).map(|_| self.char()).collect()
    }
}

/// Up to 23 characters.
fn short_text() -> impl Strategy<Value = String> {
    (any::<u64>(), 0..24usize).prop_map(|(seed, n)| Mix(seed).text(n))
}

/// Up to five pieces, each a short text or one of [`FRAGMENTS`].
fn tricky_text() -> impl Strategy<Value = String> {
    (any::<u64>(), 0..6usize).prop_map(|(seed, pieces)| {
        let mut m = Mix(seed);
        (0..pieces)
            .map(|_| {
                if m.below(2) == 0 {
                    FRAGMENTS[m.below(FRAGMENTS.len())].to_string()
                } else {
                    let n = m.below(12);
                    m.text(n)
                }
            })
            .collect()
    })
}

/// At least [`HUGE`] characters: a short chunk repeated (so it can hold many lines, or none).
fn huge_text() -> impl Strategy<Value = String> {
    (any::<u64>(), 1..12usize).prop_map(|(seed, n)| Mix(seed).text(n).repeat(HUGE / n + 1))
}

/// A name-like string: never huge.
fn name_text() -> BoxedStrategy<String> {
    prop_oneof![3 => short_text(), 1 => tricky_text()].boxed()
}

/// Any string, now and then a huge one.
fn text() -> BoxedStrategy<String> {
    prop_oneof![8 => short_text(), 3 => tricky_text(), 1 => huge_text()].boxed()
}

/// A scalar; its strings are never huge (a [`json`] value holds at most one huge string).
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| json!(f)),
        2 => name_text().prop_map(Value::String),
    ]
}

/// A value nested 32 to 100 levels deep, alternating objects and arrays at random.
fn deep_json() -> impl Strategy<Value = Value> {
    (leaf(), any::<u64>(), 32..=DEEP).prop_map(|(leaf, seed, depth)| {
        let mut m = Mix(seed);
        (0..depth).fold(leaf, |inner, _| {
            if m.below(2) == 0 {
                let n = m.below(8);
                Value::Object(Map::from_iter([(m.text(n), inner)]))
            } else {
                Value::Array(vec![inner])
            }
        })
    })
}

/// Any JSON value: mostly small and shallow, now and then nested up to [`DEEP`] levels, a huge
/// string, or a huge string inside a mapping.
fn json() -> BoxedStrategy<Value> {
    let shallow = leaf().prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            vec((name_text(), inner), 0..5).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    });
    prop_oneof![
        12 => shallow,
        1 => deep_json(),
        1 => huge_text().prop_map(Value::String),
        1 => (name_text(), huge_text()).prop_map(|(k, v)| json!({ k: v })),
    ]
    .boxed()
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    vec((name_text(), json()), 0..6).prop_map(|kv| kv.into_iter().collect())
}

/// Secret material, marked at its start and between its pieces, so that a leak of any part of
/// it (a whole value, or a piece a parser echoes back) is found wherever it ends up.
fn secret_text() -> BoxedStrategy<String> {
    prop_oneof![
        6 => small_secret_text(),
        1 => huge_text().prop_map(|t| format!("{SECRET_MARK}{t}")),
    ]
    .boxed()
}

/// [`secret_text`] without the huge ones.
fn small_secret_text() -> BoxedStrategy<String> {
    vec(
        prop_oneof![short_text(), select(FRAGMENTS).prop_map(String::from)],
        0..6,
    )
    .prop_map(|parts| format!("{SECRET_MARK}{}", parts.join(&SECRET_MARK.to_string())))
    .boxed()
}

fn assert_no_secret(what: &str, out: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        !out.contains(SECRET_MARK),
        "secret material in {what}: {}",
        clip(out, 2_000)
    );
    Ok(())
}

/// Lines as CommonMark sees them: `\n`, `\r\n` and a lone `\r` all end a line.
fn md_lines(s: &str) -> Vec<&str> {
    s.split("\r\n")
        .flat_map(|l| l.split(['\r', '\n']))
        .collect()
}

/// Every row of every Markdown table (a `|` header line followed by a `|---` delimiter line, up
/// to the next blank line) is still one row: it starts and ends with `|`, however the cells' text
/// looks.
fn assert_tables_intact(what: &str, md: &str) -> Result<(), TestCaseError> {
    let lines = md_lines(md);
    let mut in_table = false;
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() {
            in_table = false;
            continue;
        }
        if line.starts_with('|') && lines.get(i + 1).is_some_and(|l| l.starts_with("|---")) {
            in_table = true;
        }
        if in_table {
            prop_assert!(
                line.starts_with('|') && line.ends_with('|'),
                "broken table row in {what}: {:?}",
                clip(line, 500)
            );
        }
    }
    Ok(())
}

/// A Kubernetes-like object: `body` with `apiVersion`, `kind` and `metadata.name` set.
fn k8s_object(api_version: &str, kind: &str, name: &str, body: Map<String, Value>) -> Value {
    let mut obj = body;
    obj.insert("apiVersion".into(), json!(api_version));
    obj.insert("kind".into(), json!(kind));
    let meta = obj.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta["name"] = json!(name);
    Value::Object(obj)
}

fn kind_text() -> BoxedStrategy<String> {
    prop_oneof![
        select(&["ConfigMap", "Deployment", "Service", "Widget"][..]).prop_map(String::from),
        name_text(),
    ]
    .boxed()
}

/// `(dry-run result, live object)` pairs: create, no change, a changed copy, or two unrelated
/// objects; the live side may carry managedFields from arbitrary managers.
fn kube_pair() -> impl Strategy<Value = (Value, Option<Value>)> {
    (
        kind_text(),
        text(),
        json_object(),
        json_object(),
        0..4u8,
        // `{}` owns the whole object: every changed field is then that manager's drift.
        vec((name_text(), prop_oneof![Just(json!({})), json()]), 0..3),
        (name_text(), json()),
    )
        .prop_map(|(kind, name, body, other, shape, managers, (key, value))| {
            let dry = k8s_object("v1", &kind, &name, body);
            let mut live = match shape {
                0 => return (dry, None),
                1 => dry.clone(),
                2 => {
                    let mut l = dry.clone();
                    l[key] = value;
                    l
                }
                _ => k8s_object("v1", &kind, &name, other),
            };
            if !managers.is_empty() {
                let entries: Vec<Value> = managers
                    .into_iter()
                    .map(|(m, fs)| json!({"manager": m, "operation": "Update", "fieldsV1": fs}))
                    .collect();
                live["metadata"]["managedFields"] = Value::Array(entries);
            }
            (dry, Some(live))
        })
}

/// A Secret's `data`/`stringData`: mostly a mapping of secret strings, sometimes the shapes the API
/// refuses but a repo can hold (a string, a list, nested mappings).
fn secret_data(secrets: BoxedStrategy<String>) -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => vec((name_text(), secrets.clone()), 0..5)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k, json!(v))).collect())),
        1 => secrets.clone().prop_map(Value::String),
        1 => vec(secrets.clone(), 0..3).prop_map(|v| json!(v)),
        1 => (name_text(), secrets).prop_map(|(k, v)| json!({ k: {"nested": v} })),
    ]
}

/// A `v1` Secret with secret data (from `secrets`), other fields (from `extra`) and, maybe,
/// kubectl's last-applied record (which repeats the data).
fn secret_object_of(
    secrets: BoxedStrategy<String>,
    extra: BoxedStrategy<Map<String, Value>>,
) -> impl Strategy<Value = Value> {
    (
        text(),
        secret_data(secrets.clone()),
        option::of(secret_data(secrets)),
        extra,
        any::<bool>(),
    )
        .prop_map(|(name, data, string_data, extra, last_applied)| {
            let mut body = extra;
            body.remove("data");
            body.remove("stringData");
            body.insert("data".into(), data.clone());
            if let Some(sd) = string_data {
                body.insert("stringData".into(), sd);
            }
            let mut obj = k8s_object("v1", "Secret", &name, body);
            if last_applied {
                let record =
                    json!({"apiVersion": "v1", "kind": "Secret", "data": data}).to_string();
                obj["metadata"]["annotations"] = json!({ LAST_APPLIED: record });
            }
            obj
        })
}

/// A Secret with any secret values and any other fields.
fn secret_object() -> impl Strategy<Value = Value> {
    secret_object_of(secret_text(), json_object().boxed())
}

/// What a Secret's dry run can be compared with: nothing, itself, another Secret, or (for the
/// dry-run side) something that is not an object at all.
fn secret_pair() -> impl Strategy<Value = (Value, Option<Value>)> {
    (secret_object(), secret_object(), 0..5u8, leaf()).prop_map(|(a, b, shape, scalar)| match shape
    {
        0 => (a, None),
        1 => (a.clone(), Some(a)),
        2 => (a, Some(b)),
        3 => (scalar, Some(b)),
        _ => (b, Some(scalar)),
    })
}

fn template() -> BoxedStrategy<Value> {
    prop_oneof![
        json(),
        vec((name_text(), name_text(), json()), 0..4).prop_map(|rs| {
            let resources: Map<String, Value> = rs
                .into_iter()
                .map(|(id, ty, props)| (id, json!({"Type": ty, "Properties": props})))
                .collect();
            json!({"Resources": resources})
        }),
    ]
    .boxed()
}

fn map_change() -> impl Strategy<Value = MapChange> {
    (
        name_text(),
        option::of(text()),
        option::of(text()),
        any::<bool>(),
    )
        .prop_map(|(key, live, desired, known_after_apply)| MapChange {
            key,
            live,
            desired,
            known_after_apply,
        })
}

fn owner() -> impl Strategy<Value = Owner> {
    prop_oneof![
        Just(Owner::Git),
        Just(Owner::ClusterAutoscaler),
        name_text().prop_map(Owner::Other),
    ]
}

fn drift_target(names: BoxedStrategy<String>) -> impl Strategy<Value = DriftTarget> {
    (
        0..4u8,
        names.clone(),
        names.clone(),
        names.clone(),
        option::of(names),
    )
        .prop_map(|(which, a, b, c, d)| match which {
            0 => DriftTarget::Asg {
                stack: a,
                logical_id: b,
                name: c,
            },
            1 => DriftTarget::RolePolicy {
                stack: d,
                role: b,
                policy: c,
            },
            2 => DriftTarget::EksCluster {
                stack: a,
                logical_id: b,
                name: c,
            },
            _ => DriftTarget::EksNodegroup {
                stack: a,
                logical_id: b,
                cluster: c,
                name: d.unwrap_or_default(),
            },
        })
}

fn drift(names: BoxedStrategy<String>) -> impl Strategy<Value = Drift> {
    (
        drift_target(names.clone()),
        names.clone(),
        json(),
        json(),
        owner(),
        (0..4u8, names),
    )
        .prop_map(
            |(target, property, expected, live, owner, (d, why))| Drift {
                target,
                property,
                expected,
                live,
                owner,
                disposition: match d {
                    0 => Disposition::Correct,
                    1 => Disposition::DetectOnly,
                    2 => Disposition::ReportOnly(why),
                    _ => Disposition::NotOwned,
                },
            },
        )
}

fn stack_plan(names: BoxedStrategy<String>) -> impl Strategy<Value = StackPlan> {
    (
        names.clone(),
        (0..4u8, names),
        any::<bool>(),
        option::of((template(), template())),
        vec(map_change(), 0..4),
        vec(map_change(), 0..4),
    )
        .prop_map(|(name, (a, why), detect, diff, params, tags)| StackPlan {
            name,
            action: match a {
                0 => StackAction::Create,
                1 => StackAction::Update,
                2 => StackAction::NoChange,
                _ => StackAction::Blocked(why),
            },
            mode: if detect {
                DriftMode::DetectOnly
            } else {
                DriftMode::Correct
            },
            template_diff: diff.map(|(a, b)| diff_template(&a, &b)),
            parameter_changes: params,
            tag_changes: tags,
        })
}

fn aws_step(names: BoxedStrategy<String>) -> impl Strategy<Value = AwsStep> {
    (
        0..5u8,
        names.clone(),
        names.clone(),
        names.clone(),
        option::of(any::<i64>()),
        btree_map(names, Just(String::new()), 0..3),
    )
        .prop_map(|(which, a, b, c, size, tags)| {
            let asg = AsgTarget {
                stack: a.clone(),
                logical_id: b.clone(),
                name: c.clone(),
            };
            match which {
                0 => AwsStep::CreateStack {
                    stack: a,
                    change_set_name: b,
                    template: Value::Null,
                    parameters: BTreeMap::new(),
                    tags,
                },
                1 => AwsStep::UpdateStack {
                    stack: a,
                    change_set_name: b,
                    template: Value::Null,
                    parameters: BTreeMap::new(),
                    tags,
                },
                2 => AwsStep::PutRolePolicy {
                    role: RoleSource::StackResource {
                        stack: a,
                        logical_id: b,
                    },
                    policy_name: c,
                    document: Value::Null,
                },
                3 => AwsStep::SetAsgLimits {
                    asg,
                    min_size: size,
                    max_size: size.map(|s| s.wrapping_add(1)),
                },
                _ => AwsStep::SetAsgTags { asg, tags },
            }
        })
}

fn raw_change(names: BoxedStrategy<String>) -> impl Strategy<Value = RawResourceChange> {
    (
        names.clone(),
        names.clone(),
        select(&["Add", "Modify", "Remove"][..]),
        option::of(prop_oneof![
            select(&["True", "False", "Conditional", ""][..]).prop_map(String::from),
            names.clone()
        ]),
        vec(
            (
                option::of(names.clone()),
                option::of(names.clone()),
                option::of(select(&["Always", "Conditionally", "Never"][..])),
                option::of(names),
            ),
            0..3,
        ),
    )
        .prop_map(
            |(logical_id, resource_type, action, replacement, details)| RawResourceChange {
                logical_id,
                resource_type,
                physical_id: None,
                action: action.to_string(),
                replacement,
                details: details
                    .into_iter()
                    .map(|(attribute, name, rr, entity)| RawChangeDetail {
                        attribute,
                        name,
                        requires_recreation: rr.map(String::from),
                        change_source: Some("DirectModification".into()),
                        causing_entity: entity,
                    })
                    .collect(),
            },
        )
}

/// An AWS plan with every text field from `names` and every value from [`json`]/[`text`].
fn aws_plan(
    names: BoxedStrategy<String>,
) -> impl Strategy<Value = (AwsPlan, Vec<ChangeSetPreview>)> {
    (
        vec(stack_plan(names.clone()), 0..4),
        vec(drift(names.clone()), 0..4),
        vec(drift(names.clone()), 0..3),
        vec(aws_step(names.clone()), 0..4),
        vec(names.clone(), 0..3),
        vec(raw_change(names.clone()), 0..4),
        names,
    )
        .prop_map(|(stacks, drift, not_owned, steps, notes, raw, cs)| {
            let previews = stacks
                .iter()
                .map(|s| ChangeSetPreview {
                    stack: s.name.clone(),
                    change_set_name: cs.clone(),
                    change_set_id: None,
                    status: "CREATE_COMPLETE".into(),
                    status_reason: Some(cs.clone()),
                    no_changes: false,
                    changes: annotate_preview(&raw, s.template_diff.as_ref()),
                })
                .collect();
            let steps = steps
                .into_iter()
                .enumerate()
                .map(|(id, step)| PlannedStep {
                    id,
                    after: (0..id).collect(),
                    step,
                })
                .collect();
            let plan = AwsPlan {
                stacks,
                policies: Vec::new(),
                drift: DriftReport {
                    drift,
                    not_owned,
                    notes: notes.clone(),
                },
                steps,
                notes,
                eks_objects: Vec::new(),
            };
            (plan, previews)
        })
}

/// Every value the summary shows clipped, with the text it would show unclipped.
fn summary_values(plan: &AwsPlan) -> Vec<String> {
    let mut out = Vec::new();
    for s in plan
        .stacks
        .iter()
        .filter(|s| s.action == StackAction::Update)
    {
        for c in s.template_diff.iter().flat_map(|d| &d.changes) {
            out.extend(c.deployed.iter().chain(&c.desired).map(json_text));
        }
        for c in &s.parameter_changes {
            out.extend(c.live.clone());
            if !c.known_after_apply {
                out.extend(c.desired.clone());
            }
        }
        for c in &s.tag_changes {
            out.extend(c.live.iter().chain(&c.desired).cloned());
        }
    }
    for d in plan.drift.drift.iter().chain(&plan.drift.not_owned) {
        out.push(json_text(&d.expected));
        out.push(json_text(&d.live));
    }
    out
}

/// The plan with every clipped value emptied: what the summary shows in full.
fn without_values(plan: &AwsPlan) -> AwsPlan {
    let mut p = plan.clone();
    for s in &mut p.stacks {
        if let Some(d) = &mut s.template_diff {
            d.unified.clear();
            d.patch = Value::Null;
            for c in &mut d.changes {
                c.deployed = None;
                c.desired = None;
            }
        }
        for c in s.parameter_changes.iter_mut().chain(&mut s.tag_changes) {
            c.live = None;
            c.desired = None;
        }
    }
    for d in p.drift.drift.iter_mut().chain(&mut p.drift.not_owned) {
        d.expected = Value::Null;
        d.live = Value::Null;
    }
    p
}

// ---- the AWS world: desired stacks and policies against a live snapshot ----

#[derive(Debug, Clone)]
enum TagVal {
    Lit(String),
    Int(i64),
    RefParam(usize),
    Sub(String),
    Join(String, Vec<String>),
}

fn tag_val() -> impl Strategy<Value = TagVal> {
    prop_oneof![
        text().prop_map(TagVal::Lit),
        Just(TagVal::Lit("true".into())),
        (-3i64..5).prop_map(TagVal::Int),
        (0usize..4).prop_map(TagVal::RefParam),
        tricky_text().prop_map(TagVal::Sub),
        (name_text(), vec(text(), 0..3)).prop_map(|(s, p)| TagVal::Join(s, p)),
    ]
}

fn tag_json(v: &TagVal, param_keys: &[String]) -> Value {
    match v {
        TagVal::Lit(s) => json!(s),
        TagVal::Int(i) => json!(i),
        TagVal::RefParam(i) => match param_keys.get(*i) {
            Some(k) => json!({ "Ref": k }),
            None => json!({"Ref": "AWS::StackName"}),
        },
        TagVal::Sub(s) => json!({ "Fn::Sub": s }),
        TagVal::Join(sep, parts) => json!({"Fn::Join": [sep, parts]}),
    }
}

#[derive(Debug, Clone)]
struct AwsWorld {
    stacks: Vec<DesiredStack>,
    policies: Vec<DesiredRolePolicy>,
    live: LiveAws,
    raw_changes: Vec<RawResourceChange>,
    detect_only: bool,
}

/// The physical names of the stack's resources: ASG, role, EKS cluster, node group `c/n`.
type Physical = (String, String, String, (String, String));

fn aws_world() -> impl Strategy<Value = AwsWorld> {
    // Physical names are repeated in many drift rows and notes: ordinary sizes keep the case
    // fast; huge names come in through the stack name, tags, labels and policy names.
    let physical = (
        name_text(),
        name_text(),
        name_text(),
        (name_text(), name_text()),
    );
    let template_parts = (
        vec(
            (
                prop_oneof![
                    text().prop_map(TagVal::Lit),
                    tricky_text().prop_map(TagVal::Sub),
                    Just(TagVal::Lit(AUTOSCALER_ENABLED_TAG.into())),
                ],
                tag_val(),
            ),
            0..4,
        ),
        (tag_val(), tag_val(), tag_val()),
        vec((text(), json()), 0..3),
        tag_val(),
        btree_map(name_text(), tag_val(), 0..3),
        vec((name_text(), json()), 0..2),
    );
    let live_parts = (
        (-3i64..5, -3i64..5, -3i64..5),
        btree_map(text(), text(), 0..3),
        option::of(option::of(json())),
        option::of(text()),
        (
            option::of(-3i64..5),
            option::of(-3i64..5),
            option::of(-3i64..5),
        ),
        btree_map(text(), text(), 0..3),
        prop_oneof![
            Just("arn:aws:cloudformation:us-east-1:123456789012:stack/s/1".to_string()),
            text()
        ],
        select(
            &[
                "CREATE_COMPLETE",
                "UPDATE_COMPLETE",
                "ROLLBACK_COMPLETE",
                "UPDATE_IN_PROGRESS",
                "REVIEW_IN_PROGRESS",
            ][..],
        ),
    );
    let desired_parts = (
        text(),
        vec((name_text(), 0..3u8, text(), 0..3u8), 0..4),
        btree_map(text(), text(), 0..3),
        0..3u8,
        vec(
            (
                select(&["Asg", "Ng", "Role"][..]),
                select(&["DesiredCapacity", "MinSize", "ScalingConfig.DesiredSize"][..]),
                owner(),
            ),
            0..2,
        ),
        option::of((
            any::<bool>(),
            text(),
            json(),
            option::of(option::of(json())),
        )),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        vec(raw_change(text()), 0..3),
    );
    (physical, template_parts, live_parts, desired_parts).prop_map(
        |(physical, template_parts, live_parts, desired_parts)| {
            build_world(physical, template_parts, live_parts, desired_parts)
        },
    )
}

type TemplateParts = (
    Vec<(TagVal, TagVal)>,
    (TagVal, TagVal, TagVal),
    Vec<(String, Value)>,
    TagVal,
    BTreeMap<String, TagVal>,
    Vec<(String, Value)>,
);
type LiveParts = (
    (i64, i64, i64),
    BTreeMap<String, String>,
    Option<Option<Value>>,
    Option<String>,
    (Option<i64>, Option<i64>, Option<i64>),
    BTreeMap<String, String>,
    String,
    &'static str,
);
type DesiredParts = (
    String,
    Vec<(String, u8, String, u8)>,
    BTreeMap<String, String>,
    u8,
    Vec<(&'static str, &'static str, Owner)>,
    Option<(bool, String, Value, Option<Option<Value>>)>,
    (bool, bool, bool),
    Vec<RawResourceChange>,
);

fn build_world(
    (asg_name, role_name, cluster_name, (ng_cluster, ng_name)): Physical,
    (tags, (min, max, desired), role_policies, version, labels, extra): TemplateParts,
    (
        (live_min, live_max, live_desired),
        live_asg_tags,
        live_policy_doc,
        live_version,
        (ng_min, ng_max, ng_desired),
        live_labels,
        stack_id,
        status,
    ): LiveParts,
    (
        stack_name,
        params,
        stack_tags,
        template_shape,
        ownership,
        extra_policy,
        (exists, detect_only, stack_detect_only),
        raw_changes,
    ): DesiredParts,
) -> AwsWorld {
    let mut parameters = BTreeMap::new();
    let mut live_parameters = BTreeMap::new();
    let mut template_params = Map::new();
    let mut literal_keys = Vec::new();
    for (key, kind, value, live_kind) in params {
        let (key, param, plain) = match kind {
            0 => {
                literal_keys.push(key.clone());
                (key, ParamValue::Literal(value.clone()), value)
            }
            1 => {
                let key = format!("{SECRET_KEY_MARK}{key}");
                let secret = format!("{SECRET_MARK}{value}");
                template_params.insert(key.clone(), json!({"Type": "String", "NoEcho": true}));
                (
                    key,
                    ParamValue::Secret(SecretValue::new(secret.clone())),
                    secret,
                )
            }
            _ => (
                key,
                ParamValue::EksServiceCidr {
                    cluster: cluster_name.clone(),
                },
                value,
            ),
        };
        // AWS shows a NoEcho value as `****`, and anything else as it is (a secret deployed
        // before it was marked NoEcho included).
        let live_value = match live_kind {
            0 => "****".to_string(),
            1 => plain,
            _ => String::new(),
        };
        parameters.insert(key.clone(), param);
        live_parameters.insert(key, live_value);
    }
    // Templates refer to literal parameters only: a value resolved from a secret parameter would
    // be shown as drift, which is not what this models (secret parameters are masked by `plan`).
    let tag = |v: &TagVal| tag_json(v, &literal_keys);
    let mut resources = Map::new();
    resources.insert(
        "Asg".into(),
        json!({"Type": "AWS::AutoScaling::AutoScalingGroup", "Properties": {
            "MinSize": tag(&min), "MaxSize": tag(&max), "DesiredCapacity": tag(&desired),
            "Tags": tags.iter().map(|(k, v)| json!({"Key": tag(k), "Value": tag(v), "PropagateAtLaunch": true})).collect::<Vec<_>>(),
        }}),
    );
    resources.insert(
        "Role".into(),
        json!({"Type": "AWS::IAM::Role", "Properties": {
            "Policies": role_policies.iter().map(|(n, d)| json!({"PolicyName": n, "PolicyDocument": d})).collect::<Vec<_>>(),
        }}),
    );
    resources.insert(
        "Cluster".into(),
        json!({"Type": "AWS::EKS::Cluster", "Properties": {"Version": tag(&version)}}),
    );
    resources.insert(
        "Ng".into(),
        json!({"Type": "AWS::EKS::Nodegroup", "Properties": {
            "ScalingConfig": {"MinSize": tag(&min), "MaxSize": tag(&max), "DesiredSize": tag(&desired)},
            "Labels": labels.iter().map(|(k, v)| (k.clone(), tag(v))).collect::<Map<_, _>>(),
        }}),
    );
    for (id, body) in extra {
        resources.insert(id, body);
    }
    let deployed = json!({"Parameters": template_params, "Resources": resources});
    let desired_template = match template_shape {
        0 => deployed.clone(),
        1 => {
            let mut t = deployed.clone();
            t["Resources"]["Extra"] =
                json!({"Type": "AWS::SNS::Topic", "Properties": {"TopicName": tag(&min)}});
            t
        }
        _ => json!({"Parameters": deployed["Parameters"].clone(), "Resources": {"Asg": tag(&max)}}),
    };
    let mut live = LiveAws::default();
    let ng_physical = format!("{ng_cluster}/{ng_name}");
    if exists {
        let resource = |id: &str, physical: &str, ty: &str| LiveStackResource {
            logical_id: id.into(),
            physical_id: Some(physical.to_string()),
            resource_type: ty.into(),
            status: "CREATE_COMPLETE".into(),
        };
        live.stacks.insert(
            stack_name.clone(),
            LiveStack {
                name: stack_name.clone(),
                id: stack_id,
                status: status.into(),
                status_reason: live_version.clone(),
                parameters: live_parameters,
                tags: live_asg_tags.clone(),
                outputs: BTreeMap::new(),
                template: deployed,
                resources: vec![
                    resource("Asg", &asg_name, "AWS::AutoScaling::AutoScalingGroup"),
                    resource("Role", &role_name, "AWS::IAM::Role"),
                    resource("Cluster", &cluster_name, "AWS::EKS::Cluster"),
                    resource("Ng", &ng_physical, "AWS::EKS::Nodegroup"),
                ],
                last_changed: None,
            },
        );
    }
    live.asgs.insert(
        asg_name.clone(),
        LiveAsg {
            name: asg_name,
            min_size: live_min,
            max_size: live_max,
            desired_capacity: live_desired,
            tags: live_asg_tags,
        },
    );
    if let Some(doc) = &live_policy_doc {
        for (policy, _) in &role_policies {
            live.insert_role_policy(LiveRolePolicy {
                role_name: role_name.clone(),
                policy_name: policy.clone(),
                document: doc.clone(),
            });
        }
    }
    live.eks_clusters.insert(
        cluster_name.clone(),
        LiveEksCluster {
            name: cluster_name,
            version: live_version,
            status: None,
            service_ipv4_cidr: None,
        },
    );
    live.eks_nodegroups
        .entry(ng_cluster.clone())
        .or_default()
        .insert(
            ng_name.clone(),
            LiveNodegroup {
                cluster: ng_cluster,
                name: ng_name,
                min_size: ng_min,
                max_size: ng_max,
                desired_size: ng_desired,
                labels: live_labels,
            },
        );
    let mut stack = DesiredStack::new(stack_name.clone(), desired_template);
    stack.parameters = parameters;
    stack.tags = stack_tags;
    stack.mode = if stack_detect_only {
        DriftMode::DetectOnly
    } else {
        DriftMode::Correct
    };
    stack.ownership = ownership
        .into_iter()
        .map(|(logical_id, property, owner)| OwnerRule {
            logical_id: logical_id.into(),
            property: property.into(),
            owner,
        })
        .collect();
    let mut policies = Vec::new();
    if let Some((by_name, policy_name, document, live_doc)) = extra_policy {
        let role = if by_name {
            RoleSource::Name(role_name.clone())
        } else {
            RoleSource::StackResource {
                stack: stack_name,
                logical_id: "Role".into(),
            }
        };
        if let Some(doc) = live_doc {
            live.insert_role_policy(LiveRolePolicy {
                role_name,
                policy_name: policy_name.clone(),
                document: doc,
            });
        }
        policies.push(DesiredRolePolicy {
            role,
            policy_name,
            document,
            mode: DriftMode::Correct,
        });
    }
    AwsWorld {
        stacks: vec![stack],
        policies,
        live,
        raw_changes,
        detect_only,
    }
}

// ---- reports ----

fn system() -> impl Strategy<Value = System> {
    prop_oneof![Just(System::Aws), Just(System::Kubernetes)]
}

fn graph(names: BoxedStrategy<String>) -> impl Strategy<Value = Graph> {
    (
        vec(
            (
                names.clone(),
                system(),
                kind_text(),
                names.clone(),
                option::of(names.clone()),
                option::of(name_text()),
                option::of((names.clone(), 0usize..3, 0usize..1000)),
            ),
            1..6,
        ),
        vec((0usize..6, 0usize..6, names), 0..8),
    )
        .prop_map(|(nodes, edges)| {
            let n = nodes.len();
            Graph {
                nodes: nodes
                    .into_iter()
                    .enumerate()
                    .map(
                        |(i, (id, system, kind, name, namespace, cluster, origin))| Node {
                            id,
                            system,
                            kind,
                            name,
                            namespace,
                            cluster,
                            origin: origin.map(|(file, document, line)| Origin {
                                file,
                                document,
                                line,
                            }),
                            what: NodeRef::Object(i),
                        },
                    )
                    .collect(),
                // Forward edges only, so the graph orders into waves.
                edges: edges
                    .into_iter()
                    .map(|(a, b, reason)| (a % n, b % n, reason))
                    .filter(|(a, b, _)| a < b)
                    .map(|(from, to, reason)| Edge { from, to, reason })
                    .collect(),
            }
        })
}

fn location(names: BoxedStrategy<String>) -> impl Strategy<Value = Location> {
    (
        names.clone(),
        option::of(0usize..5),
        option::of(1usize..1000),
        option::of(1usize..200),
        option::of(names),
    )
        .prop_map(|(file, document, line, column, field)| Location {
            file,
            document,
            line,
            column,
            field,
        })
}

fn diagnostic(names: BoxedStrategy<String>) -> impl Strategy<Value = Diagnostic> {
    (
        any::<bool>(),
        names.clone(),
        option::of(location(names.clone())),
        vec((location(names.clone()), names.clone()), 0..2),
        option::of(names),
    )
        .prop_map(|(error, message, at, related, help)| {
            let mut d = if error {
                Diagnostic::error("E-prop", message)
            } else {
                Diagnostic::warning("W-prop", message)
            };
            d.location = at;
            for (l, m) in related {
                d = d.related(l, m);
            }
            d.help = help;
            d
        })
}

/// Checks that every `"` in DOT output opens or closes a string (inner quotes are escaped) and
/// that no string is left open.
fn assert_dot_quoted(dot: &str) -> Result<(), TestCaseError> {
    let mut in_string = false;
    let mut escaped = false;
    for c in dot.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
        } else {
            prop_assert!(c.is_ascii(), "text outside a DOT string: {c:?}");
        }
    }
    prop_assert!(!in_string, "a DOT string is left open");
    Ok(())
}

/// A generated repo: Secrets (with marked data), ConfigMaps with arbitrary data, labels and
/// annotations, and files of arbitrary text, under arbitrary file names. Names are valid DNS names
/// or arbitrary text; one value in about a third of the repos is huge (loading re-reads a file for
/// each diagnostic's position, so more would only make the suite slow).
fn repo() -> impl Strategy<Value = Source> {
    let dns = || "[a-z][a-z0-9-]{0,12}".prop_map(String::from);
    let small_object = vec((name_text(), leaf()), 0..4)
        .prop_map(|kv| kv.into_iter().collect::<Map<String, Value>>())
        .boxed();
    (
        vec(
            (
                prop_oneof![dns(), name_text()],
                secret_object_of(small_secret_text(), small_object),
            ),
            0..3,
        ),
        vec(
            (
                prop_oneof![dns(), name_text()],
                option::of(prop_oneof![dns(), name_text()]),
                btree_map(name_text(), name_text(), 0..4),
                btree_map(name_text(), leaf(), 0..3),
            ),
            0..3,
        ),
        vec((name_text(), name_text()), 0..3),
        prop_oneof![2 => Just(None), 1 => (huge_text(), 0..3u8).prop_map(Some)],
    )
        .prop_map(|(secrets, config_maps, raw, huge)| {
            let mut files = Vec::new();
            for (i, (name, mut secret)) in secrets.into_iter().enumerate() {
                secret["metadata"]["name"] = json!(name);
                files.push((format!("k8s/secret-{i}.yaml"), secret));
            }
            for (i, (name, namespace, data, labels)) in config_maps.into_iter().enumerate() {
                let mut cm = k8s_object("v1", "ConfigMap", &name, Map::new());
                cm["data"] = json!(data);
                cm["metadata"]["labels"] = json!(labels);
                cm["metadata"]["annotations"] = json!(labels);
                if let Some(ns) = namespace {
                    cm["metadata"]["namespace"] = json!(ns);
                }
                files.push((format!("k8s/cm-{i}.json"), cm));
            }
            let mut raw: Vec<(String, String)> = raw
                .into_iter()
                .map(|(name, content)| (format!("{name}.yaml"), content))
                .collect();
            match huge {
                Some((text, 0)) => raw.push(("huge.yaml".into(), text)),
                Some((text, 1)) => files.push((
                    "k8s/huge-cm.yaml".into(),
                    k8s_object(
                        "v1",
                        "ConfigMap",
                        "huge",
                        Map::from_iter([("data".to_string(), json!({"big": text}))]),
                    ),
                )),
                Some((text, _)) => files.push((
                    "k8s/huge-secret.yaml".into(),
                    k8s_object(
                        "v1",
                        "Secret",
                        "huge",
                        Map::from_iter([(
                            "stringData".to_string(),
                            json!({"big": format!("{SECRET_MARK}{text}")}),
                        )]),
                    ),
                )),
                None => {}
            }
            let files = files
                .into_iter()
                .map(|(path, v)| (path, v.to_string()))
                .chain(raw)
                .map(|(path, text)| SourceFile {
                    path,
                    bytes: text.into_bytes(),
                })
                .collect();
            Source {
                files,
                skipped: Vec::new(),
            }
            .sorted()
        })
}

fn all_reports(a: &Analysis) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("plan_json", report::plan_json(a).to_string()),
        ("diagnostics_text", report::diagnostics_text(&a.diagnostics)),
        ("graph_dot", report::graph_dot(&a.graph)),
        ("graph_mermaid", report::graph_mermaid(&a.graph)),
        ("render_stream", report::render_stream(a, Some("props"))),
    ];
    for explain in [false, true] {
        let view = PlanView { explain };
        out.push(("plan_text", report::plan_text(a, view)));
        out.push(("plan_markdown", report::plan_markdown(a, view)));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Kubernetes diffs of arbitrary objects render; every changed path is shown, and a changed
    /// one-line string shows its old and new value.
    #[test]
    fn kdiff_renders_any_object_pair((dry, live) in kube_pair(), title in text()) {
        let d = kdiff::diff(&dry, live.as_ref());
        let out = kdiff::render(&title, &d);
        let head = out.lines().next().unwrap_or_default().to_string();
        match &live {
            None => prop_assert_eq!(d.action, Action::Create),
            Some(l) if kdiff::diff::strip(l) == kdiff::diff::strip(&dry) => {
                prop_assert_eq!(d.action, Action::NoChange)
            }
            Some(_) => {}
        }
        let want_head = match d.action {
            Action::NoChange => format!("  {title}: no change"),
            Action::Create => format!("+ {title}: create"),
            _ => format!("~ {title}: update"),
        };
        let Some(rest) = out.strip_prefix(want_head.as_str()) else {
            return Err(TestCaseError::fail(format!("head {:?}", clip(&head, 300))));
        };
        let body: Vec<String> = rest.lines().skip(1).map(|l| l.trim_end().to_string()).collect();
        prop_assert_eq!(kdiff::change_lines(&d), body);
        let managers: Vec<&str> = live
            .iter()
            .filter_map(|l| l.pointer("/metadata/managedFields"))
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(|e| e.get("manager").and_then(Value::as_str))
            .collect();
        for c in &d.changes {
            prop_assert!(out.contains(&c.path), "path {} missing", clip(&c.path, 200));
            if let Some(m) = &c.drift_by {
                prop_assert!(m != FIELD_MANAGER && managers.contains(&m.as_str()));
                prop_assert!(c.before.is_some());
            }
            let one_line = |v: &Option<Value>| match v {
                Some(Value::String(s)) if !s.contains(['\n', '\r']) => Some(s.clone()),
                _ => None,
            };
            if let (Some(b), Some(a)) = (one_line(&c.before), one_line(&c.after)) {
                prop_assert!(out.contains(&format!("  - {b}\n")), "old value of {} missing", clip(&c.path, 200));
                prop_assert!(out.contains(&format!("  + {a}\n")), "new value of {} missing", clip(&c.path, 200));
            }
        }
    }

    /// Secret values never appear in a Kubernetes diff, rendered or serialized, whatever shape the
    /// data has and whatever the other side is.
    #[test]
    fn kdiff_never_shows_secret_values((dry, live) in secret_pair(), title in name_text()) {
        let d = kdiff::diff(&dry, live.as_ref());
        assert_no_secret("kdiff::render", &kdiff::render(&title, &d))?;
        assert_no_secret("kdiff::change_lines", &kdiff::change_lines(&d).join("\n"))?;
        assert_no_secret("serialized ObjectDiff", &serde_json::to_string(&d).unwrap_or_default())?;
    }

    /// `mask_secret` hides every value of a Secret's data (keys stay, sizes are counted in
    /// characters) and leaves other kinds alone.
    #[test]
    fn mask_secret_hides_all_secret_material(secret in secret_object(), other in json_object()) {
        let masked = values::mask_secret("", "Secret", &secret);
        assert_no_secret("mask_secret", &masked.to_string())?;
        for field in ["data", "stringData"] {
            if let (Some(Value::Object(before)), Some(Value::Object(after))) = (secret.get(field), masked.get(field)) {
                prop_assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
                for (k, v) in before {
                    if let Some(s) = v.as_str() {
                        let note = format!("(secret, {} characters, hidden)", s.chars().count());
                        prop_assert_eq!(&after[k], &json!(note));
                    }
                }
            }
        }
        let cm = k8s_object("v1", "ConfigMap", "c", other);
        prop_assert_eq!(values::mask_secret("", "ConfigMap", &cm), cm.clone());
        prop_assert_eq!(values::mask_secret("example.com", "Secret", &cm), cm);
    }

    /// Template diffs: empty exactly when the normalized templates are equal, the unified diff is
    /// there exactly when something changed, the JSON patch turns one into the other, and each
    /// change's op, sides and resource/property fit its path.
    #[test]
    fn template_diff_is_consistent((a, b) in (template(), template(), any::<bool>()).prop_map(|(a, b, same)| if same { (a.clone(), a) } else { (a, b) })) {
        let d = diff_template(&a, &b);
        let (na, nb) = (normalize_json(&a), normalize_json(&b));
        prop_assert_eq!(d.is_empty(), na == nb);
        prop_assert_eq!(d.unified.is_empty(), d.is_empty());
        if !d.is_empty() {
            prop_assert!(d.unified.starts_with("--- deployed\n+++ desired\n"));
        }
        let patch: json_patch::Patch = serde_json::from_value(d.patch.clone())
            .map_err(|e| TestCaseError::fail(format!("patch does not parse: {e}")))?;
        let mut doc = na.clone();
        json_patch::patch(&mut doc, &patch)
            .map_err(|e| TestCaseError::fail(format!("patch does not apply: {e}")))?;
        prop_assert_eq!(normalize_json(&doc), nb);
        for c in &d.changes {
            match c.op.as_str() {
                "add" => prop_assert!(c.deployed.is_none() && c.desired.is_some()),
                "remove" => prop_assert!(c.deployed.is_some() && c.desired.is_none()),
                "replace" => prop_assert!(c.deployed.is_some() && c.desired.is_some()),
                other => prop_assert!(false, "unexpected op {}", other),
            }
            if c.resource.is_some() {
                prop_assert!(c.path.starts_with("/Resources/"));
            }
            if c.property.is_some() {
                prop_assert!(c.resource.is_some());
            }
        }
    }

    /// Parameter and tag diffs: `****` (NoEcho) is never a change, desired-unknown values are
    /// "known after apply", equal values are no change, `aws:` tags are never removed.
    #[test]
    fn parameter_and_tag_diffs(
        desired in btree_map(name_text(), option::of(text()), 0..6),
        live in btree_map(name_text(), prop_oneof![text(), Just("****".to_string())], 0..6),
        tags in btree_map(name_text(), text(), 0..6),
        live_tags in btree_map(prop_oneof![name_text(), name_text().prop_map(|k| format!("aws:{k}"))], text(), 0..6),
    ) {
        for c in diff_parameters(&desired, &live) {
            prop_assert!(desired.contains_key(&c.key) || live.contains_key(&c.key));
            match desired.get(&c.key) {
                Some(None) => prop_assert!(c.known_after_apply),
                Some(Some(w)) => {
                    prop_assert!(live.get(&c.key) != Some(w));
                    prop_assert!(live.get(&c.key).map(String::as_str) != Some("****"));
                }
                None => prop_assert!(c.desired.is_none() && c.live.is_some()),
            }
        }
        for c in diff_tags(&tags, &live_tags) {
            prop_assert!(tags.contains_key(&c.key) || !c.key.starts_with("aws:"));
            prop_assert!(tags.get(&c.key) != live_tags.get(&c.key));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// The Markdown preview of any plan, huge names included, renders and its tables keep their
    /// rows.
    #[test]
    fn summary_renders_any_plan((plan, previews) in aws_plan(text())) {
        let md = render_markdown(&plan, &previews);
        prop_assert!(md.starts_with("## AWS\n"));
        assert_tables_intact("render_markdown", &md)?;
    }

    /// With names of ordinary size, the preview is small however large the values are: every
    /// value shows escaped and clipped to 60 characters, never whole.
    #[test]
    fn summary_clips_huge_values((plan, previews) in aws_plan(name_text())) {
        let md = render_markdown(&plan, &previews);
        for v in summary_values(&plan) {
            let cell = clip(&md_cell(&v), SUMMARY_VALUE_CHARS);
            prop_assert!(md.contains(&cell), "missing clipped value {}", clip(&cell, 100));
        }
        let shown_in_full = serde_json::to_string(&(without_values(&plan), &previews))
            .unwrap_or_default()
            .chars()
            .count();
        let rows = plan.stacks.len() * 4
            + plan.stacks.iter().map(|s| s.parameter_changes.len() + s.tag_changes.len()
                + s.template_diff.as_ref().map_or(0, |d| d.changes.len())).sum::<usize>()
            + plan.drift.drift.len() + plan.drift.not_owned.len() + plan.steps.len() + plan.notes.len()
            + previews.iter().map(|p| p.changes.len() + 2).sum::<usize>();
        let bound = 2 * shown_in_full + (SUMMARY_VALUE_CHARS + 1) * summary_values(&plan).len() + 100 * rows + 200;
        prop_assert!(md.chars().count() <= bound, "{} chars > bound {}", md.chars().count(), bound);
    }

    /// Drift detection over arbitrary deployed templates (intrinsics with arbitrary text) and live
    /// values: every reported drift really differs and is filed by owner; the plan and its
    /// Markdown preview render, with secret parameters hidden everywhere.
    #[test]
    fn drift_plan_and_preview(world in aws_world()) {
        let mode = if world.detect_only { DriftMode::DetectOnly } else { DriftMode::Correct };
        let report = detect_drift(&world.stacks, &world.policies, &world.live, mode);
        for d in &report.drift {
            prop_assert!(d.expected != d.live, "{:?}", d.property);
            prop_assert_eq!(&d.owner, &Owner::Git);
            prop_assert!(d.disposition != Disposition::NotOwned);
            if mode == DriftMode::DetectOnly {
                prop_assert_eq!(&d.disposition, &Disposition::DetectOnly);
            }
        }
        for d in &report.not_owned {
            prop_assert!(d.expected != d.live);
            prop_assert!(d.owner != Owner::Git);
            prop_assert_eq!(&d.disposition, &Disposition::NotOwned);
        }
        let options = PlanOptions { repo_mode: mode };
        if let Ok(p) = plan(&world.stacks, &world.policies, &world.live, options, jiff::Timestamp::UNIX_EPOCH) {
            let previews: Vec<ChangeSetPreview> = p.stacks.iter().map(|s| ChangeSetPreview {
                stack: s.name.clone(),
                change_set_name: "cs".into(),
                change_set_id: None,
                status: "CREATE_COMPLETE".into(),
                status_reason: None,
                no_changes: false,
                changes: annotate_preview(&world.raw_changes, s.template_diff.as_ref()),
            }).collect();
            let md = render_markdown(&p, &previews);
            assert_no_secret("render_markdown", &md)?;
            assert_tables_intact("render_markdown", &md)?;
            assert_no_secret("serialized AwsPlan", &serde_json::to_string(&p).unwrap_or_default())?;
        }
    }

    /// Reports over an arbitrary graph and diagnostics: all render, Markdown tables keep their
    /// rows, DOT strings stay quoted, the JSON counts what it lists.
    #[test]
    fn reports_render_any_graph(
        mut g in graph(name_text()),
        mut diagnostics in vec(diagnostic(name_text()), 0..4),
        huge in prop_oneof![2 => Just(None), 1 => (huge_text(), 0..4u8).prop_map(Some)],
    ) {
        // One huge value in a third of the cases, in one of the places a report prints.
        match (huge, diagnostics.first_mut()) {
            (Some((h, 0)), _) => g.nodes[0].name = h,
            (Some((h, 1)), _) => g.nodes[0].id = h,
            (Some((h, 2)), Some(d)) => d.message = h,
            (Some((h, _)), _) => g.nodes[0].namespace = Some(h),
            (None, _) => {}
        }
        let order = waves::order(&g).unwrap_or_default();
        let a = Analysis { graph: g, order, diagnostics, ..Analysis::default() };
        let outputs = all_reports(&a);
        for (name, out) in &outputs {
            if *name == "plan_markdown" {
                assert_tables_intact(name, out)?;
            }
            if *name == "graph_dot" {
                assert_dot_quoted(out)?;
            }
        }
        let j = report::plan_json(&a);
        prop_assert_eq!(j["summary"]["resources"].as_u64(), Some(a.graph.nodes.len() as u64));
        prop_assert_eq!(j["diagnostics"].as_array().map(Vec::len), Some(a.diagnostics.len()));
        prop_assert_eq!(j["edges"].as_array().map(Vec::len), Some(a.graph.edges.len()));
        let text = report::diagnostics_text(&a.diagnostics);
        for d in &a.diagnostics {
            prop_assert!(text.contains(&d.message));
        }
    }

    /// The whole offline pipeline on generated repos (Secrets, ConfigMaps, files of arbitrary
    /// text under arbitrary names): every report renders and no Secret value reaches one.
    #[test]
    fn reports_of_any_repo_hide_secrets(src in repo()) {
        let a = analyze(&src);
        for (name, out) in all_reports(&a) {
            assert_no_secret(name, &out)?;
            if name == "plan_markdown" {
                assert_tables_intact(name, &out)?;
            }
            if name == "graph_dot" {
                assert_dot_quoted(&out)?;
            }
        }
    }

    /// References and intrinsics in arbitrary text: parsing never panics, a syntax error points
    /// at a `{{` on a character boundary, text without `{{` stays as it is, and `Fn::Sub` keeps
    /// text without `${` unchanged.
    #[test]
    fn references_and_intrinsics_in_any_text(s in text(), k in name_text(), v in text()) {
        match refs::parse(&s) {
            Ok(_) => {}
            Err(e) => {
                prop_assert!(s.is_char_boundary(e.offset));
                prop_assert!(s.get(e.offset..).is_some_and(|t| t.starts_with("{{")));
            }
        }
        let lookup = |_: &refs::ValueRef| Some(v.clone());
        let (out, _) = values::substitute(&json!({ k.clone(): s.clone() }), &lookup);
        if !s.contains("{{") {
            prop_assert_eq!(&out[&k], &json!(s));
        }
        let ctx = crate::awsdiff::resolve::ResolveContext::default();
        let sub = crate::awsdiff::resolve::resolve(&json!({"Fn::Sub": s.clone()}), &ctx);
        if !s.contains("${") {
            prop_assert_eq!(sub, Some(json!(s)));
        }
    }

    /// Readiness and immutable-field messages built from arbitrary live objects and causes.
    #[test]
    fn readiness_and_immutable_messages(
        kind in select(&["Deployment", "StatefulSet", "DaemonSet", "Job", "PersistentVolumeClaim", "Namespace", "CustomResourceDefinition", "Pod"][..]),
        status in json(),
        causes in vec((text(), prop_oneof![text(), Just("field is immutable".to_string())]), 0..4),
    ) {
        let obj = json!({"metadata": {"generation": 1}, "spec": {"replicas": 1}, "status": status});
        let _ = kdiff::readiness(kind, &obj);
        let fields = kdiff::immutable_fields(&causes);
        for (f, m) in &causes {
            if m == "field is immutable" {
                prop_assert!(fields.contains(f));
            }
        }
        if let kdiff::ImmutableDecision::Error { message, fields: named } = kdiff::decide_immutable(&obj, fields.clone()) {
            prop_assert_eq!(named, fields.clone());
            for f in &fields {
                prop_assert!(message.contains(f.as_str()));
            }
        }
    }
}
