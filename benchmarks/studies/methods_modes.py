"""Tokens by kind and scale rate of every scaling method in every mode, on the first MATH-500 questions.

Runs the real embedded model (or --model) through create_mur_graph for each (method, mode) cell and
each question, appending one JSON line per finished run to OUT/runs.jsonl (fsync'd); a rerun skips
the runs already there, so an interrupted benchmark resumes. Then writes OUT/summary.json and a
Markdown table (default docs/results/methods-modes.md).

    python benchmarks/studies/methods_modes.py --limit 5 --out benchmarks/results/methods_modes
    python benchmarks/studies/methods_modes.py --limit 5 --methods guided_search --modes mur \
        --bias-correction both --out benchmarks/results/bias_correction \
        --table docs/results/bias-correction.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from mur_graph import create_mur_graph, load_chat_model, paper_config
from mur_graph.ledger import KINDS
from mur_graph.models import EMBEDDED_NAME
from mur_graph.result import result_document
from mur_graph.scaling import canonical_method

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "mur_data" / "math_500_test.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="MATH-500 JSON (list of {input, target})"
    )
    parser.add_argument("--limit", type=int, default=5, help="first K questions")
    parser.add_argument("--methods", default="guided_search,critic,phi")
    parser.add_argument("--modes", default="cot,mur,per_step")
    parser.add_argument("--bias-correction", choices=["off", "on", "both"], default="off")
    parser.add_argument("--model", help="policy (default: the embedded SmolLM2-135M)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument("--max-step-tokens", type=int, default=32)
    parser.add_argument("--fallback-tokens", type=int, default=32)
    parser.add_argument("--critique-tokens", type=int, default=32)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "methods_modes")
    parser.add_argument("--table", type=Path, default=REPO / "docs" / "results" / "methods-modes.md")
    return parser.parse_args(argv)


def run_key(method: str, mode: str, bias: bool, index: int) -> str:
    return f"{method}|{mode}|{'bias' if bias else 'plain'}|{index}"


def load_done(path: Path) -> dict[str, dict[str, Any]]:
    """Runs already recorded; a torn last line (killed mid-write) is ignored and redone."""
    done: dict[str, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            done[record["key"]] = record
    return done


def append(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cells: dict[tuple[str, str, bool], list[dict[str, Any]]] = {}
    for record in records:
        cells.setdefault((record["method"], record["mode"], record["bias_correction"]), []).append(record)
    rows = []
    for (method, mode, bias), runs in sorted(cells.items()):
        n = len(runs)
        steps = sum(r["result"]["n_steps"] for r in runs)
        scaled = sum(r["result"]["n_scaled"] for r in runs)
        row: dict[str, Any] = {"method": method, "mode": mode, "bias_correction": bias, "questions": n}
        for kind in KINDS:
            row[kind] = sum(r["result"]["ledger"][kind] for r in runs) / n
        row["policy"] = sum(r["result"]["totals"]["policy"] for r in runs) / n
        row["total"] = sum(r["result"]["totals"]["total"] for r in runs) / n
        row["scale_rate"] = scaled / steps if steps else 0.0
        row["steps"] = steps / n
        row["answered"] = sum(r["result"]["answer"] is not None for r in runs)
        row["wall_s"] = sum(r["result"]["wall_time_s"] for r in runs) / n
        rows.append(row)
    per_step = {(r["method"], r["bias_correction"]): r["total"] for r in rows if r["mode"] == "per_step"}
    for row in rows:
        base = per_step.get((row["method"], row["bias_correction"]))
        row["total_vs_per_step"] = row["total"] / base if base else None
    return rows


def markdown(rows: list[dict[str, Any]], header: str) -> str:
    columns = ["method", "mode", "bias_correction", "questions", *KINDS, "policy", "total"]
    columns += ["total_vs_per_step", "scale_rate", "steps", "answered", "wall_s"]
    lines = [header, "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for column in columns:
            value = row[column]
            if isinstance(value, float):
                cells.append(
                    f"{value:.2f}" if column in ("total_vs_per_step", "scale_rate") else f"{value:.1f}"
                )
            else:
                cells.append("—" if value is None else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    questions = json.loads(args.data.read_text())[: args.limit]
    args.out.mkdir(parents=True, exist_ok=True)
    runs_path = args.out / "runs.jsonl"
    done = load_done(runs_path)
    policy = load_chat_model(args.model)
    policy_name = args.model or EMBEDDED_NAME
    biases = {"off": [False], "on": [True], "both": [False, True]}[args.bias_correction]
    limits = {
        "seed": args.seed,
        "candidates": args.candidates,
        "max_steps": args.max_steps,
        "max_step_tokens": args.max_step_tokens,
        "fallback_tokens": args.fallback_tokens,
    }
    own = {"critic_refine": {"critique_tokens": args.critique_tokens}}  # the critic's own setting
    for method in args.methods.split(","):
        for bias in biases:
            config = paper_config(method, bias_correction=bias, **limits)
            graph = create_mur_graph(
                policy, method=method, method_settings=own.get(canonical_method(method)), config=config
            )
            for mode in args.modes.split(","):
                for index, item in enumerate(questions):
                    key = run_key(method, mode, bias, index)
                    if key in done:
                        continue
                    settings = config.replace(mode=mode)
                    started = time.perf_counter()
                    state = graph.invoke({"question": item["input"]}, context=settings)
                    wall = round(time.perf_counter() - started, 3)
                    result = result_document(
                        state,
                        graph.settings_record(settings),
                        policy_name=policy_name,
                        critic_name=policy_name,
                        wall_time_s=wall,
                    )
                    record = {"key": key, "method": method, "mode": mode, "bias_correction": bias}
                    record |= {"index": index, "target": item.get("target"), "result": result}
                    append(runs_path, record)
                    done[key] = record
                    scaled = f"{result['n_scaled']}/{result['n_steps']} scaled"
                    print(f"{key}: {result['totals']['total']} tokens, {scaled}, {wall} s", flush=True)
    records = [r for r in done.values() if r["index"] < len(questions)]
    rows = summarise(records)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    summary = {
        "policy": policy_name,
        "data": str(args.data),
        "questions": len(questions),
        "settings": limits,
        "machine": machine,
        "rows": rows,
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    header = (
        f"Policy: {policy_name}; critic: the policy; data: first {len(questions)} questions of "
        f"{args.data.name}; settings: {json.dumps(limits)}; γ = the paper's per method (0.8 guided, 0.9 "
        f"critic and φ), α = 0.9; machine: {machine}. Token columns are means per question."
    )
    args.table.parent.mkdir(parents=True, exist_ok=True)
    args.table.write_text(markdown(rows, header))
    print(markdown(rows, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
