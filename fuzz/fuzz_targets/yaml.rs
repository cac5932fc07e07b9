//! `cargo fuzz run yaml`: the body is `eksync_core::fuzz_targets::yaml`, which the test suite also
//! runs on every file of `fuzz/corpus/yaml/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eksync_core::fuzz_targets::yaml(data));
