"""A 20-step solve on the embedded model: prefix reuse vs re-encoding, and graph vs a bare loop.

Three arms, timed side by side (interleaved, medians):
- `graph_reuse`: create_mur_graph over ChatTransformers with prefix reuse (the default);
- `graph_reencode`: the same graph over ChatTransformers(prefix_cache=False);
- `loop_reuse`: a bare Python loop making exactly the model calls `graph_reuse` made (recorded
  from its first run: same messages, n, stop, max_tokens, temperature, seed) through
  `mur_graph.models.contract.sample`, with prefix reuse.
The store is emptied before each run, so every run starts cold. All arms must produce the same
texts; the script checks it.

    PYTHONPATH=. python benchmarks/perf/solve.py --reps 3
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import PrivateAttr

from benchmarks.common import interleaved, median, table, write
from mur_graph import ChatTransformers, MURConfig, create_mur_graph, load_embedded_model
from mur_graph.models.contract import sample
from mur_graph.prompts import step_format

QUESTION = "List the first twenty prime numbers, one per step, and then give their sum."


class RecordingChat(ChatTransformers):
    """ChatTransformers that records every call's messages, stop strings and settings."""

    _calls: list[tuple[list[BaseMessage], list[str] | None, dict[str, Any]]] = PrivateAttr(
        default_factory=list
    )

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        keys = ("n", "max_tokens", "temperature", "seed", "top_logprobs")
        settings = {k: kwargs[k] for k in keys if k in kwargs}
        self._calls.append((list(messages), stop, settings))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def replay(
    model: ChatTransformers, calls: list[tuple[list[BaseMessage], list[str] | None, dict[str, Any]]]
) -> list[str]:
    """The bare loop: the recorded calls, one after another, through the same contract."""
    texts: list[str] = []
    for messages, stop, settings in calls:
        samples = sample(
            model,
            messages,
            n=int(settings.get("n", 1)),
            stop=stop,
            max_tokens=int(settings["max_tokens"]),
            temperature=float(settings["temperature"]),
            seed=settings.get("seed"),
            top_logprobs=int(settings.get("top_logprobs", 0)),
        )
        texts.extend(s.text for s in samples)
    return texts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--step-tokens", type=int, default=16)
    parser.add_argument("--mode", default="cot", choices=["cot", "mur"])
    args = parser.parse_args(argv)

    base = load_embedded_model()
    reuse = RecordingChat(llm=base.llm, model_name=base.model_name)
    reencode = ChatTransformers(llm=base.llm, model_name=base.model_name, prefix_cache=False)
    config = MURConfig(
        mode=args.mode,
        max_steps=args.max_steps,
        max_step_tokens=args.step_tokens,
        fallback_tokens=args.step_tokens,
        critic_tokens=4,
        seed=0,
        step_format="prompted",  # the format its figures were measured in (the default until issue 26)
    )
    graphs = {
        "reuse": create_mur_graph(reuse, config=config),
        "reencode": create_mur_graph(reencode, config=config),
    }
    store = reuse.prefix_store
    assert store is not None
    outputs: dict[str, list[Any]] = {"graph_reuse": [], "graph_reencode": [], "loop_reuse": []}

    def solve(name: str) -> None:
        store.clear()
        reuse._calls.clear()
        state = graphs[name].invoke({"question": QUESTION})
        outputs[f"graph_{name}"].append(state)

    calls: list[tuple[list[BaseMessage], list[str] | None, dict[str, Any]]] = []

    def graph_reuse() -> None:
        solve("reuse")
        if not calls:  # the first run (rep 0 starts with it) records the calls the loop replays
            calls.extend(reuse._calls)

    def loop() -> None:
        store.clear()
        outputs["loop_reuse"].append(replay(reuse, calls))

    reuse.invoke(QUESTION, max_tokens=2)  # warm-up
    times = interleaved(
        {
            "graph_reuse": graph_reuse,
            "graph_reencode": lambda: solve("reencode"),
            "loop_reuse": loop,
        },
        args.reps,
    )
    first = outputs["graph_reuse"][0]
    steps = [s["text"] for s in first["steps"]]
    same_graph = all(
        [s["text"] for s in state["steps"]] == steps and state["solution"] == first["solution"]
        for state in outputs["graph_reuse"] + outputs["graph_reencode"]
    )
    same_loop = all(texts == outputs["loop_reuse"][0] for texts in outputs["loop_reuse"])
    if args.mode == "cot":  # one call per step: the loop's drafts are the graph's steps
        fmt = step_format(config.step_format)
        drafts = outputs["loop_reuse"][0][: len(steps)]
        same_loop &= [fmt.format(i, t) for i, t in enumerate(drafts)] == steps
    generated = sum(first["ledger"].values())
    medians = {name: median(values) for name, values in times.items()}
    rows = [
        {
            "arm": name,
            "median_s": medians[name],
            "runs_s": " / ".join(f"{t:.1f}" for t in values),
            "vs_graph_reuse": medians[name] / medians["graph_reuse"],
        }
        for name, values in times.items()
    ]
    speedup = medians["graph_reencode"] / medians["graph_reuse"]
    overhead = (medians["graph_reuse"] - medians["loop_reuse"]) / medians["graph_reuse"]
    header = (
        f"{len(steps)} steps ({args.mode}, max_step_tokens {args.step_tokens}, seed 0), "
        f"{len(calls)} model calls, "
        f"{generated} generated tokens per solve; {args.reps} interleaved repetitions per arm.\n\n"
        f"- prefix reuse speed-up (graph_reencode / graph_reuse, medians): **{speedup:.2f}×**\n"
        f"- graph overhead ((graph_reuse − loop_reuse) / graph_reuse, medians): "
        f"**{overhead:+.1%}** of wall time\n"
        f"- identical steps and solution in every graph run: {same_graph}; "
        f"loop texts identical across runs and to the graph's steps: {same_loop}\n\n"
    )
    markdown = header + table(rows, ["arm", "median_s", "vs_graph_reuse", "runs_s"])
    payload = {
        "settings": vars(args) | {"question": QUESTION},
        "steps": len(steps),
        "model_calls": len(calls),
        "generated_tokens": generated,
        "times_s": times,
        "medians_s": medians,
        "prefix_reuse_speedup": speedup,
        "graph_overhead_fraction": overhead,
        "identical_graph_outputs": same_graph,
        "identical_loop_outputs": same_loop,
    }
    write(f"solve_{args.mode}", payload, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
