#!/usr/bin/env bash
# Starts or stops a fault proxy (tests/faults/aws_faults.py under mitmdump, reverse-proxying to
# the moto of the environment in DIR, see env.sh). Several can run per DIR, one per NAME.
#
#   faults.sh start DIR NAME [options]   start, wait until it answers, print its two URLs
#   faults.sh stop DIR NAME              stop exactly the process it started
#   faults.sh status DIR NAME
#
# Options of start (all optional; the control endpoint changes them at runtime):
#   --seed N           decisions are a function of the seed, the operation and its call count
#   --fail-rate R      share of requests failed before they reach the emulator, split 40% throttle,
#                      20% HTTP 500, 20% HTTP 503, 20% connection reset
#   --lost-rate R      share of mutating requests whose response is lost after they were applied
#   --latency-rate R   share of requests delayed (50-500 ms)
#   --ec-seconds S     hide IDs returned by EC2 and Route 53 creates from reads for S seconds
#   --config JSON      the full configuration (tests/faults/fault_state.py), merged last
# SECURECART_FAULTS_CONFIG in the environment, when set, is such JSON too, merged first.
#
# The proxy's pid goes to DIR/pids/faults-NAME.pid, so `env.sh down DIR` stops it too. Its URLs
# go to DIR/faults-NAME.env: SECURECART_FAULTS_PROXY_URL (an AWS_ENDPOINT_URL for a controller)
# and SECURECART_FAULTS_CONTROL_URL.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${SECURECART_CACHE:-$HOME/.cache/securecart}"
venv="$cache/venv-mitmproxy-11.0.2"

die() { echo "faults.sh: $*" >&2; exit 1; }
(($# >= 3)) || die "usage: faults.sh start|stop|status DIR NAME [options]"
action="$1" dir="$(cd "$2" && pwd)" name="$3"
shift 3
[[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "NAME must be letters, digits, '.', '_' or '-'"
pidfile="$dir/pids/faults-$name.pid"
envfile="$dir/faults-$name.env"
log="$dir/logs/faults-$name.log"

running_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(<"$pidfile")"
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == mitmdump ]] || return 1
  echo "$pid"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile" "$envfile"
}

config_json() {
  python3 - "$@" <<'EOF'
import json, sys
import os
args, config = sys.argv[1:], {"rates": {}}
config.update(json.loads(os.environ.get("SECURECART_FAULTS_CONFIG") or "{}"))
config.setdefault("rates", {})
extra = None
it = iter(args)
for flag in it:
    value = next(it, None)
    if value is None:
        sys.exit(f"faults.sh: {flag} needs a value")
    if flag == "--seed":
        config["seed"] = int(value)
    elif flag == "--fail-rate":
        r = float(value)
        config["rates"].update(throttle=0.4 * r, internal=0.2 * r, unavailable=0.2 * r, reset=0.2 * r)
    elif flag == "--lost-rate":
        config["rates"]["lost"] = float(value)
    elif flag == "--latency-rate":
        config["rates"]["latency"] = float(value)
    elif flag == "--ec-seconds":
        config["eventual_consistency"] = {"seconds": float(value)}
    elif flag == "--config":
        extra = json.loads(value)
    else:
        sys.exit(f"faults.sh: unknown option {flag}")
if extra:
    config.update(extra)
print(json.dumps(config))
EOF
}

start() {
  if running_pid >/dev/null; then
    cat "$envfile"
    return 0
  fi
  [[ -x "$venv/bin/mitmdump" ]] || die "mitmproxy missing ($venv); run tests/controlplane/deps.sh"
  [[ -f "$dir/ports" ]] || die "no environment in $dir (run env.sh up $dir)"
  local moto_port config ports proxy_port control_port pid
  # shellcheck source=/dev/null
  moto_port="$(source "$dir/ports" && echo "$moto_port")"
  config="$(config_json "$@")"
  mkdir -p "$dir/pids" "$dir/logs"
  for _ in 1 2 3; do
    ports="$(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')"
    read -r proxy_port control_port <<<"$ports"
    # Reverse proxy to moto; the Host header and every other header pass through untouched;
    # an upstream connection is opened only for a request that is sent on.
    PYTHONDONTWRITEBYTECODE=1 setsid "$venv/bin/mitmdump" --mode "reverse:http://127.0.0.1:$moto_port" \
      --listen-host 127.0.0.1 --listen-port "$proxy_port" \
      --set keep_host_header=true --set connection_strategy=lazy \
      --set flow_detail=0 --set termlog_verbosity=info \
      -s "$repo/tests/faults/aws_faults.py" \
      --set faults_control_port="$control_port" --set "faults_config=$config" \
      </dev/null >"$log" 2>&1 9>&- &
    pid="$!"
    echo "$pid" >"$pidfile"
    disown "$pid"
    for _ in $(seq 150); do
      # Not running_pid: until setsid has exec'd mitmdump, the process has another name.
      kill -0 "$pid" 2>/dev/null || break
      if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$control_port/healthz" &&
        curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$proxy_port/moto-api/"; then
        printf "export SECURECART_FAULTS_PROXY_URL='http://127.0.0.1:%s'\nexport SECURECART_FAULTS_CONTROL_URL='http://127.0.0.1:%s'\n" \
          "$proxy_port" "$control_port" >"$envfile"
        cat "$envfile"
        return 0
      fi
      sleep 0.1
    done
    # A port taken between choosing and binding: try new ones; anything else is fatal.
    grep -qi 'address already in use' "$log" || break
    stop
  done
  echo "faults.sh: the fault proxy did not start; last lines of $log:" >&2
  tail -n 20 "$log" >&2
  stop
  exit 1
}

case "$action" in
  start) start "$@" ;;
  stop) stop ;;
  status)
    if pid="$(running_pid)"; then echo "faults.sh: $name running (pid $pid)"; cat "$envfile"; else
      echo "faults.sh: $name not running"
      exit 3
    fi
    ;;
  *) die "usage: faults.sh start|stop|status DIR NAME [options]" ;;
esac
