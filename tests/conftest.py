import os

# No model hub: every model the tests load ships in a package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One llama.cpp thread: the tests share a 2-core machine with other processes, where a second
# thread waits at every barrier (docs/models.md, Threads); the Makefile's TEST_ENV sets it too.
os.environ.setdefault("MUR_GRAPH_THREADS", "1")

from hypothesis import settings

# Hypothesis fails an example that runs over 200 ms: a wall-clock limit that a busy 2-core machine
# (CI beside a benchmark) can break on a pure-math example. Timing is not what these tests check.
settings.register_profile("mur-graph", deadline=None)
settings.load_profile("mur-graph")
