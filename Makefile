# Every target works on a fresh clone: the first one that needs the
# environment creates .venv/ and installs the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint bench docs clean vendor-graphiql

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
	$(BIN)/ruff check backend schema resolvers server tests bench
	$(BIN)/mypy

# The tests marked `alone` (a load test with tight timeouts) run after the others, when
# no other test competes for the CPUs.
test: lint
	$(BIN)/pytest -m 'not alone'
	$(BIN)/pytest -m alone -n 0

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
		.coverage htmlcov
	find . -path ./.git -prune -o -type d \( -name __pycache__ -o -name node_modules \) \
		-prune -exec rm -rf {} +
