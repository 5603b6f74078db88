# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck contracts unit system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

system-deps:
	bash scripts/system-deps.sh

# Simulated routers on loopback, the service, a fault after a minute; Ctrl-C stops it all. State in ./demo.
demo: $(STAMP)
	$(BIN)/noc demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

# The whole suite, real peers included: snmpd, sshd, namespaces, PostgreSQL, Prometheus.
test: $(STAMP) system-deps lint typecheck contracts
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest -m "not peers and not postgres"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
