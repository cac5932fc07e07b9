//! Live plans and run results as text, JSON and Markdown (a PR comment): the one place where the
//! typed details and drift of items become words. String building only; Secret values never
//! reach here (diffs are masked before they become items). User-controlled values are clipped on
//! character boundaries. A live plan can also be a Markdown section under a heading and within a
//! size limit (`markdown_section`: largest rows shortened first, then rows left out, with a note),
//! which is how `diff --base ... --live` puts the offline preview and the live plan in one comment
//! that fits GitHub's limit (`preview_with_live_*`). Deciding what to show is not done here.

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
        Detail::CreateAfterRole { role, wave } => {
            format!(
                "create ({role} arrives in wave {wave}; the binding is checked against it then)"
            )
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
    markdown_section(
        p,
        &SectionOptions {
            level: 3,
            title: "eksync diff".into(),
            limit: None,
        },
    )
}

/// How [`markdown_section`] renders a live plan, alone or inside a larger comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionOptions {
    /// Heading level of the section's title (3 is `###`), clamped to 1..=6.
    pub level: usize,
    /// The title, as Markdown (written by eksync, not taken from the repo).
    pub title: String,
    /// Largest size in UTF-16 code units, as GitHub counts; `None` renders everything.
    pub limit: Option<usize>,
}

/// Change lines a shortened table row keeps, and the characters each keeps.
const SHORT_LINES: usize = 3;
const SHORT_LINE_CHARS: usize = 300;
/// With a limit, a note or refusal keeps this many characters.
const NOTE_CHARS: usize = 1_000;
/// Room kept for the closing "cut" note whatever it says.
const SECTION_FOOTER_ROOM: usize = 600;

/// The change cell of an item: its details, drift and outcome; `short` keeps the first
/// [`SHORT_LINES`] lines, clipped, and says how many it left out.
fn change_cell(i: &Item, short: bool) -> String {
    // (in a code span, the raw text): escaped only once clipped, so a cut never splits an escape
    // or leaves a code span open.
    let mut lines: Vec<(bool, String)> = details_text(&i.details)
        .into_iter()
        .map(|d| (true, d))
        .collect();
    lines.extend(
        i.drift
            .iter()
            .map(|d| (false, format!("drift: {}", drift_text(d)))),
    );
    if let Some(o) = &i.outcome {
        lines.push((false, outcome_text(o)));
    }
    let total = lines.len();
    if short {
        lines.truncate(SHORT_LINES);
        for (_, l) in &mut lines {
            *l = text::clip(l, SHORT_LINE_CHARS);
        }
    }
    let mut cells: Vec<String> = lines
        .iter()
        .map(
            |(code, l)| {
                if *code {
                    format!("`{}`", md(l))
                } else {
                    md(l)
                }
            },
        )
        .collect();
    if short && total > SHORT_LINES {
        cells.push(format!(
            "… {} more line(s) cut to fit the comment",
            total - SHORT_LINES
        ));
    }
    cells.join("<br>")
}

fn table_row(i: &Item, short: bool) -> String {
    format!(
        "| {} | {} | {} {} | {} |\n",
        i.wave,
        tag(i.system),
        verb(i.action),
        md(&label(i)),
        change_cell(i, short)
    )
}

fn prune_line(i: &Item) -> String {
    let mut change: Vec<String> = details_text(&i.details).iter().map(|d| md(d)).collect();
    if let Some(o) = &i.outcome {
        change.push(md(&outcome_text(o)));
    }
    format!(
        "- {} {}: {}\n",
        verb(i.action),
        md(&label(i)),
        change.join("; ")
    )
}

/// The size GitHub counts (UTF-16 code units).
fn size(s: &str) -> usize {
    crate::core::preview::render::size(s)
}

