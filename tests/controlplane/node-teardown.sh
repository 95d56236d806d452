# Sourced by node.sh: stops the node in $dir and undoes every change it made to the machine,
# then checks that nothing is left. Works from whatever state a run left: all up, half
# started, or killed with its processes gone and its pods still running.

# The cgroup v1 hierarchies (and the v2 one) the kubelet makes /kubepods in.
cgroup_roots() { find /sys/fs/cgroup -mindepth 1 -maxdepth 1 -type d; }

# Pids of every process in a /kubepods cgroup: the pods' containers and their sandboxes.
pod_pids() {
  local root
  for root in $(cgroup_roots); do
    [[ -d "$root/kubepods" ]] || continue
    find "$root/kubepods" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

# Processes that belong to this node but may not be in a pid file: containerd's shims (their
# -address names DIR's socket), anything else naming DIR, and moto on the node's address.
stray_pids() {
  local p cmd self=" $$ $BASHPID $PPID "
  for p in /proc/[0-9]*; do
    [[ "$self" != *" ${p#/proc/} "* ]] || continue
    cmd="$(tr '\0' ' ' 2>/dev/null <"$p/cmdline")" || continue
    if [[ "$cmd" == *"$dir/"* || "$cmd" == *"moto_server -H $node_ip "* ]]; then
      echo "${p#/proc/}"
    fi
  done
}

stop_component() {
  local grace="$1" c pid pids=()
  shift
  for c in "$@"; do
    if pid="$(live_pid "$c")"; then pids+=("$pid"); fi
  done
  if ((${#pids[@]})); then stop_pids "$grace" "${pids[@]}" 2>/dev/null; fi
}

# With the control plane and the kubelet still working, pods are deleted the proper way: the
# kubelet stops their containers and the CNI plugin removes their network. Controllers go
# first so nothing replaces them.
drain_pods() {
  live_pid kubelet >/dev/null && apiserver_ready || return 0
  stop_component 10 kube-controller-manager kube-scheduler
  kubectl delete pods --all --all-namespaces --grace-period=2 --wait=false >/dev/null 2>&1 || return 0
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    [[ -z "$(kubectl get pods --all-namespaces -o name 2>/dev/null)" ]] && return 0
    sleep 0.5
  done
  say "pods still terminating after 30s; killing their containers"
}

# Whatever still runs in a pod: tasks deleted through containerd (which unmounts their root
# filesystems), then any process left in /kubepods killed directly, then the shims.
remove_containers() {
  local id pid
  if live_pid containerd >/dev/null; then
    for id in $(ctr tasks ls -q 2>/dev/null); do ctr tasks delete --force "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr containers ls -q 2>/dev/null); do ctr containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  for _ in $(seq 20); do
    pid="$(pod_pids)"
    [[ -n "$pid" ]] || break
    # shellcheck disable=SC2086 # one argument per pid
    kill -KILL $pid 2>/dev/null || true
    sleep 0.2
  done
}

# kube-proxy removes its own rules; what remains of KUBE-* (the kubelet's canary chains, a
# kube-proxy that could not run) and CNI-* is removed by name, in both address families.
clean_iptables() {
  if [[ -n "${k8s_dir:-}" && -x "$k8s_dir/kube-proxy" ]]; then
    "$k8s_dir/kube-proxy" --cleanup >>"$dir/logs/kube-proxy-cleanup.log" 2>&1 || true
  fi
  local family table script
  for family in iptables ip6tables; do
    command -v "$family-save" >/dev/null || continue
    for table in filter nat mangle raw; do
      script="$("$family-save" -t "$table" 2>/dev/null | python3 -c "$iptables_script" "$table")"
      [[ -z "$script" ]] || "$family-restore" --noflush <<<"$script" 2>>"$dir/logs/iptables-cleanup.log" || true
    done
  done
}
# Reads one table of iptables-save; prints an iptables-restore script that deletes the jumps
# to KUBE-* and CNI-* chains from other chains, then flushes and deletes those chains.
iptables_script='
import re, sys
ours = re.compile(r"^(KUBE-|CNI-)")
chains, deletes = [], []
for line in sys.stdin:
    line = line.rstrip("\n")
    if line.startswith(":") and ours.match(line[1:]):
        chains.append(line[1:].split()[0])
    elif line.startswith("-A "):
        chain = line.split()[1]
        if not ours.match(chain) and re.search(r" -[jg] (KUBE-|CNI-)", line):
            deletes.append("-D" + line[2:])
if chains or deletes:
    print("*" + sys.argv[1])
    print("\n".join(deletes + ["-F " + c for c in chains] + ["-X " + c for c in chains]))
    print("COMMIT")
'

# The nf_tables tables the node's iptables calls created, once they hold no rules (a table
# someone else filled in the meantime stays).
remove_new_nft_tables() {
  local table
  [[ -f "$machine/nft-tables.before" ]] && command -v nft >/dev/null || return 0
  while IFS= read -r table; do
    grep -qxF "$table" "$machine/nft-tables.before" && continue
    # shellcheck disable=SC2086 # "table FAMILY NAME" splits into its words
    if [[ "$(nft -j list $table | python3 -c "$count_nft_rules")" == 0 ]]; then nft delete $table; fi
  done < <(nft list tables)
}
count_nft_rules='import json, sys; print(sum(1 for x in json.load(sys.stdin)["nftables"] if "rule" in x))'

# Deepest first; a busy mount is detached lazily so a stuck one cannot block the rest.
unmount_under() {
  local prefix="$1" m
  for _ in 1 2 3; do
    local mounts
    mounts="$(awk -v p="$prefix/" 'index($5, p) == 1 || $5 == substr(p, 1, length(p) - 1) {print $5}' \
      /proc/self/mountinfo | sort -r)"
    [[ -n "$mounts" ]] || return 0
    while IFS= read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done <<<"$mounts"
  done
}

remove_links() {
  local link
  if ip link show "$bridge" >/dev/null 2>&1; then
    for link in $(ip -o link show master "$bridge" | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip link del "$link" 2>/dev/null || true
    done
    ip link del "$bridge" 2>/dev/null || true
  fi
  # Not `grep -q`: it exits at the first match, `ip` may then die of SIGPIPE, and under
  # pipefail the pipeline fails, so the address would be neither removed nor reported.
  if ip -o addr show dev lo | grep -w "$node_ip" >/dev/null; then ip addr del "$node_ip/32" dev lo 2>/dev/null || true; fi
}

remove_cgroups() {
  local root
  for _ in 1 2 3 4 5; do
    local left=0
    for root in $(cgroup_roots); do
      [[ -d "$root/kubepods" ]] || continue
      find "$root/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null || true
      [[ -d "$root/kubepods" ]] && left=1
    done
    ((left)) || return 0
    sleep 0.5
  done
}

restore_sysctls() {
  local key value file
  [[ -f "$machine/sysctl.before" ]] || return 0
  while IFS='=' read -r key value; do
    file="/proc/sys/${key//.//}"
    [[ -e "$file" && "$(<"$file")" != "$value" ]] || continue
    echo "$value" >"$file" 2>/dev/null || say "could not restore $key to $value"
  done <"$machine/sysctl.before"
}

remove_fixed_paths() {
  local p
  [[ -f "$machine/paths.absent" ]] || return 0
  while IFS= read -r p; do
    [[ -e "$p" ]] || continue
    unmount_under "$p"
    rm -rf "$p"
  done <"$machine/paths.absent"
}

# Every change the node makes, checked to be gone. Prints what is left; fails if anything is.
verify_clean() {
  local left=() key value file p out
  out="$(stray_pids)"
  [[ -z "$out" ]] || left+=("processes: $(echo $out)")
  out="$(pod_pids)"
  [[ -z "$out" ]] || left+=("processes in /kubepods: $(echo $out)")
  for p in $(cgroup_roots); do [[ ! -d "$p/kubepods" ]] || left+=("cgroup $p/kubepods"); done
  out="$(awk -v p="$dir/" 'index($5, p) == 1 {print $5}' /proc/self/mountinfo)"
  [[ -z "$out" ]] || left+=("mounts: $(echo $out)")
  for p in iptables-save ip6tables-save; do
    command -v "$p" >/dev/null || continue
    out="$("$p" 2>/dev/null | grep -E 'KUBE-|CNI-' || true)"
    [[ -z "$out" ]] || left+=("$p: $(wc -l <<<"$out") KUBE-/CNI- lines")
  done
  if [[ -f "$machine/nft-tables.before" ]] && command -v nft >/dev/null; then
    out="$(nft list tables | grep -vxF -f "$machine/nft-tables.before" || true)"
    [[ -z "$out" ]] || left+=("nf_tables: $(echo $out)")
  fi
  ! ip link show "$bridge" >/dev/null 2>&1 || left+=("link $bridge")
  out="$(ip -o link show type veth 2>/dev/null | grep -w "master $bridge" || true)"
  [[ -z "$out" ]] || left+=("veth links on $bridge")
  ! ip -o addr show dev lo | grep -w "$node_ip" >/dev/null || left+=("address $node_ip on lo")
  if [[ -f "$machine/sysctl.before" ]]; then
    while IFS='=' read -r key value; do
      file="/proc/sys/${key//.//}"
      [[ ! -e "$file" || "$(<"$file")" == "$value" ]] || left+=("sysctl $key=$(<"$file") (was $value)")
    done <"$machine/sysctl.before"
  fi
  if [[ -f "$machine/paths.absent" ]]; then
    while IFS= read -r p; do [[ ! -e "$p" ]] || left+=("path $p"); done <"$machine/paths.absent"
  fi
  # Not a failure (other programs change sysctls too), but shown: anything else that moved.
  if [[ -f "$machine/sysctl-all.before" ]]; then
    out="$(diff <(grep -v -E "$volatile_sysctls" "$machine/sysctl-all.before") \
      <(sysctl -a 2>/dev/null | sort | grep -v -E "$volatile_sysctls") | grep '^[<>]' || true)"
    [[ -z "$out" ]] || say "other sysctls differ from before the node (not changed by it, as far as known):"$'\n'"$out"
  fi
  if ((${#left[@]})); then
    say "left behind on the machine:"
    printf '  %s\n' "${left[@]}"
    return 1
  fi
}
# Counters and per-interface keys of links that come and go with pods.
volatile_sysctls='^(fs\.(dentry-state|file-nr|inode-nr|inode-state|quota\.)|kernel\.(random\.|ns_last_pid|pty\.nr)|net\.netfilter\.nf_conntrack_count|net\.ipv[46]\.(conf|neigh)\.(veth|scbr0)|net\.ipv6\.route\.|vm\.stat)'

teardown() {
  drain_pods
  stop_component 10 kube-controller-manager kube-scheduler kube-proxy kubelet
  remove_containers
  stop_component 10 containerd
  local pid
  for pid in $(stray_pids); do
    case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
      containerd-shim*) kill -KILL "$pid" 2>/dev/null || true ;;
    esac
  done
  remove_containers
  # The apiserver before etcd: on TERM it still writes to etcd.
  stop_component 10 kube-apiserver moto
  stop_component 10 etcd
  for pid in $(stray_pids); do kill -KILL "$pid" 2>/dev/null || true; done
  clean_iptables
  remove_new_nft_tables
  unmount_under "$dir"
  remove_links
  remove_cgroups
  restore_sysctls
  remove_fixed_paths
  rm -rf "$dir/containerd" "$dir/kubelet" "$dir/etcd" "$dir/cni" "$dir/pod-logs" "$dir/kcm-volume-plugins"
  rm -f "$dir"/pids/*.pid "$dir/env"
  if verify_clean; then
    rm -f "$machine/claim" "$machine/sysctl.before" "$machine/paths.absent" "$machine/sysctl-all.before" \
      "$machine/nft-tables.before"
    say "down; the machine is as before the node"
  else
    say "the claim in $machine stays, so the next node.sh up cleans up again"
    return 1
  fi
}
