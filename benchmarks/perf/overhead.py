"""Framework overhead with a zero-cost model: the MUR graph vs a bare loop making the same calls.

The model is tests/fakes.py's ScriptedChatModel (fixed texts and log-probs, no computation), so
the time left is the graph's own: LangGraph supersteps, state merges, nodes, the contract.
Arms (interleaved, medians): `graph` runs create_mur_graph for a max-steps solve; `loop`
replays exactly the calls the graph made (recorded from its first run) through
`mur_graph.models.contract.sample`. Reported: microseconds per step of the difference.

    PYTHONPATH=. python benchmarks/perf/overhead.py --reps 30
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.common import interleaved, median, table, write
from mur_graph import MURConfig, create_mur_graph
from mur_graph.models.contract import sample
from tests.fakes import Call, ScriptedChatModel, say

QUESTION = "What is 1 + 1?"


def scripted(steps: int) -> ScriptedChatModel:
    """A model that answers each of steps + 1 calls (the steps and the fallback) at once."""
    return ScriptedChatModel(script=[[say("x = 1 + 1", -0.1, -0.2, -0.3)] for _ in range(steps + 1)])


def replay(model: ScriptedChatModel, calls: list[Call]) -> None:
    """The bare loop: the recorded calls through the same contract, one after another."""
    for call in calls:
        sample(
            model,
            call.messages,
            n=int(call.kwargs.get("n", 1)),
            stop=call.stop,
            max_tokens=int(call.kwargs["max_tokens"]),
            temperature=float(call.kwargs["temperature"]),
            seed=call.kwargs.get("seed"),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--max-steps", type=int, default=20)
    args = parser.parse_args(argv)

    config = MURConfig(
        mode="cot",
        max_steps=args.max_steps,
        max_step_tokens=16,
        fallback_tokens=16,
        seed=0,
        step_format="prompted",  # its figures' format, the default until issue 26
    )
    first = scripted(args.max_steps)
    state = create_mur_graph(first, config=config).invoke({"question": QUESTION})
    calls = list(first.calls)
    steps = len(state["steps"])

    graph_model, loop_model = scripted(args.max_steps), scripted(args.max_steps)
    compiled = create_mur_graph(graph_model, config=config)

    def rewind(model: ScriptedChatModel) -> ScriptedChatModel:
        model._next = 0  # the same script again
        model._calls.clear()
        return model

    def graph() -> None:
        rewind(graph_model)
        compiled.invoke({"question": QUESTION})

    def loop() -> None:
        replay(rewind(loop_model), calls)

    times = interleaved({"graph": graph, "loop": loop}, args.reps)
    medians = {name: median(values) for name, values in times.items()}
    per_step_us = (medians["graph"] - medians["loop"]) / steps * 1e6
    rows = [
        {"arm": name, "median_ms": medians[name] * 1e3, "per_step_us": medians[name] / steps * 1e6}
        for name in times
    ]
    markdown = (
        f"{steps} steps (cot), {len(calls)} model calls per solve, scripted zero-cost model; "
        f"{args.reps} interleaved repetitions per arm (the graph is compiled once, outside the timing).\n\n"
        f"- graph overhead: **{per_step_us:.0f} µs per step** "
        f"(median graph − median loop, over {steps} steps)\n\n"
        + table(rows, ["arm", "median_ms", "per_step_us"])
    )
    payload = {
        "settings": vars(args),
        "steps": steps,
        "model_calls": len(calls),
        "times_s": times,
        "medians_s": medians,
        "overhead_us_per_step": per_step_us,
    }
    write("overhead_scripted", payload, markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
