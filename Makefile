# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The browser libraries the pages use (uPlot, Swagger UI), from the npm registry by package-lock.json; served by
# the app. No install scripts run (swagger-ui-dist's analytics dependency would call the internet).
ASSETS := node_modules/.installed

.PHONY: demo test assets lint typecheck contracts unit system-deps messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

$(ASSETS): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(ASSETS)

assets: $(ASSETS)

system-deps:
	bash scripts/system-deps.sh

# Simulated routers on loopback, the service, a fault after a minute; Ctrl-C stops it all. State in ./demo.
demo: $(STAMP) $(ASSETS)
	$(BIN)/noc demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

# The whole suite, real peers included: snmpd, sshd, namespaces, PostgreSQL, Prometheus.
test: $(STAMP) system-deps $(ASSETS) lint typecheck contracts
	$(BIN)/pytest

unit: $(STAMP) $(ASSETS)
	$(BIN)/pytest -m "not peers and not postgres"

# The pages' text: extract from the templates and the web code, then bring the zh-CN catalogue in step (new
# messages come in untranslated: a test names them until they are translated).
messages: $(STAMP)
	$(BIN)/pybabel --quiet extract -F noc/locale/babel.cfg -k N_ --no-location --sort-output -o noc/locale/messages.pot .
	$(BIN)/pybabel --quiet update -i noc/locale/messages.pot -d noc/locale -l zh_CN --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
