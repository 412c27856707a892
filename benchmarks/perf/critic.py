"""The N critic verdicts of one scaled step: asked one after another vs concurrently, embedded model.

Both arms call `mur_graph.models.contract.sample_each` as guided search does (greedy verdicts
of `critic_tokens` = 8 tokens, 10 top log-probs, one seed per candidate): `concurrency=1`
(sequential, the default for a local model) and `concurrency=N` (the default against a server).
The model is the embedded one with its default settings (prefix reuse on). Every arm and
repetition gets its own question text, so no arm reuses the KV cache another one stored (within
one set of N verdicts, reuse is what the arm achieves).
Arms interleaved, medians; then both arms score the same prompts from an empty prefix store and
their P(Yes) are compared.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/perf/critic.py --n 4 --reps 5
"""

from __future__ import annotations

import argparse
import sys
from functools import partial

import torch

from benchmarks.common import interleaved, median, table, write
from mur_graph import load_embedded_model
from mur_graph.config import MURConfig
from mur_graph.models.contract import sample_each
from mur_graph.prompts import critic_messages, step_format
from mur_graph.scaling.critics import CRITIC_TOP_LOGPROBS
from mur_graph.scoring import yes_probability

QUESTION = "A rectangle has a perimeter of 30 units and its length is twice its width. What is its area?"
KEPT = ["Step0: Let the width be w, so the length is 2w.", "Step1: The perimeter is 2(w + 2w) = 6w = 30."]
CANDIDATES = [
    "So w = 5 and the length is 10, the area is 50.",
    "Then w = 5, so the area is 5 * 10 = 50. The answer is 50.",
    "Dividing by 6 gives w = 6, so the area is 72.",
    "The width is 5 units and the length is 10 units.",
    "So w = 30 / 6 = 5.",
    "The area is w * 2w = 2w^2.",
    "Thus the rectangle is 5 by 10.",
    "Area = 50 square units.",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=4, help="candidates (verdicts) per step")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    if not 1 <= args.n <= len(CANDIDATES):
        parser.error(f"--n must be in 1..{len(CANDIDATES)}")

    chat = load_embedded_model()
    config = MURConfig(step_format="prompted")  # its figures' format (the default until issue 26)
    fmt = step_format(config.step_format)
    arms = {"sequential": 1, "concurrent": args.n}
    scores: dict[str, list[list[float | None]]] = {arm: [] for arm in arms}
    tokens: dict[str, list[int]] = {arm: [] for arm in arms}
    rep = dict.fromkeys(arms, 0)

    def verdicts(arm: str) -> None:
        concurrency = arms[arm]
        # Each arm and repetition its own question, so no arm reuses another's cache (-1: shared).
        question = f"(Problem {arm if rep[arm] >= 0 else ''}{rep[arm]}) {QUESTION}"
        rep[arm] += 1
        prompts = [critic_messages(question, KEPT, c, fmt) for c in CANDIDATES[: args.n]]
        found = sample_each(
            chat,
            prompts,
            seeds=list(range(args.n)),
            concurrency=concurrency,
            max_tokens=config.critic_tokens,
            temperature=0.0,
            top_logprobs=CRITIC_TOP_LOGPROBS,
        )
        result = [g for g in found if g is not None]  # every prompt fits: none is None
        scores[arm].append([yes_probability(g.top_logprobs) for g in result])
        tokens[arm].append(sum(g.n_tokens for g in result))

    chat.invoke(QUESTION, max_tokens=2)  # warm-up
    times = interleaved({arm: partial(verdicts, arm) for arm in arms}, args.reps)
    medians = {name: median(values) for name, values in times.items()}
    speedups = {arm: medians["sequential"] / medians[arm] for arm in arms}
    # Same prompts in every arm, each starting from an empty prefix store: are the scores equal?
    same: dict[str, list[float | None]] = {}
    for arm in arms:
        if chat.prefix_store is not None:
            chat.prefix_store.clear()
        rep[arm] = -1
        verdicts(arm)
        same[arm] = scores[arm].pop()
        tokens[arm].pop()
    gap = max(
        abs(a - b)
        for arm in arms
        for a, b in zip(same["sequential"], same[arm], strict=True)
        if a is not None and b is not None
    )
    rows = [
        {
            "arm": name,
            "median_s": medians[name],
            "speedup": speedups[name],
            "verdict_tokens": median(tokens[name]),
        }
        for name in times
    ]
    markdown = (
        f"N = {args.n} greedy critic verdicts of one step ({config.critic_tokens} tokens max, "
        f"{CRITIC_TOP_LOGPROBS} top log-probs), embedded model, prefix reuse on; {args.reps} interleaved "
        f"repetitions; torch threads per call: {torch.get_num_threads()}.\n\n"
        f"- concurrent speed-up (sequential / concurrent wall time, medians): "
        f"**{speedups['concurrent']:.2f}×**\n"
        f"- largest |ΔP(Yes)| between the arms on the same prompts: {gap:.2g}\n\n"
        + table(rows, ["arm", "median_s", "speedup", "verdict_tokens"])
    )
    payload = {
        "settings": vars(args) | {"torch_threads": torch.get_num_threads()},
        "times_s": times,
        "tokens": tokens,
        "p_yes": scores,
        "p_yes_same_prompts": same,
        "max_p_yes_gap": gap,
        "speedups": speedups,
    }
    write(f"critic_n{args.n}", payload, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
