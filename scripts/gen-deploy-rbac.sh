#!/usr/bin/env bash
# Regenerates deploy/base/rbac.yaml: the least-privilege RBAC the agent needs to reconcile
# examples-repo/ (and for its own Sync object, Lease and Events), from the eksync built from this
# checkout. tests/deploy.rs fails when the file differs from this output, so run this after a
# change to examples-repo/ or to `eksync permissions`.
#   scripts/gen-deploy-rbac.sh            build if needed (cargo build --bin eksync) and write
#   EKSYNC_BIN=path/to/eksync scripts/...  use that binary instead
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bin=${EKSYNC_BIN:-}
if [ -z "$bin" ]; then
  cargo build --quiet --bin eksync
  target=${CARGO_TARGET_DIR:-$root/target}
  case "$target" in /*) ;; *) target="$root/$target" ;; esac
  bin="$target/debug/eksync"
fi

out=deploy/base/rbac.yaml
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$bin" permissions examples-repo --for kubernetes --service-account eksync-system/eksync > "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "gen-deploy-rbac: wrote $out ($(grep -c '^kind:' "$out") objects)"
