#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, for running the operator as pods:
# etcd, kube-apiserver (Node and RBAC authorization, ServiceAccount admission),
# kube-controller-manager, kube-scheduler, containerd with runc, a kubelet, kube-proxy
# (iptables) and the CNI bridge plugin, plus the moto AWS emulator. Every process is
# started and stopped by pid, like env.sh.
#
#   node.sh up DIR              start (or report that DIR's node is already up)
#   node.sh import DIR FILE...  import OCI image archives into the node's containerd
#   node.sh down DIR            stop everything, undo every change to the machine, check it
#   node.sh status DIR          show what is running
#
# The node needs root and changes the machine (all undone by `down`, and by the next `up` if
# a run was killed before its `down`): the address 198.51.100.10/32 on lo (the node's, the
# apiserver's and moto's address), the bridge scbr0 with pods in 10.244.0.0/24, iptables
# chains of kube-proxy, cgroups under /kubepods, and the sysctls the kubelet and the bridge
# plugin set. Files live in DIR, except what the kubelet insists on (/var/log/containers).
# Only one node can run on a machine at a time; /run/securecart-node records which DIR has it.
# Run tests/controlplane/deps-node.sh once first.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SECURECART_CACHE:-$HOME/.cache/securecart}"
venv="$cache/venv-moto-5.2.5"
# shellcheck source=lib.sh
source "$here/lib.sh"

# RFC 5737 documentation range: never routed, and not the machine's own uplink address.
node_ip=198.51.100.10
node_name=securecart-node
pod_cidr=10.244.0.0/24
service_cidr=10.0.0.0/24
apiserver_port=6443
bridge=scbr0
machine=/run/securecart-node
components=(etcd moto kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy)
wait_seconds=90

die() { echo "node.sh: $*" >&2; exit 1; }
say() { echo "node.sh: $*"; }
usage() { die "usage: node.sh up|down|status DIR | node.sh import DIR FILE..."; }

# The executable name of each component's pid (/proc/PID/comm, 15 characters at most).
proc_name() {
  case "$1" in
    moto) echo moto_server ;;
    kube-controller-manager) echo kube-controller ;;
    *) echo "$1" ;;
  esac
}

live_pid() {
  local pid
  pid="$(recorded_pid "$dir/pids/$1.pid")" || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$(proc_name "$1")" ]] || return 1
  echo "$pid"
}

kubectl() { "$k8s_dir/kubectl" --kubeconfig "$dir/kubeconfig" --request-timeout=10s "$@"; }
ctr() { command ctr --address "$dir/containerd/containerd.sock" --namespace k8s.io "$@"; }

