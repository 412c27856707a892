"""The one boundary with chat models: ask for n samples, read text, log-probs and token counts.

Every model mur-graph talks to is a LangChain chat model that returns OpenAI-shaped log-probs in
`response_metadata["logprobs"]["content"]` (`ChatOpenAI(logprobs=True)` against vLLM or llama.cpp's
server, or the local `ChatTransformers` and `ChatLlamaCpp`). Nodes call `sample()` and never read
provider fields. What one server dialect needs besides (request quirks, its errors) lives in
`mur_graph.models.openai_server`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration
from langchain_core.runnables.config import ContextThreadPoolExecutor, ensure_config

from mur_graph.models.call_cache import active_call_cache, replay_or_call
from mur_graph.models.errors import ContextLengthError, InvalidLogprobsError, MissingLogprobsError
from mur_graph.models.openai_server import is_server, request_kwargs, server_error
from mur_graph.uncertainty import is_logprob

__all__ = [
    "Completion",
    "InvalidLogprobsError",
    "MissingLogprobsError",
    "check_logprobs_enabled",
    "is_server",
    "read_generation",
    "sample",
    "sample_each",
]


@dataclass(frozen=True)
class Completion:
    """One sampled completion, reduced to what MUR needs.

    Named `Generation` before this release; that name clashed with langchain-core's
    `Generation` and is kept, with a DeprecationWarning, as `mur_graph.models.Generation`.
    """

    text: str
    """The generated text, stop string removed."""
    token_logprobs: tuple[float, ...]
    """Log-prob of each generated token under the model's own (unscaled) distribution."""
    n_tokens: int
    """Generated tokens this sample cost (what the ledger books)."""
    finish_reason: str | None = None
    """`stop` (stop string or end of turn), `length` (token limit) or what the server said."""
    top_logprobs: tuple[Mapping[str, float], ...] = field(default=(), repr=False)
    """Per position, the most likely tokens and their log-probs, when they were asked for."""


def check_logprobs_enabled(model: BaseChatModel, role: str) -> None:
    """Fail fast when a model is configured not to return log-probs (e.g. ChatOpenAI).

    Raises:
        MissingLogprobsError: the model has a `logprobs` setting that is not True.
    """
    if "logprobs" in type(model).model_fields and getattr(model, "logprobs", None) is not True:
        msg = (
            f"the {role} model {type(model).__name__} is set up without log-probs, which MUR needs "
            f"to measure step uncertainty; create it with logprobs=True "
            f"(e.g. ChatOpenAI(base_url=..., logprobs=True))"
        )
        raise MissingLogprobsError(msg)


def sample(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    *,
    n: int = 1,
    stop: Sequence[str] | None = None,
    max_tokens: int,
    temperature: float,
    seed: int | None = None,
    top_logprobs: int = 0,
) -> list[Completion]:
    """Sample `n` completions of `messages` in one call and return them with their log-probs.

    A final `AIMessage` in `messages` is a partial assistant turn that the model continues. When a
    server returns fewer than `n` samples (llama.cpp's server ignores `n`), the rest are asked for
    in further calls. Callbacks of the surrounding LangGraph run are passed on, so traces show
    every model call. Inside `using_call_cache`, a reproducible call (seeded, or at temperature 0)
    already answered is replayed from the cache instead (`mur_graph.models.call_cache`).

    Raises:
        MissingLogprobsError: a returned sample carries no log-probs.
        InvalidLogprobsError: a returned log-prob is NaN, positive or not a number.
        ServerUnavailableError: the server refused the connection, timed out or failed (HTTP 5xx)
            after the client's retries; the message names the server.
        ServerRequestError: the server refused the request (HTTP 4xx), e.g. an unknown model.
        ContextLengthError: the server refused the prompt as longer than its context.
    """
    if active_call_cache() is None:  # the usual path: no JSON round trip
        return _sample(model, messages, n, stop, max_tokens, temperature, seed, top_logprobs)
    settings = {
        "n": n,
        "stop": list(stop or ()),
        "max_tokens": max_tokens,
        "temperature": temperature,
        "seed": seed,
        "top_logprobs": top_logprobs,
    }

    def call() -> list[dict[str, Any]]:
        found = _sample(model, messages, n, stop, max_tokens, temperature, seed, top_logprobs)
        return [_as_json(completion) for completion in found]

    return [_from_json(stored) for stored in replay_or_call(model, messages, settings, call)]


