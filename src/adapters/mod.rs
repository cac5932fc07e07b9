//! Adapters at the edge of the system: the only places where files, AWS SDK, kube and git2 types
//! appear. `repo` opens a `REPO` argument (a folder, a local Git repository at a revision, a remote
//! at a ref) through `fs` or `git`.

pub mod aws;
pub mod fs;
pub mod git;
pub mod kube;
pub mod repo;
