#!/usr/bin/env bash
# Runs a throwaway control plane on loopback for the end-to-end tests: etcd (built by
# build-etcd.sh), a real kube-apiserver (built by build.sh) and the moto AWS emulator, each
# on a free port.
#
#   env.sh up DIR      start (or report that DIR's environment is already up)
#   env.sh up DIR --faults   also start a fault proxy in front of moto (faults.sh, NAME default);
#                      its URLs are appended to DIR/env as SECURECART_FAULTS_*
#   env.sh down DIR    stop exactly the processes recorded in DIR/pids (the controller's
#                      too, if controller.sh left one), drop etcd's data
#   env.sh status DIR  show what is running
#
# Everything lives under DIR: pki/, logs/, pids/, etcd/, kubeconfig, ports and env (a file
# to `source`). Several DIRs can be up at once; they share nothing but the binaries.
# Run tests/controlplane/deps.sh once first to install the binaries.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${SECURECART_CACHE:-$HOME/.cache/securecart}"
venv="$cache/venv-moto-5.2.5"
components=(etcd kube-apiserver moto)
wait_seconds=60

# shellcheck source=lib.sh
source "$here/lib.sh"

die() { echo "env.sh: $*" >&2; exit 1; }
say() { echo "env.sh: $*"; }

usage() { die "usage: env.sh up|down|status DIR"; }

# The executable name each component's pid must show, so a recycled pid is never killed.
proc_name() {
  case "$1" in
    etcd) echo etcd ;;
    kube-apiserver) echo kube-apiserver ;;
    moto) echo moto_server ;;
  esac
}

# Prints the pid of one of our components if it is alive and really that program.
live_pid() {
  local pid
  pid="$(recorded_pid "$dir/pids/$1.pid")" || return 1
  # The kernel's comm name; for the moto_server script (run by python) it is the script name.
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$(proc_name "$1")" ]] || return 1
  echo "$pid"
}

