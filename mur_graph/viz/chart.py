"""The momentum chart of a trace as inline SVG: m_t per step against the gate's threshold."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 18, 56
COLOURS = {
    "m_t": "#2f6fd0",
    "threshold": "#d0502f",
    "momentum": "#8a8a8a",
    "scaled": "#d0502f",
    "kept": "#1f9d55",
}


def momentum_chart(steps: Sequence[Mapping[str, Any]]) -> str:
    """An SVG line chart: the draft's m_t, the threshold M_{t-1} + ln(1/γ) and M_{t-1} per step.

    Scaled steps get a shaded band and a filled red marker, with the kept step's m̂_t as a green
    diamond; a step where the gate fired but the mode did not scale gets a hollow red marker.
    Every marker carries a `<title>` tooltip with its numbers.
    """
    if not steps:
        return '<p class="empty">No steps were committed, so there is nothing to chart.</p>'
    values = [
        float(v)
        for step in steps
        for v in (
            step["uncertainty"],
            step["threshold"],
            step["momentum_before"],
            step.get("kept_uncertainty"),
        )
        if v is not None and math.isfinite(float(v))
    ]
    top = _nice_ceiling(max([*values, 0.0]))
    xs = [_x(i, len(steps)) for i in range(len(steps))]

    def y(value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        'aria-label="uncertainty m_t per step against the momentum threshold">'
    ]
    band = (xs[1] - xs[0]) * 0.8 if len(xs) > 1 else 40.0
    for x, step in zip(xs, steps, strict=True):
        if step["scaled"]:
            left, right = max(x - band / 2, LEFT), min(x + band / 2, WIDTH - RIGHT)
            parts.append(
                f'<rect class="scaled-band" x="{left:.1f}" y="{TOP}" width="{right - left:.1f}" '
                f'height="{HEIGHT - TOP - BOTTOM}" fill="#fff1d6"/>'
            )
    parts += _axes(top, y, xs, steps)
    parts.append(_polyline(xs, [s["momentum_before"] for s in steps], y, COLOURS["momentum"], "2 3"))
    parts.append(_polyline(xs, [s["threshold"] for s in steps], y, COLOURS["threshold"], "6 4"))
    parts.append(_polyline(xs, [s["uncertainty"] for s in steps], y, COLOURS["m_t"], None))
    for x, step in zip(xs, steps, strict=True):
        if math.isfinite(float(step["threshold"])):  # a dash per step: visible even for one step
            ty = y(float(step["threshold"]))
            parts.append(
                f'<line class="threshold-mark" x1="{x - 8:.1f}" x2="{x + 8:.1f}" y1="{ty:.1f}" '
                f'y2="{ty:.1f}" stroke="{COLOURS["threshold"]}" stroke-width="3"/>'
            )
        parts.append(_marker(x, y, step))
    parts += _legend()
    parts.append("</svg>")
    return "\n".join(parts)


def _x(i: int, n: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + span / 2 if n == 1 else LEFT + 20 + (span - 40) * i / (n - 1)


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above `value` (at least 0.1)."""
    value = max(value * 1.08, 0.1)
    power = 10 ** math.floor(math.log10(value))
    return next(power * m for m in (1, 2, 2.5, 5, 10) if power * m >= value)


def _axes(top: float, y: Any, xs: list[float], steps: Sequence[Mapping[str, Any]]) -> list[str]:
    parts = []
    for k in range(5):
        value = top * k / 4
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#e3e3e3"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" class="tick">{value:.3g}</text>'
        )
    every = max(1, math.ceil(len(xs) / 20))
    for i, (x, step) in enumerate(zip(xs, steps, strict=True)):
        if i % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" class="tick">'
                f"{int(step['index'])}</text>"
            )
    parts.append(
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - BOTTOM + 32}" text-anchor="middle" '
        'class="axis">step t</text>'
    )
    parts.append(
        f'<text x="14" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" class="axis" '
        f'transform="rotate(-90 14 {(TOP + HEIGHT - BOTTOM) / 2})">nats / token</text>'
    )
    return parts


def _polyline(xs: list[float], values: list[Any], y: Any, colour: str, dash: str | None) -> str:
    points = " ".join(
        f"{x:.1f},{y(float(v)):.1f}" for x, v in zip(xs, values, strict=True) if math.isfinite(float(v))
    )
    dashing = f' stroke-dasharray="{dash}"' if dash else ""
    return f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"{dashing}/>'


def _marker(x: float, y: Any, step: Mapping[str, Any]) -> str:
    m_t = float(step["uncertainty"])
    tip = (
        f"Step{step['index']}: m_t={m_t:.3f}, threshold={float(step['threshold']):.3f}, "
        f"M_t-1={float(step['momentum_before']):.3f}"
    )
    if step["scaled"]:
        kept = step.get("kept_uncertainty")
        mark = (
            f'<circle class="point scaled" cx="{x:.1f}" cy="{y(m_t):.1f}" r="6" fill="{COLOURS["scaled"]}">'
            f"<title>{escape(tip)} (scaled)</title></circle>"
        )
        if kept is not None and math.isfinite(float(kept)):
            ky = y(float(kept))
            mark += (
                f'<path class="kept-mark" d="M{x:.1f},{ky - 6:.1f} L{x + 6:.1f},{ky:.1f} L{x:.1f},'
                f'{ky + 6:.1f} L{x - 6:.1f},{ky:.1f} Z" fill="{COLOURS["kept"]}">'
                f"<title>Step{step['index']}: kept m̂_t={float(kept):.3f}</title></path>"
            )
        return mark
    fill = "#ffffff" if step["gate_fired"] else COLOURS["m_t"]
    stroke = COLOURS["scaled"] if step["gate_fired"] else COLOURS["m_t"]
    note = " (gate fired, not scaled by the mode)" if step["gate_fired"] else ""
    return (
        f'<circle class="point" cx="{x:.1f}" cy="{y(m_t):.1f}" r="4" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="2"><title>{escape(tip + note)}</title></circle>'
    )


def _legend() -> list[str]:
    entries = [
        ("line", COLOURS["m_t"], None, "m_t (draft)"),
        ("line", COLOURS["threshold"], "6 4", "threshold M_{t-1} + ln 1/γ"),
        ("line", COLOURS["momentum"], "2 3", "M_{t-1}"),
        ("circle", COLOURS["scaled"], None, "scaled step"),
        ("diamond", COLOURS["kept"], None, "kept m̂_t"),
    ]
    parts = []
    x, y = LEFT, HEIGHT - 10
    for shape, colour, dash, label in entries:
        if shape == "line":
            dashing = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<line x1="{x}" x2="{x + 22}" y1="{y - 4}" y2="{y - 4}" stroke="{colour}" '
                f'stroke-width="2"{dashing}/>'
            )
        elif shape == "circle":
            parts.append(f'<circle cx="{x + 11}" cy="{y - 4}" r="5" fill="{colour}"/>')
        else:
            parts.append(
                f'<path d="M{x + 11},{y - 10} L{x + 17},{y - 4} L{x + 11},{y + 2} L{x + 5},{y - 4} Z" '
                f'fill="{colour}"/>'
            )
        parts.append(f'<text x="{x + 28}" y="{y}" class="legend">{escape(label)}</text>')
        x += 28 + 7 * len(label) + 18
    return parts
