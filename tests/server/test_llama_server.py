"""mur-graph through `ChatOpenAI(logprobs=True)` against a real llama.cpp server on 127.0.0.1.

Only what is particular to llama-cpp-python's server: its log-prob shape (the chosen token among
the top log-probs), `max_tokens` read from the body (it ignores `max_completion_tokens`), `n`
ignored (the rest asked for with further seeds), seeded requests reproducible from the same
prompt-cache state, and a prefilled assistant turn accepted though not continued. MUR, the CLI,
evaluations and server faults run against a real vLLM server in `tests/vllm/`.
"""

import json
import math

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_openai import ChatOpenAI

from mur_graph.models.contract import sample
from tests.server.conftest import MODEL, LlamaServer

pytestmark = pytest.mark.server


def client(server: LlamaServer, **kwargs) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=server.url, api_key="EMPTY", model=MODEL, logprobs=True, timeout=60, max_retries=1, **kwargs
    )


def ask(text: str) -> list:
    return [HumanMessage(text)]


def test_the_server_returns_chat_logprobs_in_openais_shape(llama_server):
    (gen,) = sample(
        client(llama_server), ask("What is 2 + 2?"), max_tokens=8, temperature=0.0, top_logprobs=3
    )
    assert gen.text and 1 <= len(gen.token_logprobs) <= 8
    assert all(math.isfinite(lp) and lp <= 0.0 for lp in gen.token_logprobs)
    assert all(1 <= len(top) <= 4 for top in gen.top_logprobs)  # 3 asked for, plus the chosen token
    assert gen.finish_reason in ("stop", "length")
    assert gen.n_tokens >= len(gen.token_logprobs)


def test_max_tokens_is_honoured_and_a_cut_sample_says_length(llama_server):
    (gen,) = sample(
        client(llama_server), ask("Count from 1 to 100, separated by commas."), max_tokens=5, temperature=0.0
    )
    assert len(gen.token_logprobs) == 5 and gen.finish_reason == "length"


def recording_client(server: LlamaServer) -> tuple[ChatOpenAI, list[dict]]:
    """A client whose request bodies are recorded, to check what was really sent."""
    bodies: list[dict] = []

    def record(request: httpx.Request) -> None:
        bodies.append(json.loads(request.content))

    http = httpx.Client(event_hooks={"request": [record]}, timeout=60)
    return client(server, http_client=http), bodies


def test_the_server_ignores_n_so_samples_are_asked_for_one_by_one_with_distinct_seeds(llama_server):
    server, bodies = recording_client(llama_server)
    gens = sample(server, ask("Name a colour."), n=2, max_tokens=4, temperature=1.0, seed=11)
    assert len(gens) == 2 and all(g.token_logprobs for g in gens)
    # The first request asks for both; the server returns one, so the second asks for the rest
    # with the next seed (a repeat of seed 11 would return the same sample again).
    assert [(b["n"], b["seed"]) for b in bodies] == [(2, 11), (1, 12)]


def test_a_seeded_request_is_reproducible_from_the_same_prompt_cache_state(llama_server):
    # What llama.cpp's server guarantees (docs/reliability.md): it keeps the last request's
    # tokens and evaluates only what follows the longest common prefix, at least the prompt's
    # last token. A prompt suffix evaluated as a batch and a last token evaluated alone go
    # through other kernels and give other logits (first-token log-probs 0.003 to 0.13 apart
    # over 25 seeds), so at temperature 1 a request on a cold cache drew another text than its
    # repeat for 22 of those 25 seeds ('The color I am' against 'The color I mentioned' in a
    # red CI run), and repeats from the same cache state never differed. So: warm the cache
    # with the prompt, then the same seed twice must give the same text.
    server = client(llama_server)
    messages = ask("Name a colour.")
    sample(server, messages, max_tokens=4, temperature=1.0, seed=5)
    (first,) = sample(server, messages, max_tokens=4, temperature=1.0, seed=11)
    (again,) = sample(server, messages, max_tokens=4, temperature=1.0, seed=11)
    assert again.text == first.text, "a seeded request from the same cache state is reproducible"
    assert again.token_logprobs == pytest.approx(first.token_logprobs, abs=1e-6)


def test_a_prefilled_assistant_turn_is_accepted(llama_server):
    # llama-cpp-python's server ignores continue_final_message: it closes the prefilled turn and
    # opens a new one (docs/reliability.md). The request must still work and carry log-probs.
    messages = [HumanMessage("What is 17 + 25? Answer in steps."), AIMessage("Step0:")]
    (gen,) = sample(client(llama_server), messages, max_tokens=8, temperature=0.0)
    assert gen.token_logprobs and all(lp <= 0.0 for lp in gen.token_logprobs)
