"""LLM-as-a-critic, φ-decoding, draft reuse, step formats and custom methods, on scripted models."""

import math
import warnings

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph

import mur_graph.scaling as scaling
from mur_graph import MURConfig, create_mur_graph, paper_config, register_scaling_method
from mur_graph.ledger import empty_ledger
from mur_graph.scaling.candidates import ScalingState
from mur_graph.scaling.critic_refine import judged_correct
from mur_graph.scaling.phi_foresight import cluster_labels, selection_probabilities, softmax
from mur_graph.state import Kept, ScalingOutput
from tests.fakes import Say, ScriptedChatModel, prompted, say, unreadable_verdict, verdict


def ledger(**kinds):
    return {**empty_ledger(), **kinds}


def solve(policy_script, config, critic_script=None, method=None):
    policy = ScriptedChatModel(script=policy_script)
    critic = ScriptedChatModel(script=critic_script) if critic_script is not None else None
    graph = create_mur_graph(policy, method=method, critic=critic, config=config)
    state = graph.invoke({"question": "What is 17 + 25?"})
    assert policy.remaining == 0 and (critic is None or critic.remaining == 0)
    return state, policy, critic


# LLM-as-a-critic ------------------------------------------------------------------------------


def test_a_draft_judged_wrong_is_revised_once_with_the_critique():
    policy_script = [
        [say("Add them.", -0.1)],  # step 0: kept
        [say("17 + 25 = 32.", -3.0)],  # step 1: m=3 > 0.01 + ln(1/0.9) -> critique
        [say("17 + 25 = 42, so the answer is 42", -0.4, -0.2)],  # the revision
    ]
    critic_script = [[say("The sum is wrong.", -0.2, -0.2)], [verdict(0.1)]]
    state, policy, critic = solve(policy_script, paper_config("critic"), critic_script, method="critic")

    step = state["steps"][1]
    assert step["scaled"] and step["method"] == "critic_refine"
    assert step["selection"] == "revised"
    assert step["critique"]["analysis"] == "The sum is wrong."
    assert step["critique"]["p_yes"] == pytest.approx(0.1) and not step["critique"]["correct"]
    assert step["text"] == "Step1: 17 + 25 = 42, so the answer is 42"
    assert step["kept_uncertainty"] == pytest.approx(0.3)
    assert state["momentum"] == pytest.approx(0.9 * 0.01 + 0.1 * 0.3)
    assert state["answer"] == "42"
    assert state["ledger"] == ledger(policy_step=1, draft_discarded=1, revision=2, critic=2 + 2)

    analysis_call, judgement_call = critic.calls
    assert isinstance(analysis_call.messages[0], SystemMessage)
    assert analysis_call.messages[-1].text == "<analyze>\nLet's analyze the paragraph 1 step by step: "
    assert analysis_call.stop == ["</analyze>"]
    assert judgement_call.messages[-1].text.endswith(
        "The sum is wrong.\n</analyze>\n<output>\n**Judgement**: $\\boxed{"
    )
    assert judgement_call.kwargs["temperature"] == 0.0 and judgement_call.kwargs["top_logprobs"] == 10

    revision = policy.calls[2].messages
    assert [type(m) for m in revision] == [HumanMessage, AIMessage, HumanMessage, AIMessage]
    assert revision[1].text == "Step0: Add them.\nStep1: 17 + 25 = 32."
    assert (
        revision[2].text
        == "Your previous solution is incorrect.\nThe sum is wrong.\nPlease revise your solution."
    )
    assert revision[3].text == "Refined Step1:"
    assert policy.calls[2].stop == ["Step2:", "Step 2:"]


def test_a_draft_judged_correct_is_kept_and_booked_as_a_policy_step():
    policy_script = [[say("Add them.", -0.1)], [say("the answer is 42", -3.0)]]
    critic_script = [[say("Fine.", -0.2)], [verdict(0.8)]]
    state, _, _ = solve(policy_script, paper_config("critic"), critic_script, method="critic")
    step = state["steps"][1]
    assert step["scaled"] and step["selection"] == "judged_correct" and step["critique"]["correct"]
    assert step["kept_uncertainty"] == pytest.approx(3.0)  # the draft's own m_t
    assert state["ledger"] == ledger(policy_step=2, critic=1 + 2)


