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

This module is the model (loading, settings, the three phases of a call); the work is done by
`transformers_sampling` (generate's settings, token-by-token decoding, where rows end),
`transformers_cache` (KV caches and prefix reuse) and `transformers_logprobs` (log-prob entries).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

from mur_graph.models.base import LocalChatModel, fit_context, to_chat_dict, usage
from mur_graph.models.errors import ContextLengthError, MissingDependencyError
from mur_graph.models.open_end import tokenize_open_end
from mur_graph.models.prefix_cache import PrefixCacheStore
from mur_graph.models.retry import retrying
from mur_graph.models.transformers_cache import (
    KVLayers,
    as_row,
    cache_arg,
    keep_rows,
    output_cache,
    plain_dynamic_cache,
    prefill,
    static_cache_settings,
)
from mur_graph.models.transformers_logprobs import logprob_entries, sampled_logprobs, streamed_entries
from mur_graph.models.transformers_sampling import (
    Call,
    StreamedText,
    cut_rows,
    decode_steps,
    eos_ids,
    sampling_settings,
    seeded,
    time_limit,
)

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

    _store: PrefixCacheStore[KVLayers] | None = PrivateAttr(default=None)

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
    def prefix_store(self) -> PrefixCacheStore[KVLayers] | None:
        """The store of reusable KV caches, or None when prefix reuse is off for this model."""
        if not self.prefix_cache or self.static_cache or not self.prefix_cache_entries:
            return None
        with _STORE_CREATION:  # calls may overlap in threads (LangGraph runs sync nodes in a pool)
            if self._store is None:
                if not plain_dynamic_cache(self.llm.pipeline.model):
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
        reply = StreamedText(self.tokenizer, call.stop, call.eos_ids)
        pending: list[tuple[int, Any]] = []  # (token, log-probs [vocab]) not sent yet
        steps = decode_steps(self.llm.pipeline.model, call, cache, deadline)
        for token, log_probs in steps:
            pending.append((token, log_probs))
            if shown := reply.add(token):
                yield self._chunk(shown, *streamed_entries(self.tokenizer, pending, call.top_logprobs))
                pending = []
            if reply.finish:
                break
        steps.close()
        if (store := self.prefix_store) is not None:
            keep_rows(store, call.prompt_ids, as_row(reply.ids, call.prompt_ids), [len(reply.ids)], cache)
        yield self._chunk(
            reply.rest(),
            *streamed_entries(self.tokenizer, pending, call.top_logprobs),
            finish_reason=reply.finish or "length",
            usage=usage(call.prompt_len, len(reply.ids), cached),
        )

    def _tokenize(self, text: str) -> list[int]:
        """Token ids of rendered template text (its special tokens parsed, none added)."""
        return list(self.tokenizer(text, add_special_tokens=False).input_ids)

    def _decode(self, ids: Sequence[int]) -> str:
        """The text of token ids, special tokens included."""
        return str(
            self.tokenizer.decode(list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False)
        )

    def _prepare(
        self,
        messages: Sequence[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        *,
        stream: bool = False,
    ) -> Call:
        """Inputs: this call's settings over the model's defaults, and the encoded prompt."""
        import torch

        model = self.llm.pipeline.model
        prompt = self.render_prompt(messages)
        # The rendered template already holds the special tokens (BOS included).
        ids = tokenize_open_end(self._tokenize, self._decode, prompt)
        prompt_ids = torch.tensor([ids], dtype=torch.long, device=model.device)  # [1, prompt_len]
        settings = self._settings(stop, kwargs, stream=stream)
        context = getattr(model.config, "max_position_embeddings", None)
        max_tokens = fit_context(prompt_ids.shape[1], settings.max_tokens, context)
        return Call(
            **(vars(settings) | {"max_tokens": max_tokens}),
            prompt_ids=prompt_ids,
            eos_ids=eos_ids(model, self.tokenizer),
        )

    def _sample(self, call: Call) -> tuple[Any, int]:
        """Sampling: n rows in one `generate` call; return (its output, prompt tokens reused)."""
        import torch

        model = self.llm.pipeline.model
        batch = call.prompt_ids.repeat(call.n, 1)  # [n, prompt_len]
        settings = sampling_settings(call.temperature)
        if self.timeout is not None:
            settings["stopping_criteria"] = time_limit(self.timeout)
        cached = 0
        with torch.inference_mode():
            if self.prefix_store is not None:
                cached, settings[cache_arg(model)] = prefill(
                    model, call.prompt_ids, self.prefix_store, call.n
                )
            elif self.static_cache:
                settings |= static_cache_settings(self.static_cache_len)
            with seeded(call.seed):
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

    def _result(self, call: Call, out: Any, cached: int) -> ChatResult:
        """Result: cut each row at its end, keep its KV cache, answer in ChatOpenAI's shape."""
        new_ids = out.sequences[:, call.prompt_len :]  # [n, steps]
        chosen, tops = sampled_logprobs(out.logits, new_ids, call.top_logprobs)
        rows = cut_rows(new_ids.tolist(), self.tokenizer, call.stop, call.eos_ids)
        if (store := self.prefix_store) is not None:
            keep_rows(store, call.prompt_ids, new_ids, [end for end, _, _ in rows], output_cache(out))
        generations = []
        for row, (end, text, finish) in enumerate(rows):
            ids = new_ids[row, :end].tolist()
            row_tops = [list(zip(i.tolist(), v.tolist(), strict=True)) for i, v in tops[row][:end]]
            content = logprob_entries(self.tokenizer, ids, chosen[row, :end].tolist(), row_tops)
            generations.append(
                self._generation(text, content, ids, finish, usage(call.prompt_len, end, cached))
            )
        return self._chat_result(generations)

    def _prefilled(self, call: Call) -> tuple[int, Any]:
        """(reused tokens, cache of the prompt but its last token) for one streamed sample."""
        import torch

        with torch.inference_mode():
            return prefill(self.llm.pipeline.model, call.prompt_ids, self.prefix_store, 1)

    def _retrying(self, action: Callable[[], _T]) -> _T:
        """Run `action`, again up to `max_retries` times when the accelerator runs out of memory.

        Before a retry the stored prefix caches are dropped and the allocator's cached blocks
        freed, which is what concurrent calls on one GPU most often need.
        """
        import torch

        return retrying(action, self.max_retries, torch.cuda.OutOfMemoryError, self._free_memory)

    def _free_memory(self) -> None:
        import torch

        if self._store is not None:
            self._store.clear()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
