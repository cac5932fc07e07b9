//! Turns an [`Analysis`] into what people and machines read: the plan as text, JSON or Markdown (for
//! a PR comment), the graph as DOT or Mermaid, and diagnostics. Pure string building; printing and
//! exit codes belong to the binary.

use serde::Serialize;
use serde_json::json;
use std::fmt::Write as _;

use super::analysis::Analysis;
use super::diag::{Diagnostic, Severity};
use super::graph::{Graph, System};
use super::text::md_cell;
use super::values;

#[derive(Serialize)]
struct JsonResource<'a> {
    id: &'a str,
    system: System,
    kind: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a str>,
    wave: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
}

fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, diags.len() - errors)
}

/// `plan -o json`: resources in wave order, edges with reasons, waves, diagnostics.
pub fn plan_json(a: &Analysis) -> serde_json::Value {
    let g = &a.graph;
    let ordered: Vec<usize> = if a.order.waves.is_empty() {
        (0..g.nodes.len()).collect()
    } else {
        a.order.waves.iter().flatten().copied().collect()
    };
    let resources: Vec<JsonResource> = ordered
        .iter()
        .map(|&i| {
            let n = &g.nodes[i];
            JsonResource {
                id: &n.id,
                system: n.system,
                kind: &n.kind,
                name: &n.name,
                namespace: n.namespace.as_deref(),
                cluster: n.cluster.as_deref(),
                wave: a.order.wave_of.get(i).map_or(0, |w| w + 1),
                file: n.origin.as_ref().map(|o| o.file.as_str()),
                line: n.origin.as_ref().map(|o| o.line),
            }
        })
        .collect();
    let edges: Vec<_> = g
        .edges
        .iter()
        .map(|e| json!({"from": g.nodes[e.from].id, "to": g.nodes[e.to].id, "reason": e.reason}))
        .collect();
    let waves: Vec<Vec<&str>> = a
        .order
        .waves
        .iter()
        .map(|w| w.iter().map(|&i| g.nodes[i].id.as_str()).collect())
        .collect();
    let (errors, warnings) = counts(&a.diagnostics);
    json!({
        "resources": resources,
        "edges": edges,
        "waves": waves,
        "diagnostics": a.diagnostics,
        "summary": {
            "resources": g.nodes.len(),
            "waves": a.order.waves.len(),
            "errors": errors,
            "warnings": warnings,
        }
    })
}

fn system_tag(s: System) -> &'static str {
    match s {
        System::Aws => "aws",
        System::Kubernetes => "k8s",
    }
}

/// Options for the text and Markdown plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanView {
    /// Show, under each resource, what it waits for and why.
    pub explain: bool,
}

/// `plan -o text`.
pub fn plan_text(a: &Analysis, view: PlanView) -> String {
    let g = &a.graph;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Plan: {} resources in {} waves (offline: live state not read; everything shows as to be applied)",
        g.nodes.len(),
        a.order.waves.len()
    );
    for (w, wave) in a.order.waves.iter().enumerate() {
        let _ = writeln!(s, "\nWave {} ({} in parallel)", w + 1, wave.len());
        for &i in wave {
            let n = &g.nodes[i];
            let _ = writeln!(s, "  {:<4} {}", system_tag(n.system), n.label());
            if view.explain {
                for e in g.edges.iter().filter(|e| e.to == i) {
                    let _ = writeln!(
                        s,
                        "         after {}: {}",
                        g.nodes[e.from].label(),
                        e.reason
                    );
                }
            }
        }
    }
    s
}

/// `plan -o markdown`: a PR comment.
pub fn plan_markdown(a: &Analysis, view: PlanView) -> String {
    let g = &a.graph;
    let (errors, warnings) = counts(&a.diagnostics);
    let mut s = String::from("### eksync plan\n\n");
    let _ = writeln!(
        s,
        "**{}** resources in **{}** waves · {} errors · {} warnings\n",
        g.nodes.len(),
        a.order.waves.len(),
        errors,
        warnings
    );
    if !a.diagnostics.is_empty() {
        s.push_str("| | problem | where |\n|---|---|---|\n");
        for d in &a.diagnostics {
            let icon = if d.is_error() { "❌" } else { "⚠️" };
            let at = d
                .location
                .as_ref()
                .map(|l| l.to_string())
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "| {icon} | {} | `{}` |",
                md_cell(&d.message),
                md_cell(&at)
            );
        }
        s.push('\n');
    }
    s.push_str("| wave | system | resource |\n|---|---|---|\n");
    for (w, wave) in a.order.waves.iter().enumerate() {
        for &i in wave {
            let n = &g.nodes[i];
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                w + 1,
                system_tag(n.system),
                md_cell(&n.label())
            );
        }
    }
    if view.explain && !g.edges.is_empty() {
        s.push_str("\n<details><summary>Why this order</summary>\n\n");
        for e in &g.edges {
            let _ = writeln!(
                s,
                "- {} → {}: {}",
                md_cell(&g.nodes[e.from].label()),
                md_cell(&g.nodes[e.to].label()),
                md_cell(&e.reason)
            );
        }
        s.push_str("\n</details>\n");
    }
    s
}

