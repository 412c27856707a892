"""The graph's decisions, checked exactly against scripted models with hand-computed numbers."""

import math

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from mur_graph import MissingLogprobsError, MURConfig, create_mur_graph
from mur_graph.ledger import empty_ledger
from tests.fakes import ScriptedChatModel, prompted, say, sum_ledgers, unreadable_verdict, verdict

LN_1_25 = math.log(1 / 0.8)  # the margin ln(1/γ) for γ = 0.8


def ledger(**kinds):
    """A full ledger with the given kinds set and every other kind at zero."""
    return {**empty_ledger(), **kinds}


def mur_script():
    """Three steps: two accepted, the third gated, scaled with N=2 and replaced by candidate 1."""
    return [
        [say("Let s be the sum.", -1.0, -1.0)],  # step 0 draft: m=1.0, never gated
        [say("17 + 25 = 42.", -0.2, -0.2, -0.2)],  # step 1 draft: m=0.2 <= 0.1 + ln 1.25
        [say("So it is 41.", -1.0, -0.6)],  # step 2 draft: m=0.8 > 0.11 + ln 1.25 -> scale
        [say("The answer is 41.", -0.5, -0.5, -0.5), say("The answer is 42.", -0.3, -0.3)],
        [verdict(0.2)],  # critic on candidate 0
        [verdict(0.9)],  # critic on candidate 1
    ]


def run(script, config, **graph_kwargs):
    model = ScriptedChatModel(script=script)
    graph = create_mur_graph(model, config=config, **graph_kwargs)
    state = graph.invoke({"question": "What is 17 + 25?"})
    assert model.remaining == 0, "the graph made fewer calls than scripted"
    return model, state


def test_mur_run_follows_the_momentum_and_gate_exactly():
    _, state = run(mur_script(), prompted(candidates=2, gamma=0.8, alpha=0.9))
    s0, s1, s2 = state["steps"]

    assert (s0["uncertainty"], s0["momentum_before"], s0["gate_fired"], s0["scaled"]) == (
        1.0,
        0.0,
        False,
        False,
    )
    assert s0["momentum_after"] == pytest.approx(0.1)

    assert s1["uncertainty"] == pytest.approx(0.2)
    assert s1["threshold"] == pytest.approx(0.1 + LN_1_25)
    assert not s1["gate_fired"]
    assert s1["momentum_after"] == pytest.approx(0.11)

    assert s2["uncertainty"] == pytest.approx(0.8)
    assert s2["momentum_before"] == pytest.approx(0.11)
    assert s2["threshold"] == pytest.approx(0.11 + LN_1_25)
    assert s2["gate_fired"] and s2["scaled"]
    assert [c["score"] for c in s2["candidates"]] == pytest.approx([0.2, 0.9])
    assert (s2["selected"], s2["selection"], s2["method"]) == (1, "critic", "guided_search")
    # the momentum is updated with the kept candidate's uncertainty (0.3), not the draft's (0.8)
    assert s2["kept_uncertainty"] == pytest.approx(0.3)
    assert s2["momentum_after"] == pytest.approx(0.9 * 0.11 + 0.1 * 0.3)
    assert state["momentum"] == pytest.approx(0.129)

    assert s2["text"] == "Step2: The answer is 42."
    assert s2["draft"] == "So it is 41."
    assert state["answer"] == "42"
    assert state["stop_reason"] == "answer"
    assert state["fallback"] is None


def test_ledger_books_every_token_and_equals_the_sum_of_step_records():
    _, state = run(mur_script(), MURConfig(candidates=2))
    expected = ledger(policy_step=2 + 3, draft_discarded=2, candidates=3 + 2, critic=2 + 2)
    assert state["ledger"] == expected
    assert sum_ledgers(step["tokens"] for step in state["steps"]) == state["ledger"]
    assert state["steps"][2]["tokens"] == {
        **empty_ledger(),
        "draft_discarded": 2,
        "candidates": 5,
        "critic": 4,
    }


