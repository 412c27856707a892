"""ChatTransformers' streaming and construction-time settings, on a tiny random Llama (real code paths)."""

import pytest
import torch
from langchain_core.messages import HumanMessage

from mur_graph import ChatTransformers
from tests.tiny_model import tiny_pipeline

PROMPT = [HumanMessage("the cat sat on a mat")]


@pytest.fixture(scope="module")
def llm():
    return tiny_pipeline()


def streamed(model, **kwargs):
    chunks = list(model.stream(PROMPT, **kwargs))
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    return chunks, total


def entries(message):
    return message.response_metadata["logprobs"]["content"]


def tokens(message):
    return [e["token"] for e in entries(message)]


def logprobs(message):
    return [e["logprob"] for e in entries(message)]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"temperature": 0, "max_tokens": 10, "top_logprobs": 2},
        {"temperature": 0.9, "seed": 7, "max_tokens": 10},
    ],
)
@pytest.mark.parametrize("prefix_cache", [True, False])
def test_the_summed_stream_is_the_invoked_reply_with_its_logprobs_usage_and_finish(llm, kwargs, prefix_cache):
    model = ChatTransformers(llm=llm, prefix_cache=prefix_cache)
    whole = model.invoke(PROMPT, **kwargs)
    chunks, total = streamed(model, **kwargs)
    assert len([c for c in chunks if c.content]) > 1  # tokens arrive one by one
    assert total.content == whole.content
    assert tokens(total) == tokens(whole)
    assert logprobs(total) == pytest.approx(logprobs(whole), abs=1e-5)
    width = kwargs.get("top_logprobs", 0)
    assert all(len(e["top_logprobs"]) == width for e in entries(total) + entries(whole))
    assert [[t["token"] for t in e["top_logprobs"]] for e in entries(total)] == [
        [t["token"] for t in e["top_logprobs"]] for e in entries(whole)
    ]
    assert total.response_metadata["finish_reason"] == whole.response_metadata["finish_reason"]
    assert total.response_metadata["model_name"] == whole.response_metadata["model_name"]
    assert (
        total.usage_metadata["output_tokens"] == whole.usage_metadata["output_tokens"] == len(entries(total))
    )
    assert total.usage_metadata["input_tokens"] == whole.usage_metadata["input_tokens"]
    # only the last content chunk carries usage and the finish reason
    last = [c for c in chunks if c.usage_metadata]
    assert len(last) == 1 and last[0].response_metadata["finish_reason"] in ("stop", "length")
    assert all("finish_reason" not in c.response_metadata for c in chunks if c is not last[0])


def test_a_stop_string_ends_the_stream_and_no_part_of_it_is_ever_shown(llm):
    model = ChatTransformers(llm=llm)
    free = model.invoke(PROMPT, max_tokens=16, temperature=0)
    start = len("".join(tokens(free)[:3])) - 1
    stop = free.content[start : start + 3]  # begins inside one token and ends in a later one
    whole = model.invoke(PROMPT, max_tokens=16, temperature=0, stop=[stop])
    chunks, total = streamed(model, max_tokens=16, temperature=0, stop=[stop])
    assert whole.content == free.content[: free.content.index(stop)]
    assert total.content == whole.content
    assert total.response_metadata["finish_reason"] == "stop"
    assert len(entries(total)) == len(entries(whole)) == whole.usage_metadata["output_tokens"]
    shown = ""
    for chunk in chunks:
        shown += chunk.content
        assert shown == whole.content[: len(shown)]  # never more than the final text


def test_construction_time_stop_strings_apply_to_every_call_with_the_calls_own(llm):
    free = ChatTransformers(llm=llm).invoke(PROMPT, max_tokens=16, temperature=0).content
    early, late = free[2:4], free[8:10]
    preset = ChatTransformers(llm=llm, stop=[late])
    assert preset.invoke(PROMPT, max_tokens=16, temperature=0).content == free[: free.index(late)]
    both = preset.invoke(PROMPT, max_tokens=16, temperature=0, stop=[early]).content
    assert both == free[: min(free.index(early), free.index(late))]
    _, total = streamed(preset, max_tokens=16, temperature=0)
    assert total.content == free[: free.index(late)]
    assert preset._get_ls_params(stop=[early])["ls_stop"] == [late, early]


def test_a_timeout_cuts_the_reply_short_with_finish_reason_length(llm):
    model = ChatTransformers(llm=llm, timeout=1e-9)  # expired by the first token
    for reply in (model.invoke(PROMPT, max_tokens=12, temperature=0), streamed(model, max_tokens=12)[1]):
        assert reply.usage_metadata["output_tokens"] == 1
        assert reply.response_metadata["finish_reason"] == "length"


def test_a_call_that_runs_out_of_memory_is_tried_again_up_to_max_retries(llm, monkeypatch):
    model = llm.pipeline.model
    real_generate, failures = model.generate, []

    def generate_failing_twice(*args, **kwargs):
        if len(failures) < 2:
            failures.append(1)
            msg = "CUDA out of memory"
            raise torch.cuda.OutOfMemoryError(msg)
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(model, "generate", generate_failing_twice)
    reply = ChatTransformers(llm=llm, max_retries=2).invoke(PROMPT, max_tokens=3, temperature=0)
    assert len(failures) == 2 and reply.usage_metadata["output_tokens"] == 3
    failures.clear()
    with pytest.raises(torch.cuda.OutOfMemoryError):
        ChatTransformers(llm=llm, max_retries=1).invoke(PROMPT, max_tokens=3, temperature=0)
    assert len(failures) == 2


def test_several_samples_are_not_streamed_but_generated_in_one_batch(llm):
    model = ChatTransformers(llm=llm, streaming=True)
    result = model.generate([PROMPT], n=3, max_tokens=4, temperature=0.9, seed=1)
    assert len(result.generations[0]) == 3
    one = model.invoke(PROMPT, max_tokens=4, temperature=0)  # streamed: invoke goes through _stream
    assert one.usage_metadata["output_tokens"] == 4
    with pytest.raises(ValueError, match="streams one sample"):
        list(model._stream(PROMPT, n=2))


def test_the_models_identity_names_its_checkpoint_dtype_and_default_settings(llm):
    identity = ChatTransformers(llm=llm)._get_llm_string()
    for part in ("'model_id', 'tiny-llama'", "'dtype', 'torch.float32'", "'model_stop', None"):
        assert part in identity
    assert identity != ChatTransformers(llm=llm, temperature=0.0)._get_llm_string()
