//! `cargo fuzz run refs`: the body is `eksync_core::fuzz_targets::refs`, which the test suite also
//! runs on every file of `fuzz/corpus/refs/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eksync_core::fuzz_targets::refs(data));
