"""Decode speed at batch 1 as a fraction of the memory-bandwidth bound, per backend and model.

Arms (each greedy, the same prompt, log-probs of every token returned):
- `llama_cpp`: `ChatLlamaCpp` (mur-graph's own step loop over llama.cpp's last logits row);
- `llama_cpp_logits_all`: llama-cpp-python's high-level API, `Llama(logits_all=True)` with
  `create_completion(logprobs=1)`, the way llama-cpp-python itself returns log-probs;
- `transformers_bf16`, `transformers_fp32`: `ChatTransformers` on the same GGUF, de-quantised.

Decode tok/s = (T - 1) / (t(T tokens) - t(1 token)): the prompt's encoding is in both calls and
cancels. The bound is the read bandwidth (a numpy sum over 256 MB, measured in the same run)
divided by the weight bytes read per token (every tensor but the input embedding, of which one row
is read; all of it when the output layer is tied to it). Arms are interleaved, medians reported.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/perf/decode.py --model qwen2.5-coder-1.5b --reps 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.messages import HumanMessage

from benchmarks.common import interleaved, median, table, usage, write
from mur_graph.models import ChatLlamaCpp, ChatTransformers
from mur_graph.models.embedded import find_embedded_gguf
from mur_graph.models.qwen import ensure_qwen_gguf

PROMPT = "Count from 1 to 200, separated by commas."
ARMS = ("llama_cpp", "llama_cpp_logits_all", "transformers_bf16", "transformers_fp32")
GGUFS: dict[str, Callable[[], Path]] = {"smollm2": find_embedded_gguf, "qwen2.5-coder-1.5b": ensure_qwen_gguf}


def bandwidth_gbs(reps: int = 5) -> float:
    """Read bandwidth: the best of `reps` numpy sums over a 256 MB float32 array, in GB/s."""
    data = np.ones(64 * 2**20, dtype=np.float32)
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        data.sum()
        best = min(best, time.perf_counter() - started)
    return data.nbytes / best / 1e9


def gguf_bytes_per_token(path: Path) -> int:
    """Bytes of the GGUF's tensors read per decoded token (the input embedding only when tied)."""
    from gguf import GGUFReader

    tensors = {t.name: int(t.n_bytes) for t in GGUFReader(str(path)).tensors}
    if "output.weight" in tensors:
        tensors.pop("token_embd.weight", None)
    return sum(tensors.values())


def torch_bytes_per_token(model: object) -> int:
    """Bytes of the parameters read per token (the input embedding only when tied)."""
    params = {id(p): p for p in model.parameters()}  # type: ignore[attr-defined]
    embed = model.get_input_embeddings().weight  # type: ignore[attr-defined]
    tied = model.get_output_embeddings().weight is embed  # type: ignore[attr-defined]
    return sum(p.numel() * p.element_size() for k, p in params.items() if tied or k != id(embed))


def build_arms(
    name: str, path: Path, arms: list[str], threads: int
) -> dict[str, tuple[Callable[[int], int], int]]:
    """Each arm as (call(max_tokens) -> generated tokens, weight bytes per token)."""
    import torch

    messages = [HumanMessage(PROMPT)]
    built: dict[str, tuple[Callable[[int], int], int]] = {}
    gguf_bytes = gguf_bytes_per_token(path)
    ours = ChatLlamaCpp(model_path=str(path), n_threads=threads, prefix_cache=False)
    if "llama_cpp" in arms:

        def run_ours(tokens: int) -> int:
            reply = ours.invoke(messages, max_tokens=tokens, temperature=0)
            return int(usage(reply)["output_tokens"])

        built["llama_cpp"] = (run_ours, gguf_bytes)
    if "llama_cpp_logits_all" in arms:
        from llama_cpp import Llama

        high = Llama(model_path=str(path), n_ctx=512, n_threads=threads, logits_all=True, verbose=False)
        prompt = ours.render_prompt(messages)

        def run_high(tokens: int) -> int:
            high.reset()  # no prefix reuse, like the other arms
            out = high.create_completion(prompt, max_tokens=tokens, temperature=0, logprobs=1)
            if not isinstance(out, dict):  # a stream only with stream=True
                msg = f"create_completion returned {type(out).__name__}, not a completion"
                raise TypeError(msg)
            return int(out["usage"]["completion_tokens"])

        built["llama_cpp_logits_all"] = (run_high, gguf_bytes)
    for arm, dtype in (("transformers_bf16", torch.bfloat16), ("transformers_fp32", torch.float32)):
        if arm not in arms:
            continue
        torch.set_num_threads(threads)
        chat = ChatTransformers.from_model_id(
            str(path.parent), gguf_file=path.name, model_kwargs={"dtype": dtype}, prefix_cache=False
        )

        def run_chat(tokens: int, chat: ChatTransformers = chat) -> int:
            reply = chat.invoke(messages, max_tokens=tokens, temperature=0)
            return int(usage(reply)["output_tokens"])

        built[arm] = (run_chat, torch_bytes_per_token(chat.llm.pipeline.model))
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=list(GGUFS), default="qwen2.5-coder-1.5b")
    parser.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated, of {', '.join(ARMS)}")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    arms = [a for a in args.arms.split(",") if a]
    path = GGUFS[args.model]()
    built = build_arms(args.model, path, arms, args.threads)
    for call, _ in built.values():
        call(2)  # warm-up
    counts: dict[str, list[int]] = {name: [] for name in built}
    calls: dict[str, Callable[[], None]] = {}
    for name, (call, _) in built.items():

        def one_token(call: Callable[[int], int] = call) -> None:
            call(1)

        def all_tokens(call: Callable[[int], int] = call, name: str = name) -> None:
            counts[name].append(call(args.tokens))

        calls[f"{name}:1"] = one_token
        calls[f"{name}:T"] = all_tokens
    gbs_before = bandwidth_gbs()
    times = interleaved(calls, args.reps)
    gbs = median([gbs_before, bandwidth_gbs()])
    rows: list[dict[str, Any]] = []
    for name, (_, weight_bytes) in built.items():
        generated = median(counts[name])
        seconds = median(times[f"{name}:T"]) - median(times[f"{name}:1"])
        tps = (generated - 1) / seconds
        bound = gbs * 1e9 / weight_bytes
        rows.append(
            {
                "arm": name,
                "tokens": int(generated),
                "decode_tok_per_s": tps,
                "weight_MB_per_token": weight_bytes / 1e6,
                "bound_tok_per_s": bound,
                "fraction_of_bound": tps / bound,
            }
        )
    reference = {r["arm"]: r["decode_tok_per_s"] for r in rows}
    for row in rows:
        base = reference.get("transformers_bf16")
        row["vs_transformers_bf16"] = row["decode_tok_per_s"] / base if base else float("nan")
    columns = list(rows[0])
    head = (
        f"{args.model}: decode at batch 1, {args.tokens} greedy tokens, {args.reps} interleaved "
        f"repetitions, {args.threads} thread(s), read bandwidth {gbs:.1f} GB/s (numpy sum over 256 MB), "
        f"load average {os.getloadavg()[0]:.1f} at the end.\n\n"
    )
    payload = {
        "model": args.model,
        "tokens": args.tokens,
        "reps": args.reps,
        "threads": args.threads,
        "bandwidth_gbs": gbs,
        "rows": rows,
        "seconds": times,
    }
    write(f"decode_{args.model}", payload, head + table(rows, columns))
    return 0


if __name__ == "__main__":
    sys.exit(main())
