"""Bad model output: each case has a defined behaviour (docs/reliability.md) and is pinned here."""

import math

import pytest

from mur_graph import MissingLogprobsError, MURConfig, create_mur_graph
from mur_graph.answers import answer_is_closed
from mur_graph.models.contract import InvalidLogprobsError
from tests.fakes import ScriptedChatModel, cut, prompted, say


def run(script, config):
    model = ScriptedChatModel(script=script)
    state = create_mur_graph(model, config=config).invoke({"question": "What is 17 + 25?"})
    assert model.remaining == 0, "the graph made fewer calls than scripted"
    return model, state


@pytest.mark.parametrize(
    ("logprob", "shown"),
    [(math.nan, "nan"), (0.5, "0.5"), (None, "None"), ("-0.1", "'-0.1'")],
)
def test_a_logprob_that_is_not_a_log_probability_is_a_clear_error_naming_the_model(logprob, shown):
    graph = create_mur_graph(ScriptedChatModel(script=[[say("x y", -0.1, logprob)]]))
    with pytest.raises(InvalidLogprobsError, match=rf"ScriptedChatModel returned {shown} .* token 1"):
        graph.invoke({"question": "q"})


def test_text_without_any_logprob_is_refused_like_missing_logprobs():
    graph = create_mur_graph(ScriptedChatModel(script=[[say("some text and no log-probs")]]))
    with pytest.raises(MissingLogprobsError, match="returned no log-probs"):
        graph.invoke({"question": "q"})


def test_minus_infinity_is_floored_so_the_run_goes_on_with_a_finite_uncertainty():
    script = [[say("x", -math.inf, -0.1)], [say("the answer is 42", -0.1)]]
    _, state = run(script, MURConfig(mode="cot"))
    first = state["steps"][0]
    assert first["uncertainty"] == pytest.approx((100.0 + 0.1) / 2)
    assert math.isfinite(first["momentum_after"])
    assert state["answer"] == "42"


def test_empty_steps_are_kept_with_zero_uncertainty_and_max_steps_bounds_the_run():
    script = [[say("")], [say("")], [say("")], [say("")]]  # three steps, then the fallback
    model, state = run(script, MURConfig(max_steps=3))
    assert [s["uncertainty"] for s in state["steps"]] == [0.0, 0.0, 0.0]
    assert not any(s["scaled"] for s in state["steps"])
    assert (state["stop_reason"], state["answer"], state["answer_truncated"]) == ("max_steps", None, False)
    assert len(model.calls) == 4


def test_a_step_cut_at_its_token_limit_is_kept_and_flagged():
    script = [[cut("and so on and so", -0.2, -0.2, -0.2, -0.2)], [say("the answer is 42", -0.1)]]
    model, state = run(script, prompted(mode="cot", max_step_tokens=4))
    first, second = state["steps"]
    assert first["draft_finish_reason"] == "length" and first["text"] == "Step0: and so on and so"
    assert second["draft_finish_reason"] == "stop"
    assert model.calls[0].kwargs["max_tokens"] == 4
    assert state["answer"] == "42" and not state["answer_truncated"]


def test_a_model_that_never_says_the_answer_is_gets_the_fallback_then_no_answer():
    script = [[say("Let us think.", -0.1)], [say("More thinking.", -0.1)], [say("I am unsure.", -0.1)]]
    _, state = run(script, MURConfig(mode="cot", max_steps=2))
    assert state["stop_reason"] == "max_steps"
    assert state["fallback"]["text"] == "I am unsure."
    assert state["answer"] is None and not state["answer_truncated"]


def test_an_answer_at_the_end_of_a_fallback_cut_at_its_limit_is_refused_and_flagged():
    script = [[say("x", -0.1)], [cut("so the answer is 1", -0.1, -0.1, -0.1)]]  # "1100" cut after "1"?
    _, state = run(script, MURConfig(mode="cot", max_steps=1, fallback_tokens=3))
    assert state["answer"] is None and state["answer_truncated"]
    assert state["solution"].endswith("the answer is 1")


def test_an_answer_line_finished_before_the_fallback_limit_is_kept():
    script = [[say("x", -0.1)], [cut("the answer is 1100\nSo we", -0.1, -0.1, -0.1)]]
    _, state = run(script, MURConfig(mode="cot", max_steps=1, fallback_tokens=3))
    assert state["answer"] == "1100" and not state["answer_truncated"]


def test_an_answer_at_the_end_of_a_fallback_that_stopped_by_itself_is_kept():
    script = [[say("x", -0.1)], [say("so the answer is 1", -0.1)]]
    _, state = run(script, MURConfig(mode="cot", max_steps=1))
    assert state["answer"] == "1" and not state["answer_truncated"]


def test_an_answer_at_the_end_of_a_step_cut_at_its_limit_is_refused_and_flagged():
    # Headed: the next step opens with its header, so nothing finishes the answer (unheaded, the
    # next step continues the paragraph: tests/unit/test_natural_steps.py).
    _, state = run([[cut("so the answer is 4", -0.1, -0.1)]], prompted(mode="cot", max_step_tokens=2))
    assert state["stop_reason"] == "answer"
    assert state["answer"] is None and state["answer_truncated"]


@pytest.mark.parametrize(
    ("text", "closed"),
    [
        ("the answer is 1", False),
        ("the answer is 1100.\n", True),
        ("so \\boxed{11", False),
        ("so \\boxed{1100}", True),
        ("\\boxed{3} and the answer is 4", False),
        ("no answer here", True),
    ],
)
def test_answer_is_closed(text, closed):
    assert answer_is_closed(text) is closed


@pytest.mark.parametrize("mode", ["cot", "mur", "per_step"])
def test_a_model_that_never_answers_stops_after_max_steps_in_every_mode(mode):
    steps = 3
    wordy = say("and then", -2.0, -2.0)  # high uncertainty: the gate fires from step 1 on
    per_step = [[wordy], [wordy, wordy], [say("Yes", -0.1)], [say("Yes", -0.1)]]
    mur = [[wordy]] + [[wordy], [wordy, wordy], [say("Yes", -0.1)], [say("Yes", -0.1)]] * (steps - 1)
    script = {"cot": [[wordy]] * steps, "per_step": per_step * steps, "mur": mur}[mode]
    script = [*script, [say("still going", -0.1)]]  # the fallback
    _, state = run(script, MURConfig(mode=mode, max_steps=steps, candidates=2))
    assert len(state["steps"]) == steps and state["stop_reason"] == "max_steps"
    assert state["answer"] is None


def test_the_token_budget_stops_a_model_that_never_answers_before_max_steps():
    script = [[say("and then", -0.1, -0.1, -0.1)]] * 3
    model, state = run(script, MURConfig(mode="cot", max_steps=1000, token_budget=8))
    assert state["stop_reason"] == "token_budget" and len(state["steps"]) == 3
    assert len(model.calls) == 3
