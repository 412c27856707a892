"""The adapter reads ChatOpenAI-shaped generations and makes up for servers that ignore `n`."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables.config import ContextThreadPoolExecutor
from pydantic import Field

from mur_graph.models.contract import _call_kwargs, read_generation, sample
from mur_graph.models.openai_server import SESSION_HEADER, active_routing_session, routing_session

OPENAI_SHAPED = {
    "content": [
        {"token": " 4", "bytes": None, "logprob": -0.25, "top_logprobs": [{"token": " 4", "logprob": -0.25}]},
        {"token": "\n", "bytes": None, "logprob": -1.5, "top_logprobs": []},
    ],
    "refusal": None,
}


class OneSampleServer(BaseChatModel):
    """Like llama.cpp's server: ignores n and answers one sample per request."""

    requests: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "one-sample"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.requests.append(kwargs)
        message = AIMessage(
            content=f"sample {len(self.requests)}",
            response_metadata={"logprobs": OPENAI_SHAPED, "finish_reason": "stop"},
            usage_metadata={"input_tokens": 9, "output_tokens": 3, "total_tokens": 12},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def test_read_generation_takes_logprobs_and_the_servers_token_count():
    server = OneSampleServer()
    message = AIMessage(
        content=" 4",
        response_metadata={"logprobs": OPENAI_SHAPED, "finish_reason": "length"},
        usage_metadata={"input_tokens": 9, "output_tokens": 3, "total_tokens": 12},
    )
    gen = read_generation(server, ChatGeneration(message=message), single=True)
    assert gen.token_logprobs == (-0.25, -1.5)
    assert gen.n_tokens == 3  # the server counted an end token that has no log-prob entry
    assert gen.finish_reason == "length"
    assert gen.top_logprobs == ({" 4": -0.25}, {})
    several = read_generation(server, ChatGeneration(message=message), single=False)
    assert several.n_tokens == 2  # usage is summed over samples then; count the entries


def test_missing_samples_are_asked_for_in_further_calls_with_distinct_seeds():
    server = OneSampleServer()
    gens = sample(server, [HumanMessage("q")], n=3, max_tokens=5, temperature=0.6, seed=40)
    assert [g.text for g in gens] == ["sample 1", "sample 2", "sample 3"]
    assert [r["n"] for r in server.requests] == [3, 2, 1]
    assert [r["seed"] for r in server.requests] == [40, 41, 42]


def test_openai_compatible_models_get_logprobs_max_tokens_and_continuation():
    from langchain_openai import ChatOpenAI

    server = ChatOpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-local", model="m", logprobs=True)
    kwargs = _call_kwargs(server, [HumanMessage("q"), AIMessage("Step0:")], 4, 64, 0.6, 7, 5)
    assert kwargs["logprobs"] is True and kwargs["top_logprobs"] == 5 and kwargs["n"] == 4
    assert kwargs["extra_body"] == {
        "max_tokens": 64,
        "continue_final_message": True,
        "add_generation_prompt": False,
    }
    plain = _call_kwargs(server, [HumanMessage("q")], 1, 64, 0.6, None, 0)
    assert plain["extra_body"] == {"max_tokens": 64} and "seed" not in plain
    assert plain["top_logprobs"] == 0  # llama-cpp-python's server returns no log-probs without it
    assert "extra_headers" not in plain  # no routing session: no header


def test_requests_in_a_routing_session_carry_its_key_in_the_session_header():
    from langchain_openai import ChatOpenAI

    server = ChatOpenAI(base_url="http://127.0.0.1:9/v1", api_key="sk-local", model="m", logprobs=True)
    with routing_session("run-7"):
        assert active_routing_session() == "run-7"
        with ThreadPoolExecutor(1) as pool:  # a plain thread does not see the run's context
            assert pool.submit(active_routing_session).result() is None
        with ContextThreadPoolExecutor(1) as pool:  # sample_each's threads do
            assert pool.submit(active_routing_session).result() == "run-7"
        kwargs = _call_kwargs(server, [HumanMessage("q")], 1, 64, 0.6, 7, 5)
        assert kwargs["extra_headers"] == {SESSION_HEADER: "run-7"} == {"X-Session-ID": "run-7"}
        with routing_session(None):
            assert "extra_headers" not in _call_kwargs(server, [HumanMessage("q")], 1, 64, 0.6, 7, 5)
    assert active_routing_session() is None
    local = _call_kwargs(OneSampleServer(), [HumanMessage("q")], 1, 64, 0.6, 7, 5)
    assert "extra_headers" not in local  # a local model gets only the generation settings
