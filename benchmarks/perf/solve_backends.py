"""A 10-step guided-search solve (N = 4) end to end on each local backend, with and without prefix reuse.

Six arms, timed side by side (interleaved, medians), each a whole `create_mur_graph` solve from a
cold cache (the prefix store is emptied before every run):
- `llama_1.5b_reuse` / `llama_1.5b_reencode`: `ChatLlamaCpp` on Qwen2.5-Coder-1.5B Q4_K_M,
  `prefix_cache=True` (default) / `False`;
- `llama_smollm2_reuse` / `llama_smollm2_reencode`: `ChatLlamaCpp` on the embedded SmolLM2 GGUF;
- `hf_smollm2_reuse` / `hf_smollm2_reencode`: `ChatTransformers` on SmolLM2 (de-quantised, the
  embedded model's own settings).
The 1.5B on `ChatTransformers` is left out: it decodes at about 2 tok/s here (docs/performance.md),
so one solve would take minutes.

Mode `per_step` scales every step, so each run does the same work: every step samples N
candidates and asks N critic verdicts. Seeded: the two arms of one backend must produce the same
steps and solution in every run; the script checks it.

    OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 PYTHONPATH=. python benchmarks/perf/solve_backends.py --reps 2

The defaults are the issue's 10 steps; the recorded run used `--max-steps 3` (docs/performance.md:
10 steps would have taken about an hour on the loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

import torch
from langchain_core.language_models import BaseChatModel

from benchmarks.common import interleaved, median, table, write
from benchmarks.perf.solve import QUESTION
from mur_graph import ChatTransformers, create_mur_graph, load_chat_model, paper_config
from mur_graph.config import settings_record
from mur_graph.models import ChatLlamaCpp
from mur_graph.models.embedded import find_embedded_gguf

BACKENDS = ("llama_1.5b", "llama_smollm2", "hf_smollm2")


def cold(chat: BaseChatModel) -> Callable[[], None]:
    """A function that empties `chat`'s prefix reuse, so that a solve starts from nothing cached."""
    if isinstance(chat, ChatTransformers):
        store = chat.prefix_store
        return store.clear if store is not None else lambda: None
    assert isinstance(chat, ChatLlamaCpp)
    return chat._reset  # no public reset on ChatLlamaCpp: drops the saved states, empties the context


