//! `cargo fuzz run preview_markdown`: the body is `eksync_core::fuzz_targets::preview_markdown`, which the test suite also
//! runs on every file of `fuzz/corpus/preview_markdown/`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| eksync_core::fuzz_targets::preview_markdown(data));
