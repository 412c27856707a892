"""The γ sweep picture: accuracy against mean tokens, MUR's γ points with the CoT and per-step baselines."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mur_graph.eval.report import ReportRow


def gamma_labels(mur: Sequence[ReportRow]) -> list[tuple[tuple[float, float], str]]:
    """One label per distinct MUR point: γ values that landed on the same point share it ("γ=0.5, 0.7").

    γ is shown to 3 significant digits: a calibrated γ (0.8562601545…) reads 0.856.
    """
    points: dict[tuple[float, float], list[float]] = {}
    for r in mur:
        tokens, accuracy, gamma = _mur_point(r)
        points.setdefault((tokens, accuracy), []).append(gamma)
    return [(point, "γ=" + ", ".join(f"{g:.3g}" for g in gammas)) for point, gammas in points.items()]


def panels(rows: Sequence[ReportRow]) -> list[tuple[str, str, str | None]]:
    """The sweep's panels: one per (dataset, method, critic) with MUR or per-step rows, else per CoT cell.

    The plain model and self-consistency are drawn in every panel of their dataset, never as panels.
    """
    scaled = {(r["dataset"], r["method"], r.get("critic")) for r in rows if r["mode"] in ("mur", "per_step")}
    cot = {(r["dataset"], r["method"], None) for r in rows if r["mode"] == "cot"}
    return sorted(scaled or cot, key=str)


def plot_sweep(rows: Sequence[ReportRow], stem: Path, *, title: str = "") -> list[Path]:
    """Draw one panel of accuracy vs mean total tokens per (dataset, method, critic); write PNG and SVG.

    The files are `stem` plus `.png` and `.svg` (a dot in `stem`'s name stays).

    Each panel holds MUR's γ points, the CoT and per-step points and the straight line between
    those two (a MUR point above it buys more accuracy per token than mixing the two baselines),
    and the dataset's other baselines where the rows hold them: the plain model (diamonds) and
    self-consistency (stars). Only seed 0's rows make the curve; the CoT, per-step and MUR rows of
    other seeds are drawn as hollow grey markers of their mode's shape, named by their seed, so the
    seed noise shows beside the curve.
    Returns the written files. matplotlib renders locally (Agg backend): no network.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reseeded = [
        r for r in rows if _other_seed(r) and r["accuracy"] is not None and r["total_tokens"] is not None
    ]
    rows = [r for r in rows if not _other_seed(r)]  # an SC row's seed is a range: it stays
    groups = panels(rows)
    others = [r for r in rows if _is_other_baseline(r) and r["accuracy"] is not None]
    fig, axes = plt.subplots(1, len(groups), figsize=(6.5 * len(groups), 5.0), squeeze=False)
    for ax, (dataset, method, critic) in zip(axes[0], groups, strict=True):
        cell = [r for r in rows if _in_panel(r, dataset, method, critic) and r["accuracy"] is not None]
        mur = sorted((r for r in cell if r["mode"] == "mur"), key=lambda r: _mur_point(r)[2])
        if mur:
            ax.plot([r["total_tokens"] for r in mur], [r["accuracy"] for r in mur], "o-", label="MUR (γ)")
            for point, text in gamma_labels(mur):
                ax.annotate(text, point, fontsize=8, textcoords="offset points", xytext=(4, 4))
        ends = {}
        for mode, marker, label in (("cot", "s", "CoT"), ("per_step", "^", "per-step scale")):
            for r in (r for r in cell if r["mode"] == mode):
                ax.plot(r["total_tokens"], r["accuracy"], marker, markersize=9, label=label)
                ends[mode] = (r["total_tokens"], r["accuracy"])
        in_view = [r for r in others if r["dataset"] == dataset and r.get("critic") in (None, critic)]
        for r in _distinct_votes(in_view):
            marker = "D" if r["mode"] == "plain" else "*"
            label = f"plain{_temperature(r)}" if r["mode"] == "plain" else r["mode"]
            label += f" ({r['method']})" if r["method"] != method and r["mode"] != "plain" else ""
            ax.plot(r["total_tokens"], r["accuracy"], marker, markersize=8, label=label)
        for mode, marker, label in SEED_MARKERS:
            seeds = [
                _seed_point(r)
                for r in reseeded
                if r["mode"] == mode
                and (_in_panel(r, dataset, method, critic) or (mode == "plain" and r["dataset"] == dataset))
            ]
            if not seeds:
                continue
            xs, ys = [x for x, _, _ in seeds], [y for _, y, _ in seeds]
            ax.plot(xs, ys, marker, color="gray", markerfacecolor="none", markersize=8, label=label)
            for x, y, seed in seeds:
                ax.annotate(
                    f"s{seed}", (x, y), fontsize=7, color="gray", textcoords="offset points", xytext=(5, -9)
                )
        if len(ends) == 2:
            (x0, y0), (x1, y1) = ends["cot"], ends["per_step"]
            ax.plot([x0, x1], [y0, y1], ":", color="gray", label="CoT–per-step line")
        ax.set_xlabel("mean tokens per question (policy + critic)")
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"{dataset} · {method}" + (f" · {critic} critic" if critic else ""))
        ax.grid(alpha=0.3)
        # below the axes, so that no point is hidden behind it
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix in (".png", ".svg"):
        path = stem.parent / (stem.name + suffix)  # not with_suffix: "qwen2.5-run" has a dot
        fig.savefig(path, dpi=120, bbox_inches="tight")
        written.append(path)
    plt.close(fig)
    return written


