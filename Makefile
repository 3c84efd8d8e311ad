# camelid: `make demo` runs the main job, `make test` the whole test suite. Both set up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.camelid-setup

.PHONY: setup demo test test-fast lint format schemas bench clean

# Idempotent: redone only when the project's dependencies change.
setup: $(STAMP)
$(STAMP): pyproject.toml scripts/setup.sh
	PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/setup.sh
	touch $(STAMP)

demo: setup
	PATH=$(abspath $(BIN)):$$PATH bash examples/quickstart.sh

test: setup
	bash scripts/browser.sh
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -m "not engine and not slow"

lint: setup
	$(BIN)/ruff check cli tests
	$(BIN)/ruff format --check cli tests

format: setup
	$(BIN)/ruff check --fix cli tests
	$(BIN)/ruff format cli tests

schemas: setup
	$(BIN)/python -m camelid.schemas

bench: setup
	$(BIN)/python tests/bench/engine_overhead.py
	$(BIN)/python tests/bench/engine_overhead.py "chat greedy" --repeats=9
	$(BIN)/python tests/bench/judge_quality.py
	$(BIN)/python tests/bench/cpu_speed.py
	$(BIN)/python tests/bench/filter_vs_jq.py
	$(BIN)/python tests/bench/novelty.py
	$(BIN)/python tests/bench/dedup.py
	$(BIN)/python tests/bench/ray_executor.py
	$(BIN)/python tests/bench/dedup_ray.py
	$(BIN)/python tests/bench/jsonl_read.py

clean:
	rm -rf $(VENV) dist build out
