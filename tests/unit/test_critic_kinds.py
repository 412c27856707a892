"""Critic kinds of guided search: exact winners, scores and ledgers on scripted models."""

import pytest
from langchain_core.messages import HumanMessage

from mur_graph import MURConfig, create_mur_graph
from mur_graph.config import settings_record
from mur_graph.eval.results import results_name
from mur_graph.ledger import empty_ledger
from mur_graph.models.contract import sample_each
from mur_graph.scaling import (
    CriticKind,
    GuidedSearchSettings,
    critic_kinds,
    get_critic_kind,
    register_critic_kind,
)
from mur_graph.scaling.critics import Scores, claims, verdict_concurrency, vote_scores
from mur_graph.scoring import yes_probability
from tests.fakes import KeyedChatModel, ScriptedChatModel, prompted, say, verdict

C0, C1, C2 = "The answer is 41.", "The answer is 42.", "Hence the answer is: 42"
VOTE = {"critic_kind": "vote"}


def guided(kind, **config):
    """The settings a guided-search run with critic kind `kind` records."""
    return settings_record(MURConfig(**config), "guided_search", {"critic_kind": kind})


def policy_script():
    """Step 2 is gated and scaled with N=3: c0 is the most confident, c1 and c2 agree on 42."""
    return [
        [say("Let s be the sum.", -1.0, -1.0)],
        [say("17 + 25 = 42.", -0.2, -0.2, -0.2)],
        [say("So it is 41.", -1.0, -0.6)],  # m=0.8 > 0.11 + ln 1.25: scaled
        [say(C0, -0.2, -0.2, -0.2), say(C1, -0.5, -0.5), say(C2, -0.4, -0.4, -0.4, -0.4)],
    ]


def critic(meet=1):
    return KeyedChatModel(replies={C0: verdict(0.3), C1: verdict(0.9), C2: verdict(0.5)}, meet=meet)


def run(config, judge, kind="generative"):
    policy = ScriptedChatModel(script=policy_script())
    graph = create_mur_graph(policy, critic=judge, config=config, method_settings={"critic_kind": kind})
    state = graph.invoke({"question": "What is 17 + 25?"})
    assert policy.remaining == 0
    return state


@pytest.mark.parametrize(
    ("kind", "scores", "selected", "selection", "critic_tokens", "answer"),
    [
        ("generative", [0.3, 0.9, 0.5], 1, "critic", 6, "42"),
        ("confidence", [-0.2, -0.5, -0.4], 0, "confidence", 0, "41"),
        ("vote", [0.0, 1.0, 1.0], 2, "vote", 0, "42"),
    ],
)
def test_each_kind_picks_its_winner_and_books_its_critic_tokens(
    kind, scores, selected, selection, critic_tokens, answer
):
    judge = critic()
    state = run(MURConfig(candidates=3), judge, kind)
    step = state["steps"][2]
    assert step["scaled"]
    assert [c["score"] for c in step["candidates"]] == pytest.approx(scores)
    assert (step["selected"], step["selection"]) == (selected, selection)
    assert state["answer"] == answer
    assert len(judge.calls) == (3 if kind == "generative" else 0)
    expected = {**empty_ledger(), "draft_discarded": 2, "candidates": 3 + 2 + 4, "critic": critic_tokens}
    assert step["tokens"] == expected
    assert state["ledger"] == {**expected, "policy_step": 2 + 3}


def test_concurrent_verdicts_equal_sequential_ones():
    sequential = run(MURConfig(candidates=3, critic_concurrency=1, seed=7), critic())
    concurrent_judge = critic(meet=3)  # each call waits until all three are in flight
    concurrent = run(MURConfig(candidates=3, critic_concurrency=3, seed=7), concurrent_judge)
    assert concurrent["steps"] == sequential["steps"]
    assert concurrent["ledger"] == sequential["ledger"]
    seeds = sorted(call.kwargs["seed"] for call in concurrent_judge.calls)
    assert len(set(seeds)) == 3  # each verdict keeps its own seed


def test_sample_each_keeps_prompt_order_with_all_calls_in_flight():
    judge = critic(meet=3)  # all three wait until all three are in flight
    prompts = [[HumanMessage(text)] for text in (C2, C0, C1)]
    generations = sample_each(judge, prompts, seeds=[1, 2, 3], concurrency=3, max_tokens=8, temperature=0.0)
    assert [yes_probability(g.top_logprobs) for g in generations] == pytest.approx([0.5, 0.3, 0.9])
    with pytest.raises(ValueError, match="3 prompts but 2 seeds"):
        sample_each(judge, prompts, seeds=[1, 2], concurrency=3, max_tokens=8, temperature=0.0)


