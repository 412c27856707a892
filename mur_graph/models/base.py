"""`LocalChatModel`: what the in-process backends share, so each holds only its own generation.

A local backend renders messages with a chat template, samples `n` completions per call and
answers in `ChatOpenAI(logprobs=True)`'s shape: `response_metadata["logprobs"]["content"]`,
`usage_metadata`, a finish reason. This base owns the shared settings, their resolution per call
(`_settings`), the stop strings, when to stream, and the shape of messages, results and streamed
chunks; a subclass implements `_llm_type`, `_generate` and, to stream, `_stream`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel, LangSmithParams
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    UsageMetadata,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, Field

from mur_graph.models.errors import ContextLengthError

__all__ = ["LocalChatModel", "Settings", "fit_context", "to_chat_dict", "usage"]


@dataclass(frozen=True)
class Settings:
    """One call's settings, resolved over the model's defaults."""

    n: int
    temperature: float
    max_tokens: int
    top_logprobs: int
    seed: int | None
    stop: list[str]
    """The model's stop strings followed by the call's, without repeats or empty strings."""


class LocalChatModel(BaseChatModel):
    """Base of the chat models that generate in this process and return OpenAI-shaped log-probs.

    Log-probs are those of the raw model distribution (temperature 1, no top-k), the quantity
    MUR's uncertainty is defined on, whatever temperature the token was sampled at. A stream is
    one sample: a call for several is generated in one batch instead.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

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
    """Default sampling seed; None draws unseeded."""
    stop: list[str] | None = None
    """Stop strings of every call, before those the call passes (cut from the text, as OpenAI does)."""
    chat_template_kwargs: dict[str, Any] = Field(default_factory=lambda: {"enable_thinking": False})
    """Extra variables for the chat template (Qwen3: thinking off, as in the paper)."""
    prefix_cache: bool = True
    """Reuse the encoded prefix of each prompt across calls, and one prefill for the n samples."""
    prefix_cache_entries: int = Field(default=8, ge=0)
    """At most this many stored prefixes (one per sampled row)."""
    timeout: float | None = Field(default=None, gt=0)
    """Seconds one call may run (prefill and generation); a reply cut short by it finishes with
    `"length"`, as one cut by `max_tokens` does."""
    streaming: bool = False
    """Generate through `_stream` even in `invoke`, so that callbacks see every token."""

    @property
    def _identifying_params(self) -> dict[str, Any]:
        # Everything that changes what a call returns: the call cache and LangChain's own cache
        # key calls on it (through `_get_llm_string`), so two GGUFs must never share a key.
        return {
            "model_name": self.model_name,
            **self._weights(),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "n": self.n,
            "top_logprobs": self.top_logprobs,
            "seed": self.seed,
            "model_stop": self.stop,  # "stop" is the call's own, which LangChain writes over it
            "chat_template_kwargs": self.chat_template_kwargs,
        }

    def _weights(self) -> dict[str, Any]:
        """What identifies the weights this model runs (its file, its checkpoint and dtype)."""
        return {}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        return super()._get_ls_params(stop=self._stops(stop) or None, **kwargs)

    def _should_stream(self, *, async_api: bool, **kwargs: Any) -> bool:
        # A call for several samples is one batch; `stream(n=2)` itself reaches `_stream`, which refuses it.
        several = not self._one_sample(kwargs) and not kwargs.get("stream")
        return not several and super()._should_stream(async_api=async_api, **kwargs)

    def _should_use_protocol_streaming(self, *, async_api: bool, **kwargs: Any) -> bool:
        return self._one_sample(kwargs) and super()._should_use_protocol_streaming(
            async_api=async_api, **kwargs
        )

    def _deadline(self) -> float | None:
        """The `time.monotonic()` by which a call starting now must end, or None."""
        return None if self.timeout is None else time.monotonic() + self.timeout

    def _one_sample(self, kwargs: dict[str, Any]) -> bool:
        return int(kwargs.get("n") or self.n) == 1

    def _stops(self, stop: Sequence[str] | None) -> list[str]:
        """The construction-time stop strings followed by this call's, without repeats."""
        return list(dict.fromkeys(s for s in [*(self.stop or ()), *(stop or ())] if s))

    def _settings(
        self, stop: Sequence[str] | None, kwargs: dict[str, Any], *, stream: bool = False
    ) -> Settings:
        """This call's settings over the model's defaults.

        Raises:
            ValueError: a stream was asked for more than one sample.
        """
        seed = kwargs.get("seed", self.seed)
        settings = Settings(
            n=int(kwargs.get("n") or self.n),
            temperature=float(kwargs.get("temperature", self.temperature)),
            max_tokens=int(kwargs.get("max_tokens") or self.max_tokens),
            top_logprobs=int(kwargs.get("top_logprobs") or self.top_logprobs),
            seed=None if seed is None else int(seed),
            stop=self._stops(stop),
        )
        if stream and settings.n != 1:
            name = type(self).__name__
            msg = f"{name} streams one sample; got n={settings.n}: use invoke/generate for several"
            raise ValueError(msg)
        return settings

    def _generation(
        self,
        text: str,
        content: list[dict[str, Any]],
        ids: list[int],
        finish: str | None,
        usage: UsageMetadata,
    ) -> ChatGeneration:
        """One sample in ChatOpenAI's shape: text, log-prob entries, finish reason, usage, token ids."""
        message = AIMessage(
            content=text,
            response_metadata={
                "logprobs": {"content": content},
                "finish_reason": finish,
                "model_name": self.model_name,
            },
            usage_metadata=usage,
        )
        return ChatGeneration(message=message, generation_info={"finish_reason": finish, "token_ids": ids})

    def _chat_result(self, generations: list[ChatGeneration]) -> ChatResult:
        return ChatResult(generations=generations, llm_output={"model_name": self.model_name})

    def _chunk(
        self,
        text: str,
        content: list[dict[str, Any]],
        ids: list[int],
        *,
        finish_reason: str | None = None,
        usage: UsageMetadata | None = None,
    ) -> ChatGenerationChunk:
        """One streamed chunk: its text and its tokens' log-prob entries (the last: finish and usage).

        Entries go in `generation_info` as ChatOpenAI's chunks carry them; LangChain copies them
        into `response_metadata`, and adding chunks concatenates their lists.
        """
        info: dict[str, Any] = {"logprobs": {"content": content}, "token_ids": ids}
        if finish_reason is None:
            message = AIMessageChunk(content=text)
        else:
            info |= {"finish_reason": finish_reason, "model_name": self.model_name}
            message = AIMessageChunk(content=text, usage_metadata=usage, chunk_position="last")
        return ChatGenerationChunk(message=message, generation_info=info)


def usage(prompt_len: int, generated: int, cached: int) -> UsageMetadata:
    """Token counts of one sample, with the prompt tokens whose encoding was reused."""
    return {
        "input_tokens": prompt_len,
        "output_tokens": generated,
        "total_tokens": prompt_len + generated,
        "input_token_details": {"cache_read": cached},
    }


def fit_context(prompt_len: int, max_tokens: int, context: int | None) -> int:
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


def to_chat_dict(message: BaseMessage) -> dict[str, str]:
    """A message as a chat template's {"role", "content"} entry."""
    roles = {
        HumanMessage: "user",
        AIMessage: "assistant",
        SystemMessage: "system",
        ToolMessage: "tool",
    }
    for cls, role in roles.items():
        if isinstance(message, cls):
            return {"role": role, "content": message.text}
    msg = f"a local chat model cannot render a {type(message).__name__}; use system, human or AI messages"
    raise TypeError(msg)
