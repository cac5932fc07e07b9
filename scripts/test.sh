#!/usr/bin/env bash
# The whole test suite, as CI runs it: setup (packages, pinned moto), formatting, lints, every test.
# Set EKSYNC_SKIP_LINT=1 to run only the tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
export EKSYNC_MOTO_SERVER="$root/.venv/bin/moto_server"
# A clean CI build gains nothing from incremental compilation and pays for it.
if [ "${CI:-}" = true ]; then export CARGO_INCREMENTAL=0; fi
if [ "${EKSYNC_SKIP_LINT:-0}" != 1 ]; then
  cargo fmt --all -- --check
  cargo clippy --workspace --all-targets --locked -- -D warnings
fi
cargo test --workspace --locked
