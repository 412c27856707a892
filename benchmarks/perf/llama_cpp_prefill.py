"""How llama.cpp's batching changes logits and speed: the measurements behind `PREFILL_CHUNK`.

Three measurements on one GGUF (default: the 1.5B), with the low-level llama.cpp API that
`ChatLlamaCpp` uses:
- **exactness**: a prompt encoded in two pieces, cut at various token counts, against the same
  prompt encoded whole: max |Δ| of the last position's logits. Then the same with `ChatLlamaCpp`'s
  scheme (chunks of `PREFILL_CHUNK` at multiples of it, the reused head cut back to one).
- **prefill speed** per chunk size (tokens per second over a 512-token prompt), interleaved.
- **batched candidates**: N sequences decoded in one llama.cpp batch per token against N decoded
  one after another (tokens per second), interleaved.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/perf/llama_cpp_prefill.py --reps 2

`--threads-compare` instead times 32-token chunks against 512-token batches with 1 and 2 prompt
threads (run it idle and beside a busy process), and checks that the thread count changes no
logit (llama_cpp_prefill_threads.json / .md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import interleaved, median, table, write
from mur_graph.models.llama_cpp import PREFILL_CHUNK
from mur_graph.models.qwen import qwen_gguf_path

TEXT = (
    "<|im_start|>user\nSolve step by step. What is the remainder when 2^100 is divided by 7? "
    "Show every step and check your work carefully. Then explain. "
) * 14


class Context:
    """One llama.cpp context for N sequences, driven batch by batch."""

    def __init__(self, path: str, threads: int, sequences: int) -> None:
        import llama_cpp
        from llama_cpp import Llama
        from llama_cpp import _internals as internals

        self.api = llama_cpp
        self.llm = Llama(
            model_path=path, n_ctx=4096, n_threads=threads, n_threads_batch=threads, verbose=False
        )
        params = self.llm.context_params
        params.n_seq_max, params.kv_unified = sequences, True
        self.ctx = internals.LlamaContext(model=self.llm._model, params=params, verbose=False)
        self.batch = internals.LlamaBatch(n_tokens=512, embd=0, n_seq_max=sequences, verbose=False)
        self.memory = llama_cpp.llama_get_memory(self.ctx.ctx)
        self.n_vocab = self.llm.n_vocab()

    def tokens(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode(), add_bos=False, special=True))

    def clear(self, seq: int = -1, start: int = 0) -> None:
        self.api.llama_memory_seq_rm(self.memory, seq, start, -1)

    def encode(self, ids: list[int], start: int, seq: int = 0) -> None:
        """Encode `ids` at positions start… in one batch (logits of the last only)."""
        b = self.batch.batch
        b.n_tokens = len(ids)
        for i, token in enumerate(ids):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, start + i, 1, False
            b.seq_id[i][0] = seq
        b.logits[len(ids) - 1] = True
        self.ctx.decode(self.batch)

    def step(self, tokens: list[int], position: int) -> list[np.ndarray]:
        """Decode one token per sequence in one batch; return each sequence's logits."""
        b = self.batch.batch
        b.n_tokens = len(tokens)
        for s, token in enumerate(tokens):
            b.token[s], b.pos[s], b.n_seq_id[s], b.logits[s] = token, position, 1, True
            b.seq_id[s][0] = s
        self.ctx.decode(self.batch)
        return [self.logits(s) for s in range(len(tokens))]

    def step_one(self, token: int, position: int, seq: int) -> np.ndarray:
        """Decode one token of sequence `seq` alone; return its logits."""
        b = self.batch.batch
        b.n_tokens, b.token[0], b.pos[0], b.n_seq_id[0], b.logits[0] = 1, token, position, 1, True
        b.seq_id[0][0] = seq
        self.ctx.decode(self.batch)
        return self.logits(0)

    def logits(self, row: int = -1) -> np.ndarray:
        pointer = self.api.llama_get_logits_ith(self.ctx.ctx, row)
        return np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)).astype(np.float64)


def encode_in(context: Context, ids: list[int], cuts: list[int]) -> np.ndarray:
    """Encode `ids` from an empty cache in pieces ending at `cuts`; the last position's logits."""
    context.clear()
    for start, end in zip([0, *cuts], [*cuts, len(ids)], strict=True):
        if end > start:
            context.encode(ids[start:end], start)
    return context.logits()