def test_prompts_stops_and_sampling_settings_reach_the_model():
    model, _ = run(mur_script(), prompted(candidates=2, max_step_tokens=77, temperature=0.6, critic_tokens=5))
    draft0, draft1, draft2, candidates, critic0, _critic1 = model.calls
    assert isinstance(draft0.messages[-1], AIMessage) and draft0.messages[-1].text == "Step0:"
    assert isinstance(draft0.messages[0], HumanMessage) and "Q: What is 17 + 25?" in draft0.messages[0].text
    assert draft2.messages[-1].text == "Step0: Let s be the sum.\nStep1: 17 + 25 = 42.\nStep2:"
    assert draft0.stop == ["Step1:", "Step 1:"]
    assert draft2.stop == ["Step3:", "Step 3:"]
    assert draft1.kwargs["max_tokens"] == 77 and draft1.kwargs["temperature"] == 0.6
    assert candidates.kwargs["n"] == 2 and candidates.messages == draft2.messages
    assert isinstance(critic0.messages[0], SystemMessage)
    assert "<paragraph_2>\nStep2: The answer is 41.\n</paragraph_2>" in critic0.messages[1].text
    assert critic0.kwargs["temperature"] == 0.0 and critic0.kwargs["top_logprobs"] == 10
    assert critic0.kwargs["max_tokens"] == 5


def test_per_step_scales_every_step_and_falls_back_to_logprobs_when_verdicts_are_unreadable():
    script = [
        [say("a", -0.1)],  # step 0 draft (scaled although step 0 is never gated)
        [say("b", -0.2, -0.2), say("c", -0.4)],
        [verdict(0.5)],
        [verdict(0.4)],
        [say("d", -0.05)],  # step 1 draft: m far below the threshold, scaled anyway
        [say("e", -0.3, -0.3), say("the answer is 6", -0.1)],
        [unreadable_verdict()],
        [unreadable_verdict()],
    ]
    _, state = run(script, prompted(mode="per_step", candidates=2))
    s0, s1 = state["steps"]
    assert s0["scaled"] and not s0["gate_fired"]
    assert (s0["selected"], s0["selection"], s0["text"]) == (0, "critic", "Step0: b")
    assert s1["scaled"] and not s1["gate_fired"]
    assert (s1["selected"], s1["selection"]) == (1, "logprob_fallback")
    assert [c["score"] for c in s1["candidates"]] == [None, None]
    assert state["answer"] == "6"
    assert state["ledger"] == ledger(draft_discarded=2, candidates=3 + 3, critic=2 + 2 + 3 + 3)


def test_cot_never_scales_and_the_fallback_completes_an_unfinished_solution():
    script = [
        [say("x", -0.1)],
        [say("y", -9.0, -9.0)],  # m=9: the mur gate fires, cot keeps it anyway
        [say("the answer is 9", -0.1, -0.1, -0.1)],  # fallback after max_steps=2
    ]
    model, state = run(script, prompted(mode="cot", max_steps=2, fallback_tokens=33))
    assert [s["scaled"] for s in state["steps"]] == [False, False]
    assert state["steps"][1]["gate_fired"]
    assert state["stop_reason"] == "max_steps"
    assert state["fallback"]["text"] == "the answer is 9"
    assert state["answer"] == "9"
    assert state["ledger"]["fallback"] == 3
    fallback_call = model.calls[-1]
    assert fallback_call.stop is None and fallback_call.kwargs["max_tokens"] == 33
    assert fallback_call.messages[-1].text == "Step0: x\nStep1: y\nStep2:"
    assert state["solution"] == "Step0: x\nStep1: y\nStep2: the answer is 9"


def test_token_budget_stops_the_loop_without_a_fallback():
    script = [[say("a long first step", -0.1, -0.1, -0.1, -0.1, -0.1)]]
    _, state = run(script, MURConfig(token_budget=4, max_steps=5))
    assert state["stop_reason"] == "token_budget"
    assert state["fallback"] is None and state["answer"] is None
    assert len(state["steps"]) == 1


