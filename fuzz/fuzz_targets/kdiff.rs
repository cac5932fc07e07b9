//! `cargo fuzz run kdiff`: the body is `eksync_core::fuzz_targets::kdiff`, which the test suite also
//! runs on every file of `fuzz/corpus/kdiff/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eksync_core::fuzz_targets::kdiff(data));
