"""`plain` mode (the model run plainly, one call) and greedy drafts, checked against scripted models."""

import math

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from mur_graph import MURConfig, create_mur_graph
from mur_graph.config import settings_record
from mur_graph.eval.results import results_name, variant_parts
from mur_graph.prompts import PLAIN_SYSTEM
from tests.fakes import ScriptedChatModel, cut, prompted, say, verdict


def run(script, config, **method_settings):
    model = ScriptedChatModel(script=script)
    graph = create_mur_graph(model, config=config, method_settings=method_settings)
    state = graph.invoke({"question": "What is 17 + 25?"})
    assert model.remaining == 0, "the graph made fewer calls than scripted"
    return model, state


def test_plain_mode_makes_one_unstopped_call_under_the_models_own_template():
    solution = "17 + 25 = 42.\nSo the sum is $\\boxed{42}$."
    model, state = run([[say(solution, -0.5, -0.1, -0.3)]], MURConfig(mode="plain", temperature=0.0))

    (call,) = model.calls
    assert call.messages == [SystemMessage(PLAIN_SYSTEM), HumanMessage("What is 17 + 25?")]
    assert call.stop is None  # no step header ends it
    assert call.kwargs["max_tokens"] == 1024
    assert call.kwargs["temperature"] == 0.0
    (step,) = state["steps"]
    assert step["text"] == solution  # no `Step0:` header written into it
    assert step["uncertainty"] == pytest.approx(0.3)
    assert not step["scaled"] and not step["gate_fired"]
    assert (state["answer"], state["stop_reason"], state["solution"]) == ("42", "answer", solution)
    assert state["ledger"]["policy_step"] == 3
    assert sum(state["ledger"].values()) == 3


def test_plain_mode_without_an_answer_stops_after_its_one_call_with_no_fallback():
    model, state = run(
        [[cut("Let us think. 17 + 25 is", -0.2, -0.2)]], MURConfig(mode="plain", plain_tokens=2)
    )
    assert model.calls[0].kwargs["max_tokens"] == 2
    assert (state["answer"], state["stop_reason"], state["fallback"]) == (None, "single_call", None)


def test_plain_mode_samples_at_the_runs_temperature_not_the_draft_temperature():
    model, _ = run(
        [[say("\\boxed{42}", -0.1)]], MURConfig(mode="plain", temperature=0.6, draft_temperature=0.0)
    )
    assert model.calls[0].kwargs["temperature"] == 0.6


def test_greedy_drafts_sample_only_the_scaled_steps_candidates():
    config = MURConfig(candidates=2, draft_temperature=0.0, reuse_draft=True)
    script = [
        [say("Let s be the sum.", -0.1, -0.1)],  # step 0 draft
        [say("So it is 41.", -1.0, -1.0)],  # step 1 draft: m=1.0 > 0.01 + ln 1.25 -> scale
        [say("So the answer is 42.", -0.2, -0.2)],  # N-1 = 1 candidate; the draft is candidate 0
    ]
    model, state = run(script, config, critic_kind="confidence")
    temperatures = [call.kwargs["temperature"] for call in model.calls]
    assert temperatures == [0.0, 0.0, 0.6]
    s1 = state["steps"][1]
    assert s1["scaled"] and s1["selected"] == 1  # the sampled candidate beat the greedy draft
    assert state["answer"] == "42"


def test_greedy_drafts_leave_a_critics_verdicts_at_their_own_temperature():
    config = MURConfig(candidates=2, draft_temperature=0.0, mode="per_step")
    script = [
        [say("17 + 25 = 42, the answer is 42.", -0.2, -0.2)],
        [say("The answer is 41.", -0.5), say("The answer is 42.", -0.3)],
        [verdict(0.2)],
        [verdict(0.9)],
    ]
    model, state = run(script, config)
    assert model.calls[0].kwargs["temperature"] == 0.0
    assert model.calls[1].kwargs["temperature"] == 0.6
    assert state["answer"] == "42"
    assert state["steps"][0]["candidates"][1]["score"] == pytest.approx(0.9)
    assert math.isclose(state["steps"][0]["uncertainty"], 0.2)


@pytest.mark.parametrize(
    ("config", "name"),
    [
        (MURConfig(mode="plain"), "m__guided_search__plain.jsonl"),
        (MURConfig(mode="plain", temperature=0.0), "m__guided_search__plain__T0.jsonl"),
        (MURConfig(mode="plain", plain_tokens=512, seed=2), "m__guided_search__plain__pt512__s2.jsonl"),
        (prompted(mode="cot", seed=0), "m__guided_search__cot.jsonl"),
        (prompted(mode="cot", seed=3), "m__guided_search__cot__s3.jsonl"),
        (prompted(mode="cot", draft_temperature=0.0, reuse_draft=True), "m__guided_search__cot__dT0.jsonl"),
        (
            settings_record(
                prompted(draft_temperature=0.0, reuse_draft=True, seed=1),
                "guided_search",
                {"critic_kind": "confidence"},
            ),
            "m__guided_search__confidence__mur__g0.8__dT0__rd__s1.jsonl",
        ),
    ],
)
def test_results_names_tell_temperature_draft_temperature_reuse_and_seed_apart(config, name):
    assert results_name("m", config) == name


def test_a_records_variant_reads_settings_older_records_lack_as_their_defaults():
    assert variant_parts({"mode": "cot", "temperature": 0.6}) == ()
    assert variant_parts({"mode": "plain", "temperature": 0.0}) == ("T0",)


@pytest.mark.parametrize(
    ("changes", "fix"),
    [
        ({"draft_temperature": -1.0}, "draft_temperature=-1.0: must be a number in [0, 10]"),
        ({"plain_tokens": 0}, "plain_tokens=0: must be an integer >= 1"),
        ({"mode": "plain", "calculator": True}, "must be False in plain mode"),
    ],
)
def test_invalid_plain_and_draft_settings_name_the_fix(changes, fix):
    with pytest.raises(ValueError, match=fix.replace("[", r"\[").replace("]", r"\]")):
        MURConfig(**changes)


def test_the_natural_format_asks_as_plain_mode_does_and_cuts_the_solution_at_blank_lines():
    config = MURConfig(mode="cot", step_format="natural", temperature=0.0)
    script = [
        [say("17 + 25 is the sum of two numbers.", -0.1, -0.1)],
        [say("So the sum is $\\boxed{42}$.", -0.2, -0.2)],
    ]
    model, state = run(script, config)
    first, second = model.calls
    assert first.messages == [SystemMessage(PLAIN_SYSTEM), HumanMessage("What is 17 + 25?")]
    assert first.stop == ["\n\n"]
    assert second.messages[:2] == first.messages
    assert second.messages[2].content == "17 + 25 is the sum of two numbers.\n\n"  # the kept paragraph
    assert state["solution"] == "17 + 25 is the sum of two numbers.\n\nSo the sum is $\\boxed{42}$."
    assert state["answer"] == "42"
    assert results_name("m", config) == "m__guided_search__cot__T0__fnatural.jsonl"
