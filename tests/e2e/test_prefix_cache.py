"""Prefix reuse in ChatTransformers on the real embedded model: same text and log-probs as re-encoding."""

import pytest

from mur_graph import ChatTransformers
from mur_graph.prompts import policy_messages, step_format

pytestmark = pytest.mark.real_model

QUESTION = "What is 17 + 25?"
FMT = step_format("prompted")


@pytest.fixture(scope="module")
def pair(embedded):
    """The same model with prefix reuse (a fresh store) and without it."""
    return (
        ChatTransformers(llm=embedded.llm, prefix_cache=True),
        ChatTransformers(llm=embedded.llm, prefix_cache=False),
    )


def logprobs(message):
    return [entry["logprob"] for entry in message.response_metadata["logprobs"]["content"]]


def test_greedy_steps_with_reuse_match_re_encoding_and_hit_the_cache(pair):
    reuse, plain = pair
    kept: list[str] = []
    for index in range(3):
        messages = policy_messages(QUESTION, kept, index, FMT)
        kwargs = {"max_tokens": 12, "temperature": 0, "stop": FMT.stops(index)}
        fast, slow = reuse.invoke(messages, **kwargs), plain.invoke(messages, **kwargs)
        assert fast.content == slow.content
        assert logprobs(fast) == pytest.approx(logprobs(slow), abs=1e-4)
        assert fast.usage_metadata["input_tokens"] == slow.usage_metadata["input_tokens"]
        assert fast.usage_metadata["output_tokens"] == slow.usage_metadata["output_tokens"]
        assert fast.response_metadata["finish_reason"] == slow.response_metadata["finish_reason"]
        cache_read = fast.usage_metadata["input_token_details"]["cache_read"]
        if index:  # the previous step's prompt and kept tokens are reused, not re-encoded
            assert cache_read > slow.usage_metadata["input_tokens"] // 2
        assert plain.prefix_store is None
        kept.append(FMT.format(index, fast.content))
    assert 1 <= len(reuse.prefix_store) <= reuse.prefix_cache_entries


def test_n_samples_share_one_prefill_and_match_re_encoding(pair):
    reuse, plain = pair
    messages = policy_messages(QUESTION, ["Step0: 17 + 25 = 42"], 1, FMT)
    for kwargs in (
        {"n": 3, "max_tokens": 8, "temperature": 0, "top_logprobs": 2},
        {"n": 3, "max_tokens": 8, "temperature": 0.8, "seed": 5, "stop": FMT.stops(1)},
    ):
        fast = reuse.generate([messages], **kwargs).generations[0]
        slow = plain.generate([messages], **kwargs).generations[0]
        assert len(fast) == len(slow) == 3
        for a, b in zip(fast, slow, strict=True):
            assert a.text == b.text
            assert a.generation_info == b.generation_info
            assert logprobs(a.message) == pytest.approx(logprobs(b.message), abs=1e-4)
    # the same prompt again reuses all of it but the last token, which generate encodes
    again = reuse.generate([messages], n=2, max_tokens=4, temperature=0).generations[0]
    prompt_len = again[0].message.usage_metadata["input_tokens"]
    assert again[0].message.usage_metadata["input_token_details"]["cache_read"] == prompt_len - 1


def test_the_static_cache_path_gives_the_same_greedy_text_and_turns_reuse_off(pair):
    _, plain = pair
    static = ChatTransformers(llm=plain.llm, static_cache=True, static_cache_len=256)
    assert static.prefix_store is None
    messages = policy_messages(QUESTION, [], 0, FMT)
    fast = static.invoke(messages, max_tokens=6, temperature=0)
    slow = plain.invoke(messages, max_tokens=6, temperature=0)
    assert fast.content == slow.content
    assert logprobs(fast) == pytest.approx(logprobs(slow), abs=1e-4)
