"""A scaling method built entirely in this file: its own knob, its own ledger kind, its own event.

`resample` asks the policy for step t again, `tries` times one call after another (its knob, a
setting of its own, not a `MURConfig` field), keeps the attempt with the lowest m_t and books
every attempt's tokens under its own ledger kind, `resamples`. It announces `generating
resamples` and emits a `resampled` event. No library file knows it: it declares all of this when
it registers, and the graph, the ledger and the stream take it from there.
"""

import re
from dataclasses import dataclass
from typing import Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from rich.console import Console

import mur_graph.events as events
import mur_graph.ledger as ledger
import mur_graph.scaling as scaling
from mur_graph import MURConfig, create_mur_graph, register_scaling_method
from mur_graph.cli.app import _print_summary
from mur_graph.config import check_positive_int
from mur_graph.events import emit
from mur_graph.ledger import empty_ledger, ledger_totals
from mur_graph.result import result_document
from mur_graph.scaling.candidates import ScalingState
from mur_graph.state import Kept, ScalingOutput
from mur_graph.step_call import StepCall
from mur_graph.viz.html import render_page
from mur_graph.viz.traces import Trace
from tests.fakes import ScriptedChatModel, prompted, say

METHOD = "resample"
RESAMPLE_CALL = 900
"""The seed coordinate of this method's calls (beyond the library's own, `mur_graph.seeds`)."""


@dataclass(frozen=True)
class ResampleSettings:
    """The method's own knob: how many times step t is asked for again."""

    tries: int = 2

    def __post_init__(self) -> None:
        check_positive_int("tries", self.tries)  # the library's words for a bad setting


def build_resample_subgraph(*, policy, critic, default, settings: ResampleSettings):
    """One node: `tries` single-sample calls, the lowest-m_t attempt kept (the critic is unused)."""

    def resample(state: ScalingState, *, runtime: Runtime[MURConfig]) -> dict[str, Any]:
        step = StepCall.of(state, runtime, default)
        step.announce("resamples")
        attempts = []
        for _ in range(settings.tries):
            (attempt,) = step.sample_step(policy, step.policy_prompt(), call=RESAMPLE_CALL)
            attempts.append(attempt)
        best = min(range(len(attempts)), key=lambda i: attempts[i].uncertainty)
        spent = sum(a.n_tokens for a in attempts)
        emit(runtime.stream_writer, "resampled", step=step.index, tries=len(attempts), kept=best)
        kept = Kept(
            text=attempts[best].text.strip(),
            uncertainty=attempts[best].uncertainty,
            tokens={"resamples": spent},
            method=METHOD,
            keeps_draft=False,
            candidates=[],
            selected=None,
            selection="lowest_uncertainty",
        )
        return {"kept": kept}

    builder = StateGraph(ScalingState, context_schema=MURConfig, output_schema=ScalingOutput)
    builder.add_node("resample", resample)
    builder.add_edge(START, "resample")
    builder.add_edge("resample", END)
    return builder.compile(name=METHOD)


@pytest.fixture
def resample_method(monkeypatch):
    """The method registered for one test; the registry, ledger kinds and events are restored after."""
    monkeypatch.setattr(scaling, "_REGISTRY", dict(scaling._REGISTRY))
    monkeypatch.setattr(ledger, "_SIDES", dict(ledger._SIDES))
    monkeypatch.setattr(events, "_EVENTS", set(events._EVENTS))
    monkeypatch.setattr(events, "_AWAITED", set(events._AWAITED))
    register_scaling_method(
        METHOD,
        build_resample_subgraph,
        settings=ResampleSettings,
        ledger_kinds={"resamples": "policy"},
        events=["resampled"],
        awaits=["resamples"],
        local_limits={"tries": 1},
    )
    return METHOD


