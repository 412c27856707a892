"""A vLLM OpenAI-compatible server as a child process, and its Prometheus counters.

Plain Python (no pytest), so that the tests' fixtures (`conftest.py`) and the benchmarks
(`benchmarks/vllm/*.py`, run with `PYTHONPATH=.`) start the server the same way: from vLLM's own
venv (`make setup-vllm`), on 127.0.0.1, serving an exported folder (`mur-graph models export-hf`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VLLM_PYTHON = Path(os.environ.get("MUR_GRAPH_VLLM_PYTHON") or ROOT / ".venv-vllm" / "bin" / "python")
"""The vLLM venv's interpreter (`make setup-vllm`); `MUR_GRAPH_VLLM_PYTHON` points elsewhere."""
MODEL = "smollm2"
"""The name the server serves the model under (the `model` of every request)."""
CONTEXT = 1024
"""`--max-model-len`: small, the tests' prompts are short."""
MAX_LOGPROBS = 20
"""`--max-logprobs` by default (vLLM's default; the critics ask for 10)."""
AGREEMENT_PROMPTS = (
    "What is 17 + 25? Answer in steps.",
    "Name three colours.",
    "Explain what a prime number is.",
    "Write a short poem about the sea.",
    "What is the capital of France?",
    "Solve 3x + 5 = 20 step by step.",
)
"""The chat prompts on which an export is checked against llama.cpp (`agreement`)."""
_SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Metrics = dict[tuple[str, frozenset[tuple[str, str]]], float]


class ServerStartError(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log's tail."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def parse_metrics(text: str) -> Metrics:
    """Prometheus text exposition → {(name, labels): value}."""
    samples = {}
    for line in text.splitlines():
        if line.startswith("#") or not (match := _SAMPLE.match(line)):
            continue
        name, labels, value = match.groups()
        samples[name, frozenset(_LABEL.findall(labels or ""))] = float(value)
    return samples


def read_metrics(root: str) -> Metrics:
    """The counters, gauges and histograms of the server at `root` (no `/v1`), read now."""
    with urllib.request.urlopen(f"{root}/metrics", timeout=10) as reply:
        return parse_metrics(reply.read().decode())


def metric(samples: Metrics, name: str, **labels: str) -> float:
    """The sum of `name` over the series whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


class VllmServer:
    """One vLLM OpenAI-compatible server process on 127.0.0.1 serving an exported folder."""

    def __init__(
        self,
        model_dir: Path,
        log: Path,
        *,
        max_logprobs: int = MAX_LOGPROBS,
        name: str = MODEL,
        port: int | None = None,
        cores: str | None = None,
        extra: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.model_dir = model_dir
        self.name = name
        self.port = port or free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.root}/v1"
        self.log = log
        self.max_logprobs = max_logprobs
        self.cores = cores
        """`VLLM_CPU_OMP_THREADS_BIND` (e.g. "0"); None: vLLM's `auto`."""
        self.extra = list(extra)
        self.env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.started_in_s: float | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 600.0) -> VllmServer:
        """Start the server and wait until `/v1/models` answers (about a minute on 2 cores).

        Raises:
            ServerStartError: the server exited, or did not answer within `timeout` seconds.
        """
        command = [
            str(VLLM_PYTHON), "-m", "vllm.entrypoints.openai.api_server",
            "--model", str(self.model_dir), "--served-model-name", self.name,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--dtype", "bfloat16", "--max-model-len", str(CONTEXT),
            # eager: no torch.compile warm-up (minutes on 2 cores); prefix caching is on by default
            # in vLLM's V1 engine and named here because the tests measure it
            "--enforce-eager", "--enable-prefix-caching",
            # KV blocks of 32 tokens, not vLLM-CPU's 128: only whole blocks are cached, and the tests'
            # prompts are 40-300 tokens (a MUR run's hit rate: 0.20 with 128, 0.68 with 32)
            "--block-size", "32",
            "--max-logprobs", str(self.max_logprobs), "--seed", "0",
            "--uvicorn-log-level", "warning", *self.extra,
        ]  # fmt: skip
        # 1 GiB of KV cache (46,592 tokens of SmolLM2) instead of vLLM-CPU's default 4 GiB.
        env = os.environ | {"VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"} | self.env
        if self.cores is not None:
            env["VLLM_CPU_OMP_THREADS_BIND"] = self.cores
        started = time.monotonic()
        with self.log.open("ab") as log:
            # its own process group: kill() and stop() reach the engine process it forks, too
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        while time.monotonic() < started + timeout:
            if self.process.poll() is not None:
                msg = f"vLLM exited with {self.process.returncode}:\n{self.log_tail()}"
                raise ServerStartError(msg)
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as reply:
                    if reply.status == 200:
                        self.started_in_s = time.monotonic() - started
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        self.stop()
        msg = f"vLLM did not answer within {timeout:.0f} s:\n{self.log_tail()}"
        raise ServerStartError(msg)

    def metrics(self) -> Metrics:
        """The server's Prometheus counters, gauges and histograms, read now."""
        return read_metrics(self.root)

    def metric(self, name: str, **labels: str) -> float:
        """The sum of `name` over the series whose labels include `labels`."""
        return metric(self.metrics(), name, **labels)

    def settled_metrics(self, timeout: float = 10.0) -> Metrics:
        """The metrics once no request runs or waits and two reads 0.1 s apart agree.

        vLLM may send a reply just before it records the finished request's statistics, so a read
        right after the last reply could miss them.
        """
        deadline = time.monotonic() + timeout
        last = self.metrics()
        while True:
            time.sleep(0.1)
            now = self.metrics()
            busy = metric(now, "vllm:num_requests_running") + metric(now, "vllm:num_requests_waiting")
            if (now == last and not busy) or time.monotonic() > deadline:
                return now
            last = now

    def kill(self) -> None:
        """Kill the server and its engine process at once (SIGKILL to the group), as a crash would."""
        if self.running:
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        """Stop the server (SIGTERM to the group, then SIGKILL after 30 s)."""
        if self.running:
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def post(root: str, path: str, body: dict[str, Any]) -> Any:
    """POST `body` as JSON to the server at `root` (no `/v1`); return the JSON answer."""
    request = urllib.request.Request(
        root + path, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=600) as reply:
        return json.load(reply)


