"""Seeded solves whose traces must not change under a refactor: run before and after, then diff.

Each configuration is one `mur-graph solve --json` on a real model (SmolLM2 for every method,
critic kind, mode and format; Qwen2.5-Coder-1.5B for two), seeded, one thread. The trace is the
JSON less its wall times; the output is one JSON object keyed by configuration, written sorted so
that `diff` shows what moved:

    MUR_GRAPH_THREADS=1 python benchmarks/checks/trace_fingerprint.py --out before.json
    ...refactor...
    MUR_GRAPH_THREADS=1 python benchmarks/checks/trace_fingerprint.py --out after.json
    diff before.json after.json && echo identical
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

QUESTION = "What is 12 * 7 - 5?"
# The configurations were made in the paper's step format, the default until issue 26 (a later
# `--step-format` wins).
SMALL = [
    *("--step-format", "prompted"),
    *("--max-steps", "3", "--max-step-tokens", "24", "--fallback-tokens", "16", "--candidates", "3"),
]
SMOLLM2 = ["--model", "smollm2", *SMALL]
QWEN = [
    "--model",
    "qwen2.5-coder-1.5b",
    "--step-format",
    "prompted",
    "--max-steps",
    "3",
    "--max-step-tokens",
    "48",
    "--fallback-tokens",
    "32",
]

CONFIGS: dict[str, list[str]] = {
    "smollm2 guided confidence mur": [*SMOLLM2, "--critic-kind", "confidence", "--gamma", "0.95"],
    "smollm2 guided generative mur": [*SMOLLM2, "--critic-kind", "generative", "--gamma", "0.95"],
    "smollm2 guided vote per_step": [*SMOLLM2, "--critic-kind", "vote", "--mode", "per_step"],
    "smollm2 guided generative per_step": [*SMOLLM2, "--critic-kind", "generative", "--mode", "per_step"],
    "smollm2 critic per_step": [
        *SMOLLM2,
        "--method",
        "critic",
        "--mode",
        "per_step",
        "--critique-tokens",
        "24",
    ],
    "smollm2 phi per_step": [*SMOLLM2, "--method", "phi", "--mode", "per_step"],
    "smollm2 cot": [*SMOLLM2, "--mode", "cot"],
    "smollm2 plain": [*SMOLLM2, "--mode", "plain", "--plain-tokens", "48"],
    "smollm2 natural greedy drafts reuse": [
        *SMOLLM2,
        "--step-format",
        "natural",
        "--draft-temperature",
        "0",
        "--reuse-draft",
        "--mode",
        "per_step",
    ],
    "smollm2 calculator bias-corrected": [*SMOLLM2, "--calculator", "--bias-correction", "--gamma", "1"],
    "smollm2 token budget": [*SMOLLM2, "--mode", "per_step", "--token-budget", "60"],
    "qwen guided generative per_step": [*QWEN, "--critic-kind", "generative", "--mode", "per_step"],
    "qwen critic per_step": [*QWEN, "--method", "critic", "--mode", "per_step", "--critique-tokens", "32"],
}


def without_times(value: Any) -> Any:
    """The trace less every wall-time field (the only part a rerun may change)."""
    if isinstance(value, dict):
        return {k: without_times(v) for k, v in value.items() if not k.endswith("time_s")}
    if isinstance(value, list):
        return [without_times(v) for v in value]
    return value


def solve(arguments: list[str]) -> Any:
    command = [sys.executable, "-m", "mur_graph.cli", "solve", QUESTION, "--seed", "0", "--json", *arguments]
    environment = os.environ | {"MUR_GRAPH_THREADS": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=False, timeout=1800)
    if done.returncode != 0:
        return {"exit": done.returncode, "stderr": done.stderr.strip().splitlines()[-1:]}
    return without_times(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--only", default="", help="run only configurations whose name contains this")
    options = parser.parse_args()
    traces = {}
    for name, arguments in CONFIGS.items():
        if options.only in name:
            traces[name] = solve(arguments)
            print(f"{name}: {traces[name].get('answer', traces[name])!r}", flush=True)
    options.out.write_text(json.dumps(traces, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
