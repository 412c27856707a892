"""The paper-style table: per dataset × method × critic × mode (× γ), accuracy, tokens, time, pairs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mur_graph.eval.results import latest_by_id, read_records
from mur_graph.eval.stats import LineGap, Paired, critic_signal, line_gap, paired, wilson_interval
from mur_graph.scaling import canonical_method

Row = dict[str, Any]

COLUMNS = (
    ("dataset", "dataset"),
    ("method", "method"),
    ("critic", "critic"),
    ("mode", "mode"),
    ("gamma", "γ"),
    ("questions", "n"),
    ("failed", "failed"),
    ("accuracy", "accuracy % [95% CI]"),
    ("policy_tokens", "policy tok/q"),
    ("critic_tokens", "critic tok/q"),
    ("total_tokens", "total tok/q"),
    ("vs_per_step", "tokens vs per-step"),
    ("scale_rate", "scale rate"),
    ("wall_s", "s/q"),
    ("paired_per_step", "vs per-step won/lost (p)"),
    ("paired_cot", "vs CoT won/lost (p)"),
    ("line_gap", "vs CoT–per-step line"),
    ("not_first", "winner ≠ 0"),
    ("score_spread", "median spread"),
    ("fallback", "fell back to m_t"),
)
NO_SIGNAL = 1e-3
"""A median score spread below this is reported as `≈0 (no signal)`."""


def collect(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The latest record per question of every results file under `paths` (files or folders)."""
    records: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        for file in files:
            records.extend(latest_by_id(read_records(file)).values())
    return records


def critic_label(settings: dict[str, Any]) -> str | None:
    """The critic kind that chose the kept steps, or None where no candidate is ever chosen."""
    method = canonical_method(settings["method"])
    if method != "guided_search" or settings["mode"] == "cot":
        return None
    return str(settings.get("critic_kind", "generative"))  # results from before critic kinds: P(Yes)


