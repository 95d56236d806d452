#!/usr/bin/env bash
# Runs the tests' OTLP trace receiver (otlp_receiver.py) in the foreground, in the venv
# deps-otlp.sh installs (installed here first if missing, so a test needs no manual step).
# Arguments go to the receiver: --port-file FILE --out FILE [--port N].
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$("$here/deps-otlp.sh" --print-venv)"
exec "$venv/bin/python" "$here/otlp_receiver.py" "$@"
