# motcua: `make run` starts the whole product on this machine, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PACKAGES := shared libs/worktime libs/pdfforms devstack services/reception services/processing services/postal services/notify
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))

.PHONY: install run test test-unit test-integration test-e2e lint typecheck schemas bench clean

install: $(STAMP)

$(STAMP): $(PYPROJECTS) requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(addprefix -e ./,$(PACKAGES)) -r requirements-dev.txt
	touch $(STAMP)

run: install
	$(BIN)/motcua up

test: install lint typecheck
	$(BIN)/python -m pytest shared libs devstack services tests

test-unit: install
	$(BIN)/python -m pytest shared libs devstack services tests -m "not integration and not e2e"

test-integration: install
	$(BIN)/python -m pytest shared services -m integration

test-e2e: install
	$(BIN)/python -m pytest tests/e2e

lint: install
	$(BIN)/ruff format --check shared libs devstack services tests bench
	$(BIN)/ruff check shared libs devstack services tests bench

typecheck: install
	$(BIN)/mypy shared/src libs/worktime/src libs/pdfforms/src devstack/src $(addsuffix /src,$(filter services/%,$(PACKAGES)))

schemas: install
	$(BIN)/motcua schemas export --out docs/events

bench: install
	$(BIN)/python bench/raw_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache
