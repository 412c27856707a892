"""`ChatTransformers`: a LangChain chat model over a local transformers model, with log-probs.

langchain-huggingface's `ChatHuggingFace(llm=HuggingFacePipeline(...))` returns no log-probs,
ignores `stop` outside streaming and keeps one output of several, so MUR cannot use it as is.
`ChatTransformers` takes the same `HuggingFacePipeline` users already build and answers in
`ChatOpenAI(logprobs=True)`'s shape: `response_metadata["logprobs"]["content"]`,
`usage_metadata`, `n` samples per call, `stop` strings, and continuation of a final assistant
message. torch and transformers are imported only when a model is loaded.

Two fast paths (docs/performance.md): prefix reuse (default) keeps the KV cache of recent token
sequences, so a step's prompt prefills only what the last step did not already encode and the n
samples of one call share one prefill; `static_cache=True` (for GPUs) generates with a static KV
cache and a compiled, CUDA-graphed forward instead, without prefix reuse.
"""

from __future__ import annotations

import inspect
import itertools
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

from mur_graph.models.base import LocalChatModel, Settings, fit_context, to_chat_dict, usage
from mur_graph.models.errors import ContextLengthError, MissingDependencyError
from mur_graph.models.prefix_cache import PrefixCacheStore

INSTALL_HINT = "pip install 'mur-graph[transformers]'"
"""The install command of this backend's extra: torch, transformers, accelerate, langchain-huggingface."""
try:  # the pipeline type is a field of the model, so the extra is needed to define the class
    from langchain_huggingface import HuggingFacePipeline
except ImportError as exc:
    _msg = f"ChatTransformers needs langchain-huggingface and transformers; install them with: {INSTALL_HINT}"
    raise MissingDependencyError(_msg) from exc

__all__ = ["ChatTransformers", "ContextLengthError"]  # the error's old home, kept importable

_STORE_CREATION = threading.Lock()
_T = TypeVar("_T")


