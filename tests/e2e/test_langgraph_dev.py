"""The repository's langgraph.json served by `langgraph dev`, driven by LangGraph's SDK and an MCP client.

One server for the module: `langgraph dev` (the venv's binary) on 127.0.0.1, offline, started in a
temporary folder so that its `.langgraph_api/` state stays out of the tree, with the real embedded
SmolLM2-135M and short limits (`MUR_GRAPH_SETTINGS`). The model is weak; the tests check the
structure of what comes back and the resume behaviour, not that the answer is right.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mur_graph.agents import DEFAULT_DESCRIPTION, summary_text
from mur_graph.studio import SETTINGS_VARIABLE
from tests.processes import free_port, stop, wait_until_up

pytestmark = pytest.mark.real_model

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "What is 17 + 25?"
SERVED = {
    "seed": 0,
    "max_steps": 2,
    "max_step_tokens": 16,
    "candidates": 2,
    "fallback_tokens": 8,
    "critic_tokens": 4,
    "step_format": "prompted",
}
"""The served defaults for these tests (short: each model call is a few tokens; the `Step<k>:`
format the steps below are checked in)."""
RESULT_KEYS = {"answer", "summary", "ledger", "trace"}
REVIEW = {"mode": "per_step", "max_steps": 1}
"""per_step sends every step to review, so step 0 pauses whatever the model writes."""


def _require_clients() -> None:
    missing = [m for m in ("langgraph_cli", "langgraph_sdk", "mcp") if importlib.util.find_spec(m) is None]
    if missing:
        reason = f"needs {', '.join(missing)}: pip install -e '.[test]'"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`langgraph dev` on a free port; its URL. Stopped at the end, whatever happens."""
    _require_clients()
    workdir = tmp_path_factory.mktemp("langgraph_dev")
    port = free_port()
    env = os.environ | {
        "HF_HUB_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        SETTINGS_VARIABLE: json.dumps(SERVED),
    }
    env.pop("MUR_GRAPH_MODEL", None)
    command = [
        str(Path(sys.executable).with_name("langgraph")),
        "dev",
        "--config",
        str(ROOT / "langgraph.json"),
        "--no-browser",
        "--no-reload",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, f"{url}/ok", log, "langgraph dev")
        yield url
    finally:
        stop(process)
    assert "BlockingError" not in log.read_text()


@pytest.fixture(scope="module")
def client(server: str) -> Any:
    from langgraph_sdk import get_sync_client

    return get_sync_client(url=server, timeout=300)


def trace_of(client: Any, result: dict[str, Any]) -> dict[str, Any]:
    """The full trace (`MURToolArtifact`) a served run left in the server's store."""
    item = client.store.get_item(result["trace"]["namespace"], result["trace"]["key"])
    return dict(item["value"])


def check_result(client: Any, result: dict[str, Any]) -> dict[str, Any]:
    """A served result is the answer, the agents' summary and the ledger; the trace is in the store."""
    assert RESULT_KEYS <= set(result) <= RESULT_KEYS | {"question"}
    trace = trace_of(client, result)
    assert set(trace) == {"summary", "steps", "solution", "fallback"}
    assert result["summary"] == summary_text(trace["summary"])
    assert result["answer"] == trace["summary"]["answer"]
    assert result["ledger"] == trace["summary"]["tokens"]
    assert trace["summary"]["n_steps"] == len(trace["steps"]) >= 1
    assert trace["summary"]["total_tokens"] == sum(result["ledger"].values())
    return trace


def stream_solve(client: Any, **options: Any) -> tuple[str, list[Any]]:
    """A served `mur` run on a new thread, streamed with its subgraphs; the thread and the parts."""
    thread = client.threads.create()["thread_id"]
    parts = client.runs.stream(thread, "mur", input={"question": QUESTION}, stream_subgraphs=True, **options)
    return thread, list(parts)


