#!/usr/bin/env bash
# Installs the fault proxy's mitmproxy into its own venv (called by deps.sh; idempotent: a
# present venv costs nothing). mitmproxy 11.0.2 is the newest release that runs on Debian
# bookworm's Python 3.11 (12.x needs 3.12). See tests/faults/aws_faults.py for why mitmproxy.
set -euo pipefail
cache="${SECURECART_CACHE:-$HOME/.cache/securecart}"
mitmproxy_version=11.0.2
venv="$cache/venv-mitmproxy-$mitmproxy_version"

if [[ -x "$venv/bin/mitmdump" ]]; then
  echo "deps-faults.sh: mitmproxy $mitmproxy_version present ($venv)"
  exit 0
fi
echo "deps-faults.sh: installing mitmproxy==$mitmproxy_version into $venv"
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)"
rm -rf "$venv"
mkdir -p "$cache"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "mitmproxy==$mitmproxy_version"
[[ -x "$venv/bin/mitmdump" ]] || { echo "deps-faults.sh: mitmdump missing after install" >&2; exit 1; }
