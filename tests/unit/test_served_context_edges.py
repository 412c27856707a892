"""Every bad field of a served run's `context` is refused before the model runs: one line naming the fix.

`langgraph dev` passes a run's `context` (any `MURConfig` field, or guided search's `critic_kind`)
to the served graphs; the server reports what the graph raises as the run's error. Each field gets
values of the wrong type, and the range-checked fields values out of range; an unknown name is
refused naming the closest field.
"""

import asyncio
import importlib
from typing import Any, get_type_hints

import pytest

from mur_graph import MURConfig
from mur_graph.scaling import GuidedSearchSettings
from tests.fakes import ScriptedChatModel

FIELDS = {
    name: str(hint)
    for name, hint in (get_type_hints(MURConfig) | get_type_hints(GuidedSearchSettings)).items()
}


def wrong_types(hint: str) -> list[Any]:
    """Values no field of this annotation accepts (a list is no setting's type)."""
    if hint == "bool":
        return [[1], "yes", 1]
    if "int" in hint or "float" in hint:
        return [[1], "3", True]
    return [[1], 3, ""]  # the text fields: a mode, a step format, a critic kind


OUT_OF_RANGE = {
    "mode": ["fast"],
    "step_format": ["markdown"],
    "alpha": [1.0, -0.1, float("nan")],
    "gamma": [0.0, 1.5, float("inf")],
    "temperature": [-1.0, 11.0],
    "draft_temperature": [-0.1, float("nan")],
    "candidates": [0],
    "max_steps": [0],
    "max_step_tokens": [-1],
    "fallback_tokens": [0],
    "critic_tokens": [0],
    "plain_tokens": [0],
    "calculator_calls": [0],
    "token_budget": [0],
    "critic_concurrency": [0],
    "seed": [1.5],
}
CASES = [(name, value) for name, hint in FIELDS.items() for value in wrong_types(hint)] + [
    (name, value) for name, values in OUT_OF_RANGE.items() for value in values
]


@pytest.fixture
def studio(monkeypatch):
    module = importlib.import_module("mur_graph.studio")
    policy = ScriptedChatModel(script=[])  # any model call would fail the test: none is made
    monkeypatch.setattr(module, "studio_policy", lambda: policy)
    monkeypatch.delenv(module.MODEL_VARIABLE, raising=False)
    monkeypatch.delenv(module.SETTINGS_VARIABLE, raising=False)
    module._served.clear()
    module._inner.clear()
    yield module
    module._served.clear()
    module._inner.clear()


def served_settings(studio, context):
    """A served run's settings, and its guided-search settings, from `context`."""
    return studio.run_settings(context), studio.run_method_settings(context)


def test_every_field_is_covered():
    assert set(OUT_OF_RANGE) <= set(FIELDS)
    assert len(CASES) >= 3 * len(FIELDS)


@pytest.mark.parametrize(("name", "value"), CASES, ids=[f"{n}={v!r}" for n, v in CASES])
def test_a_bad_context_field_is_one_line_naming_the_field_and_its_range(studio, name, value):
    with pytest.raises(ValueError) as refused:
        served_settings(studio, {name: value})
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"invalid MUR setting {name}=") and ": must be " in message


def test_an_unknown_context_field_names_the_closest_setting(studio):
    with pytest.raises(ValueError) as refused:
        studio.run_settings({"gama": 0.5})
    assert str(refused.value).startswith("unknown setting 'gama' in the run's context; did you mean 'gamma'?")
    with pytest.raises(
        ValueError, match=r"unknown setting 'zzz' in the run's context; the settings are mode, "
    ):
        studio.run_settings({"zzz": 1})
    with pytest.raises(
        ValueError, match=r"^the run's context cannot choose the method: the served graphs run guided"
    ):
        studio.run_settings({"method": "phi"})


def test_the_settings_variable_is_checked_the_same_way(studio, monkeypatch):
    monkeypatch.setenv(studio.SETTINGS_VARIABLE, '{"max_step": 4}')
    with pytest.raises(
        ValueError, match=r"^unknown setting 'max_step' in MUR_GRAPH_SETTINGS; did you mean 'max_steps'"
    ):
        studio.studio_config()


def test_a_critic_kind_no_one_registered_is_refused_naming_the_registered_ones(studio):
    graph = asyncio.run(studio.make_graph({}))  # its model has no script: a model call would fail
    with pytest.raises(ValueError, match=r"^unknown critic kind 'oracle'; registered kinds: .*confidence"):
        asyncio.run(graph.ainvoke({"question": "What is 2 + 2?"}, context={"critic_kind": "oracle"}))


@pytest.mark.parametrize(
    "context", [{"gamma": 2}, {"max_steps": "3"}, {"gama": 1}, {"critic_kind": "oracle"}]
)
def test_the_served_graph_refuses_it_before_any_model_call(studio, context):
    graph = asyncio.run(studio.make_graph({}))
    with pytest.raises(ValueError) as refused:
        asyncio.run(graph.ainvoke({"question": "What is 2 + 2?"}, context=context))
    assert "\n" not in str(refused.value)
