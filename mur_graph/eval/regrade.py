"""Grade stored records again with today's answer extraction, for cells recorded by older code.

A results record keeps the whole solution, so its answer can be extracted again and graded again
without a model call. `mur-graph report --regrade` reads every record this way: cells recorded
before an extraction fix then compare on equal terms with cells recorded after it. The files are
never rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mur_graph.answers import extract_answer
from mur_graph.eval.grading import grade
from mur_graph.eval.problems import Problem


def regraded(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `record` whose `answer` and `correct` come from its solution, extracted and graded now.

    A failed record, or one whose answer was dropped as cut by a token limit (`answer_truncated`),
    is returned unchanged.
    """
    copy = dict(record)
    result = record.get("result")
    if record.get("status") != "ok" or not isinstance(result, Mapping) or result.get("answer_truncated"):
        return copy
    solution = str(result.get("solution", ""))
    answer = extract_answer(solution)
    problem = Problem(
        id=str(record["id"]),
        question=str(record.get("question", "")),
        reference=str(record["reference"]),
        kind=record.get("kind", "math"),
        source="",
        index=int(record.get("index", 0)),
    )
    copy["answer"], copy["correct"] = answer, grade(problem, answer, solution)
    return copy
