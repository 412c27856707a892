r"""Greedy and never scaled, natural-format steps write what the model writes in one call.

On SmolLM2, whose pre-tokeniser reads a prompt ending in a blank line as one `\n\n` token where
the model writes two `\n`, each step used to part from the plain model's text at the first
paragraph break; `tokenize_open_end` cuts the prompt's end as the model wrote it.
"""

import pytest

from mur_graph import MURConfig, create_mur_graph
from mur_graph.models import ChatLlamaCpp
from mur_graph.models.embedded import find_embedded_gguf

pytestmark = pytest.mark.real_model

QUESTION = "What is 17 + 25?"


@pytest.fixture(scope="module")
def llama() -> ChatLlamaCpp:
    return ChatLlamaCpp(model_path=str(find_embedded_gguf()))


@pytest.mark.parametrize("backend", ["llama.cpp", "transformers"])
def test_greedy_natural_cot_follows_the_plain_model_past_its_paragraph_breaks(backend, llama, embedded):
    model = llama if backend == "llama.cpp" else embedded
    plain = create_mur_graph(model, config=MURConfig(mode="plain", temperature=0.0, plain_tokens=200))
    cot = create_mur_graph(
        model, config=MURConfig(mode="cot", temperature=0.0, max_steps=6, max_step_tokens=200)
    )
    written = plain.invoke({"question": QUESTION})["solution"]
    state = cot.invoke({"question": QUESTION})
    steps = [step["text"] for step in state["steps"]]

    assert written.count("\n\n") >= 2 and len(steps) >= 3, "paragraphs for the steps to follow"
    # The first three paragraphs are the plain model's own, blank lines included.
    assert written.startswith("\n\n".join(steps[:3]) + "\n\n")