/// A live plan as a Markdown section under a heading of the given level. With a limit it always
/// fits: the largest table rows are shortened first (their first lines kept), then left-Git lines
/// and rows are left out from the end (blocked rows last), and the section says what it cut and
/// that `--report-file` holds the full report. Without a limit, everything.
pub fn markdown_section(p: &LivePlan, opts: &SectionOptions) -> String {
    let limited = opts.limit.is_some();
    let limit = opts.limit.unwrap_or(usize::MAX);
    let [create, update, drift, blocked, same, unknown] = counts(p);
    let mut head = format!("{} {}\n\n", "#".repeat(opts.level.clamp(1, 6)), opts.title);
    head.push_str(&revisions(p, true));
    if p.revision.is_some() || p.live_revision.is_some() {
        head.push('\n');
    }
    let _ = writeln!(
        head,
        "**{create}** to create · **{update}** to update · {drift} drifted · {blocked} blocked · {same} unchanged · {unknown} unknown\n"
    );
    let items: Vec<&Item> = by_wave(p).into_iter().filter(|i| interesting(i)).collect();
    if items.is_empty() {
        head.push_str("No changes.\n");
    } else {
        head.push_str("| wave | | resource | change |\n|---|---|---|---|\n");
    }
    let clip_note = |n: &str| {
        if limited {
            text::clip(n, NOTE_CHARS)
        } else {
            n.to_string()
        }
    };
    let mut tail = String::new();
    for n in &p.notes {
        let _ = writeln!(tail, "\n> {}", md(&clip_note(n)));
    }
    if let Some(r) = &p.refused {
        let _ = writeln!(tail, "\n> **Refused**: {}", md(&clip_note(r)));
    }
    if p.cancelled {
        tail.push_str("\n> **Cancelled**: nothing was started after the cancel.\n");
    }

    let rows: Vec<(String, String)> = items
        .iter()
        .map(|i| (table_row(i, false), table_row(i, true)))
        .collect();
    let prune: Vec<String> = p.prune.iter().map(prune_line).collect();
    const PRUNE_TITLE: &str = "\n**Left Git**\n\n";
    let budget = limit.saturating_sub(size(&head) + size(&tail) + SECTION_FOOTER_ROOM);
    let mut full = vec![true; rows.len()];
    let mut listed = vec![true; rows.len()];
    let mut prune_shown = prune.len();
    let mut total: usize = rows.iter().map(|(f, _)| size(f)).sum::<usize>()
        + if prune.is_empty() {
            0
        } else {
            size(PRUNE_TITLE) + prune.iter().map(|l| size(l)).sum::<usize>()
        };
    if limited {
        // The largest rows are shortened first.
        let mut by_size: Vec<usize> = (0..rows.len()).collect();
        by_size.sort_by_key(|&i| std::cmp::Reverse(size(&rows[i].0)));
        for i in by_size {
            if total <= budget {
                break;
            }
            let (f, c) = (size(&rows[i].0), size(&rows[i].1));
            if c < f {
                total = total - f + c;
                full[i] = false;
            }
        }
        // Then left-Git lines from the end.
        while total > budget && prune_shown > 0 {
            prune_shown -= 1;
            total -= size(&prune[prune_shown]);
        }
        // Then rows from the end, blocked ones last.
        let order = (0..rows.len())
            .rev()
            .filter(|&i| items[i].action != Action::Blocked)
            .chain(
                (0..rows.len())
                    .rev()
                    .filter(|&i| items[i].action == Action::Blocked),
            );
        for i in order {
            if total <= budget {
                break;
            }
            total -= size(if full[i] { &rows[i].0 } else { &rows[i].1 });
            listed[i] = false;
        }
    }

    let mut s = head;
    for (i, (f, c)) in rows.iter().enumerate().filter(|(i, _)| listed[*i]) {
        s.push_str(if full[i] { f } else { c });
    }
    if !prune.is_empty() {
        s.push_str(PRUNE_TITLE);
        for l in &prune[..prune_shown] {
            s.push_str(l);
        }
    }
    s.push_str(&tail);
    let shortened = (0..rows.len()).filter(|&i| listed[i] && !full[i]).count();
    let omitted = listed.iter().filter(|l| !**l).count();
    let omitted_prune = prune.len() - prune_shown;
    if shortened + omitted + omitted_prune > 0 {
        let _ = writeln!(
            s,
            "\n> **Cut to fit the comment:** {shortened} row(s) shortened, largest first; {omitted} row(s) and {omitted_prune} left-Git line(s) not listed (counted above). The full report is written by `eksync diff --report-file FILE`."
        );
    }
    // Only revisions, notes and the title could still be too long together: a last cut keeps the
    // promise, on a line boundary.
    if size(&s) > limit {
        return hard_cut(&s, limit);
    }
    s
}

