//! Live plans and run results as text, JSON and Markdown (a PR comment): the one place where the
//! typed details and drift of items become words. String building only; Secret values never
//! reach here (diffs are masked before they become items). User-controlled values are clipped on
//! character boundaries.

use serde_json::{json, Value};
use std::fmt::Write as _;

use super::{Action, Detail, DriftNote, Item, LivePlan, Outcome};
use crate::core::awsdiff::{Disposition, Drift, DriftTarget, MapChange, TemplateChange};
use crate::core::desired::CLUSTER_STACK_ANNOTATION;
use crate::core::graph::System;
use crate::core::kdiff;
use crate::core::reconcile::{DriftNote as Note, LeftGit};
use crate::core::text;

/// A live or desired value in one line: at most 120 characters.
fn short(v: &Value) -> String {
    text::clip_json(v, 120)
}

fn template_line(c: &TemplateChange) -> String {
    let path = c.path.trim_start_matches('/').replace('/', ".");
    match (&c.deployed, &c.desired) {
        (Some(old), Some(new)) => format!("~ {path}: {} → {}", short(old), short(new)),
        (None, Some(new)) => format!("+ {path}: {}", short(new)),
        (Some(old), None) => format!("- {path}: {}", short(old)),
        (None, None) => format!("~ {path}"),
    }
}

fn map_line(c: &MapChange) -> String {
    let desired = if c.known_after_apply {
        "(known after apply)".to_string()
    } else {
        c.desired.clone().unwrap_or_else(|| "(removed)".into())
    };
    format!(
        "~ {}: {} → {desired}",
        c.key,
        c.live.clone().unwrap_or_else(|| "(none)".into())
    )
}

/// The lines one detail reads as (a field diff is several).
fn detail_lines(d: &Detail) -> Vec<String> {
    let one = match d {
        Detail::Fields(diff) => return kdiff::change_lines(diff),
        Detail::StackBlocked(why) => format!("blocked: {why}"),
        Detail::Template(c) => template_line(c),
        Detail::Map(c) => map_line(c),
        Detail::Role(role) => format!("role: {role}"),
        Detail::Observed => {
            format!("observed ({CLUSTER_STACK_ANNOTATION}: observe): read, never changed")
        }
        Detail::ObservedDiffers(n) => format!("differs from Git in {n} place(s); not applied"),
        Detail::ObservedMissing => "the stack does not exist; create the cluster first".into(),
        Detail::ChangeSet(r) => {
            let mut line = format!(
                "change set: {} {} ({})",
                r.action, r.logical_id, r.resource_type
            );
            if let Some(v) = &r.replacement.value {
                let _ = write!(line, ", replacement: {v}");
                if !r.replacement.causes.is_empty() {
                    let _ = write!(line, " because {}", r.replacement.causes.join(", "));
                }
                let _ = write!(line, " [{:?}]", r.replacement.source);
            }
            line
        }
        Detail::PreviewUnavailable(why) => format!("change-set preview unavailable: {why}"),
        Detail::Warning(w) => format!("warning: {w}"),
        Detail::CreateAfterCrd(w) => format!("create (CRD arrives in wave {w})"),
        Detail::CreateAfterNamespace { namespace, wave } => {
            format!("create (namespace {namespace} arrives in wave {wave})")
        }
        Detail::NotServed { kind, api_version } => {
            format!("the cluster does not serve {kind} {api_version}")
        }
        Detail::ValuesKnownAfterApply => {
            "values from AWS are known after apply; diffed once they exist".into()
        }
        Detail::Rejected(message) => format!("the API server rejects it: {message}"),
        Detail::Recreate(fields) => format!(
            "delete and recreate: immutable field(s) {} change",
            fields.join(", ")
        ),
        Detail::ImmutableChange(message) => message.clone(),
        Detail::DryRunFailed(why) => format!("dry run failed: {why}"),
        Detail::LeftGit(l) => match l {
            LeftGit::Kept(why) => format!("left Git; kept ({why})"),
            LeftGit::Deleted => "left Git; --prune deletes it".into(),
            LeftGit::NotPruning => "left Git; pass --prune to delete it".into(),
            LeftGit::Refused => "left Git; not deleted (prune refused)".into(),
        },
    };
    vec![one]
}

