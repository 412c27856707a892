"""The paper-style table: per dataset × method × critic × mode (× γ), accuracy, tokens, time, pairs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypedDict

from mur_graph.eval.consistency import SeedSpread, Vote, consistency_votes
from mur_graph.eval.regrade import regraded
from mur_graph.eval.results import latest_by_id, read_records, variant_label, variant_parts
from mur_graph.eval.stats import LineGap, Paired, critic_signal, line_gap, paired, seed_sd, wilson_interval
from mur_graph.scaling import canonical_method


class _Accuracy(TypedDict):
    """A row's answered questions and accuracy (percent) with its 95 % Wilson interval."""

    questions: int
    accuracy: float | None
    accuracy_ci: tuple[float, float] | None


class _CellColumns(_Accuracy):
    """What a cell's answered records give its row (`cell_row`, `_vote_row`)."""

    dataset: str
    critic: str | None
    mode: str
    gamma: float | None
    policy_tokens: float | None
    critic_tokens: float | None
    total_tokens: float | None
    scale_rate: float | None
    wall_s: float | None
    not_first: float | None
    score_spread: float | None
    fallback: float | None
    signal_steps: int


class ReportRow(_CellColumns, total=False):
    """A row of the table. `summarise` fills every key: the cell's own columns, then these."""

    method: str
    """The method and its variant's label, e.g. `guided_search T=0`."""
    variant: tuple[str, ...]
    seed: int | str | None
    """The run's seed; a range such as `0–2` in a self-consistency row; None: unseeded."""
    expected: int
    """Questions a full row of its dataset holds."""
    failed: int
    vs_per_step: float | None
    paired_per_step: Paired | None
    paired_cot: Paired | None
    cot_seed: int | str | None
    """The seed of the CoT row `paired_cot` compares with (its own when that CoT cell exists)."""
    paired_plain: Paired | None
    line_gap: LineGap | None
    correct_by_id: dict[str, bool]
    """Per question id: answered correctly (not a column: the across-seeds table reads it)."""


ReportKey = Literal[
    "dataset",
    "method",
    "critic",
    "mode",
    "gamma",
    "seed",
    "questions",
    "failed",
    "accuracy",
    "policy_tokens",
    "critic_tokens",
    "total_tokens",
    "vs_per_step",
    "scale_rate",
    "wall_s",
    "paired_per_step",
    "paired_cot",
    "paired_plain",
    "line_gap",
    "not_first",
    "score_spread",
    "fallback",
]
"""The keys of a row that the table shows (`COLUMNS`)."""

COLUMNS: tuple[tuple[ReportKey, str], ...] = (
    ("dataset", "dataset"),
    ("method", "method"),
    ("critic", "critic"),
    ("mode", "mode"),
    ("gamma", "γ"),
    ("seed", "seed"),
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
    ("paired_plain", "vs plain greedy won/lost (p)"),
    ("line_gap", "vs CoT–per-step line"),
    ("not_first", "winner ≠ 0"),
    ("score_spread", "median spread"),
    ("fallback", "fell back to m_t"),
)
BASELINE_MODES = ("cot", "plain")
"""Modes that never scale: no critic, no candidates."""
PLAIN_GREEDY = ("T0",)
"""The variant of the `vs plain greedy` column's baseline: plain mode at temperature 0."""
NO_SIGNAL = 1e-3
"""A median score spread below this is reported as `≈0 (no signal)`."""


@dataclass
class _Cell:
    """A row while it is paired with its baselines: the row and what the pairing reads."""

    row: ReportRow
    base: tuple[str, str, tuple[str, ...]]
    """(dataset, method, variant): the baselines it is compared with share it."""
    correct: dict[str, bool]
    """Per question id: answered correctly."""
    points: dict[str, tuple[bool, float]]
    """Per question id: (correct, total tokens)."""


def collect(paths: Iterable[Path], *, regrade: bool = False) -> list[dict[str, Any]]:
    """The latest record per question of every results file under `paths` (files or folders).

    With `regrade`, each answer is extracted from its solution and graded again (`eval.regrade`).
    """
    records: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        for file in files:
            records.extend(latest_by_id(read_records(file)).values())
    return [regraded(r) for r in records] if regrade else records


