//! A [`Preview`] in words: [`text`] for a terminal, [`json`] for bots (the whole preview, never
//! cut) and [`markdown`] for a GitHub/GitLab pull-request comment. The comment starts with a hidden
//! marker naming the preview (so a CI job updates its one comment), names the revisions, then a
//! summary table, the risk flags, order changes and one `<details>` block with a `diff` code block
//! per resource. With a limit it always fits: the largest diffs are cut first, then (if the list
//! alone is too long) the last resources and flags, and the comment says what was cut and that
//! `--report-file` holds the full report. `markdown_before_live`/`text_before_live` are the same
//! with their first sentence pointing at a live section the caller appends (`diff --live`);
//! live state is never read here.
//!
//! Everything taken from the repo is escaped for where it lands: table cells through
//! [`md_cell`], inline text with backslash escapes, `<summary>` text as HTML, diff bodies inside a
//! fence longer than any backtick run they contain. Sizes are counted in UTF-16 code units, as
//! GitHub counts its limit (never less than the characters).

use std::fmt::Write as _;

use serde_json::Value;

use super::risk::{Flag, Replaces, Risk, RiskKind};
use super::{Action, Counts, EdgeChange, EdgeChangeKind, Preview, ResourceChange};
use crate::graph::System;
use crate::text::{clip, clip_json, md_cell};

/// GitHub's limit for one comment.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Revision names and the marker id are clipped to this many characters in the comment, so that
/// its fixed part stays small whatever they are.
const MAX_LABEL_CHARS: usize = 200;

/// The first characters of the hidden marker line.
pub const MARKER_PREFIX: &str = "<!-- eksync-preview";

/// How to render the Markdown comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkdownOptions {
    /// Largest size in UTF-16 code units; `None` renders everything (the `--report-file` form).
    pub limit: Option<usize>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        MarkdownOptions {
            limit: Some(GITHUB_COMMENT_LIMIT),
        }
    }
}

/// The preview as JSON: every field, nothing cut.
pub fn json(p: &Preview) -> Value {
    // Serializing plain data with string keys cannot fail; `Null` keeps the function total.
    serde_json::to_value(p).unwrap_or(Value::Null)
}

/// A risk kind's name for people.
pub fn risk_title(k: RiskKind) -> &'static str {
    match k {
        RiskKind::Replacement => "CloudFormation replacement",
        RiskKind::DataLoss => "Data loss",
        RiskKind::Deletion => "Deletion",
        RiskKind::IamBroadening => "IAM broadening",
        RiskKind::RbacEscalation => "RBAC escalation",
        RiskKind::SecretChange => "Secret change",
        RiskKind::NodeGroupScaleDown => "Node group scale-down",
        RiskKind::CapacitySwitch => "Spot/on-demand switch",
    }
}

fn action_word(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
    }
}

fn action_sign(a: Action) -> &'static str {
    match a {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "±",
        Action::Delete => "-",
    }
}

fn value_text(v: &Option<Value>) -> String {
    v.as_ref()
        .map_or_else(|| "(none)".to_string(), |v| clip_json(v, 80))
}

fn list(items: &[String], max: usize) -> String {
    let mut s = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        let _ = write!(s, " and {} more", items.len() - max);
    }
    s
}

/// The short reason of a flag, as plain text.
pub fn reason(f: &Flag) -> String {
    match &f.risk {
        Risk::Replacement { causes } => {
            let nodes = causes.iter().any(|c| c.replaces == Replaces::Nodes);
            let resources: Vec<String> = causes
                .iter()
                .filter(|c| c.replaces == Replaces::Resource)
                .map(|c| c.logical_id.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut what = Vec::new();
            if !resources.is_empty() {
                what.push(format!("replaces {}", list(&resources, 5)));
            }
            if nodes {
                what.push("replaces the node group's instances (rolling update)".to_string());
            }
            let changes: Vec<String> = causes
                .iter()
                .map(|c| {
                    format!(
                        "{} {}: {} → {}",
                        c.logical_id,
                        c.property,
                        value_text(&c.base),
                        value_text(&c.head)
                    )
                })
                .collect();
            format!("{} ({})", what.join("; "), list(&changes, 4))
        }
        Risk::Deletion {
            system: System::Kubernetes,
        } => "removed from the repo: apply --prune deletes it".to_string(),
        Risk::Deletion {
            system: System::Aws,
        } => "removed from the repo: eksync stops managing it but does not delete it (delete it by hand if it should go)".to_string(),
        Risk::DataLoss { kind } => match kind.as_str() {
            "Namespace" => "deleting a namespace deletes everything in it".to_string(),
            "PersistentVolume" => {
                "deleting the volume loses its data (unless its reclaim policy is Retain)".to_string()
            }
            _ => "deleting the claim releases its volume: with reclaim policy Delete (the default for dynamic volumes) the data is gone".to_string(),
        },
        Risk::IamBroadening(b) => {
            let mut parts = Vec::new();
            if let Some(id) = &b.logical_id {
                parts.push(format!("resource {id}"));
            }
            if !b.new_actions.is_empty() {
                parts.push(format!("new actions {}", list(&b.new_actions, 8)));
            }
            if !b.wildcard_actions.is_empty() {
                parts.push(format!("wildcard actions {}", list(&b.wildcard_actions, 8)));
            }
            for w in &b.wildcard_resources {
                parts.push(format!(
                    "Resource \"{}\" newly allows {}",
                    w.resource,
                    list(&w.actions, 8)
                ));
            }
            if b.not_statements_added > 0 {
                parts.push(format!(
                    "{} new NotAction/NotResource statement(s)",
                    b.not_statements_added
                ));
            }
            if b.denies_removed > 0 {
                parts.push(format!("{} Deny statement(s) removed", b.denies_removed));
            }
            if !b.trust_added.is_empty() {
                parts.push(format!(
                    "trust policy now trusts {}",
                    list(&b.trust_added, 5)
                ));
            }
            if !b.trust_removed.is_empty() {
                parts.push(format!("trust policy drops {}", list(&b.trust_removed, 5)));
            }
            if b.trust_changed {
                parts.push("trust policy changed".to_string());
            }
            if !b.managed_policies_added.is_empty() {
                parts.push(format!(
                    "managed policies attached: {}",
                    list(&b.managed_policies_added, 5)
                ));
            }
            parts.join("; ")
        }
        Risk::RbacEscalation(e) => {
            let mut parts = Vec::new();
            if let Some(to) = &e.cluster_admin_to {
                parts.push(format!(
                    "binds ClusterRole cluster-admin to {}",
                    if to.is_empty() {
                        "(no subjects)".to_string()
                    } else {
                        list(to, 5)
                    }
                ));
            }
            if !e.broad_subjects.is_empty() {
                parts.push(format!("binds {}", list(&e.broad_subjects, 5)));
            }
            for r in &e.rules {
                parts.push(format!(
                    "rule grants {} (verbs {}; resources {})",
                    r.because.join(", "),
                    list(&r.verbs, 6),
                    list(&r.resources, 6)
                ));
            }
            parts.join("; ")
        }
        Risk::SecretChange { action, keys } => {
            let mut parts = vec![format!("Secret {}", action_word(*action))];
            if !keys.added.is_empty() {
                parts.push(format!("keys added: {}", list(&keys.added, 10)));
            }
            if !keys.changed.is_empty() {
                parts.push(format!("keys changed: {}", list(&keys.changed, 10)));
            }
            if !keys.removed.is_empty() {
                parts.push(format!("keys removed: {}", list(&keys.removed, 10)));
            }
            if keys.added.is_empty() && keys.changed.is_empty() && keys.removed.is_empty() {
                parts.push("no key changed (metadata only)".to_string());
            }
            parts.join("; ") + " (values are never shown)"
        }
        Risk::NodeGroupScaleDown {
            nodegroup,
            max_base,
            max_head,
            min_head,
            to_zero,
        } => {
            if *to_zero {
                format!("node group {nodegroup} scaled to zero (max {max_base} → 0): every node is terminated")
            } else {
                format!(
                    "node group {nodegroup}: max lowered {max_base} → {max_head} (min {min_head}); nodes above the new max are terminated (the live desired size is not known offline)"
                )
            }
        }
        Risk::CapacitySwitch {
            nodegroup,
            spot_base,
            spot_head,
            on_demand_base,
            on_demand_percentage,
        } => {
            let kind = |spot: bool| if spot { "Spot" } else { "on-demand" };
            let opt = |v: Option<i64>| v.map_or_else(|| "(default)".to_string(), |v| v.to_string());
            if spot_base != spot_head {
                format!(
                    "node group {nodegroup} switches from {} to {}: its instances are replaced",
                    kind(*spot_base),
                    kind(*spot_head)
                )
            } else {
                format!(
                    "node group {nodegroup}: on-demand base {} → {}, on-demand share above base {}% → {}%",
                    opt(on_demand_base.0),
                    opt(on_demand_base.1),
                    opt(on_demand_percentage.0),
                    opt(on_demand_percentage.1)
                )
            }
        }
    }
}

/// The sentence of an edge change.
pub fn edge_sentence(e: &EdgeChange) -> String {
    match &e.kind {
        EdgeChangeKind::Added { reason } => {
            format!("{} now waits for {}: {reason}", e.to_label, e.from_label)
        }
        EdgeChangeKind::Removed { reason } => format!(
            "{} no longer waits for {} (was: {reason})",
            e.to_label, e.from_label
        ),
        EdgeChangeKind::Reason { base, head } => format!(
            "{} still waits for {}, now because {head} (was: {base})",
            e.to_label, e.from_label
        ),
    }
}

/// Whether a live section follows the offline preview (`diff --base ... --live`): the preview's
/// first line says so instead of "live state not read".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LiveState {
    NotRead,
    Below,
}