def test_fallback_is_capped_by_the_remaining_budget():
    script = [[say("a", -0.1, -0.1)], [say("the answer is 1", -0.1)]]
    model, state = run(script, MURConfig(max_steps=1, token_budget=10, fallback_tokens=100))
    assert model.calls[-1].kwargs["max_tokens"] == 8
    assert state["answer"] == "1"


def test_a_separate_critic_gets_only_the_verdict_calls():
    policy = ScriptedChatModel(script=mur_script()[:4])
    critic = ScriptedChatModel(script=mur_script()[4:])
    graph = create_mur_graph(policy, critic=critic, config=MURConfig(candidates=2))
    state = graph.invoke({"question": "What is 17 + 25?"})
    assert policy.remaining == critic.remaining == 0
    assert all(isinstance(call.messages[0], SystemMessage) for call in critic.calls)
    assert state["answer"] == "42"


def test_run_time_context_overrides_the_default_settings():
    script = [[say("x", -0.1)], [say("y", -9.0)], [say("the answer is 2", -0.1)]]
    model = ScriptedChatModel(script=script)
    graph = create_mur_graph(model, config=MURConfig(mode="mur", candidates=2))
    state = graph.invoke({"question": "q"}, context=MURConfig(mode="cot", candidates=2))
    assert [s["scaled"] for s in state["steps"]] == [False, False, False]
    assert state["answer"] == "2"


def test_context_cannot_switch_the_method_of_a_built_graph():
    graph = create_mur_graph(ScriptedChatModel(script=[[say("x", -0.1)]]))
    with pytest.raises(ValueError, match="built for method 'guided_search'"):
        graph.invoke({"question": "q"}, context={"method": "critic"})
    with pytest.raises(TypeError, match="method"):
        MURConfig(method="critic")  # type: ignore[call-arg]  # the method is no setting


def test_unknown_method_fails_at_construction():
    with pytest.raises(
        ValueError, match="unknown scaling method 'beam'; registered methods: critic_refine, guided"
    ):
        create_mur_graph(ScriptedChatModel(script=[]), method="beam")


def test_a_model_without_logprobs_is_rejected_with_the_fix():
    model = ScriptedChatModel(script=[[say("x", -0.1)]], with_logprobs=False)
    graph = create_mur_graph(model)
    with pytest.raises(MissingLogprobsError, match=r"returned no log-probs.*logprobs=True"):
        graph.invoke({"question": "q"})


def test_chat_openai_without_logprobs_is_rejected_at_construction():
    from langchain_openai import ChatOpenAI

    server = ChatOpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-local", model="m")
    with pytest.raises(MissingLogprobsError, match="logprobs=True"):
        create_mur_graph(server)
    create_mur_graph(server.model_copy(update={"logprobs": True}))  # accepted


def test_graph_shows_the_documented_nodes():
    graph = create_mur_graph(ScriptedChatModel(script=[]))
    drawing = graph.get_graph()
    assert set(drawing.nodes) == {
        "__start__",
        "generate_step",
        "assess_uncertainty",
        "accept",
        "guided_search",
        "commit_step",
        "finalize",
        "__end__",
    }
    edges = {(e.source, e.target) for e in drawing.edges}
    assert {
        ("generate_step", "assess_uncertainty"),
        ("assess_uncertainty", "guided_search"),
        ("assess_uncertainty", "accept"),
        ("guided_search", "commit_step"),
        ("accept", "commit_step"),
        ("commit_step", "generate_step"),
        ("commit_step", "finalize"),
    } <= edges
    inner = create_mur_graph(ScriptedChatModel(script=[])).get_graph(xray=True)
    assert {"guided_search:sample_candidates", "guided_search:score_candidates"} <= set(inner.nodes)


