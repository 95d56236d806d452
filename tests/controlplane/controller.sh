#!/usr/bin/env bash
# Starts or stops the controller binary against the environment in DIR (see env.sh).
#   controller.sh start DIR   build if needed, start in the background, wait for /readyz
#   controller.sh stop DIR    stop exactly the process it started
set -euo pipefail
cmd="${1:?usage: controller.sh start|stop DIR}"
dir="$(mkdir -p "${2:?usage: controller.sh start|stop DIR}" && cd "$2" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pidfile="$dir/pids/controller.pid"
mkdir -p "$dir/pids" "$dir/logs"

running() { [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

case "$cmd" in
  start)
    if running; then
      echo "controller: already running (pid $(cat "$pidfile"))"
      exit 0
    fi
    # shellcheck disable=SC1091
    source "$dir/env"
    (cd "$root" && cargo build --quiet -p securecart-controller)
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    setsid nohup "$root/target/debug/securecart-controller" --metrics-addr "127.0.0.1:$port" \
      >"$dir/logs/controller.log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    echo "export SECURECART_METRICS_URL=http://127.0.0.1:$port/metrics" >"$dir/controller.env"
    for _ in $(seq 1 100); do
      if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
        echo "controller: running (pid $(cat "$pidfile"), metrics http://127.0.0.1:$port/metrics, log $dir/logs/controller.log)"
        exit 0
      fi
      running || break
      sleep 0.2
    done
    echo "controller: did not become ready; last log lines:" >&2
    tail -20 "$dir/logs/controller.log" >&2
    exit 1
    ;;
  stop)
    if running; then
      pid="$(cat "$pidfile")"
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
      echo "controller: stopped"
    fi
    rm -f "$pidfile"
    ;;
  *)
    echo "usage: controller.sh start|stop DIR" >&2
    exit 2
    ;;
esac
