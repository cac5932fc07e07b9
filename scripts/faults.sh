#!/usr/bin/env bash
# Runs the fault matrix (tests/faults.rs: issue 12, item 4) against moto and testkit and writes
# target/reports/faults.md: one row per case (case, outcome, final state), sorted, then prints it.
# A case that fails writes no row of its own; it is listed as FAILED and the script exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

export EKSYNC_MOTO_SERVER="${EKSYNC_MOTO_SERVER:-$PWD/.venv/bin/moto_server}"
mkdir -p target/reports
rows="$(mktemp)"
log="$(mktemp)"
trap 'rm -f "$rows" "$log"' EXIT

start=$(date +%s)
status=0
EKSYNC_FAULTS_REPORT="$rows" cargo test --test faults 2>&1 | tee "$log" || status=$?
took=$(( $(date +%s) - start ))

out=target/reports/faults.md
{
  echo "# Fault matrix"
  echo
  echo "\`cargo test --test faults\` against moto and testkit, $(date -u +%Y-%m-%dT%H:%M:%SZ), ${took}s."
  echo "Every case ends with a re-run and a final \`diff\` that must exit 0."
  echo
  echo "| case | outcome | final state |"
  echo "|---|---|---|"
  sort "$rows"
  # Cases that failed: named from the test harness's summary.
  sed -n 's/^    \([a-z0-9_]*\)$/\1/p' "$log" | sort -u | while read -r t; do
    echo "| $t | **FAILED** (see \`cargo test --test faults $t\`) | not converged |"
  done
} > "$out"
cat "$out"
if [ "$status" -ne 0 ]; then
  echo "fault matrix: some cases failed" >&2
  exit 1
fi