@dataclass(frozen=True)
class Agreement:
    """How vLLM on an export scores llama.cpp's greedy tokens on the GGUF (teacher-forced)."""

    positions: int
    argmax_agrees: int
    """Positions where vLLM's most likely token is llama.cpp's greedy token."""
    losing_margins: tuple[float, ...]
    """Where it is not: by how many nats vLLM's best beats llama.cpp's token."""
    deltas: tuple[float, ...]
    """|Δ log-prob| of each generated token, sorted."""

    def quantile(self, q: float) -> float:
        return self.deltas[min(len(self.deltas) - 1, int(q * len(self.deltas)))]

    def describe(self) -> str:
        return (
            f"argmax agrees at {self.argmax_agrees}/{self.positions}, |Δ log-prob| median "
            f"{self.quantile(0.5):.4f} p95 {self.quantile(0.95):.4f} max {self.deltas[-1]:.4f}, "
            f"losing margins {sorted(round(x, 3) for x in self.losing_margins)}"
        )


def agreement(llama: Any, root: str, prompts: Sequence[str], tokens: int, model: str = MODEL) -> Agreement:
    """Score llama.cpp's greedy tokens on the vLLM server at `root`, position by position.

    Each prompt is decoded greedily by `llama` (a `ChatLlamaCpp` on the GGUF); the server scores
    the same prompt and tokens (`prompt_logprobs`, teacher-forced) from the export it serves.

    Raises:
        AssertionError: vLLM renders a prompt (chat template, tokenizer) other than llama.cpp does.
    """
    from langchain_core.messages import HumanMessage

    deltas: list[float] = []
    margins: list[float] = []
    positions = 0
    for prompt in prompts:
        messages = [HumanMessage(prompt)]
        ids = list(llama.llama.tokenize(llama.render_prompt(messages).encode(), add_bos=False, special=True))
        chat = [{"role": "user", "content": prompt}]
        rendered = post(root, "/tokenize", {"model": model, "messages": chat, "add_generation_prompt": True})
        assert rendered["tokens"] == ids, f"vLLM renders {prompt!r} other than llama.cpp"
        (generation,) = llama.generate([messages], max_tokens=tokens, temperature=0.0).generations[0]
        greedy = generation.generation_info["token_ids"]
        expected = [e["logprob"] for e in generation.message.response_metadata["logprobs"]["content"]]
        body = {"model": model, "prompt": ids + greedy, "max_tokens": 1, "temperature": 0}
        body["prompt_logprobs"] = 1
        scored = post(root, "/v1/completions", body)["choices"][0]["prompt_logprobs"][len(ids) :]
        for token, entry, logprob in zip(greedy, scored, expected, strict=True):
            ours = entry[str(token)]["logprob"]
            best = max(alternative["logprob"] for alternative in entry.values())
            deltas.append(abs(ours - logprob))
            if best > ours:
                margins.append(best - ours)
            positions += 1
    return Agreement(positions, positions - len(margins), tuple(margins), tuple(sorted(deltas)))