class ChatTransformers(LocalChatModel):
    """Chat model for a local transformers causal LM that returns OpenAI-shaped log-probs.

    Example:
        ```python
        from mur_graph import ChatTransformers

        chat = ChatTransformers.from_model_id("Qwen/Qwen3-1.7B")  # thinking off by default
        msg = chat.invoke("What is 2 + 2?", max_tokens=32)
        msg.response_metadata["logprobs"]["content"][0]  # {"token": ..., "logprob": ...}
        ```

    Log-probs are those of the raw model distribution (temperature 1, no top-k), the quantity
    MUR's uncertainty is defined on, whatever temperature the token was sampled at.
    """

    llm: HuggingFacePipeline
    """The langchain-huggingface pipeline whose model and tokenizer generate."""
    prefix_cache_mb: float = Field(default=512.0, ge=0)
    """At most this many MiB of stored keys and values (least recently used dropped first)."""
    static_cache: bool = False
    """GPU fast path: a static KV cache of `static_cache_len` positions and a compiled forward
    (CUDA graphs); removes per-token launch overhead, and turns prefix reuse off."""
    static_cache_len: int = Field(default=4096, ge=1)
    """Positions of the static cache (prompt + generated); one size for every call avoids recompiling."""
    max_retries: int = Field(default=0, ge=0)
    """Further tries of a call that ran out of accelerator memory, after the stored prefix caches
    and the allocator's cached blocks are freed (a local model has no requests to retry)."""

    _store: PrefixCacheStore | None = PrivateAttr(default=None)

    @classmethod
    def from_model_id(
        cls,
        model_id: str,
        *,
        gguf_file: str | None = None,
        device: int | None = None,
        device_map: str | None = None,
        model_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> ChatTransformers:
        """Load a model by hub id or local folder (optionally a GGUF file in it)."""
        model_kwargs = dict(model_kwargs or {})
        if gguf_file:
            model_kwargs["gguf_file"] = gguf_file
        pipeline = HuggingFacePipeline.from_model_id(
            model_id=model_id,
            task="text-generation",
            device=device,
            device_map=device_map,
            model_kwargs=model_kwargs,
            pipeline_kwargs={"return_full_text": False},
        )
        pipeline.pipeline.model.eval()
        kwargs.setdefault("model_name", model_id)
        return cls(llm=pipeline, **kwargs)

    @property
    def _llm_type(self) -> str:
        return "mur-graph-transformers"

    def _weights(self) -> dict[str, Any]:
        model = self.llm.pipeline.model
        return {
            "model_id": self.llm.model_id or getattr(model.config, "_name_or_path", None),
            "model_kwargs": self.llm.model_kwargs,
            "dtype": str(model.dtype),
        }

    @property
    def tokenizer(self) -> Any:
        """The transformers tokenizer."""
        return self.llm.pipeline.tokenizer

    @property
    def prefix_store(self) -> PrefixCacheStore | None:
        """The store of reusable KV caches, or None when prefix reuse is off for this model."""
        if not self.prefix_cache or self.static_cache or not self.prefix_cache_entries:
            return None
        with _STORE_CREATION:  # calls may overlap in threads (LangGraph runs sync nodes in a pool)
            if self._store is None:
                if not _plain_dynamic_cache(self.llm.pipeline.model):
                    return None
                max_bytes = int(self.prefix_cache_mb * 2**20)
                self._store = PrefixCacheStore(self.prefix_cache_entries, max_bytes)
        return self._store

    def render_prompt(self, messages: Sequence[BaseMessage]) -> str:
        """Render messages with the chat template; a final AI message is left open to continue."""
        continue_final = bool(messages) and isinstance(messages[-1], AIMessage)
        text: str = self.tokenizer.apply_chat_template(
            [to_chat_dict(m) for m in messages],
            tokenize=False,
            add_generation_prompt=not continue_final,
            continue_final_message=continue_final,
            **self.chat_template_kwargs,
        )
        return text

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Inputs, sampling, result: the three phases of langchain_openai's `_generate`."""
        call = self._prepare(messages, stop, kwargs)
        out, cached = self._retrying(lambda: self._sample(call))
        return self._result(call, out, cached)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """Yield the reply a few tokens at a time, each chunk with its tokens' log-prob entries.

        Tokens are decoded one forward at a time on the KV cache (prefix reuse included), with
        the same draws as `generate`. Text that may be the start of a stop string is held back
        until it is known not to be one; the last chunk carries usage and the finish reason.
        """
        call = self._prepare(messages, stop, kwargs, stream=True)
        deadline = self._deadline()
        cached, cache = self._retrying(lambda: self._prefilled(call))
        reply = _StreamedText(self.tokenizer, call.stop, call.eos_ids)
        pending: list[tuple[int, Any]] = []  # (token, log-probs [vocab]) not sent yet
        steps = _decode_steps(self.llm.pipeline.model, call, cache, deadline)
        for token, log_probs in steps:
            pending.append((token, log_probs))
            if shown := reply.add(token):
                yield self._chunk(shown, *_streamed_entries(self.tokenizer, pending, call.top_logprobs))
                pending = []
            if reply.finish:
                break
        steps.close()
        if (store := self.prefix_store) is not None:
            _keep_rows(store, call.prompt_ids, _as_row(reply.ids, call.prompt_ids), [len(reply.ids)], cache)
        yield self._chunk(
            reply.rest(),
            *_streamed_entries(self.tokenizer, pending, call.top_logprobs),
            finish_reason=reply.finish or "length",
            usage=usage(call.prompt_len, len(reply.ids), cached),
        )

    def _prepare(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        *,
        stream: bool = False,
    ) -> _Call:
        """Inputs: this call's settings over the model's defaults, and the encoded prompt."""
        model = self.llm.pipeline.model
        prompt = self.render_prompt(messages)
        # The rendered template already holds the special tokens (BOS included).
        prompt_ids = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
        prompt_ids = prompt_ids.to(model.device)  # [1, prompt_len]
        settings = self._settings(stop, kwargs, stream=stream)
        context = getattr(model.config, "max_position_embeddings", None)
        max_tokens = fit_context(prompt_ids.shape[1], settings.max_tokens, context)
        return _Call(
            **(vars(settings) | {"max_tokens": max_tokens}),
            prompt_ids=prompt_ids,
            eos_ids=_eos_ids(model, self.tokenizer),
        )

    def _sample(self, call: _Call) -> tuple[Any, int]:
        """Sampling: n rows in one `generate` call; return (its output, prompt tokens reused)."""
        import torch

        model = self.llm.pipeline.model
        batch = call.prompt_ids.repeat(call.n, 1)  # [n, prompt_len]
        settings = _sampling_settings(call.temperature)
        if self.timeout is not None:
            settings["stopping_criteria"] = _time_limit(self.timeout)
        cached = 0
        with torch.inference_mode():
            if self.prefix_store is not None:
                cached, settings[_cache_arg(model)] = _prefill(
                    model, call.prompt_ids, self.prefix_store, call.n
                )
            elif self.static_cache:
                settings |= _static_cache_settings(self.static_cache_len)
            with _seeded(call.seed):
                out = model.generate(
                    batch,
                    attention_mask=torch.ones_like(batch),
                    max_new_tokens=call.max_tokens,
                    stop_strings=call.stop or None,
                    tokenizer=self.tokenizer,
                    pad_token_id=call.eos_ids[0],
                    output_logits=True,
                    return_dict_in_generate=True,
                    **settings,
                )
        return out, cached

    def _result(self, call: _Call, out: Any, cached: int) -> ChatResult:
        """Result: cut each row at its end, keep its KV cache, answer in ChatOpenAI's shape."""
        new_ids = out.sequences[:, call.prompt_len :]  # [n, steps]
        chosen, tops = _sampled_logprobs(out.logits, new_ids, call.top_logprobs)
        rows = _cut_rows(new_ids.tolist(), self.tokenizer, call.stop, call.eos_ids)
        if (store := self.prefix_store) is not None:
            _keep_rows(store, call.prompt_ids, new_ids, [end for end, _, _ in rows], _output_cache(out))
        generations = []
        for row, (end, text, finish) in enumerate(rows):
            ids = new_ids[row, :end].tolist()
            row_tops = [list(zip(i.tolist(), v.tolist(), strict=True)) for i, v in tops[row][:end]]
            content = _logprob_entries(self.tokenizer, ids, chosen[row, :end].tolist(), row_tops)
            generations.append(
                self._generation(text, content, ids, finish, usage(call.prompt_len, end, cached))
            )
        return self._chat_result(generations)

    def _prefilled(self, call: _Call) -> tuple[int, Any]:
        """(reused tokens, cache of the prompt but its last token) for one streamed sample."""
        import torch

        with torch.inference_mode():
            return _prefill(self.llm.pipeline.model, call.prompt_ids, self.prefix_store, 1)

    def _retrying(self, action: Callable[[], _T]) -> _T:
        """Run `action`, again up to `max_retries` times when the accelerator runs out of memory.

        Before a retry the stored prefix caches are dropped and the allocator's cached blocks
        freed, which is what concurrent calls on one GPU most often need.
        """
        import torch

        for attempt in itertools.count():
            try:
                return action()
            except torch.cuda.OutOfMemoryError:
                if attempt >= self.max_retries:
                    raise
                if self._store is not None:
                    self._store.clear()
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
        raise AssertionError  # pragma: no cover  (the loop returns or raises)


@dataclass(frozen=True, kw_only=True)
class _Call(Settings):
    """One call's settings (`max_tokens` capped to what the context leaves) and its encoded prompt."""

    prompt_ids: Any
    """Prompt token ids [1, prompt_len] on the model's device."""
    eos_ids: list[int]

    @property
    def prompt_len(self) -> int:
        """Prompt tokens."""
        return int(self.prompt_ids.shape[1])


def _sampling_settings(temperature: float) -> dict[str, Any]:
    """generate() settings: plain temperature sampling over the whole vocabulary, or greedy."""
    if temperature > 0:
        return {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
    return {"do_sample": False}


def _time_limit(seconds: float) -> Any:
    """Stopping criteria that end generation after `seconds` (rows cut short finish with "length")."""
    from transformers import MaxTimeCriteria, StoppingCriteriaList

    return StoppingCriteriaList([MaxTimeCriteria(max_time=seconds)])


def _sampled_logprobs(logits: Sequence[Any], new_ids: Any, top_k: int) -> tuple[Any, list[list[Any]]]:
    """Raw-model log-probs of the sampled tokens [n, steps], and per row and step the top-k (ids, values).

    log_softmax of the unprocessed logits, one position at a time, so that no [n, steps, vocab]
    copy is made beside generate's own.
    """
    import torch

    chosen_steps, top_steps = [], []
    for position, step_logits in enumerate(logits):  # step_logits: [n, vocab]
        step_log_probs = torch.log_softmax(step_logits.float(), dim=-1)
        chosen_steps.append(step_log_probs.gather(-1, new_ids[:, position : position + 1]))
        if top_k:
            top_steps.append(step_log_probs.topk(top_k, dim=-1))
    rows = range(new_ids.shape[0])
    tops = [[(top.indices[row], top.values[row]) for top in top_steps] for row in rows]
    return torch.cat(chosen_steps, dim=1), tops


def _top(log_probs: Any, top_k: int) -> list[tuple[int, float]]:
    """The `top_k` most likely (token, log-prob) pairs of one position's log-probs [vocab]."""
    if not top_k:
        return []
    top = log_probs.topk(top_k)
    return list(zip(top.indices.tolist(), top.values.tolist(), strict=True))


def _streamed_entries(
    tokenizer: Any, tokens: list[tuple[int, Any]], top_k: int
) -> tuple[list[dict[str, Any]], list[int]]:
    """The log-prob entries and ids of streamed (token, log-probs [vocab]) pairs."""
    ids = [token for token, _ in tokens]
    logprobs = [float(log_probs[token]) for token, log_probs in tokens]
    return _logprob_entries(
        tokenizer, ids, logprobs, [_top(log_probs, top_k) for _, log_probs in tokens]
    ), ids


def _logprob_entries(
    tokenizer: Any, ids: list[int], logprobs: list[float], tops: list[list[tuple[int, float]]]
) -> list[dict[str, Any]]:
    """OpenAI's `logprobs.content` entries; every token and alternative decoded in one batch call."""
    if not ids:
        return []
    tops = tops or [[] for _ in ids]
    decoded = tokenizer.batch_decode([[t] for t in ids] + [[t] for row in tops for t, _ in row])
    alternatives = iter(decoded[len(ids) :])
    return [
        {
            "token": token,
            "logprob": logprob,
            "top_logprobs": [{"token": next(alternatives), "logprob": value} for _, value in row],
        }
        for token, logprob, row in zip(decoded[: len(ids)], logprobs, tops, strict=True)
    ]


def _decode_steps(
    model: Any, call: _Call, cache: Any, deadline: float | None
) -> Generator[tuple[int, Any], None, None]:
    """Sample one token per forward from a cache of the prompt but its last token.

    Yields (token, raw log-probs [vocab]) until `max_tokens` or the `time.monotonic()` deadline.
    The draws are generate's: the argmax when greedy, else one multinomial draw from
    softmax(logits / T) on a generator seeded like `_seeded`. No context is held across a yield
    (the consumer may resume it from another thread).
    """
    import torch

    generator = None
    if call.seed is not None:
        generator = torch.Generator(device=model.device).manual_seed(int(call.seed))
    next_ids = call.prompt_ids[:, -1:]  # [1, 1]
    for _ in range(call.max_tokens):
        with torch.inference_mode():
            out = model(input_ids=next_ids, use_cache=True, logits_to_keep=1, **{_cache_arg(model): cache})
            logits = out.logits[:, -1].float()  # [1, vocab]
            if call.temperature > 0:
                probs = torch.softmax(logits / call.temperature, dim=-1)
                next_ids = torch.multinomial(probs, num_samples=1, generator=generator)
            else:
                next_ids = logits.argmax(dim=-1, keepdim=True)
            log_probs = torch.log_softmax(logits, dim=-1)[0]
        yield int(next_ids), log_probs
        if deadline is not None and time.monotonic() >= deadline:
            return


@dataclass
class _StreamedText:
    """The text of a reply streamed token by token: what was generated, shown, and why it ended."""

    tokenizer: Any
    stop: list[str]
    eos_ids: list[int]
    ids: list[int] = field(default_factory=list)
    text: str = ""
    shown: int = 0
    """Characters of `text` already sent."""
    finish: str | None = None
    """`stop` once an end-of-sequence token or a stop string ended the reply."""

    def add(self, token: int) -> str:
        """Take one generated token; return the text it lets the stream show (often all of it)."""
        self.ids.append(token)
        if token in self.eos_ids:  # counted as generated, never shown (as in `_cut_rows`)
            self.finish = "stop"
            return ""
        self.text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if (cut := _stop_position(self.text, self.stop)) is not None:
            self.text, self.finish = self.text[:cut], "stop"
            return ""
        return self._release(_shown_length(self.text, self.stop))

    def rest(self) -> str:
        """The text not shown yet, once the reply has ended."""
        return self._release(len(self.text))

    def _release(self, upto: int) -> str:
        new = self.text[self.shown : upto]
        self.shown = max(self.shown, upto)
        return new


def _as_row(ids: list[int], like: Any) -> Any:
    import torch

    return torch.tensor([ids], dtype=like.dtype, device=like.device)  # [1, steps]


def _stop_position(text: str, stop: Sequence[str]) -> int | None:
    """Where the first stop string in `text` begins, or None."""
    hits = [text.find(s) for s in stop if s and s in text]
    return min(hits) if hits else None


def _shown_length(text: str, stop: Sequence[str]) -> int:
    """How much of `text` a stream may show now.

    Held back: a tail that may begin a stop string, and a trailing U+FFFD (a character whose
    bytes are not all generated yet).
    """
    end = len(text.rstrip("\ufffd"))
    held = [k for s in stop for k in range(1, len(s)) if text.endswith(s[:k], 0, end)]
    return end - max(held, default=0)


def _plain_dynamic_cache(model: Any) -> bool:
    """True when the model's dynamic cache is plain full-attention layers, which prefix reuse can cut.

    Sliding-window, linear-attention and other layer kinds keep state a cut prefix cannot restore.
    """
    from transformers import DynamicCache
    from transformers.cache_utils import DynamicLayer

    try:
        layers = DynamicCache(config=model.config).layers
    except (TypeError, ValueError, AttributeError):
        return False
    return all(type(layer) is DynamicLayer for layer in layers)


def _prefill(model: Any, prompt_ids: Any, store: PrefixCacheStore | None, n: int) -> tuple[int, Any]:
    """Return (reused tokens, cache [n rows] of all prompt tokens but the last).

    The longest stored prefix (if a store is given) is copied into a fresh cache; the rest of the
    prompt but its last token is encoded once at batch 1, then the cache is repeated for the n
    rows. `generate` (or the stream) then encodes the last prompt token itself, which yields the
    logits of the first sampled position.
    """
    from transformers import DynamicCache

    prompt_len = prompt_ids.shape[1]
    cached, layers = store.lookup(prompt_ids[0].cpu(), limit=prompt_len - 1) if store else (0, ())
    cache = DynamicCache(ddp_cache_data=layers or None, config=model.config)  # copies: stored stay intact
    if cached < prompt_len - 1:
        encode = {_cache_arg(model): cache, "use_cache": True, "logits_to_keep": 1}
        model(input_ids=prompt_ids[:, cached:-1], **encode)
    if n > 1:
        cache.batch_repeat_interleave(n)
    return cached, cache


def _cache_arg(model: Any) -> str:
    """The keyword under which `model` takes a KV cache.

    `cache` since transformers 5.24, which deprecates the older `past_key_values`.
    """
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


def _output_cache(out: Any) -> Any:
    """The KV cache a `generate` output returns (`cache` since transformers 5.24)."""
    return out.cache if "cache" in getattr(out, "__dataclass_fields__", ()) else out.past_key_values


def _keep_rows(store: PrefixCacheStore, prompt_ids: Any, new_ids: Any, ends: list[int], cache: Any) -> None:
    """Store the cache of prompt + generated tokens of each row, for the next step's prompt.

    The cache holds every position but the last sampled one (never fed back); tokens a row
    generated after its end are batch padding and are left out.
    """
    import torch

    encoded = cache.get_seq_length() - prompt_ids.shape[1]  # generated tokens held by the cache
    for row, end in enumerate(ends):
        keep = prompt_ids.shape[1] + min(end, encoded)
        ids = torch.cat([prompt_ids[0], new_ids[row, : keep - prompt_ids.shape[1]]]).cpu()
        layers = tuple(
            (layer.keys[row : row + 1, :, :keep].clone(), layer.values[row : row + 1, :, :keep].clone())
            for layer in cache.layers
        )
        store.store(ids, layers)


def _static_cache_settings(max_cache_len: int) -> dict[str, Any]:
    """generate() settings of the GPU fast path: static cache, compiled forward with CUDA graphs.

    transformers compiles the decoding forward itself when the cache is static and the model is
    on a GPU (`CompileConfig`, mode "reduce-overhead"); it copies each step's logits out of the
    graph's buffers. One cache size for every call keeps one compiled graph per batch size.
    """
    from transformers import CompileConfig

    return {
        "cache_implementation": "static",
        "max_cache_len": max_cache_len,
        "compile_config": CompileConfig(fullgraph=False, mode="reduce-overhead"),
    }


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    eos = model.generation_config.eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
    if eos is None:
        msg = "the model and tokenizer define no end-of-sequence token; set generation_config.eos_token_id"
        raise ValueError(msg)
    return [eos] if isinstance(eos, int) else list(eos)


def _cut_rows(
    rows: list[list[int]], tokenizer: Any, stop: Sequence[str], eos_ids: Sequence[int]
) -> list[tuple[int, str, str]]:
    """Find where each sampled row ends; return per row (tokens generated, text, finish reason).

    A row ends after its first end-of-sequence token (counted: it was generated) or after the
    token that completed a stop string (the stop string is cut from the text, as OpenAI does).
    The rest of the row is padding from the batch. The rows' texts are decoded in one call.
    """
    eos_at = [next((j for j, t in enumerate(ids) if t in eos_ids), None) for ids in rows]
    limits = [len(ids) if at is None else at for ids, at in zip(rows, eos_at, strict=True)]
    texts = tokenizer.batch_decode(
        [ids[:limit] for ids, limit in zip(rows, limits, strict=True)], skip_special_tokens=True
    )
    return [
        _cut_row(ids, text, limit, at, tokenizer, stop)
        for ids, text, limit, at in zip(rows, texts, limits, eos_at, strict=True)
    ]


def _cut_row(
    ids: list[int], text: str, limit: int, eos_at: int | None, tokenizer: Any, stop: Sequence[str]
) -> tuple[int, str, str]:
    """One row's (tokens generated, text, finish reason), given its decoded text up to `limit`."""
    hits = [(text.find(s), s) for s in stop if s and s in text]
    if hits:
        pos, _ = min(hits)
        # Smallest token count whose decoded text contains a stop string: decoding is monotone
        # in the prefix, so binary search needs log2(steps) decodes.
        lo, hi = 1, limit
        while lo < hi:
            mid = (lo + hi) // 2
            prefix = tokenizer.decode(ids[:mid], skip_special_tokens=True)
            if any(s in prefix for s in stop if s):
                hi = mid
            else:
                lo = mid + 1
        return lo, text[:pos], "stop"
    if eos_at is not None:
        return eos_at + 1, text, "stop"
    return len(ids), text, "length"


@contextmanager
def _seeded(seed: int | None) -> Iterator[None]:
    """Seed torch's generators for one call without disturbing the caller's random state."""
    import torch

    if seed is None:
        yield
        return
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield
