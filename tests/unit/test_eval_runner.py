"""The evaluation runner, results file, report, calibration and plot, with question-keyed fake models."""

import asyncio
import itertools
import json
import re
import threading
import time

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from mur_graph import MURConfig, create_mur_graph
from mur_graph.config import settings_record
from mur_graph.eval.calibrate import calibrate_gamma
from mur_graph.eval.plots import gamma_labels, plot_sweep
from mur_graph.eval.problems import Problem
from mur_graph.eval.report import markdown_table, summarise
from mur_graph.eval.results import ResultsBusyError, ResultsFile, latest_by_id, read_records, results_name
from mur_graph.eval.runner import run_eval, session_key
from mur_graph.models import active_routing_session
from tests.fakes import prompted

COT = prompted(mode="cot", max_steps=2, fallback_tokens=4)  # Arithmetic reads the prompted format's turns


class Arithmetic(BaseChatModel):
    """Answers "What is A + B?" with "the answer is A+B" (or a wrong sum), one token per character.

    Questions containing "explode" raise; calls sleep a little so concurrency can be observed.
    """

    wrong: bool = False
    delay: float = 0.02
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _in_flight: int = PrivateAttr(default=0)
    _peak: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "arithmetic"

    @property
    def peak(self) -> int:
        return self._peak

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        with self._lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
        try:
            time.sleep(self.delay)
            question = messages[0].text
            if "explode" in question:
                msg = "the server went away"
                raise ConnectionError(msg)
            a, b = map(int, re.findall(r"(\d+) \+ (\d+)", question)[0])
            text = f"the answer is {a + b + (1 if self.wrong else 0)}"
            content = [{"token": ch, "logprob": -0.1, "top_logprobs": []} for ch in text]
            message = AIMessage(content=text, response_metadata={"logprobs": {"content": content}})
            return ChatResult(generations=[ChatGeneration(message=message)] * kwargs.get("n", 1))
        finally:
            with self._lock:
                self._in_flight -= 1


def problems(*questions):
    return [
        Problem(
            id=str(i),
            question=q,
            reference=str(sum(map(int, re.findall(r"\d+", q)))),
            kind="math",
            source="t",
            index=i,
        )
        for i, q in enumerate(questions)
    ]


def run(items, model, path, config=COT, concurrency=1):
    graph = create_mur_graph(model, config=config)
    with ResultsFile(path) as results:
        return asyncio.run(run_eval(items, graph, config, results, dataset="toy", concurrency=concurrency))


def test_each_question_is_graded_and_appended_once_and_a_rerun_skips_them(tmp_path):
    path = tmp_path / "r.jsonl"
    items = problems("What is 1 + 2?", "What is 20 + 22?", "What is 5 + 5?")
    tally = run(items, Arithmetic(), path)
    assert (tally.done, tally.correct, tally.failed) == (3, 3, 0)
    records = read_records(path)
    assert sorted(r["id"] for r in records) == ["0", "1", "2"]
    assert all(r["status"] == "ok" and r["correct"] for r in records)
    assert records[0]["result"]["steps"][0]["text"].startswith("Step0: the answer is")
    again = run(items, Arithmetic(), path)
    assert (again.done, again.skipped) == (0, 3)
    assert len(read_records(path)) == 3


def test_wrong_answers_are_graded_wrong(tmp_path):
    tally = run(problems("What is 1 + 2?"), Arithmetic(wrong=True), tmp_path / "r.jsonl")
    assert (tally.done, tally.correct) == (1, 0)


def test_a_failing_question_is_recorded_and_retried_on_rerun(tmp_path):
    path = tmp_path / "r.jsonl"
    items = problems("What is 1 + 2?", "explode: What is 3 + 4?")
    tally = run(items, Arithmetic(), path)
    assert (tally.done, tally.failed) == (2, 1)
    failed = next(r for r in read_records(path) if r["status"] == "failed")
    assert failed["id"] == "1" and "ConnectionError: the server went away" in failed["error"]
    fixed = [items[0], Problem(**{**items[1].__dict__, "question": "What is 3 + 4?"})]
    retry = run(fixed, Arithmetic(), path)
    assert (retry.done, retry.skipped, retry.failed) == (1, 1, 0)
    assert latest_by_id(read_records(path))["1"]["status"] == "ok"


def test_questions_run_concurrently(tmp_path):
    model = Arithmetic(delay=0.2)
    items = problems(*(f"What is {i} + 1?" for i in range(6)))
    tally = run(items, model, tmp_path / "r.jsonl", concurrency=3)
    assert tally.done == 6 and model.peak == 3


