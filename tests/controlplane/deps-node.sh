#!/usr/bin/env bash
# Installs what the operator image and the single-node cluster (node.sh) need, on top of
# deps.sh. Every step is skipped when already done.
#
#   deps-node.sh image   the image build: musl-tools, CA certificates, the Rust musl target
#   deps-node.sh [node]  all of the above, then containerd, runc, CNI plugins, iptables and
#                        conntrack from apt, the node's Kubernetes binaries (build-node.sh)
#                        and the pause image (build-pause.sh); also runs deps.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
what="${1:-node}"
say() { echo "deps-node.sh: $*"; }
# shellcheck source=apt.sh
source "$here/apt.sh"

case "$what" in
  image | node) ;;
  *) echo "usage: deps-node.sh [image|node]" >&2; exit 2 ;;
esac

# --- the image build -------------------------------------------------------------------------
# musl-gcc compiles aws-lc's C code for the musl target; the CA bundle goes into the image.
apt_ensure musl-tools ca-certificates binutils
if rustup target list --installed 2>/dev/null | grep -x x86_64-unknown-linux-musl >/dev/null; then
  say "Rust target x86_64-unknown-linux-musl present"
else
  say "adding Rust target x86_64-unknown-linux-musl"
  rustup target add x86_64-unknown-linux-musl
fi
[[ "$what" == node ]] || exit 0

# --- the node --------------------------------------------------------------------------------
"$here/deps.sh"
# The CRI runtime (containerd 1.6 with runc 1.1), pod networking (the bridge, host-local and
# loopback CNI plugins), what kube-proxy programs services with, and nft for node.sh to find
# and remove the nf_tables tables those iptables calls create.
apt_ensure containerd runc containernetworking-plugins iptables conntrack nftables
k8s_dir="$("$here/build-node.sh")"
say "kubelet, kube-proxy, kube-scheduler, kube-controller-manager present ($k8s_dir)"
pause="$("$here/build-pause.sh")"
say "pause image present ($pause)"
