# securecart-operator. `make demo` runs the operator on a local control plane and AWS emulator;
# `make test` is everything CI runs. Both install what they need on first use.
SHELL := bash
LOCAL := .local

.PHONY: help deps build crds crds-check deploy-check fmt fmt-check clippy unit integration node-test test up down demo bench \
	deps-node image up-node down-node demo-node chaos chaos-short

help:
	@echo "make demo   start etcd, kube-apiserver, the AWS emulator and the controller; apply examples/"
	@echo "make down   stop everything 'make up'/'make demo' started"
	@echo "make test   fmt, clippy, unit tests, CRD staleness, integration and node tests (what CI runs)"
	@echo "make crds   regenerate crds/ from the Rust types (and their copies in deploy/)"
	@echo "make deploy-check  lint, render and server-dry-run deploy/ (also part of integration)"
	@echo "make bench  measure convergence time, AWS call economy, memory and scale (bench/report.md)"
	@echo "make image  build the operator image (OCI archive in target/image/) without a container engine"
	@echo "make demo-node  a real single-node cluster; the chart installed from the image; examples/ through its pods"
	@echo "make down-node  stop that node and undo its changes to the machine"
	@echo "make chaos  the example set under AWS faults and controller crashes (chaos/report.md);"
	@echo "            T=trials K=kills FAIL=share failed LOST=share of mutating responses lost EC=seconds"

deps:
	@tests/controlplane/deps.sh

deps-node:
	@tests/controlplane/deps-node.sh

build:
	cargo build --workspace

crds:
	cargo run --quiet -p securecart-crdgen -- crds
	deploy/sync-crds.sh

crds-check:
	cargo run --quiet -p securecart-crdgen -- --check crds
	deploy/sync-crds.sh --check

# Helm lint, helm template and kubectl kustomize through `kubectl apply --dry-run=server` on a
# private control plane. `make integration` runs the same checks on its own control plane.
deploy-check: deps
	tests/deploy-check.sh

fmt:
	cargo fmt --all

fmt-check:
	cargo fmt --all -- --check

clippy:
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace --exclude securecart-e2e --exclude securecart-node-e2e

integration: deps
	tests/run-integration.sh

# The image on a real single-node cluster: Helm and kustomize installs, leader failover,
# upgrade, uninstall (tests/node). Needs root; one run at a time per machine.
node-test: deps-node
	tests/run-node.sh

test: fmt-check clippy crds-check unit integration node-test chaos-short

up: deps
	@tests/controlplane/env.sh up $(LOCAL)
	@tests/controlplane/controller.sh start $(LOCAL)

down:
	@tests/controlplane/controller.sh stop $(LOCAL)
	@tests/controlplane/env.sh down $(LOCAL)

demo: up
	@examples/demo.sh $(LOCAL)

# The release build for x86_64-unknown-linux-musl in an OCI archive, as deploy/Containerfile builds it.
image:
	@deploy/build-image.sh

NODE := .local-node
up-node: deps-node image
	@tests/controlplane/node.sh up $(NODE)
	@tests/controlplane/node.sh import $(NODE) target/image/securecart-operator.oci.tar

down-node:
	@tests/controlplane/node.sh down $(NODE)

demo-node: up-node
	@examples/demo-node.sh $(NODE)

bench: deps
	tests/run-bench.sh

# T trials (default 50), K SIGKILLs each (5), FAIL share of requests failed before arriving (0.15),
# LOST share of mutating responses lost (0.10), EC eventual-consistency seconds (0); LANES trials
# side by side, each lane with its own control plane, emulator and proxy (1).
T ?= 50
K ?= 5
FAIL ?= 0.15
LOST ?= 0.10
EC ?= 0
LANES ?= 1
chaos: deps
	CHAOS_LANES=$(LANES) tests/run-chaos.sh --trials $(T) --kills $(K) --fail-rate $(FAIL) --lost-rate $(LOST) --ec-seconds $(EC)

# Two trials, two kills each, side by side, with assertions: every trial converges, no
# duplicate, no leak.
chaos-short: deps
	CHAOS_LANES=2 tests/run-chaos.sh --trials 2 --kills 2 --report-dir target/chaos-short --assert
