"""N candidates of one step: one batched call (n=N) vs N sequential calls (n=1), embedded model.

Both arms use the same ChatTransformers settings, prefix reuse off, so that only batching differs
(with reuse on, the batched call also prefills the shared prompt once, see docs/performance.md);
the prompt is a MATH-500-style question with two kept steps. Interleaved repetitions, medians.

    PYTHONPATH=. python benchmarks/perf/candidates.py --n 4 --reps 5
"""

from __future__ import annotations

import argparse
import sys

import torch

from benchmarks.common import chat_generations, interleaved, median, table, usage, write
from mur_graph import ChatTransformers, load_embedded_model
from mur_graph.prompts import policy_messages, step_format

QUESTION = "A rectangle has a perimeter of 30 units and its length is twice its width. What is its area?"
KEPT = ["Step0: Let the width be w, so the length is 2w.", "Step1: The perimeter is 2(w + 2w) = 6w = 30."]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=4)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=24)
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    base = load_embedded_model()
    chat = ChatTransformers(llm=base.llm, model_name=base.model_name, prefix_cache=False)
    fmt = step_format("prompted")
    messages = policy_messages(QUESTION, KEPT, len(KEPT), fmt)
    settings = {"max_tokens": args.tokens, "temperature": 0.6, "stop": fmt.stops(len(KEPT))}
    tokens: dict[str, list[int]] = {"batched": [], "sequential": []}

    def batched() -> None:
        result = chat.generate([messages], n=args.n, seed=0, **settings)
        tokens["batched"].append(sum(usage(g.message)["output_tokens"] for g in chat_generations(result)))

    def sequential() -> None:
        total = 0
        for i in range(args.n):
            reply = chat.invoke(messages, n=1, seed=i, **settings)
            total += usage(reply)["output_tokens"]
        tokens["sequential"].append(total)

    chat.invoke(messages, max_tokens=2)  # warm-up
    times = interleaved({"batched": batched, "sequential": sequential}, args.reps)
    medians = {name: median(values) for name, values in times.items()}
    rows = [
        {
            "arm": name,
            "median_s": medians[name],
            "tokens_per_call_set": median(tokens[name]),
            "tok_per_s": median(tokens[name]) / medians[name],
        }
        for name in times
    ]
    speedup = medians["sequential"] / medians["batched"]
    markdown = (
        f"N = {args.n} candidates of one step, max {args.tokens} tokens each (temperature 0.6, step stop "
        f"strings; samples end at their own stop, so token counts differ a little between arms); "
        f"{args.reps} interleaved repetitions; torch threads: {torch.get_num_threads()}.\n\n"
        f"- batched speed-up (sequential / batched wall time, medians): **{speedup:.2f}×**\n\n"
        + table(rows, ["arm", "median_s", "tokens_per_call_set", "tok_per_s"])
    )
    payload = {"settings": vars(args), "times_s": times, "tokens": tokens, "speedup": speedup}
    suffix = f"_threads{args.threads}" if args.threads else ""
    write(f"candidates_n{args.n}{suffix}", payload, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
