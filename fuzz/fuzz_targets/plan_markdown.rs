//! `cargo fuzz run plan_markdown`: the body is `eksync_core::fuzz_targets::plan_markdown`, which the test suite also
//! runs on every file of `fuzz/corpus/plan_markdown/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eksync_core::fuzz_targets::plan_markdown(data));
