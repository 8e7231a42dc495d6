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

test: $(VENV)/.test lint  ## lint, then the whole test suite
	$(PY) -m pytest

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(VENV)/.test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(VENV)/.test  ## benchmarks, never part of the test suite
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