def _sample(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    n: int,
    stop: Sequence[str] | None,
    max_tokens: int,
    temperature: float,
    seed: int | None,
    top_logprobs: int,
) -> list[Completion]:
    """`sample()` without the call cache: ask the model until it has given `n` samples."""
    config = ensure_config()
    generations: list[Completion] = []
    attempts = 0
    while len(generations) < n:
        want = n - len(generations)
        call_seed = None if seed is None else seed + attempts
        kwargs = _call_kwargs(model, messages, want, max_tokens, temperature, call_seed, top_logprobs)
        try:
            result = model.generate(
                [list(messages)],
                stop=list(stop) if stop else None,
                callbacks=config.get("callbacks"),
                tags=config.get("tags"),
                metadata=config.get("metadata"),
                **kwargs,
            )
        except Exception as exc:
            clear = server_error(model, exc)
            if clear is None:
                raise
            raise clear from exc
        batch = [g for g in result.generations[0] if isinstance(g, ChatGeneration)]
        if not batch:
            msg = f"{type(model).__name__} returned no generation"
            raise RuntimeError(msg)
        generations.extend(read_generation(model, g, single=len(batch) == 1) for g in batch[:want])
        attempts += 1
    return generations


def sample_each(
    model: BaseChatModel,
    prompts: Sequence[Sequence[BaseMessage]],
    *,
    seeds: Sequence[int | None],
    concurrency: int,
    max_tokens: int,
    temperature: float,
    top_logprobs: int = 0,
    unfitting_as_none: bool = False,
) -> list[Completion | None]:
    """Sample one completion of each prompt, up to `concurrency` calls in flight; keep prompt order.

    The calls run in LangChain's context-copying thread pool (what `Runnable.batch` uses), so a
    server gets `concurrency` requests at once and traces keep every call; the result of each
    prompt is what `sample()` returns for it alone, with its own seed. `concurrency=1` asks one
    after another. With `unfitting_as_none`, a prompt the model's context cannot hold gives None
    (nothing was generated for it) instead of raising `ContextLengthError`.

    Raises:
        ValueError: `seeds` and `prompts` differ in length, or `concurrency` < 1.
        MissingLogprobsError: see `sample()`, as are the other errors it raises.
    """
    if len(seeds) != len(prompts):
        msg = f"sample_each got {len(prompts)} prompts but {len(seeds)} seeds; pass one seed per prompt"
        raise ValueError(msg)
    if concurrency < 1:
        msg = f"invalid concurrency {concurrency}: must be an integer >= 1"
        raise ValueError(msg)

    def one(i: int) -> Completion | None:
        try:
            (generation,) = sample(
                model,
                prompts[i],
                n=1,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=seeds[i],
                top_logprobs=top_logprobs,
            )
        except ContextLengthError:
            if not unfitting_as_none:
                raise
            return None
        return generation

    if concurrency == 1 or len(prompts) <= 1:
        return [one(i) for i in range(len(prompts))]
    with ContextThreadPoolExecutor(max_workers=min(concurrency, len(prompts))) as pool:
        return list(pool.map(one, range(len(prompts))))


