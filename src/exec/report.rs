//! Live plans and run results as text, JSON and Markdown (a PR comment). String building only;
//! Secret values never reach here (diffs are masked before they become items).

use serde_json::json;
use std::fmt::Write as _;

use super::{Action, Item, LivePlan, Outcome};
use crate::core::graph::System;

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
    let mut s = format!(
        "{create} to create, {update} to update, {drift} drifted (not corrected), {blocked} blocked, {same} unchanged, {unknown} unknown\n"
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
        for d in &i.details {
            let _ = writeln!(s, "        {d}");
        }
        for d in &i.drift {
            let _ = writeln!(s, "        drift: {d}");
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
            for d in &i.details {
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
        "summary": {
            "create": create, "update": update, "drift_only": drift, "blocked": blocked,
            "unchanged": same, "unknown": unknown, "changes": p.has_changes(),
            "done": done, "failed": p.failed(), "skipped": skipped,
        }
    })
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

/// A pull-request comment.
pub fn markdown(p: &LivePlan) -> String {
    let [create, update, drift, blocked, same, unknown] = counts(p);
    let mut s = String::from("### eksync diff\n\n");
    let _ = writeln!(
        s,
        "**{create}** to create · **{update}** to update · {drift} drifted · {blocked} blocked · {same} unchanged · {unknown} unknown\n"
    );
    if p.items.iter().any(interesting) {
        s.push_str("| wave | | resource | change |\n|---|---|---|---|\n");
        for i in by_wave(p).into_iter().filter(|i| interesting(i)) {
            let mut change: Vec<String> =
                i.details.iter().map(|d| format!("`{}`", md(d))).collect();
            change.extend(i.drift.iter().map(|d| format!("drift: {}", md(d))));
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
    for n in &p.notes {
        let _ = writeln!(s, "\n> {}", md(n));
    }
    if p.cancelled {
        s.push_str("\n> **Cancelled**: nothing was started after the cancel.\n");
    }
    s
}