apiserver_ready() { [[ "$(kubectl get --raw /readyz 2>/dev/null)" == ok ]]; }
moto_ready() { curl -sf -o /dev/null --max-time 5 "http://$node_ip:$moto_port/moto-api/"; }
node_ready() {
  [[ "$(kubectl get node "$node_name" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

load_ports() {
  [[ -f "$dir/ports" ]] || return 1
  # shellcheck source=/dev/null
  source "$dir/ports"
}

is_up() {
  local c
  [[ "$(cat "$machine/claim" 2>/dev/null)" == "$dir" ]] || return 1
  for c in "${components[@]}"; do live_pid "$c" >/dev/null || return 1; done
  load_ports && apiserver_ready && moto_ready && node_ready
}

# --- what the machine looked like before --------------------------------------------------
# The sysctls the kubelet (vm.*, kernel.*), the bridge plugin (forwarding) and kube-proxy
# (route_localnet, conntrack, bridge-nf) may change. Written in this order on restore:
# ip_forward first, as writing it resets the per-interface forwarding flags.
sysctls=(net.ipv4.ip_forward net.ipv4.conf.all.forwarding net.ipv4.conf.default.forwarding
  net.ipv6.conf.all.forwarding net.ipv4.conf.all.route_localnet
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait net.netfilter.nf_conntrack_tcp_be_liberal)
# Fixed paths the node's programs create outside DIR whatever they are told.
fixed_paths=(/var/log/containers /var/log/pods /run/containerd /var/lib/kubelet /var/lib/cni
  /etc/cni /opt/cni /opt/containerd /var/run/netns /etc/kubernetes /usr/libexec/kubernetes)

record_machine() {
  local key p
  mkdir -p "$machine"
  : >"$machine/sysctl.before"
  for key in "${sysctls[@]}"; do
    if [[ -e "/proc/sys/${key//.//}" ]]; then
      printf '%s=%s\n' "$key" "$(<"/proc/sys/${key//.//}")" >>"$machine/sysctl.before"
    fi
  done
  : >"$machine/paths.absent"
  for p in "${fixed_paths[@]}"; do [[ -e "$p" ]] || echo "$p" >>"$machine/paths.absent"; done
  # iptables (the nf_tables backend) creates the tables it is first asked for; those that did
  # not exist before are deleted at `down` once empty.
  nft list tables >"$machine/nft-tables.before"
  # Everything else for the report at `down`: a full sysctl listing.
  sysctl -a 2>/dev/null | sort >"$machine/sysctl-all.before" || true
}

# --- starting ------------------------------------------------------------------------------
gen_pki() {
  local pki="$dir/pki"
  rm -rf "$pki"
  mkdir -p "$pki"
  (
    cd "$pki"
    umask 077
    pki_ca
    # 10.0.0.1, the first address of the service range, is the `kubernetes` service pods use.
    pki_sign apiserver "/CN=kube-apiserver" serverAuth \
      "IP:$node_ip,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    pki_sign admin "/O=system:masters/CN=admin" clientAuth
    # The Node authorizer knows the kubelet by this name and group.
    pki_sign kubelet "/O=system:nodes/CN=system:node:$node_name" clientAuth
    pki_sign kubelet-serving "/CN=$node_name" serverAuth "IP:$node_ip,DNS:$node_name"
    # The apiserver to the kubelet (logs, exec, probe metrics).
    pki_sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
    # The users the bootstrap RBAC policy binds the components' roles to.
    pki_sign controller-manager "/CN=system:kube-controller-manager" clientAuth
    pki_sign scheduler "/CN=system:kube-scheduler" clientAuth
    pki_sign kube-proxy "/CN=system:kube-proxy" clientAuth
    pki_service_account_keys
  )
  local name server="https://$node_ip:$apiserver_port"
  write_kubeconfig "$dir/kubeconfig" "$server" "$dir/pki/ca.crt" "$dir/pki/admin.crt" "$dir/pki/admin.key"
  for name in kubelet controller-manager scheduler kube-proxy; do
    write_kubeconfig "$dir/pki/$name.kubeconfig" "$server" "$dir/pki/ca.crt" \
      "$dir/pki/$name.crt" "$dir/pki/$name.key" "$name"
  done
}

write_configs() {
  mkdir -p "$dir/containerd" "$dir/cni/net.d" "$dir/kubelet" "$dir/pod-logs"
  # Everything containerd keeps lives under DIR. restrict_oom_score_adj: this VM lacks
  # CAP_SYS_RESOURCE, so runc cannot give the sandbox the negative oom_score_adj the kubelet
  # asks for. netns_mounts_under_state_dir keeps the pods' network namespaces in DIR too.
  cat >"$dir/containerd/config.toml" <<EOF
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$dir/containerd/containerd.sock"
[ttrpc]
  address = "$dir/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$dir/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/securecart/pause:3.10.1"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$dir/containerd/runc"
        SystemdCgroup = false
EOF
  # No masquerading: pods reach the node's own addresses (the apiserver, moto) and nothing
  # beyond the machine. IP allocations are kept in DIR.
  cat >"$dir/cni/net.d/10-securecart.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "securecart-node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$pod_cidr"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$dir/cni/ipam"
      }
    }
  ]
}
EOF
  # cgroup v1 and the cgroupfs driver: what this machine has (no systemd). oomScoreAdj 0:
  # lowering it needs CAP_SYS_RESOURCE. Image garbage collection off: images are imported,
  # there is no registry to pull them back from. Eviction at a few GiB free rather than the
  # default 10-15% of the disk: on a shared build machine that much is often in use, and the
  # kubelet would evict the operator's pods mid-test.
  cat >"$dir/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $dir/pki/kubelet-serving.crt
tlsPrivateKeyFile: $dir/pki/kubelet-serving.key
containerRuntimeEndpoint: unix://$dir/containerd/containerd.sock
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
podLogsDir: $dir/pod-logs
volumePluginDir: $dir/kubelet/volume-plugins
resolvConf: /etc/resolv.conf
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 2Gi
  imagefs.available: 2Gi
  nodefs.inodesFree: 5%
serializeImagePulls: false
shutdownGracePeriod: 0s
EOF
  cat >"$dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $dir/pki/kube-proxy.kubeconfig
mode: iptables
hostnameOverride: $node_name
clusterCIDR: $pod_cidr
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["$node_ip/32"]
oomScoreAdj: 0
iptables:
  localhostNodePorts: false
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
EOF
}

