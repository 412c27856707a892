"""The paper-style table: per dataset × method × mode (× γ), accuracy, tokens, scale rate, time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mur_graph.eval.results import latest_by_id, read_records
from mur_graph.scaling import canonical_method

Row = dict[str, Any]

COLUMNS = (
    ("dataset", "dataset"),
    ("method", "method"),
    ("mode", "mode"),
    ("gamma", "γ"),
    ("questions", "n"),
    ("failed", "failed"),
    ("accuracy", "accuracy %"),
    ("policy_tokens", "policy tok/q"),
    ("critic_tokens", "critic tok/q"),
    ("total_tokens", "total tok/q"),
    ("vs_per_step", "tokens vs per-step"),
    ("scale_rate", "scale rate"),
    ("wall_s", "s/q"),
)


def collect(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The latest record per question of every results file under `paths` (files or folders)."""
    records: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        for file in files:
            records.extend(latest_by_id(read_records(file)).values())
    return records


def summarise(records: Sequence[dict[str, Any]]) -> list[Row]:
    """One row per (dataset, method, mode, γ, bias correction), with the MUR / per-step token ratio."""
    cells: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for record in records:
        settings = record["settings"]
        gamma = settings["gamma"] if settings["mode"] == "mur" else None
        method = canonical_method(settings["method"])
        key = (record["dataset"], method, settings["mode"], gamma, settings.get("bias_correction", False))
        cells.setdefault(key, []).append(record)
    rows = []
    for (dataset, method, mode, gamma, bias), runs in sorted(cells.items(), key=_order):
        ok = [r for r in runs if r["status"] == "ok"]
        n = len(ok)
        steps = sum(r["result"]["n_steps"] for r in ok)
        rows.append(
            {
                "dataset": dataset,
                "method": method + (" (bias-corrected)" if bias else ""),
                "mode": mode,
                "gamma": gamma,
                "questions": n,
                "failed": len(runs) - n,
                "accuracy": 100.0 * sum(bool(r["correct"]) for r in ok) / n if n else None,
                "policy_tokens": _mean(r["result"]["totals"]["policy"] for r in ok),
                "critic_tokens": _mean(r["result"]["totals"]["critic"] for r in ok),
                "total_tokens": _mean(r["result"]["totals"]["total"] for r in ok),
                "scale_rate": sum(r["result"]["n_scaled"] for r in ok) / steps if steps else None,
                "wall_s": _mean(r["wall_time_s"] for r in ok),
                "_base": (dataset, method, bias),
            }
        )
    per_step = {row["_base"]: row["total_tokens"] for row in rows if row["mode"] == "per_step"}
    for row in rows:
        base = per_step.get(row.pop("_base"))
        row["vs_per_step"] = row["total_tokens"] / base if base and row["total_tokens"] is not None else None
    return rows


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(format_cell(key, row[key]) for key, _ in COLUMNS) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def format_cell(key: str, value: Any) -> str:
    """A table cell: ratios and rates with two decimals, other numbers with one."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}" if key in ("vs_per_step", "scale_rate", "gamma") else f"{value:.1f}"
    return str(value)


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def _order(item: tuple[tuple[Any, ...], Any]) -> tuple[Any, ...]:
    dataset, method, mode, gamma, bias = item[0]
    return (dataset, method, bias, {"cot": 0, "mur": 1, "per_step": 2}.get(mode, 3), gamma or 0.0)
