# The README's two commands: `make run` and `make test`. Each works on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check engine web tests bench
	$(BIN)/ruff format --check engine web tests bench
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

run: $(STAMP)
	$(BIN)/python -m engine.cli check processes/

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
