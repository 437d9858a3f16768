# dynamo-platform: `make help` lists the targets. Tools are pinned and installed into the repo by
# hack/bootstrap.sh (.venv, .cache/tools); the machine provides python3, go, openssl and gpg (README.md
# says what else the real node needs: root, Debian's apt).
SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT := $(CURDIR)
VENV := $(ROOT)/.venv
TOOLS := $(ROOT)/.cache/tools
export PATH := $(TOOLS)/bin:$(VENV)/bin:$(PATH)
PYTEST_ARGS ?=

CHART := charts/dynamo-platform
OVERLAYS := $(sort $(wildcard values/*.yaml))

.PHONY: help
help: ## List targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-20s %s\n", $$1, $$2}'

.PHONY: bootstrap
bootstrap: ## Install the pinned tools (python venv, helm, kubectl, ct)
	@bash hack/bootstrap.sh

.PHONY: generate
generate: bootstrap ## Regenerate CRDs, values schemas and the values reference in the chart README
	python -m dynamo_harness.chartgen

.PHONY: lock
lock: ## Re-pin requirements.lock from pyproject.toml
	rm -rf $(TOOLS)/lock-venv && python3 -m venv $(TOOLS)/lock-venv
	$(TOOLS)/lock-venv/bin/pip install --quiet '.[test]'
	@# One order on every machine: the locale's collation differs between them, bytes case-folded do not.
	{ head -1 requirements.lock; $(TOOLS)/lock-venv/bin/pip freeze --exclude dynamo-harness | LC_ALL=C sort -f; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

DIST := $(ROOT)/dist

.PHONY: package
package: bootstrap ## Chart archive, its provenance (.prov) and SBOM in dist/ (SIGN_KEY + SIGN_KEYRING, else a throw-away test key)
	python -m dynamo_harness.publish package --out $(DIST) $(if $(SIGN_KEY),--key "$(SIGN_KEY)" --keyring "$(SIGN_KEYRING)")

.PHONY: publish
publish: package ## Push the packaged chart and its provenance with helm push to REGISTRY=oci://host/path
	@test -n "$(REGISTRY)" || { echo "usage: make publish REGISTRY=oci://<registry>/<path>"; exit 2; }
	python -m dynamo_harness.publish push $(REGISTRY) --out $(DIST)

.PHONY: previous-chart
previous-chart: bootstrap ## Package the chart at git REF (a past release) as tests/data/dynamo-platform-<its version>.tgz for the upgrade tests
	@test -n "$(REF)" || { echo "usage: make previous-chart REF=<tag or commit of a past release>"; exit 2; }
	rm -rf $(TOOLS)/previous && git worktree add --detach $(TOOLS)/previous $(REF)
	@# Replaces the archive of that version only: each upgrade test names the release it starts from.
	helm package $(TOOLS)/previous/$(CHART) -d tests/data; status=$$?; git worktree remove --force $(TOOLS)/previous; exit $$status

.PHONY: lint
lint: bootstrap ## helm lint (strict, every overlay), chart-testing lint, checkov on every render, actionlint
	@bash hack/bootstrap.sh --with-lint
	python -m dynamo_harness.chartgen --check
	@for overlay in "" $(OVERLAYS); do \
	  helm lint --strict $(CHART) $${overlay:+--values $$overlay} >/dev/null || exit 1; \
	  echo "helm lint ok: $${overlay:-defaults}"; done
	@# ct runs `helm dependency build`, which packs each vendored subchart next to itself: drop those.
	ct lint --config .ct.yaml --all \
	  --lint-conf $(TOOLS)/ct-etc/lintconf.yaml --chart-yaml-schema $(TOOLS)/ct-etc/chart_schema.yaml; \
	  status=$$?; rm -f $(CHART)/charts/*.tgz; exit $$status
	@# Findings are fixed in the chart or skipped with a reason (dynamo_harness/lint.py says where).
	python -m dynamo_harness.lint
	@# shellcheck and pyflakes are not pinned here: off, so the result is the same on every machine.
	actionlint -shellcheck= -pyflakes=

PYTEST := python -m pytest

.PHONY: bootstrap-all
bootstrap-all: ## Also build the local control plane, its real node and images, the OCI registry of the release tests and the Dynamo runtime venv
	@bash hack/bootstrap.sh --with-control-plane --with-node --with-images --with-registry --with-dynamo

.PHONY: test-template
test-template: bootstrap ## Template tests only (helm, no cluster), with Helm 4 and then Helm 3
	$(PYTEST) -m template -n auto $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-template-helm3

.PHONY: test-template-helm3
test-template-helm3: bootstrap ## Template tests with the pinned Helm 3 (users run both majors)
	HELM_BINARY=$(TOOLS)/bin/helm3 $(PYTEST) -m template -n auto $(PYTEST_ARGS) $(HELM3_TESTS)

# What `make test` runs with Helm 3: where Helm 3 and 4 can differ, rendering every value set and
# failing on bad values (schema drafts, `fail` messages). Every other template test reads renders
# that tests/template/test_helm_versions.py already proves identical under both; the PR workflow's
# template-helm3 job runs the whole layer.
HELM3_DIFFERENCES := tests/template/test_render.py tests/template/test_bad_values.py

.PHONY: test-install
test-install: bootstrap-all ## Install tests on the local control plane (built on first use)
	$(PYTEST) -m install $(PYTEST_ARGS)

.PHONY: test
test: bootstrap-all ## Everything CI runs: lint and every test layer that can run here
	@# Lint's tools too, before the streams start: neither stream installs anything while the other runs.
	@bash hack/bootstrap.sh --with-lint
	@echo "make test: two streams run side by side; the output of each shows when it ends"
	$(MAKE) --no-print-directory -j2 --output-sync=target test-on-real-node test-beside-real-node

# `make test`'s two streams. Nothing in one uses what the other holds, and both mostly wait (on pods,
# on fault windows), so side by side they share the 2 cores well.
# On the real node, which is machine-wide: the install tests that need it (marker real_node), then
# the up layer's `make up` twice on a cluster of its own, once those released the node.
.PHONY: test-on-real-node
test-on-real-node: bootstrap-all
	$(PYTEST) -m real_node $(subst junit.xml,junit-real-node.xml,$(PYTEST_ARGS))
	$(PYTEST) -m up $(subst junit.xml,junit-up.xml,$(PYTEST_ARGS))

# Beside it, the shorter chain: lint, then every other test in three workers: the install, data plane
# and images layers each in one worker (each shares one session resource; the install layer's is a
# kwok-only cluster of its own), the template tests wherever a worker is free (tests/conftest.py's
# LayerScheduling); then the Helm 3 pass with its own JUnit file (the sub-make would otherwise inherit
# PYTEST_ARGS and overwrite the first).
.PHONY: test-beside-real-node
test-beside-real-node: lint bootstrap-all
	$(PYTEST) -m "not up and not real_node" --without-real-node -n 3 --dist loadscope $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-template-helm3 HELM3_TESTS="$(HELM3_DIFFERENCES)" \
	  PYTEST_ARGS="$(subst junit.xml,junit-helm3.xml,$(PYTEST_ARGS))"

.PHONY: test-up
test-up: bootstrap-all ## `make up` twice on a cluster of its own (the real node must be free: no `make up` running)
	$(PYTEST) -m up $(PYTEST_ARGS)

.PHONY: images
images: bootstrap ## Build the local node's container images into .cache/images (root; skipped when up to date)
	@bash hack/bootstrap.sh --with-images

.PHONY: test-images
test-images: images ## Run the local node's images under containerd + runc the way the chart runs them
	$(PYTEST) -m images $(PYTEST_ARGS)

.PHONY: test-dataplane
test-dataplane: bootstrap-all ## Probe tests against the embedded data plane (etcd, NATS, Dynamo frontend + mocker)
	$(PYTEST) -m "dataplane or conformance" $(PYTEST_ARGS)

.PHONY: conformance
conformance: bootstrap-all ## Run dynamo-conformance (ARGS="--frontend URL --model M ..." or the embedded data plane)
	dynamo-conformance $(or $(ARGS),--embedded --node local)

.PHONY: bench
bench: bootstrap-all ## Benchmarks: time per test layer (last make test's JUnit), render, test suite, cluster start, install, probe vs aiperf (bench/results.md)
	@bash hack/bootstrap.sh --with-bench
	python -m dynamo_harness.bench $(BENCH_ARGS)

.PHONY: test-kind
test-kind: bootstrap ## Install tests on a kind cluster of real nodes: private dockerd, node image built here (root)
	@bash hack/bootstrap.sh --with-kind
	$(PYTEST) -m install --cluster=kind $(PYTEST_ARGS)

# What CI runs of test-kind (.ci/run): the whole install layer on kind's real nodes, each cloud overlay's
# HA shape included (3-member etcd, NATS routes and an R3 stream, spread through one node's loss, PDBs,
# helm test). The serving plane and the node faults under load (marker under_load, about 18 min per
# overlay) run in `make test-kind` only.
.PHONY: test-kind-ci
test-kind-ci: bootstrap ## The install layer on kind as CI runs it, without the runs under load (root; skips, saying why, where Docker cannot run)
	@bash hack/bootstrap.sh --with-kind
	$(PYTEST) -m "install and not under_load" --cluster=kind $(PYTEST_ARGS)

.PHONY: test-cluster
test-cluster: bootstrap ## Install tests on the cluster of KUBECONFIG (never deletes what it did not create)
	$(PYTEST) -m install --cluster=existing $(PYTEST_ARGS)

.PHONY: up
up: bootstrap-all ## Bring the local platform up on the default overlay and print the report path
	python -m dynamo_harness.cli up

.PHONY: down
down: bootstrap ## Undo `make up`; also remove a kept kind cluster and its private dockerd
	python -m dynamo_harness.cli down

.PHONY: clean
clean: ## Stop what make up started, then remove every tool, venv, cluster state and report
	-[ -x $(VENV)/bin/python ] && $(VENV)/bin/python -m dynamo_harness.cli down
	rm -rf $(VENV) .cache reports
