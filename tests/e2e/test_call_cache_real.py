"""`--call-cache` with the real SmolLM2 on llama.cpp: the same runs as without it, fewer calls.

A warm cache replays every call of a rerun and a γ neighbour replays the calls before its gate
first decides otherwise; the runs are the ones the model gives without the cache, bit for bit.
"""

import json

import pytest

from mur_graph.cli import main
from mur_graph.eval.results import read_records
from mur_graph.models import ChatLlamaCpp
from mur_graph.models.call_cache import CallCache
from mur_graph.models.embedded import find_embedded_gguf
from tests.unit.test_call_cache import same_run

pytestmark = pytest.mark.real_model

SETTINGS = ["--max-steps", "3", "--max-step-tokens", "16", "--fallback-tokens", "8", "--seed", "0"]


def eval_cell(tmp_path, out, gamma, *cache):
    dataset = tmp_path / "toy.jsonl"
    if not dataset.exists():
        questions = [{"id": f"q{i}", "input": f"What is {i} + {i}?", "target": str(2 * i)} for i in (3,)]
        dataset.write_text("".join(json.dumps(q) + "\n" for q in questions))
    argv = ["eval", "--dataset", str(dataset), "--out", str(tmp_path / out), "--mode", "mur"]
    argv += ["--critic-kind", "confidence", "--gamma", str(gamma), *SETTINGS, *cache]
    assert main(argv) == 0
    (path,) = (tmp_path / out).glob("*.jsonl")
    return read_records(path)


def test_a_cached_run_is_the_uncached_run_and_a_gamma_neighbour_replays_its_shared_steps(tmp_path):
    cache = ["--call-cache", str(tmp_path / "calls.sqlite")]
    plain = eval_cell(tmp_path, "plain", 0.8)
    cold = eval_cell(tmp_path, "cold", 0.8, *cache)
    with CallCache(tmp_path / "calls.sqlite") as calls:
        stored = len(calls)
    warm = eval_cell(tmp_path, "warm", 0.8, *cache)
    neighbour = eval_cell(tmp_path, "neighbour", 0.95, *cache)

    assert [same_run(r) for r in cold] == [same_run(r) for r in plain]
    assert [same_run(r) for r in warm] == [same_run(r) for r in plain]
    assert [r["replayed"]["calls"] for r in cold] == [0]
    assert sum(r["replayed"]["calls"] for r in warm) == stored  # every call of the rerun replayed
    assert all(r["wall_time_s"] >= r["replayed"]["seconds"] > 0 for r in warm)
    assert all(r["replayed"]["calls"] >= 1 for r in neighbour)  # at least step 0's draft


def test_two_gguf_settings_never_share_a_key():
    path = str(find_embedded_gguf())
    default, small = ChatLlamaCpp(model_path=path), ChatLlamaCpp(model_path=path, n_ctx=512)
    assert path in default._get_llm_string()
    assert default._get_llm_string() != small._get_llm_string()