fail_up() {
  report_failure node.sh "$1" "${2:-}"
  echo "node.sh: tearing down what was started" >&2
  teardown >&2 || true
  exit 1
}

check_alive() {
  local c
  for c in "$@"; do
    live_pid "$c" >/dev/null || fail_up "$c exited during start" "$dir/logs/$c.log"
  done
}

# Waits until `check` succeeds while the named components stay alive.
wait_until() {
  local what="$1" check="$2" deadline=$((SECONDS + wait_seconds))
  shift 2
  until "$check"; do
    check_alive "$@"
    ((SECONDS < deadline)) || fail_up "$what not within ${wait_seconds}s" "$dir/logs/${!#}.log"
    sleep 0.3
  done
}

containerd_ready() { ctr version >/dev/null 2>&1; }

start_control_plane() {
  local etcd_port etcd_peer_port
  read -r etcd_port etcd_peer_port <<<"$(free_ports 2)"
  read -r moto_port <<<"$(free_ports 1 "$node_ip")"
  printf "%s='%s'\n" moto_port "$moto_port" k8s_dir "$k8s_dir" >"$dir/ports"
  rm -rf "$dir/etcd"
  launch_etcd "$etcd_bin" "$node_name" "$dir/etcd" "$etcd_port" "$etcd_peer_port"
  # On the node's address: pods reach it there as they would reach an AWS endpoint.
  launch moto "$venv/bin/moto_server" -H "$node_ip" -p "$moto_port"
  local pki="$dir/pki"
  launch kube-apiserver "$k8s_dir/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address "$node_ip" --advertise-address "$node_ip" --secure-port "$apiserver_port" \
    --cert-dir "$pki" --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --service-cluster-ip-range "$service_cidr" \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction \
    --allow-privileged=true \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$pki/sa.pub" \
    --service-account-signing-key-file "$pki/sa.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" \
    --kubelet-preferred-address-types InternalIP,Hostname \
    --profiling=false
  wait_until "kube-apiserver /readyz" apiserver_ready etcd moto kube-apiserver
  wait_until "moto" moto_ready moto

  # Garbage collection, ReplicaSets, Deployments, ServiceAccounts and their tokens, the
  # kube-root-ca.crt ConfigMap every projected token volume needs: the default controllers.
  launch kube-controller-manager "$k8s_dir/kube-controller-manager" \
    --kubeconfig "$pki/controller-manager.kubeconfig" \
    --use-service-account-credentials=true \
    --service-account-private-key-file "$pki/sa.key" \
    --root-ca-file "$pki/ca.crt" \
    --flex-volume-plugin-dir "$dir/kcm-volume-plugins" \
    --leader-elect=false --secure-port 0 --profiling=false
  launch kube-scheduler "$k8s_dir/kube-scheduler" \
    --kubeconfig "$pki/scheduler.kubeconfig" --leader-elect=false --secure-port 0 --profiling=false
}

start_node() {
  launch containerd containerd --config "$dir/containerd/config.toml"
  wait_until "containerd" containerd_ready containerd
  ctr images import "$pause_archive" >"$dir/logs/import.log" 2>&1 ||
    fail_up "importing the pause image failed" "$dir/logs/import.log"
  mkdir -p "$dir/kubelet/root"
  launch kubelet "$k8s_dir/kubelet" --config "$dir/kubelet/config.yaml" \
    --kubeconfig "$dir/pki/kubelet.kubeconfig" --root-dir "$dir/kubelet/root" \
    --hostname-override "$node_name" --node-ip "$node_ip"
  launch kube-proxy "$k8s_dir/kube-proxy" --config "$dir/kube-proxy.yaml"
  wait_until "node $node_name Ready" node_ready containerd kube-proxy kube-controller-manager kubelet
}

write_env() {
  cat >"$dir/env" <<EOF
# Written by tests/controlplane/node.sh up; \`source\` it to talk to this node.
export KUBECONFIG='$dir/kubeconfig'
export AWS_ENDPOINT_URL='http://$node_ip:$moto_port'
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing
export AWS_SECRET_ACCESS_KEY=testing
export CONTAINERD_ADDRESS='$dir/containerd/containerd.sock'
export CONTAINERD_NAMESPACE=k8s.io
export SECURECART_NODE_DIR='$dir'
export SECURECART_NODE_NAME='$node_name'
case ":\$PATH:" in
  *':$k8s_dir:'*) ;;
  *) export PATH='$k8s_dir':"\$PATH" ;;
