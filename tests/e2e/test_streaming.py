"""Token streaming on the real embedded model, alone and as `graph.stream(stream_mode="messages")`."""

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from mur_graph import create_mur_graph, paper_config

pytestmark = pytest.mark.real_model

QUESTION = "What is 17 + 25?"
CONFIG = paper_config(
    "guided_search", seed=0, max_steps=2, max_step_tokens=10, candidates=2, fallback_tokens=6
)


def test_the_graph_streams_the_policys_tokens_with_logprobs_and_solves_as_invoke_does(embedded):
    graph = create_mur_graph(embedded, config=CONFIG)
    chunks, final = [], None
    for mode, payload in graph.stream({"question": QUESTION}, stream_mode=["messages", "values"]):
        if mode == "messages":
            chunks.append(payload)
        else:
            final = payload
    steps = [c for c, meta in chunks if meta["langgraph_node"] == "generate_step"]
    assert sum(1 for c in steps if c.content) > 3  # token by token, not one message per call
    for chunk in steps:  # every chunk carries its tokens' OpenAI-shaped log-prob entries
        entries = chunk.response_metadata["logprobs"]["content"]
        assert all(e["logprob"] <= 0 for e in entries)
        assert chunk.content == "" or entries
    assert sum(1 for c in steps if c.chunk_position == "last") == len({c.id for c in steps})
    # the tokens streamed for the first step add up to the step the graph recorded
    first_run = steps[0].id
    streamed = "".join(c.content for c in steps if c.id == first_run)
    assert streamed.strip() == final["steps"][0]["draft"]
    # streaming changes nothing: the same seeded run without it gives the same steps and ledger
    plain = graph.invoke({"question": QUESTION})
    assert [s["text"] for s in plain["steps"]] == [s["text"] for s in final["steps"]]
    assert plain["ledger"] == final["ledger"]


def test_a_streamed_step_stops_before_the_next_header_and_never_shows_part_of_it(embedded):
    prompt = [HumanMessage("Q: What is 17 + 25?\nStart each step with 'Step<k>:'."), AIMessage("Step0:")]
    kwargs = {"stop": ["Step1:"], "max_tokens": 60, "temperature": 0.6, "seed": 1}
    whole = embedded.invoke(prompt, **kwargs)
    shown, entries = "", []
    for chunk in embedded.stream(prompt, **kwargs):
        shown += chunk.content
        entries += chunk.response_metadata["logprobs"]["content"]
        assert whole.content.startswith(shown)
    assert shown == whole.content and "Step1" not in shown
    assert len(entries) == whole.usage_metadata["output_tokens"]