/// Which revision would be applied, and which one is live, when either is known.
fn revisions(p: &LivePlan, markdown: bool) -> String {
    let line = |r: &crate::core::source::Revision| {
        if markdown {
            r.markdown_line()
        } else {
            r.text_line()
        }
    };
    let mut s = String::new();
    if let Some(r) = &p.revision {
        let _ = writeln!(s, "{}", line(r));
    }
    match (&p.live_revision, &p.revision) {
        (Some(live), Some(next)) if live.commit == next.commit => {
            let _ = writeln!(s, "Live: the same commit");
        }
        (Some(live), _) => {
            let text = line(live);
            let _ = writeln!(
                s,
                "Live: {}",
                text.strip_prefix("Revision: ").unwrap_or(&text)
            );
        }
        _ => {}
    }
    s
}

/// Every detail of an item as lines.
pub fn details_text(details: &[Detail]) -> Vec<String> {
    details.iter().flat_map(detail_lines).collect()
}

fn aws_drift_text(drift: &Drift) -> String {
    let what = match &drift.target {
        DriftTarget::Asg { name, .. } => format!("Auto Scaling group {name} {}", drift.property),
        DriftTarget::RolePolicy { role, policy, .. } => {
            format!("inline policy {policy} on role {role}")
        }
        DriftTarget::EksCluster { name, .. } => format!("EKS cluster {name} {}", drift.property),
        #[allow(unreachable_patterns)]
        _ => drift.property.clone(),
    };
    let verdict = match &drift.disposition {
        Disposition::Correct => "Git's value is put back".to_string(),
        Disposition::DetectOnly => "detect-only: left as is".to_string(),
        Disposition::ReportOnly(why) => format!("not corrected: {why}"),
        Disposition::NotOwned => format!("owned by {:?}: left alone", drift.owner),
    };
    if matches!(&drift.target, DriftTarget::RolePolicy { .. }) {
        format!("{what} was changed outside Git ({verdict})")
    } else {
        format!(
            "{what}: live {}, Git {} ({verdict})",
            short(&drift.live),
            short(&drift.expected)
        )
    }
}

/// One drift note as a line.
pub fn drift_text(d: &DriftNote) -> String {
    match d {
        Note::Aws(drift) => aws_drift_text(drift),
        Note::Field { path, by } => format!(
            "{path} was changed by {}; Git's value is put back",
            by.as_deref().unwrap_or("another manager")
        ),
    }
}

/// JSON carries details as the lines people read.
pub(super) fn serialize_details<S: serde::Serializer>(
    details: &[Detail],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(details_text(details))
}

/// JSON carries drift as the lines people read.
pub(super) fn serialize_drift<S: serde::Serializer>(
    drift: &[DriftNote],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(drift.iter().map(drift_text))
}

fn sign(a: Action) -> &'static str {
    match a {
        Action::Create => "+",
        Action::Update => "~",
        Action::NoChange => "=",
        Action::DriftOnly => "!",
        Action::Blocked => "x",
        Action::Delete => "-",
        Action::Unknown => "?",
    }
}

fn verb(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::NoChange => "no change",
        Action::DriftOnly => "drift (not corrected)",
        Action::Blocked => "blocked",
        Action::Delete => "delete",
        Action::Unknown => "unknown",
    }
}

fn label(i: &Item) -> String {
    match &i.namespace {
        Some(ns) => format!("{} {ns}/{}", i.kind, i.name),
        None => format!("{} {}", i.kind, i.name),
    }
}

fn tag(s: System) -> &'static str {
    match s {
        System::Aws => "aws",
        System::Kubernetes => "k8s",
    }
}

/// Counts per action: (create, update, drift-only, blocked, unchanged, unknown).
fn counts(p: &LivePlan) -> [usize; 6] {
    let mut c = [0; 6];
    for i in &p.items {
        let k = match i.action {
            Action::Create => 0,
            Action::Update => 1,
            Action::DriftOnly => 2,
            Action::Blocked => 3,
            Action::NoChange => 4,
            Action::Unknown | Action::Delete => 5,
        };
        c[k] += 1;
    }
    c
}

fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Done { summary } => format!("done: {summary}"),
        Outcome::Failed { reason } => format!("FAILED: {reason}"),
        Outcome::Skipped { because } => format!("skipped: {because}"),
        Outcome::Cancelled { because } => format!("cancelled: {because}"),
    }
}

/// Items in wave order (stable inside a wave).
fn by_wave(p: &LivePlan) -> Vec<&Item> {
    let mut items: Vec<&Item> = p.items.iter().collect();
    items.sort_by_key(|i| i.wave);
    items
}

fn interesting(i: &Item) -> bool {
    i.action != Action::NoChange || !i.drift.is_empty() || i.outcome.is_some()
}

/// A terminal report: what changes, wave by wave, with details; unchanged items are counted.
pub fn text(p: &LivePlan) -> String {
    let [create, update, drift, blocked, same, unknown] = counts(p);
    let mut s = revisions(p, false);
    let _ = writeln!(
        s,
        "{create} to create, {update} to update, {drift} drifted (not corrected), {blocked} blocked, {same} unchanged, {unknown} unknown"
    );
    let mut wave = 0;
    for i in by_wave(p).into_iter().filter(|i| interesting(i)) {
        if i.wave != wave {
            wave = i.wave;
            let _ = writeln!(s, "\nWave {wave}");
        }
        let _ = writeln!(
            s,
            "  {} {:<3} {} ({})",
            sign(i.action),
            tag(i.system),
            label(i),
            verb(i.action)
        );
        for d in details_text(&i.details) {
            let _ = writeln!(s, "        {d}");
        }
        for d in &i.drift {
            let _ = writeln!(s, "        drift: {}", drift_text(d));
        }
        if let Some(o) = &i.outcome {
            let _ = writeln!(s, "        => {}", outcome_text(o));
        }
    }
    if !p.prune.is_empty() {
        let _ = writeln!(s, "\nLeft Git");
        for i in &p.prune {
            let _ = writeln!(
                s,
                "  {} {:<3} {} ({})",
                sign(i.action),
                tag(i.system),
                label(i),
                verb(i.action)
            );
            for d in details_text(&i.details) {
                let _ = writeln!(s, "        {d}");
            }
            if let Some(o) = &i.outcome {
                let _ = writeln!(s, "        => {}", outcome_text(o));
            }
        }
    }
    for n in &p.notes {
        let _ = writeln!(s, "\nnote: {n}");
    }
    if let Some(r) = &p.refused {
        let _ = writeln!(s, "\nREFUSED: {r}");
    }
    if p.cancelled {
        let _ = writeln!(
            s,
            "\nCANCELLED: nothing was started after the cancel; run again to finish"
        );
    }
    s
}

/// The whole plan as JSON.
pub fn json(p: &LivePlan) -> serde_json::Value {
    let [create, update, drift, blocked, same, unknown] = counts(p);
    let done = p
        .items
        .iter()
        .filter(|i| matches!(i.outcome, Some(Outcome::Done { .. })))
        .count();
    let skipped = p
        .items
        .iter()
        .filter(|i| matches!(i.outcome, Some(Outcome::Skipped { .. })))
        .count();
    json!({
        "items": p.items,
        "prune": p.prune,
        "notes": p.notes,
        "refused": p.refused,
        "cancelled": p.cancelled,
        "revision": p.revision,
        "live_revision": p.live_revision,
        "summary": {
            "create": create, "update": update, "drift_only": drift, "blocked": blocked,
            "unchanged": same, "unknown": unknown, "changes": p.has_changes(),
            "done": done, "failed": p.failed(), "skipped": skipped,
        }
    })
}

fn md(s: &str) -> String {
    text::md_cell(s)
}

