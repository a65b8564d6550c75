# opsverify: `make demo` shows it working, `make test` is what CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help venv demo test lint typecheck unit report bench clean

help:
	@echo "make demo    run the embedded demo (daily tier against targets/demo.yaml)"
	@echo "make test    lint (ruff), types (mypy) and the project's own tests"
	@echo "make report  build the HTML Allure report from reports/allure-results"
	@echo "make bench   run the benchmarks in bench/ (slow; not part of make test)"

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/python -m pytest tests $(PYTEST_ARGS)

test: lint typecheck unit

demo: venv
	$(BIN)/python -m opsverify.cli demo

report: venv
	$(BIN)/opsverify report

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) reports/allure-results reports/allure-report reports/junit.xml reports/summary.json