/// Diagnostics for a terminal, one block each, then a count.
pub fn diagnostics_text(diags: &[Diagnostic]) -> String {
    let mut s = String::new();
    for d in diags {
        let _ = writeln!(s, "{d}\n");
    }
    let (errors, warnings) = counts(diags);
    if errors + warnings > 0 {
        let _ = writeln!(s, "{errors} error(s), {warnings} warning(s)");
    }
    s
}

/// The graph in Graphviz DOT.
pub fn graph_dot(g: &Graph) -> String {
    let mut s = String::from(
        "digraph eksync {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
    );
    for n in &g.nodes {
        let color = match n.system {
            System::Aws => "#ff9900",
            System::Kubernetes => "#326ce5",
        };
        let _ = writeln!(
            s,
            "  \"{}\" [label=\"{}\", color=\"{color}\"];",
            esc(&n.id),
            esc(&n.label())
        );
    }
    for e in &g.edges {
        let _ = writeln!(
            s,
            "  \"{}\" -> \"{}\" [tooltip=\"{}\"];",
            esc(&g.nodes[e.from].id),
            esc(&g.nodes[e.to].id),
            esc(&e.reason)
        );
    }
    s.push_str("}\n");
    s
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The graph as a Mermaid flowchart (renders in GitHub Markdown).
pub fn graph_mermaid(g: &Graph) -> String {
    let mut s = String::from("flowchart LR\n");
    for (i, n) in g.nodes.iter().enumerate() {
        let _ = writeln!(s, "  n{i}[\"{}\"]", n.label().replace('"', "#quot;"));
    }
    for e in &g.edges {
        let _ = writeln!(s, "  n{} --> n{}", e.from, e.to);
    }
    s
}

/// `render`: every stack template and every manifest as eksync would send them, as one YAML stream
/// (templates are JSON, which is YAML). Offline, values from AWS show as "known after apply";
/// Secret data is always masked.
pub fn render_stream(a: &Analysis) -> String {
    let mut s = String::new();
    for (ci, c) in a.model.clusters.iter().enumerate() {
        for st in a.stacks.get(ci).into_iter().flatten() {
            let _ = writeln!(
                s,
                "---\n# CloudFormation stack {} (cluster {})",
                st.name,
                c.name()
            );
            if !st.tags.is_empty() {
                let tags: Vec<String> = st.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let _ = writeln!(s, "# stack tags: {}", tags.join(", "));
            }
            s.push_str(&st.to_pretty_json());
        }
    }
    let cluster_cfg = |name: Option<&str>| {
        name.and_then(|n| a.model.cluster(n))
            .or_else(|| (a.model.clusters.len() == 1).then(|| &a.model.clusters[0]))
            .map(|c| &c.config)
    };
    for p in &a.model.role_policies {
        let cfg = cluster_cfg(p.cluster.as_deref());
        let lookup = |r: &super::refs::ValueRef| values::offline_value(cfg, r);
        let (role, _) =
            values::substitute(&serde_json::Value::String(p.role_name.clone()), &lookup);
        let (doc, _) = values::substitute(&p.document, &lookup);
        let body = json!({"roleName": role, "policyName": p.name, "policyDocument": doc});
        let _ = writeln!(
            s,
            "---\n# IAM inline role policy {} ({}:{})",
            p.name, p.origin.file, p.origin.line
        );
        let _ = writeln!(
            s,
            "{}",
            serde_json::to_string_pretty(&body).unwrap_or_default()
        );
    }
    for o in &a.model.objects {
        let cfg = cluster_cfg(o.cluster.as_deref());
        let lookup = |r: &super::refs::ValueRef| values::offline_value(cfg, r);
        let (body, _) = values::substitute(&o.body, &lookup);
        let body = values::mask_secret(&o.key.group, &o.key.kind, &body);
        let _ = writeln!(s, "---\n# {} ({}:{})", o.key, o.origin.file, o.origin.line);
        match serde_yaml_ng::to_string(&body) {
            Ok(y) => s.push_str(&y),
            Err(_) => {
                let _ = writeln!(
                    s,
                    "{}",
                    serde_json::to_string_pretty(&body).unwrap_or_default()
                );
            }
        }
    }
    s
}
