# Dang'an. `make run` sets up and serves the embedded default; `make test` sets up and runs every check;
# `make test-fast` runs the tests that need no real OCR (null OCR engine), for quick iteration.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_STAMP := $(VENV)/.system-packages

.PHONY: install system venv run test test-fast lint typecheck unit bench clean

install: $(STAMP)

$(SYSTEM_STAMP): scripts/install-system.sh
	@bash scripts/install-system.sh
	@mkdir -p $(VENV) && touch $@

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(SYSTEM_STAMP) $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $@

run: install
	$(BIN)/dangan run $(if $(BATCH),--batch $(BATCH),)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck unit

test-fast: install
	$(BIN)/python -m pytest -m "not ocr and not slow" $(PYTEST_ARGS)

bench: install
	@for script in bench/bench_*.py; do module=$${script%.py}; module=$${module//\//.}; \
	  echo "== $$module"; $(BIN)/python -m $$module || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
