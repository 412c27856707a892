"""Decode throughput: ChatTransformers vs a raw `model.generate` on the same prompts, embedded model.

Both arms decode greedily from the same token ids with the same number of new tokens (the raw
arm generates exactly as many as ChatTransformers did, so the token streams are identical).
ChatTransformers additionally asks generate for the logits, computes raw log-probs and decodes
each token, which is what this ratio prices. Prefix reuse is off (each call re-encodes, as raw
generate does). Interleaved repetitions, medians.

    PYTHONPATH=. python benchmarks/perf/throughput.py --tokens 64 --reps 5
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import torch
from langchain_core.messages import HumanMessage

from benchmarks.common import interleaved, median, table, usage, write
from mur_graph import ChatTransformers, load_embedded_model

PROMPT = "Count from 1 to 200, separated by commas."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)

    base = load_embedded_model()
    chat = ChatTransformers(llm=base.llm, model_name=base.model_name, prefix_cache=False)
    model, tokenizer = base.llm.pipeline.model, base.tokenizer
    messages = [HumanMessage(PROMPT)]
    ids = tokenizer(chat.render_prompt(messages), return_tensors="pt", add_special_tokens=False).input_ids
    counts: dict[str, list[int]] = {"chat_transformers": [], "raw_generate": []}

    def ours() -> None:
        reply = chat.invoke(messages, max_tokens=args.tokens, temperature=0)
        counts["chat_transformers"].append(usage(reply)["output_tokens"])

    chat.invoke(messages, max_tokens=2)  # warm-up
    ours()
    new_tokens = counts["chat_transformers"].pop()

    def raw() -> None:
        with torch.inference_mode():
            out = model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.eos_token_id,
            )
        counts["raw_generate"].append(out.shape[1] - ids.shape[1])

    times = interleaved({"chat_transformers": ours, "raw_generate": raw}, args.reps)
    rows: list[dict[str, Any]] = [
        {
            "arm": name,
            "median_s": median(values),
            "new_tokens": median(counts[name]),
            "tok_per_s": median(counts[name]) / median(values),
        }
        for name, values in times.items()
    ]
    ratio = rows[0]["tok_per_s"] / rows[1]["tok_per_s"]
    markdown = (
        f"Prompt of {ids.shape[1]} tokens, {new_tokens} new tokens per call (greedy), batch 1; "
        f"{args.reps} interleaved repetitions.\n\n"
        f"- ChatTransformers throughput / raw generate throughput: **{ratio:.1%}**\n\n"
        + table(rows, ["arm", "median_s", "new_tokens", "tok_per_s"])
    )
    payload = {"settings": vars(args), "prompt_tokens": ids.shape[1], "times_s": times, "ratio": ratio}
    write("throughput", payload, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
