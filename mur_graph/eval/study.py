"""The paired MATH-500 study: every cell runs a question before any cell runs the next.

For each question, each cell (a method, mode, critic kind and γ with the run's settings) runs in a
fixed order, all with the same seed, so a study stopped at any point is still paired: every cell
holds the same questions, give or take the one in flight. Each cell is an ordinary results file
(one fsync'd JSON line per question); running the study again skips what is done and retries what
failed. The command is `mur-graph study` (mur_graph/cli/study.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mur_graph.config import MURConfig
from mur_graph.eval.problems import Problem, load_problems, parse_levels
from mur_graph.eval.results import ResultsFile
from mur_graph.eval.runner import run_eval

DATA_FILE = "math_500_test.json"
"""The MATH-500 file's name in a data folder."""
DATASET = "math_500"
"""The dataset label of the study's results files."""


@dataclass(frozen=True)
class StudyCell:
    """One cell of a study: the method a graph was built with, its settings, the graph, its file."""

    method: str
    config: MURConfig
    graph: Any
    results: ResultsFile

    @property
    def short(self) -> str:
        """The cell as the progress lines show it, e.g. `guided_search/confidence/mur@0.8`."""
        config = self.config
        kind = self.graph.mur_method.settings_dict().get("critic_kind", "generative")
        critic = "" if config.mode == "cot" or kind == "generative" else f"/{kind}"
        gamma = f"@{config.gamma:g}" if config.mode == "mur" else ""
        return f"{self.method}{critic}/{config.mode}{gamma}"


def math500_questions(data: str | Path, *, levels: str, records: int, limit: int | None) -> list[Problem]:
    """MATH-500 problems of `levels` among the first `records` records (the first `limit` of those).

    Raises:
        ValueError: the file is missing, the levels are malformed, or no question matches.
    """
    path = Path(data).expanduser()
    if path.is_dir():
        path = path / DATA_FILE
    if not path.is_file():
        msg = f"{path}: no such file; pass --data the MATH-500 file ({DATA_FILE}) or the folder holding it"
        raise ValueError(msg)
    problems, _ = load_problems(str(path), levels=parse_levels(levels), records=records, limit=limit)
    if not problems:
        msg = f"no question of levels {levels} among the first {records} records of {path}"
        raise ValueError(msg)
    return problems


async def run_study(
    problems: Sequence[Problem],
    cells: Sequence[StudyCell],
    names: tuple[str, str],
    *,
    skip: int = 0,
    report: Callable[[str], None] = print,
) -> None:
    """Run every cell on one question before the next question; report a line per question.

    The first `skip` questions are left out; the others keep their numbers among all.
    """
    for number, problem in enumerate(problems[skip:], skip + 1):
        marks = []
        for cell in cells:
            tally = await run_eval(
                [problem],
                cell.graph,
                cell.config,
                cell.results,
                dataset=DATASET,
                policy_name=names[0],
                critic_name=names[1],
            )
            if tally.skipped:
                marks.append(f"{cell.short}=done")
                continue
            record = tally.records[-1]
            if record["status"] != "ok":
                marks.append(f"{cell.short}=FAILED")
                continue
            total = record["result"]["totals"]["total"]
            marks.append(f"{cell.short}={'✓' if record['correct'] else '✗'}{total}t")
        report(f"[{number}/{len(problems)}] {problem.id}: {' '.join(marks)}")