def critic_label(settings: dict[str, Any]) -> str | None:
    """The critic kind that chose the kept steps, or None where no candidate is ever chosen."""
    method = canonical_method(settings["method"])
    if method != "guided_search" or settings["mode"] in BASELINE_MODES:
        return None
    return str(settings.get("critic_kind", "generative"))  # results from before critic kinds: P(Yes)


def summarise(
    records: Sequence[dict[str, Any]], *, questions: int | None = None, common: bool = False
) -> list[ReportRow]:
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
    cells = cell_records(records, common=common)
    expected: dict[str, int] = {}
    for (dataset, *_), by_id in cells.items():
        expected[dataset] = max(expected.get(dataset, 0), questions or 0, len(by_id))
    made = []
    for (dataset, method, critic, mode, gamma, variant, seed), by_id in sorted(cells.items(), key=_order):
        ok = [r for r in by_id.values() if r["status"] == "ok"]
        row = cell_row(ok, dataset=dataset, method=method, critic=critic, mode=mode, gamma=gamma)
        row |= {
            "variant": variant,
            "seed": seed,
            "expected": expected[dataset],
            "failed": len(by_id) - len(ok),
        }
        row["method"] = method + variant_label(variant)
        made.append(
            _Cell(
                row,
                (dataset, method, variant),
                correct={str(r["id"]): bool(r["correct"]) for r in ok},
                points={str(r["id"]): (bool(r["correct"]), r["result"]["totals"]["total"]) for r in ok},
            )
        )
    made += _consistency_rows(cells, expected)
    _pair_with_baselines(made)
    for cell in made:
        cell.row["correct_by_id"] = cell.correct
    return [cell.row for cell in made]


def cell_records(
    records: Sequence[dict[str, Any]], *, common: bool = False
) -> dict[tuple[Any, ...], dict[str, dict[str, Any]]]:
    """The records of each cell — (dataset, method, critic, mode, γ, variant, seed) — by question id.

    With `common`, each cell keeps only the questions every cell of its dataset holds.
    """
    cells: dict[tuple[Any, ...], dict[str, dict[str, Any]]] = {}
    for record in records:
        settings = record["settings"]
        gamma = settings["gamma"] if settings["mode"] == "mur" else None
        method = canonical_method(settings["method"])
        key = (
            record["dataset"],
            method,
            critic_label(settings),
            settings["mode"],
            gamma,
            variant_of(settings),
            settings.get("seed"),  # None: an unseeded run, shown as —
        )
        cells.setdefault(key, {})[str(record["id"])] = record  # one record per question
    return _common_questions(cells) if common else cells


def cell_key_label(key: tuple[Any, ...]) -> str:
    """A cell's key as one label, e.g. `math_500 guided_search drafts T=0 confidence mur γ=0.8 seed 0`."""
    dataset, method, critic, mode, gamma, variant, seed = key
    parts = [dataset, method + variant_label(variant), critic or "", mode]
    parts += [f"γ={gamma:g}" if gamma is not None else "", f"seed {seed}" if seed is not None else ""]
    return " ".join(part for part in parts if part)


def cell_row(
    ok: Sequence[dict[str, Any]],
    *,
    dataset: str,
    method: str,
    critic: str | None,
    mode: str,
    gamma: float | None,
) -> ReportRow:
    """The row of one cell's answered records: accuracy with its interval, tokens, rate, time, signal."""
    steps = sum(r["result"]["n_steps"] for r in ok)
    signal = critic_signal(ok) if mode not in BASELINE_MODES else None
    return {
        "dataset": dataset,
        "method": method,
        "critic": critic,
        "mode": mode,
        "gamma": gamma,
        **_accuracy(sum(bool(r["correct"]) for r in ok), len(ok)),
        "policy_tokens": _mean(r["result"]["totals"]["policy"] for r in ok),
        "critic_tokens": _mean(r["result"]["totals"]["critic"] for r in ok),
        "total_tokens": _mean(r["result"]["totals"]["total"] for r in ok),
        "scale_rate": sum(r["result"]["n_scaled"] for r in ok) / steps if steps else None,
        "wall_s": _mean(r["wall_time_s"] for r in ok),
        "not_first": signal.not_first if signal else None,
        "score_spread": signal.median_spread if signal else None,
        "fallback": signal.fallback if signal else None,
        "signal_steps": signal.steps if signal else 0,
    }


CONSISTENCY = (3, 5)
"""The k of the self-consistency rows (SC@k), made wherever a cell has k seeds."""


