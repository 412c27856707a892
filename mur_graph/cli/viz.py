"""`mur-graph draw` (the graph's structure) and `mur-graph view` (one reasoning path as HTML)."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, cast

from rich.console import Console
from rich.markup import escape

from mur_graph.cli.options import UsageError
from mur_graph.scaling import ALIASES, scaling_methods
from mur_graph.viz.draw import FORMATS, Format
from mur_graph.viz.traces import TraceError

_SUFFIX_FORMATS: dict[str, Format] = {
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
    ".svg": "svg",
    ".png": "png",
}


def add_viz_commands(commands: Any) -> None:
    """Add `draw` and `view` to the `mur-graph` subcommands."""
    draw = commands.add_parser(
        "draw",
        help="draw the graph's structure (Mermaid, DOT, SVG, PNG; offline)",
        description=(
            "Draw MUR's LangGraph structure without loading a model. Mermaid and DOT are text; "
            "SVG and PNG are rendered locally by Graphviz's dot (no web service)."
        ),
    )
    draw.add_argument(
        "--method",
        default="guided_search",
        choices=[*scaling_methods(), *ALIASES],
        help="the scaling subgraph drawn (default guided_search)",
    )
    draw.add_argument("--xray", action="store_true", help="show the nodes inside the scaling subgraph")
    draw.add_argument(
        "--format", choices=FORMATS, help="mermaid (default), dot, svg or png; guessed from --out's suffix"
    )
    draw.add_argument("--out", type=Path, help="file to write (default: stdout; needed for png)")
    draw.set_defaults(handler=_draw)

    view = commands.add_parser(
        "view",
        help="render one solved problem's reasoning path as a self-contained HTML page",
        description=(
            "Write an HTML page (no network, no scripts) of one trace: the question, the answer, the "
            "token ledger, m_t against the momentum threshold per step, and every step with the "
            "candidates and scores of the scaled ones."
        ),
    )
    view.add_argument("result", type=Path, help="a `mur-graph solve --json` output or an eval results file")
    pick = view.add_mutually_exclusive_group()
    pick.add_argument("--question", metavar="ID", help="the id of the question (eval results file)")
    pick.add_argument("--index", type=int, help="the 0-based position of the question (eval results file)")
    view.add_argument("--out", type=Path, help="HTML file to write (default: next to RESULT); - for stdout")
    view.set_defaults(handler=_view)


def _draw(args: argparse.Namespace, err: Console) -> int:
    from mur_graph.viz.draw import draw

    fmt = args.format or (args.out and _SUFFIX_FORMATS.get(args.out.suffix.lower())) or "mermaid"
    if fmt == "png" and args.out is None:
        msg = "PNG is binary; pass --out FILE.png"
        raise UsageError(msg)
    data = draw(args.method, xray=args.xray, fmt=cast(Format, fmt))  # no Graphviz: main reports it
    if args.out is None:
        sys.stdout.write(data.decode())
    else:
        args.out.write_bytes(data)
        err.print(f"wrote {escape(str(args.out))} ({fmt})")
    return 0


def _view(args: argparse.Namespace, err: Console) -> int:
    from mur_graph.viz.html import render_page
    from mur_graph.viz.traces import load_trace

    try:
        trace = load_trace(args.result, question=args.question, index=args.index)
    except TraceError as exc:
        raise UsageError(str(exc)) from exc
    page = render_page(trace)
    if args.out is not None and str(args.out) == "-":
        sys.stdout.write(page)
        return 0
    out = args.out or _default_out(args.result, trace.record)
    out.write_text(page, encoding="utf-8")
    where = f" ({trace.position}, id {trace.record['id']})" if trace.record else ""
    err.print(f"wrote {escape(str(out))}{escape(where)}")
    return 0


def _default_out(result: Path, record: dict[str, Any] | None) -> Path:
    """`trace.json` → `trace.html`; `runs.jsonl` → `runs.<id>.html` for one question of a results file."""
    if record is None:
        return result.with_suffix(".html")
    label = re.sub(r"[^A-Za-z0-9._-]+", "_", str(record["id"])).strip("_") or "question"
    return result.with_name(f"{result.stem}.{label}.html")
