"""An evaluation process to kill: `python -m tests.e2e.eval_worker DATASET RESULTS`.

It runs the real runner and results file over DATASET with a steady scripted policy (each call
takes a few milliseconds and answers the number in the question), prints "ready" once it starts
solving, and exits 0 when every question is recorded.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from mur_graph import MURConfig, create_mur_graph
from mur_graph.eval.problems import load_problems
from mur_graph.eval.results import ResultsFile
from mur_graph.eval.runner import run_eval

CONFIG = MURConfig(mode="cot", max_steps=2)


class SteadyModel(BaseChatModel):
    """Answers "the answer is N" to "What is N?" after `delay` seconds."""

    delay: float = 0.15

    @property
    def _llm_type(self) -> str:
        return "steady"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        time.sleep(self.delay)
        number = re.search(r"What is (\d+)\?", " ".join(m.text for m in messages))
        text = f"the answer is {number.group(1) if number else 0}"
        content = [{"token": w, "logprob": -0.1, "top_logprobs": []} for w in text.split()]
        message = AIMessage(content=text, response_metadata={"logprobs": {"content": content}})
        return ChatResult(generations=[ChatGeneration(message=message)] * int(kw.get("n", 1)))


def main(dataset: str, out: str) -> int:
    problems, _ = load_problems(dataset)
    graph = create_mur_graph(SteadyModel(), config=CONFIG)
    with ResultsFile(Path(out)) as results:
        print("ready", flush=True)
        asyncio.run(run_eval(problems, graph, CONFIG, results, dataset="toy", concurrency=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