def read_generation(model: BaseChatModel, generation: ChatGeneration, *, single: bool) -> Completion:
    """Read text, log-probs and token count from one chat generation in OpenAI's shape.

    An entry whose log-prob is -inf is kept (`step_uncertainty` floors it); one that is NaN,
    positive or not a number is a backend fault and is refused here, naming the model.

    Raises:
        MissingLogprobsError: the generation has no `response_metadata["logprobs"]["content"]`,
            or it has none for a non-empty text.
        InvalidLogprobsError: a log-prob is NaN, positive or not a number.
    """
    message = generation.message
    content = _logprob_content(message)
    if content is None or (not content and message.text.strip()):
        msg = (
            f"{type(model).__name__} returned no log-probs; MUR needs per-token log-probs to measure "
            f"step uncertainty. Pass logprobs=True (e.g. ChatOpenAI(logprobs=True)) or use "
            f"mur_graph.ChatTransformers for a local model"
        )
        raise MissingLogprobsError(msg)
    logprobs = tuple(_as_logprob(entry.get("logprob")) for entry in content)
    bad = next((i for i, lp in enumerate(logprobs) if not is_logprob(lp)), None)
    if bad is not None:
        msg = (
            f"{type(model).__name__} returned {content[bad].get('logprob')!r} as the log-prob of token "
            f"{bad} ({content[bad].get('token')!r}); a log-prob must be a number <= 0. The backend's "
            f"log-probs are broken: check its version and that it computes them from the model's logits"
        )
        raise InvalidLogprobsError(msg)
    tops = tuple(
        {str(t.get("token", "")): _as_logprob(t.get("logprob")) for t in entry.get("top_logprobs") or ()}
        for entry in content
    )
    n_tokens = len(content)
    usage = getattr(message, "usage_metadata", None)
    if single and usage and usage.get("output_tokens"):
        # With one sample the server's own count is exact (it may count an end token that
        # carries no log-prob entry); with several, usage is summed over samples.
        n_tokens = max(n_tokens, int(usage["output_tokens"]))
    finish = message.response_metadata.get("finish_reason")
    if finish is None and generation.generation_info:
        finish = generation.generation_info.get("finish_reason")
    return Completion(
        text=message.text,
        token_logprobs=logprobs,
        n_tokens=n_tokens,
        finish_reason=finish,
        top_logprobs=tops,
    )


def _as_json(completion: Completion) -> dict[str, Any]:
    """A completion as a JSON object, for the call cache."""
    return {
        "text": completion.text,
        "token_logprobs": list(completion.token_logprobs),
        "n_tokens": completion.n_tokens,
        "finish_reason": completion.finish_reason,
        "top_logprobs": [dict(top) for top in completion.top_logprobs],
    }


def _from_json(stored: Mapping[str, Any]) -> Completion:
    """The completion that `_as_json` wrote."""
    return Completion(
        text=stored["text"],
        token_logprobs=tuple(stored["token_logprobs"]),
        n_tokens=stored["n_tokens"],
        finish_reason=stored["finish_reason"],
        top_logprobs=tuple(stored["top_logprobs"]),
    )


def _logprob_content(message: BaseMessage) -> list[Mapping[str, Any]] | None:
    logprobs = message.response_metadata.get("logprobs")
    if isinstance(logprobs, Mapping):
        content = logprobs.get("content")
        if isinstance(content, list):
            return content
    return None


def _as_logprob(value: object) -> float:
    """Return a log-prob as float; a missing or non-numeric one is NaN (rejected downstream)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.nan


def _call_kwargs(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    n: int,
    max_tokens: int,
    temperature: float,
    seed: int | None,
    top_logprobs: int,
) -> dict[str, Any]:
    """Per-call generation settings in the form the model understands."""
    kwargs: dict[str, Any] = {"n": n, "max_tokens": max_tokens, "temperature": temperature}
    if seed is not None:
        kwargs["seed"] = seed
    if top_logprobs:
        kwargs["top_logprobs"] = top_logprobs
    if is_server(model):
        kwargs |= request_kwargs(model, messages, max_tokens, top_logprobs)
    return kwargs
