"""Two vLLM replicas (one core each) behind vLLM Router: questions per hour and prefix-cache hits.

The road beyond one machine, run on one: replicas of the SmolLM2 export (`.venv-vllm`, one CPU
core each through `VLLM_CPU_OMP_THREADS_BIND`) behind the router from PyPI (`vllm-router`), the
one base URL mur-graph is given. Arms, each on emptied prefix caches (`/reset_prefix_cache`,
vLLM's dev mode) and a fresh router: 1 replica behind the router; 2 replicas with
`sticky_least_loaded` (each run's requests carry its `X-Session-ID`, see
`mur_graph.models.routing_session`; a new session goes to the replica with the fewest sessions and
stays there); 2 replicas with `cache_aware` (the router tokenizes each request through the
replicas' `/v1/chat/completions/render`, which vLLM serves only with `--enable-scale-out`, and
sends it to the replica whose past prompts share most of its tokens); 2 replicas, `round_robin`.
Each arm runs the same `mur-graph eval` (per-step guided search, generative critic, N=4: every
step shares its prefix with 4 candidates and 4 critic calls) at `--concurrency`, and reports
questions per hour, the hit rate summed over the replicas' own `/metrics`, the requests each
replica served, the router's own decision counters, and, from the router's log of sessions, how
many runs had all their requests served by one replica.

    .venv-vllm/bin/python -m pip install vllm-router==0.1.17
    PYTHONPATH=. .venv/bin/python benchmarks/vllm/router.py --questions 8 --concurrency 4
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from benchmarks.common import table, write
from mur_graph.cli import main as mur_graph
from mur_graph.eval.results import read_records
from mur_graph.models import export_hf
from tests.vllm.server import MODEL, VLLM_PYTHON, VllmServer, free_port, metric, post, read_metrics

OUT = Path(__file__).resolve().parents[1] / "results" / "vllm"
Arm = tuple[str, str, list[str]]
"""An arm: its name, the router's policy and the router's further options."""
ARMS: list[Arm] = [
    ("1 replica", "cache_aware", []),
    ("2 replicas, sticky_least_loaded", "sticky_least_loaded", []),
    ("2 replicas, cache_aware", "cache_aware", []),  # --cache-threshold 0.3, its default
    ("2 replicas, cache_aware, threshold 0.5", "cache_aware", ["--cache-threshold", "0.5"]),
    ("2 replicas, round_robin", "round_robin", []),
]
SCALE_OUT = ["--enable-scale-out"]
"""vLLM's flag for `/v1/chat/completions/render`: without it (403), cache_aware has no token ids
and routes every request by load alone (its decisions all `missing_tokens`)."""
ROUTER = VLLM_PYTHON.parent / "vllm-router"
SETTINGS = [
    "--mode", "per_step", "--critic-kind", "generative", "--candidates", "4", "--max-steps", "3",
    "--max-step-tokens", "24", "--fallback-tokens", "16", "--seed", "0",
]  # fmt: skip
COUNTERS = ("vllm:prefix_cache_hits_total", "vllm:prefix_cache_queries_total", "vllm:request_params_n_count")
ROUTER_DECISIONS = "vllm_router_prefix_routing_decisions_total"
"""cache_aware's decision per request: prefix_hit, prefix_miss, load_imbalance, or missing_tokens
(no token ids from the replica's render endpoint: routed by load alone)."""
SESSION_LINE = re.compile(r"SLL: (?:new )?session '([^']+)' -> (?:existing )?replica '([^']+)'")
"""sticky_least_loaded's log line of each request with a session (INFO when new, DEBUG after)."""


class Router:
    """`vllm-router` on 127.0.0.1 in front of `workers`, with a routing `policy` and its `options`."""

    def __init__(self, workers: list[VllmServer], policy: str, options: list[str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.metrics_root = f"http://127.0.0.1:{free_port()}"
        self.log = log
        command = [
            str(ROUTER), "--host", "127.0.0.1", "--port", str(self.port), "--policy", policy,
            "--worker-urls", *(w.root for w in workers),
            "--prometheus-port", self.metrics_root.rsplit(":", 1)[1],
            # debug: sticky_least_loaded logs each request's session and replica
            "--log-level", "debug" if policy == "sticky_least_loaded" else "info", *options,
        ]  # fmt: skip
        with log.open("ab") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(log.read_text()[-3000:])

    def decisions(self) -> str:
        """cache_aware's decision counts by outcome, e.g. "prefix_hit 140 / prefix_miss 12"."""
        samples = read_metrics(self.metrics_root)
        found = {dict(labels)["outcome"]: v for (n, labels), v in samples.items() if n == ROUTER_DECISIONS}
        return " / ".join(f"{outcome} {int(n)}" for outcome, n in sorted(found.items())) or "—"

    def sessions(self) -> dict[str, set[str]]:
        """Each session's replicas, from sticky_least_loaded's log lines."""
        found: dict[str, set[str]] = {}
        for session, replica in SESSION_LINE.findall(self.log.read_text(errors="replace")):
            found.setdefault(session, set()).add(replica)
        return found

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def write_questions(path: Path, count: int) -> Path:
    lines = [
        json.dumps({"id": f"q{i}", "input": f"What is {13 + i} + {29 + 2 * i}?", "target": str(42 + 3 * i)})
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_arm(
    arm: Arm, workers: list[VllmServer], dataset: Path, concurrency: int, tmp: Path
) -> dict[str, object]:
    name, policy, options = arm
    tmp.mkdir(parents=True, exist_ok=True)
    for worker in workers:
        post(worker.root, "/reset_prefix_cache", {})
    before = [worker.settled_metrics() for worker in workers]
    slug = re.sub(r"[^\w.]+", "_", name)
    router = Router(workers, policy, options, tmp / f"router-{slug}.log")
    out = tmp / slug
    started = time.perf_counter()
    try:
        argv = ["eval", "--dataset", str(dataset), "--out", str(out), "--model", MODEL]
        status = mur_graph([*argv, "--base-url", router.url, "--concurrency", str(concurrency), *SETTINGS])
    finally:
        wall = time.perf_counter() - started
        decisions = router.decisions() if policy == "cache_aware" else "—"
        router.stop()
    assert status == 0
    (path,) = out.glob("*.jsonl")
    records = read_records(path)
    assert all(r["status"] == "ok" for r in records), [r.get("error") for r in records]
    after = [worker.settled_metrics() for worker in workers]
    delta = {
        name: [metric(b, name) - metric(a, name) for a, b in zip(before, after, strict=True)]
        for name in COUNTERS
    }
    hits, queries = sum(delta[COUNTERS[0]]), sum(delta[COUNTERS[1]])
    sessions = router.sessions()
    return {
        "arm": name,
        "questions": len(records),
        "wall_s": round(wall, 1),
        "questions_per_hour": round(len(records) / wall * 3600, 1),
        "hit_rate": round(hits / queries, 3),
        "prompt_tokens": int(queries),
        "requests_per_replica": " / ".join(str(int(n)) for n in delta[COUNTERS[2]]),
        "router_decisions": decisions,
        # runs whose requests one replica served, of the runs the router logged (sessions)
        "runs_on_one_replica": f"{sum(len(r) == 1 for r in sessions.values())} of {len(sessions)}"
        if sessions
        else "—",
        "tokens_per_question": round(sum(r["result"]["totals"]["total"] for r in records) / len(records)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--reps", type=int, default=1, help="repetitions of the arms, order rotated")
    args = parser.parse_args(argv)
    folder = export_hf(MODEL)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        dataset = write_questions(tmp / "questions.jsonl", args.questions)
        dev = {"VLLM_SERVER_DEV_MODE": "1"}  # for /reset_prefix_cache
        # --enable-scale-out: the render endpoint through which cache_aware tokenizes a request
        replicas = [
            VllmServer(folder, tmp / f"vllm{core}.log", cores=str(core), env=dev, extra=SCALE_OUT)
            for core in (0, 1)
        ]
        threads = [threading.Thread(target=replica.start) for replica in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(replica.running for replica in replicas), [r.log_tail() for r in replicas]
        started = [round(replica.started_in_s or 0.0) for replica in replicas]
        rows = []
        try:
            for rep in range(args.reps):
                for arm in ARMS[rep % len(ARMS) :] + ARMS[: rep % len(ARMS)]:
                    workers = replicas[:1] if arm[0].startswith("1 replica") else replicas
                    row = run_arm(arm, workers, dataset, args.concurrency, tmp / f"rep{rep}")
                    print(row, flush=True)
                    rows.append({"rep": rep, **row})
        finally:
            for replica in replicas:
                replica.stop()
    columns = [
        "arm", "rep", "questions", "wall_s", "questions_per_hour", "hit_rate", "prompt_tokens",
        "requests_per_replica", "router_decisions", "runs_on_one_replica", "tokens_per_question",
    ]  # fmt: skip
    markdown = (
        f"## vLLM Router on one 2-core machine: {args.questions} questions, "
        f"concurrency {args.concurrency}\n\n"
        f"`mur-graph eval {' '.join(SETTINGS)}`; SmolLM2-135M bf16 on vllm-cpu 0.32.0, one core per "
        f"replica, started with `--enable-scale-out` (the render endpoint cache_aware tokenizes "
        f"through); vllm-router 0.1.17. Replicas answered {started} s after start. router_decisions: "
        f"the router's `{ROUTER_DECISIONS}` by outcome; runs_on_one_replica: of the sessions "
        f"sticky_least_loaded logged (one per question's run).\n\n" + table(rows, columns)
    )
    write("router", {"settings": SETTINGS, "rows": rows, "replica_start_s": started}, markdown, out=OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
