"""`mur-graph models export-hf`: a shipped GGUF as a Hugging Face folder for vLLM (`models.export_hf`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from mur_graph.cli.options import UsageError
from mur_graph.models import EXPORTABLE_MODELS, export_dir, export_hf, is_exported


def add_models_commands(commands: Any) -> None:
    """Add the `models` group and its commands to the `mur-graph` subcommands."""
    models = commands.add_parser("models", help="manage the shipped local models")
    group = models.add_subparsers(dest="models_command", required=True)
    add_export_hf_command(group)


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