def test_an_unreadable_verdict_leads_to_a_revision():
    policy_script = [[say("x", -3.0)], [say("the answer is 1", -0.1)]]
    critic_script = [[say("Hmm.", -0.2)], [unreadable_verdict(tokens=2)]]
    state, _, _ = solve(
        policy_script, paper_config("critic", mode="per_step"), critic_script, method="critic"
    )
    step = state["steps"][0]
    assert step["critique"]["p_yes"] is None and not step["critique"]["correct"]
    assert step["selection"] == "revised" and step["text"] == "Step0: the answer is 1"


@pytest.mark.parametrize(
    ("p_yes", "text", "correct"),
    [
        (None, "Yes", True),
        (None, "No", False),
        (None, "maybe", False),
        (None, "", False),
        (0.5, "", True),
        (0.49, "Yes", False),
    ],
)
def test_judgement(p_yes, text, correct):
    assert judged_correct(p_yes, text) is correct


# φ-decoding -----------------------------------------------------------------------------------


def test_phi_selection_probabilities_average_cluster_and_foresight_softmaxes():
    probabilities, rule = selection_probabilities([-0.1, -0.5, -0.2], [0, 0, 1])
    by_foresight = softmax([-0.1, -0.5, -0.2])
    by_cluster = [
        math.e**2 / (2 * math.e**2 + math.e),
        math.e**2 / (2 * math.e**2 + math.e),
        math.e / (2 * math.e**2 + math.e),
    ]
    assert rule == "phi"
    assert probabilities == pytest.approx(
        [(f + c) / 2 for f, c in zip(by_foresight, by_cluster, strict=True)]
    )
    alone, rule = selection_probabilities([-0.1, -0.5], None)
    assert rule == "foresight_only" and alone == pytest.approx(softmax([-0.1, -0.5]))


def test_rollouts_are_clustered_by_their_words():
    labels = cluster_labels(
        ["x equals one", "x equals one indeed", "completely different words here"], 2, seed=0
    )
    assert labels is not None and labels[0] == labels[1] != labels[2]
    assert cluster_labels(["only one"], 2, seed=0) is None
    assert cluster_labels(["...", "!!"], 2, seed=0) is None  # no vocabulary


def test_identical_rollouts_share_a_cluster_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's ConvergenceWarning would fail the test
        labels = cluster_labels(["x = 42", "x = 42", "x = 42"], 2, seed=0)
    assert labels is not None and len(set(labels)) == 1


def phi_script():
    return [
        [say("Let x be the sum.", -0.1)],  # step 0 draft (per_step: discarded)
        [say("x = 1", -0.2), say("x = 2", -0.4), say("y", -0.3), say("z", -0.6)],
        [say("x equals one", -0.1)],  # rollout after candidate 0
        [say("x equals one indeed", -0.5, -0.5)],  # after candidate 1
        [Say("", (-0.3,))],  # after candidate 2: empty, dropped
        [say("completely different words here", -0.2)],  # after candidate 3
    ]


def test_phi_rolls_out_every_candidate_and_books_the_rollouts():
    config = paper_config("phi", mode="per_step", candidates=4, max_steps=1, seed=5)
    policy = ScriptedChatModel(script=[*phi_script(), [say("the answer is 3", -0.1)]])
    state = create_mur_graph(policy, method="phi", config=config).invoke({"question": "q"})
    step = state["steps"][0]
    candidates = step["candidates"]
    assert step["method"] == "phi_foresight" and step["selection"] == "phi"
    assert candidates[2]["foresight"] is None and candidates[2]["score"] is None
    assert [c["foresight"] for c in candidates[:2]] == pytest.approx([-0.1, -0.5])
    assert sum(c["score"] for c in candidates if c["score"] is not None) == pytest.approx(1.0)
    assert candidates[0]["cluster"] == candidates[1]["cluster"] != candidates[3]["cluster"]
    assert step["selected"] in (0, 1, 3)
    winner = candidates[step["selected"]]
    assert step["text"] == f"Step0: {winner['text']}"
    assert step["kept_uncertainty"] == winner["uncertainty"]  # the candidate's, not the rollout's
    assert state["ledger"] == ledger(draft_discarded=1, candidates=4, rollouts=1 + 2 + 1 + 1, fallback=1)
    rollout_call = policy.calls[2]
    assert rollout_call.messages[-1].text == "Step0: x = 1\nStep1:"
    assert rollout_call.stop == ["Step2:", "Step 2:"]
    # the same seed draws the same candidate
    again = create_mur_graph(
        ScriptedChatModel(script=[*phi_script(), [say("the answer is 3", -0.1)]]), method="phi", config=config
    )
    assert again.invoke({"question": "q"})["steps"][0]["selected"] == step["selected"]


