"""langgraph.json points `langgraph dev` at async graph factories that load the model once, off the loop."""

import asyncio
import importlib
import json
import threading
from pathlib import Path

import pytest

from mur_graph import MURConfig
from mur_graph.agents import DEFAULT_DESCRIPTION, summarize_run, summary_text
from mur_graph.config import EMBEDDED_DEMO_LIMITS
from mur_graph.models import MODEL_NAMES
from tests.fakes import ScriptedChatModel, say

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def studio(monkeypatch):
    """The studio module with a scripted policy instead of the embedded model; counts the loads."""
    module = importlib.import_module("mur_graph.studio")
    policy = ScriptedChatModel(script=[[say("the answer is 4", -0.1)]])
    loads: list[str] = []

    def load() -> ScriptedChatModel:
        loads.append(threading.current_thread().name)
        return policy

    monkeypatch.setattr(module, "studio_policy", load)
    monkeypatch.delenv(module.MODEL_VARIABLE, raising=False)
    monkeypatch.delenv(module.SETTINGS_VARIABLE, raising=False)
    module._served.clear()
    module._inner.clear()
    yield module, policy, loads
    module._served.clear()
    module._inner.clear()


def factories():
    spec = json.loads((ROOT / "langgraph.json").read_text())
    assert spec["dependencies"] == ["."]
    for name, entry in spec["graphs"].items():
        module_name, _, attribute = entry["path"].partition(":")
        # module syntax, so that `langgraph dev --config <repo>/langgraph.json` runs from any folder
        assert "/" not in module_name
        yield name, module_name, attribute


def test_langgraph_json_names_async_factories_that_build_both_graphs(studio):
    module, policy, _ = studio
    built = {}
    for name, module_name, attribute in factories():
        assert module_name == "mur_graph.studio"
        graph = asyncio.run(getattr(module, attribute)({}))
        assert graph.name == name and graph.checkpointer is None  # the server brings persistence
        built[name] = graph
    assert set(built) == {"mur", "mur_review"}
    assert "solve:review_scale" in built["mur_review"].get_graph(xray=True).nodes
    assert "solve:review_scale" not in built["mur"].get_graph(xray=True).nodes
    result = asyncio.run(built["mur"].ainvoke({"question": "What is 2 + 2?"}))  # the server runs it async
    assert set(result) == {"answer", "summary", "ledger", "trace"}
    assert result["answer"] == "4" and result["trace"] is None  # no store outside the server
    assert result["summary"].startswith("Answer: 4\nReasoning: 1 steps, 0 scaled;")
    assert policy.remaining == 0


def test_the_model_loads_once_in_a_worker_thread_for_concurrent_first_runs(studio):
    module, _, loads = studio

    async def first_runs():
        return await asyncio.gather(*(module.make_graph({}) for _ in range(4)), module.make_review_graph({}))

    graphs = asyncio.run(first_runs())
    assert len({id(graph) for graph in graphs[:4]}) == 1  # compiled once, reused by every run
    # one build per graph (the real `studio_policy` is cached too), in a worker thread
    assert len(loads) == 2 and threading.main_thread().name not in loads


def test_the_served_result_is_the_agents_summary_of_the_inner_run(studio):
    module, policy, _ = studio
    policy.script.append([say("the answer is 4", -0.1)])
    graph = asyncio.run(module.make_graph({}))
    ((_, inner),) = graph.get_subgraphs()
    state = inner.invoke({"question": "What is 2 + 2?"}, context=module.studio_config())
    served = asyncio.run(graph.ainvoke({"question": "What is 2 + 2?"}))
    assert served["summary"] == summary_text(summarize_run(state))
    assert policy.remaining == 0


def test_the_mur_tool_is_described_to_mcp_clients_as_to_agents():
    graphs = json.loads((ROOT / "langgraph.json").read_text())["graphs"]
    assert graphs["mur"]["description"] == DEFAULT_DESCRIPTION
    assert "question" in graphs["mur_review"]["description"]


def test_importing_the_studio_module_loads_no_model():
    module = importlib.import_module("mur_graph.studio")
    assert module.studio_policy.cache_info().currsize == 0


def test_the_local_models_get_short_limits_and_a_hub_or_served_model_the_papers(monkeypatch):
    module = importlib.import_module("mur_graph.studio")
    monkeypatch.delenv(module.MODEL_VARIABLE, raising=False)
    monkeypatch.delenv(module.BASE_URL_VARIABLE, raising=False)
    monkeypatch.delenv(module.SETTINGS_VARIABLE, raising=False)
    assert module.studio_config() == MURConfig(**EMBEDDED_DEMO_LIMITS)
    assert module.studio_method_settings() == {"critic_refine": {"critique_tokens": 64}}
    for name in MODEL_NAMES:
        monkeypatch.setenv(module.MODEL_VARIABLE, name)
        assert module.studio_config() == MURConfig(**EMBEDDED_DEMO_LIMITS), name
    monkeypatch.setenv(module.BASE_URL_VARIABLE, "http://127.0.0.1:8000/v1")
    assert module.studio_config() == MURConfig(), "a served model gets the paper's limits"
    assert module.studio_method_settings() == {}
    monkeypatch.delenv(module.BASE_URL_VARIABLE)
    monkeypatch.setenv(module.MODEL_VARIABLE, "Qwen/Qwen3-1.7B")
    assert module.studio_config() == MURConfig()


def test_the_settings_variable_and_a_runs_context_change_only_the_fields_they_name(monkeypatch):
    module = importlib.import_module("mur_graph.studio")
    monkeypatch.delenv(module.MODEL_VARIABLE, raising=False)
    monkeypatch.setenv(module.SETTINGS_VARIABLE, '{"max_steps": 2, "seed": 7}')
    served = MURConfig(**EMBEDDED_DEMO_LIMITS).replace(max_steps=2, seed=7)
    assert module.studio_config() == served
    assert module.run_settings(None) == module.run_settings({}) == served
    assert module.run_settings({"mode": "cot"}) == served.replace(mode="cot")


@pytest.mark.parametrize(
    ("value", "message"),
    [("{max_steps: 2}", "MUR_GRAPH_SETTINGS is not JSON"), ("[2]", "must be a JSON object")],
)
def test_a_bad_settings_variable_is_refused_with_the_fix(monkeypatch, value, message):
    module = importlib.import_module("mur_graph.studio")
    monkeypatch.setenv(module.SETTINGS_VARIABLE, value)
    with pytest.raises(ValueError, match=message):
        module.studio_config()


def test_a_base_url_serves_the_named_model_through_chat_openai(monkeypatch):
    from langchain_openai import ChatOpenAI

    module = importlib.import_module("mur_graph.studio")
    monkeypatch.setenv(module.MODEL_VARIABLE, "Qwen/Qwen3-1.7B")
    monkeypatch.setenv(module.BASE_URL_VARIABLE, "http://127.0.0.1:8000/v1")
    module.studio_policy.cache_clear()
    try:
        policy = module.studio_policy()  # a client only: nothing is sent until a run
    finally:
        module.studio_policy.cache_clear()
    assert isinstance(policy, ChatOpenAI)
    assert policy.model_name == "Qwen/Qwen3-1.7B" and policy.logprobs is True
    assert policy.openai_api_base == "http://127.0.0.1:8000/v1"