def summarise(
    records: Sequence[dict[str, Any]], *, questions: int | None = None, common: bool = False
) -> list[Row]:
    """One row per (dataset, method, critic kind, mode, γ, bias correction, calculator).

    Besides accuracy (with its 95 % Wilson interval), tokens, scale rate and seconds per question,
    a row compares itself, question by question, with the per-step row (MUR rows) and the CoT row
    (MUR and per-step rows) of the same dataset, method, variant and critic (CoT: of any method
    when the row's own has none): won / lost counts and the exact McNemar p-value on the
    questions both answered. A MUR row with both baselines also says how many points it lies above
    (or below) the straight line between them at its tokens, on the questions all three answered
    (`stats.line_gap`). A row with fewer answered questions than `questions` (default: the
    most questions any row of its dataset holds) is partial. With `common`, every row keeps only
    the questions that all rows of its dataset hold, so a run stopped part way still compares rows
    on the same questions.
    """
    cells: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
    for record in records:
        settings = record["settings"]
        gamma = settings["gamma"] if settings["mode"] == "mur" else None
        method = canonical_method(settings["method"])
        variant = variant_of(settings)
        key = (record["dataset"], method, critic_label(settings), settings["mode"], gamma, variant)
        cells.setdefault(key, {})[str(record["id"])] = record  # one record per question
    if common:
        cells = _common_questions(cells)
    expected: dict[str, int] = {}
    for (dataset, *_), by_id in cells.items():
        expected[dataset] = max(expected.get(dataset, 0), questions or 0, len(by_id))
    rows = []
    for (dataset, method, critic, mode, gamma, variant), by_id in sorted(cells.items(), key=_order):
        ok = [r for r in by_id.values() if r["status"] == "ok"]
        n = len(ok)
        correct = sum(bool(r["correct"]) for r in ok)
        steps = sum(r["result"]["n_steps"] for r in ok)
        signal = critic_signal(ok) if mode != "cot" else None
        rows.append(
            {
                "dataset": dataset,
                "method": method + _variant_label(*variant),
                "critic": critic,
                "mode": mode,
                "gamma": gamma,
                "questions": n,
                "expected": expected[dataset],
                "failed": len(by_id) - n,
                "accuracy": 100.0 * correct / n if n else None,
                "accuracy_ci": tuple(100.0 * x for x in wilson_interval(correct, n)) if n else None,
                "policy_tokens": _mean(r["result"]["totals"]["policy"] for r in ok),
                "critic_tokens": _mean(r["result"]["totals"]["critic"] for r in ok),
                "total_tokens": _mean(r["result"]["totals"]["total"] for r in ok),
                "scale_rate": sum(r["result"]["n_scaled"] for r in ok) / steps if steps else None,
                "wall_s": _mean(r["wall_time_s"] for r in ok),
                "not_first": signal.not_first if signal else None,
                "score_spread": signal.median_spread if signal else None,
                "fallback": signal.fallback if signal else None,
                "signal_steps": signal.steps if signal else 0,
                "_correct": {str(r["id"]): bool(r["correct"]) for r in ok},
                "_points": {str(r["id"]): (bool(r["correct"]), r["result"]["totals"]["total"]) for r in ok},
                "_base": (dataset, method, variant),
            }
        )
    per_step = {(r["_base"], r["critic"]): r for r in rows if r["mode"] == "per_step"}
    cot = {r["_base"]: r for r in rows if r["mode"] == "cot"}
    # CoT never scales, so its runs are the same whatever the method: any method's will do.
    for row in [r for r in rows if r["mode"] == "cot"]:
        dataset, _, variant = row["_base"]
        cot.setdefault((dataset, None, variant), row)
    for row in rows:
        base = per_step.get((row["_base"], row["critic"]))
        tokens = base["total_tokens"] if base else None
        row["vs_per_step"] = (
            row["total_tokens"] / tokens if tokens and row["total_tokens"] is not None else None
        )
        row["paired_per_step"] = (
            paired(row["_correct"], base["_correct"]) if base and row["mode"] == "mur" else None
        )
        dataset, _, variant = row["_base"]
        baseline = cot.get(row["_base"]) or cot.get((dataset, None, variant))
        row["paired_cot"] = (
            paired(row["_correct"], baseline["_correct"]) if baseline and row["mode"] != "cot" else None
        )
        row["line_gap"] = (
            line_gap(row["_points"], baseline["_points"], base["_points"])
            if base and baseline and row["mode"] == "mur"
            else None
        )
    for row in rows:
        del row["_base"], row["_correct"], row["_points"]
    return rows


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(format_cell(key, row[key], row) for key, _ in COLUMNS) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def format_cell(key: str, value: Any, row: Row | None = None) -> str:
    """A table cell: ratios and rates with two decimals, other numbers with one.

    With its `row`, the accuracy carries its interval and `n` says when the row is partial.
    """
    row = row or {}
    if key == "questions" and row.get("expected", 0) > (value or 0):
        return f"partial ({value} of {row['expected']})"
    if value is None:
        return "—"
    if isinstance(value, Paired):
        return f"{value.won}/{value.lost} (p={value.p_value:.2g})"
    if isinstance(value, LineGap):
        on = f" on {value.questions}" if value.questions < row.get("questions", 0) else ""
        return f"{value.points:+.1f} pts{on}".replace("-", "−")
    if key == "accuracy" and row.get("accuracy_ci"):
        low, high = row["accuracy_ci"]
        return f"{value:.1f} [{low:.1f}, {high:.1f}]"
    if key in ("not_first", "fallback"):
        return f"{100 * value:.0f}%"
    if key == "score_spread":
        return "≈0 (no signal)" if value < NO_SIGNAL else f"{value:.3g}"
    if isinstance(value, float):
        return f"{value:.2f}" if key in ("vs_per_step", "scale_rate", "gamma") else f"{value:.1f}"
    return str(value)


def _common_questions(
    cells: dict[tuple[Any, ...], dict[str, dict[str, Any]]],
) -> dict[tuple[Any, ...], dict[str, dict[str, Any]]]:
    """Each cell cut down to the questions that every cell of its dataset holds."""
    shared: dict[str, set[str]] = {}
    for (dataset, *_), by_id in cells.items():
        shared[dataset] = shared[dataset] & set(by_id) if dataset in shared else set(by_id)
    return {
        key: {qid: record for qid, record in by_id.items() if qid in shared[key[0]]}
        for key, by_id in cells.items()
    }


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def variant_of(settings: dict[str, Any]) -> tuple[bool, bool]:
    """The run's variant: (bias-corrected momentum, calculator); a row never mixes two."""
    return bool(settings.get("bias_correction", False)), bool(settings.get("calculator", False))


def _variant_label(bias_correction: bool, calculator: bool) -> str:
    return (" (bias-corrected)" if bias_correction else "") + (" + calculator" if calculator else "")


def _order(item: tuple[tuple[Any, ...], Any]) -> tuple[Any, ...]:
    dataset, method, critic, mode, gamma, variant = item[0]
    modes = {"cot": 0, "mur": 1, "per_step": 2}
    return (dataset, method, variant, critic or "", modes.get(mode, 3), gamma or 0.0)
