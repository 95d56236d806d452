#!/usr/bin/env bash
# Installs what the local control plane (tests/controlplane/env.sh) needs on a fresh
# Debian bookworm machine: openssl, curl and Python from apt, moto, mitmproxy (the fault
# proxy) and the tests' OTLP receiver in venvs, and etcd, kube-apiserver, kubectl and helm
# built from Go modules (the Go toolchain must be present).
# Every step is skipped when already done, so running it again costs a fraction of a second.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SECURECART_CACHE:-$HOME/.cache/securecart}"
moto_version=5.2.5
venv="$cache/venv-moto-$moto_version"

say() { echo "deps.sh: $*"; }

# --- Debian packages -------------------------------------------------------------------
# python3-venv is needed for the moto venv (Debian splits ensurepip out of python3). etcd
# is not taken from Debian: bookworm's 3.4.23 lacks what kube-apiserver 1.35 needs for
# streaming lists (see etcd/go.mod), so build-etcd.sh builds 3.6.5 below.
# shellcheck source=apt.sh
source "$here/apt.sh"
apt_ensure openssl curl python3 python3-venv

# --- moto (AWS emulator) ---------------------------------------------------------------
# A private venv pins the emulator version the tests were written against and keeps it out
# of the system Python. Debian's interpreter is preferred: it stays put, whereas a pyenv or
# other PATH python3 may change under the venv.
if [[ -x "$venv/bin/moto_server" ]]; then
  say "moto $moto_version present ($venv)"
else
  say "installing moto[server]==$moto_version into $venv"
  python=/usr/bin/python3
  [[ -x "$python" ]] || python="$(command -v python3)"
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "moto[server]==$moto_version"
  [[ -x "$venv/bin/moto_server" ]] || { echo "deps.sh: moto_server missing after install" >&2; exit 1; }
fi

# --- mitmproxy (the fault proxy, tests/faults/) -------------------------------------------
"$here/deps-faults.sh" | sed 's/^deps-faults.sh/deps.sh/'

# --- the OTLP receiver (tests/e2e/tests/traces.rs) -------------------------------------------
"$here/deps-otlp.sh" | sed 's/^deps-otlp.sh/deps.sh/'

# --- etcd, kube-apiserver and kubectl ----------------------------------------------------
# Both scripts are cached per version and print the directory holding the binaries.
etcd_dir="$("$here/build-etcd.sh")"
say "etcd present ($etcd_dir)"
k8s_dir="$("$here/build.sh")"
say "kube-apiserver and kubectl present ($k8s_dir)"

# --- helm (deploy/ checks) -------------------------------------------------------------------
helm_dir="$("$here/build-helm.sh")"
say "helm present ($helm_dir)"