impl LiveState {
    fn text(self) -> &'static str {
        match self {
            LiveState::NotRead => "live state not read",
            LiveState::Below => "the live state follows below",
        }
    }

    fn markdown(self) -> &'static str {
        match self {
            LiveState::NotRead => "live AWS and cluster state not read",
            LiveState::Below => "the head against live AWS and the cluster follows below",
        }
    }
}

/// `diff -o text`.
pub fn text(p: &Preview) -> String {
    text_with(p, LiveState::NotRead)
}

/// `diff --live -o text`: the same, its first line pointing at the live section that follows.
pub fn text_before_live(p: &Preview) -> String {
    text_with(p, LiveState::Below)
}

fn text_with(p: &Preview, live: LiveState) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Preview: {} -> {} (offline: desired vs desired; {})",
        p.labels.base,
        p.labels.head,
        live.text()
    );
    if !p.has_changes() {
        s.push_str("No changes.\n");
        return s;
    }
    for (name, c) in [
        ("AWS", &p.summary.aws),
        ("Kubernetes", &p.summary.kubernetes),
    ] {
        let _ = writeln!(
            s,
            "  {name}: {} create, {} update, {} replace, {} delete",
            c.creates, c.updates, c.replacements, c.deletes
        );
    }
    if !p.flags.is_empty() {
        let _ = writeln!(s, "\nRisk flags ({}):", p.flags.len());
        for f in &p.flags {
            let _ = writeln!(
                s,
                "  ! {}: {}: {}",
                risk_title(f.kind()),
                f.label,
                reason(f)
            );
        }
    }
    if !p.edges.is_empty() || !p.waves.is_empty() {
        s.push_str("\nOrder changes:\n");
        for e in &p.edges {
            let _ = writeln!(s, "  {}", edge_sentence(e));
        }
        for w in &p.waves {
            let _ = writeln!(
                s,
                "  {} moves from wave {} to wave {}",
                w.label, w.base, w.head
            );
        }
    }
    for r in &p.resources {
        let _ = writeln!(
            s,
            "\n{} {}: {}",
            action_sign(r.action),
            r.label,
            action_word(r.action)
        );
        s.push_str(&r.diff);
    }
    s
}

/// The size GitHub counts.
pub fn size(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Escapes text for inline Markdown: backslash before the punctuation that could open markup,
/// `&` as an entity, line endings as spaces.
pub fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML (inside `<summary>`).
pub fn html_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A fence longer than any run of backticks in `body`.
pub fn fence_for(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat(longest.max(2) + 1)
}

/// The marker id: characters safe inside an HTML comment (no `--`, no `>`).
fn marker_id(id: &str) -> String {
    let mut out = String::new();
    for c in id.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | ',') {
            c
        } else {
            '-'
        };
        if c == '-' && out.ends_with('-') {
            continue;
        }
        out.push(c);
    }
    out
}

