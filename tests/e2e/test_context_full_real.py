"""On the real SmolLM2 with a small context, a long solve ends when its context is full.

Before, the step whose prompt no longer fitted raised `ContextLengthError` and the run was lost.
"""

from functools import reduce

import pytest

from mur_graph import MURConfig, create_mur_graph
from mur_graph.ledger import add_ledgers, empty_ledger
from mur_graph.models import ChatLlamaCpp
from mur_graph.models.embedded import find_embedded_gguf

pytestmark = pytest.mark.real_model

LONG = "List the first forty prime numbers, then explain for each one why it is prime."
CONTEXT = 256


@pytest.fixture(scope="module")
def small_context() -> ChatLlamaCpp:
    return ChatLlamaCpp(model_path=str(find_embedded_gguf()), n_ctx=CONTEXT)


@pytest.mark.parametrize(("mode", "critic_kind"), [("cot", "generative"), ("per_step", "generative")])
def test_a_solve_longer_than_the_context_stops_there_with_its_steps(small_context, mode, critic_kind):
    config = MURConfig(mode=mode, temperature=0.0, max_steps=40, max_step_tokens=48, candidates=2)
    graph = create_mur_graph(small_context, config=config, method_settings={"critic_kind": critic_kind})
    state = graph.invoke({"question": LONG})

    assert state["stop_reason"] == "context_full"
    assert len(state["steps"]) >= 2 and state["solution"]
    # every token spent is in the ledger: the steps' own, the verdicts given near the end included
    assert reduce(add_ledgers, (step["tokens"] for step in state["steps"]), empty_ledger()) == state["ledger"]
    assert (state["ledger"]["critic"] > 0) == (mode == "per_step")
