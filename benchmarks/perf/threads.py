"""llama.cpp decode and prompt-encoding speed of the 1.5B against its thread count (issue 29).

One `ChatLlamaCpp` per thread count, all in one process, arms interleaved (perf_common):
- decode tok/s = (T - 1) / (t(T greedy tokens) - t(1 token)), the prompt's encoding cancelling;
- encode tok/s = prompt tokens / t(1 token) on a ~256-token prompt, prefix reuse off, so each
  call encodes the whole prompt (in `PREFILL_CHUNK`-token batches, as every call does).
The load average is read before and after each repetition and written with the result: on a
shared machine a second thread waits at every barrier for a descheduled peer, so the figures mean
little without it.

    MUR_GRAPH_THREADS= PYTHONPATH=. python benchmarks/perf/threads.py --threads 1,2 --reps 5
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from langchain_core.messages import HumanMessage

from benchmarks.common import interleaved, median, table, write
from mur_graph.models import ChatLlamaCpp, ensure_qwen_gguf, usable_cores

DECODE_PROMPT = "Count from 1 to 200, separated by commas."
ENCODE_PROMPT = "Summarise this list in one word: " + ", ".join(f"item {i}" for i in range(60))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--tokens", type=int, default=32, help="greedy tokens of the long decode call")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    counts = [int(t) for t in args.threads.split(",")]
    path = str(ensure_qwen_gguf())
    loads: list[tuple[float, float, float]] = [os.getloadavg()]
    chats = {
        n: ChatLlamaCpp(model_path=path, n_threads=n, n_threads_batch=n, prefix_cache=False) for n in counts
    }
    first = chats[counts[0]]
    rendered = first.render_prompt([HumanMessage(ENCODE_PROMPT)]).encode()
    prompt_tokens = len(first.llama.tokenize(rendered, add_bos=False, special=True))

    def call(chat: ChatLlamaCpp, text: str, tokens: int) -> Callable[[], None]:
        def arm() -> None:
            chat.invoke([HumanMessage(text)], max_tokens=tokens, temperature=0)

        return arm

    arms: dict[str, Callable[[], None]] = {}
    for n, chat in chats.items():
        call(chat, DECODE_PROMPT, 2)()  # warm-up
        arms[f"{n}:decode1"] = call(chat, DECODE_PROMPT, 1)
        arms[f"{n}:decodeT"] = call(chat, DECODE_PROMPT, args.tokens)
        arms[f"{n}:encode"] = call(chat, ENCODE_PROMPT, 1)
    times: dict[str, list[float]] = {name: [] for name in arms}
    names = list(arms)
    for rep in range(args.reps):
        order = (
            names[rep * 3 % len(names) :] + names[: rep * 3 % len(names)]
        )  # a thread count's 3 arms together
        for name, seconds in interleaved({name: arms[name] for name in order}, 1).items():
            times[name] += seconds
        loads.append(os.getloadavg())
    rows = []
    for n in counts:
        decode = (args.tokens - 1) / (median(times[f"{n}:decodeT"]) - median(times[f"{n}:decode1"]))
        encode = prompt_tokens / median(times[f"{n}:encode"])
        rows.append({"threads": n, "decode_tok_per_s": decode, "encode_tok_per_s": encode})
    for row in rows:
        row["decode_vs_1"] = row["decode_tok_per_s"] / rows[0]["decode_tok_per_s"]
        row["encode_vs_1"] = row["encode_tok_per_s"] / rows[0]["encode_tok_per_s"]
    one_minute = [load[0] for load in loads]
    head = (
        f"qwen2.5-coder-1.5b on llama.cpp: decode of {args.tokens} greedy tokens and encoding of a "
        f"{prompt_tokens}-token prompt, {args.reps} interleaved repetitions; usable cores "
        f"{usable_cores()}; 1-minute load average {min(one_minute):.2f}-{max(one_minute):.2f} "
        f"(read before and after each repetition).\n\n"
    )
    payload = {
        "model": "qwen2.5-coder-1.5b",
        "tokens": args.tokens,
        "prompt_tokens": prompt_tokens,
        "reps": args.reps,
        "usable_cores": usable_cores(),
        "loadavg": loads,
        "rows": rows,
        "seconds": times,
    }
    write("threads_qwen2.5-coder-1.5b", payload, head + table(rows, list(rows[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
