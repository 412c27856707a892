"""One solved problem's reasoning path as a self-contained HTML page.

The page has no external resource and no script: inline CSS, an inline SVG chart, and
`<details>` elements for the candidates. Its Content-Security-Policy forbids every fetch and
every script, and all model text is escaped, so a step that writes `<script>` shows as text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from html import escape
from typing import Any

from mur_graph.ledger import KINDS
from mur_graph.viz.chart import momentum_chart
from mur_graph.viz.traces import Trace

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d1d1f;
       background: #fafafa; }
main { max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.3em; margin: 0 0 12px; }
h2 { font-size: 1.1em; margin: 28px 0 10px; }
.question, .text, .candidate-text, .critique { white-space: pre-wrap; overflow-wrap: anywhere; }
.question { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px; }
.facts { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 12px 0; }
.facts span { white-space: nowrap; }
.facts strong { font-weight: 600; }
.answer { font-size: 1.15em; }
.right { color: #1f7a43; } .wrong { color: #b3261e; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #ddd; padding: 6px 8px; vertical-align: top; text-align: left; }
th { background: #f0f0f3; font-weight: 600; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.steps { width: 100%; }
tr.step.scaled > td { background: #fff6e5; }
tr.step.scaled > td:first-child { border-left: 4px solid #d0502f; }
.decision { white-space: nowrap; }
.fired { color: #b3261e; font-weight: 600; }
details { margin-top: 8px; }
summary { cursor: pointer; color: #7a4a00; }
table.candidates { margin-top: 6px; width: 100%; font-size: 0.93em; }
tr.winner > td { background: #e4f5ea; font-weight: 600; }
.chart { max-width: 100%; height: auto; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
.chart .tick { font-size: 11px; fill: #555; } .chart .axis { font-size: 12px; fill: #333; }
.chart .legend { font-size: 12px; fill: #333; }
.fallback { background: #fff; border: 1px dashed #aaa; padding: 10px; white-space: pre-wrap; }
.muted { color: #666; }
"""


def render_page(trace: Trace) -> str:
    """The HTML page of one trace: header, momentum chart, one table row per step."""
    doc = trace.document
    steps = doc["steps"]
    title = f"mur-graph · {_shorten(doc['question'], 60)}"
    body = [
        "<main>",
        f"<h1>Reasoning path{' · ' + escape(trace.position) if trace.position else ''}</h1>",
        _header(trace),
        "<h2>Uncertainty against the momentum threshold</h2>",
        momentum_chart(steps),
        f"<h2>Steps ({len(steps)}, {sum(1 for s in steps if s['scaled'])} scaled)</h2>",
        _steps_table(steps),
    ]
    if doc.get("fallback"):
        fallback = doc["fallback"]
        body += [
            f"<h2>Fallback completion ({int(fallback.get('n_tokens', 0))} tokens)</h2>",
            f'<div class="fallback">{escape(str(fallback.get("text", "")))}</div>',
        ]
    body.append("</main>")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


def _header(trace: Trace) -> str:
    doc = trace.document
    settings = doc.get("settings", {})
    record = trace.record or {}
    answer = doc.get("answer")
    parts = [f'<div class="question">{escape(doc["question"])}</div>', '<div class="facts">']
    answer_text = escape(str(answer)) if answer is not None else '<span class="muted">(none found)</span>'
    parts.append(f'<span class="answer"><strong>Answer:</strong> {answer_text}</span>')
    if "reference" in record:
        verdict = "right" if record.get("correct") else "wrong"
        parts.append(
            f"<span><strong>Reference:</strong> {escape(str(record['reference']))} "
            f'<span class="{verdict}">({verdict})</span></span>'
        )
    facts = [
        ("id", record.get("id")),
        ("dataset", record.get("dataset")),
        ("mode", settings.get("mode")),
        ("method", settings.get("method")),
        ("γ", settings.get("gamma")),
        ("α", settings.get("alpha")),
        ("N", settings.get("candidates")),
        ("seed", settings.get("seed")),
        ("stop", doc.get("stop_reason")),
        ("policy", doc.get("policy")),
        ("critic", doc.get("critic") if doc.get("critic") != doc.get("policy") else None),
        ("wall time", f"{doc['wall_time_s']} s" if doc.get("wall_time_s") is not None else None),
    ]
    parts += [
        f"<span><strong>{name}:</strong> {escape(str(value))}</span>"
        for name, value in facts
        if value is not None
    ]
    parts.append("</div>")
    ledger = doc.get("ledger", {})
    kinds = [*KINDS, *(kind for kind in ledger if kind not in KINDS)]  # a plugin method's kinds too
    cells = "".join(f'<td class="num">{int(ledger.get(kind, 0))}</td>' for kind in kinds)
    total = sum(int(v) for v in ledger.values())
    parts.append(
        '<table class="ledger"><caption class="muted">generated tokens by kind</caption><tr>'
        + "".join(f"<th>{escape(str(kind))}</th>" for kind in kinds)
        + f"<th>total</th></tr><tr>{cells}<td class='num'><strong>{total}</strong></td></tr></table>"
    )
    return "\n".join(parts)


