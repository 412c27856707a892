"""ChatLlamaCpp on the real SmolLM2 GGUF: the model contract, prefix reuse, streaming, agreement.

Prefix reuse must not change results: texts and log-probs bit-identical to a model that encodes
every prompt afresh, over three chained steps of a MUR solve, for n samples of one call, over the
calls of a scaled step (candidates, critic verdicts, the next step), and on the critic path of a
model whose cache holds another question's prompts against a cold one.
"""

import math
import threading

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from mur_graph.models import ChatLlamaCpp, ContextLengthError
from mur_graph.models.contract import sample
from mur_graph.models.embedded import find_embedded_gguf
from mur_graph.models.llama_cpp import PREFILL_CHUNK
from mur_graph.prompts import policy_messages, step_format
from tests.e2e.reuse_check import compare_scaled_step, compare_warm_and_cold, warm_up

pytestmark = pytest.mark.real_model

QUESTION = "What is 17 + 25?"
OTHER_QUESTION = "What is the remainder when 2^100 is divided by 7?"
FMT = step_format("prompted")
AGREEMENT_TOLERANCE = 0.05
"""Mean |Δ log-prob| allowed between llama.cpp (Q4_1 kernels) and transformers (de-quantised fp32)."""


@pytest.fixture(scope="module")
def pair():
    """SmolLM2 on llama.cpp with prefix reuse and without it."""
    path = str(find_embedded_gguf())
    return ChatLlamaCpp(model_path=path), ChatLlamaCpp(model_path=path, prefix_cache=False)


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
        assert logprobs(fast) == logprobs(slow)
        assert fast.usage_metadata["input_tokens"] == slow.usage_metadata["input_tokens"]
        assert fast.usage_metadata["output_tokens"] == slow.usage_metadata["output_tokens"]
        assert fast.response_metadata["finish_reason"] == slow.response_metadata["finish_reason"]
        assert slow.usage_metadata["input_token_details"]["cache_read"] == 0
        if index:  # the previous step's prompt and kept tokens are reused, not re-encoded
            cache_read = fast.usage_metadata["input_token_details"]["cache_read"]
            assert cache_read > slow.usage_metadata["input_tokens"] // 2
        kept.append(FMT.format(index, fast.content))


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
            assert a.message.response_metadata["logprobs"] == b.message.response_metadata["logprobs"]
        prompt_len = fast[0].message.usage_metadata["input_tokens"]
        assert [g.message.usage_metadata["input_token_details"]["cache_read"] for g in fast[1:]] == [
            prompt_len - 1
        ] * 2


def test_every_call_of_a_scaled_step_is_bit_identical_with_reuse_and_reads_the_cache(pair):
    compared = compare_scaled_step(*pair, QUESTION)
    assert compared == {name: (True, read) for name, (_, read) in compared.items()}
    assert all(read % PREFILL_CHUNK == 0 for _, read in compared.values())
    assert compared["verdict 1"][1] > 0  # the verdicts share the critic prompt's head


def test_critic_p_yes_and_candidate_m_t_are_the_same_from_a_warm_cache_as_from_a_cold_one(pair):
    """The warm cache holds another question's critic path; each call is also made on a fresh model.

    Before chunk-aligned prefill (ada63fc), the last verdict here gave P(Yes) 0.3489 warm and
    0.3215 cold on this model: its prompt came back from a saved state cut mid-chunk.
    """
    path = str(find_embedded_gguf())
    warm = ChatLlamaCpp(model_path=path)
    warm_up(warm, OTHER_QUESTION)
    compared = compare_warm_and_cold(warm, lambda: ChatLlamaCpp(model_path=path), pair[1], QUESTION)
    assert compared == {name: (True, read) for name, (_, read) in compared.items()}
    verdicts = [read for name, (_, read) in compared.items() if name.startswith("verdict")]
    assert min(verdicts) >= PREFILL_CHUNK, compared  # every verdict started from the warm cache