def test_a_torn_last_line_is_cut_when_the_file_is_opened_again(tmp_path):
    path = tmp_path / "r.jsonl"
    run(problems("What is 1 + 2?"), Arithmetic(), path)
    with path.open("a") as handle:
        handle.write('{"id": "9", "status": "o')  # killed mid-write
    tally = run(problems("What is 1 + 2?", "What is 2 + 2?"), Arithmetic(), path)
    assert tally.done == 1
    lines = path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["0", "1"]


def test_results_of_other_settings_are_not_mixed(tmp_path):
    path = tmp_path / "r.jsonl"
    run(problems("What is 1 + 2?"), Arithmetic(), path)
    with pytest.raises(ValueError, match=r"other settings .*max_steps: 2 there, 3 now"):
        run(problems("What is 1 + 2?"), Arithmetic(), path, config=COT.replace(max_steps=3))


def test_without_the_eval_extra_nothing_runs_and_the_error_names_it(tmp_path, monkeypatch):
    import importlib.util

    from mur_graph.models import MissingDependencyError

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n: None if n == "math_verify" else find_spec(n))
    with pytest.raises(MissingDependencyError, match=r"install it with: pip install 'mur-graph\[eval\]'$"):
        run(problems("What is 1 + 2?"), Arithmetic(), tmp_path / "r.jsonl")
    assert not (tmp_path / "r.jsonl").exists() or (tmp_path / "r.jsonl").read_text() == ""


def test_one_writer_at_a_time(tmp_path):
    path = tmp_path / "r.jsonl"
    with ResultsFile(path), pytest.raises(ResultsBusyError, match="another process is writing"):
        ResultsFile(path).__enter__()


def test_results_names_identify_the_cell():
    assert results_name("math_500", prompted()) == "math_500__guided_search__mur__g0.8.jsonl"
    assert (
        results_name("gpqa", prompted(mode="cot", bias_correction=True))
        == "gpqa__guided_search__cot__bc.jsonl"
    )
    both = settings_record(
        prompted(bias_correction=True, calculator=True), "guided_search", {"critic_kind": "confidence"}
    )
    assert results_name("m", both) == "m__guided_search__confidence__mur__g0.8__bc__calc.jsonl"


def record(mode, correct, total, scaled, steps, gamma=0.8, status="ok"):
    return {
        "id": f"{mode}{gamma}{correct}{total}",
        "dataset": "toy",
        "status": status,
        "correct": correct,
        "wall_time_s": 2.0,
        "settings": {"method": "guided_search", "mode": mode, "gamma": gamma, "bias_correction": False},
        "result": {
            "totals": {"policy": total - 10, "critic": 10, "total": total},
            "n_scaled": scaled,
            "n_steps": steps,
        },
    }


def test_report_rows_hold_accuracy_tokens_scale_rate_and_the_ratio_to_per_step():
    rows = summarise(
        [
            record("per_step", True, 1000, 4, 4),
            record("per_step", False, 600, 2, 2),
            record("mur", True, 300, 1, 4),
            record("mur", True, 500, 1, 4),
            record("mur", False, 0, 0, 0, status="failed"),
            record("cot", False, 100, 0, 3),
        ]
    )
    cot, mur, per_step = rows
    assert [r["mode"] for r in rows] == ["cot", "mur", "per_step"]
    assert mur["accuracy"] == 100.0 and mur["questions"] == 2 and mur["failed"] == 1
    assert mur["total_tokens"] == 400 and mur["critic_tokens"] == 10
    assert mur["scale_rate"] == pytest.approx(2 / 8)
    assert mur["vs_per_step"] == pytest.approx(400 / 800)
    assert per_step["accuracy"] == 50.0 and cot["gamma"] is None
    table = markdown_table(rows)
    assert (
        "| toy | guided_search | generative | mur | 0.80 | — | partial (2 of 3) | 1 | 100.0 [34.2, 100.0] |"
        in table
    )


def test_calibration_lands_within_tolerance_of_a_reachable_target():
    def tokens(gamma):
        return 100 + 900 * gamma**4

    found = calibrate_gamma(tokens, 400, tolerance=0.1)
    assert found.within_tolerance and abs(tokens(found.gamma) - 400) <= 40
    assert len(found.trials) <= 7
    unreachable = calibrate_gamma(tokens, 5000, tolerance=0.1)
    assert not unreachable.within_tolerance and unreachable.gamma == 1.0
    with pytest.raises(ValueError, match="must be > 0"):
        calibrate_gamma(tokens, 0)


def _through(points):
    """The piecewise-linear measure through measured (γ, tokens) points."""

    def measure(gamma):
        for (g0, v0), (g1, v1) in itertools.pairwise(points):
            if g0 <= gamma <= g1:
                return v0 + (v1 - v0) * (gamma - g0) / (g1 - g0)
        msg = f"γ {gamma} outside the measured points"
        raise AssertionError(msg)

    return measure


