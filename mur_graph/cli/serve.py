"""`mur-graph serve`: MUR as an OpenAI-compatible reasoning model, on uvicorn."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.markup import escape

from mur_graph.cli.options import (
    UsageError,
    add_model_options,
    add_settings_options,
    config_from_args,
    load_models,
    method_settings_from_args,
)
from mur_graph.scaling import scaling_methods


def add_serve_command(commands: Any) -> None:
    """Add `serve` to the `mur-graph` subcommands."""
    serve = commands.add_parser(
        "serve",
        help="serve MUR as an OpenAI-compatible reasoning model (/v1/chat/completions)",
        description=(
            "Serve /v1/chat/completions and /v1/models: the model name picks the mode (mur, "
            "mur-per-step, mur-cot, mur-plain), a request's body may change any setting below, the steps "
            "stream as reasoning_content. See docs/serving.md."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    add_settings_options(serve, mode=False)
    add_model_options(serve)
    serve.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace, err: Console) -> int:
    """Load the model, then serve until interrupted."""
    if not 0 <= args.port <= 65535:
        msg = f"--port must be in 0..65535, got {args.port}"
        raise UsageError(msg)
    try:
        import uvicorn

        from mur_graph.serve import SERVED_MODELS, create_app
    except ImportError as exc:  # a missing extra fails as every backend's does: one line, exit 1
        from mur_graph.models import MissingDependencyError

        msg = f"mur-graph serve needs the serve extra ({exc.name} is missing): pip install 'mur-graph[serve]'"
        raise MissingDependencyError(msg) from exc
    config = config_from_args(args)
    own = {method: method_settings_from_args(args, method) for method in scaling_methods()}
    with err.status("loading the model…"):
        policy, critic, policy_name, _ = load_models(args)
    app = create_app(policy, critic=critic, config=config, method=args.method, method_settings=own)
    err.print(
        f"[bold]mur-graph serve[/bold] {args.method} · policy: {escape(policy_name)} · "
        f"http://{args.host}:{args.port}/v1 (models: {', '.join(SERVED_MODELS)})"
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0
