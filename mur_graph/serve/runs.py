"""The graphs the endpoint runs: built once per scaling method, run per request, stopped on disconnect.

A MUR node calls its model in a worker thread, which cancelling the request's task does not
stop. `StopWhenGone` is a callback handler every model call of the run carries: once the client
is gone it raises at the call's next token (streaming models) or at the next call's start, so
the run ends within the step being generated.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler, UsageMetadataCallbackHandler
from langchain_core.language_models import BaseChatModel

from mur_graph.compiled import MURGraph
from mur_graph.config import MURConfig
from mur_graph.errors import MURError
from mur_graph.graph import create_mur_graph
from mur_graph.scaling import DEFAULT_METHOD, canonical_method, choose_method, paper_gamma
from mur_graph.serve.request import ChatRequest, RequestError

Loader = Callable[[], tuple[BaseChatModel, BaseChatModel, MURConfig]]
"""What loads the served policy, its critic and the served default settings."""

STREAM_MODES = ["custom", "messages", "values"]
"""What a run streams: MUR's events, the policy's tokens, the state after each superstep."""


class ClientGoneError(MURError, RuntimeError):
    """The client of a run disconnected; the run's model calls stop."""


class StopWhenGone(BaseCallbackHandler):
    """Raise `ClientGoneError` in the run's model calls once `gone` is set."""

    raise_error = True

    def __init__(self) -> None:
        self.gone = threading.Event()

    def _check(self) -> None:
        if self.gone.is_set():
            msg = "the client disconnected; the run was stopped"
            raise ClientGoneError(msg)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, **kwargs: Any) -> None:
        """Refuse to start a model call for a client that is gone."""
        self._check()

    def on_llm_new_token(self, *args: Any, **kwargs: Any) -> None:
        """Stop a streaming model call between two tokens."""
        self._check()


class Runs:
    """The served policy and settings, and one compiled graph per scaling method.

    `load` returns `(policy, critic, defaults)`; it runs once, in a worker thread, on the first
    request (loading a local model takes seconds and must not block the event loop). `method` is
    the served method of a request that names none (default: guided search); `method_settings`
    the served defaults of each method's own settings, by method name.
    """

    def __init__(
        self,
        load: Loader,
        method: str | None = None,
        method_settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._load = load
        self._method = method or DEFAULT_METHOD
        self._own = {canonical_method(name): dict(own) for name, own in (method_settings or {}).items()}
        self._loaded: tuple[BaseChatModel, BaseChatModel, MURConfig] | None = None
        self._graphs: dict[tuple[str, str], MURGraph] = {}
        self._lock = threading.Lock()

    def _graph(self, method: str | None, own: dict[str, Any]) -> tuple[MURGraph, MURConfig]:
        with self._lock:  # concurrent first requests wait for one load and one build
            if self._loaded is None:
                self._loaded = self._load()
            policy, critic, defaults = self._loaded
            method = method or self._method
            key = (method, json.dumps(own, sort_keys=True))  # one graph per method and own settings
            if key not in self._graphs:
                self._graphs[key] = create_mur_graph(
                    policy, method=method, method_settings=own, critic=critic, config=defaults
                )
            return self._graphs[key], defaults

    async def graph_for(self, request: ChatRequest) -> tuple[MURGraph, MURConfig]:
        """The graph of the request's method and the run's settings.

        A request that names a method but no γ gets the method's paper γ, as `mur-graph solve
        --method` does; the other settings are the served defaults and what the body names.

        Raises:
            RequestError: the body's settings and the served ones do not go together.
            MURError: the served model could not be loaded.
        """
        method = request.method or self._method
        try:  # a method setting the served method does not have, before any model is loaded
            choose_method(method, request.method_settings)
            own = self._own.get(canonical_method(method), {}) | request.method_settings
        except ValueError as exc:
            raise RequestError(str(exc)) from None
        graph, defaults = await asyncio.to_thread(self._graph, request.method, own)
        settings: dict[str, Any] = {"mode": request.mode}
        gamma = paper_gamma(request.method) if request.method else None
        if gamma is not None:
            settings["gamma"] = gamma
        try:
            config = defaults.replace(**(settings | request.settings))
        except ValueError as exc:
            raise RequestError(str(exc)) from None
        return graph, config

    @staticmethod
    async def stream(
        graph: MURGraph,
        question: str,
        config: MURConfig,
        usage: UsageMetadataCallbackHandler,
        *,
        tokens: bool,
    ) -> AsyncIterator[tuple[tuple[str, ...], str, Any]]:
        """Run the graph on `question`; yield its stream items. Leaving early stops the run.

        With `tokens`, the policy's tokens come too (`messages`): a local policy then streams.
        """
        stop = StopWhenGone()
        modes = STREAM_MODES if tokens else [m for m in STREAM_MODES if m != "messages"]
        items = graph.astream(
            {"question": question},
            {"callbacks": [stop, usage]},
            context=config,
            stream_mode=modes,
            subgraphs=True,
        )
        try:
            async for item in items:
                yield item
        finally:
            stop.gone.set()  # the client left (or the run ended): no further model call or token
            await items.aclose()  # type: ignore[attr-defined]