def test_decisions_are_streamed_as_custom_events():
    model = ScriptedChatModel(script=mur_script())
    graph = create_mur_graph(model, config=prompted(candidates=2))
    events = [
        data
        for _, mode, data in graph.stream(
            {"question": "What is 17 + 25?"}, stream_mode=["custom"], subgraphs=True
        )
    ]
    _, state = run(mur_script(), prompted(candidates=2))
    s0, s1, s2 = state["steps"]

    def gate(step, uncertainty, momentum, fired):
        return {
            "event": "gate",
            "step": step,
            "uncertainty": pytest.approx(uncertainty),
            "momentum_before": pytest.approx(momentum),
            "threshold": pytest.approx(momentum + LN_1_25),
            "fired": fired,
            "scale": fired,
        }

    def candidate(text, uncertainty, n_tokens, score):
        return {
            "text": text,
            "uncertainty": pytest.approx(uncertainty),
            "n_tokens": n_tokens,
            "is_draft": False,
            "score": pytest.approx(score),
            "finish_reason": "stop",
        }

    assert events == [
        {"event": "generating", "step": 0, "what": "draft"},
        {"event": "draft", "step": 0, "text": "Let s be the sum.", "n_tokens": 2},
        gate(0, 1.0, 0.0, False),
        {"event": "step", "record": s0},
        {"event": "generating", "step": 1, "what": "draft"},
        {"event": "draft", "step": 1, "text": "17 + 25 = 42.", "n_tokens": 3},
        gate(1, 0.2, 0.1, False),
        {"event": "step", "record": s1},
        {"event": "generating", "step": 2, "what": "draft"},
        {"event": "draft", "step": 2, "text": "So it is 41.", "n_tokens": 2},
        gate(2, 0.8, 0.11, True),
        {"event": "generating", "step": 2, "what": "candidates"},
        {"event": "generating", "step": 2, "what": "critic"},
        {
            "event": "candidates",
            "step": 2,
            "method": "guided_search",
            "candidates": [
                candidate("The answer is 41.", 0.5, 3, 0.2),
                candidate("The answer is 42.", 0.3, 2, 0.9),
            ],
            "selected": 1,
            "selection": "critic",
        },
        {"event": "step", "record": s2},
        {"event": "final", "answer": "42", "stop_reason": "answer", "ledger": state["ledger"]},
    ]
    # the kept step arrives in the step event: text, m̂_t and M_t
    assert (s2["text"], s2["kept_uncertainty"]) == ("Step2: The answer is 42.", pytest.approx(0.3))


@pytest.mark.parametrize("question", ["", "   \n"])
def test_an_empty_question_is_refused_before_any_generation(question):
    model = ScriptedChatModel(script=[])
    with pytest.raises(ValueError, match="the question is empty"):
        create_mur_graph(model).invoke({"question": question})
    assert model.calls == []


def test_the_method_is_chosen_at_build_time_and_recorded_with_the_settings():
    graph = create_mur_graph(ScriptedChatModel(script=[]), method="critic", config=MURConfig(gamma=0.9))
    assert graph.mur_method.name == "critic" and "critic_refine" in graph.get_graph().nodes
    record = graph.settings_record(graph.mur_default.replace(seed=3))
    assert list(record)[:3] == ["mode", "method", "alpha"]  # where records have always had it
    assert (record["method"], record["seed"], record["gamma"]) == ("critic", 3, 0.9)
    assert create_mur_graph(ScriptedChatModel(script=[])).settings_record()["method"] == "guided_search"
    assert "method" not in MURConfig().to_dict()


def test_a_dict_context_naming_the_built_method_runs_without_it():
    graph = create_mur_graph(ScriptedChatModel(script=[[say("the answer is 1", -0.1)]]), method="critic")
    state = graph.invoke({"question": "q"}, context={"method": "critic_refine", "mode": "cot"})
    assert state["answer"] == "1"
