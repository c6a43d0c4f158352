# Every target works on a fresh clone: the first one that needs the
# environment creates .venv/ and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench docs clean vendor-graphiql node-deps codegen-deps

# setuptools tells every editable install of a flat layout that same-named folders in
# the working directory may shadow the package: known here, so not shown on each install.
PIP_INSTALL := PYTHONWARNINGS='ignore:Editable installation' $(BIN)/python -m pip install --quiet

# `make run` needs only the runtime dependencies: a fresh clone serves sooner.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(PIP_INSTALL) -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(PIP_INSTALL) -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/oneweb-graphql serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check backend schema resolvers server tests bench examples/python
	$(BIN)/ruff format --check backend schema resolvers server tests bench examples/python
	$(BIN)/mypy

# The node packages of the TypeScript example and of the GraphQL-over-HTTP audit, installed
# once from their lockfiles (npm ci) before the tests, never inside them. Without npm the
# tests that need them skip (and fail when CI=true).
NPM ?= npm
NODE_PACKAGES := examples/typescript tests/graphql_http_audit
ifeq ($(shell command -v $(NPM) 2>/dev/null),)
node-deps:
	@echo "npm not found: the TypeScript example and the GraphQL-over-HTTP audit will be skipped (install Node.js >= 20 with npm)"
else
node-deps: $(NODE_PACKAGES:%=%/node_modules/.package-lock.json)
endif

%/node_modules/.package-lock.json: %/package.json %/package-lock.json
	cd $* && $(NPM) ci --no-audit --no-fund --loglevel=error
	touch $@

# ariadne-codegen (the Python example's generator) requires graphql-core < 3.3 and the
# facade >= 3.3, so it gets a venv of its own; the client it generates needs only httpx
# and pydantic, which the project's venv has.
CODEGEN_VENV := $(VENV)/ariadne-codegen
CODEGEN_STAMP := $(CODEGEN_VENV)/.installed

$(CODEGEN_STAMP): examples/python/requirements.txt | $(STAMP)
	$(PYTHON) -m venv $(CODEGEN_VENV)
	$(CODEGEN_VENV)/bin/python -m pip install --quiet -r examples/python/requirements.txt
	touch $@

codegen-deps: $(CODEGEN_STAMP)

# The tests marked `alone` (a load test with tight timeouts) run after the others, when
# no other test competes for the CPUs.
# Bytecode caching stays on for the tests even where PYTHONDONTWRITEBYTECODE is set (some
# containers set it): without it every pytest worker would compile the assertion-rewritten
# modules again, and every command a test starts the project's modules: seconds per run.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest
test: lint node-deps codegen-deps
	$(PYTEST) -m 'not alone'
	$(PYTEST) -m alone -n 0

# The generated parts of the docs: the settings table from server/settings.py.
docs: $(RUN_STAMP)
	$(BIN)/python -m server.settings_table docs/operations.md

bench: install
	$(PIP_INSTALL) -e '.[test,bench]'
	$(BIN)/python -m bench

# Re-fetch GraphiQL's browser files (versions pinned in server/graphiql/vendor.py) from
# the npm registry and rewrite them, their licences and their hashes.
vendor-graphiql: install
	$(BIN)/python -m server.graphiql.vendor

# Everything the targets and the tests create; the committed bench results stay.
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info build dist \
		.coverage htmlcov examples/typescript/dist examples/typescript/src/gql
	find . -path ./.git -prune -o -type d \( -name __pycache__ -o -name node_modules \) \
		-prune -exec rm -rf {} +
