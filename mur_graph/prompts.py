"""Prompts: the policy's step prompt, the critic's verdict prompt, and the step header format.

The policy prompt follows the reference code's main branch (spec §5.1): one user turn asking for
`Step{k}:` headers and a closing "the answer is"; the assistant turn is prefilled with the kept
steps and the next header, and the model continues it.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

POLICY_INSTRUCTION = (
    "Solve the problem step by step. Start each step with 'Step<k>:' (Step0:, Step1:, ...). "
    "Always end your solution with the phrase 'the answer is' followed by your final answer."
)

CRITIC_SYSTEM = (
    "You are a math teacher. Review the last paragraph of a student's solution and judge "
    "whether it is correct."
)


def step_header(index: int) -> str:
    """Return the header that opens step `index` (0-based, as in the paper): `Step{index}:`."""
    return f"Step{index}:"


def step_stops(index: int) -> list[str]:
    """Stop strings that end step `index`: the next step's header, with or without a space.

    Stopping at the next header (not at any "Step" inside the text, as the reference code does)
    keeps words like "Steps" or "Step 3 above" inside a step.
    """
    return [step_header(index + 1), f"Step {index + 1}:"]


def format_step(index: int, body: str) -> str:
    """Return a kept step as it appears in later prompts: `Step{index}: body`."""
    return f"{step_header(index)} {body.strip()}".rstrip()


def policy_messages(question: str, kept_steps: Sequence[str], index: int) -> list[BaseMessage]:
    """Messages that ask the policy for step `index` after `kept_steps` (headers included)."""
    prefix = "\n".join([*kept_steps, step_header(index)])
    return [HumanMessage(f"Q: {question}\n{POLICY_INSTRUCTION}"), AIMessage(prefix)]


def fallback_messages(question: str, kept_steps: Sequence[str]) -> list[BaseMessage]:
    """Messages for the final unstopped completion after the last step (spec §1.7).

    Unlike the reference code, which reuses the last step's header, the next header is used.
    """
    return policy_messages(question, kept_steps, len(kept_steps))


def critic_messages(question: str, kept_steps: Sequence[str], candidate: str) -> list[BaseMessage]:
    """Messages asking the critic whether `candidate`, the next step after `kept_steps`, is correct.

    The solution is laid out as `<paragraph_i>` blocks, as in GenPRM's format (spec §5.3); the
    critic answers Yes or No, and the probability of Yes is read from its log-probs.
    """
    paragraphs = [*kept_steps, format_step(len(kept_steps), candidate)]
    solution = "\n\n".join(f"<paragraph_{i}>\n{text}\n</paragraph_{i}>" for i, text in enumerate(paragraphs))
    last = len(paragraphs) - 1
    user = (
        f"[Math Problem]\n{question}\n\n[Solution]\n{solution}\n\n"
        f"Is paragraph {last} correct? Answer with one word: Yes or No."
    )
    return [SystemMessage(CRITIC_SYSTEM), HumanMessage(user)]
