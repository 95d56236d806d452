#!/usr/bin/env bash
# Builds the node's Kubernetes binaries (kubelet, kube-proxy, kube-scheduler,
# kube-controller-manager) with build.sh, from the same wrapper module as kube-apiserver, into
# the same cache directory. Prints that directory.
set -euo pipefail
exec "$(dirname "${BASH_SOURCE[0]}")/build.sh" kubelet kube-proxy kube-scheduler kube-controller-manager