def _consistency_rows(
    cells: dict[tuple[Any, ...], dict[str, dict[str, Any]]], expected: dict[str, int]
) -> list[_Cell]:
    """SC@k rows (plain majority and confidence-weighted) of every cell run with ≥ k seeds.

    A MUR or per-step cell's votes are its whole runs' answers, as CoT's: whether MUR's gains and
    voting's add up.
    """
    groups: dict[tuple[Any, ...], dict[int, dict[str, dict[str, Any]]]] = {}
    for (dataset, method, critic, mode, gamma, variant, seed), by_id in cells.items():
        if seed is not None:  # unseeded runs are not repeatable draws
            groups.setdefault((dataset, method, critic, mode, gamma, variant), {})[seed] = by_id
    rows = []
    for (dataset, method, critic, mode, gamma, variant), by_seed in sorted(groups.items(), key=str):
        for k in CONSISTENCY:
            for weighted in (False, True):
                votes = consistency_votes(by_seed, k, weighted=weighted)
                if votes is None:
                    continue
                label = f"{mode} SC@{k}" + (" weighted" if weighted else "")
                seeds = sorted(by_seed)[:k]
                row = _vote_row(votes, dataset=dataset, mode=label)
                row |= {"critic": critic, "gamma": gamma}
                row |= {"method": method + variant_label(variant), "variant": variant}
                row |= {"seed": f"{seeds[0]}–{seeds[-1]}", "expected": expected[dataset], "failed": 0}
                correct = {qid: v.correct for qid, v in votes.items()}
                points = {qid: (v.correct, float(v.tokens)) for qid, v in votes.items()}
                rows.append(_Cell(row, (dataset, method, variant), correct, points))
    return rows


def _vote_row(votes: dict[str, Vote], *, dataset: str, mode: str) -> ReportRow:
    """A self-consistency row: the votes' accuracy and the k runs' tokens and seconds per question."""
    outcomes = list(votes.values())
    return {
        "dataset": dataset,
        "critic": None,
        "mode": mode,
        "gamma": None,
        **_accuracy(sum(v.correct for v in outcomes), len(outcomes)),
        "policy_tokens": _mean(v.policy_tokens for v in outcomes),
        "critic_tokens": _mean(v.critic_tokens for v in outcomes),
        "total_tokens": _mean(v.tokens for v in outcomes),
        "wall_s": _mean(v.seconds for v in outcomes),
        "scale_rate": None,  # the k runs' own rows give theirs
        "not_first": None,
        "score_spread": None,
        "fallback": None,
        "signal_steps": 0,
    }


def _accuracy(correct: int, n: int) -> _Accuracy:
    """`questions`, `accuracy` (percent) and its 95 % Wilson interval, None without a question."""
    ci = None
    if n:
        low, high = wilson_interval(correct, n)
        ci = (100.0 * low, 100.0 * high)
    return {"questions": n, "accuracy": 100.0 * correct / n if n else None, "accuracy_ci": ci}


class SpreadRow(TypedDict):
    """A row of the across-seeds table (`seed_spreads`)."""

    dataset: str
    method: str
    critic: str | None
    mode: str
    gamma: float | None
    seeds: str
    """The seeds the row averages, then any partial seed it leaves out."""
    questions: int
    """The fewest questions any of the averaged seeds' rows holds."""
    accuracies: str
    mean: float
    stdev: float
    seed_sd: float | None
    """The same sd estimated question by question (`stats.seed_sd`): steadier with few seeds."""
    spread: float
    total_tokens: float
    vs_cot: str | None
    """Each seed's row against the CoT of its own seed, won/lost summed over the seeds (of N pairs)."""


SpreadKey = Literal[
    "dataset",
    "method",
    "critic",
    "mode",
    "gamma",
    "seeds",
    "questions",
    "accuracies",
    "mean",
    "stdev",
    "seed_sd",
    "spread",
    "total_tokens",
    "vs_cot",
]
"""The keys of an across-seeds row (`SPREAD_COLUMNS`)."""


class _Seeded(NamedTuple):
    """What the across-seeds row reads from one seed's row."""

    seed: int
    accuracy: float
    total_tokens: float
    questions: int
    partial: bool
    vs_cot: Paired | None
    correct: dict[str, bool]


