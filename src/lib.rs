//! eksync: a GitOps reconciler for EKS.
//!
//! The pure core ([`core`]) turns a repo's files into a model, a dependency graph and an ordered plan
//! without any I/O. Adapters ([`adapters`]) sit at the edge: they read files, talk to AWS and
//! Kubernetes, and translate SDK types into the core's types. Nothing in `core` performs I/O.

pub mod adapters;
pub mod agent;
pub mod errors;
pub mod exec;
pub mod session;
pub mod watch;

/// The pure core lives in its own crate (`eksync-core`), whose manifest admits no I/O, async or SDK
/// dependency; it is re-exported here under its old path.
pub use eksync_core as core;
