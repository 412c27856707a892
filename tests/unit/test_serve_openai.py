"""`/v1/chat/completions` on a real uvicorn, driven by the `openai` SDK and LangChain's `ChatOpenAI`.

The policy is the scripted model, so every reasoning text and token count is exact: the run of
`mur_script` keeps steps 0 and 1, scales step 2 (N=2) and keeps candidate 1 (P(Yes) 0.9).
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from openai import BadRequestError, NotFoundError, OpenAI

from mur_graph.serve import create_app
from tests.fakes import KeyedChatModel, ScriptedChatModel, SlowStreamingChatModel, cut, prompted, say, verdict
from tests.serving import served
from tests.unit.test_graph_scripted import mur_script

QUESTION = [{"role": "user", "content": "What is 17 + 25?"}]
CONFIG = prompted(candidates=2, gamma=0.8, alpha=0.9)
REASONING = (
    "Step0: Let s be the sum.\n"
    "Step1: 17 + 25 = 42.\n"
    "Step2: So it is 41.\n"
    "⟳ step 2: m_t=0.800 > threshold 0.333, scaling with guided_search\n"
    "⟳ kept #1 of 2 candidates (critic):\n"
    "Step2: The answer is 42.\n"
)
"""Step 2's draft m_t = 0.8 > M_1 + ln(1/γ) = 0.11 + 0.223; candidate 1 wins with P(Yes) 0.9."""
LEDGER = {
    "policy_step": 2 + 3,  # the drafts of steps 0 and 1
    "draft_discarded": 2,  # step 2's draft
    "candidates": 3 + 2,
    "revision": 0,
    "rollouts": 0,
    "fallback": 0,
    "critic": 2 + 2,  # two verdicts of 2 tokens
}
TOTAL = sum(LEDGER.values())  # 16: every token the ledger counts is a reasoning token


@pytest.fixture
def scripted() -> ScriptedChatModel:
    return ScriptedChatModel(script=mur_script())


@pytest.fixture
def url(scripted):
    with served(create_app(scripted, config=CONFIG)) as base:
        yield base


@pytest.fixture
def client(url) -> OpenAI:
    return OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)


def test_models_lists_one_name_per_mode(client):
    assert [model.id for model in client.models.list()] == ["mur", "mur-per-step", "mur-cot", "mur-plain"]


def test_a_stream_brings_the_steps_as_reasoning_then_the_answer_then_the_usage(client, scripted):
    chunks = list(
        client.chat.completions.create(
            model="mur", messages=QUESTION, stream=True, stream_options={"include_usage": True}
        )
    )
    *choices, last = chunks
    deltas = [chunk.choices[0].delta for chunk in choices]
    assert deltas[0].role == "assistant"
    reasoning = [d.model_extra["reasoning_content"] for d in deltas if d.model_extra.get("reasoning_content")]
    assert [d.model_extra["reasoning"] for d in deltas if d.model_extra.get("reasoning")] == reasoning
    assert len(reasoning) > 3  # step by step, not one block at the end
    assert "".join(reasoning) == REASONING
    assert [d.content for d in deltas if d.content] == ["42"]
    assert [c.choices[0].finish_reason for c in choices][-1] == "stop"
    # The usage chunk: no choice; reasoning tokens = the ledger's total, critic and discarded draft included.
    assert last.choices == []
    assert last.usage.completion_tokens == last.usage.completion_tokens_details.reasoning_tokens == TOTAL
    assert last.usage.prompt_tokens == 0  # the scripted model reports no input tokens
    assert last.model_extra["mur"] == {"ledger": LEDGER, "steps": 3, "scaled": 1, "stop_reason": "answer"}
    assert scripted.remaining == 0


def test_without_stream_the_same_comes_in_one_response(client):
    reply = client.chat.completions.create(model="mur", messages=QUESTION)
    (choice,) = reply.choices
    assert choice.message.content == "42" and choice.finish_reason == "stop"
    assert choice.message.model_extra["reasoning_content"] == REASONING
    assert choice.message.model_extra["reasoning"] == REASONING
    assert reply.usage.completion_tokens == reply.usage.completion_tokens_details.reasoning_tokens == TOTAL
    assert reply.model_extra["mur"]["ledger"] == LEDGER


