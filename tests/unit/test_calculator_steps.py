"""Calculator calls inside MUR steps, with scripted models: text, trace, m_t and ledger exactly."""

import pytest
from langchain_core.messages import AIMessage

from mur_graph import MURConfig, create_mur_graph, paper_config
from mur_graph.prompts import CALCULATOR_INSTRUCTION
from mur_graph.tools.stepping import MAX_ERROR_IN_STEP, pending_call
from tests.fakes import ScriptedChatModel, context_full, prompted, say, verdict

QUESTION = "Natalia sold 48 clips in April and half as many in May. How many in May?"


def run(script, config, *, stream=False):
    model = ScriptedChatModel(script=script)
    graph = create_mur_graph(model, config=config)
    if stream:
        events = [e for _, e in graph.stream({"question": QUESTION}, stream_mode=["custom"], subgraphs=False)]
        return model, events
    state = graph.invoke({"question": QUESTION})
    assert model.remaining == 0, "the graph made fewer calls than scripted"
    return model, state


def call(expression, output, error=None):
    return {"tool": "calculator", "input": expression, "output": output, "error": error}


def test_a_draft_that_calls_the_calculator_continues_the_same_step_with_the_result():
    script = [
        [say(" Half of 48 is <<48/2", -0.5, -0.5, -0.5)],  # stopped at ">>"
        [say(" clips. The answer is 24.", -0.1, -0.1)],  # the continuation
    ]
    model, state = run(script, prompted(calculator=True, mode="cot", max_step_tokens=32))
    (step,) = state["steps"]
    assert step["text"] == "Step0: Half of 48 is <<48/2=24>> clips. The answer is 24."
    assert step["tool_calls"] == step["draft_tool_calls"] == [call("48/2", "24")]
    # m_t is over the 5 tokens the model wrote, not over the "=24>>" the calculator wrote
    assert step["uncertainty"] == pytest.approx((0.5 * 3 + 0.1 * 2) / 5)
    assert state["ledger"]["policy_step"] == step["tokens"]["policy_step"] == 5
    assert state["answer"] == "24"

    first, second = model.calls
    assert CALCULATOR_INSTRUCTION in first.messages[0].text
    assert first.stop == ["Step1:", "Step 1:", ">>"] and second.stop == first.stop
    assert second.messages[:-1] == first.messages[:-1]
    assert second.messages[-1] == AIMessage("Step0: Half of 48 is <<48/2=24>>")
    assert (first.kwargs["max_tokens"], second.kwargs["max_tokens"]) == (32, 32 - 3)


def test_a_result_the_model_wrote_itself_is_replaced_by_the_calculators():
    script = [[say("Half of 48 is <<48/2=25", -0.5, -0.5)], [say(" so the answer is 24.", -0.2)]]
    _, state = run(script, prompted(calculator=True, mode="cot"))
    assert state["steps"][0]["text"] == "Step0: Half of 48 is <<48/2=24>> so the answer is 24."
    assert state["steps"][0]["tool_calls"] == [call("48/2", "24")]
    assert state["ledger"]["policy_step"] == 3  # its own "=25" tokens still count


def test_a_refused_call_writes_its_error_into_the_step_and_the_step_goes_on():
    script = [[say("Try <<__import__('os')", -0.3)], [say(" never mind. The answer is 24.", -0.3)]]
    _, state = run(script, prompted(calculator=True, mode="cot"))
    (record,) = state["steps"][0]["tool_calls"]
    assert record["output"] is None
    assert record["error"] == "character '_' is not allowed: underscores are not allowed (no dunder names)"
    written = f"error: {record['error']}"[:MAX_ERROR_IN_STEP]  # the trace keeps the whole message
    assert (
        state["steps"][0]["text"]
        == f"Step0: Try <<__import__('os')={written}>> never mind. The answer is 24."
    )


def test_the_call_limit_ends_the_step_without_running_the_extra_call():
    script = [
        [say("First <<1+1", -0.2)],
        [say(", then <<2+2", -0.4)],  # the second call: over the limit of 1
        [say("The answer is 6.", -0.1)],  # the fallback completion (no answer in the step)
    ]
    _, state = run(script, prompted(calculator=True, calculator_calls=1, mode="cot", max_steps=1))
    step = state["steps"][0]
    assert step["text"] == "Step0: First <<1+1=2>>, then <<2+2>>"
    assert step["tool_calls"] == [
        call("1+1", "2"),
        call("2+2", None, "not run: the step reached its limit of 1 calculator calls"),
    ]
    assert step["uncertainty"] == pytest.approx(0.3)
    assert state["ledger"]["policy_step"] == 2 and state["ledger"]["fallback"] == 1
    assert state["answer"] == "6"


def test_the_step_token_limit_covers_all_segments():
    script = [
        [say("So <<6*7", -0.1, -0.1, -0.1)],  # the draft used all 3 tokens: no continuation
        [say("The answer is 42.", -0.1)],  # the fallback completion
    ]
    model, state = run(script, prompted(calculator=True, mode="cot", max_step_tokens=3, max_steps=1))
    assert state["steps"][0]["text"] == "Step0: So <<6*7=42>>"
    assert state["ledger"]["policy_step"] == 3 and state["ledger"]["fallback"] == 1
    assert model.calls[1].messages[-1] == AIMessage("Step0: So <<6*7=42>>\nStep1:")


