"""MUR as a reasoning model behind OpenAI's chat completions API (`mur-graph serve`, `langgraph dev`).

Needs the `serve` extra (`pip install 'mur-graph[serve]'`: Starlette, sse-starlette, uvicorn).
See docs/serving.md.
"""

from mur_graph.serve.app import create_app
from mur_graph.serve.request import SERVED_MODELS

__all__ = ["SERVED_MODELS", "create_app"]