def chunked(ids: list[int], keep: int, chunk: int) -> list[int]:
    """The cuts `ChatLlamaCpp` makes: chunks at multiples of `chunk`, the reused head one of them."""
    return sorted({*range(chunk, len(ids), chunk), keep // chunk * chunk} - {0})


def prefill_arm(context: Context, ids: list[int], size: int) -> Callable[[], np.ndarray]:
    """A timed arm: encode `ids` from an empty cache in chunks of `size`."""
    return lambda: encode_in(context, ids, chunked(ids, 0, size))


def exactness(context: Context) -> list[dict[str, Any]]:
    rows = []
    everything = context.tokens(TEXT)
    for length in (61, 203, 480):
        ids = everything[:length]
        whole = encode_in(context, ids, [])
        reference = encode_in(context, ids, chunked(ids, 0, PREFILL_CHUNK))
        for keep in sorted({8, 13, 56, 60, length - 3, length - 1}):  # 61 - 1 is 60 again
            split = encode_in(context, ids, [keep])
            aligned = encode_in(context, ids, chunked(ids, keep, PREFILL_CHUNK))
            rows.append(
                {
                    "prompt tokens": length,
                    "reused tokens": keep,
                    "two pieces vs whole": float(np.abs(split - whole).max()),
                    f"chunks of {PREFILL_CHUNK}, reused vs fresh": float(np.abs(aligned - reference).max()),
                }
            )
    return rows


def prefill_speed(context: Context, reps: int) -> list[dict[str, Any]]:
    ids = context.tokens(TEXT)[:512]
    sizes = (512, 64, 32, 16, 8)
    arms = {str(size): prefill_arm(context, ids, size) for size in sizes}
    times = interleaved(arms, reps)
    fastest = len(ids) / median(times["512"])
    return [
        {
            "chunk": size,
            "tok/s": len(ids) / median(times[str(size)]),
            "vs 512": len(ids) / median(times[str(size)]) / fastest,
        }
        for size in sizes
    ]


def batched_candidates(path: str, threads: int, reps: int) -> list[dict[str, Any]]:
    return [_batched(Context(path, threads, n), n, reps) for n in (4, 8)]


def _batched(context: Context, n: int, reps: int, tokens: int = 32) -> dict[str, Any]:
    """`tokens` tokens for each of n sequences after one shared 200-token prompt, both ways."""
    prompt = context.tokens(TEXT)[:200]
    context.clear()
    context.encode(prompt, 0)
    for s in range(1, n):
        context.api.llama_memory_seq_cp(context.memory, 0, s, -1, -1)

    def together() -> None:
        for t in range(tokens):
            context.step([100 + s + t for s in range(n)], len(prompt) + t)
        context.clear(start=len(prompt))

    def one_after_another() -> None:
        for s in range(n):
            for t in range(tokens):
                context.step_one(100 + s + t, len(prompt) + t, s)
            context.clear(seq=s, start=len(prompt))

    times = interleaved({"one batch": together, "one after another": one_after_another}, reps)
    made = n * tokens
    return {
        "N": n,
        "one batch tok/s": made / median(times["one batch"]),
        "one after another tok/s": made / median(times["one after another"]),
        "speed-up": median(times["one after another"]) / median(times["one batch"]),
    }


def threads_compare(path: str, reps: int) -> int:
    """Prefill speed of 32-token chunks and of 512-token batches with 1 and 2 threads."""
    contexts = {threads: Context(path, threads, 1) for threads in (1, 2)}
    ids = contexts[1].tokens(TEXT)[:512]
    logits = {t: encode_in(c, ids, chunked(ids, 0, PREFILL_CHUNK)) for t, c in contexts.items()}
    arms = {
        f"{threads} thread(s), chunk {size}": prefill_arm(context, ids, size)
        for threads, context in contexts.items()
        for size in (512, PREFILL_CHUNK)
    }
    times = interleaved(arms, reps)
    rows = [{"arm": name, "tok/s": len(ids) / median(times[name])} for name in arms]
    same = float(np.abs(logits[1] - logits[2]).max())
    markdown = f"Max |Δ logit| between 1 and 2 threads: {same:g}.\n\n" + table(rows, ["arm", "tok/s"])
    write(
        "llama_cpp_prefill_threads", {"model": Path(path).name, "rows": rows, "thread_diff": same}, markdown
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--gguf", default=None, help="GGUF file (default: the 1.5B, mur-graph models install)"
    )
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (default 1)")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--threads-compare", action="store_true", help="1 vs 2 prompt threads only")
    args = parser.parse_args()
    path = args.gguf or str(qwen_gguf_path())
    if args.threads_compare:
        return threads_compare(path, args.reps)
    context = Context(path, args.threads, 1)
    exact = exactness(context)
    speed = prefill_speed(context, args.reps)
    batched = batched_candidates(path, args.threads, args.reps)
    markdown = "\n".join(
        [
            f"Model: {Path(path).name}, {args.threads} thread(s), {args.reps} interleaved repetitions.\n",
            "Max |Δ logit| at the last prompt position:\n",
            table(exact, list(exact[0])),
            "Prefill speed per chunk size (512-token prompt):\n",
            table(speed, list(speed[0])),
            "N candidates decoded in one batch per token vs one after another (32 tokens each):\n",
            table(batched, list(batched[0])),
        ]
    )
    write(
        "llama_cpp_prefill",
        {
            "model": Path(path).name,
            "threads": args.threads,
            "exactness": exact,
            "prefill": speed,
            "batched": batched,
        },
        markdown,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