def models() -> dict[str, tuple[BaseChatModel, BaseChatModel]]:
    """(reuse, re-encode) chat models per backend; the transformers pair shares one set of weights."""
    hf = load_chat_model("smollm2")
    assert isinstance(hf, ChatTransformers)
    smollm2 = str(find_embedded_gguf())
    return {
        "llama_1.5b": (
            load_chat_model("qwen2.5-coder-1.5b"),
            load_chat_model("qwen2.5-coder-1.5b", prefix_cache=False),
        ),
        "llama_smollm2": (
            ChatLlamaCpp(model_path=smollm2, model_name="smollm2"),
            ChatLlamaCpp(model_path=smollm2, model_name="smollm2", prefix_cache=False),
        ),
        "hf_smollm2": (hf, ChatTransformers(llm=hf.llm, model_name=hf.model_name, prefix_cache=False)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--max-steps", type=int, default=10)
    parser.add_argument("--step-tokens", type=int, default=24)
    parser.add_argument("--fallback-tokens", type=int, default=24)
    parser.add_argument("--mode", default="per_step", choices=["per_step", "mur"])
    args = parser.parse_args(argv)

    config = paper_config(
        "guided_search",
        mode=args.mode,
        candidates=4,
        max_steps=args.max_steps,
        max_step_tokens=args.step_tokens,
        fallback_tokens=args.fallback_tokens,
        seed=0,
    )
    load_start = os.getloadavg()
    pairs = models()
    outputs: dict[str, list[dict[str, Any]]] = {}
    loads: dict[str, list[float]] = {}
    arms: dict[str, Callable[[], None]] = {}
    threads: dict[str, str] = {}
    for backend, (reuse, reencode) in pairs.items():
        for suffix, chat in (("reuse", reuse), ("reencode", reencode)):
            name = f"{backend}_{suffix}"
            graph, clear = create_mur_graph(chat, config=config), cold(chat)
            outputs[name], loads[name] = [], []

            def run(name: str = name, graph: Any = graph, clear: Callable[[], None] = clear) -> None:
                clear()
                loads[name].append(os.getloadavg()[0])
                outputs[name].append(graph.invoke({"question": QUESTION}))

            arms[name] = run
        chat = reuse
        chat.invoke(QUESTION, max_tokens=2)  # warm-up
        if isinstance(chat, ChatLlamaCpp):
            threads[backend] = f"n_threads {chat.n_threads}, n_threads_batch {chat.n_threads_batch}"
        else:
            threads[backend] = f"torch threads {torch.get_num_threads()}"

    times = interleaved(arms, args.reps)
    medians = {name: median(values) for name, values in times.items()}
    rows, summary = [], {}
    for backend in BACKENDS:
        runs = outputs[f"{backend}_reuse"] + outputs[f"{backend}_reencode"]
        steps = [s["text"] for s in runs[0]["steps"]]
        same = all(
            [s["text"] for s in state["steps"]] == steps and state["solution"] == runs[0]["solution"]
            for state in runs
        )
        generated = sum(runs[0]["ledger"].values())
        same_tokens = all(sum(state["ledger"].values()) == generated for state in runs)
        speedup = medians[f"{backend}_reencode"] / medians[f"{backend}_reuse"]
        texts = {  # each arm's first run, to show where the arms part when they do
            suffix: {"steps": [s["text"] for s in out[0]["steps"]], "solution": out[0]["solution"]}
            for suffix, out in (
                ("reuse", outputs[f"{backend}_reuse"]),
                ("reencode", outputs[f"{backend}_reencode"]),
            )
        }
        summary[backend] = {
            "first_run_texts": texts,
            "steps": len(steps),
            "generated_tokens": generated,
            "ledger": dict(runs[0]["ledger"]),
            "identical_outputs": same and same_tokens,
            "reuse_speedup": speedup,
            "threads": threads[backend],
        }
        for suffix in ("reuse", "reencode"):
            name = f"{backend}_{suffix}"
            rows.append(
                {
                    "arm": name,
                    "median_s": medians[name],
                    "tokens": sum(outputs[name][0]["ledger"].values()),
                    "tok_s": sum(outputs[name][0]["ledger"].values()) / medians[name],
                    "reencode/reuse": speedup if suffix == "reencode" else 1.0,
                    "runs_s": " / ".join(f"{t:.1f}" for t in times[name]),
                    "load_1min": " / ".join(f"{x:.1f}" for x in loads[name]),
                }
            )
    cross = {
        "hf_smollm2_reuse / llama_smollm2_reuse": medians["hf_smollm2_reuse"]
        / medians["llama_smollm2_reuse"],
        "hf_smollm2_reencode / llama_smollm2_reencode": medians["hf_smollm2_reencode"]
        / medians["llama_smollm2_reencode"],
        "llama_1.5b_reuse / llama_smollm2_reuse": medians["llama_1.5b_reuse"]
        / medians["llama_smollm2_reuse"],
        "llama_1.5b_reuse / hf_smollm2_reuse": medians["llama_1.5b_reuse"] / medians["hf_smollm2_reuse"],
    }
    load_end = os.getloadavg()
    lines = [
        f"{args.max_steps} steps max ({args.mode}, guided search, N = 4, max_step_tokens "
        f"{args.step_tokens}, fallback_tokens {args.fallback_tokens}, seed 0); "
        f"{args.reps} interleaved repetitions per arm; OMP_NUM_THREADS="
        f"{os.environ.get('OMP_NUM_THREADS', 'unset')}; load average (1/5/15 min) "
        f"{'/'.join(f'{x:.1f}' for x in load_start)} at the start, "
        f"{'/'.join(f'{x:.1f}' for x in load_end)} at the end.\n"
    ]
    for backend, info in summary.items():
        lines.append(
            f"- {backend}: {info['steps']} steps, {info['generated_tokens']} generated tokens per solve "
            f"{info['ledger']}; {info['threads']}; reuse speed-up (reencode / reuse, medians) "
            f"**{info['reuse_speedup']:.2f}×**; identical steps, solution and token counts in "
            f"every run of both arms: {info['identical_outputs']}"
        )
    lines.append("")
    lines += [f"- {label} (medians): **{ratio:.2f}×**" for label, ratio in cross.items()]
    columns = ["arm", "median_s", "tokens", "tok_s", "reencode/reuse", "runs_s", "load_1min"]
    markdown = "\n".join(lines) + "\n\n" + table(rows, columns)
    payload = {
        "settings": vars(args) | {"question": QUESTION, "config": settings_record(config, "guided_search")},
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_average_start": load_start,
        "load_average_end": load_end,
        "load_1min_at_each_run": loads,
        "backends": summary,
        "times_s": times,
        "medians_s": medians,
        "cross_backend_ratios": cross,
    }
    write("solve_backends", payload, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