# Pid files in DIR/pids written by other scripts (tests/controlplane/controller.sh).
other_pid_files() {
  local f
  for f in "$dir"/pids/*.pid; do
    [[ -f "$f" ]] || continue
    case "$(basename "$f" .pid)" in
      etcd | kube-apiserver | moto) ;;
      *) echo "$f" ;;
    esac
  done
}

# --- health checks -------------------------------------------------------------------------
apiserver_ready() {
  [[ -f "$dir/kubeconfig" ]] || return 1
  [[ "$("$k8s_dir/kubectl" --kubeconfig "$dir/kubeconfig" --request-timeout=5s \
    get --raw /readyz 2>/dev/null)" == ok ]]
}

moto_ready() {
  curl -sf -o /dev/null --max-time 5 "http://127.0.0.1:$moto_port/moto-api/"
}

load_ports() {
  [[ -f "$dir/ports" ]] || return 1
  # shellcheck source=/dev/null
  source "$dir/ports"
}

is_up() {
  local c want_k8s="$k8s_dir" want_etcd="$etcd_bin"
  for c in "${components[@]}"; do live_pid "$c" >/dev/null || return 1; done
  load_ports || return 1
  # Running binaries of another version means "not up": restart with the current ones.
  if [[ "$want_k8s" != "$k8s_dir" || "$want_etcd" != "$etcd_bin" ]]; then
    k8s_dir="$want_k8s" etcd_bin="$want_etcd"
    return 1
  fi
  apiserver_ready && moto_ready
}

# --- stopping --------------------------------------------------------------------------------
# Stops every process recorded in DIR/pids and prints how many it stopped. Clients of the
# apiserver recorded there by other scripts (the controller) go first, so they do not log
# errors against a vanishing apiserver; the apiserver goes before etcd: on TERM it still
# writes to etcd (lease and identity clean-up) and hangs retrying if etcd is gone first.
# The grace period (default 10 s) is shorter when a start failed: an apiserver that never
# reached etcd does not exit on TERM, and there is nothing to shut down cleanly.
stop_all() {
  local grace="${1:-10}" c f pid n=0 clients=() servers=() store=()
  while IFS= read -r f; do
    if pid="$(recorded_pid "$f")"; then clients+=("$pid"); fi
  done < <(other_pid_files)
  for c in kube-apiserver moto; do
    if pid="$(live_pid "$c")"; then servers+=("$pid"); fi
  done
  if pid="$(live_pid etcd)"; then store+=("$pid"); fi
  if ((${#clients[@]})); then stop_pids "$grace" "${clients[@]}"; fi
  if ((${#servers[@]})); then stop_pids "$grace" "${servers[@]}"; fi
  if ((${#store[@]})); then stop_pids "$grace" "${store[@]}"; fi
  n=$((${#clients[@]} + ${#servers[@]} + ${#store[@]}))
  rm -f "$dir"/pids/*.pid
  # The next `up` starts from an empty etcd.
  rm -rf "$dir/etcd"
  echo "$n"
}

# --- starting --------------------------------------------------------------------------------
gen_pki() {
  local pki="$dir/pki"
  rm -rf "$pki"
  mkdir -p "$pki"
  (
    cd "$pki"
    umask 077
    # A private CA signs both the serving certificate and the admin client certificate;
    # kube-apiserver trusts it for client auth (--client-ca-file).
    pki_ca
    # 10.0.0.1 is the first address of --service-cluster-ip-range, the `kubernetes` service.
    pki_sign apiserver "/CN=kube-apiserver" serverAuth \
      "IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
    # Group system:masters is bound to cluster-admin by the bootstrap RBAC policy.
    pki_sign admin "/O=system:masters/CN=admin" clientAuth
    pki_service_account_keys
  )
}

write_env() {
  cat >"$dir/env" <<EOF
# Written by tests/controlplane/env.sh up; \`source\` it to talk to this environment.
export KUBECONFIG='$dir/kubeconfig'
export AWS_ENDPOINT_URL='http://127.0.0.1:$moto_port'
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
# The kubectl built with the apiserver comes first, ahead of any system kubectl.
case ":\$PATH:" in
  *':$k8s_dir:'*) ;;
  *) export PATH='$k8s_dir':"\$PATH" ;;
esac
EOF
}

fail_up() {
  report_failure env.sh "$1" "${2:-}"
  stop_all 3 >/dev/null
  exit 1
}

# Fails the start if a component has already exited, naming its log.
check_alive() {
  local c
  for c in "${components[@]}"; do
    live_pid "$c" >/dev/null || fail_up "$c exited during start" "$dir/logs/$c.log"
  done
}

start_once() {
  read -r etcd_port etcd_peer_port apiserver_port moto_port <<<"$(free_ports 4)"
  # Read back by status and by a later `up` that finds the environment running.
  printf "%s='%s'\n" etcd_port "$etcd_port" etcd_peer_port "$etcd_peer_port" \
    apiserver_port "$apiserver_port" moto_port "$moto_port" \
    k8s_dir "$k8s_dir" etcd_bin "$etcd_bin" >"$dir/ports"

  rm -rf "$dir/etcd"
  launch_etcd "$etcd_bin" securecart-test "$dir/etcd" "$etcd_port" "$etcd_peer_port"

  launch moto "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port"

  # The flags controller-runtime's envtest uses, with our own certificates.
  # --endpoint-reconciler-type=none: the apiserver would otherwise publish its advertise
  # address in the `kubernetes` Endpoints every 10 s, and Endpoints refuse loopback addresses
  # (a logged error each time). The `kubernetes` Service itself is still created.
  launch kube-apiserver "$k8s_dir/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --cert-dir "$dir/pki" \
    --tls-cert-file "$dir/pki/apiserver.crt" \
    --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" \
    --secure-port "$apiserver_port" \
    --bind-address 127.0.0.1 \
    --advertise-address 127.0.0.1 \
    --endpoint-reconciler-type none \
    --service-cluster-ip-range 10.0.0.0/24 \
    --allow-privileged=true \
    --disable-admission-plugins ServiceAccount \
    --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$dir/pki/sa.pub" \
    --service-account-signing-key-file "$dir/pki/sa.key"
}

# A port taken between free_ports and the bind shows up as "address already in use".
port_clash() {
  local c
  for c in "${components[@]}"; do
    grep -qi 'address already in use' "$dir/logs/$c.log" 2>/dev/null && return 0
  done
  return 1
}

wait_ready() {
  local deadline=$((SECONDS + wait_seconds)) api=0 moto=0
  while ((SECONDS < deadline)); do
    check_alive
    ((moto)) || { moto_ready && moto=1; } || true
    ((api)) || { apiserver_ready && api=1; } || true
    ((api && moto)) && return 0
    sleep 0.3
  done
  ((moto)) || fail_up "moto did not answer within ${wait_seconds}s" "$dir/logs/moto.log"
  fail_up "kube-apiserver /readyz not ok within ${wait_seconds}s" "$dir/logs/kube-apiserver.log"
}

apply_crds() {
  local crds=() names
  shopt -s nullglob
  crds=("$repo"/crds/*.yaml "$repo"/crds/*.yml)
  shopt -u nullglob
  ((${#crds[@]})) || return 0
  local kubectl=("$k8s_dir/kubectl" --kubeconfig "$dir/kubeconfig")
  names="$("${kubectl[@]}" apply --server-side --field-manager=securecart-testenv \
    -f "$repo/crds/" -o name 2>"$dir/logs/crds.log")" ||
    fail_up "kubectl apply -f crds/ failed" "$dir/logs/crds.log"
  names="$(grep '^customresourcedefinition' <<<"$names" || true)"
  if [[ -n "$names" ]]; then
    # shellcheck disable=SC2086 # one argument per CRD name
    "${kubectl[@]}" wait --for=condition=Established --timeout=60s $names >>"$dir/logs/crds.log" 2>&1 ||
      fail_up "CRDs did not become Established" "$dir/logs/crds.log"
  fi
  say "applied $(grep -c . <<<"$names" || true) CRD(s) from crds/"
}

cmd_up() {
  if is_up; then
    say "already up in $dir (apiserver https://127.0.0.1:$apiserver_port, moto http://127.0.0.1:$moto_port)"
    say "use: source $dir/env"
    return 0
  fi
  local t0=$SECONDS n
  # Leftovers of a half-started or crashed environment in this DIR are stopped first.
  n="$(stop_all)"
  ((n == 0)) || say "stopped $n leftover process(es) from a previous run"

  [[ -x "$venv/bin/moto_server" ]] || die "moto missing ($venv); run tests/controlplane/deps.sh"
  command -v openssl >/dev/null || die "openssl missing; run tests/controlplane/deps.sh"

  mkdir -p "$dir/logs" "$dir/pids"
  # A stale env file would point at dead ports if this start fails; it is rewritten when ready.
  rm -f "$dir/env"
  gen_pki
  local attempt
  for attempt in 1 2 3; do
    start_once
    write_kubeconfig "$dir/kubeconfig" "https://127.0.0.1:$apiserver_port" \
      "$dir/pki/ca.crt" "$dir/pki/admin.crt" "$dir/pki/admin.key"
    # Give a lost port race a moment to show before deciding to retry with new ports.
    sleep 0.5
    if port_clash; then
      say "port clash on attempt $attempt; retrying with new ports"
      stop_all 3 >/dev/null
      continue
    fi
    break
  done
  wait_ready
  write_env
  apply_crds
  say "up in $((SECONDS - t0))s: etcd 127.0.0.1:$etcd_port, apiserver https://127.0.0.1:$apiserver_port, moto http://127.0.0.1:$moto_port"
  say "logs in $dir/logs; use: source $dir/env"
}

cmd_down() {
  local n
  n="$(stop_all)"
  say "stopped $n process(es) in $dir"
}

cmd_status() {
  local c f pid up=0
  for c in "${components[@]}"; do
    if pid="$(live_pid "$c")"; then
      say "$c running (pid $pid)"
      up=$((up + 1))
    else
      say "$c not running"
    fi
  done
  while IFS= read -r f; do
    c="$(basename "$f" .pid)"
    if pid="$(recorded_pid "$f")"; then say "$c running (pid $pid)"; else say "$c not running"; fi
  done < <(other_pid_files)
  if ((up)) && load_ports; then
    say "ports: etcd $etcd_port, apiserver $apiserver_port, moto $moto_port"
    if apiserver_ready; then say "apiserver /readyz ok"; else say "apiserver /readyz not ok"; fi
    if moto_ready; then say "moto answers"; else say "moto does not answer"; fi
  fi
  ((up == ${#components[@]})) || return 3
}

(($# == 2)) || [[ $# == 3 && "$1" == up && "$3" == --faults ]] || usage
action="$1"
dir="$2"
faults="${3:-}"
case "$action" in
  up) mkdir -p "$dir" ;;
  down | status)
    if [[ ! -d "$dir" ]]; then
      say "nothing in $dir"
      if [[ "$action" == down ]]; then exit 0; else exit 3; fi
    fi
    ;;
  *) usage ;;
esac
dir="$(cd "$dir" && pwd)"
# Only `up` asks the build scripts (cached per version; they print where the binaries are).
# The other commands read the paths recorded in DIR/ports, so they never trigger a build.
k8s_dir="" etcd_bin=""
if [[ "$action" == up ]]; then
  k8s_dir="$("$here/build.sh")"
  etcd_bin="$("$here/build-etcd.sh")/etcd"
fi

# One env.sh at a time per DIR, so two concurrent `up`s cannot interleave.
exec 9>"$dir/.lock"
flock 9

"cmd_$action"
if [[ -n "$faults" ]]; then
  # The proxy's pid file sits in DIR/pids, so `down` stops it with the controller.
  "$here/faults.sh" start "$dir" default >/dev/null
  grep -q SECURECART_FAULTS_ "$dir/env" || cat "$dir/faults-default.env" >>"$dir/env"
  say "fault proxy $(grep PROXY_URL "$dir/faults-default.env" | cut -d"'" -f2), control $(grep CONTROL_URL "$dir/faults-default.env" | cut -d"'" -f2)"
fi