def test_a_stream_without_include_usage_ends_without_a_usage_chunk(client):
    chunks = list(client.chat.completions.create(model="mur", messages=QUESTION, stream=True))
    assert all(chunk.usage is None and chunk.choices for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_chat_openai_pointed_at_the_endpoint_gets_the_answer_and_the_reasoning_tokens(url):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=f"{url}/v1", api_key="unused", model="mur", max_retries=0)
    message = llm.invoke("What is 17 + 25?")
    assert message.content == "42"
    assert message.usage_metadata["output_tokens"] == TOTAL
    assert message.usage_metadata["output_token_details"]["reasoning"] == TOTAL
    # MUR's settings reach the endpoint through extra_body (and are checked there).
    strict = ChatOpenAI(
        base_url=f"{url}/v1", api_key="unused", model="mur", max_retries=0, extra_body={"gamma": 1.5}
    )
    with pytest.raises(BadRequestError, match=r"invalid MUR setting gamma=1.5"):
        strict.invoke("What is 17 + 25?")


def test_chat_openai_streams_the_answer_with_the_usage(url, scripted):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=f"{url}/v1", api_key="unused", model="mur", max_retries=0, stream_usage=True)
    chunks = list(llm.stream("What is 17 + 25?"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert total.content == "42"
    assert total.usage_metadata["output_token_details"]["reasoning"] == TOTAL
    assert scripted.remaining == 0


def test_the_model_name_picks_the_mode_and_the_body_the_settings(url):
    model = ScriptedChatModel(
        script=[[say("Let s be the sum.", -1.0, -1.0)], [say("So", -0.2)], [say("The answer is 42.", -0.5)]]
    )
    with served(create_app(model, config=CONFIG)) as base:
        client = OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
        reply = client.chat.completions.create(
            model="mur-cot", messages=QUESTION, extra_body={"max_steps": 2, "seed": 3}
        )
    # cot never scales; max_steps=2 ends without an answer, and the fallback finds it.
    reasoning = reply.choices[0].message.model_extra["reasoning_content"]
    assert reasoning == "Step0: Let s be the sum.\nStep1: So\nStep2: The answer is 42."
    assert reply.choices[0].message.content == "42"
    assert reply.model_extra["mur"]["ledger"]["fallback"] == 1
    assert [call.kwargs.get("seed") is not None for call in model.calls] == [True, True, True]


def test_mur_plain_runs_the_model_plainly_and_a_cut_call_finishes_with_length():
    model = ScriptedChatModel(
        script=[
            [say("17 + 25 = 42, so $\\boxed{42}$.", -0.1, -0.2, -0.3)],
            [cut("Let us add the tens", -0.1, -0.1)],
        ]
    )
    with served(create_app(model, config=CONFIG)) as base:
        client = OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
        reply = client.chat.completions.create(model="mur-plain", messages=QUESTION, temperature=0)
        short = client.chat.completions.create(
            model="mur-plain", messages=QUESTION, extra_body={"plain_tokens": 2}
        )
    assert reply.choices[0].message.content == "42"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens == 3
    assert [m.type for m in model.calls[0].messages] == ["system", "human"]  # no step format
    assert model.calls[1].kwargs["max_tokens"] == 2
    assert short.choices[0].finish_reason == "length"


def test_two_concurrent_requests_both_complete():
    # Each call waits until the other request's call is in flight too (5 s at most).
    model = KeyedChatModel(replies={"Step0:": say("The answer is 42.", -0.1)}, meet=2)
    answers: list[str | None] = []
    with served(create_app(model, config=prompted(mode="cot"))) as base:
        client = OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0, timeout=30)

        def ask() -> None:
            answers.append(
                client.chat.completions.create(model="mur-cot", messages=QUESTION).choices[0].message.content
            )

        threads = [threading.Thread(target=ask) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert answers == ["42", "42"]
    assert len(model.calls) == 2


def test_a_client_that_leaves_mid_stream_stops_its_run_within_the_step():
    model = SlowStreamingChatModel(tokens=200, delay=0.02)  # one step would take 4 s
    with served(create_app(model, config=prompted(mode="cot", max_step_tokens=200))) as base:
        client = OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
        stream = client.chat.completions.create(model="mur-cot", messages=QUESTION, stream=True)
        seen = ""
        for chunk in stream:
            seen += chunk.choices[0].delta.model_extra.get("reasoning_content") or ""
            if seen.count(" t") >= 3:
                break
        stream.close()  # the client hangs up after three tokens of step 0
        time.sleep(1.0)
        stopped_at = model.generated
        time.sleep(1.0)
        assert model.generated == stopped_at  # no token since
    assert seen.startswith("Step0: t t t")
    assert stopped_at < 150  # stopped within step 0, well before its 200 tokens (4 s)
    assert model.calls == 1  # and no later step or fallback was asked for


@pytest.mark.parametrize(
    ("body", "status", "fix"),
    [
        (b"{not json", 400, "the request body is not JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'{"model": "mur"}', 400, "messages is missing or empty"),
        (b'{"model": "mur", "messages": []}', 400, "messages is missing or empty"),
        (
            b'{"model": "mur", "messages": [{"role": "user", "content": "hi"}, '
            b'{"role": "assistant", "content": "x"}]}',
            400,
            "the last message is 'assistant', not the user's",
        ),
        (
            b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}',
            404,
            "unknown model 'gpt-4o'",
        ),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', 400, "unknown model None"),
        (
            b'{"model": "mur", "gamma": 1.5, "messages": [{"role": "user", "content": "hi"}]}',
            400,
            "invalid MUR setting gamma=1.5: must be a number in (0, 1]",
        ),
        (
            b'{"model": "mur", "method": "beam", "messages": [{"role": "user", "content": "hi"}]}',
            400,
            "unknown scaling method 'beam'",
        ),
        (
            b'{"model": "mur", "critic_kind": "oracle", "messages": [{"role": "user", "content": "hi"}]}',
            400,
            "unknown critic kind 'oracle'",
        ),
        (
            b'{"model": "mur", "gama": 0.5, "messages": [{"role": "user", "content": "hi"}]}',
            400,
            "unknown field 'gama'",
        ),
        (
            b'{"model": "mur", "mode": "cot", "messages": [{"role": "user", "content": "hi"}]}',
            400,
            "the model name picks the mode",
        ),
        (
            b'{"model": "mur", "messages": [{"role": "user", "content": "  "}]}',
            400,
            "the last user message is empty",
        ),
        (b'{"model": "mur", "n": 2, "messages": [{"role": "user", "content": "hi"}]}', 400, "n=2"),
        (
            b'{"model": "mur", "method": "phi", "clusters": 0, '
            b'"messages": [{"role": "user", "content": "hi"}]}',
            400,
            "invalid MUR setting clusters=0: must be an integer >= 1",
        ),
        (
            b'{"model": "mur", "clusters": 3, "messages": [{"role": "user", "content": "hi"}]}',
            400,
            "scaling method 'guided_search' has no setting 'clusters'; its settings: critic_kind",
        ),
    ],
    ids=[
        "not-json",
        "not-object",
        "no-messages",
        "empty-messages",
        "last-not-user",
        "unknown-model",
        "no-model",
        "gamma",
        "method",
        "critic-kind",
        "unknown-field",
        "mode",
        "empty-question",
        "n",
        "method-setting",
        "method-setting-of-another-method",
    ],
)
def test_bad_input_gets_a_4xx_with_one_line_naming_the_fix(url, scripted, body, status, fix):
    reply = httpx.post(
        f"{url}/v1/chat/completions", content=body, headers={"content-type": "application/json"}
    )
    assert reply.status_code == status
    message = reply.json()["error"]["message"]
    assert fix in message and "\n" not in message and "Traceback" not in message
    assert scripted.calls == []  # refused before any model call


def test_the_openai_sdk_raises_its_own_errors_for_bad_input(client):
    with pytest.raises(
        NotFoundError, match="unknown model 'gpt-4o'; use one of mur, mur-per-step, mur-cot, mur-plain"
    ):
        client.chat.completions.create(model="gpt-4o", messages=QUESTION)
    with pytest.raises(BadRequestError, match=r"gamma=0: must be a number in \(0, 1\]"):
        client.chat.completions.create(model="mur", messages=QUESTION, extra_body={"gamma": 0})
    with pytest.raises(BadRequestError, match="the last message is 'system'"):
        client.chat.completions.create(model="mur", messages=[{"role": "system", "content": "Be brief."}])


def test_a_method_named_in_the_body_runs_that_method_with_its_paper_gamma():
    # critic_refine, γ 0.9: step 1's draft (m=1.0 > 0.1 + ln(1/0.9)) is critiqued, judged correct.
    model = ScriptedChatModel(
        script=[
            [say("Let s be the sum.", -1.0, -1.0)],
            [say("The answer is 42.", -1.0)],
            [say("17 + 25 = 42, correct.", -0.1, -0.1)],  # the critique
            [verdict(0.9)],  # its verdict: correct, the draft is kept
        ]
    )
    with served(create_app(model, config=CONFIG)) as base:
        client = OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)
        reply = client.chat.completions.create(
            model="mur", messages=QUESTION, extra_body={"method": "critic"}
        )
    reasoning = reply.choices[0].message.model_extra["reasoning_content"]
    assert (
        "m_t=1.000 > threshold 0.205, scaling with critic_refine\n⟳ kept judged_correct: the draft's text\n"
        in reasoning
    )
    assert reply.choices[0].message.content == "42"
    assert model.remaining == 0


def test_mur_graph_serve_refuses_bad_options_before_loading_a_model(capsys):
    from mur_graph.cli import main

    assert main(["serve", "--gamma", "2"]) == 2
    assert "invalid MUR setting gamma=2.0: must be a number in (0, 1]" in capsys.readouterr().err
    assert main(["serve", "--port", "70000"]) == 2
    assert "--port must be in 0..65535, got 70000" in capsys.readouterr().err


def test_a_methods_own_setting_in_the_body_builds_that_methods_graph_with_it():
    import asyncio

    from mur_graph.serve.request import parse_request
    from mur_graph.serve.runs import Runs

    runs = Runs(lambda: (ScriptedChatModel(script=[]), ScriptedChatModel(script=[]), CONFIG))
    body = (
        b'{"model": "mur", "method": "phi", "clusters": 3, "messages": [{"role": "user", "content": "hi"}]}'
    )
    graph, settings = asyncio.run(runs.graph_for(parse_request(body)))
    assert (graph.mur_method.canonical, graph.mur_method.settings.clusters, settings.gamma) == (
        "phi_foresight",
        3,
        0.9,
    )
    plain = b'{"model": "mur", "method": "phi", "messages": [{"role": "user", "content": "hi"}]}'
    other, _ = asyncio.run(runs.graph_for(parse_request(plain)))
    assert other is not graph and other.mur_method.settings.clusters == 2


def test_the_critics_critique_tokens_come_from_the_served_defaults_or_the_body():
    import asyncio

    from mur_graph.serve.request import RequestError, parse_request
    from mur_graph.serve.runs import Runs

    served = {"critic": {"critique_tokens": 64}}
    runs = Runs(lambda: (ScriptedChatModel(script=[]), ScriptedChatModel(script=[]), CONFIG), None, served)
    question = b'"messages": [{"role": "user", "content": "hi"}]}'
    graph, _ = asyncio.run(runs.graph_for(parse_request(b'{"model": "mur", "method": "critic", ' + question)))
    assert graph.mur_method.settings.critique_tokens == 64
    body = b'{"model": "mur", "method": "critic", "critique_tokens": 32, ' + question
    graph, _ = asyncio.run(runs.graph_for(parse_request(body)))
    assert graph.mur_method.settings.critique_tokens == 32
    guided, _ = asyncio.run(runs.graph_for(parse_request(b'{"model": "mur", ' + question)))
    assert guided.mur_method.settings_dict() == {"critic_kind": "generative"}
    vote, _ = asyncio.run(
        runs.graph_for(parse_request(b'{"model": "mur", "critic_kind": "vote", ' + question))
    )
    assert vote.mur_method.settings_dict() == {"critic_kind": "vote"} and vote is not guided
    with pytest.raises(RequestError, match="unknown critic kind 'oracle'; registered kinds: confidence"):
        asyncio.run(runs.graph_for(parse_request(b'{"model": "mur", "critic_kind": "oracle", ' + question)))
    with pytest.raises(RequestError, match="'guided_search' has no setting 'critique_tokens'; its settings"):
        asyncio.run(runs.graph_for(parse_request(b'{"model": "mur", "critique_tokens": 32, ' + question)))
