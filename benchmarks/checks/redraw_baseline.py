r"""Does MUR's scaling beat drawing the run again? Its fixes and breaks against fresh CoT runs.

A MUR run follows the CoT run of its seed until its gate first fires (`mur-graph report --gate`
shows the two differ nowhere else). Where it fired, scaling changes the step and, at T > 0, every
step after it: part of what it fixes or breaks is the luck of a new trajectory. The null this
script measures is a fresh CoT run of the same question, read off the other CoT seeds: on the
questions where MUR seed s scaled and CoT seed s was wrong, the share of the other seeds' CoT runs
that are right is how many a redraw would fix; where CoT seed s was right, the share that are
wrong is how many a redraw would break. MUR's selection adds something only where it fixes more,
or breaks fewer, than that.

    R=benchmarks/results/paired_qwen2.5-coder-1.5b
    PYTHONPATH=. python benchmarks/checks/redraw_baseline.py \
        --cot $R/math_500__guided_search__cot__fnatural{,__s1,__s2,__s3,__s4}.jsonl \
        --mur $R/math_500__guided_search__confidence__mur__g0.8__fnatural{,__s1,__s2}.jsonl \
        --name levels12_natural_confidence_g0.8
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, table, write
from mur_graph.eval.gate_signal import redraw_expectation
from mur_graph.eval.results import latest_by_id, read_records


def load(path: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    """A results file's seed and its graded, answered records by question id."""
    records = latest_by_id(read_records(path))
    graded = {q: r for q, r in records.items() if r.get("status") == "ok" and r.get("correct") is not None}
    seeds = {r["settings"].get("seed", 0) for r in graded.values()}
    if len(seeds) != 1:
        msg = f"{path}: expected one seed among its graded records, found {sorted(seeds)}"
        raise SystemExit(msg)
    return seeds.pop(), graded


def compare(
    mur: Mapping[str, Mapping[str, Any]],
    cot: Mapping[str, Mapping[str, Any]],
    others: Sequence[Mapping[str, Mapping[str, Any]]],
) -> dict[str, Any]:
    """One MUR seed against its CoT seed, and a redraw's expectation from the `others` CoT seeds.

    Only questions that every CoT seed and the MUR run answered count. The expectation is the
    library's (`mur-graph report --gate` computes it from the same variant's other seeds); this
    script lets the other runs be another variant's, e.g. T = 0.6 runs against greedy drafts.
    """
    common = [q for q in mur if q in cot and all(q in other for other in others)]
    fired = {
        q: (bool(cot[q]["correct"]), bool(mur[q]["correct"]))
        for q in common
        if mur[q]["result"].get("n_scaled")
    }
    expected = redraw_expectation(fired, others)
    if expected is None:  # every fired question is in every other seed: cannot happen
        msg = "a fired question missing from the other CoT seeds"
        raise AssertionError(msg)
    return {
        "questions": len(common),
        "wrong fired": sum(not was for was, _ in fired.values()),
        "MUR fixed": sum(now for was, now in fired.values() if not was),
        "redraw fixes": expected[0],
        "right fired": sum(was for was, _ in fired.values()),
        "MUR broke": sum(not now for was, now in fired.values() if was),
        "redraw breaks": expected[1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cot", type=Path, nargs="+", required=True, help="CoT results files, one per seed")
    parser.add_argument("--mur", type=Path, nargs="+", required=True, help="MUR results files, one per seed")
    parser.add_argument("--name", required=True, help="the output's name (JSON and Markdown)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "redraw_baseline")
    args = parser.parse_args(argv)
    cots = dict(load(path) for path in args.cot)
    if len(cots) != len(args.cot):
        msg = "two --cot files share a seed: pass one file per seed"
        raise SystemExit(msg)
    rows = []
    for path in args.mur:
        seed, mur = load(path)
        if seed not in cots or len(cots) < 2:
            msg = f"{path}: needs the CoT file of its seed ({seed}) and at least one other CoT seed"
            raise SystemExit(msg)
        others = [records for other, records in cots.items() if other != seed]
        gamma = next(iter(mur.values()))["settings"].get("gamma")
        rows.append({"MUR seed": seed, "γ": gamma, **compare(mur, cots[seed], others)})
    total = {"MUR seed": "all", "γ": "—"} | {
        k: sum(r[k] for r in rows) for k in rows[0] if k not in ("MUR seed", "γ")
    }
    rows.append(total)
    columns = list(total)
    title = (
        f"Where MUR's gate fired: its fixes and breaks against a fresh CoT run of the question "
        f"(the mean over the other CoT seeds of {', '.join(map(str, sorted(cots)))})\n\n"
    )
    payload = {"cot": [p.name for p in args.cot], "mur": [p.name for p in args.mur], "rows": rows}
    write(args.name, payload, title + table(rows, columns), out=args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