def seed_spreads(rows: Sequence[ReportRow]) -> list[SpreadRow]:
    """One row per cell run with two complete seeds or more: its accuracy's mean, spread and range.

    A partial seed (fewer questions than its dataset's full row) is left out and named in `seeds`:
    its accuracy is over other questions, so a mean with it would mix question sets. `summarise`
    with `common` keeps every row to the same questions, where no seed is partial.
    """
    groups: dict[tuple[Any, ...], list[_Seeded]] = {}
    for row in rows:
        seed, accuracy, tokens = row["seed"], row["accuracy"], row["total_tokens"]
        if isinstance(seed, int) and accuracy is not None and tokens is not None:  # tokens: set with accuracy
            key = (row["dataset"], row["method"], row["critic"], row["mode"], row["gamma"])
            own_cot = row["paired_cot"] if row.get("cot_seed") == seed else None  # not seed 0's stand-in
            partial = row["questions"] < row.get("expected", 0)
            outcomes = row.get("correct_by_id", {})
            seeded = _Seeded(seed, accuracy, tokens, row["questions"], partial, own_cot, outcomes)
            groups.setdefault(key, []).append(seeded)
    spreads: list[SpreadRow] = []
    for (dataset, method, critic, mode, gamma), seeded_rows in groups.items():
        cell = sorted((r for r in seeded_rows if not r.partial), key=lambda r: r.seed)
        if len(cell) < 2:
            continue
        left_out = sorted(r.seed for r in seeded_rows if r.partial)
        spread = SeedSpread(
            seeds=tuple(r.seed for r in cell),
            accuracies=tuple(r.accuracy for r in cell),
            tokens=sum(r.total_tokens * r.questions for r in cell) / sum(r.questions for r in cell),
        )
        spreads.append(
            {
                "dataset": dataset,
                "method": method,
                "critic": critic,
                "mode": mode,
                "gamma": gamma,
                "seeds": ", ".join(map(str, spread.seeds)) + _left_out(left_out),
                "questions": min(r.questions for r in cell),
                "accuracies": " / ".join(f"{a:.1f}" for a in spread.accuracies),
                "mean": spread.mean,
                "stdev": spread.stdev,
                "seed_sd": seed_sd([r.correct for r in cell]),
                "spread": spread.spread,
                "total_tokens": spread.tokens,
                "vs_cot": _pooled(r.vs_cot for r in cell),
            }
        )
    return spreads


def _left_out(seeds: Sequence[int]) -> str:
    """The partial seeds an across-seeds row leaves out, as a note after its seeds; "" for none."""
    if not seeds:
        return ""
    return f" ({', '.join(map(str, seeds))} partial, left out)"


def _pooled(pairs: Iterable[Paired | None]) -> str | None:
    """Per-seed paired counts summed, as `won/lost of N`; None when no seed has one.

    No p-value: the same questions recur in every seed, so the summed pairs are not independent.
    """
    found = [p for p in pairs if p is not None]
    if not found:
        return None
    won, lost, questions = (sum(getattr(p, name) for p in found) for name in ("won", "lost", "questions"))
    return f"{won}/{lost} of {questions}"


SPREAD_COLUMNS: tuple[tuple[SpreadKey, str], ...] = (
    ("dataset", "dataset"),
    ("method", "method"),
    ("critic", "critic"),
    ("mode", "mode"),
    ("gamma", "γ"),
    ("seeds", "seeds"),
    ("questions", "n (least)"),
    ("accuracies", "accuracy % per seed"),
    ("mean", "mean %"),
    ("stdev", "sd (pts)"),
    ("seed_sd", "sd, per question (pts)"),
    ("spread", "max − min (pts)"),
    ("total_tokens", "total tok/q"),
    ("vs_cot", "vs CoT of its seed, won/lost summed"),
)


