# Every target works on a fresh clone: the first one that needs the
# environment creates .venv/ and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench clean vendor-graphiql

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/oneweb-graphql serve

lint: install
	$(BIN)/ruff check backend schema resolvers server tests bench
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench

# Re-fetch GraphiQL's browser files (versions pinned in server/graphiql/vendor.py) from
# the npm registry and rewrite them, their licences and their hashes.
vendor-graphiql: install
	$(BIN)/python -m server.graphiql.vendor

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
