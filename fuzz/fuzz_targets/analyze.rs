//! `cargo fuzz run analyze`: the body is `eksync_core::fuzz_targets::analyze`, which the test suite also
//! runs on every file of `fuzz/corpus/analyze/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eksync_core::fuzz_targets::analyze(data));
