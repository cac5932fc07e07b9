//! Turns an [`Analysis`] into what people and machines read: the plan as text, JSON or Markdown (for
//! a PR comment), the graph as DOT or Mermaid, and diagnostics. Pure string building; printing and
//! exit codes belong to the binary.

use serde::Serialize;
use serde_json::json;
use std::fmt::Write as _;

use super::analysis::Analysis;
use super::diag::{Diagnostic, Severity};
use super::graph::{Graph, System};
use super::kdiff;
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
///
/// Manifests are the prepared bodies an apply sends (`kdiff::prepare`): the ownership label, the
/// source label (`source`, as the live commands name it), no `status` nor server-owned metadata,
/// and no `spec.replicas` where an HPA in the repo owns them.
pub fn render_stream(a: &Analysis, source: Option<&str>) -> String {
    let mut ctx = kdiff::PrepareContext::from_bodies(a.model.objects.iter().map(|o| &o.body));
    if let Some(source) = source {
        ctx = ctx.with_source(source);
    }
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
        let body = kdiff::prepare(&body, &ctx).body;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{Source, SourceFile};

    /// `render` prints what an apply sends: the prepared body, not Git's.
    #[test]
    fn render_shows_the_prepared_bodies() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\n  labels: {app: web}\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers: [{name: c, image: web:1}]\nstatus:\n  replicas: 3\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: default\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  maxReplicas: 5\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: fixed\n  namespace: default\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: fixed}\n  template:\n    metadata:\n      labels: {app: fixed}\n    spec:\n      containers: [{name: c, image: fixed:1}]\n";
        let src = Source {
            files: vec![SourceFile {
                path: "web.yaml".into(),
                bytes: text.as_bytes().to_vec(),
            }],
            skipped: Vec::new(),
        };
        let a = crate::analysis::analyze(&src);
        assert!(!a.has_errors(), "{:#?}", a.diagnostics);
        let out = render_stream(&a, Some("shop"));
        let docs: Vec<serde_json::Value> = out
            .split("\n---\n")
            .chain(std::iter::once(""))
            .filter_map(|d| serde_yaml_ng::from_str(d.trim_start_matches("---\n")).ok())
            .filter(|v: &serde_json::Value| v.is_object())
            .collect();
        assert_eq!(docs.len(), 3, "{out}");
        let by_name = |n: &str| {
            docs.iter()
                .find(|d| {
                    d.pointer("/metadata/name") == Some(&json!(n)) && d["kind"] == "Deployment"
                })
                .cloned()
                .unwrap_or_default()
        };
        let web = by_name("web");
        assert_eq!(
            web.pointer("/spec/replicas"),
            None,
            "the HPA owns them: {out}"
        );
        assert_eq!(web.get("status"), None);
        assert_eq!(
            web.pointer("/metadata/labels"),
            Some(
                &json!({"app": "web", "app.kubernetes.io/managed-by": "eksync", "eksync.io/source": "shop"})
            )
        );
        let fixed = by_name("fixed");
        assert_eq!(fixed.pointer("/spec/replicas"), Some(&json!(2)));
        assert_eq!(
            fixed.pointer("/metadata/labels/eksync.io~1source"),
            Some(&json!("shop"))
        );
        // Each body is exactly what `kdiff::prepare` gives for it.
        for o in &a.model.objects {
            let ctx = kdiff::PrepareContext::from_bodies(a.model.objects.iter().map(|o| &o.body))
                .with_source("shop");
            let want = kdiff::prepare(&o.body, &ctx).body;
            assert!(docs.contains(&want), "{}: {out}", o.key);
        }
    }
}
