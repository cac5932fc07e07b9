//! Shared harness for the AWS tests: moto and the scenario inputs.

pub mod e2e;
pub mod moto;
pub mod scenario;
