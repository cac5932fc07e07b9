//! The offline pipeline in one call: source -> model + diagnostics -> graph -> waves. This is what
//! `validate`, `plan`, `render` and `graph` run; live commands start from its result.
//! Pure: it reads only the in-memory source it is given.

use std::cell::RefCell;
use std::collections::HashMap;

use super::diag::{self, Diagnostic, Location};
use super::graph::{self, Graph, Locator};
use super::load::{self, Source};
use super::model::{Model, Origin};
use super::path::FieldPath;
use super::plan::{self, Order};
use super::refs::{StackRef, ValueRef};
use super::render::{self, RenderError, RenderedStack};
use super::yaml;

/// Everything the offline commands need.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub model: Model,
    pub graph: Graph,
    /// Waves; empty when a cycle prevents ordering.
    pub order: Order,
    /// The rendered stacks of each cluster, in model order (empty for a cluster that failed).
    pub stacks: Vec<Vec<RenderedStack>>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diagnostics)
    }
}

/// Positions from the source's own text, re-reading one document per question.
pub struct SourceLocator<'a> {
    texts: HashMap<&'a str, &'a str>,
    /// Where each file's documents start, learnt the first time a file needs a position.
    locators: RefCell<HashMap<&'a str, yaml::DocLocator<'a>>>,
}

impl<'a> SourceLocator<'a> {
    pub fn new(src: &'a Source) -> Self {
        let texts = src
            .files
            .iter()
            .filter_map(|f| {
                std::str::from_utf8(&f.bytes)
                    .ok()
                    .map(|t| (f.path.as_str(), t))
            })
            .collect();
        SourceLocator {
            texts,
            locators: RefCell::default(),
        }
    }
}

impl Locator for SourceLocator<'_> {
    fn locate(&self, origin: &Origin, path: &FieldPath) -> Location {
        let pos = self
            .texts
            .get_key_value(origin.file.as_str())
            .and_then(|(file, text)| {
                self.locators
                    .borrow_mut()
                    .entry(file)
                    .or_insert_with(|| yaml::DocLocator::new(text))
                    .locate(origin.document, path)
            });
        match pos {
            Some(p) => {
                Location::at(&origin.file, origin.document, p.line, p.column).with_field(path)
            }
            None => Location {
                document: Some(origin.document),
                line: Some(origin.line),
                ..Location::file(&origin.file)
            }
            .with_field(path),
        }
    }
}

/// Loads, builds the graph and orders it.
pub fn analyze(src: &Source) -> Analysis {
    let loaded = load::load(src);
    let locator = SourceLocator::new(src);
    let (graph, mut graph_diags) = graph::build(&loaded.model, &locator);
    let mut diagnostics = loaded.diagnostics;
    diagnostics.append(&mut graph_diags);
    let _: &dyn Locator = &locator;
    let stacks = render_all(&loaded.model, &locator, &mut diagnostics);
    check_ref_targets(&loaded.model, &stacks, &locator, &mut diagnostics);
    let order = match plan::order(&graph) {
        Ok(o) => o,
        Err(mut cycle_diags) => {
            diagnostics.append(&mut cycle_diags);
            Order::default()
        }
    };
    diag::sort(&mut diagnostics);
    diagnostics.dedup();
    Analysis {
        model: loaded.model,
        graph,
        order,
        stacks,
        diagnostics,
    }
}

/// Renders every cluster whose config is valid enough; each refusal is a located diagnostic
/// (all of a config's refusals, not only the first).
fn render_all(
    model: &Model,
    loc: &dyn Locator,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Vec<RenderedStack>> {
    model
        .clusters
        .iter()
        .map(|c| match render::render_stacks(&c.config) {
            Ok(stacks) => stacks,
            Err(errors) => {
                // Only the loader's and graph's errors hide a refusal: two refusals that locate
                // to the same place are both reported.
                let earlier = diags.len();
                for e in errors {
                    push_render_error(&e, c, loc, diags, earlier);
                }
                Vec::new()
            }
        })
        .collect()
}

fn push_render_error(
    e: &RenderError,
    c: &crate::model::Cluster,
    loc: &dyn Locator,
    diags: &mut Vec<Diagnostic>,
    earlier: usize,
) {
    // Errors the validator already reported at the same field are not repeated.
    let at = loc.locate(&c.origin, e.path());
    let message = e.to_string();
    let message = message
        .split_once(": ")
        .map_or(message.clone(), |(_, m)| m.to_string());
    if !diags[..earlier]
        .iter()
        .any(|d| d.is_error() && d.location.as_ref() == Some(&at))
    {
        diags.push(Diagnostic::error("E-render", message).at(at));
    }
}

/// Every `resource/<LogicalId>` and `output/<Key>` reference must name something its stack has.
fn check_ref_targets(
    model: &Model,
    stacks: &[Vec<RenderedStack>],
    loc: &dyn Locator,
    diags: &mut Vec<Diagnostic>,
) {
    let stacks_of = |cluster: Option<&str>| -> Option<&Vec<RenderedStack>> {
        let cluster =
            cluster.or_else(|| (model.clusters.len() == 1).then(|| model.clusters[0].name()))?;
        let i = model.clusters.iter().position(|c| c.name() == cluster)?;
        stacks.get(i).filter(|s| !s.is_empty())
    };
    let mut check = |cluster: Option<&str>, origin: &Origin, path: &FieldPath, r: &ValueRef| {
        let Some(rendered) = stacks_of(cluster) else {
            return;
        };
        let (stack_ref, name, is_output) = match r {
            ValueRef::Resource { stack, logical_id } => (stack, logical_id, false),
            ValueRef::Output { stack, key } => (stack, key, true),
            _ => return,
        };
        let stack = match stack_ref {
            StackRef::Cluster => render::find_cluster_stack(rendered),
            StackRef::NodeGroup(ng) => render::find_nodegroup_stack(rendered, ng),
            StackRef::ServiceAccount { namespace, name } => {
                render::find_service_account_stack(rendered, namespace, name)
            }
        };
        // A missing node group or service account stack was reported by the graph.
        let Some(stack) = stack else { return };
        let ok = if is_output {
            stack.has_output(name)
        } else {
            stack.resource_type(name).is_some()
        };
        if !ok {
            let known = if is_output {
                stack.outputs.join(", ")
            } else {
                stack
                    .resources
                    .iter()
                    .map(|(id, t)| format!("{id} ({t})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let what = if is_output { "output" } else { "resource" };
            diags.push(
                Diagnostic::error(
                    "E-ref",
                    format!("{r}: stack {} has no {what} `{name}`", stack.name),
                )
                .at(loc.locate(origin, path))
                .help(format!("it has: {known}")),
            );
        }
    };
    for p in &model.role_policies {
        for r in &p.refs {
            check(p.cluster.as_deref(), &p.origin, &r.path, &r.value);
        }
    }
    for o in &model.objects {
        for r in &o.refs {
            check(o.cluster.as_deref(), &o.origin, &r.path, &r.value);
        }
    }
}
