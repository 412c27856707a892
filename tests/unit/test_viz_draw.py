"""`mur-graph draw`: the graph's structure as Mermaid, DOT, SVG and PNG, offline, without a model."""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mur_graph import create_mur_graph
from mur_graph.cli import main
from mur_graph.viz import draw as draw_module
from mur_graph.viz.draw import GraphvizMissingError, draw, structure, to_dot
from tests.fakes import ScriptedChatModel

MAIN_NODES = ("generate_step", "assess_uncertainty", "accept", "commit_step", "finalize")
SUBGRAPHS = {
    "guided_search": ("sample_candidates", "score_candidates", "select_candidate"),
    "critic": ("critique_draft", "revise_step", "keep_draft"),
    "phi": ("sample_candidates", "roll_out", "select_by_foresight"),
}
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


@pytest.mark.parametrize("method", SUBGRAPHS)
def test_mermaid_has_every_node_and_xray_shows_the_subgraph(method):
    plain = draw(method).decode()
    xray = draw(method, xray=True).decode()
    for node in MAIN_NODES:
        assert node in plain and node in xray
    canonical = {"critic": "critic_refine", "phi": "phi_foresight"}.get(method, method)
    assert f"-. &nbsp;scale&nbsp; .-> {canonical}" in plain
    assert f"subgraph {canonical}" in xray and "subgraph" not in plain
    for inner in SUBGRAPHS[method]:
        assert inner in xray and inner not in plain


def test_dot_puts_the_subgraph_in_a_cluster_and_dashes_conditional_edges():
    dot = to_dot(structure("guided_search", xray=True))
    assert dot.startswith("digraph mur {") and dot.rstrip().endswith("}")
    assert 'subgraph cluster_0 {\n    label="guided_search";' in dot
    assert '"guided_search:score_candidates" [label="score_candidates"];' in dot
    assert '"assess_uncertainty" -> "guided_search:sample_candidates" [style=dashed, label=" scale "];' in dot
    assert '"generate_step" -> "assess_uncertainty" [style=dashed];' in dot
    assert '"generate_step" -> "finalize" [style=dashed, label=" context_full "];' in dot


@needs_dot
def test_svg_is_valid_and_names_every_node():
    svg = draw("phi", xray=True, fmt="svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    texts = {(el.text or "").strip() for el in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {*MAIN_NODES, *SUBGRAPHS["phi"], "phi_foresight", "scale", "start", "end"} <= texts


@needs_dot
def test_png_is_a_png():
    png = draw("critic", xray=True, fmt="png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000


def test_a_missing_graphviz_names_the_package(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(draw_module.shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissingError, match="apt-get install graphviz"):
        draw(fmt="svg")
    assert main(["draw", "--out", str(tmp_path / "g.svg")]) == 1
    assert "needs Graphviz's `dot`" in capsys.readouterr().err
    assert not (tmp_path / "g.svg").exists()
    assert main(["draw", "--format", "mermaid"]) == 0  # Mermaid text needs no renderer


def test_cli_prints_mermaid_by_default(capsys):
    assert main(["draw", "--method", "critic", "--xray"]) == 0
    out = capsys.readouterr().out
    assert "graph TD;" in out and "critic_refine\\3acritique_draft" in out


@needs_dot
def test_cli_guesses_the_format_from_the_suffix(tmp_path):
    assert main(["draw", "--out", str(tmp_path / "g.svg")]) == 0
    assert ET.parse(tmp_path / "g.svg").getroot().tag.endswith("svg")
    assert main(["draw", "--xray", "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["draw", "--format", "dot", "--out", str(tmp_path / "g.txt")]) == 0
    assert (tmp_path / "g.txt").read_text().startswith("digraph mur {")


def test_png_to_a_terminal_is_refused(capsys):
    assert main(["draw", "--format", "png"]) == 2
    assert "pass --out FILE.png" in capsys.readouterr().err


def test_the_stand_in_model_refuses_to_generate():
    graph = structure("guided_search")
    assert "generate_step" in graph.nodes
    model = draw_module._StructureOnlyModel()
    with pytest.raises(RuntimeError, match="only stands in for drawing"):
        model.invoke("hello")


def test_the_readmes_graph_is_what_draw_mermaid_prints():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```mermaid\n", 1)[1].split("```", 1)[0]
    graph = create_mur_graph(ScriptedChatModel(script=[]))
    assert block.strip() == graph.get_graph().draw_mermaid(with_styles=False).strip()