fn counts_row(name: &str, c: &Counts) -> String {
    format!(
        "| {} | {} | {} | {} | {} |\n",
        md_cell(name),
        c.creates,
        c.updates,
        c.replacements,
        c.deletes
    )
}

fn details_block(r: &ResourceChange, with_diff: bool, base: &str, head: &str) -> String {
    let mut s = format!(
        "<details><summary>{} <b>{}</b> · {}{}</summary>\n\n",
        action_sign(r.action),
        action_word(r.action),
        html_text(&r.label),
        if r.known_after_apply {
            " · some values known after apply"
        } else {
            ""
        }
    );
    if with_diff && !r.diff.is_empty() {
        let fence = fence_for(&r.diff);
        let _ = writeln!(s, "{fence}diff\n{}{fence}\n", r.diff);
    } else if !r.diff.is_empty() {
        let _ = writeln!(
            s,
            "Diff cut to fit the comment (+{} −{} lines): the full report has it (`--report-file`).\n",
            r.lines_added, r.lines_removed
        );
    } else {
        let _ = writeln!(
            s,
            "No text change between {} and {}.\n",
            md_text(&clip(base, MAX_LABEL_CHARS)),
            md_text(&clip(head, MAX_LABEL_CHARS))
        );
    }
    s.push_str("</details>\n\n");
    s
}

/// `diff -o markdown`: the pull-request comment. See the module docs for how it fits.
pub fn markdown(p: &Preview, opts: &MarkdownOptions) -> String {
    markdown_with(p, opts, LiveState::NotRead)
}

/// `diff --live -o markdown`: the same comment, its first sentence pointing at the live section
/// the caller appends (within the limit it was given).
pub fn markdown_before_live(p: &Preview, opts: &MarkdownOptions) -> String {
    markdown_with(p, opts, LiveState::Below)
}

