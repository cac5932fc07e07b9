#!/usr/bin/env bash
# Runs one cargo-fuzz (libFuzzer) target for a while, then merges what it found into the committed
# corpus (only inputs that add coverage).
#
#   scripts/fuzz.sh TARGET [SECONDS]   # default 60 seconds
#   scripts/fuzz.sh --list             # the targets
#   scripts/fuzz.sh --tmin TARGET FILE # minimizes a crashing input (writes fuzz/artifacts/TARGET/minimized-*)
#   scripts/fuzz.sh --merge TARGET     # merges fuzz/corpus-work/TARGET into the committed corpus again
#
# Works on the stable toolchain and offline (crates from crates.io only): libFuzzer's coverage
# instrumentation (`-Cpasses=sancov-module`, `-Cllvm-args=...`) needs no nightly; only sanitizers do.
# By default no sanitizer runs (the core has no `unsafe`); set EKSYNC_FUZZ_SANITIZER=address and
# EKSYNC_FUZZ_TOOLCHAIN=nightly to run under AddressSanitizer where a nightly toolchain is installed.
# Should a cargo-fuzz version ask for `-Z` flags on stable, EKSYNC_FUZZ_BOOTSTRAP=1 sets
# RUSTC_BOOTSTRAP=1 for the build.
#
# New inputs go to fuzz/corpus-work/TARGET (not committed); a crash stops the run, is written to
# fuzz/artifacts/TARGET/crash-*, and the script exits non-zero. Each crash, once fixed, is copied to
# fuzz/corpus/TARGET/crash-<what> so the test suite (crates/eksync-core/tests/fuzz_corpus.rs)
# replays it. Needs cargo-fuzz: `cargo install cargo-fuzz`. The machine is shared: run it under
# `nice -n 10`, one target at a time.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"

toolchain="${EKSYNC_FUZZ_TOOLCHAIN:-stable}"
sanitizer="${EKSYNC_FUZZ_SANITIZER:-none}"
if [ "${EKSYNC_FUZZ_BOOTSTRAP:-0}" = 1 ]; then
    export RUSTC_BOOTSTRAP=1
fi
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"

fuzz() {
    cargo "+$toolchain" fuzz "$@"
}

# libFuzzer options for every run: a slow input (10 s) or 2 GB of memory counts as a crash;
# inputs up to 64 KiB (the seeds are repositories of a few files).
common=(-timeout=10 -rss_limit_mb=2048 -max_len=65536)

# Merges fuzz/corpus-work/$target into the committed corpus.
merge() {
    # Keep only what adds coverage to the committed corpus, from inputs no larger than the target's
    # budget per file (the committed corpora stay a few MB and replay in seconds; the whole work
    # corpus stays in corpus-work/ for the next run). Edges only (-use_counters=0): hit counts would
    # keep hundreds of near-copies.
    case "$target" in
        preview_markdown) keep_max=8192 ;;
        analyze | plan_markdown | cfn_diff) keep_max=4096 ;;
        *) keep_max=65536 ;;
    esac
    keep_max="${EKSYNC_FUZZ_KEEP_MAX:-$keep_max}"
    work="corpus-work/$target"
    small="$(mktemp -d)"
    trap 'rm -rf "$small"' EXIT
    find "$work" -type f -size -"$((keep_max + 1))"c -exec cp -t "$small" {} +
    fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" "$small" -- "${common[@]}" -merge=1 -use_counters=0
}

case "${1:-}" in
    "" | -h | --help)
        sed -n '2,22p' "$0"
        exit 2
        ;;
    --list)
        fuzz list
        exit 0
        ;;
    --merge)
        # Re-merges the work corpus (after changing the budget, or pruning the committed corpus).
        target="${2:?target}"
        merge
        exit 0
        ;;
    --tmin)
        target="${2:?target}"
        file="${3:?crashing input}"
        fuzz tmin --sanitizer "$sanitizer" "$target" "$file" -- "${common[@]}"
        exit 0
        ;;
esac

target="$1"
seconds="${2:-60}"
if ! fuzz list | grep -x "$target" >/dev/null; then
    echo "unknown fuzz target: $target (see scripts/fuzz.sh --list)" >&2
    exit 2
fi

work="corpus-work/$target"
mkdir -p "$work" "corpus/$target"
start=$(date +%s)
# The first folder receives new inputs; the committed corpus seeds the run.
fuzz run --sanitizer "$sanitizer" "$target" "$work" "corpus/$target" -- \
    "${common[@]}" -max_total_time="$seconds" -print_final_stats=1
echo "fuzz $target: ran $(($(date +%s) - start)) s without a crash"
merge
echo "fuzz $target: corpus/$target holds $(find "corpus/$target" -type f | wc -l) files"
