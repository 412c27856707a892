"""`load_chat_model`: the server branch's client settings, the missing-client error, the registry."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.outputs import ChatResult
from langchain_openai import ChatOpenAI

from mur_graph import models as models_package
from mur_graph.cli.options import UsageError, _load
from mur_graph.errors import MURError
from mur_graph.models import (
    SERVER_MAX_RETRIES,
    SERVER_TIMEOUT_S,
    ContextLengthError,
    EmbeddedModelError,
    InvalidLogprobsError,
    MissingDependencyError,
    MissingLogprobsError,
    QwenModelError,
    ServerError,
    ServerRequestError,
    ServerUnavailableError,
    load_chat_model,
)
from mur_graph.models.base import LocalChatModel, usage
from mur_graph.models.contract import check_logprobs_enabled, sample

URL = "http://127.0.0.1:9/v1"  # nothing listens: building a client sends no request


def test_a_base_url_gives_a_chat_openai_client_with_logprobs_and_the_server_defaults() -> None:
    client = load_chat_model("Qwen/Qwen3-1.7B", base_url=URL)
    assert isinstance(client, ChatOpenAI)
    assert client.openai_api_base == URL
    assert client.model_name == "Qwen/Qwen3-1.7B"
    assert client.logprobs is True
    assert client.openai_api_key is not None
    assert client.openai_api_key.get_secret_value() == "EMPTY"
    assert (client.request_timeout, client.max_retries) == (SERVER_TIMEOUT_S, SERVER_MAX_RETRIES)
    check_logprobs_enabled(client, "policy")  # what build_mur_graph checks: passes


def test_the_server_client_takes_the_given_timeout_retries_and_client_settings() -> None:
    client = load_chat_model("m", base_url=URL, timeout=7.5, max_retries=0, extra_body={"top_k": 1})
    assert isinstance(client, ChatOpenAI)
    assert (client.request_timeout, client.max_retries) == (7.5, 0)
    assert client.extra_body == {"top_k": 1}


def test_without_langchain_openai_a_server_model_is_one_murerror_naming_the_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "langchain_openai", None)  # import raises ImportError
    with pytest.raises(MissingDependencyError, match=r"pip install 'mur-graph\[openai\]'") as caught:
        load_chat_model("m", base_url=URL)
    assert isinstance(caught.value, MURError)
    assert isinstance(caught.value, ImportError)
    with pytest.raises(UsageError, match=r"^--base-url: .*pip install 'mur-graph\[openai\]'"):
        _load("m", URL, argparse.Namespace(request_timeout=1.0, max_retries=0))


def test_the_cli_passes_its_timeout_and_retries_to_a_server_client() -> None:
    client = _load("m", URL, argparse.Namespace(request_timeout=12.0, max_retries=5))
    assert isinstance(client, ChatOpenAI)
    assert (client.request_timeout, client.max_retries) == (12.0, 5)


def test_a_registered_name_is_loaded_by_its_loader_with_the_given_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []

    def loader(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return "loaded"

    monkeypatch.setitem(models_package._LOADERS, "fake-model", loader)
    assert load_chat_model("fake-model", temperature=0.0) == "loaded"
    assert load_chat_model("fake-model", timeout=3.0, max_retries=1) == "loaded"
    # A local model gets timeout and retries only when they are given, never the server's defaults.
    assert calls == [{"temperature": 0.0}, {"timeout": 3.0, "max_retries": 1}]


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (MissingLogprobsError, ValueError),
        (InvalidLogprobsError, ValueError),
        (ContextLengthError, ValueError),
        (ServerError, ConnectionError),
        (ServerUnavailableError, ConnectionError),
        (ServerRequestError, ConnectionError),
        (EmbeddedModelError, RuntimeError),
        (QwenModelError, RuntimeError),
        (MissingDependencyError, ImportError),
    ],
)
def test_every_model_error_is_a_murerror_and_keeps_its_builtin(error: type[Exception], builtin: type) -> None:
    assert issubclass(error, MURError)
    assert issubclass(error, builtin)


class _Letters(LocalChatModel):
    """A whole backend on `LocalChatModel`: it answers the first letters of the question, one token each."""

    @property
    def _llm_type(self) -> str:
        return "letters"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        settings = self._settings(stop, kwargs)
        letters = list(messages[-1].text[: settings.max_tokens])
        content = [{"token": c, "logprob": -0.5, "top_logprobs": []} for c in letters]
        finish = "length" if len(letters) == settings.max_tokens else "stop"
        ids = [ord(c) for c in letters]
        generation = self._generation("".join(letters), content, ids, finish, usage(1, len(letters), 0))
        return self._chat_result([generation] * settings.n)


def test_a_new_backend_is_its_class_and_a_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(models_package._LOADERS, "letters", _Letters)
    model = load_chat_model("letters", model_name="letters-1")
    generations = sample(model, [HumanMessage("abcdef")], n=2, max_tokens=4, temperature=0.0)
    assert [g.text for g in generations] == ["abcd", "abcd"]
    assert generations[0].token_logprobs == (-0.5,) * 4
    assert (generations[0].n_tokens, generations[0].finish_reason) == (4, "length")
    assert model.invoke("xy").response_metadata["model_name"] == "letters-1"


def test_the_old_name_generation_still_imports_with_a_deprecation_warning():
    import mur_graph.models as models

    with pytest.warns(DeprecationWarning, match="now Completion"):
        assert models.Generation is models.Completion
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = models.Nothing  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "path", ["./no/such/folder", "/tmp/mur-graph-no-such-model", "~/nothing/here.gguf", "a/b/c"]
)
def test_a_model_path_that_is_not_there_is_refused_naming_what_a_model_may_be(path):
    from mur_graph.models import EmbeddedModelError, load_chat_model

    with pytest.raises(
        EmbeddedModelError, match=r"no such model folder or file; pass a folder holding config\.json"
    ):
        load_chat_model(path)
