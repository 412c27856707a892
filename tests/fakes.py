"""A scripted chat model: fixed texts and log-probs per call, in ChatOpenAI(logprobs=True)'s shape."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from mur_graph.config import MURConfig
from mur_graph.ledger import add_ledgers, empty_ledger
from mur_graph.models.errors import ContextLengthError


def prompted(**settings: Any) -> MURConfig:
    """`MURConfig(**settings)` in the `prompted` step format (`Step<k>:`), which scripted models answer in."""
    return MURConfig(step_format="prompted", **settings)


@dataclass(frozen=True)
class Say:
    """One scripted sample: its text and the log-prob of each of its tokens."""

    text: str
    logprobs: tuple[float, ...]
    top: tuple[dict[str, float], ...] = field(default=())
    finish: str = "stop"
    """The finish reason reported: `stop`, or `length` for a sample cut at its token limit."""

    @property
    def n_tokens(self) -> int:
        return len(self.logprobs)


def say(text: str, *logprobs: float) -> Say:
    """A sample whose tokens have the given log-probs."""
    return Say(text, tuple(logprobs))


def cut(text: str, *logprobs: float) -> Say:
    """A sample that hit its token limit (finish reason `length`)."""
    return Say(text, tuple(logprobs), finish="length")


def context_full() -> Say:
    """A call whose prompt no longer fits the model's context: the model raises ContextLengthError."""
    return Say("", (), finish=CONTEXT_FULL)


CONTEXT_FULL = "context_full"


def verdict(p_yes: float, *, tokens: int = 2) -> Say:
    """A critic reply "Yes" whose first position has P(Yes)=p_yes and P(No)=1-p_yes."""
    top = {"Yes": math.log(p_yes), "No": math.log(1 - p_yes)}
    return Say("Yes", tuple([math.log(max(p_yes, 1 - p_yes))] + [-0.1] * (tokens - 1)), (top,))


def unreadable_verdict(*, tokens: int = 3) -> Say:
    """A critic reply with no Yes/No anywhere among its alternatives."""
    return Say(
        "Maybe", tuple([-0.5] * tokens), tuple({"Maybe": -0.5, "Perhaps": -1.5} for _ in range(tokens))
    )


@dataclass
class Call:
    """What the graph asked the model for."""

    messages: list[BaseMessage]
    stop: list[str] | None
    kwargs: dict[str, Any]


class ScriptedChatModel(BaseChatModel):
    """Answers each call with the next scripted list of samples (one list per call).

    A call asking for n samples must be answered by a list of exactly n. The model fails loudly
    when the script runs out or does not match, so a test sees every call the graph makes.
    """

    script: list[list[Say]]
    with_logprobs: bool = True
    _calls: list[Call] = PrivateAttr(default_factory=list)
    _next: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @property
    def calls(self) -> list[Call]:
        return self._calls

    @property
    def remaining(self) -> int:
        return len(self.script) - self._next

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._calls.append(Call(list(messages), stop, dict(kwargs)))
        if self._next >= len(self.script):
            msg = f"script exhausted after {len(self.script)} calls; unexpected call: {messages[-1].text!r}"
            raise AssertionError(msg)
        samples = self.script[self._next]
        self._next += 1
        if any(s.finish == CONTEXT_FULL for s in samples):
            msg = "the prompt is 4097 tokens, but the model's context holds 4096"
            raise ContextLengthError(msg)
        n = kwargs.get("n", 1)
        if len(samples) != n:
            msg = f"call {self._next} asked for n={n} samples, the script has {len(samples)}"
            raise AssertionError(msg)
        generations = []
        for s in samples:
            metadata: dict[str, Any] = {"finish_reason": s.finish}
            if self.with_logprobs:
                tops = list(s.top) + [{}] * (s.n_tokens - len(s.top))
                metadata["logprobs"] = {
                    "content": [
                        {
                            "token": f"t{i}",
                            "logprob": lp,
                            "top_logprobs": [{"token": t, "logprob": v} for t, v in tops[i].items()],
                        }
                        for i, lp in enumerate(s.logprobs)
                    ]
                }
            message = AIMessage(content=s.text, response_metadata=metadata)
            generations.append(ChatGeneration(message=message))
        return ChatResult(generations=generations)


class KeyedChatModel(BaseChatModel):
    """Answers a call by the one key found in its last message: order-free, so calls may overlap.

    With `meet` > 1, each call waits (5 s at most) until `meet` calls are in flight at once: a
    test that sets it fails (BrokenBarrierError) when the calls are made one after another.
    """

    replies: dict[str, Say]
    meet: int = 1
    _calls: list[Call] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _barrier: threading.Barrier | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any) -> None:
        if self.meet > 1:
            self._barrier = threading.Barrier(self.meet, timeout=5)

    @property
    def _llm_type(self) -> str:
        return "keyed"

    @property
    def calls(self) -> list[Call]:
        return self._calls

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            self._calls.append(Call(list(messages), stop, dict(kwargs)))
        if self._barrier is not None:
            self._barrier.wait()
        text = messages[-1].text
        keys = [key for key in self.replies if key in text]
        if len(keys) != 1:
            msg = f"expected exactly one key of {list(self.replies)} in the call, found {keys}: {text!r}"
            raise AssertionError(msg)
        return ScriptedChatModel(script=[[self.replies[keys[0]]]])._generate(messages, stop, **kwargs)


def sum_ledgers(parts: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The kind-by-kind sum of many ledgers, folded with the graph's own reducer (`add_ledgers`)."""
    total = empty_ledger()
    for part in parts:
        total = add_ledgers(total, part)
    return total


class SlowStreamingChatModel(BaseChatModel):
    """Streams `tokens` tokens (" t", log-prob -0.5) per call, `delay` seconds apart; counts them.

    A call that is not stopped ends with finish reason `length`; `generated` says how many tokens
    were produced in all, so a test sees whether a stopped run stopped generating.
    """

    tokens: int = 200
    delay: float = 0.05
    _generated: int = PrivateAttr(default=0)
    _calls: int = PrivateAttr(default=0)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "slow-streaming"

    @property
    def generated(self) -> int:
        with self._lock:
            return self._generated

    @property
    def calls(self) -> int:
        with self._lock:
            return self._calls

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        with self._lock:
            self._calls += 1
        for i in range(self.tokens):
            time.sleep(self.delay)
            with self._lock:
                self._generated += 1
            last = i == self.tokens - 1
            entry = {"token": " t", "logprob": -0.5, "top_logprobs": []}
            info: dict[str, Any] = {"logprobs": {"content": [entry]}}
            if last:
                info["finish_reason"] = "length"
            yield ChatGenerationChunk(message=AIMessageChunk(content=" t"), generation_info=info)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))
