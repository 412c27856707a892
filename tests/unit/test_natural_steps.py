"""Unheaded steps reproduce the model's own text, in the prompts and in the solution.

Each step is kept verbatim, and a step cut at its token limit is continued by the next step with
no blank line written into the paragraph.
"""

from langchain_core.messages import AIMessage

from mur_graph import MURConfig, create_mur_graph
from mur_graph.prompts import step_format
from mur_graph.serve.reasoning import Reasoning
from tests.fakes import ScriptedChatModel, cut, prompted, say, verdict

QUESTION = "What is 17 + 25?"

# Four drafts as the model writes them: an indented paragraph, then one cut mid-formula at the
# token limit, which the next step finishes.
DRAFTS = [
    say("We add the two numbers.", -0.1, -0.1),
    say("   First, the ones:", -0.1, -0.1),
    cut("The sum is \\(17 +", -0.1, -0.1),
    say(" 25 = 42\\), so the answer is \\(\\boxed{42}\\).", -0.1, -0.1),
]
SOLUTION = (
    "We add the two numbers.\n\n"
    "   First, the ones:\n\n"
    "The sum is \\(17 + 25 = 42\\), so the answer is \\(\\boxed{42}\\)."
)


def run(script, config):
    model = ScriptedChatModel(script=script)
    state = create_mur_graph(model, config=config).invoke({"question": QUESTION})
    assert model.remaining == 0, "the graph made fewer calls than scripted"
    return model, state


def continued(call) -> str:
    """The assistant text a call asked the model to continue ("" when it started afresh)."""
    last = call.messages[-1]
    return last.text if isinstance(last, AIMessage) else ""


def test_never_scaled_natural_steps_join_into_exactly_the_text_the_model_wrote():
    model, state = run([[draft] for draft in DRAFTS], MURConfig(mode="cot"))

    assert [continued(call) for call in model.calls] == [
        "",
        "We add the two numbers.\n\n",
        "We add the two numbers.\n\n   First, the ones:\n\n",  # the indentation kept
        "We add the two numbers.\n\n   First, the ones:\n\nThe sum is \\(17 +",  # no blank line after a cut
    ]
    assert state["solution"] == SOLUTION
    assert [step["cut"] for step in state["steps"]] == [False, False, True, False]
    assert state["steps"][1]["text"] == "   First, the ones:"
    assert state["answer"] == "42"


def test_a_fallback_after_a_cut_last_step_continues_its_paragraph():
    script = [
        [say("Let s be the sum.", -0.1)],
        [cut("So s = 17 +", -0.1, -0.1)],
        [say(" 25 = 42, and the answer is \\boxed{42}.", -0.1)],  # the fallback
    ]
    model, state = run(script, MURConfig(mode="cot", max_steps=2))

    assert continued(model.calls[2]) == "Let s be the sum.\n\nSo s = 17 +"
    assert state["stop_reason"] == "max_steps"
    assert state["solution"] == "Let s be the sum.\n\nSo s = 17 + 25 = 42, and the answer is \\boxed{42}."
    assert state["answer"] == "42"


def test_a_scaled_step_is_cut_when_the_kept_candidate_was_not_when_the_draft_was():
    script = [
        [say("Let s be the sum.", -0.1)],  # step 0's draft; per_step scales every step
        [say("Let s be the sum.", -0.1), say("Let x be it.", -0.9)],
        [cut("So s =", -0.9)],  # step 1's draft, cut
        [say("So s = 42.", -0.2), cut("So s = 17", -0.5)],  # candidate 0, which ended, wins
        [say("Hence \\(s = \\boxed{42}\\).", -0.1)],  # step 2's draft ended
        [cut("Hence \\(s =", -0.1), say("It is \\boxed{41}.", -0.9)],  # the cut candidate 0 wins
        [say(" \\boxed{42}\\).", -0.1)],  # step 3's draft finishes that paragraph
        [say(" \\boxed{42}\\).", -0.1), say(" \\boxed{43}\\).", -0.8)],
    ]
    model = ScriptedChatModel(script=script)
    graph = create_mur_graph(
        model, config=MURConfig(mode="per_step", candidates=2), method_settings={"critic_kind": "confidence"}
    )
    state = graph.invoke({"question": QUESTION})

    assert model.remaining == 0
    assert [(s["draft_finish_reason"], s["cut"]) for s in state["steps"]] == [
        ("stop", False),
        ("length", False),
        ("stop", True),
        ("stop", False),
    ]
    assert continued(model.calls[4]) == "Let s be the sum.\n\nSo s = 42.\n\n"
    assert continued(model.calls[6]) == "Let s be the sum.\n\nSo s = 42.\n\nHence \\(s ="
    assert state["solution"] == "Let s be the sum.\n\nSo s = 42.\n\nHence \\(s = \\boxed{42}\\)."


def test_a_headed_step_cut_at_its_limit_is_still_followed_by_the_next_header():
    script = [[cut("Let s be", -0.1)], [say("s = 42, the answer is 42.", -0.1)]]
    model, state = run(script, prompted(mode="cot"))

    assert continued(model.calls[1]) == "Step0: Let s be\nStep1:"
    assert state["steps"][0]["cut"]
    assert state["solution"] == "Step0: Let s be\nStep1: s = 42, the answer is 42."


def test_the_reasoning_stream_of_a_never_scaled_run_is_its_solution_and_a_blank_line():
    model = ScriptedChatModel(script=[[draft] for draft in DRAFTS])
    graph = create_mur_graph(model, config=MURConfig(mode="cot"))
    reasoning = Reasoning(step_format("natural"), "guided_search")
    stream = graph.stream(
        {"question": QUESTION}, stream_mode=["custom", "messages", "values"], subgraphs=True
    )
    text = "".join(reasoning.feed(item) for item in stream) + reasoning.finish()

    assert text == SOLUTION + "\n\n"


