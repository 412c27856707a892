"""A chat completions request read into a question and MUR settings, or refused with a 4xx line.

The model name picks the mode (`SERVED_MODELS`); MUR's settings come as extra fields of the
body (`gamma`, `method`, `candidates`, ... — any `MURConfig` field but `mode`, and any scaling
method's own setting, e.g. φ's `clusters`) and are checked by `MURConfig` and the method's
settings themselves, so a bad value gets the CLI's message. OpenAI's `temperature` and `seed`
are MUR's own settings; `max_tokens` / `max_completion_tokens` become the token budget.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from mur_graph.config import Mode, MURConfig
from mur_graph.errors import MURError
from mur_graph.scaling import canonical_method, choose_method, method_setting_names

SERVED_MODELS: dict[str, Mode] = {
    "mur": "mur",
    "mur-per-step": "per_step",
    "mur-cot": "cot",
    "mur-plain": "plain",
}
"""The model names `/v1/models` lists, and the mode each one runs."""

SETTINGS = tuple(f.name for f in fields(MURConfig) if f.name not in ("mode", "method"))
"""The MUR settings a request body may carry besides `method`."""

IGNORED = frozenset(
    {
        "frequency_penalty",
        "presence_penalty",
        "top_p",
        "user",
        "metadata",
        "store",
        "logit_bias",
        "service_tier",
        "parallel_tool_calls",
        "reasoning_effort",
        "stream_options",
    }
)
"""OpenAI fields clients send by default that change nothing here (`stream_options` is read apart)."""

_BUDGET_FIELDS = ("max_completion_tokens", "max_tokens")


class RequestError(MURError, ValueError):
    """A request the endpoint refuses; `status` is its HTTP status, the message names the fix."""

    def __init__(self, message: str, *, status: int = 400, param: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.param = param


@dataclass(frozen=True)
class ChatRequest:
    """What a chat completions request asks of MUR."""

    model: str
    question: str
    """The last message's text: MUR solves it alone, without the earlier turns."""
    mode: Mode
    method: str | None
    """The scaling method named in the body (canonical name), or None for the served default."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The MUR settings the body names (checked: `MURConfig` accepts them)."""
    method_settings: dict[str, Any] = field(default_factory=dict)
    """The method's own settings the body names (checked against `method` when it names one)."""
    stream: bool = False
    include_usage: bool = False
    """`stream_options.include_usage`: end the stream with a usage chunk."""


def parse_request(body: bytes) -> ChatRequest:
    """Read a `/v1/chat/completions` body.

    Raises:
        RequestError: the body is not a JSON object, names an unknown model (404), has no
            messages, does not end with the user's message, or carries a bad setting.
    """
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f'the request body is not JSON ({exc}); send {{"model": "mur", "messages": [...]}}'
        raise RequestError(msg) from None
    if not isinstance(data, dict):
        msg = 'the request body must be a JSON object: {"model": "mur", "messages": [...]}'
        raise RequestError(msg)
    model = data.get("model")
    if not isinstance(model, str) or model not in SERVED_MODELS:
        names = ", ".join(SERVED_MODELS)
        msg = f"unknown model {model!r}; use one of {names} (GET /v1/models lists them)"
        raise RequestError(msg, status=400 if model is None else 404, param="model")
    question = _question(data.get("messages"))
    _refuse_unknown(data)
    if data.get("n", 1) != 1:
        msg = f"n={data['n']!r}: MUR returns one answer per request; leave n out or send n=1"
        raise RequestError(msg, param="n")
    settings = {name: data[name] for name in SETTINGS if name in data}
    own = {name: data[name] for name in method_setting_names() if name in data}
    budget = [data[name] for name in _BUDGET_FIELDS if data.get(name) is not None]
    if budget and "token_budget" not in settings:
        settings["token_budget"] = budget[0]
    method = _method(data.get("method"))
    try:
        MURConfig(mode=SERVED_MODELS[model], **settings)
        if method is not None:
            choose_method(method, own)
    except (ValueError, TypeError) as exc:
        raise RequestError(str(exc)) from None
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        msg = f"stream={stream!r} must be true or false"
        raise RequestError(msg, param="stream")
    options = data.get("stream_options") or {}
    if not isinstance(options, dict):
        msg = 'stream_options must be an object, e.g. {"include_usage": true}'
        raise RequestError(msg, param="stream_options")
    return ChatRequest(
        model=model,
        question=question,
        mode=SERVED_MODELS[model],
        method=method,
        settings=settings,
        method_settings=own,
        stream=stream,
        include_usage=bool(options.get("include_usage", False)),
    )


def _question(messages: object) -> str:
    if not isinstance(messages, list) or not messages:
        msg = 'messages is missing or empty; send [{"role": "user", "content": "<the problem>"}]'
        raise RequestError(msg, param="messages")
    last = messages[-1]
    role = last.get("role") if isinstance(last, dict) else None
    if role != "user":
        msg = (
            f"the last message is {role!r}, not the user's; end messages with "
            '{"role": "user", "content": "<the problem>"}'
        )
        raise RequestError(msg, param="messages")
    text = _text(last.get("content"))
    if not text.strip():
        msg = "the last user message is empty; put the problem to solve in its content"
        raise RequestError(msg, param="messages")
    return text.strip()


def _text(content: object) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") if isinstance(p, dict) and p.get("type") == "text" else None for p in content]
        if all(isinstance(p, str) for p in parts):
            return "\n".join(p for p in parts if isinstance(p, str))
    msg = "the user message's content must be text (a string, or parts of type 'text')"
    raise RequestError(msg, param="messages")


def _refuse_unknown(data: dict[str, Any]) -> None:
    if "mode" in data:
        msg = f"the model name picks the mode: send model {', '.join(SERVED_MODELS)} instead of mode"
        raise RequestError(msg, param="mode")
    own = method_setting_names()
    known = {"model", "messages", "stream", "n", "method", *SETTINGS, *own, *_BUDGET_FIELDS, *IGNORED}
    unknown = sorted(set(data) - known)
    if unknown:
        msg = (
            f"unknown field {unknown[0]!r}; MUR settings are method, {', '.join([*SETTINGS, *own])} "
            "(docs/settings.md); tools and response formats are not supported"
        )
        raise RequestError(msg, param=unknown[0])


def _method(name: object) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str):
        msg = f"method={name!r} must be the name of a scaling method, e.g. guided_search"
        raise RequestError(msg, param="method")
    try:
        return canonical_method(name)
    except ValueError as exc:
        raise RequestError(str(exc), param="method") from None
