//! Shared harness for the end-to-end tests: the binary, moto and the scenario inputs.

pub mod cli;
pub mod e2e;
pub mod moto;
pub mod proxy;
pub mod scenario;
