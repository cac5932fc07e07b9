//! Adapters at the edge of the system: the only places where files, AWS SDK and kube types appear.

pub mod aws;
pub mod fs;
pub mod kube;
