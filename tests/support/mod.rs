//! Shared harness for the end-to-end tests: the binary, moto, the scenario inputs and real Git
//! repositories and servers.

pub mod agent;
pub mod cli;
pub mod e2e;
pub mod git;
pub mod moto;
pub mod proxy;
pub mod scenario;
