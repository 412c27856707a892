"""The MUR graph's structure as Mermaid text, or as SVG / PNG rendered offline by Graphviz.

The structure does not depend on the model, so the graph is built on a stand-in model that
refuses to generate: drawing never loads weights. SVG and PNG come from Graphviz's `dot` run on
a DOT description made from `get_graph()`'s nodes and edges; nothing goes over the network
(langchain-core's `draw_mermaid_png` would send the graph to the mermaid.ink web service).
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables.graph import Graph

from mur_graph.errors import MURError
from mur_graph.scaling import paper_config

Format = Literal["mermaid", "dot", "svg", "png"]
FORMATS: tuple[Format, ...] = ("mermaid", "dot", "svg", "png")
GRAPHVIZ_HINT = (
    "install Graphviz: apt-get install graphviz (Debian/Ubuntu), dnf install graphviz (Fedora), "
    "brew install graphviz (macOS); or use --format mermaid"
)

_NODE_STYLE = 'shape=box, style="rounded,filled", fillcolor="#f2f0ff", color="#6c5fc7"'
_TERMINAL_STYLE = 'shape=ellipse, style=filled, fillcolor="#bfb6fc", color="#6c5fc7"'


class GraphvizMissingError(MURError, RuntimeError):
    """Graphviz's `dot` is not installed, so SVG and PNG cannot be rendered."""


class _StructureOnlyModel(BaseChatModel):
    """Stands in for the policy when only the graph's structure is wanted; it never generates."""

    @property
    def _llm_type(self) -> str:
        return "structure-only"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        msg = "this model only stands in for drawing the graph's structure; it cannot generate"
        raise RuntimeError(msg)


def structure(method: str = "guided_search", *, xray: bool = False) -> Graph:
    """Return the drawable graph of MUR with `method`'s scaling subgraph, without loading a model.

    Args:
        method: a registered scaling method or alias (`guided_search`, `critic`, `phi`, ...).
        xray: show the nodes inside the scaling subgraph.
    """
    from mur_graph.graph import create_mur_graph

    model = _StructureOnlyModel()
    graph = create_mur_graph(model, method=method, config=paper_config(method))
    return graph.get_graph(xray=xray)


def to_mermaid(graph: Graph) -> str:
    """Mermaid text of the graph, as LangGraph draws it."""
    return graph.draw_mermaid()


def to_dot(graph: Graph) -> str:
    """A Graphviz DOT description: subgraph nodes (`method:node`) in a cluster, conditional edges dashed."""
    lines = [
        "digraph mur {",
        '  graph [rankdir=TB, fontname="DejaVu Sans", fontsize=12, nodesep=0.5, ranksep=0.45];',
        f'  node [fontname="DejaVu Sans", fontsize=12, {_NODE_STYLE}];',
        '  edge [fontname="DejaVu Sans", fontsize=10, color="#444444"];',
    ]
    clusters: dict[str, list[str]] = {}
    for node in graph.nodes.values():
        prefix, _, _ = node.id.rpartition(":")
        terminal = node.name in ("__start__", "__end__")
        style = f", {_TERMINAL_STYLE}" if terminal else ""
        line = f"{_quote(node.id)} [label={_quote(node.name.strip('_') if terminal else node.name)}{style}];"
        clusters.setdefault(prefix, []).append(line)
    lines += [f"  {line}" for line in clusters.pop("", [])]
    for number, (prefix, members) in enumerate(clusters.items()):
        lines.append(f"  subgraph cluster_{number} {{")
        lines.append(f'    label={_quote(prefix)}; style="rounded,dashed"; color="#6c5fc7";')
        lines += [f"    {line}" for line in members]
        lines.append("  }")
    for edge in graph.edges:
        attributes = ["style=dashed"] if edge.conditional else []
        if edge.data is not None:
            attributes.append(f"label={_quote(' ' + str(edge.data) + ' ')}")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {_quote(edge.source)} -> {_quote(edge.target)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_dot(dot: str, fmt: Literal["svg", "png"]) -> bytes:
    """Render DOT text to SVG or PNG with the local Graphviz `dot` (no network).

    Raises:
        GraphvizMissingError: `dot` is not on PATH; the message says how to install it.
    """
    executable = shutil.which("dot")
    if executable is None:
        msg = f"rendering {fmt.upper()} needs Graphviz's `dot`, which is not installed; {GRAPHVIZ_HINT}"
        raise GraphvizMissingError(msg)
    command = [executable, f"-T{fmt}"] + (["-Gdpi=144"] if fmt == "png" else [])
    done = subprocess.run(command, input=dot.encode(), capture_output=True, timeout=60, check=False)
    if done.returncode != 0:
        msg = f"Graphviz's dot failed ({done.returncode}): {done.stderr.decode(errors='replace').strip()}"
        raise GraphvizMissingError(msg)
    return done.stdout


def draw(method: str = "guided_search", *, xray: bool = False, fmt: Format = "mermaid") -> bytes:
    """The MUR graph drawn in `fmt`: Mermaid or DOT text (UTF-8), or an SVG / PNG image."""
    graph = structure(method, xray=xray)
    if fmt == "mermaid":
        return to_mermaid(graph).encode()
    dot = to_dot(graph)
    if fmt == "dot":
        return dot.encode()
    return render_dot(dot, fmt)


def _quote(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
