"""Agreement of ChatLlamaCpp and ChatTransformers on the same GGUF: greedy tokens and log-probs.

llama.cpp computes on the quantised blocks, transformers on the de-quantised weights (fp32), so
log-probs differ a little and a near-tie can flip a greedy token. For each question: whether the
greedy tokens are identical, how many agree from the start, and mean / max |Δ log-prob| over them.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/checks/agree_backends.py --model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from langchain_core.outputs import ChatGeneration

from benchmarks.common import chat_generations, table, write
from mur_graph.models import ChatLlamaCpp, ChatTransformers
from mur_graph.models.embedded import find_embedded_gguf
from mur_graph.models.qwen import ensure_qwen_gguf
from mur_graph.prompts import policy_messages, step_format

QUESTIONS = ("What is 17 + 25?", "What is 6 * 7?", "Solve 2x + 3 = 11.")
GGUFS = {"smollm2": find_embedded_gguf, "qwen2.5-coder-1.5b": ensure_qwen_gguf}


def token_ids(generation: ChatGeneration) -> list[int]:
    """The generated token ids, which both backends put in `generation_info`."""
    if generation.generation_info is None:
        msg = f"{type(generation).__name__} without generation_info: no token ids to compare"
        raise TypeError(msg)
    return generation.generation_info["token_ids"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=list(GGUFS), default="smollm2")
    parser.add_argument("--tokens", type=int, default=24)
    args = parser.parse_args(argv)
    path = GGUFS[args.model]()
    torch.set_num_threads(1)
    ours = ChatLlamaCpp(model_path=str(path))
    theirs = ChatTransformers.from_model_id(
        str(path.parent), gguf_file=path.name, model_kwargs={"dtype": torch.float32}, prefix_cache=False
    )
    fmt = step_format("prompted")
    rows = []
    for question in QUESTIONS:
        messages = policy_messages(question, [], 0, fmt)
        a, b = (
            chat_generations(m.generate([messages], max_tokens=args.tokens, temperature=0))[0]
            for m in (ours, theirs)
        )
        ids_a, ids_b = token_ids(a), token_ids(b)
        pairs = zip(ids_a, ids_b, strict=False)
        same = next((i for i, (x, y) in enumerate(pairs) if x != y), min(len(ids_a), len(ids_b)))
        lp_a, lp_b = (
            np.array([e["logprob"] for e in g.message.response_metadata["logprobs"]["content"]][:same])
            for g in (a, b)
        )
        delta = np.abs(lp_a - lp_b)
        rows.append(
            {
                "question": question,
                "identical": ids_a == ids_b,
                "agreeing_tokens": f"{same}/{len(ids_a)}",
                "mean_abs_delta": float(delta.mean()),
                "max_abs_delta": float(delta.max()),
            }
        )
    head = f"{args.model}: greedy, {args.tokens} tokens after the step-0 prompt, transformers in fp32.\n\n"
    write(f"agreement_{args.model}", {"model": args.model, "rows": rows}, head + table(rows, list(rows[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
