//! `cargo fuzz run cfn_diff`: the body is `eksync_core::fuzz_targets::cfn_diff`, which the test suite also
//! runs on every file of `fuzz/corpus/cfn_diff/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eksync_core::fuzz_targets::cfn_diff(data));
