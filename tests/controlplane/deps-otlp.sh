#!/usr/bin/env bash
# Installs the OTLP receiver's Python packages (tests/controlplane/otlp_receiver.py: decodes the
# controller's trace exports for tests/e2e/tests/traces.rs) into their own venv (called by
# deps.sh and by otlp.sh; idempotent: a present venv costs nothing). Pinned: opentelemetry-proto
# brings the generated OTLP messages, protobuf the runtime they need.
# With --print-venv, the venv's directory is the only thing printed on stdout.
set -euo pipefail
cache="${SECURECART_CACHE:-$HOME/.cache/securecart}"
proto_version=1.45.2
protobuf_version=7.36.2
venv="$cache/venv-otlp-$proto_version-$protobuf_version"

print_venv=false
[[ "${1:-}" == --print-venv ]] && print_venv=true
say() { if $print_venv; then echo "$*" >&2; else echo "$*"; fi; }
done_() { if $print_venv; then echo "$venv"; fi; exit 0; }

check() { "$venv/bin/python" -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2' 2>/dev/null; }

if [[ -x "$venv/bin/python" ]] && check; then
  say "deps-otlp.sh: opentelemetry-proto $proto_version present ($venv)"
  done_
fi
say "deps-otlp.sh: installing opentelemetry-proto==$proto_version protobuf==$protobuf_version into $venv"
python=/usr/bin/python3
[[ -x "$python" ]] || python="$(command -v python3)"
rm -rf "$venv"
mkdir -p "$cache"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check \
  "opentelemetry-proto==$proto_version" "protobuf==$protobuf_version" >&2
check || { echo "deps-otlp.sh: the OTLP messages cannot be imported after install" >&2; exit 1; }
done_