# Mean tokens per question the paired run measured on its 10 dev questions (docs/benchmarks.md):
# flat at CoT's up to γ ≈ 0.7, then steep. Bisecting the margin ln(1/γ) spent 4 of 7 trials on the
# flat part and ended at γ 0.829 with 513 tokens for a target of 600 (−14.5 %).
DEV_TOKENS = [(0.05, 313.1), (0.2236, 313.1), (0.4729, 317.4), (0.6877, 317.4), (0.8293, 513.3)]
DEV_TOKENS += [(0.9106, 696.3), (1.0, 996.5)]


@pytest.mark.parametrize("target", [350, 400, 450, 500, 550, 600, 650, 700, 800, 900])
def test_calibration_hits_every_reachable_target_of_a_flat_then_steep_curve(target):
    found = calibrate_gamma(_through(DEV_TOKENS), target, tolerance=0.1, max_trials=7)
    assert found.within_tolerance, found.trials
    assert [g for g, _ in found.trials[:2]] == [0.05, 1.0]  # the bracket first
    assert len({g for g, _ in found.trials}) == len(found.trials)  # never the same γ twice


def test_calibration_of_a_curve_that_dips_keeps_its_bracket():
    # Scaling changes the trajectory, so tokens need not grow with γ everywhere.
    points = [(0.05, 300.0), (0.5, 320.0), (0.6, 290.0), (0.8, 520.0), (0.9, 480.0), (1.0, 1000.0)]
    found = calibrate_gamma(_through(points), 700, tolerance=0.05, max_trials=9)
    assert found.within_tolerance and 0.9 < found.gamma < 1.0, found.trials


def test_sweep_plot_is_written_as_png_and_svg(tmp_path):
    rows = summarise(
        [record("cot", True, 100, 0, 3), record("per_step", True, 900, 3, 3)]
        + [record("mur", g > 0.7, int(200 + 500 * g), 1, 3, gamma=g) for g in (0.5, 0.8, 0.95)]
    )
    written = plot_sweep(rows, tmp_path / "sweep", title="toy")
    assert [p.suffix for p in written] == [".png", ".svg"]
    assert written[0].read_bytes()[:4] == b"\x89PNG" and written[0].stat().st_size > 10_000
    svg = written[1].read_text()
    assert "γ=0.8" in svg and "CoT–per-step line" in svg and "toy · guided_search · generative critic" in svg


def test_gamma_values_on_one_point_share_one_label():
    rows = summarise([record("mur", True, 300, 1, 3, gamma=g) for g in (0.5, 0.7)])
    rows += summarise([record("mur", True, 500, 1, 3, gamma=0.9)])
    assert gamma_labels(rows) == [((300.0, 100.0), "γ=0.5, 0.7"), ((500.0, 100.0), "γ=0.9")]
    calibrated = summarise([record("mur", True, 600, 1, 3, gamma=0.8562601545338198)])
    assert gamma_labels(calibrated) == [((600.0, 100.0), "γ=0.856")]


def test_dataset_labels(tmp_path):
    from mur_graph.eval.results import dataset_label

    data = tmp_path / "gpqa_diamond_test.json.gz"
    data.write_bytes(b"")
    assert dataset_label(str(data)) == "gpqa_diamond"
    assert dataset_label("HuggingFaceH4/MATH-500") == "HuggingFaceH4__MATH-500"


class SessionRecorder(Arithmetic):
    """Arithmetic that notes the routing session each call was made in, by question."""

    _sessions: dict[str, set] = PrivateAttr(default_factory=dict)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        (question,) = set(re.findall(r"What is \d+ \+ 1\?", " ".join(m.text for m in messages)))
        with self._lock:
            self._sessions.setdefault(question, set()).add(active_routing_session())
        return super()._generate(messages, stop, run_manager, **kwargs)


def test_each_questions_calls_carry_one_session_key_of_its_own(tmp_path):
    model = SessionRecorder(delay=0.05)
    items = problems(*(f"What is {i} + 1?" for i in range(4)))
    # every step scaled: the N candidates' calls run in threads (sample_each)
    config = MURConfig(mode="per_step", gamma=1.0, candidates=2, max_steps=2, fallback_tokens=4)
    run(items, model, tmp_path / "r.jsonl", config=config, concurrency=4)
    assert len(model._sessions) == 4
    keys = list(model._sessions.values())
    assert all(len(k) == 1 for k in keys)  # every call of a run in that run's session
    assert {next(iter(k)) for k in keys} == {session_key("toy", p.id) for p in items}
    assert session_key("toy", "0") == session_key("toy", "0") != session_key("other", "0")
    assert re.fullmatch(r"mur-[0-9a-f]{16}", session_key("toy", "é/1"))  # ASCII, whatever the id
    assert active_routing_session() is None
