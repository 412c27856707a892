"""The default model, Qwen2.5-Coder-1.5B on llama.cpp: the README's command answers; reuse is exact.

On this model's Q4_K_M kernels, llama.cpp's logits depend on how a prompt is cut into batches, so
these tests fail if prefix reuse ever encodes a prompt in other pieces than a fresh encoding does
(before chunk-aligned prefill, 7 of the 10 calls of two scaled steps differed; SmolLM2 never did).
"""

import json
import subprocess
import sys

import pytest

from mur_graph.models import ChatLlamaCpp, load_chat_model
from mur_graph.models.qwen import QWEN_DISPLAY_NAME, qwen_gguf_path
from mur_graph.prompts import policy_messages, step_format
from tests.e2e.reuse_check import compare_scaled_step, compare_warm_and_cold, warm_up

pytestmark = pytest.mark.real_model

FMT = step_format("prompted")


def test_the_readme_command_solves_17_plus_25_and_shows_every_decision():
    command = [sys.executable, "-m", "mur_graph.cli", "solve", "What is 17 + 25?", "--json", "--seed", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert trace["answer"] == "42", done.stderr
    assert trace["n_steps"] >= 1
    for step in trace["steps"]:
        for key in ("uncertainty", "momentum_before", "threshold", "scaled", "tokens"):
            assert key in step
    assert "policy: qwen2.5-coder-1.5b" in done.stderr and "Step0" in done.stderr


def test_greedy_steps_with_reuse_match_re_encoding_on_the_1_5b():
    reuse = load_chat_model("qwen2.5-coder-1.5b")
    assert isinstance(reuse, ChatLlamaCpp) and reuse.model_name == QWEN_DISPLAY_NAME
    plain = ChatLlamaCpp(model_path=str(qwen_gguf_path()), prefix_cache=False)
    kept: list[str] = []
    for index in range(3):
        messages = policy_messages("What is 17 + 25?", kept, index, FMT)
        kwargs = {"max_tokens": 8, "temperature": 0, "stop": FMT.stops(index)}
        fast, slow = reuse.invoke(messages, **kwargs), plain.invoke(messages, **kwargs)
        assert fast.content == slow.content
        fast_lp = [e["logprob"] for e in fast.response_metadata["logprobs"]["content"]]
        slow_lp = [e["logprob"] for e in slow.response_metadata["logprobs"]["content"]]
        assert fast_lp == slow_lp
        if index:
            assert (
                fast.usage_metadata["input_token_details"]["cache_read"]
                > fast.usage_metadata["input_tokens"] // 2
            )
        kept.append(FMT.format(index, fast.content))


def test_the_calls_of_scaled_steps_are_bit_identical_with_reuse_on_the_1_5b():
    path = str(qwen_gguf_path())
    reuse, plain = ChatLlamaCpp(model_path=path), ChatLlamaCpp(model_path=path, prefix_cache=False)
    for question in ("What is 17 + 25?", "What is the remainder when 2^100 is divided by 7?"):
        compared = compare_scaled_step(reuse, plain, question)
        assert compared == {name: (True, read) for name, (_, read) in compared.items()}, question
        assert compared["verdict 0 again"][1] > compared["verdict 0"][1]  # it read its own prompt back


def test_critic_p_yes_and_candidate_m_t_are_the_same_from_a_warm_cache_as_from_a_cold_one_on_the_1_5b():
    """A warm cache gives the critic path's numbers of a cold one on the 1.5B.

    Before chunk-aligned prefill (ada63fc), all five verdicts of this path moved with what the
    cache held (P(Yes) by 0.0003 to 0.043: 0.5946 warm, 0.5518 cold for "verdict B").
    """
    path = str(qwen_gguf_path())
    warm, plain = ChatLlamaCpp(model_path=path), ChatLlamaCpp(model_path=path, prefix_cache=False)
    warm_up(warm, "What is the remainder when 2^100 is divided by 7?")
    compared = compare_warm_and_cold(warm, lambda: ChatLlamaCpp(model_path=path), plain, "What is 17 + 25?")
    assert compared == {name: (True, read) for name, (_, read) in compared.items()}


def test_plain_mode_runs_the_model_plainly_under_its_own_chat_template_and_answers():
    command = [
        sys.executable,
        "-m",
        "mur_graph.cli",
        "solve",
        "What is 17 + 25?",
        "--json",
        "--mode",
        "plain",
    ]
    command += ["--temperature", "0"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert trace["answer"] == "42", done.stderr
    (step,) = trace["steps"]
    assert "\\boxed{42}" in step["text"] and not step["text"].startswith("Step0")
    assert trace["stop_reason"] == "answer" and not step["scaled"]
    assert trace["totals"]["total"] == step["tokens"]["policy_step"] > 0
