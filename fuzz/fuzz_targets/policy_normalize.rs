//! `cargo fuzz run policy_normalize`: the body is `eksync_core::fuzz_targets::policy_normalize`, which the test suite also
//! runs on every file of `fuzz/corpus/policy_normalize/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eksync_core::fuzz_targets::policy_normalize(data));
