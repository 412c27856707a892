"""The evaluation runner: C questions in flight, one JSON line per finished question, resumable.

Questions run concurrently with `graph.ainvoke` (a server backend gets C requests in flight; the
local backend runs its calls in threads on one model). Each finished question is graded and
appended to the results file at once; a question whose run raises is recorded as failed, with its
error, and the run goes on; a rerun of the same command skips the questions already answered and
retries the failed ones. Each question's server requests carry one session key
(`routing_session`), so a router that keeps sessions on one replica serves a run's growing prefix
from one prefix cache. Inside `using_call_cache`, each record says how many calls were replayed
(`replayed`), and its wall time charges them the seconds they took when they ran.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mur_graph import result_document
from mur_graph.compiled import MURGraph
from mur_graph.config import MURConfig
from mur_graph.eval.grading import grade, require_grader
from mur_graph.eval.problems import Problem
from mur_graph.eval.results import ResultsFile
from mur_graph.models import active_call_cache, counting_replays, routing_session


@dataclass
class Tally:
    """Running totals of a run, for the progress line."""

    done: int = 0
    correct: int = 0
    failed: int = 0
    tokens: int = 0
    skipped: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)

    def describe(self) -> str:
        """One line: accuracy so far and mean tokens per question."""
        answered = self.done - self.failed
        accuracy = f"{self.correct}/{answered} correct" if answered else "no answer yet"
        mean = f"{self.tokens / answered:.0f} tok/q" if answered else "—"
        failed = f" · {self.failed} failed" if self.failed else ""
        return f"{accuracy} · {mean}{failed}"


def session_key(dataset: str, problem_id: str) -> str:
    """The routing session of one question's run: the same for a rerun, ASCII for an HTTP header."""
    digest = hashlib.sha256(f"{dataset}\0{problem_id}".encode()).hexdigest()[:16]
    return f"mur-{digest}"


async def run_eval(
    problems: Sequence[Problem],
    graph: MURGraph,
    config: MURConfig,
    results: ResultsFile,
    *,
    dataset: str,
    concurrency: int = 1,
    policy_name: str = "",
    critic_name: str = "",
    on_progress: Callable[[Tally], None] | None = None,
) -> Tally:
    """Run every problem not yet in `results`; append one record per finished problem.

    Raises:
        ValueError: `concurrency` < 1, or the results file holds other settings.
        MissingDependencyError: math-verify (the eval extra) is not installed.
    """
    if concurrency < 1:
        msg = f"invalid concurrency {concurrency}: must be an integer >= 1"
        raise ValueError(msg)
    require_grader()
    settings = graph.settings_record(config)
    finished = results.finished_ids(settings)
    todo = [p for p in problems if p.id not in finished]
    tally = Tally(skipped=len(problems) - len(todo))
    gate = asyncio.Semaphore(concurrency)

    async def solve(problem: Problem) -> None:
        async with gate:
            started = time.perf_counter()
            record: dict[str, Any] = {
                "id": problem.id,
                "index": problem.index,
                "dataset": dataset,
                "question": problem.question,
                "reference": problem.reference,
                "kind": problem.kind,
                "settings": dict(settings),
            }
            with counting_replays() as replays, routing_session(session_key(dataset, problem.id)):
                try:
                    state = await graph.ainvoke({"question": problem.question}, context=config)
                except Exception as exc:  # recorded, not swallowed: the rerun retries it
                    state = None
                    record |= {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
            # A replayed call costs what it cost when it ran: the cache saves our time, not the run's.
            wall = round(time.perf_counter() - started + replays.seconds, 3)
            if active_call_cache() is not None:
                record["replayed"] = {"calls": replays.calls, "seconds": round(replays.seconds, 3)}
            if state is None:
                record["wall_time_s"] = wall
                tally.failed += 1
            else:
                document = result_document(
                    state, settings, policy_name=policy_name, critic_name=critic_name, wall_time_s=wall
                )
                correct = grade(problem, document["answer"], document["solution"])
                record |= {"status": "ok", "answer": document["answer"], "correct": correct}
                record |= {"wall_time_s": wall, "result": document}
                tally.correct += int(correct)
                tally.tokens += document["totals"]["total"]
            results.append(record)
            tally.records.append(record)
            tally.done += 1
            if on_progress is not None:
                on_progress(tally)

    await asyncio.gather(*(solve(problem) for problem in todo))
    return tally