def spread_table(spreads: Sequence[SpreadRow]) -> str:
    """The across-seeds rows as a Markdown table."""
    lines = ["| " + " | ".join(t for _, t in SPREAD_COLUMNS) + " |", "|" + "---|" * len(SPREAD_COLUMNS)]
    for row in spreads:
        cells = [format_cell(key, row[key]) for key, _ in SPREAD_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _pair_with_baselines(cells: Sequence[_Cell]) -> None:
    """Fill each row's per-step, CoT, plain-greedy and line columns from its baselines' rows.

    Per-step: the same dataset, method, variant, critic and seed. CoT: the same dataset, method,
    variant (less what CoT ignores: `rd`) and seed, else any method's, else seed 0's, else the
    CoT without a variant (plain mode at T=0 against the paper's CoT). Plain greedy: the
    dataset's plain row at temperature 0 (seed 0).
    """
    per_step = {(c.base, c.row["critic"], c.row["seed"]): c for c in cells if c.row["mode"] == "per_step"}
    cot: dict[tuple[Any, ...], _Cell] = {}
    # CoT never scales, so its runs are the same whatever the method: any method's will do.
    for cell in (c for c in cells if c.row["mode"] == "cot"):
        dataset, _, variant = cell.base
        cot.setdefault((cell.base, cell.row["seed"]), cell)
        cot.setdefault(((dataset, None, variant), cell.row["seed"]), cell)
    plain = {
        c.row["dataset"]: c
        for c in cells
        if c.row["mode"] == "plain" and c.row["variant"] == PLAIN_GREEDY and c.row["seed"] in (0, None)
    }
    for cell in cells:
        row, mode = cell.row, cell.row["mode"]
        base = per_step.get((cell.base, row["critic"], row["seed"]))
        tokens = base.row["total_tokens"] if base else None
        row["vs_per_step"] = (
            row["total_tokens"] / tokens if tokens and row["total_tokens"] is not None else None
        )
        row["paired_per_step"] = paired(cell.correct, base.correct) if base and mode == "mur" else None
        dataset, method, variant = cell.base
        variant = tuple(part for part in variant if part != "rd")
        keys = (
            ((dataset, method, variant), row["seed"]),
            ((dataset, None, variant), row["seed"]),
            ((dataset, None, variant), 0),
            ((dataset, None, variant), None),
            ((dataset, None, ()), 0),  # a variant without a CoT of its own: the plain CoT
            ((dataset, None, ()), None),
        )
        baseline = next((cot[key] for key in keys if key in cot), None)
        row["paired_cot"] = paired(cell.correct, baseline.correct) if baseline and mode != "cot" else None
        row["cot_seed"] = baseline.row["seed"] if row["paired_cot"] is not None and baseline else None
        greedy = plain.get(dataset)
        row["paired_plain"] = (
            paired(cell.correct, greedy.correct) if greedy is not None and greedy is not cell else None
        )
        row["line_gap"] = (
            line_gap(cell.points, baseline.points, base.points)
            if base and baseline and mode == "mur"
            else None
        )


def markdown_table(rows: Sequence[ReportRow]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(format_cell(key, row[key], row) for key, _ in COLUMNS) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def report_markdown(rows: Sequence[ReportRow]) -> str:
    """The report as Markdown: the table of rows, then the across-seeds table when a cell has seeds."""
    spreads = seed_spreads(rows)
    extra = f"\n**Across seeds**\n\n{spread_table(spreads)}" if spreads else ""
    return markdown_table(rows) + extra


def format_cell(key: str, value: Any, row: ReportRow | None = None) -> str:
    """A table cell: ratios and rates with two decimals, other numbers with one.

    With its `row`, the accuracy carries its interval and `n` says when the row is partial.
    """
    expected = row.get("expected", 0) if row else 0
    if key == "questions" and expected > (value or 0):
        return f"partial ({value} of {expected})"
    if value is None:
        return "—"
    if isinstance(value, Paired):
        return f"{value.won}/{value.lost} (p={value.p_value:.2g})"
    if isinstance(value, LineGap):
        on = f" on {value.questions}" if row and value.questions < row.get("questions", 0) else ""
        return f"{value.points:+.1f} pts{on}".replace("-", "−")
    if key == "accuracy" and row and (ci := row.get("accuracy_ci")):
        low, high = ci
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


def variant_of(settings: dict[str, Any]) -> tuple[str, ...]:
    """The run's variant (`results.variant_parts`: `bc`, `calc`, `T0`, `dT0`, `rd`…); rows never mix two."""
    return variant_parts(settings)


def _order(item: tuple[tuple[Any, ...], Any]) -> tuple[Any, ...]:
    dataset, method, critic, mode, gamma, variant, seed = item[0]
    modes = {"plain": 0, "cot": 1, "mur": 2, "per_step": 3}
    return (
        dataset,
        method,
        variant,
        critic or "",
        modes.get(mode, 4),
        gamma or 0.0,
        seed is None,
        seed or 0,
    )