def test_vote_without_agreement_falls_back_to_the_lowest_uncertainty():
    script = policy_script()
    script[3] = [say("the answer is 3", -0.6), say("the answer is 4", -0.1), say("the answer is 5", -0.3)]
    policy = ScriptedChatModel(script=script)
    graph = create_mur_graph(policy, critic=critic(), config=prompted(candidates=3), method_settings=VOTE)
    step = graph.invoke({"question": "What is 17 + 25?"})["steps"][2]
    assert [c["score"] for c in step["candidates"]] == [0.0, 0.0, 0.0]
    assert (step["selected"], step["selection"], step["text"]) == (
        1,
        "logprob_fallback",
        "Step2: the answer is 4",
    )


def candidate(text, *results):
    calls = [{"tool": "calculator", "input": "?", "output": r, "error": None} for r in results]
    return {
        "text": text,
        "uncertainty": 0.1,
        "n_tokens": 1,
        "is_draft": False,
        "score": None,
        "tool_calls": calls,
    }


def test_vote_where_all_candidates_agree_equally_is_the_fallback_not_a_vote():
    script = policy_script()
    script[3] = [
        say("6 * 7 = 42. The answer is 42", -0.6),
        say("The answer is 42", -0.1),
        say("40 + 2 = 42, the answer is 42", -0.3),
    ]
    policy = ScriptedChatModel(script=script)
    graph = create_mur_graph(policy, critic=critic(), config=MURConfig(candidates=3), method_settings=VOTE)
    step = graph.invoke({"question": "What is 17 + 25?"})["steps"][2]
    assert [c["score"] for c in step["candidates"]] == [2.0, 2.0, 2.0]
    assert (step["selected"], step["selection"]) == (1, "logprob_fallback")


def test_calculator_results_and_answers_are_claims_that_vote():
    a = candidate("<<6*7>> so 42", "42")
    b = candidate("6 times 7 is <<6*7>>", "42", None)
    c = candidate("the answer is $42$.")
    d = candidate("the answer is 41")
    assert claims(a) == {"result:42"} and claims(d) == {"answer:41", "result:41"}
    assert claims(c) == {"answer:42", "result:42"}  # a numeric answer agrees with a computed 42
    assert claims(candidate("nothing to agree with")) == frozenset()
    request = type("R", (), {"candidates": [a, b, c, d]})()
    assert vote_scores(request).scores == [2.0, 2.0, 2.0, 0.0]
    computed = candidate("So the hexagon's perimeter is $6 \\times 21 = 126$ inches.")
    assert claims(computed) == {"result:126"}
    answered = candidate("the answer is \\boxed{126}")
    scores = vote_scores(type("R", (), {"candidates": [computed, a, answered, d]})()).scores
    assert scores == [1.0, 0.0, 1.0, 0.0]


def test_an_unknown_kind_is_refused_with_the_registered_names():
    with pytest.raises(ValueError, match="unknown critic kind 'oracle'; registered kinds: confidence, gen"):
        create_mur_graph(ScriptedChatModel(script=[]), method_settings={"critic_kind": "oracle"})
    with pytest.raises(ValueError, match="invalid MUR setting critic_kind=''"):
        GuidedSearchSettings(critic_kind="")
    with pytest.raises(TypeError, match="critic_kind"):  # no longer a run setting
        MURConfig(critic_kind="vote")  # type: ignore[call-arg]


def test_a_runs_context_cannot_change_the_critic_kind_the_graph_was_built_with():
    graph = create_mur_graph(ScriptedChatModel(script=[]))  # no script: a model call would fail
    fix = (
        r"critic_kind is a setting of the scaling method, fixed when the graph is built: "
        r"create_mur_graph\(\.\.\., method_settings=\{'critic_kind': 'vote'\}\)"
    )
    with pytest.raises(ValueError, match=fix):  # before any model call
        graph.invoke({"question": "What is 2 + 2?"}, context={"critic_kind": "vote"})
    assert graph.settings_record()["critic_kind"] == "generative"
    with pytest.raises(ValueError, match="critic_concurrency=0"):
        MURConfig(critic_concurrency=0)


