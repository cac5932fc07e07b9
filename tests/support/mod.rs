//! Shared harness for the AWS tests: moto and the scenario inputs.

pub mod moto;
pub mod scenario;
