"""OpenAI's chat completion objects, filled from a MUR run: chunks, the whole reply, errors, models."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mur_graph.serve.reasoning import usage
from mur_graph.serve.request import SERVED_MODELS

OWNER = "mur-graph"


@dataclass(frozen=True)
class Reply:
    """The identity every chunk of one reply repeats."""

    model: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        """One `chat.completion.chunk` with one choice."""
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._object("chat.completion.chunk", choices=[choice])

    def usage_chunk(self, state: Mapping[str, Any], prompt_tokens: int) -> dict[str, Any]:
        """The last chunk of a stream asked with `stream_options.include_usage`: no choice, the usage."""
        return self._object("chat.completion.chunk", choices=[], **_accounting(state, prompt_tokens))

    def completion(self, state: Mapping[str, Any], reasoning: str, prompt_tokens: int) -> dict[str, Any]:
        """The whole reply of a request without `stream`."""
        message = {"role": "assistant", "content": content(state), **reasoning_delta(reasoning)}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason(state)}
        return self._object("chat.completion", choices=[choice], **_accounting(state, prompt_tokens))

    def _object(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model, **fields}


def reasoning_delta(text: str) -> dict[str, str]:
    """Reasoning text under both names: `reasoning_content` (DeepSeek, llama.cpp), `reasoning` (vLLM)."""
    return {"reasoning_content": text, "reasoning": text}


def content(state: Mapping[str, Any]) -> str:
    """The reply's content: the final answer, or the whole solution when no answer was found."""
    answer = state.get("answer")
    return answer if answer is not None else state.get("solution", "")


def finish_reason(state: Mapping[str, Any]) -> str:
    """`stop` when the run found an answer, `length` when a limit ended it without one."""
    limits = ("max_steps", "token_budget", "context_full")
    if state.get("answer") is None and state.get("stop_reason") in limits:
        return "length"
    steps = state.get("steps") or []
    if (
        state.get("stop_reason") == "single_call"
        and steps
        and steps[-1].get("draft_finish_reason") == "length"
    ):
        return "length"  # plain mode's one call ran out of `plain_tokens`
    return "stop"


def _accounting(state: Mapping[str, Any], prompt_tokens: int) -> dict[str, Any]:
    steps = state.get("steps", [])
    mur = {
        "ledger": dict(state.get("ledger", {})),
        "steps": len(steps),
        "scaled": sum(1 for step in steps if step["scaled"]),
        "stop_reason": state.get("stop_reason"),
    }
    return {"usage": usage(state.get("ledger", {}), prompt_tokens), "mur": mur}


def error_body(message: str, *, status: int, param: str | None = None) -> dict[str, Any]:
    """OpenAI's error object (what its SDK raises from)."""
    kind = "invalid_request_error" if status < 500 else "server_error"
    code = "model_not_found" if status == 404 else None
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def model_list() -> dict[str, Any]:
    """`GET /v1/models`: one entry per served model name."""
    data = [{"id": name, "object": "model", "created": 0, "owned_by": OWNER} for name in SERVED_MODELS]
    return {"object": "list", "data": data}