def test_a_plugin_method_runs_end_to_end_with_its_own_knob_token_kind_and_event(resample_method):
    policy = ScriptedChatModel(
        script=[
            [say("Add them.", -2.0)],  # the draft (per_step scales it): 1 token
            [say("17 + 25 = 32.", -1.5, -1.5)],  # try 1: 2 tokens
            [say("17 + 25 = 42, so the answer is 42", -0.1, -0.2, -0.3)],  # try 2: 3 tokens, kept
            [say("Hmm.", -0.9, -0.9, -0.9, -0.9)],  # try 3: 4 tokens
        ]
    )
    config = prompted(mode="per_step", max_steps=1)
    graph = create_mur_graph(policy, method="resample", method_settings={"tries": 3}, config=config)
    items = list(
        graph.stream({"question": "What is 17 + 25?"}, stream_mode=["custom", "values"], subgraphs=True)
    )

    assert policy.remaining == 0 and len(policy.calls) == 4  # the knob: three tries, not the default two
    state = [data for namespace, kind, data in items if kind == "values" and not namespace][-1]
    custom = [data for _, kind, data in items if kind == "custom"]
    assert {"event": "generating", "step": 0, "what": "resamples"} in custom
    assert {"event": "resampled", "step": 0, "tries": 3, "kept": 1} in custom
    (step,) = state["steps"]
    assert (step["method"], step["selection"], step["text"]) == (
        METHOD,
        "lowest_uncertainty",
        "Step0: 17 + 25 = 42, so the answer is 42",
    )
    assert state["answer"] == "42"
    assert state["ledger"] == {**empty_ledger(), "draft_discarded": 1, "resamples": 2 + 3 + 4}
    assert ledger_totals(state["ledger"]) == {"policy": 10, "critic": 0, "total": 10}
    record = result_document(state, graph.settings_record(), policy_name="scripted", critic_name="scripted")
    assert (record["settings"]["method"], record["settings"]["tries"]) == (METHOD, 3)
    assert record["totals"]["total"] == 10
    page = render_page(Trace(record))  # the HTML view's ledger shows the method's own kind
    assert "<th>resamples</th>" in page and '<td class="num">9</td>' in page
    console = Console(record=True, width=100)
    _print_summary(console, record | {"wall_time_s": 0.1})  # and `mur-graph solve`'s ledger table
    assert re.search(r"resamples\s*│\s*9", console.export_text())


def test_the_plugins_knob_has_a_default_and_is_validated_where_the_graph_is_built(resample_method):
    model = ScriptedChatModel(script=[])
    assert create_mur_graph(model, method=METHOD).settings_record()["tries"] == 2
    assert create_mur_graph(
        model, method=METHOD, method_settings=ResampleSettings(tries=5)
    ).mur_method.settings == (ResampleSettings(tries=5))
    with pytest.raises(ValueError, match=r"invalid MUR setting tries=0: must be an integer >= 1"):
        create_mur_graph(model, method=METHOD, method_settings={"tries": 0})
    with pytest.raises(ValueError, match="'resample' has no setting 'clusters'; its settings: tries"):
        create_mur_graph(model, method=METHOD, method_settings={"clusters": 3})
    with pytest.raises(ValueError, match="'guided_search' has no setting 'tries'; its settings: critic_kind"):
        create_mur_graph(model, method_settings={"tries": 3})


def test_the_plugin_declares_its_own_limits_for_the_local_models(resample_method):
    assert scaling.method_local_limits(METHOD) == {"tries": 1}
    assert scaling.method_local_limits("critic") == {"critique_tokens": 64}  # the built-in critic's, by alias
    assert scaling.method_local_limits("guided_search") == {}
    with pytest.raises(ValueError, match="'other' has no setting 'retries'; its settings: tries"):
        register_scaling_method(
            "other", build_resample_subgraph, settings=ResampleSettings, local_limits={"retries": 1}
        )
    with pytest.raises(ValueError, match="'other' has no settings of its own"):
        register_scaling_method("other", build_resample_subgraph, local_limits={"tries": 1})


def test_undeclared_kinds_and_events_are_refused(resample_method):
    with pytest.raises(KeyError, match="unknown ledger kind 'retries'"):
        ledger.add_ledgers({"resamples": 1}, {"retries": 1})
    assert ledger.add_ledgers({"resamples": 1}, {"resamples": 2})["resamples"] == 3
    with pytest.raises(ValueError, match=r"undeclared event 'retried'.*events=\['retried'\]"):
        emit(None, "retried", step=0)
    with pytest.raises(ValueError, match=r"undeclared generating 'retries'"):
        emit(None, "generating", step=0, what="retries")
    with pytest.raises(ValueError, match="already counts policy tokens, not critic ones"):
        register_scaling_method("other", build_resample_subgraph, ledger_kinds={"resamples": "critic"})
    with pytest.raises(ValueError, match="give every field a default"):

        @dataclass(frozen=True)
        class NoDefault:
            tries: int

        register_scaling_method("other", build_resample_subgraph, settings=NoDefault)
