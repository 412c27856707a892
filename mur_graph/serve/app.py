"""The Starlette app: `/v1/models` and `/v1/chat/completions`, MUR behind OpenAI's chat API.

`app` is what langgraph.json's `http.app` mounts in `langgraph dev` (beside the graphs) and what
`mur-graph serve` runs on uvicorn; it serves the policy and settings of the `langgraph dev`
graphs (`mur_graph.studio`: `$MUR_GRAPH_MODEL`, `$MUR_GRAPH_BASE_URL`, `$MUR_GRAPH_SETTINGS`),
loaded on the first request. `create_app(policy, config=...)` serves a model of your own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

from langchain_core.callbacks import UsageMetadataCallbackHandler
from langchain_core.language_models import BaseChatModel
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mur_graph.compiled import MURGraph
from mur_graph.config import MURConfig
from mur_graph.errors import MURError
from mur_graph.prompts import step_format
from mur_graph.serve.reasoning import Reasoning
from mur_graph.serve.replies import Reply, content, error_body, finish_reason, model_list, reasoning_delta
from mur_graph.serve.request import ChatRequest, RequestError, parse_request
from mur_graph.serve.runs import Loader, Runs

_log = logging.getLogger(__name__)


def create_app(
    policy: BaseChatModel | None = None,
    *,
    critic: BaseChatModel | None = None,
    config: MURConfig | None = None,
    method: str | None = None,
    method_settings: Mapping[str, Mapping[str, Any]] | None = None,
) -> Starlette:
    """Return the OpenAI-compatible app serving MUR on `policy` (its critic: `critic` or the policy).

    Without a policy it serves the `langgraph dev` graphs' model and settings, loaded on the
    first request. `config` gives the served defaults and `method` the served scaling method
    (default: guided search); a request changes any but the mode (the model name picks it:
    `mur`, `mur-per-step`, `mur-cot`), and may name another method. `method_settings` gives the
    served defaults of each method's own settings, by method name (`{"critic_refine":
    {"critique_tokens": 64}}`; without a policy, the `langgraph dev` graphs' model's limits); a
    request's own settings change them.
    """
    if policy is None and method_settings is None:
        from mur_graph.studio import studio_method_settings

        method_settings = studio_method_settings()
    loader = _studio_loader if policy is None else _fixed_loader(policy, critic, config)
    runs = Runs(loader, method, method_settings)

    async def models(request: Request) -> Response:
        return JSONResponse(model_list())

    async def chat_completions(request: Request) -> Response:
        try:
            chat = parse_request(await request.body())
            graph, settings = await runs.graph_for(chat)
        except RequestError as exc:
            return _error(str(exc), exc.status, exc.param)
        except MURError as exc:  # the served model cannot be loaded
            return _error(f"the served model is unavailable: {exc}", 503)
        if chat.stream:
            return EventSourceResponse(_events(graph, settings, chat), sep="\n")
        return await _whole(graph, settings, chat)

    routes = [
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    ]
    return Starlette(routes=routes)


def _studio_loader() -> tuple[BaseChatModel, BaseChatModel, MURConfig]:
    from mur_graph.studio import studio_config, studio_policy

    policy = studio_policy()
    return policy, policy, studio_config()


def _fixed_loader(policy: BaseChatModel, critic: BaseChatModel | None, config: MURConfig | None) -> Loader:
    return lambda: (policy, critic or policy, config or MURConfig())


def _error(message: str, status: int, param: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, status=status, param=param), status_code=status)


def _prompt_tokens(counter: UsageMetadataCallbackHandler) -> int:
    return sum(usage.get("input_tokens", 0) for usage in counter.usage_metadata.values())


def _reasoning(graph: MURGraph, settings: MURConfig) -> Reasoning:
    return Reasoning(step_format(settings.step_format), graph.mur_method.name)


async def _whole(graph: MURGraph, settings: MURConfig, chat: ChatRequest) -> Response:
    """Run to the end; answer with one `chat.completion`."""
    reasoning, counter = _reasoning(graph, settings), UsageMetadataCallbackHandler()
    try:
        async for item in Runs.stream(graph, chat.question, settings, counter, tokens=False):
            reasoning.feed(item)
    except Exception as exc:
        _failed(exc)
        return _error(f"the run failed: {exc}", 502)
    reasoning.finish()
    reply = Reply(chat.model).completion(reasoning.state, reasoning.text, _prompt_tokens(counter))
    return JSONResponse(reply)


async def _events(graph: MURGraph, settings: MURConfig, chat: ChatRequest) -> AsyncIterator[str]:
    """The SSE data of a streamed reply: reasoning deltas as the run goes, the answer, the usage."""
    reply, reasoning, counter = Reply(chat.model), _reasoning(graph, settings), UsageMetadataCallbackHandler()
    yield _json(reply.chunk({"role": "assistant", "content": ""}))
    try:
        async for item in Runs.stream(graph, chat.question, settings, counter, tokens=True):
            if text := reasoning.feed(item):
                yield _json(reply.chunk(reasoning_delta(text)))
        if text := reasoning.finish():
            yield _json(reply.chunk(reasoning_delta(text)))
    except Exception as exc:  # the stream has begun: the error goes in it, as OpenAI sends one
        _failed(exc)
        yield _json(error_body(f"the run failed: {exc}", status=502))
        return
    yield _json(reply.chunk({"content": content(reasoning.state)}))
    yield _json(reply.chunk({}, finish_reason(reasoning.state)))
    if chat.include_usage:
        yield _json(reply.usage_chunk(reasoning.state, _prompt_tokens(counter)))
    yield "[DONE]"


def _failed(exc: Exception) -> None:
    """Log a run's failure; a MURError's message says it all, anything else gets its traceback."""
    if isinstance(exc, MURError):
        _log.warning("a MUR run failed: %s", exc)
    else:
        _log.error("a MUR run failed", exc_info=exc)


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


app = create_app()
"""The app langgraph.json mounts and `mur-graph serve` runs: the `langgraph dev` graphs' model."""