def test_phi_with_every_rollout_empty_falls_back_to_the_candidates_logprobs():
    script = [
        [say("a", -0.1)],
        [say("b", -0.5), say("c", -0.2)],
        [Say("", (-0.3,))],
        [Say("", (-0.3,))],
        [say("the answer is 1", -0.1)],
    ]
    state, _, _ = solve(script, paper_config("phi", mode="per_step", candidates=2, max_steps=1), method="phi")
    step = state["steps"][0]
    assert (step["selected"], step["selection"], step["text"]) == (1, "logprob_fallback", "Step0: c")


# options --------------------------------------------------------------------------------------


def test_reuse_draft_keeps_the_draft_as_candidate_zero():
    script = [
        [say("draft", -0.1, -0.1)],
        [say("fresh", -0.2)],  # N=2 with the draft reused: one new sample
        [verdict(0.9)],  # the draft
        [verdict(0.3)],  # the fresh one
        [say("the answer is 5", -0.1)],
    ]
    state, policy, _ = solve(script, prompted(mode="per_step", candidates=2, reuse_draft=True, max_steps=1))
    step = state["steps"][0]
    assert policy.calls[1].kwargs["n"] == 1
    assert [c["is_draft"] for c in step["candidates"]] == [True, False]
    assert (step["selected"], step["text"]) == (0, "Step0: draft")
    assert state["ledger"] == ledger(policy_step=2, candidates=1, critic=4, fallback=1)


def test_blank_line_steps_have_no_headers_and_stop_at_a_blank_line():
    script = [[say("First, add.", -0.1)], [say("So the answer is 42.", -0.1)]]
    state, policy, _ = solve(script, MURConfig(mode="cot", step_format="blank_line"))
    first, second = policy.calls
    assert [type(m) for m in first.messages] == [HumanMessage]  # nothing to continue yet
    assert first.stop == ["\n\n"]
    assert second.messages[-1].text == "First, add.\n\n"
    assert [s["text"] for s in state["steps"]] == ["First, add.", "So the answer is 42."]
    assert state["solution"] == "First, add.\n\nSo the answer is 42."


def test_bias_correction_compares_with_the_corrected_momentum():
    script = [[say("a", -1.0)], [say("the answer is 2", -0.5)]]
    plain, _, _ = solve(script, MURConfig(mode="cot"))
    assert plain["steps"][1]["gate_fired"]  # 0.5 > 0.1 + ln 1.25
    corrected, _, _ = solve(script, MURConfig(mode="cot", bias_correction=True))
    step = corrected["steps"][1]
    assert step["momentum_before"] == pytest.approx(1.0)  # 0.1 / (1 - 0.9)
    assert step["threshold"] == pytest.approx(1.0 + math.log(1.25))
    assert not step["gate_fired"]


def test_aliases_and_the_papers_gamma_per_method():
    assert paper_config("critic").gamma == paper_config("phi").gamma == 0.9
    assert paper_config().gamma == paper_config("guided_search").gamma == 0.8
    assert paper_config("phi", gamma=0.5, seed=3) == prompted(gamma=0.5, seed=3)
    graph = create_mur_graph(ScriptedChatModel(script=[]), method="phi")
    assert "phi_foresight" in graph.get_graph().nodes


