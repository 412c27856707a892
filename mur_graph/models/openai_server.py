"""The OpenAI-compatible server dialect: the client, its request quirks, its errors made clear.

A server (vLLM, llama.cpp's server) is reached through `langchain_openai.ChatOpenAI`. This module
builds that client (`chat_openai`), adds what a request needs beyond the contract's settings
(`request_kwargs`: log-probs always asked for, `max_tokens` in the body llama.cpp reads,
continuation of a final assistant message, the run's routing session) and turns the openai
client's failures into `ServerError`s and `ContextLengthError` naming the server and the fix
(`server_error`). `routing_session` names the run a block of calls belongs to, so a router in
front of several replicas can keep them on one replica.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import SecretStr

from mur_graph.models.errors import (
    ContextLengthError,
    MissingDependencyError,
    ServerRequestError,
    ServerUnavailableError,
)

SERVER_TIMEOUT_S = 300.0
"""Default seconds one request to a server may take (a long fallback on a slow server needs minutes)."""
SERVER_MAX_RETRIES = 2
"""Default retries of a failed request (the OpenAI client backs off 0.5 s, 1 s, ... up to 8 s)."""
_LOGPROBS_LIMIT = re.compile(r"logprobs of (\d+), which is greater than max allowed: (\d+)")
"""vLLM's refusal of a request for more top log-probs than its `--max-logprobs`."""
SESSION_HEADER = "X-Session-ID"
"""The header naming a request's session, which vLLM Router's `sticky_least_loaded` and
`consistent_hash` policies read first to send every request of a session to one replica."""
_SESSION: ContextVar[str | None] = ContextVar("mur_graph_routing_session", default=None)


@contextmanager
def routing_session(key: str | None) -> Iterator[None]:
    """Send `X-Session-ID: key` with every server request made in this block (one MUR run).

    The calls of one run re-send a growing prefix (the question and the steps kept so far); a
    router that keeps a session on one replica lets that replica's prefix cache serve them. A
    server that does not know the header ignores it; `None` sends none. The key travels with the
    context, so the calls a run makes from worker threads (`sample_each`) carry it too.
    """
    token = _SESSION.set(key)
    try:
        yield
    finally:
        _SESSION.reset(token)


def active_routing_session() -> str | None:
    """The key of the enclosing `routing_session`, or None outside one."""
    return _SESSION.get()


def chat_openai(
    model: str | None,
    base_url: str,
    *,
    timeout: float = SERVER_TIMEOUT_S,
    max_retries: int = SERVER_MAX_RETRIES,
    **kwargs: Any,
) -> BaseChatModel:
    """A `ChatOpenAI(logprobs=True)` client of the server at `base_url` serving `model`.

    The client retries a failed request `max_retries` times with backoff and waits at most
    `timeout` seconds per request, so a dead server costs a bounded wait, then a
    `ServerUnavailableError` naming it. `kwargs` go to `ChatOpenAI` (e.g. `extra_body`).

    Raises:
        MissingDependencyError: langchain-openai is not installed.
    """
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        msg = (
            "a server model (base_url=...) needs langchain-openai; "
            "install it with: pip install 'mur-graph[openai]'"
        )
        raise MissingDependencyError(msg) from exc
    kwargs.setdefault("api_key", SecretStr("EMPTY"))
    return ChatOpenAI(
        base_url=base_url,
        model=model or "",
        logprobs=True,
        timeout=timeout,
        max_retries=max_retries,
        **kwargs,
    )


def is_server(model: BaseChatModel) -> bool:
    """Whether `model` is a client of an OpenAI-compatible server, which serves requests concurrently."""
    return "openai_api_base" in type(model).model_fields


def request_kwargs(
    model: BaseChatModel, messages: Sequence[BaseMessage], max_tokens: int, top_logprobs: int
) -> dict[str, Any]:
    """What a server request needs beyond the contract's settings (`n`, `seed`, `temperature`, ...)."""
    # top_logprobs is always sent: llama-cpp-python's server returns no log-probs without it.
    kwargs: dict[str, Any] = {"logprobs": True, "top_logprobs": top_logprobs}
    # langchain-openai sends max_tokens as max_completion_tokens, which llama.cpp's server
    # ignores; vLLM reads both. A final assistant message is continued, not answered.
    extra: dict[str, Any] = dict(getattr(model, "extra_body", None) or {})
    extra["max_tokens"] = max_tokens
    if messages and isinstance(messages[-1], AIMessage):
        extra.update(continue_final_message=True, add_generation_prompt=False)
    kwargs["extra_body"] = extra
    if (session := active_routing_session()) is not None:
        kwargs["extra_headers"] = {SESSION_HEADER: session}
    return kwargs


def server_error(model: BaseChatModel, exc: Exception) -> Exception | None:
    """The clear error to raise for an OpenAI client's failure, or None to re-raise it as is."""
    try:
        import openai
    except ImportError:  # no OpenAI client installed: the failure is not a server's
        return None
    url = getattr(model, "openai_api_base", None) or "the OpenAI-compatible server"
    if isinstance(exc, openai.BadRequestError) and "context" in str(exc).lower():
        msg = f"the server at {url} refused the prompt as too long for its context: {_said(exc)}"
        return ContextLengthError(msg)
    if isinstance(exc, openai.BadRequestError) and (limit := _LOGPROBS_LIMIT.search(_said(exc))):
        asked, allowed = limit.groups()
        msg = (
            f"the server at {url} returns at most {allowed} log-probs per token and was asked for "
            f"{asked} (the critics read the top 10 at their verdict); restart vLLM with --max-logprobs "
            f"{asked} or more (its default is 20)"
        )
        return ServerRequestError(msg)
    busy = openai.InternalServerError | openai.RateLimitError  # retried by the client, like no answer
    if isinstance(exc, openai.APIStatusError) and not isinstance(exc, busy):
        msg = (
            f"the server at {url} refused the request with HTTP {exc.status_code} ({_said(exc)}); "
            f"check the model name (what {url}/models lists) and the server's options"
        )
        return ServerRequestError(msg)
    if not isinstance(exc, openai.APIConnectionError | busy):
        return None
    retries = getattr(model, "max_retries", None)
    timeout = getattr(model, "request_timeout", None)
    tries = f"{retries if retries is not None else openai.DEFAULT_MAX_RETRIES} retries"
    if timeout is not None:
        tries += f", {timeout} s timeout per request"
    if isinstance(exc, openai.APITimeoutError):
        reason = "timed out"
    elif isinstance(exc, openai.APIStatusError):
        reason = f"failed with HTTP {exc.status_code} ({_said(exc)})"
    else:
        reason = f"could not be reached ({_root_cause(exc)})"
    msg = (
        f"the model server at {url} {reason} after {tries}; check that it is running and "
        f"reachable at that URL (or raise --request-timeout / --max-retries)"
    )
    return ServerUnavailableError(msg)


def _said(exc: Any) -> str:
    """What the server said in an OpenAI-style error body, else the client's message."""
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(getattr(exc, "message", exc))


def _root_cause(exc: BaseException) -> str:
    """The innermost cause of a client error, e.g. `[Errno 111] Connection refused`."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc) or type(exc).__name__