def test_paragraphs_glue_each_cut_step_to_the_next_and_report_an_open_end():
    fmt = step_format("natural")
    assert fmt.paragraphs(["a", "b", "c", "d"], [False, True, True, False]) == (["a", "bcd"], False)
    assert fmt.paragraphs(["a", "b"], [False, True]) == (["a", "b"], True)
    assert fmt.prefix(["a", "b"], 2, open_end=True) == "a\n\nb"
    assert fmt.prefix(["a", "b"], 2) == "a\n\nb\n\n"
    assert fmt.prefix([], 0, open_end=True) == ""
    headed = step_format("prompted")
    assert headed.paragraphs(["Step0: a", "Step1: b"], [True, True]) == (["Step0: a", "Step1: b"], False)


def test_an_answer_cut_open_at_the_limit_is_finished_by_the_next_step():
    script = [[cut("So the answer is \\(\\boxed{4", -0.1, -0.1)], [say("2}\\).", -0.1)]]
    model, state = run(script, MURConfig(mode="cot"))

    assert continued(model.calls[1]) == "So the answer is \\(\\boxed{4"
    assert state["stop_reason"] == "answer"
    assert (state["answer"], state["answer_truncated"]) == ("42", False)
    assert state["solution"] == "So the answer is \\(\\boxed{42}\\)."


def test_a_cut_step_whose_answer_is_closed_ends_the_run():
    _, state = run([[cut("So \\(\\boxed{42}\\), and so", -0.1)]], MURConfig(mode="cot"))

    assert (state["stop_reason"], state["answer"]) == ("answer", "42")


def test_a_rollout_after_a_cut_candidate_continues_its_paragraph():
    script = [
        [say("Let s be the sum.", -0.1)],  # step 0 (per_step scales it too)
        [say("Let s be the sum.", -0.1), say("Let s = 17 + 25.", -0.2)],
        [say("So s = 42.", -0.1)],  # rollouts
        [say("So s = 42.", -0.1)],
        [say("So s =", -0.1)],  # step 1's draft
        [cut("So s = 17 +", -0.2), say("So s = 42.", -0.3)],  # candidate 0 stopped at its limit
        [say(" 25 = 42.", -0.1)],  # its rollout continues the paragraph
        [say("The answer is \\boxed{42}.", -0.1)],  # candidate 1's starts a new one
        [say("The answer is \\boxed{42}.", -0.1)],  # the fallback after max_steps
    ]
    model = ScriptedChatModel(script=script)
    config = MURConfig(mode="per_step", candidates=2, max_steps=2, seed=3)
    create_mur_graph(model, method="phi", config=config).invoke({"question": QUESTION})

    assert model.remaining == 0
    kept = continued(model.calls[4])  # step 1's prompt: step 0's winner and a blank line
    assert continued(model.calls[6]) == kept + "So s = 17 +"
    assert continued(model.calls[7]) == kept + "So s = 42.\n\n"


def blocks(call) -> str:
    """The `[Solution]` a critic call shows."""
    return call.messages[1].text.split("[Solution]\n", 1)[1]


def test_the_critic_judges_a_candidate_that_continues_a_cut_paragraph_as_that_paragraph():
    policy = ScriptedChatModel(
        script=[
            [say("Let s be the sum.", -0.1)],
            [say("Let s be the sum.", -0.1)],  # N = 1: step 0 kept as it is
            [cut("So s = 17 +", -0.1)],
            [cut("So s = 17 +", -0.1)],  # step 1, cut at its limit
            [say(" 25 = 42, so \\boxed{42}.", -0.1)],
            [say(" 25 = 42, so \\boxed{42}.", -0.1)],  # step 2 finishes the paragraph
        ]
    )
    critic = ScriptedChatModel(script=[[verdict(0.9)]] * 3)
    config = MURConfig(mode="per_step", candidates=1)
    state = create_mur_graph(policy, critic=critic, config=config).invoke({"question": QUESTION})

    assert critic.remaining == 0 and state["answer"] == "42"
    last = critic.calls[2].messages[1].text
    assert blocks(critic.calls[2]).startswith(
        "<paragraph_0>\nLet s be the sum.\n</paragraph_0>\n\n"
        "<paragraph_1>\nSo s = 17 + 25 = 42, so \\boxed{42}.\n</paragraph_1>\n\n"
    )
    assert last.endswith("Is paragraph 1 correct? Answer with one word: Yes or No.")


def test_a_critique_of_a_draft_that_continues_a_cut_paragraph_reads_the_whole_paragraph():
    policy = ScriptedChatModel(script=[[cut("So s = 17 +", -0.1)], [say(" 25 = 42, so \\boxed{42}.", -0.1)]])
    critic = ScriptedChatModel(
        script=[[say("Fine.", -0.1)], [verdict(0.9)], [say("Right.", -0.1)], [verdict(0.9)]]
    )
    config = MURConfig(mode="per_step")
    state = create_mur_graph(policy, method="critic", critic=critic, config=config).invoke(
        {"question": QUESTION}
    )

    assert critic.remaining == 0 and state["answer"] == "42"
    assert blocks(critic.calls[2]) == "<paragraph_0>\nSo s = 17 + 25 = 42, so \\boxed{42}.\n</paragraph_0>"
    assert critic.calls[2].messages[-1].text.endswith("the paragraph 0 step by step: ")