/// `s` cut to at most `limit` UTF-16 units on a line boundary, with a closing note.
fn hard_cut(s: &str, limit: usize) -> String {
    const NOTE: &str =
        "\n> **Cut to fit the comment**: the full report is written by `--report-file FILE`.\n";
    let room = limit.saturating_sub(size(NOTE));
    let mut out = String::new();
    for line in s.split_inclusive('\n') {
        if size(&out) + size(line) > room {
            break;
        }
        out.push_str(line);
    }
    if size(&out) + size(NOTE) <= limit {
        out.push_str(NOTE);
    }
    out
}

/// The title of the live section of a PR preview.
pub const PREVIEW_LIVE_TITLE: &str = "Live: the head against live AWS and the cluster";

/// The live section's share of a PR preview comment when both are large: a third of the limit.
/// When the live plan is smaller it takes only what it needs, and it gets whatever the preview
/// leaves unused.
pub fn live_share(limit: usize) -> usize {
    limit / 3
}

/// `diff --base ... --live -o markdown`: the offline preview's comment, then the live plan as its
/// last section (level 4, under the preview's level-3 title). With a limit the whole comment fits:
/// the live section reserves at most [`live_share`] of it, the preview is cut to the rest, and the
/// live section is then cut to what the preview left.
pub fn preview_with_live_markdown(
    preview: &crate::core::preview::Preview,
    live: &LivePlan,
    limit: Option<usize>,
) -> String {
    use crate::core::preview::render::{markdown_before_live as preview_markdown, MarkdownOptions};
    let section = |limit: Option<usize>| {
        markdown_section(
            live,
            &SectionOptions {
                level: 4,
                title: PREVIEW_LIVE_TITLE.into(),
                limit,
            },
        )
    };
    // The blank line between the two parts.
    const SEPARATOR: &str = "\n";
    let Some(limit) = limit else {
        return format!(
            "{}{SEPARATOR}{}",
            preview_markdown(preview, &MarkdownOptions { limit: None }),
            section(None)
        );
    };
    let reserved = size(&section(None)).min(live_share(limit)) + size(SEPARATOR);
    let first = preview_markdown(
        preview,
        &MarkdownOptions {
            limit: Some(limit.saturating_sub(reserved)),
        },
    );
    let room = limit.saturating_sub(size(&first) + size(SEPARATOR));
    format!("{first}{SEPARATOR}{}", section(Some(room)))
}

/// `diff --base ... --live -o text`: the offline preview, then the live plan under a title.
pub fn preview_with_live_text(preview: &crate::core::preview::Preview, live: &LivePlan) -> String {
    format!(
        "{}\n{PREVIEW_LIVE_TITLE}\n{}",
        crate::core::preview::render::text_before_live(preview),
        text(live)
    )
}