def test_a_custom_kind_can_be_registered_and_is_named_in_results_files(monkeypatch):
    from mur_graph.scaling import critics

    monkeypatch.setattr(critics, "_REGISTRY", dict(critics._REGISTRY))
    last = CriticKind(
        "last",
        lambda r: Scores([None] * len(r.candidates)),
        lambda c: (len(c) - 1, "last"),
        asks_critic=False,
    )
    register_critic_kind(last)
    assert "last" in critic_kinds() and get_critic_kind("last") is last
    with pytest.raises(ValueError, match="already registered"):
        register_critic_kind(last)
    state = run(prompted(candidates=3), critic(), "last")
    assert state["steps"][2]["selected"] == 2 and state["answer"] == "42"
    named = {"step_format": "prompted"}  # the format names leave out
    assert (
        results_name("math_500", guided("last", **named)) == "math_500__guided_search__last__mur__g0.8.jsonl"
    )
    assert (
        results_name("math_500", guided("vote", **named)) == "math_500__guided_search__vote__mur__g0.8.jsonl"
    )
    assert results_name("math_500", prompted()) == "math_500__guided_search__mur__g0.8.jsonl"


def test_results_written_before_critic_kinds_resume_as_generative(tmp_path):
    from mur_graph.eval.results import ResultsFile

    old = {k: v for k, v in MURConfig().to_dict().items() if k != "critic_concurrency"}
    with ResultsFile(tmp_path / "r.jsonl") as results:
        results.append({"id": "q0", "status": "ok", "settings": old})
        assert results.finished_ids(MURConfig(critic_concurrency=1)) == {"q0"}
        assert results.finished_ids(guided("generative")) == {"q0"}
        with pytest.raises(ValueError, match="critic_kind: 'generative' there, 'vote' now"):
            results.finished_ids(guided("vote"))


def test_verdicts_go_all_at_once_to_a_server_and_one_by_one_to_a_local_model():
    from langchain_openai import ChatOpenAI

    server = ChatOpenAI(base_url="http://127.0.0.1:9/v1", api_key="x", model="m", logprobs=True)
    local = critic()
    assert verdict_concurrency(MURConfig(), server, 4) == 4
    assert verdict_concurrency(MURConfig(), local, 4) == 1
    assert verdict_concurrency(MURConfig(critic_concurrency=2), local, 4) == 2
    assert verdict_concurrency(MURConfig(critic_concurrency=1), server, 4) == 1


def test_results_that_recorded_every_methods_clusters_resume_after_clusters_became_phis_own(tmp_path):
    from mur_graph.config import settings_record
    from mur_graph.eval.results import ResultsFile

    old = settings_record(MURConfig(), "guided_search") | {"clusters": 2}  # as records held it before
    with ResultsFile(tmp_path / "r.jsonl") as results:
        results.append({"id": "q0", "status": "ok", "settings": old})
        assert results.finished_ids(MURConfig()) == {"q0"}
    old_phi = settings_record(MURConfig(), "phi_foresight") | {"clusters": 2}
    with ResultsFile(tmp_path / "phi.jsonl") as results:
        results.append({"id": "q0", "status": "ok", "settings": old_phi})
        assert results.finished_ids(settings_record(MURConfig(), "phi_foresight", {"clusters": 2})) == {"q0"}
        with pytest.raises(ValueError, match="clusters: 2 there, 3 now"):
            results.finished_ids(settings_record(MURConfig(), "phi_foresight", {"clusters": 3}))


def test_results_that_recorded_critique_tokens_for_every_method_resume_after_it_became_the_critics_own(
    tmp_path,
):
    from mur_graph.config import settings_record
    from mur_graph.eval.results import ResultsFile

    # Before, every record held critique_tokens, at the local models' demo limit (64) for every method.
    old = settings_record(MURConfig(), "guided_search") | {"critique_tokens": 64}
    with ResultsFile(tmp_path / "guided.jsonl") as results:
        results.append({"id": "q0", "status": "ok", "settings": old})
        assert results.finished_ids(settings_record(MURConfig(), "guided_search")) == {"q0"}
    old_critic = settings_record(MURConfig(gamma=0.9), "critic_refine") | {"critique_tokens": 64}
    with ResultsFile(tmp_path / "critic.jsonl") as results:
        results.append({"id": "q0", "status": "ok", "settings": old_critic})
        new = settings_record(MURConfig(gamma=0.9), "critic_refine", {"critique_tokens": 64})
        assert results.finished_ids(new) == {"q0"}
        with pytest.raises(ValueError, match="critique_tokens: 64 there, 1024 now"):
            results.finished_ids(
                settings_record(MURConfig(gamma=0.9), "critic_refine", {"critique_tokens": 1024})
            )