fn markdown_with(p: &Preview, opts: &MarkdownOptions, live: LiveState) -> String {
    let limit = opts.limit.unwrap_or(usize::MAX);
    let mut head = String::new();
    let _ = writeln!(
        head,
        "{MARKER_PREFIX} id={} -->",
        marker_id(&clip(&p.id, MAX_LABEL_CHARS))
    );
    head.push_str("### eksync preview\n\n");
    let _ = writeln!(
        head,
        "Comparing base **{}** with head **{}** (offline: desired vs desired; {}).\n",
        md_text(&clip(&p.labels.base, MAX_LABEL_CHARS)),
        md_text(&clip(&p.labels.head, MAX_LABEL_CHARS)),
        live.markdown()
    );
    if !p.has_changes() {
        head.push_str("No changes.\n");
        return head;
    }
    head.push_str(
        "| system | creates | updates | replacements | deletes |\n|---|---:|---:|---:|---:|\n",
    );
    head.push_str(&counts_row("AWS", &p.summary.aws));
    head.push_str(&counts_row("Kubernetes", &p.summary.kubernetes));
    head.push('\n');

    // Flags: the count table always; the lines while they fit a share of the limit.
    let mut flags = String::new();
    if p.flags.is_empty() {
        flags.push_str("No risk flags.\n\n");
    } else {
        let _ = writeln!(flags, "#### ⚠️ Risk flags ({})\n", p.flags.len());
        flags.push_str("| risk | count |\n|---|---:|\n");
        for k in RiskKind::ALL {
            let n = p.count(k);
            if n > 0 {
                let _ = writeln!(flags, "| {} | {n} |", md_cell(risk_title(k)));
            }
        }
        flags.push('\n');
    }
    let lines: Vec<String> = p
        .flags
        .iter()
        .map(|f| {
            format!(
                "- **{}** · {}: {}\n",
                risk_title(f.kind()),
                md_text(&f.label),
                md_text(&reason(f))
            )
        })
        .collect();
    let order: Vec<String> = p
        .edges
        .iter()
        .map(edge_sentence)
        .chain(
            p.waves
                .iter()
                .map(|w| format!("{} moves from wave {} to wave {}", w.label, w.base, w.head)),
        )
        .map(|l| format!("- {}\n", md_text(&l)))
        .collect();
    let blocks: Vec<(String, String)> = p
        .resources
        .iter()
        .map(|r| {
            (
                details_block(r, true, &p.labels.base, &p.labels.head),
                details_block(r, false, &p.labels.base, &p.labels.head),
            )
        })
        .collect();
    // Room kept for the closing note whatever it says.
    const FOOTER_ROOM: usize = 1_200;
    let budget = limit.saturating_sub(size(&head) + size(&flags) + FOOTER_ROOM);
    // Flag lines and order lines get at most a third of what is left each; diffs the rest.
    let take = |ls: &[String], room: usize| -> usize {
        let mut used = 0;
        ls.iter()
            .take_while(|l| {
                used += size(l);
                used <= room
            })
            .count()
    };
    let flags_shown = take(&lines, budget / 3);
    let flags_used: usize = lines[..flags_shown].iter().map(|l| size(l)).sum();
    let order_shown = take(&order, (budget - flags_used) / 3);
    let order_used: usize = order[..order_shown].iter().map(|l| size(l)).sum();
    let mut room = budget - flags_used - order_used;
    let changes_title = format!("#### Changes ({})\n\n", p.resources.len());
    room = room.saturating_sub(size(&changes_title) + 64);
    // Cut the largest diffs first until the blocks fit, then leave out the last blocks.
    let mut full: Vec<bool> = vec![true; blocks.len()];
    let mut total: usize = blocks.iter().map(|(f, _)| size(f)).sum();
    let mut by_size: Vec<usize> = (0..blocks.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(size(&blocks[i].0)));
    for i in by_size {
        if total <= room {
            break;
        }
        if p.resources[i].diff.is_empty() {
            continue;
        }
        total -= size(&blocks[i].0);
        total += size(&blocks[i].1);
        full[i] = false;
    }
    // Still too long: leave out blocks from the end, those without a flag first.
    let flagged: std::collections::BTreeSet<&str> =
        p.flags.iter().map(|f| f.resource.as_str()).collect();
    let mut listed = vec![true; blocks.len()];
    let unflagged_first = (0..blocks.len())
        .rev()
        .filter(|&i| !flagged.contains(p.resources[i].id.as_str()))
        .chain(
            (0..blocks.len())
                .rev()
                .filter(|&i| flagged.contains(p.resources[i].id.as_str())),
        );
    for i in unflagged_first {
        if total <= room {
            break;
        }
        total -= if full[i] {
            size(&blocks[i].0)
        } else {
            size(&blocks[i].1)
        };
        listed[i] = false;
    }

    let mut s = head;
    s.push_str(&flags);
    for l in &lines[..flags_shown] {
        s.push_str(l);
    }
    if flags_shown < lines.len() {
        let _ = writeln!(
            s,
            "- … and {} more flag(s), counted above: see the full report",
            lines.len() - flags_shown
        );
    }
    if !lines.is_empty() {
        s.push('\n');
    }
    if !order.is_empty() {
        s.push_str("#### Order changes\n\n");
        for l in &order[..order_shown] {
            s.push_str(l);
        }
        if order_shown < order.len() {
            let _ = writeln!(
                s,
                "- … and {} more order change(s): see the full report",
                order.len() - order_shown
            );
        }
        s.push('\n');
    }
    s.push_str(&changes_title);
    for (i, (f, c)) in blocks.iter().enumerate().filter(|(i, _)| listed[*i]) {
        s.push_str(if full[i] { f } else { c });
    }
    let omitted_flags = lines.len() - flags_shown;
    let omitted_order = order.len() - order_shown;
    let omitted = listed.iter().filter(|l| !**l).count();
    let cut = (0..blocks.len()).filter(|&i| listed[i] && !full[i]).count();
    if cut + omitted + omitted_flags + omitted_order > 0 {
        s.push_str("---\n\n");
        let _ = writeln!(
            s,
            "**Cut to fit GitHub's {GITHUB_COMMENT_LIMIT}-character comment limit:** {cut} diff(s) cut, largest first; {omitted} resource(s), {omitted_flags} flag line(s) and {omitted_order} order change(s) not listed. The full report is written by `eksync diff --report-file FILE` (for example as a CI artifact)."
        );
    }
    s
}
