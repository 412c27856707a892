"""The `mur-graph` command line: every command lives here, the library never imports it.

`app` holds the parser, `main` and `solve`; `options` the options shared by the commands and what
they build; `eval` the `eval`, `report`, `sweep` and `calibrate` commands; `viz` `draw` and `view`;
`serve` the OpenAI-compatible endpoint.
"""

from __future__ import annotations

from mur_graph.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