esac
EOF
}

cmd_up() {
  [[ $EUID -eq 0 ]] || die "the node needs root (cgroups, mounts, network)"
  if is_up; then
    say "already up in $dir (apiserver https://$node_ip:$apiserver_port); use: source $dir/env"
    return 0
  fi
  local claim t0=$SECONDS
  claim="$(cat "$machine/claim" 2>/dev/null || true)"
  if [[ -n "$claim" && "$claim" != "$dir" ]]; then
    if [[ -f "$claim/pids/kubelet.pid" ]] && (dir="$claim" && live_pid kubelet >/dev/null); then
      die "a node is up from $claim; only one can run on a machine (node.sh down $claim)"
    fi
    say "cleaning up after a node from $claim that was not taken down"
    (dir="$claim" && teardown) || die "could not clean up after $claim"
  elif [[ -n "$claim" ]]; then
    say "cleaning up a half-started node in $dir"
    teardown || die "could not clean up $dir"
  fi
  ip -o addr show | grep -w "$node_ip" >/dev/null && die "$node_ip is already on an interface of this machine"
  ip link show "$bridge" >/dev/null 2>&1 && die "a link named $bridge already exists"
  command -v nft >/dev/null || die "nft missing; run tests/controlplane/deps-node.sh"
  [[ -x "$venv/bin/moto_server" ]] || die "moto missing; run tests/controlplane/deps-node.sh"
  command -v containerd >/dev/null || die "containerd missing; run tests/controlplane/deps-node.sh"

  mkdir -p "$dir/logs" "$dir/pids" "$machine"
  rm -f "$dir/env"
  record_machine
  echo "$dir" >"$machine/claim"
  ip addr add "$node_ip/32" dev lo label lo:securecart
  gen_pki
  write_configs
  start_control_plane
  start_node
  write_env
  say "up in $((SECONDS - t0))s: node $node_name at $node_ip, apiserver https://$node_ip:$apiserver_port, moto http://$node_ip:$moto_port"
  say "logs in $dir/logs; use: source $dir/env"
}

cmd_import() {
  local f
  load_ports || die "no node in $dir"
  live_pid containerd >/dev/null || die "containerd is not running in $dir"
  for f in "$@"; do
    [[ -f "$f" ]] || die "no such archive: $f"
    ctr images import "$f" | sed 's/^/node.sh: imported /'
  done
}

cmd_status() {
  local c pid up=0
  for c in "${components[@]}"; do
    if pid="$(live_pid "$c")"; then
      say "$c running (pid $pid)"
      up=$((up + 1))
    else
      say "$c not running"
    fi
  done
  if ((up)) && load_ports; then
    if node_ready; then say "node $node_name Ready"; else say "node $node_name not Ready"; fi
  fi
  ((up == ${#components[@]})) || return 3
}

# shellcheck source=node-teardown.sh
source "$here/node-teardown.sh"

cmd_down() {
  local claim
  claim="$(cat "$machine/claim" 2>/dev/null || true)"
  if [[ -n "$claim" && "$claim" != "$dir" ]]; then
    die "the node on this machine belongs to $claim, not $dir"
  fi
  if [[ -z "$claim" && ! -f "$dir/ports" ]]; then
    say "nothing up in $dir"
    return 0
  fi
  teardown
}

(($# >= 2)) || usage
action="$1"
dir="$2"
shift 2
case "$action" in
  up) mkdir -p "$dir" ;;
  import) (($# >= 1)) || usage ;;
  down | status) [[ -d "$dir" ]] || { say "nothing in $dir"; [[ "$action" == down ]] && exit 0; exit 3; } ;;
  *) usage ;;
esac
dir="$(cd "$dir" && pwd)"
k8s_dir="" etcd_bin="" pause_archive=""
if [[ "$action" == up ]]; then
  k8s_dir="$("$here/build.sh" kube-apiserver kubectl kubelet kube-proxy kube-scheduler kube-controller-manager)"
  etcd_bin="$("$here/build-etcd.sh")/etcd"
  pause_archive="$("$here/build-pause.sh")"
else
  load_ports || true
fi

# One node.sh at a time on the machine (the node's resources are machine-wide).
mkdir -p "$machine"
exec 9>"$machine/lock"
flock 9

"cmd_$action" "$@"
