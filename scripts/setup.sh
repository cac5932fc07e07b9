#!/usr/bin/env bash
# Installs everything eksync's tests need on a fresh machine: Debian packages for the -sys crates (git2
# with https and ssh), git (daemon, http-backend) and OpenSSH's server and client for the Git source tests, a pinned moto (local AWS API) in a virtualenv at .venv, and Debian's kubectl when none is installed
# (it renders deploy/base). Idempotent and quick when
# everything is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

need_apt=()
# git ships `git daemon` and `git http-backend`; openssh-server gives the Git source tests a real sshd.
for pkg in pkg-config libssl-dev zlib1g-dev git openssh-server openssh-client python3-venv; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# kubectl renders deploy/base (`kubectl kustomize`, tests/deploy.rs). Where none is on PATH,
# Debian's kubernetes-client (kubectl 1.20, whose kustomize the base is written for).
if ! command -v kubectl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq kubernetes-client >/dev/null
fi

venv="$root/.venv"
req="$root/scripts/requirements-test.txt"
stamp="$venv/.requirements.sha"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/moto_server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating $venv with pinned moto"
  python3 -m venv "$venv" 2>/dev/null || { rm -rf "$venv"; python3 -m venv --without-pip "$venv"; }
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi
echo "setup: ok (moto: $("$venv/bin/python" -c 'import moto; print(moto.__version__)'))"