def _steps_table(steps: list[Mapping[str, Any]]) -> str:
    rows = [
        '<table class="steps">',
        "<thead><tr><th>t</th><th>kept step</th><th>m_t</th><th>M_{t-1}</th><th>threshold</th>"
        "<th>decision</th><th>tokens</th></tr></thead>",
        "<tbody>",
    ]
    for step in steps:
        scaled = bool(step["scaled"])
        tokens = sum(int(v) for v in step.get("tokens", {}).values())
        detail = _scaled_detail(step) if scaled else ""
        rows.append(
            f'<tr class="step{" scaled" if scaled else ""}" id="step-{int(step["index"])}">'
            f'<td class="num">{int(step["index"])}</td>'
            f'<td><div class="text">{escape(str(step["text"]))}</div>{detail}</td>'
            f'<td class="num">{_num(step["uncertainty"])}</td>'
            f'<td class="num">{_num(step["momentum_before"])}</td>'
            f'<td class="num">{_num(step["threshold"])}</td>'
            f'<td class="decision">{_decision(step)}</td>'
            f'<td class="num">{tokens}</td></tr>'
        )
    rows += ["</tbody>", "</table>"]
    return "\n".join(rows)


def _decision(step: Mapping[str, Any]) -> str:
    if not step["scaled"]:
        if step["gate_fired"]:
            return '<span class="fired">gate fired</span>, kept (mode does not scale)'
        return "kept"
    how = escape(str(step.get("selection") or "?"))
    method = escape(str(step.get("method") or "scaled"))
    if step.get("selected") is not None:
        return f'<span class="fired">scaled</span> by {method}<br>kept #{int(step["selected"])} ({how})'
    return f'<span class="fired">scaled</span> by {method}<br>{how}'


def _scaled_detail(step: Mapping[str, Any]) -> str:
    parts = ["<details open>", "<summary>draft, candidates and scores</summary>"]
    parts.append(
        f"<div><strong>draft</strong> (m_t={_num(step['uncertainty'])}): "
        f'<span class="candidate-text">{escape(str(step.get("draft", "")))}</span></div>'
    )
    critique = step.get("critique")
    if critique:
        p_yes = critique.get("p_yes")
        judged = "correct" if critique.get("correct") else "wrong"
        parts.append(
            f"<div><strong>critique</strong> (P(Yes)={_num(p_yes)}, judged {judged}, verdict "
            f"“{escape(str(critique.get('verdict', '')))}”):"
            f'<div class="critique">{escape(str(critique.get("analysis", "")))}</div></div>'
        )
    candidates = step.get("candidates") or []
    if candidates:
        phi = any("foresight" in c for c in candidates)
        head = "<th>#</th><th>candidate</th><th>m_t</th><th>score</th>"
        head += "<th>foresight</th><th>cluster</th>" if phi else ""
        parts.append(f'<table class="candidates"><tr>{head}<th>tokens</th></tr>')
        for number, candidate in enumerate(candidates):
            winner = number == step.get("selected")
            mark = " ★ kept" if winner else ""
            draft = " (the draft)" if candidate.get("is_draft") else ""
            extra = (
                f'<td class="num">{_num(candidate.get("foresight"))}</td>'
                f'<td class="num">{_text(candidate.get("cluster"))}</td>'
                if phi
                else ""
            )
            parts.append(
                f'<tr class="candidate{" winner" if winner else ""}">'
                f'<td class="num">{number}{mark}{draft}</td>'
                f'<td class="candidate-text">{escape(str(candidate.get("text", "")))}</td>'
                f'<td class="num">{_num(candidate.get("uncertainty"))}</td>'
                f'<td class="num">{_num(candidate.get("score"), 4)}</td>{extra}'
                f'<td class="num">{int(candidate.get("n_tokens", 0))}</td></tr>'
            )
        parts.append("</table>")
    parts.append(f'<div class="muted">kept m̂_t={_num(step.get("kept_uncertainty"))}</div>')
    parts.append("</details>")
    return "\n".join(parts)


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    number = float(value)
    return f"{number:.{digits}f}" if math.isfinite(number) else escape(str(number))


def _text(value: Any) -> str:
    return "–" if value is None else escape(str(value))


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