def test_a_custom_scaling_subgraph_can_be_registered_and_routed_to(monkeypatch):
    monkeypatch.setattr(scaling, "_REGISTRY", dict(scaling._REGISTRY))

    def shout(state: ScalingState) -> dict:
        draft = state["draft"]
        kept = Kept(
            text=draft["text"].upper(),
            uncertainty=0.0,
            tokens={},
            method="shout",
            keeps_draft=False,
            candidates=[],
            selected=None,
            selection="shouted",
        )
        return {"kept": kept}

    def build_shout(*, policy, critic, default):
        builder = StateGraph(ScalingState, output_schema=ScalingOutput)
        builder.add_node("shout", shout)
        builder.add_edge(START, "shout")
        builder.add_edge("shout", END)
        return builder.compile()

    register_scaling_method("shout", build_shout)
    with pytest.raises(ValueError, match="already registered"):
        register_scaling_method("shout", build_shout)
    script = [[say("the answer is yes", -2.0)]]
    state, _, _ = solve(script, prompted(mode="per_step"), method="shout")
    graph = create_mur_graph(ScriptedChatModel(script=[]), method="shout")
    assert "shout" in graph.get_graph().nodes
    assert state["steps"][0]["text"] == "Step0: THE ANSWER IS YES"
    assert state["steps"][0]["selection"] == "shouted"
    assert state["momentum"] == 0.0  # updated with the kept step's uncertainty
    assert state["ledger"] == ledger(draft_discarded=1)


def test_phis_clusters_are_its_own_setting_given_when_the_graph_is_built():
    graph = create_mur_graph(ScriptedChatModel(script=[]), method="phi", method_settings={"clusters": 3})
    assert graph.mur_method.settings.clusters == 3 and graph.settings_record()["clusters"] == 3
    assert create_mur_graph(ScriptedChatModel(script=[]), method="phi").settings_record()["clusters"] == 2
    assert "clusters" not in create_mur_graph(ScriptedChatModel(script=[])).settings_record()
    with pytest.raises(ValueError, match=r"invalid MUR setting clusters=0: must be an integer >= 1"):
        create_mur_graph(ScriptedChatModel(script=[]), method="phi", method_settings={"clusters": 0})
    with pytest.raises(
        ValueError, match="'guided_search' has no setting 'clusters'; its settings: critic_kind"
    ):
        create_mur_graph(ScriptedChatModel(script=[]), method_settings={"clusters": 3})


def test_one_cluster_turns_phi_into_foresight_alone():
    config = paper_config("phi", mode="per_step", candidates=4, max_steps=1, seed=5)
    policy = ScriptedChatModel(script=[*phi_script(), [say("the answer is 3", -0.1)]])
    graph = create_mur_graph(policy, method="phi", method_settings={"clusters": 1}, config=config)
    step = graph.invoke({"question": "q"})["steps"][0]
    assert step["selection"] == "foresight_only"
    assert [c["cluster"] for c in step["candidates"]] == [None] * 4


def test_the_critics_critique_tokens_are_its_own_setting_given_when_the_graph_is_built():
    policy = ScriptedChatModel(script=[[say("Add them.", -0.1)], [say("17 + 25 = 32.", -3.0)]])
    policy.script.append([say("17 + 25 = 42, so the answer is 42", -0.4, -0.2)])
    critic = ScriptedChatModel(script=[[say("The sum is wrong.", -0.2, -0.2)], [verdict(0.1)]])
    graph = create_mur_graph(
        policy,
        method="critic",
        method_settings={"critique_tokens": 12},
        critic=critic,
        config=paper_config("critic"),
    )
    assert graph.settings_record()["critique_tokens"] == 12
    graph.invoke({"question": "What is 17 + 25?"})
    assert critic.calls[0].kwargs["max_tokens"] == 12  # the analysis
    built = create_mur_graph(ScriptedChatModel(script=[]), method="critic_refine")
    assert built.settings_record()["critique_tokens"] == 1024
    assert "critique_tokens" not in create_mur_graph(ScriptedChatModel(script=[])).settings_record()
    assert "critique_tokens" not in MURConfig.__dataclass_fields__
    with pytest.raises(ValueError, match=r"invalid MUR setting critique_tokens=0: must be an integer >= 1"):
        create_mur_graph(
            ScriptedChatModel(script=[]), method="critic", method_settings={"critique_tokens": 0}
        )
    with pytest.raises(ValueError, match="'guided_search' has no setting 'critique_tokens'; its settings"):
        create_mur_graph(ScriptedChatModel(script=[]), method_settings={"critique_tokens": 12})
