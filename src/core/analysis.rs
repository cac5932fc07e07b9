//! The offline pipeline in one call: source -> model + diagnostics -> graph -> waves. This is what
//! `validate`, `plan`, `render` and `graph` run; live commands start from its result.
//! Pure: it reads only the in-memory source it is given.

use std::collections::HashMap;

use super::diag::{self, Diagnostic, Location};
use super::graph::{self, Graph, Locator};
use super::load::{self, Source};
use super::model::{Model, Origin};
use super::path::FieldPath;
use super::plan::{self, Order};
use super::yaml;

/// Everything the offline commands need.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub model: Model,
    pub graph: Graph,
    /// Waves; empty when a cycle prevents ordering.
    pub order: Order,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diagnostics)
    }
}

/// Positions from the source's own text.
pub struct SourceLocator<'a> {
    texts: HashMap<&'a str, &'a str>,
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
        SourceLocator { texts }
    }
}

impl Locator for SourceLocator<'_> {
    fn locate(&self, origin: &Origin, path: &FieldPath) -> Location {
        match self
            .texts
            .get(origin.file.as_str())
            .and_then(|t| yaml::locate(t, origin.document, path))
        {
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
        diagnostics,
    }
}