def test_a_streamed_solve_streams_the_inner_runs_events_and_ends_with_a_result(client):
    thread, parts = stream_solve(client, stream_mode=["updates", "custom"])
    kinds = {part.event.split("|")[0] for part in parts}
    assert kinds == {"metadata", "updates", "custom"}
    # The wrapper's one node, at the top; MUR's nodes and events below it, as a subgraph.
    top = [part.data for part in parts if part.event == "updates"]
    assert len(top) == 1 and list(top[0]) == ["solve"]
    custom = [part.data for part in parts if part.event.startswith("custom|solve:")]
    names = [event["event"] for event in custom]
    assert names[0] == "generating" and names[-1] == "final"
    assert {"draft", "gate", "step"} <= set(names)
    inner_nodes = {node for part in parts if part.event.startswith("updates|solve:") for node in part.data}
    assert {"generate_step", "assess_uncertainty", "commit_step", "finalize"} <= inner_nodes

    result = client.threads.get_state(thread)["values"]
    assert result["question"] == QUESTION
    trace = check_result(client, result)
    assert result["ledger"] == custom[-1]["ledger"]
    assert trace["steps"] == [event["record"] for event in custom if event["event"] == "step"]
    assert len(trace["steps"]) <= SERVED["max_steps"]


def test_a_runs_context_changes_only_the_settings_it_names(client):
    context = {"mode": "cot", "max_steps": 3, "max_step_tokens": 4}
    result = client.runs.wait(None, "mur", input={"question": QUESTION}, context=context)
    trace = check_result(client, result)
    assert len(trace["steps"]) <= 3
    assert not any(step["scaled"] for step in trace["steps"])  # cot never scales
    assert result["ledger"]["candidates"] == result["ledger"]["critic"] == 0
    assert all(step["tokens"].get("policy_step", 0) <= 4 for step in trace["steps"])
    # Unnamed settings keep the served defaults (8 fallback tokens), not the paper's 8096.
    assert result["ledger"]["fallback"] <= SERVED["fallback_tokens"]


def test_a_runs_context_picks_the_critic_kind_and_the_server_runs_that_kinds_graph(client):
    context = {"mode": "per_step", "max_steps": 1, "critic_kind": "confidence"}
    thread, parts = stream_solve(client, context=context, stream_mode="custom")
    assert any(part.event.startswith("custom|solve:") for part in parts)  # streamed as the subgraph
    trace = check_result(client, client.threads.get_state(thread)["values"])
    (step,) = trace["steps"]
    assert step["scaled"] and step["selection"] == "confidence"
    ledger = trace["summary"]["tokens"]
    assert ledger["candidates"] > 0 and ledger["critic"] == 0  # the confidence kind asks no critic
    default = client.runs.wait(
        None, "mur", input={"question": QUESTION}, context={**context, "critic_kind": "generative"}
    )
    assert default["ledger"]["critic"] > 0  # the served kind, in the same server


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"gamma": 2}, "invalid MUR setting gamma=2: must be a number in (0, 1]"),
        ({"mode": "fast"}, "invalid MUR setting mode='fast': must be one of mur, per_step, cot, plain"),
        ({"critic_kind": "oracle"}, "unknown critic kind 'oracle'; registered kinds: confidence, generative"),
    ],
    ids=["out-of-range", "not-a-mode", "unknown-critic-kind"],
)
def test_a_bad_context_ends_the_run_with_one_line_naming_the_fix(client, context, message):
    """A name that is no setting never reaches the graph: the server drops it (logged at debug)."""
    thread = client.threads.create()["thread_id"]
    run = client.runs.create(thread, "mur", input={"question": QUESTION}, context=context)
    joined = client.runs.join(thread, run["run_id"])
    assert client.runs.get(thread, run["run_id"])["status"] == "error"
    assert joined == {"__error__": {"error": "ValueError", "message": joined["__error__"]["message"]}}
    assert joined["__error__"]["message"].startswith(message) and "\n" not in joined["__error__"]["message"]
    assert client.threads.get(thread)["values"] == {"question": QUESTION}  # refused before any step


