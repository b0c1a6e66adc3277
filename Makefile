# The README's two commands: `make run` and `make test`. Each sets up .venv on its own.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench lint clean

run: $(VENV)/.installed-run
	$(BIN)/funnelbot run

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.foundation
	$(BIN)/python -m bench.report
	$(BIN)/python -m bench.dispatch
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.nudges
	$(BIN)/python -m bench.parcels

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
