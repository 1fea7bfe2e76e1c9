# Dang'an. `make run` sets up (runtime lock) and serves the embedded default; `make test` sets up (development
# lock) and runs every check; `make test-fast` runs the tests that need no real OCR (null OCR engine), for quick
# iteration; `make lock` regenerates the locks.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYSTEM_STAMP := $(VENV)/.system-packages
# Two hashed locks (`make lock`): the runtime set for `make run`, runtime + dev + postgres extras for `make test`.
RUNTIME_LOCK := requirements/runtime.lock
DEV_LOCK := requirements/dev.lock
# pip itself is installed first, from its own lock: older pips refuse extras (pikepdf[pdfa]) in hash mode.
PIP_LOCK := requirements/pip.lock
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed
# The front end's tools (tsc for `tsc --checkJs`, axe-core for the accessibility tests), from package-lock.json;
# nothing in node_modules is served.
NODE_STAMP := node_modules/.installed
# The lock tool lives in a venv of its own, never in .venv.
LOCK_VENV := .venv-lock
UV_VERSION := 0.13.9
UV := $(LOCK_VENV)/bin/uv
LOCK_FLAGS := --universal --python-version 3.11 --generate-hashes --no-strip-extras --custom-compile-command "make lock"

.PHONY: install install-runtime system venv run test test-fast lint typecheck unit bench lock clean

install-runtime: $(RUNTIME_STAMP)
install: $(DEV_STAMP) $(NODE_STAMP)

$(SYSTEM_STAMP): scripts/install-system.sh
	@bash scripts/install-system.sh
	@mkdir -p $(VENV) && touch $@

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)

# The project itself is installed editable without its dependencies: it cannot be hashed, the locks hold the rest.
$(RUNTIME_STAMP): $(SYSTEM_STAMP) $(BIN)/python $(PIP_LOCK) $(RUNTIME_LOCK) pyproject.toml
	$(BIN)/python -m pip install -q --require-hashes -r $(PIP_LOCK)
	$(BIN)/python -m pip install -q --require-hashes -r $(RUNTIME_LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	@touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) $(DEV_LOCK)
	$(BIN)/python -m pip install -q --require-hashes -r $(DEV_LOCK)
	@touch $@

$(NODE_STAMP): $(SYSTEM_STAMP) package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(UV):
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q uv==$(UV_VERSION)

# Regenerate both locks from pyproject.toml, keeping the current pins; `make lock UPGRADE=1` takes newer releases.
lock: $(UV)
	echo "pip>=25" | $(UV) pip compile -q - $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade,) -o $(PIP_LOCK)
	$(UV) pip compile -q pyproject.toml $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade,) -o $(RUNTIME_LOCK)
	$(UV) pip compile -q pyproject.toml --extra dev --extra postgres -c $(RUNTIME_LOCK) $(LOCK_FLAGS) \
	  $(if $(UPGRADE),--upgrade,) -o $(DEV_LOCK)

run: install-runtime
	$(BIN)/dangan run $(if $(BATCH),--batch $(BATCH),)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	npx --no-install tsc -p tsconfig.json

typecheck: install
	$(BIN)/mypy

# The suite runs in PYTEST_WORKERS processes (pytest-xdist), a test file kept in one of them (its module fixtures
# are built once); `make unit PYTEST_WORKERS=0` runs it in this process alone.
PYTEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(PYTEST_WORKERS)),-p no:xdist,-n $(PYTEST_WORKERS) --dist loadfile)

unit: install
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

test: lint typecheck unit

test-fast: install
	$(BIN)/python -m pytest $(XDIST) -m "not ocr and not slow" $(PYTEST_ARGS)

bench: install
	@for script in bench/bench_*.py; do module=$${script%.py}; module=$${module//\//.}; \
	  echo "== $$module"; $(BIN)/python -m $$module || exit 1; done

clean:
	rm -rf $(VENV) $(LOCK_VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
