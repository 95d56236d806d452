# Sourced by env.sh and node.sh: processes started and stopped by pid, free ports, and a
# private certificate authority. The caller sets $dir (its state directory).

# Prints the pid in a pid file if that process is alive and is the one the file recorded:
# it must have started at most 60 s before the file was written, so a recycled pid is never
# taken for it.
recorded_pid() {
  local file="$1" pid btime ticks start written
  [[ -f "$file" ]] || return 1
  pid="$(<"$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  btime="$(awk '$1 == "btime" {print $2}' /proc/stat)"
  # Field 22 of /proc/PID/stat is the start time in clock ticks after boot; the fields are
  # counted after the ")" closing the command name, which may itself contain spaces.
  ticks="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $20}')" || return 1
  [[ -n "$ticks" ]] || return 1
  start=$((btime + ticks / $(getconf CLK_TCK)))
  written="$(stat -c %Y "$file")"
  ((start <= written + 1 && start >= written - 60)) || return 1
  echo "$pid"
}

# TERM, up to $grace seconds to exit, then KILL. Each component was started with setsid, so
# it leads its own process group: signalling the group also reaches any child it spawned.
stop_pids() {
  local grace="$1" pid alive deadline
  shift
  deadline=$((SECONDS + grace))
  for pid in "$@"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  while ((SECONDS < deadline)); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || return 0
    sleep 0.1
  done
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "pid $pid ignored TERM for ${grace}s; killing it" >&2
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  # KILL is asynchronous; they are not our children after a re-run, so poll instead of wait.
  for _ in $(seq 50); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || return 0
    sleep 0.1
  done
}

# Starts one component detached: setsid puts it in its own session, so it has no controlling
# terminal (no SIGHUP when the calling shell goes) and its pid is also its process group.
# Without job control the background child is not a group leader, so setsid execs in place
# and $! is the component's own pid. fds 8 and 9 (the callers' locks) are closed so a daemon
# never holds a lock.
launch() {
  local name="$1"
  shift
  setsid "$@" </dev/null >"$dir/logs/$name.log" 2>&1 8>&- 9>&- &
  echo "$!" >"$dir/pids/$name.pid"
  # Not this shell's job any more: no "Killed" notice if a failed start has to kill it.
  disown "$!"
}

# etcd on loopback for one apiserver. Peer URLs are given explicitly so etcd's defaults
# (localhost:2380) never clash with another environment or a system etcd. The data is thrown
# away at `down`, so fsync is skipped: it makes every write wait for the disk.
#   launch_etcd BINARY NAME DATA_DIR CLIENT_PORT PEER_PORT
launch_etcd() {
  local bin="$1" name="$2" data="$3" client="http://127.0.0.1:$4" peer="http://127.0.0.1:$5"
  launch etcd "$bin" --name "$name" --data-dir "$data" --unsafe-no-fsync \
    --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" --initial-cluster "$name=$peer"
}

# A failed start's reason on stderr, with the end of the log that explains it.
#   report_failure PREFIX MESSAGE [LOG]
report_failure() {
  echo "$1: $2" >&2
  if [[ -n "${3:-}" && -f "$3" ]]; then
    echo "---- last lines of $3 ----" >&2
    tail -n 30 "$3" >&2
    echo "----" >&2
  fi
}

# N distinct free ports on ADDR (default loopback), chosen by the kernel. All sockets are held
# open together so they differ from one another; a race with another program is caught at start.
free_ports() {
  python3 - "$1" "${2:-127.0.0.1}" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind((sys.argv[2], 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# A private CA in the current directory (ca.crt, ca.key).
pki_ca() {
  openssl req -x509 -new -nodes -newkey rsa:2048 -keyout ca.key -out ca.crt -days 365 \
    -subj "/CN=securecart-test-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# NAME.crt and NAME.key signed by the CA in the current directory.
#   pki_sign NAME SUBJECT USAGE [SAN]   USAGE: serverAuth, clientAuth or both comma-separated
pki_sign() {
  local name="$1" subject="$2" usage="$3" san="${4:-}"
  openssl req -new -nodes -newkey rsa:2048 -keyout "$name.key" -out "$name.csr" -subj "$subject" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -z "$san" ]] || echo "subjectAltName=$san"
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -days 365 \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

# Service-account tokens are signed with sa.key and verified with its public half, sa.pub.
pki_service_account_keys() {
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
  openssl pkey -in sa.key -pubout -out sa.pub
}

# A kubeconfig with a client certificate, readable by its owner only.
#   write_kubeconfig FILE SERVER CA_FILE CERT_FILE KEY_FILE [USER]
write_kubeconfig() {
  local file="$1" server="$2" ca crt key user="${6:-admin}"
  ca="$(base64 -w0 <"$3")"
  crt="$(base64 -w0 <"$4")"
  key="$(base64 -w0 <"$5")"
  (
    umask 077
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: securecart-test
  cluster:
    server: $server
    certificate-authority-data: $ca
users:
- name: $user
  user:
    client-certificate-data: $crt
    client-key-data: $key
contexts:
- name: securecart-test
  context:
    cluster: securecart-test
    user: $user
current-context: securecart-test
EOF
  )
}
