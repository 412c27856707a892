"""Two arms of one comparison paired question by question: the same cells in two folders, or two files.

For two arms (another model, the calculator on vs off), run the same cells into two folders; each
cell both hold is paired on the questions both answered: how often B was right where A was wrong
(won) and the reverse (lost), with the exact McNemar p-value. A cell is its file name without the
arm's variant suffixes (`__bc`, `__calc`), so an arm run with `--calculator` pairs with the same
cells run without it.
"""

from __future__ import annotations

from pathlib import Path

from mur_graph.eval.results import VARIANTS, latest_by_id, read_records
from mur_graph.eval.stats import Paired, paired

ARM_SUFFIXES = tuple(f"__{v.prefix}" for v in reversed(VARIANTS) if v.arm)
"""The name parts that mark an arm rather than a cell (`__calc`, `__bc`: the variants marked `arm`),
in the reverse of the order `results_name` appends them."""
_ARM_PARTS = frozenset(suffix.removeprefix("__") for suffix in ARM_SUFFIXES)


class AmbiguousCellError(ValueError):
    """A folder holds two variants of one cell, so which to pair is not clear."""


def correctness(path: Path) -> dict[str, bool]:
    """Question id → answered correctly, over the file's answered (status ok) questions."""
    records = latest_by_id(read_records(path)).values()
    return {str(r["id"]): bool(r["correct"]) for r in records if r["status"] == "ok"}


def cell_of(name: str) -> str:
    """The cell a results file name holds, without its arm's parts.

    They go wherever they stand, as later variants and the seed follow them:
    `m__guided_search__mur__g0.8__calc__fnatural__s1` is the cell `m__guided_search__mur__g0.8__fnatural__s1`.
    """
    dataset, *rest = name.removesuffix(".jsonl").split("__")
    return "__".join([dataset, *(part for part in rest if part not in _ARM_PARTS)]) + ".jsonl"


def cells(folder: Path) -> dict[str, Path]:
    """Cell → results file of a folder.

    Raises:
        AmbiguousCellError: the folder holds one cell in two variants.
    """
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.jsonl")):
        cell = cell_of(path.name)
        if cell in found:
            msg = (
                f"{folder} holds {found[cell].name} and {path.name}, two variants of one cell; "
                "compare folders that hold one variant each (or use mur-graph report on the folder)"
            )
            raise AmbiguousCellError(msg)
        found[cell] = path
    return found


def compare(a: Path, b: Path) -> list[tuple[str, Paired]]:
    """(cell, B against A) for every cell both folders hold, or for the two files given."""
    if a.is_file() and b.is_file():
        return [(f"{b.name} against {a.name}", paired(correctness(b), correctness(a)))]
    in_a, in_b = cells(a), cells(b)
    shared = sorted(in_a.keys() & in_b.keys())
    return [(cell, paired(correctness(in_b[cell]), correctness(in_a[cell]))) for cell in shared]
