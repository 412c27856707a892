"""mur-graph through `ChatOpenAI(logprobs=True)` against a real llama.cpp server on 127.0.0.1.

This is the path a user takes with vLLM: the contract's requests (log-probs, top log-probs,
max_tokens, stop strings, seeds, n) reach a real server, and the whole graph, the CLI and an
evaluation run against it — including the server dying mid-run.
"""

import json
import math
import subprocess
import sys
import time

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_openai import ChatOpenAI

from mur_graph import MURConfig, create_mur_graph
from mur_graph.cli import main
from mur_graph.eval.results import latest_by_id, read_records
from mur_graph.ledger import ledger_totals
from mur_graph.models import ContextLengthError
from mur_graph.models.contract import sample
from tests.server.conftest import MODEL, LlamaServer

pytestmark = pytest.mark.server

SHORT = ["--max-steps", "2", "--max-step-tokens", "8", "--fallback-tokens", "8", "--seed", "0"]
"""Few tokens: llama-cpp-python sorts the whole vocabulary in Python for each token's log-probs."""


def client(server: LlamaServer, **kwargs) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=server.url, api_key="EMPTY", model=MODEL, logprobs=True, timeout=60, max_retries=1, **kwargs
    )


def ask(text: str) -> list:
    return [HumanMessage(text)]


def test_the_server_returns_chat_logprobs_in_openais_shape(llama_server):
    (gen,) = sample(
        client(llama_server), ask("What is 2 + 2?"), max_tokens=8, temperature=0.0, top_logprobs=3
    )
    assert gen.text and 1 <= len(gen.token_logprobs) <= 8
    assert all(math.isfinite(lp) and lp <= 0.0 for lp in gen.token_logprobs)
    assert all(1 <= len(top) <= 4 for top in gen.top_logprobs)  # 3 asked for, plus the chosen token
    assert gen.finish_reason in ("stop", "length")
    assert gen.n_tokens >= len(gen.token_logprobs)


def test_max_tokens_is_honoured_and_a_cut_sample_says_length(llama_server):
    (gen,) = sample(
        client(llama_server), ask("Count from 1 to 100, separated by commas."), max_tokens=5, temperature=0.0
    )
    assert len(gen.token_logprobs) == 5 and gen.finish_reason == "length"


def test_stop_strings_end_the_sample_and_are_removed(llama_server):
    (gen,) = sample(
        client(llama_server),
        ask("Count from 1 to 20, separated by commas."),
        stop=["\n"],
        max_tokens=16,
        temperature=0.0,
    )
    assert "\n" not in gen.text and gen.finish_reason == "stop" and len(gen.token_logprobs) < 16


def recording_client(server: LlamaServer) -> tuple[ChatOpenAI, list[dict]]:
    """A client whose request bodies are recorded, to check what was really sent."""
    bodies: list[dict] = []

    def record(request: httpx.Request) -> None:
        bodies.append(json.loads(request.content))

    http = httpx.Client(event_hooks={"request": [record]}, timeout=60)
    return client(server, http_client=http), bodies


def test_the_server_ignores_n_so_samples_are_asked_for_one_by_one_with_distinct_seeds(llama_server):
    server, bodies = recording_client(llama_server)
    gens = sample(server, ask("Name a colour."), n=2, max_tokens=4, temperature=1.0, seed=11)
    assert len(gens) == 2 and all(g.token_logprobs for g in gens)
    # The first request asks for both; the server returns one, so the second asks for the rest
    # with the next seed (a repeat of seed 11 would return the same sample again).
    assert [(b["n"], b["seed"]) for b in bodies] == [(2, 11), (1, 12)]


def test_a_seeded_request_is_reproducible_from_the_same_prompt_cache_state(llama_server):
    # What llama.cpp's server guarantees (docs/reliability.md): it keeps the last request's
    # tokens and evaluates only what follows the longest common prefix, at least the prompt's
    # last token. A prompt suffix evaluated as a batch and a last token evaluated alone go
    # through other kernels and give other logits (first-token log-probs 0.003 to 0.13 apart
    # over 25 seeds), so at temperature 1 a request on a cold cache drew another text than its
    # repeat for 22 of those 25 seeds ('The color I am' against 'The color I mentioned' in a
    # red CI run), and repeats from the same cache state never differed. So: warm the cache
    # with the prompt, then the same seed twice must give the same text.
    server = client(llama_server)
    messages = ask("Name a colour.")
    sample(server, messages, max_tokens=4, temperature=1.0, seed=5)
    (first,) = sample(server, messages, max_tokens=4, temperature=1.0, seed=11)
    (again,) = sample(server, messages, max_tokens=4, temperature=1.0, seed=11)
    assert again.text == first.text, "a seeded request from the same cache state is reproducible"
    assert again.token_logprobs == pytest.approx(first.token_logprobs, abs=1e-6)


