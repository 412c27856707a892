"""Solve one question with MUR on the embedded SmolLM2-135M model, offline, and print the trace.

Run: python examples/solve.py "What is 17 + 25?"
"""

import sys

from mur_graph import MURConfig, create_mur_graph, load_embedded_model

question = sys.argv[1] if len(sys.argv) > 1 else "What is 17 + 25?"
policy = load_embedded_model()
graph = create_mur_graph(
    policy,
    # The default step format, `natural`: a step is a paragraph the model writes in its own chat
    # template; step_format="prompted" gives the paper's `Step<k>:` headers (docs/settings.md).
    config=MURConfig(gamma=0.8, candidates=2, max_steps=4, max_step_tokens=48, fallback_tokens=64, seed=0),
)
result = graph.invoke({"question": question})

for step in result["steps"]:
    decision = f"scaled, kept candidate {step['selected']}" if step["scaled"] else "kept"
    print(f"m_t={step['uncertainty']:.3f} threshold={step['threshold']:.3f} {decision}: {step['text']!r}")
print("answer:", result["answer"], "| tokens:", result["ledger"])