def test_a_candidate_with_a_call_is_continued_and_scored_on_its_own_tokens():
    script = [
        [say("Let me compute.", -1.0, -1.0)],  # draft
        [say(" It is <<6*7", -0.2, -0.2), say(" It is 41, the answer is 41.", -0.3)],  # N=2 candidates
        [say(" so the answer is 42.", -0.4, -0.4)],  # candidate 0 continued after its call
        [verdict(0.9)],
        [verdict(0.1)],
    ]
    config = prompted(calculator=True, mode="per_step", candidates=2, max_steps=1)
    model, state = run(script, config)
    step = state["steps"][0]
    first, second = step["candidates"]
    assert first["text"] == "It is <<6*7=42>> so the answer is 42."
    assert first["tool_calls"] == [call("6*7", "42")] and second["tool_calls"] == []
    assert first["uncertainty"] == pytest.approx(0.3) and first["n_tokens"] == 4
    assert (step["selected"], step["tool_calls"], step["draft_tool_calls"]) == (0, [call("6*7", "42")], [])
    assert step["kept_uncertainty"] == pytest.approx(0.3)
    assert state["ledger"]["candidates"] == 4 + 1 and state["ledger"]["draft_discarded"] == 2
    assert model.calls[2].messages[-1] == AIMessage("Step0: It is <<6*7=42>>")
    assert state["answer"] == "42"


def test_each_call_is_streamed_as_a_tool_call_event():
    script = [[say("Half is <<48/2", -0.5)], [say(". The answer is 24.", -0.1)]]
    _, events = run(script, MURConfig(calculator=True, mode="cot"), stream=True)
    calls = [e for e in events if e["event"] == "tool_call"]
    assert calls == [{"event": "tool_call", "step": 0, **call("48/2", "24")}]


def test_without_the_calculator_nothing_changes():
    model = ScriptedChatModel(script=[[say("Half of 48 is <<48/2 so the answer is 24.", -0.5)]])
    state = create_mur_graph(model, config=prompted(mode="cot")).invoke({"question": QUESTION})
    assert model.calls[0].stop == ["Step1:", "Step 1:"]
    assert CALCULATOR_INSTRUCTION not in model.calls[0].messages[0].text
    assert "tool_calls" not in state["steps"][0] and "draft_tool_calls" not in state["steps"][0]
    assert state["steps"][0]["text"] == "Step0: Half of 48 is <<48/2 so the answer is 24."


@pytest.mark.parametrize(
    ("text", "finish", "expected"),
    [
        ("Half is <<48/2", "stop", (10, "48/2")),
        ("Half is <<48/2=25", "stop", (10, "48/2")),
        ("Half is <<48/2", "length", None),  # cut by the token limit, not stopped at ">>"
        ("Half is <<48/2>> and", "stop", None),  # closed
        ("Half is <<48/2\nso", "stop", None),  # not on one line
        ("Half is 24", "stop", None),
    ],
)
def test_pending_call(text, finish, expected):
    assert pending_call(text, finish) == expected


def test_the_cli_flag_turns_the_calculator_on():
    from mur_graph.cli import build_parser
    from mur_graph.cli.options import config_from_args

    assert config_from_args(build_parser().parse_args(["solve", "q", "--calculator"])).calculator
    assert not config_from_args(build_parser().parse_args(["solve", "q"])).calculator


def test_the_call_limit_is_a_validated_setting():
    with pytest.raises(ValueError, match="calculator_calls=0: must be an integer >= 1"):
        MURConfig(calculator_calls=0)
    with pytest.raises(ValueError, match="calculator='yes': must be True or False"):
        MURConfig(calculator="yes")


def test_the_critics_revision_may_call_the_calculator_too():
    policy = ScriptedChatModel(
        script=[
            [say(" 17 + 25 = <<17+25=32", -3.0, -3.0)],  # draft of step 0 (its call runs too)
            [say(", so the sum is 32.", -3.0)],
            [say(" 17 + 25 = <<17+25", -0.2, -0.2)],  # the revision stops at its call
            [say(" and the answer is 42.", -0.5, -0.5)],
        ]
    )
    critic = ScriptedChatModel(script=[[say("The sum is wrong.", -0.2, -0.2)], [verdict(0.1)]])
    config = paper_config("critic", calculator=True, mode="per_step", max_steps=1)
    state = create_mur_graph(policy, method="critic", critic=critic, config=config).invoke(
        {"question": QUESTION}
    )
    assert policy.remaining == 0 and critic.remaining == 0
    step = state["steps"][0]
    assert step["selection"] == "revised"
    assert step["draft"] == "17 + 25 = <<17+25=42>>, so the sum is 32."
    assert step["text"] == "Step0: 17 + 25 = <<17+25=42>> and the answer is 42."
    assert step["tool_calls"] == step["draft_tool_calls"] == [call("17+25", "42")]
    assert step["kept_uncertainty"] == pytest.approx(0.35)
    assert step["tokens"]["revision"] == 4 and step["tokens"]["draft_discarded"] == 3
    assert policy.calls[3].messages[-1] == AIMessage("Refined Step0: 17 + 25 = <<17+25=42>>")


def test_a_result_that_fills_the_context_ends_the_step_with_its_tokens_counted():
    script = [
        [say(" Half of 48 is <<48/2", -0.5, -0.5, -0.5)],
        [context_full()],  # no room after "=24>>"
        [context_full()],  # nor for step 1: the run stops with the step kept
    ]
    _, state = run(script, prompted(calculator=True, mode="cot"))
    (step,) = state["steps"]
    assert step["text"] == "Step0: Half of 48 is <<48/2=24>>"
    assert step["cut"] and step["tool_calls"] == [call("48/2", "24")]
    assert state["ledger"]["policy_step"] == 3 and state["stop_reason"] == "context_full"
