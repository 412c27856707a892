"""The calls of one scaled MUR step, made on a model with prefix reuse and on one without, or cold."""

from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from mur_graph.prompts import critic_messages, policy_messages, step_format
from mur_graph.scaling.critics import CRITIC_TOP_LOGPROBS
from mur_graph.scoring import yes_probability
from mur_graph.uncertainty import step_uncertainty

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
    verdict = {"max_tokens": 1, "temperature": 0, "top_logprobs": CRITIC_TOP_LOGPROBS}
    for name, text in (("verdict 0", texts[0]), ("verdict 1", texts[1]), ("verdict 0 again", texts[0])):
        yield name, critic_messages(question, [], FMT.format(0, text), FMT), verdict
    critique = verdict | {"max_tokens": 4}  # critic_tokens > 1: the verdict slot may come later
    yield "verdict 1 with 4 tokens", critic_messages(question, [], FMT.format(0, texts[1]), FMT), critique
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


def scores(output: list[Output]) -> list[float | None]:
    """What MUR reads from a call: a verdict's P(Yes), else each candidate's m_t."""
    verdict = yes_probability(
        [{t["token"]: t["logprob"] for t in e["top_logprobs"]} for e in output[0]["logprobs"]]
    )
    if verdict is not None:
        return [verdict]
    return [step_uncertainty([e["logprob"] for e in o["logprobs"]]) for o in output]


def compare_scaled_step(
    reuse: BaseChatModel, plain: BaseChatModel | Callable[[], BaseChatModel], question: str
) -> dict[str, Compared]:
    """Run the calls on both models (`plain` may be a function giving a fresh, cold model per call).

    Returns, per call, whether every output is bit-identical, and the prompt tokens the reusing
    model read from its cache (first generation).
    """
    compared = {}
    calls = scaled_step_calls(question)
    name, messages, kwargs = next(calls)
    while True:
        other = plain if isinstance(plain, BaseChatModel) else plain()
        fast, slow = outputs(reuse, messages, kwargs), outputs(other, messages, kwargs)
        strip = [{k: v for k, v in o.items() if k != "cache_read"} for o in (*fast, *slow)]
        same = strip[: len(fast)] == strip[len(fast) :] and scores(fast) == scores(slow)
        compared[name] = (same, fast[0]["cache_read"])
        try:
            name, messages, kwargs = calls.send([o["text"] for o in fast])
        except StopIteration:
            return compared


def verdict(
    question: str, kept: list[str], step: str, tokens: int = 1
) -> tuple[list[BaseMessage], dict[str, Any]]:
    """A greedy critic verdict on `step` after `kept`, read as MUR reads it (top log-probs)."""
    kwargs = {"max_tokens": tokens, "temperature": 0, "top_logprobs": CRITIC_TOP_LOGPROBS}
    return critic_messages(question, kept, FMT.format(len(kept), step), FMT), kwargs


def candidates(question: str, kept: list[str]) -> tuple[list[BaseMessage], dict[str, Any]]:
    """Two seeded candidates for the step after `kept`."""
    kwargs = {"n": 2, "max_tokens": 12, "temperature": 0.8, "seed": 5, "stop": FMT.stops(len(kept))}
    return policy_messages(question, kept, len(kept), FMT), kwargs


def warm_up(model: BaseChatModel, question: str) -> None:
    """Fill `model`'s cache with another question's critic path: candidates, their verdicts, a longer one."""
    for output in outputs(model, *candidates(question, [])):
        outputs(model, *verdict(question, [], output["text"]))
    outputs(model, *verdict(question, ["Step0: 2^3 = 8 leaves remainder 1."], "Step1: So 2^99 leaves 1.", 3))


def critic_path(question: str) -> list[tuple[str, list[BaseMessage], dict[str, Any]]]:
    """Verdicts on fixed steps (one asked twice, one of 3 tokens), candidates, then that verdict again.

    The last verdict's prompt was encoded two calls before: it comes back from a saved state.
    """
    kept = ["Step0: 17 + 25 = 42"]
    # Steps as a sample may come (its header repeated): the prompts on which the code before
    # chunk-aligned prefill was seen to differ.
    return [
        ("verdict A", *verdict(question, [], "Step0: 17 + 25 = 42")),
        ("verdict B", *verdict(question, [], "Step0: 17 + 25 = 43")),
        ("verdict A again", *verdict(question, [], "Step0: 17 + 25 = 42")),
        ("verdict of 3 tokens", *verdict(question, kept, "Step1: The answer is 42.", 3)),
        ("candidates", *candidates(question, kept)),
        ("verdict after the candidates", *verdict(question, kept, "Step1: The answer is 42.")),
    ]


def compare_warm_and_cold(
    warm: BaseChatModel, cold: Callable[[], BaseChatModel], plain: BaseChatModel, question: str
) -> dict[str, Compared]:
    """Each call of `critic_path` on `warm`, on a fresh `cold()` model and on `plain` (no reuse).

    Returns, per call, whether the three agree bit for bit (P(Yes) and m_t included) and the
    prompt tokens `warm` read from its cache.
    """
    compared = {}
    for name, messages, kwargs in critic_path(question):
        hot, fresh, again = (outputs(m, messages, kwargs) for m in (warm, cold(), plain))
        strip = [
            [{k: v for k, v in o.items() if k != "cache_read"} for o in out] for out in (hot, fresh, again)
        ]
        same = strip[0] == strip[1] == strip[2] and scores(hot) == scores(fresh) == scores(again)
        compared[name] = (same, hot[0]["cache_read"])
    return compared