def test_a_prefilled_assistant_turn_is_accepted(llama_server):
    # llama-cpp-python's server ignores continue_final_message: it closes the prefilled turn and
    # opens a new one (docs/reliability.md). The request must still work and carry log-probs.
    messages = [HumanMessage("What is 17 + 25? Answer in steps."), AIMessage("Step0:")]
    (gen,) = sample(client(llama_server), messages, max_tokens=8, temperature=0.0)
    assert gen.token_logprobs and all(lp <= 0.0 for lp in gen.token_logprobs)


def test_a_mur_run_through_chat_openai(llama_server):
    config = MURConfig(
        mode="per_step", candidates=2, max_steps=2, max_step_tokens=8, fallback_tokens=8, seed=0
    )
    graph = create_mur_graph(client(llama_server), config=config)
    state = graph.invoke({"question": "What is 17 + 25?"})
    steps = state["steps"]
    assert 1 <= len(steps) <= 2 and all(s["scaled"] for s in steps)
    assert all(math.isfinite(s["uncertainty"]) and s["uncertainty"] >= 0.0 for s in steps)
    assert all(len(s["candidates"]) == 2 for s in steps)
    booked = sum(sum(s["tokens"].values()) for s in steps)
    booked += state["fallback"]["n_tokens"] if state.get("fallback") else 0
    assert ledger_totals(state["ledger"])["total"] == booked > 0


def test_the_cli_solves_through_the_server(llama_server, capsys):
    argv = ["solve", "What is 17 + 25?", "--model", MODEL, "--base-url", llama_server.url, "--mode", "cot"]
    assert main([*argv, *SHORT, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["policy"] == MODEL and document["n_steps"] >= 1
    assert document["totals"]["total"] > 0


def test_a_question_longer_than_the_context_is_refused_naming_the_limit(llama_server):
    graph = create_mur_graph(client(llama_server), config=MURConfig(mode="cot", max_step_tokens=16))
    with pytest.raises(ContextLengthError, match=r"maximum context length is 512 tokens"):
        graph.invoke({"question": "Add these numbers: " + " + ".join(["12345"] * 2000)})


def test_an_eval_survives_the_server_dying_and_a_rerun_resumes(spare_server, tmp_path):
    spare_server.start()
    dataset = tmp_path / "toy.jsonl"
    dataset.write_text(
        "".join(
            json.dumps({"id": f"q{i}", "input": f"What is {i} + {i}?", "target": str(2 * i)}) + "\n"
            for i in range(6)
        )
    )
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "mur_graph.cli", "eval", "--dataset", str(dataset), "--out", str(out),
        "--model", MODEL, "--base-url", spare_server.url, "--mode", "cot", *SHORT,
        "--request-timeout", "120", "--max-retries", "1",
    ]  # fmt: skip
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("*.jsonl")) or not read_records(next(out.glob("*.jsonl"))):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()[1]
        time.sleep(0.05)
    spare_server.kill()  # mid-run: the rest cannot reach it
    _, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    (path,) = out.glob("*.jsonl")
    first = read_records(path)
    failed = [r for r in first if r["status"] == "failed"]
    assert len(first) == 6 and failed, "every question is recorded, the ones after the crash as failed"
    assert all(spare_server.url in r["error"] and "ServerUnavailableError" in r["error"] for r in failed)
    assert f"{len(failed)} failed" in err

    spare_server.start()  # the server is back on the same port: the rerun retries the failed ones
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    records = read_records(path)
    assert len(records) == 6 + len(failed), "only the failed questions ran again"
    latest = latest_by_id(records)
    assert sorted(latest) == [f"q{i}" for i in range(6)]
    assert all(r["status"] == "ok" for r in latest.values()), [r.get("error") for r in latest.values()]
    ok_ids = [r["id"] for r in records if r["status"] == "ok"]
    assert len(ok_ids) == len(set(ok_ids)) == 6, "no question answered twice"