/// `diff --base ... --live -o json`: the preview's JSON with the live plan under `live`.
pub fn preview_with_live_json(
    preview: &crate::core::preview::Preview,
    live: &LivePlan,
) -> serde_json::Value {
    let mut v = crate::core::preview::render::json(preview);
    match v.as_object_mut() {
        Some(obj) => {
            obj.insert("live".into(), json(live));
            v
        }
        None => json!({ "preview": v, "live": json(live) }),
    }
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

    fn plan(items: usize, lines: usize) -> LivePlan {
        let item = |n: usize| Item {
            id: format!("k8s/ConfigMap/shop/cm-{n}"),
            system: if n.is_multiple_of(2) {
                System::Kubernetes
            } else {
                System::Aws
            },
            kind: "ConfigMap".into(),
            name: format!("cm-{n}"),
            namespace: Some("shop".into()),
            wave: 1 + n / 100,
            action: if n == 0 {
                Action::Blocked
            } else {
                Action::Update
            },
            details: (0..lines)
                .map(|l| Detail::Warning(format!("line {l} of cm-{n} | {}", "x".repeat(80))))
                .collect(),
            drift: vec![],
            health: None,
            outcome: None,
        };
        LivePlan {
            items: (0..items).map(item).collect(),
            prune: vec![],
            notes: vec!["a note".into()],
            refused: None,
            cancelled: false,
            revision: None,
            live_revision: None,
            aws: None,
            kube: None,
        }
    }

    fn opts(limit: Option<usize>) -> SectionOptions {
        SectionOptions {
            level: 4,
            title: "Live".into(),
            limit,
        }
    }

    /// `markdown` is the level-3 section without a limit, byte for byte what it always was.
    #[test]
    fn the_live_diff_comment_is_an_unlimited_level_3_section() {
        let p = plan(3, 2);
        let md = markdown(&p);
        assert!(md.starts_with("### eksync diff\n\n"), "{md}");
        assert_eq!(
            md,
            markdown_section(
                &p,
                &SectionOptions {
                    level: 3,
                    title: "eksync diff".into(),
                    limit: None
                }
            )
        );
        assert!(md.contains("`warning: line 1 of cm-2 \\| "), "{md}");
        assert!(!md.contains("Cut to fit"), "{md}");
        // What `eksync diff -o markdown` printed before sections existed, for a small plan.
        let mut p = plan(2, 1);
        p.items[1].details = vec![Detail::Warning("w | x".into())];
        p.prune = vec![p.items[1].clone()];
        p.refused = Some("r".into());
        assert_eq!(
            markdown(&p),
            format!(
                "### eksync diff\n\n**0** to create · **1** to update · 0 drifted · 1 blocked · 0 unchanged · 0 unknown\n\n\
                 | wave | | resource | change |\n|---|---|---|---|\n\
                 | 1 | k8s | blocked ConfigMap shop/cm-0 | `warning: line 0 of cm-0 \\| {x}` |\n\
                 | 1 | aws | update ConfigMap shop/cm-1 | `warning: w \\| x` |\n\
                 \n**Left Git**\n\n- update ConfigMap shop/cm-1: warning: w \\| x\n\
                 \n> a note\n\n> **Refused**: r\n",
                x = "x".repeat(80)
            )
        );
    }

    /// (items, lines per item, limit) -> what the section must do: fit, keep the blocked row, say
    /// what it cut; a section that fits is not cut at all.
    #[test]
    fn a_limited_section_fits_shortens_the_largest_rows_first_and_says_so() {
        let cases = [
            (3, 2, 65_536, false),
            (40, 50, 65_536, true),
            (3_000, 5, 20_000, true),
            (10, 400, 5_000, true),
            (1, 5_000, 2_000, true),
        ];
        for (items, lines, limit, cut) in cases {
            let p = plan(items, lines);
            let full = markdown_section(&p, &opts(None));
            let md = markdown_section(&p, &opts(Some(limit)));
            assert!(
                size(&md) <= limit,
                "{items}x{lines}: {} > {limit}",
                size(&md)
            );
            assert_eq!(md.contains("**Cut to fit the comment:**"), cut, "{md}");
            if !cut {
                assert_eq!(md, full);
            }
            assert!(md.starts_with("#### Live\n\n"), "{md}");
            assert!(md.contains("a note"), "{md}");
            // The blocked row is the last to go.
            assert!(
                md.contains("blocked ConfigMap shop/cm-0"),
                "{items}x{lines}: {md}"
            );
            // Every code span it opens it closes.
            for row in md.lines().filter(|l| l.starts_with("| ")) {
                assert_eq!(row.matches('`').count() % 2, 0, "{row}");
            }
        }
        // The largest rows are shortened before any row is left out.
        let mut p = plan(20, 2);
        p.items[7].details = (0..2_000)
            .map(|l| Detail::Warning(format!("big {l}")))
            .collect();
        let md = markdown_section(&p, &opts(Some(10_000)));
        assert!(
            md.contains("1 row(s) shortened, largest first; 0 row(s)"),
            "{md}"
        );
        assert!(
            md.contains("… 1997 more line(s) cut to fit the comment"),
            "{md}"
        );
        assert!(md.contains("cm-19"), "{md}");
    }

    /// The preview and the live plan in one comment: within the limit whatever their sizes, the
    /// preview first, the live section last; without a limit, both whole.
    #[test]
    fn preview_and_live_share_one_comment_within_the_limit() {
        use crate::core::preview::{self, render::GITHUB_COMMENT_LIMIT, ResourceChange};
        let preview = |n: usize| preview::Preview {
            id: "demo".into(),
            labels: preview::Labels::default(),
            summary: Default::default(),
            flags: vec![],
            resources: (0..n)
                .map(|i| ResourceChange {
                    id: format!("k8s/ConfigMap/shop/cm-{i}"),
                    system: System::Kubernetes,
                    kind: "ConfigMap".into(),
                    name: format!("cm-{i}"),
                    namespace: Some("shop".into()),
                    cluster: None,
                    label: format!("ConfigMap shop/cm-{i}"),
                    action: preview::Action::Update,
                    diff: format!("-  k: a\n+  k: {}\n", "b".repeat(400)),
                    lines_added: 1,
                    lines_removed: 1,
                    known_after_apply: false,
                    wave: 1,
                })
                .collect(),
            edges: vec![],
            waves: vec![],
        };
        for (resources, items, lines) in
            [(2, 2, 1), (3_000, 2, 1), (2, 3_000, 3), (3_000, 3_000, 3)]
        {
            let (p, lp) = (preview(resources), plan(items, lines));
            let md = preview_with_live_markdown(&p, &lp, Some(GITHUB_COMMENT_LIMIT));
            assert!(
                size(&md) <= GITHUB_COMMENT_LIMIT,
                "{resources}/{items}: {}",
                size(&md)
            );
            assert!(md.starts_with("<!-- eksync-preview id=demo -->\n### eksync preview"));
            assert!(
                md.contains("live AWS and the cluster follows below"),
                "{md}"
            );
            let at = md
                .find(&format!("#### {PREVIEW_LIVE_TITLE}"))
                .expect("a live section");
            assert!(md[..at].contains("cm-0"), "the preview lists resources");
            assert!(
                md[at..].contains("blocked ConfigMap shop/cm-0"),
                "the live section lists rows"
            );
            // A large live plan keeps at least its share; a small one is whole.
            if items > 2 {
                assert!(
                    size(&md[at..]) >= live_share(GITHUB_COMMENT_LIMIT) / 2,
                    "{}",
                    size(&md[at..])
                );
                assert!(md[at..].contains("Cut to fit the comment"));
            } else {
                assert_eq!(
                    &md[at..],
                    markdown_section(
                        &lp,
                        &SectionOptions {
                            level: 4,
                            title: PREVIEW_LIVE_TITLE.into(),
                            limit: None
                        }
                    )
                );
            }
            let whole = preview_with_live_markdown(&p, &lp, None);
            assert!(
                !whole.contains("Cut to fit"),
                "the full report is never cut"
            );
        }
        let text = preview_with_live_text(&preview(1), &plan(1, 1));
        let at = text.find(PREVIEW_LIVE_TITLE).expect("a live title");
        assert!(
            text[..at].starts_with(
                "Preview: base -> head (offline: desired vs desired; the live state follows below)"
            ),
            "{text}"
        );
        assert!(
            text[at..].contains("ConfigMap shop/cm-0 (blocked)"),
            "{text}"
        );
        let json = preview_with_live_json(&preview(1), &plan(1, 1));
        assert_eq!(json["resources"][0]["name"], "cm-0");
        assert_eq!(json["live"]["items"][0]["name"], "cm-0");
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