/// A pull-request comment.
pub fn markdown(p: &LivePlan) -> String {
    let [create, update, drift, blocked, same, unknown] = counts(p);
    let mut s = String::from("### eksync diff\n\n");
    s.push_str(&revisions(p, true));
    if p.revision.is_some() || p.live_revision.is_some() {
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "**{create}** to create · **{update}** to update · {drift} drifted · {blocked} blocked · {same} unchanged · {unknown} unknown\n"
    );
    if p.items.iter().any(interesting) {
        s.push_str("| wave | | resource | change |\n|---|---|---|---|\n");
        for i in by_wave(p).into_iter().filter(|i| interesting(i)) {
            let mut change: Vec<String> = details_text(&i.details)
                .iter()
                .map(|d| format!("`{}`", md(d)))
                .collect();
            change.extend(
                i.drift
                    .iter()
                    .map(|d| format!("drift: {}", md(&drift_text(d)))),
            );
            if let Some(o) = &i.outcome {
                change.push(md(&outcome_text(o)));
            }
            let _ = writeln!(
                s,
                "| {} | {} | {} {} | {} |",
                i.wave,
                tag(i.system),
                verb(i.action),
                md(&label(i)),
                change.join("<br>")
            );
        }
    } else {
        s.push_str("No changes.\n");
    }
    if !p.prune.is_empty() {
        s.push_str("\n**Left Git**\n\n");
        for i in &p.prune {
            let mut change: Vec<String> = details_text(&i.details).iter().map(|d| md(d)).collect();
            if let Some(o) = &i.outcome {
                change.push(md(&outcome_text(o)));
            }
            let _ = writeln!(
                s,
                "- {} {}: {}",
                verb(i.action),
                md(&label(i)),
                change.join("; ")
            );
        }
    }
    for n in &p.notes {
        let _ = writeln!(s, "\n> {}", md(n));
    }
    if let Some(r) = &p.refused {
        let _ = writeln!(s, "\n> **Refused**: {}", md(r));
    }
    if p.cancelled {
        s.push_str("\n> **Cancelled**: nothing was started after the cancel.\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::awsdiff::Owner;
    use proptest::prelude::*;

    fn asg_drift(live: Value, expected: Value) -> DriftNote {
        DriftNote::Aws(Box::new(Drift {
            target: DriftTarget::Asg {
                stack: "s".into(),
                logical_id: "NodeGroup".into(),
                name: "asg-1".into(),
            },
            property: "Tags.team".into(),
            expected,
            live,
            owner: Owner::Git,
            disposition: Disposition::Correct,
        }))
    }

    /// The old renderer cut `&s[..120]` of a non-string value's JSON: a multi-byte character
    /// across byte 120 panicked the whole run. These values put one there.
    #[test]
    fn values_are_cut_on_characters_not_bytes() {
        // (value, characters shown): at most 120, then `…`.
        let cases = [
            // 105 characters, 207 bytes: byte 120 falls inside an `é`.
            (serde_json::json!(["x".to_string() + &"é".repeat(100)]), 105),
            // 159 characters of which 150 are three bytes each.
            (serde_json::json!({"k": "日本語".repeat(50)}), 121),
            // 123 characters: byte 120 falls inside the first rocket.
            (serde_json::json!(["x".repeat(117) + "🚀🚀"]), 121),
        ];
        for (v, chars) in cases {
            let line = drift_text(&asg_drift(v.clone(), v.clone()));
            let shown = line
                .split("live ")
                .nth(1)
                .and_then(|r| r.split(", Git ").next())
                .unwrap_or_default();
            assert_eq!(shown.chars().count(), chars, "{shown}");
            assert_eq!(shown.ends_with('…'), chars == 121, "{shown}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Arbitrary Unicode (and huge) values never panic a drift or template line, and a
        /// line stays bounded whatever the value's size.
        #[test]
        fn any_value_renders_bounded(s in "\\PC{0,400}", n in 0usize..3000) {
            let huge = s.repeat(n.min(50));
            for v in [Value::String(huge.clone()), serde_json::json!([huge.clone(), s.clone()]),
                      serde_json::json!({ "k": huge.clone() })] {
                let line = drift_text(&asg_drift(v.clone(), Value::Null));
                prop_assert!(line.chars().count() < 2 * 121 + 200 || v.is_string());
                let t = template_line(&TemplateChange {
                    op: "replace".into(),
                    path: "/Resources/X/Properties/Y".into(),
                    resource: None,
                    property: None,
                    deployed: Some(v.clone()),
                    desired: Some(v),
                });
                prop_assert!(t.starts_with("~ Resources.X.Properties.Y: "));
            }
        }
    }
}
