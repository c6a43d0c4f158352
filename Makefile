# Every target works on a fresh clone: the first one that needs the
# environment creates .venv/ and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean node-deps codegen-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/oneweb-graphql serve

lint: install
	$(BIN)/ruff check backend schema resolvers server tests bench examples/python
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

test: lint node-deps codegen-deps
	$(BIN)/pytest

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache $(NODE_PACKAGES:%=%/node_modules)
