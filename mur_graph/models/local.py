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

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_huggingface import HuggingFacePipeline
from pydantic import ConfigDict, Field, PrivateAttr

from mur_graph.models.prefix_cache import PrefixCacheStore

_STORE_CREATION = threading.Lock()


class ChatTransformers(BaseChatModel):
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

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llm: HuggingFacePipeline
    """The langchain-huggingface pipeline whose model and tokenizer generate."""
    model_name: str = "local"
    """Name reported in `response_metadata["model_name"]`."""
    temperature: float = 0.6
    """Default sampling temperature; 0 means greedy."""
    max_tokens: int = 256
    """Default limit of generated tokens per sample."""
    n: int = 1
    """Default number of samples per call."""
    top_logprobs: int = 0
    """Default number of most likely alternatives reported per position."""
    seed: int | None = None
    """Default sampling seed; None leaves torch's global generator as it is."""
    chat_template_kwargs: dict[str, Any] = Field(default_factory=lambda: {"enable_thinking": False})
    """Extra variables for the chat template (Qwen3: thinking off, as in the paper)."""
    prefix_cache: bool = True
    """Reuse the KV cache of the longest already-encoded prefix of each prompt (same outputs)."""
    prefix_cache_entries: int = Field(default=8, ge=0)
    """At most this many token sequences keep their KV cache (one per sampled row)."""
    prefix_cache_mb: float = Field(default=512.0, ge=0)
    """At most this many MiB of stored keys and values (least recently used dropped first)."""
    static_cache: bool = False
    """GPU fast path: a static KV cache of `static_cache_len` positions and a compiled forward
    (CUDA graphs); removes per-token launch overhead, and turns prefix reuse off."""
    static_cache_len: int = Field(default=4096, ge=1)
    """Positions of the static cache (prompt + generated); one size for every call avoids recompiling."""

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

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "temperature": self.temperature}

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
            [_to_chat_dict(m) for m in messages],
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
        import torch

        n = int(kwargs.get("n") or self.n)
        temperature = float(kwargs.get("temperature", self.temperature))
        max_tokens = int(kwargs.get("max_tokens") or self.max_tokens)
        top_k_report = int(kwargs.get("top_logprobs") or self.top_logprobs)
        seed = kwargs.get("seed", self.seed)
        model = self.llm.pipeline.model
        tokenizer = self.tokenizer

        prompt = self.render_prompt(messages)
        # The rendered template already holds the special tokens (BOS included).
        prompt_ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
        prompt_ids = prompt_ids.to(model.device)
        prompt_len = prompt_ids.shape[1]
        max_tokens = _fit_context(
            prompt_len, max_tokens, getattr(model.config, "max_position_embeddings", None)
        )
        batch = prompt_ids.repeat(n, 1)  # [n, prompt_len]
        sampling: dict[str, Any] = (
            {"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
            if temperature > 0
            else {"do_sample": False}
        )
        eos_ids = _eos_ids(model, tokenizer)
        store = self.prefix_store
        cached = 0
        with torch.inference_mode():
            if store is not None:
                cached, sampling["past_key_values"] = _prefill(model, prompt_ids, store, n)
            elif self.static_cache:
                sampling |= _static_cache_settings(self.static_cache_len)
            with _seeded(seed):
                out = model.generate(
                    batch,
                    attention_mask=torch.ones_like(batch),
                    max_new_tokens=max_tokens,
                    stop_strings=list(stop) if stop else None,
                    tokenizer=tokenizer,
                    pad_token_id=eos_ids[0],
                    output_logits=True,
                    return_dict_in_generate=True,
                    **sampling,
                )
        new_ids = out.sequences[:, prompt_len:]  # [n, steps]
        # Raw model log-probs of the sampled tokens: log_softmax of the unprocessed logits, one
        # position at a time so that no [n, steps, vocab] copy is made beside generate's own.
        chosen_steps, top_steps = [], []
        for position, step_logits in enumerate(out.logits):  # step_logits: [n, vocab]
            step_log_probs = torch.log_softmax(step_logits.float(), dim=-1)
            chosen_steps.append(step_log_probs.gather(-1, new_ids[:, position : position + 1]))
            if top_k_report:
                top_steps.append(step_log_probs.topk(top_k_report, dim=-1))
        chosen = torch.cat(chosen_steps, dim=1)  # [n, steps]
        rows = [_cut_row(new_ids[row].tolist(), tokenizer, stop or [], eos_ids) for row in range(n)]
        if store is not None:
            _keep_rows(store, prompt_ids, new_ids, [end for end, _, _ in rows], out.past_key_values)

        generations = []
        for row in range(n):
            ids = new_ids[row].tolist()
            end, text, finish = rows[row]
            row_lp = chosen[row, :end].tolist()
            tops: list[list[tuple[int, float]]] = [
                list(zip(top.indices[row].tolist(), top.values[row].tolist(), strict=True))
                for top in top_steps[:end]
            ]
            content = [
                {
                    "token": tokenizer.decode([tid]),
                    "logprob": lp,
                    "top_logprobs": [
                        {"token": tokenizer.decode([t]), "logprob": v} for t, v in (tops[j] if tops else [])
                    ],
                }
                for j, (tid, lp) in enumerate(zip(ids[:end], row_lp, strict=True))
            ]
            message = AIMessage(
                content=text,
                response_metadata={
                    "logprobs": {"content": content},
                    "finish_reason": finish,
                    "model_name": self.model_name,
                },
                usage_metadata={
                    "input_tokens": prompt_len,
                    "output_tokens": end,
                    "total_tokens": prompt_len + end,
                    "input_token_details": {"cache_read": cached},
                },
            )
            info = {"finish_reason": finish, "token_ids": ids[:end]}
            generations.append(ChatGeneration(message=message, generation_info=info))
        return ChatResult(
            generations=generations,
            llm_output={"model_name": self.model_name},
        )


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


def _prefill(model: Any, prompt_ids: Any, store: PrefixCacheStore, n: int) -> tuple[int, Any]:
    """Return (reused tokens, cache [n rows] of all prompt tokens but the last).

    The longest stored prefix is copied into a fresh cache; the rest of the prompt but its last
    token is encoded once at batch 1, then the cache is repeated for the n rows. `generate` then
    encodes the last prompt token itself, which yields the logits of the first sampled position.
    """
    from transformers import DynamicCache

    prompt_len = prompt_ids.shape[1]
    cached, layers = store.lookup(prompt_ids[0].cpu(), limit=prompt_len - 1)
    cache = DynamicCache(ddp_cache_data=layers or None, config=model.config)  # copies: stored stay intact
    if cached < prompt_len - 1:
        model(input_ids=prompt_ids[:, cached:-1], past_key_values=cache, use_cache=True, logits_to_keep=1)
    if n > 1:
        cache.batch_repeat_interleave(n)
    return cached, cache


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


class ContextLengthError(ValueError):
    """The prompt does not fit in the model's context window."""


def _fit_context(prompt_len: int, max_tokens: int, context: int | None) -> int:
    """Cap `max_tokens` to what the context window leaves; refuse a prompt that fills it.

    Raises:
        ContextLengthError: the prompt leaves no room to generate, before any generation.
    """
    if context is None:
        return max_tokens
    if prompt_len >= context:
        msg = (
            f"the prompt is {prompt_len} tokens, but the model's context holds {context}; "
            f"shorten the question or use a model with a longer context"
        )
        raise ContextLengthError(msg)
    return min(max_tokens, context - prompt_len)


def _to_chat_dict(message: BaseMessage) -> dict[str, str]:
    roles = {
        HumanMessage: "user",
        AIMessage: "assistant",
        SystemMessage: "system",
        ToolMessage: "tool",
    }
    for cls, role in roles.items():
        if isinstance(message, cls):
            return {"role": role, "content": message.text}
    msg = f"ChatTransformers cannot render a {type(message).__name__}; use system, human or AI messages"
    raise TypeError(msg)


def _eos_ids(model: Any, tokenizer: Any) -> list[int]:
    eos = model.generation_config.eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
    if eos is None:
        msg = "the model and tokenizer define no end-of-sequence token; set generation_config.eos_token_id"
        raise ValueError(msg)
    return [eos] if isinstance(eos, int) else list(eos)


def _cut_row(
    ids: list[int], tokenizer: Any, stop: Sequence[str], eos_ids: Sequence[int]
) -> tuple[int, str, str]:
    """Find where one sampled row ends; return (tokens generated, text, finish reason).

    A row ends after its first end-of-sequence token (counted: it was generated) or after the
    token that completed a stop string (the stop string is cut from the text, as OpenAI does).
    The rest of the row is padding from the batch.
    """
    eos_at = next((j for j, t in enumerate(ids) if t in eos_ids), None)
    limit = len(ids) if eos_at is None else eos_at
    text = tokenizer.decode(ids[:limit], skip_special_tokens=True)
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
