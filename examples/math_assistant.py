"""A tool-augmented math assistant: MUR on the embedded SmolLM2-135M model, with the calculator on.

Each step may write <<expression>>; the library computes it with the safe calculator, writes the
result into the step and lets the model go on. Offline, on CPU.

Run: python examples/math_assistant.py ["a question"]
"""

import sys

from mur_graph import MURConfig, create_mur_graph, load_embedded_model

# The 135M model seldom writes <<...>> unprompted; a question that shows the syntax gets it to.
QUESTION = "What is 17 + 25? Step0: <<17+25>>"

question = sys.argv[1] if len(sys.argv) > 1 else QUESTION
# The paper's `Step<k>:` format, which the question's example call is written in.
config = MURConfig(
    calculator=True,
    candidates=2,
    max_steps=2,
    max_step_tokens=24,
    fallback_tokens=24,
    seed=1,
    step_format="prompted",
)
graph = create_mur_graph(load_embedded_model(), config=config)
result = graph.invoke({"question": question})

calls = 0
for step in result["steps"]:
    decision = f"scaled, kept candidate {step['selected']}" if step["scaled"] else "kept"
    print(f"m_t={step['uncertainty']:.3f} {decision}: {step['text']!r}")
    for call in step["tool_calls"]:
        calls += 1
        shown = call["output"] if call["output"] is not None else f"error: {call['error']}"
        print(f"  calculator: {call['input']!r} -> {shown!r}")
print(f"answer: {result['answer']!r} | calculator calls: {calls} | tokens: {result['ledger']}")