def _mur_point(row: ReportRow) -> tuple[float, float, float]:
    """A MUR row's mean total tokens, accuracy and γ: a row with answered questions has all three.

    Raises:
        ValueError: one of them is None.
    """
    tokens, accuracy, gamma = row["total_tokens"], row["accuracy"], row["gamma"]
    if tokens is None or accuracy is None or gamma is None:
        msg = f"not a MUR row with answered questions: a {row['mode']} row"
        raise ValueError(msg)
    return tokens, accuracy, gamma


SEED_MARKERS = (
    ("plain", "D", "plain, other seeds"),
    ("cot", "s", "CoT, other seeds"),
    ("per_step", "^", "per-step, other seeds"),
    ("mur", "o", "MUR, other seeds"),
)
"""How the rows of seeds other than 0 are drawn: hollow grey markers of their mode's shape."""


def _distinct_votes(rows: Sequence[ReportRow]) -> list[ReportRow]:
    """`rows` less each weighted SC row on the very point of its plain majority (it would hide it).

    The majority row's label then says the weighted vote landed there too.
    """
    points = {(r["mode"], r["method"]): (r["total_tokens"], r["accuracy"]) for r in rows}
    kept = []
    for r in rows:
        plain_vote = (r["mode"].removesuffix(" weighted"), r["method"])
        if r["mode"].endswith(" weighted") and points.get(plain_vote) == (r["total_tokens"], r["accuracy"]):
            continue
        if points.get((f"{r['mode']} weighted", r["method"])) == (r["total_tokens"], r["accuracy"]):
            r = {**r, "mode": f"{r['mode']} (= weighted)"}
        kept.append(r)
    return kept


def _seed_point(row: ReportRow) -> tuple[float, float, int]:
    """A reseeded row's (mean total tokens, accuracy, seed).

    Raises:
        ValueError: one of them is missing (a row without answered questions, or of no one seed).
    """
    tokens, accuracy, seed = row["total_tokens"], row["accuracy"], row["seed"]
    if tokens is None or accuracy is None or not isinstance(seed, int):
        msg = f"not a reseeded row with answered questions: a {row['mode']} row, seed {seed!r}"
        raise ValueError(msg)
    return tokens, accuracy, seed


def _in_panel(row: ReportRow, dataset: str, method: str, critic: str | None) -> bool:
    """Whether `row` belongs in the panel of (dataset, method, critic): CoT rows in every critic's."""
    same_run = (row["dataset"], row["method"]) == (dataset, method)
    return same_run and (row["mode"] == "cot" or row.get("critic") == critic)


def _other_seed(row: ReportRow) -> bool:
    """A row of one seed other than 0 (an SC row's seed is a range such as "0–4", unseeded None)."""
    seed = row.get("seed")
    return isinstance(seed, int) and seed != 0


def _is_other_baseline(row: ReportRow) -> bool:
    """A plain-model row, or a self-consistency row (its seed is a range such as "0–4")."""
    return row["mode"] == "plain" or " SC@" in row["mode"]


def _temperature(row: ReportRow) -> str:
    """` T=0` for a plain row at temperature 0, ` T=0.6` at the default (from the row's variant)."""
    parts = [str(part) for part in row.get("variant", ()) if str(part).startswith("T")]
    return f" T={parts[0][1:]}" if parts else " T=0.6"