@pytest.mark.parametrize(
    ("resume", "selection", "scaled"),
    [
        ({"action": "accept"}, "human_accept", False),
        ({"action": "edit", "text": "17 + 25 = 42"}, "human_edit", False),
        ({"action": "scale"}, None, True),
    ],
    ids=["accept", "edit", "scale"],
)
def test_mur_review_pauses_before_scaling_and_resumes_with_a_command(client, resume, selection, scaled):
    thread = client.threads.create()["thread_id"]
    client.runs.wait(thread, "mur_review", input={"question": QUESTION}, context=REVIEW)
    state = client.threads.get_state(thread)
    (interrupt,) = state["interrupts"]
    request = interrupt["value"]
    assert request["question"] == QUESTION and request["step"] == 0 and request["error"] is None
    assert set(request["actions"]) == {"scale", "accept", "edit"}
    assert "trace" not in state["values"]  # paused: no result yet

    result = client.runs.wait(thread, "mur_review", command={"resume": resume}, context=REVIEW)
    assert client.threads.get_state(thread)["interrupts"] == []
    (step,) = check_result(client, result)["steps"]
    assert step["draft"] == request["draft"]
    assert step["scaled"] is scaled
    if selection is not None:
        assert step["selection"] == selection
    if resume["action"] == "edit":
        assert step["text"] == "Step0: 17 + 25 = 42" and step["kept_uncertainty"] is None
    if resume["action"] == "scale":
        assert step["candidates"] and result["ledger"]["candidates"] > 0


def test_mcp_tools_call_returns_the_answer_and_the_summary_with_the_trace_in_the_store(server, client):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def call() -> tuple[Any, Any]:
        async with streamable_http_client(f"{server}/mcp") as streams, ClientSession(*streams[:2]) as session:
            await session.initialize()
            tools = await session.list_tools()
            reply = await session.call_tool("mur", {"question": QUESTION})
            return tools, reply

    tools, reply = asyncio.run(call())
    by_name = {tool.name: tool for tool in tools.tools}
    assert {"mur", "mur_review"} <= set(by_name)
    assert by_name["mur"].input_schema["required"] == ["question"]
    assert by_name["mur"].description == DEFAULT_DESCRIPTION  # langgraph.json's, as agents get it
    assert not reply.is_error
    (content,) = reply.content
    # langgraph-api answers with the repr of the run's result: the wrapper's small state.
    result = ast.literal_eval(content.text)
    check_result(client, result)
    assert set(result) == RESULT_KEYS


def test_the_openai_endpoint_is_served_beside_the_graphs(server):
    from openai import BadRequestError, OpenAI

    openai = OpenAI(base_url=f"{server}/v1", api_key="unused", max_retries=0, timeout=300)
    assert [model.id for model in openai.models.list()] == ["mur", "mur-per-step", "mur-cot", "mur-plain"]
    chunks = list(
        openai.chat.completions.create(
            model="mur",
            messages=[{"role": "user", "content": QUESTION}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    *choices, last = chunks
    deltas = [chunk.choices[0].delta for chunk in choices]
    reasoning = [d.model_extra["reasoning_content"] for d in deltas if d.model_extra.get("reasoning_content")]
    assert "".join(reasoning).startswith("Step0: ")
    assert len(reasoning) > 2  # the draft's tokens as the model writes them, not one block
    assert "".join(d.content or "" for d in deltas)  # the answer, or the solution when none was found
    mur = last.model_extra["mur"]
    assert 1 <= mur["steps"] <= SERVED["max_steps"]  # the served defaults apply
    assert last.usage.completion_tokens_details.reasoning_tokens == sum(mur["ledger"].values()) > 0
    assert last.usage.prompt_tokens > 0  # the local model reports its input tokens
    with pytest.raises(BadRequestError, match=r"invalid MUR setting gamma=2: must be a number in \(0, 1\]"):
        openai.chat.completions.create(
            model="mur", messages=[{"role": "user", "content": QUESTION}], extra_body={"gamma": 2}
        )
