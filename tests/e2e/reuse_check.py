"""The calls of one scaled MUR step, made on a model with prefix reuse and on one without."""

from collections.abc import Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from mur_graph.prompts import critic_messages, policy_messages, step_format

FMT = step_format("prompted")
Output = dict[str, Any]
Compared = tuple[bool, int]


def scaled_step_calls(question: str) -> Iterator[tuple[str, list[BaseMessage], dict[str, Any]]]:
    """Step 0 with two seeded candidates, a verdict on each (one asked twice), then step 1.

    A generator: send it each call's generations (`list[str]`) to get the next call.
    """
    step0 = policy_messages(question, [], 0, FMT)
    candidates = {"n": 2, "max_tokens": 12, "temperature": 0.8, "seed": 5, "stop": FMT.stops(0)}
    texts = yield "candidates", step0, candidates
    verdict = {"max_tokens": 1, "temperature": 0, "top_logprobs": 5}
    for name, text in (("verdict 0", texts[0]), ("verdict 1", texts[1]), ("verdict 0 again", texts[0])):
        yield name, critic_messages(question, [], FMT.format(0, text), FMT), verdict
    step1 = policy_messages(question, [FMT.format(0, texts[0])], 1, FMT)
    yield "next step", step1, {"max_tokens": 8, "temperature": 0, "top_logprobs": 2}


def outputs(model: BaseChatModel, messages: list[BaseMessage], kwargs: dict[str, Any]) -> list[Output]:
    """Each generation's text, finish reason, full log-prob entries and prompt tokens read from cache."""
    result = model.generate([messages], **kwargs).generations[0]
    return [
        {
            "text": g.text,
            "finish": g.generation_info,
            "logprobs": g.message.response_metadata["logprobs"]["content"],
            "cache_read": g.message.usage_metadata["input_token_details"]["cache_read"],
        }
        for g in result
    ]


def compare_scaled_step(reuse: BaseChatModel, plain: BaseChatModel, question: str) -> dict[str, Compared]:
    """Run the calls on both models.

    Returns, per call, whether every output is bit-identical, and the prompt tokens the reusing
    model read from its cache (first generation).
    """
    compared = {}
    calls = scaled_step_calls(question)
    name, messages, kwargs = next(calls)
    while True:
        fast, slow = outputs(reuse, messages, kwargs), outputs(plain, messages, kwargs)
        strip = [{k: v for k, v in o.items() if k != "cache_read"} for o in (*fast, *slow)]
        compared[name] = (strip[: len(fast)] == strip[len(fast) :], fast[0]["cache_read"])
        try:
            name, messages, kwargs = calls.send([o["text"] for o in fast])
        except StopIteration:
            return compared
