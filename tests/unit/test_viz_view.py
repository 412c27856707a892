"""`mur-graph view`: one reasoning path as a self-contained, escaped HTML page."""

import json
import re
from html.parser import HTMLParser

import pytest

from mur_graph.cli import main
from mur_graph.viz.html import render_page
from mur_graph.viz.traces import Trace, TraceError, load_trace
from tests.viz_traces import INJECTION, critic_trace, guided_search_trace, phi_trace


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser's parser sees them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


@pytest.fixture(scope="module")
def trace():
    return guided_search_trace()


def test_one_row_per_step_and_the_scaled_step_shows_its_candidates(trace):
    page = render_page(Trace(trace))
    tags = parse(page)
    rows = [attrs for tag, attrs in tags.tags if tag == "tr" and "step" in (attrs.get("class") or "").split()]
    assert len(rows) == len(trace["steps"]) == 3
    assert [r["class"] for r in rows] == ["step", "step", "step scaled"]
    assert [r["id"] for r in rows] == ["step-0", "step-1", "step-2"]
    winners = [attrs for tag, attrs in tags.tags if tag == "tr" and attrs.get("class") == "candidate winner"]
    assert len(winners) == 1
    text = "".join(tags.text)
    assert "1 ★ kept" in text and "0.9000" in text and "0.2000" in text  # the winner and both scores
    assert "scaled by guided_search" in text and "kept #1 (critic)" in text
    assert "0.333" in text  # step 2's threshold 0.11 + ln 1.25
    assert "Answer: <b>42</b>" in text and "stop: answer" in text  # the answer is model text too


def test_model_text_is_escaped_and_never_markup(trace):
    page = render_page(Trace(trace))
    tags = parse(page)
    assert [tag for tag, _ in tags.tags if tag in ("script", "img", "b", "i")] == []
    text = "".join(tags.text)
    assert INJECTION in text  # shown as text, character for character
    assert "The answer is <b>42</b>." in text and "<i>really</i>" in text
    assert "&lt;script&gt;console.error(&#x27;injected&#x27;)&lt;/script&gt;" in page


def test_the_page_references_nothing_outside_itself(trace):
    page = render_page(Trace(trace))
    assert not re.search(r"https?://", page)
    for tag, attrs in parse(page).tags:
        assert tag not in ("script", "link", "iframe", "object", "embed")
        assert not {"src", "href"} & set(attrs), (tag, attrs)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # the CSP forbids any fetch or script anyway


def test_the_chart_marks_the_scaled_step(trace):
    tags = parse(render_page(Trace(trace))).tags
    assert sum(1 for tag, attrs in tags if tag == "svg" and attrs.get("class") == "chart") == 1
    points = [attrs for tag, attrs in tags if tag == "circle" and "point" in (attrs.get("class") or "")]
    assert [p["class"] for p in points] == ["point", "point", "point scaled"]
    assert sum(1 for tag, attrs in tags if tag == "path" and attrs.get("class") == "kept-mark") == 1
    assert sum(1 for tag, attrs in tags if tag == "rect" and attrs.get("class") == "scaled-band") == 1


def test_phi_candidates_show_foresight_clusters_and_the_fallback():
    doc = phi_trace()
    text = "".join(parse(render_page(Trace(doc))).text)
    assert "foresight" in text and "cluster" in text
    assert "scaled by phi_foresight" in text
    assert "Fallback completion (1 tokens)" in text and "the answer is 3" in text


def test_a_critiqued_step_shows_the_critique_and_the_revision():
    tags = parse(render_page(Trace(critic_trace())))
    text = "".join(tags.text)
    assert "scaled by critic_refine" in text and "revised" in text
    assert "P(Yes)=0.100, judged wrong" in text and "The sum is <em>wrong</em>." in text
    assert "draft (m_t=3.000): 17 + 25 = 32." in text
    assert "Step1: 17 + 25 = 42, so the answer is 42" in text
    assert "critic: scripted critic" in text
    assert "em" not in [tag for tag, _ in tags.tags]


def test_an_empty_trace_renders_without_a_chart():
    doc = {"question": "q", "answer": None, "steps": [], "ledger": {}}
    page = render_page(Trace(doc))
    assert "nothing to chart" in page and "(none found)" in page


def write_results(path, trace):
    records = [
        {"id": "test/a/1.json", "status": "failed", "error": "RuntimeError: boom"},
        {"id": "test/a/2.json", "status": "ok", "reference": "42", "correct": True, "result": trace},
        {"id": "test/a/3.json", "status": "ok", "reference": "7", "correct": False, "result": trace},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + '{"id": "torn')


def test_a_results_file_defaults_to_the_first_finished_question(tmp_path, trace):
    results = tmp_path / "math__guided_search__mur__g0.8.jsonl"
    write_results(results, trace)
    picked = load_trace(results)
    assert picked.record is not None and picked.record["id"] == "test/a/2.json"
    assert picked.position == "question 2 of 3"
    assert load_trace(results, question="test/a/3.json").record["reference"] == "7"
    assert load_trace(results, index=2).record["id"] == "test/a/3.json"
    text = "".join(parse(render_page(picked)).text)
    assert "Reference: 42 (right)" in text and "id: test/a/2.json" in text


def test_bad_picks_name_the_choices(tmp_path, trace):
    results = tmp_path / "r.jsonl"
    write_results(results, trace)
    with pytest.raises(TraceError, match=r"no question with id 'nope'.*test/a/1\.json \(failed\)"):
        load_trace(results, question="nope")
    with pytest.raises(TraceError, match=r"did not finish \(RuntimeError: boom\)"):
        load_trace(results, index=0)
    with pytest.raises(TraceError, match=r"--index 3 is out of range: .* 3 questions \(0 to 2\)"):
        load_trace(results, index=3)


def test_files_that_hold_no_trace_are_clear_errors(tmp_path):
    for name, content in [("empty.json", ""), ("other.json", '{"a": 1}'), ("list.json", "[1, 2]")]:
        (tmp_path / name).write_text(content)
        with pytest.raises(TraceError, match="holds no trace"):
            load_trace(tmp_path / name)
    (tmp_path / "bad.json").write_text(json.dumps({"question": "q", "steps": [{"index": 0}]}))
    with pytest.raises(TraceError, match="step 0 lacks text, uncertainty"):
        load_trace(tmp_path / "bad.json")
    (tmp_path / "bin.json").write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    with pytest.raises(TraceError, match="not a text file"):
        load_trace(tmp_path / "bin.json")


def test_cli_writes_the_page_next_to_the_result(tmp_path, trace, capsys):
    solved = tmp_path / "trace.json"
    solved.write_text(json.dumps(trace, indent=2))
    assert main(["view", str(solved)]) == 0
    assert (tmp_path / "trace.html").read_text().count('<tr class="step') == 3
    results = tmp_path / "runs.jsonl"
    write_results(results, trace)
    assert main(["view", str(results), "--question", "test/a/3.json"]) == 0
    assert (tmp_path / "runs.test_a_3.json.html").exists()
    assert "question 3 of 3, id test/a/3.json" in capsys.readouterr().err
    assert main(["view", str(solved), "--out", "-"]) == 0
    assert capsys.readouterr().out.startswith("<!DOCTYPE html>")


def test_cli_errors_exit_with_a_message(tmp_path, capsys):
    assert main(["view", str(tmp_path / "missing.json")]) == 1
    assert "No such file" in capsys.readouterr().err
    (tmp_path / "x.json").write_text("{}")
    assert main(["view", str(tmp_path / "x.json")]) == 2
    assert "holds no trace" in capsys.readouterr().err
