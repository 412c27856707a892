"""`mur-graph serve` on the real SmolLM2-135M, driven by the `openai` SDK and LangChain's `ChatOpenAI`.

One server process for the module, with short limits. The model is weak: the tests check the
shape of what comes back (steps streamed as reasoning while generated, the answer, the usage
matching the ledger), not that the answer is right.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import free_port, stop, wait_until_up

pytestmark = pytest.mark.real_model

QUESTION = [{"role": "user", "content": "What is 17 + 25?"}]
LIMITS = ["--max-steps", "2", "--max-step-tokens", "16", "--candidates", "2", "--fallback-tokens", "8"]
LIMITS += ["--step-format", "prompted"]  # the format the streamed steps are checked in


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`mur-graph serve --model smollm2` on a free port; its /v1 URL."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("mur-graph")),
        *("serve", "--model", "smollm2", "--seed", "0", "--port", str(port), *LIMITS),
    ]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_up(process, f"{url}/models", log, "mur-graph serve")
        yield url
    finally:
        stop(process)


def test_the_openai_sdk_streams_each_step_as_it_is_generated(server):
    from openai import OpenAI

    client = OpenAI(base_url=server, api_key="unused", max_retries=0, timeout=300)
    chunks = list(
        client.chat.completions.create(
            model="mur-per-step", messages=QUESTION, stream=True, stream_options={"include_usage": True}
        )
    )
    *choices, last = chunks
    deltas = [chunk.choices[0].delta for chunk in choices]
    reasoning = [d.model_extra["reasoning_content"] for d in deltas if d.model_extra.get("reasoning_content")]
    text = "".join(reasoning)
    # per-step scales every step from step 0: the draft streams token by token, then the mark
    first_mark = next(i for i, part in enumerate(reasoning) if "⟳ step 0" in part)
    assert first_mark > 2 and text.startswith("Step0: ")
    assert "scaling with guided_search" in text and "⟳ kept #" in text
    mur = last.model_extra["mur"]
    assert mur["scaled"] == mur["steps"] >= 1
    assert mur["ledger"]["candidates"] > 0 and mur["ledger"]["critic"] > 0
    assert last.usage.completion_tokens == last.usage.completion_tokens_details.reasoning_tokens
    assert last.usage.completion_tokens == sum(mur["ledger"].values())
    assert choices[-1].choices[0].finish_reason in ("stop", "length")


def test_chat_openai_gets_the_answer_and_the_reasoning_tokens(server):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=server, api_key="unused", model="mur-cot", max_retries=0, timeout=300)
    message = llm.invoke("What is 17 + 25?")
    assert isinstance(message.content, str) and message.content
    usage = message.usage_metadata
    assert usage is not None and usage["output_tokens"] == usage["output_token_details"]["reasoning"] > 0
    assert usage["input_tokens"] > 0
