"""ChatTransformers on the real embedded model: the ChatOpenAI(logprobs=True) contract."""

import math

import pytest
from langchain_core.messages import AIMessage, HumanMessage

pytestmark = pytest.mark.real_model

QUESTION = [HumanMessage("Q: What is 17 + 25?\nStart each step with 'Step<k>:'."), AIMessage("Step0:")]


def test_a_reply_carries_openai_shaped_logprobs_and_usage(embedded):
    reply = embedded.invoke(QUESTION, max_tokens=12, temperature=0.6, seed=3, top_logprobs=3)
    content = reply.response_metadata["logprobs"]["content"]
    assert 1 <= len(content) <= 12
    assert all(math.isfinite(e["logprob"]) and e["logprob"] <= 0 for e in content)
    assert all(len(e["top_logprobs"]) == 3 for e in content)
    assert reply.usage_metadata["output_tokens"] == len(content)
    assert reply.response_metadata["finish_reason"] in ("stop", "length")


def test_greedy_tokens_are_the_argmax_and_repeat_exactly(embedded):
    a = embedded.invoke(QUESTION, max_tokens=10, temperature=0, top_logprobs=1)
    b = embedded.invoke(QUESTION, max_tokens=10, temperature=0, top_logprobs=1)
    assert a.content == b.content
    entries_a = a.response_metadata["logprobs"]["content"]
    entries_b = b.response_metadata["logprobs"]["content"]
    assert [e["logprob"] for e in entries_a] == pytest.approx([e["logprob"] for e in entries_b], abs=1e-5)
    for entry in entries_a:  # raw-distribution log-probs: the greedy token is the top-1
        assert entry["logprob"] == pytest.approx(entry["top_logprobs"][0]["logprob"], abs=1e-5)


def test_seeded_samples_repeat_and_n_samples_come_in_one_call(embedded):
    result = embedded.generate([QUESTION], n=3, max_tokens=10, temperature=0.8, seed=11)
    again = embedded.generate([QUESTION], n=3, max_tokens=10, temperature=0.8, seed=11)
    texts = [g.text for g in result.generations[0]]
    assert len(texts) == 3
    assert texts == [g.text for g in again.generations[0]]


def test_stop_strings_end_the_step_and_are_cut_from_the_text(embedded):
    result = embedded.generate([QUESTION], n=2, stop=["Step1:"], max_tokens=60, temperature=0.6, seed=1)
    tokenizer = embedded.tokenizer
    for generation in result.generations[0]:
        text = generation.message.content
        assert "Step1:" not in text
        ids = generation.generation_info["token_ids"]
        decoded = tokenizer.decode(ids, skip_special_tokens=True)
        assert decoded.startswith(text)
        if generation.generation_info["finish_reason"] == "stop" and "Step1:" in decoded:
            # generation stopped on the token that completed the stop string
            assert "Step1:" not in tokenizer.decode(ids[:-1], skip_special_tokens=True)


def test_a_final_assistant_message_is_continued_not_answered(embedded):
    prompt = embedded.render_prompt(QUESTION)
    assert prompt.endswith("<|im_start|>assistant\nStep0:")
    fresh = embedded.render_prompt(QUESTION[:1])
    assert fresh.endswith("<|im_start|>assistant\n")


def test_a_prompt_longer_than_the_context_is_refused_before_generating(embedded):
    from mur_graph import MURConfig, create_mur_graph
    from mur_graph.models import ContextLengthError

    graph = create_mur_graph(embedded, config=MURConfig(max_steps=1))
    with pytest.raises(
        ContextLengthError, match=r"the prompt is \d+ tokens, but the model's context holds 8192"
    ):
        graph.invoke({"question": "seven " * 9000})