def test_a_policy_prompt_is_restored_after_an_intervening_call(pair):
    reuse, plain = pair
    first = policy_messages(QUESTION, [], 0, FMT)
    step = reuse.invoke(first, max_tokens=10, temperature=0, stop=FMT.stops(0))
    reuse.invoke("Is 42 the sum of 17 and 25? Answer Yes or No.", max_tokens=2, temperature=0)  # a critic
    follow = policy_messages(QUESTION, [FMT.format(0, step.content)], 1, FMT)
    fast = reuse.invoke(follow, max_tokens=8, temperature=0)
    slow = plain.invoke(follow, max_tokens=8, temperature=0)
    assert fast.content == slow.content
    assert logprobs(fast) == logprobs(slow)
    # the first prompt came back from its saved state (to its last whole chunk), not from the critic's
    read = fast.usage_metadata["input_token_details"]["cache_read"]
    assert read >= (step.usage_metadata["input_tokens"] - 1) // PREFILL_CHUNK * PREFILL_CHUNK > 0
    assert read % PREFILL_CHUNK == 0


def test_contract_log_probs_tops_stops_finish_reasons_and_seeds(pair):
    model, _ = pair
    messages = policy_messages(QUESTION, [], 0, FMT)
    gens = sample(model, messages, n=2, max_tokens=6, temperature=0.7, seed=3, top_logprobs=3)
    again = sample(model, messages, n=2, max_tokens=6, temperature=0.7, seed=3, top_logprobs=3)
    assert gens == again  # per-sample seeds reproduce
    for gen in gens:
        assert gen.n_tokens == len(gen.token_logprobs) <= 6
        assert all(lp <= 0 and math.isfinite(lp) for lp in gen.token_logprobs)
        assert gen.finish_reason in {"stop", "length"}
        for tops in gen.top_logprobs:
            values = list(tops.values())
            assert len(values) <= 3 and values == sorted(values, reverse=True)
    # a stop string ends the row after the token that completes it and is cut from the text
    long = model.invoke(messages, max_tokens=40, temperature=0)
    stop = long.content.split()[1]
    cut = model.invoke(messages, max_tokens=40, temperature=0, stop=[stop])
    assert cut.response_metadata["finish_reason"] == "stop"
    assert cut.content == long.content[: long.content.index(stop)]
    assert stop not in cut.content
    assert 0 < len(logprobs(cut)) < len(logprobs(long))
    assert logprobs(cut) == logprobs(long)[: len(logprobs(cut))]
    short = model.invoke(messages, max_tokens=3, temperature=0)
    assert short.response_metadata["finish_reason"] == "length" and len(logprobs(short)) == 3


def test_a_prefilled_assistant_turn_is_continued(pair):
    model, _ = pair
    opened = [HumanMessage("What is 17 + 25?"), AIMessage("17 + 25 =")]
    prompt = model.render_prompt(opened)
    assert prompt.endswith("17 + 25 =") and prompt.count("<|im_start|>assistant") == 1
    reply = model.invoke(opened, max_tokens=4, temperature=0)
    assert reply.content and not reply.content.startswith("<|im_start|>")


def test_streaming_yields_each_token_with_its_log_prob_and_ends_with_usage(pair):
    model, _ = pair
    messages = policy_messages(QUESTION, [], 0, FMT)
    whole = model.invoke(messages, max_tokens=16, temperature=0, stop=FMT.stops(0))
    chunks = list(model.stream(messages, max_tokens=16, temperature=0, stop=FMT.stops(0)))
    token_chunks = [c for c in chunks if c.response_metadata.get("logprobs")]
    assert len(token_chunks) == len(logprobs(whole))
    assert [c.response_metadata["logprobs"]["content"][0]["logprob"] for c in token_chunks] == logprobs(whole)
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.content == whole.content
    assert merged.usage_metadata["output_tokens"] == whole.usage_metadata["output_tokens"]
    assert merged.response_metadata["finish_reason"] == whole.response_metadata["finish_reason"]
    with pytest.raises(ValueError, match="invoke/generate"):
        list(model.stream(messages, n=2))


