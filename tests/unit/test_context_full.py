"""A run whose kept steps fill the model's context stops there and keeps what it has."""

import pytest

from mur_graph import MURConfig, create_mur_graph
from mur_graph.models import ContextLengthError
from mur_graph.serve.replies import finish_reason
from tests.fakes import ScriptedChatModel, context_full, cut, say, verdict

QUESTION = "What is 17 + 25?"


def run(script, config):
    model = ScriptedChatModel(script=script)
    state = create_mur_graph(model, config=config).invoke({"question": QUESTION})
    assert model.remaining == 0, "the graph made fewer calls than scripted"
    return model, state


def test_a_step_whose_prompt_no_longer_fits_ends_the_run_with_the_steps_kept():
    script = [
        [say("We add the two numbers.", -0.1, -0.1)],
        [cut("17 + 25 is", -0.2, -0.2)],  # the context filled while it wrote
        [context_full()],  # step 2's prompt does not fit: no fallback call follows
    ]
    _, state = run(script, MURConfig(mode="cot"))

    assert state["stop_reason"] == "context_full"
    assert [step["text"] for step in state["steps"]] == ["We add the two numbers.", "17 + 25 is"]
    assert state["solution"] == "We add the two numbers.\n\n17 + 25 is"
    assert (state["answer"], state["fallback"]) == (None, None)
    assert state["ledger"]["policy_step"] == 4
    assert finish_reason(state) == "length"  # an OpenAI client sees a reply cut by a limit


def test_a_scaled_run_stops_the_same_way_and_counts_every_token_it_spent():
    script = [
        [say("Let s be the sum.", -0.1)],
        [say("Let s be the sum.", -0.1), say("Let x be it.", -0.9)],  # per_step scales step 0
        [context_full()],
    ]
    graph = create_mur_graph(
        model := ScriptedChatModel(script=script),
        config=MURConfig(mode="per_step", candidates=2),
        method_settings={"critic_kind": "confidence"},
    )
    state = graph.invoke({"question": QUESTION})

    assert model.remaining == 0 and state["stop_reason"] == "context_full"
    assert len(state["steps"]) == 1 and state["steps"][0]["scaled"]
    assert state["ledger"]["draft_discarded"] == 1 and state["ledger"]["candidates"] == 2


def test_a_question_that_does_not_fit_on_its_own_still_raises_the_error_that_names_the_fix():
    with pytest.raises(ContextLengthError, match="context holds 4096"):
        run([[context_full()]], MURConfig(mode="cot"))
    with pytest.raises(ContextLengthError):
        run([[context_full()]], MURConfig(mode="plain"))


def test_a_fallback_that_does_not_fit_leaves_the_answer_to_the_kept_steps():
    script = [[say("Let s be the sum.", -0.1)], [cut("So s = 17 +", -0.1)], [context_full()]]
    _, state = run(script, MURConfig(mode="cot", max_steps=2))

    assert (state["stop_reason"], state["fallback"], state["answer"]) == ("max_steps", None, None)
    assert state["solution"] == "Let s be the sum.\n\nSo s = 17 +"
    assert "fallback" not in {k for k, v in state["ledger"].items() if v}


def test_a_verdict_that_does_not_fit_scores_its_candidate_as_unreadable():
    policy = ScriptedChatModel(
        script=[
            [say("Let s be 42.", -0.1)],  # step 0's draft (per_step scales it)
            [say("So \\boxed{42}.", -0.3), say("So \\boxed{41}.", -0.1)],
        ]
    )
    critic = ScriptedChatModel(script=[[verdict(0.9)], [context_full()]])
    graph = create_mur_graph(policy, critic=critic, config=MURConfig(mode="per_step", candidates=2))
    state = graph.invoke({"question": QUESTION})

    assert policy.remaining == 0 and critic.remaining == 0
    step = state["steps"][0]
    assert [c["score"] for c in step["candidates"]] == [pytest.approx(0.9), None]
    assert (step["selected"], step["selection"], state["answer"]) == (0, "critic", "42")
    assert state["ledger"]["critic"] == 2  # the one verdict given


def test_a_rollout_that_does_not_fit_drops_its_candidate():
    script = [
        [say("Let s be the sum.", -0.1)],
        [say("So s = \\boxed{41}.", -0.1), say("So s = \\boxed{42}.", -0.5)],
        [context_full()],  # no room after candidate 0
        [say("Done.", -0.2)],
    ]
    model = ScriptedChatModel(script=script)
    graph = create_mur_graph(model, method="phi", config=MURConfig(mode="per_step", candidates=2))
    state = graph.invoke({"question": QUESTION})

    assert model.remaining == 0
    step = state["steps"][0]
    assert step["candidates"][0]["foresight"] is None and step["candidates"][0]["score"] is None
    assert (step["selected"], state["answer"]) == (1, "42")
    assert state["ledger"]["rollouts"] == 1


def test_a_critique_and_revision_that_do_not_fit_keep_the_draft():
    policy = ScriptedChatModel(script=[[say("So s = \\boxed{42}.", -0.1)], [context_full()]])
    critic = ScriptedChatModel(script=[[context_full()]])
    graph = create_mur_graph(policy, method="critic", critic=critic, config=MURConfig(mode="per_step"))
    state = graph.invoke({"question": QUESTION})

    assert policy.remaining == 0 and critic.remaining == 0
    step = state["steps"][0]
    assert (step["selection"], step["critique"], state["answer"]) == ("context_full", None, "42")
    assert state["ledger"]["policy_step"] == 1 and state["ledger"]["critic"] == 0


def test_a_judgement_that_does_not_fit_leaves_the_step_unjudged_and_it_is_revised():
    policy = ScriptedChatModel(script=[[say("So s = 41.", -0.1)], [say("So s = \\boxed{42}.", -0.2)]])
    critic = ScriptedChatModel(script=[[say("The sum is wrong.", -0.1, -0.1, -0.1)], [context_full()]])
    graph = create_mur_graph(policy, method="critic", critic=critic, config=MURConfig(mode="per_step"))
    state = graph.invoke({"question": QUESTION})

    step = state["steps"][0]
    assert step["critique"]["p_yes"] is None and not step["critique"]["correct"]
    assert (step["selection"], state["answer"]) == ("revised", "42")
    assert state["ledger"]["critic"] == 3  # the analysis, written before the judgement overflowed
