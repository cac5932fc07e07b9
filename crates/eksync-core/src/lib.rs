//! The pure core: no I/O, no async, no clock. Files in memory go in; a model, diagnostics, a graph and
//! an ordered plan come out. Adapters feed it and the executor acts on what it returns.

pub mod agent;
pub mod analysis;
pub mod awsdiff;
pub mod desired;
pub mod diag;
pub mod eksctl;
#[doc(hidden)]
pub mod fuzz_targets;
pub mod graph;
pub mod kdiff;
pub mod kube;
pub mod load;
pub mod model;
pub mod path;
pub mod permissions;
pub mod plan;
pub mod preview;
pub mod reconcile;
pub mod refs;
pub mod render;
pub mod report;
pub mod source;
pub mod text;
pub mod values;
pub mod watch;
pub mod yaml;

#[cfg(test)]
mod render_props;