def test_overlapping_calls_are_serialised_and_give_the_same_results(pair):
    model, _ = pair
    prompts = [policy_messages(q, [], 0, FMT) for q in ("What is 2 + 3?", "What is 9 * 9?")]
    alone = [model.invoke(p, max_tokens=8, temperature=0).content for p in prompts]
    together: dict[int, str] = {}

    def run(i):
        together[i] = model.invoke(prompts[i], max_tokens=8, temperature=0).content

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [together[0], together[1]] == alone


def test_a_prompt_longer_than_the_context_is_refused_with_the_fix():
    small = ChatLlamaCpp(model_path=str(find_embedded_gguf()), n_ctx=32)
    with pytest.raises(ContextLengthError, match="shorten the question"):
        small.invoke("word " * 64, max_tokens=4)


def test_a_missing_file_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"mur-graph models install qwen2\.5-coder-1\.5b"):
        ChatLlamaCpp(model_path=str(tmp_path / "none.gguf"))


def test_greedy_tokens_agree_with_chat_transformers_on_the_same_gguf(pair, embedded):
    """llama.cpp computes in Q4_1, transformers on the de-quantised fp32 weights: same greedy tokens."""
    model, _ = pair
    messages = policy_messages(QUESTION, [], 0, FMT)
    ours = model.generate([messages], max_tokens=24, temperature=0).generations[0][0]
    theirs = embedded.generate([messages], max_tokens=24, temperature=0).generations[0][0]
    assert ours.message.usage_metadata["input_tokens"] == theirs.message.usage_metadata["input_tokens"]
    assert ours.generation_info["token_ids"] == theirs.generation_info["token_ids"]
    deltas = [abs(a - b) for a, b in zip(logprobs(ours.message), logprobs(theirs.message), strict=True)]
    assert sum(deltas) / len(deltas) < AGREEMENT_TOLERANCE


def test_a_call_past_its_timeout_ends_its_rows_with_length(pair):
    reuse, _ = pair
    hurried = reuse.model_copy(update={"timeout": 1e-9})  # shares the loaded llama context and lock
    result = hurried.generate([[HumanMessage(QUESTION)]], n=2, max_tokens=20, temperature=0.7, seed=1)
    for generation in result.generations[0]:
        assert generation.generation_info["finish_reason"] in {"length", "stop"}
        assert len(generation.generation_info["token_ids"]) == 1  # the deadline had passed at the first token
    streamed = list(hurried.stream([HumanMessage(QUESTION)], max_tokens=20, temperature=0))
    assert streamed[-1].response_metadata["finish_reason"] in {"length", "stop"}
    assert sum(len(chunk.response_metadata["logprobs"]["content"]) for chunk in streamed) == 1


def test_max_retries_encodes_the_prompt_again_from_an_empty_context_after_a_llama_cpp_failure(
    pair, monkeypatch
):
    reuse, _ = pair
    expected = reuse.invoke([HumanMessage(QUESTION)], max_tokens=8, temperature=0).content
    llama, real_eval = reuse.llama, reuse.llama.eval
    failures = []

    def eval_failing_once(ids):
        if not failures:
            failures.append(len(ids))
            msg = "llama_decode returned 1"
            raise RuntimeError(msg)
        return real_eval(ids)

    monkeypatch.setattr(llama, "eval", eval_failing_once)
    patient = reuse.model_copy(update={"max_retries": 1})  # shares the loaded llama context and lock
    assert patient.invoke([HumanMessage(QUESTION)], max_tokens=8, temperature=0).content == expected
    assert len(failures) == 1
    failures.clear()
    with pytest.raises(RuntimeError, match="llama_decode returned 1"):
        reuse.invoke([HumanMessage(QUESTION)], max_tokens=8, temperature=0)  # max_retries=0
