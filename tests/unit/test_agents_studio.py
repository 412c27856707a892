"""langgraph.json points `langgraph dev` at graph factories that build without loading at import."""

import importlib
import json
from pathlib import Path

import pytest

from mur_graph import MURConfig
from mur_graph.cli_options import EMBEDDED_DEMO_LIMITS
from tests.fakes import ScriptedChatModel, say

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def studio(monkeypatch):
    """The studio module with a scripted policy instead of the embedded model."""
    module = importlib.import_module("mur_graph.studio")
    policy = ScriptedChatModel(script=[[say("the answer is 4", -0.1)]])
    monkeypatch.setattr(module, "studio_policy", lambda: policy)
    module._compiled.cache_clear()
    yield module, policy
    module._compiled.cache_clear()


def factories():
    spec = json.loads((ROOT / "langgraph.json").read_text())
    assert spec["dependencies"] == ["."]
    for name, target in spec["graphs"].items():
        path, _, attribute = target.partition(":")
        assert (ROOT / path).is_file(), path
        yield name, Path(path).with_suffix("").as_posix().removeprefix("./").replace("/", "."), attribute


def test_langgraph_json_names_importable_factories(studio):
    module, policy = studio
    built = {}
    for name, module_name, attribute in factories():
        assert module_name == "mur_graph.studio"
        graph = getattr(module, attribute)({})
        assert graph.name == name and graph.checkpointer is None  # the server brings persistence
        built[name] = graph
    assert set(built) == {"mur", "mur_review"}
    assert "review_scale" in built["mur_review"].get_graph().nodes
    assert "review_scale" not in built["mur"].get_graph().nodes
    assert built["mur"].invoke({"question": "What is 2 + 2?"})["answer"] == "4"
    assert policy.remaining == 0


def test_importing_the_studio_module_loads_no_model():
    module = importlib.import_module("mur_graph.studio")
    assert module.studio_policy.cache_info().currsize == 0


def test_the_embedded_model_gets_short_limits_and_a_named_model_the_papers(monkeypatch):
    module = importlib.import_module("mur_graph.studio")
    monkeypatch.delenv(module.MODEL_VARIABLE, raising=False)
    assert module.studio_config() == MURConfig(**EMBEDDED_DEMO_LIMITS)
    monkeypatch.setenv(module.MODEL_VARIABLE, "Qwen/Qwen3-1.7B")
    assert module.studio_config() == MURConfig()
