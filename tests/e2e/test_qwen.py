"""The default model, Qwen2.5-Coder-1.5B on llama.cpp: the README's command answers; reuse is exact."""

import json
import subprocess
import sys

import pytest

from mur_graph.models import ChatLlamaCpp, load_chat_model
from mur_graph.models.qwen import QWEN_DISPLAY_NAME, qwen_gguf_path
from mur_graph.prompts import policy_messages, step_format

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
        assert fast_lp == pytest.approx(slow_lp, abs=1e-3)
        if index:
            assert (
                fast.usage_metadata["input_token_details"]["cache_read"]
                > fast.usage_metadata["input_tokens"] // 2
            )
        kept.append(FMT.format(index, fast.content))
