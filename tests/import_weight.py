"""What `import mur_graph` loads and costs, measured in a fresh interpreter (for a unit and an e2e test)."""

import json
import subprocess
from pathlib import Path

HEAVY = ("torch", "transformers", "langchain_huggingface", "accelerate", "llama_cpp", "numpy")
"""Modules of the backends' extras; importing the package (or building the CLI's parser) loads none."""
_CODE = """
import json, sys, time
started = time.process_time()
import mur_graph
cpu = time.process_time() - started
if sys.argv[1] == "cli":
    from mur_graph.cli import build_parser
    build_parser()
heavy = [m for m in sys.argv[2:] if m in sys.modules]
print(json.dumps({"file": mur_graph.__file__, "cpu_s": cpu, "heavy": heavy}))
"""


def import_report(python: str | Path, cwd: Path, env: dict[str, str], *, cli: bool = False) -> dict:
    """{"file": mur_graph's path, "cpu_s": CPU seconds of the import, "heavy": HEAVY modules loaded}."""
    command = [str(python), "-c", _CODE, "cli" if cli else "package", *HEAVY]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)
