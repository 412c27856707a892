"""Prompts and step formats: the policy's step prompt, the critic's prompts, the revision prompt.

The policy prompt follows the reference code's main branch (spec §5.1): one user turn asking for
steps and a closing "the answer is"; the assistant turn is prefilled with the kept steps (and the
next header), and the model continues it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from mur_graph.config import STEP_FORMAT_NAMES, StepFormatName

ANSWER_INSTRUCTION = "Always end your solution with the phrase 'the answer is' followed by your final answer."

CALCULATOR_INSTRUCTION = (
    "To compute something, write the expression between << and >>, e.g. <<48/2>>; "
    "the calculator fills in the result: <<48/2=24>>."
)
"""Added to the policy's instruction when `MURConfig.calculator` is on (mur_graph/tools/stepping.py)."""


PLAIN_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
"""The system prompt of `plain` mode: how Qwen's math evaluations ask a chat model for a solution."""

_HEADER = re.compile(r"^\s*Step\s?\d+\s*:\s*")


@dataclass(frozen=True)
class StepFormat:
    """How steps are asked for, delimited and written back into later prompts."""

    name: StepFormatName
    headed: bool
    """True: each step opens with a `Step{k}:` header; False: steps are separated by blank lines."""
    instruction: str
    """Appended to the question in the user turn ("Q: …\\n<instruction>"); unused with `system`."""
    system: str | None = None
    """A system prompt instead: the user turn is then the bare question, as a user would ask it."""

    def header(self, index: int) -> str:
        """The text that opens step `index` (empty for unheaded formats)."""
        return f"Step{index}:" if self.headed else ""

    def stops(self, index: int) -> list[str]:
        """Stop strings that end step `index`.

        Headed: the next step's header, with or without a space — not any "Step" inside the
        text, as the reference code does, which cuts steps at words like "Steps".
        Unheaded: a blank line.
        """
        if self.headed:
            return [f"Step{index + 1}:", f"Step {index + 1}:"]
        return ["\n\n"]

    def body(self, text: str) -> str:
        """A step as the model wrote it, as kept: stripped when headed, verbatim when unheaded.

        Unheaded steps keep their leading indentation (a paragraph opening with "   Therefore"), so
        the kept steps, joined, are the model's own text and the next prompt continues it exactly.
        """
        return text.strip() if self.headed else text

    def strip_header(self, text: str) -> str:
        """`text` without a leading step header (`Step3:`, `Step 3:`), stripped; unheaded: stripped.

        A step written by a person may carry its header; the format adds it back when committing.
        """
        return _HEADER.sub("", text, count=1).strip() if self.headed else text.strip()

    def format(self, index: int, body: str) -> str:
        """A kept step as it appears in later prompts (`Step{index}: body`, or the body verbatim)."""
        return f"{self.header(index)} {body.strip()}".rstrip() if self.headed else body

    def paragraphs(self, texts: Sequence[str], cut: Sequence[bool]) -> tuple[list[str], bool]:
        """The kept steps as later prompts join them, and whether the last one is left open.

        `cut[i]`: step i stopped at its token limit, not at the end of its step. Unheaded, such a
        step ended mid-paragraph: it and the step after it are one paragraph (no blank line is
        written between them), and a cut last step leaves its paragraph open for the next step to
        continue. Headed, every step stays its own (the next header follows a cut step).
        """
        if self.headed:
            return list(texts), False
        units: list[str] = []
        open_end = False
        for text, was_cut in zip(texts, cut, strict=True):
            if open_end:
                units[-1] += text
            else:
                units.append(text)
            open_end = was_cut
        return units, open_end

    def extend(self, units: Sequence[str], text: str, *, open_end: bool) -> list[str]:
        """`units` (from `paragraphs`) with `text` after them: glued onto an open last paragraph."""
        if open_end and units and not self.headed:
            return [*units[:-1], units[-1] + text]
        return [*units, text]

    def prefix(self, kept_steps: Sequence[str], index: int, *, open_end: bool = False) -> str:
        """The assistant text the model continues to write step `index`.

        `open_end` (unheaded): the last kept step was cut mid-paragraph; step `index` continues it.
        """
        if self.headed:
            return "\n".join([*kept_steps, self.header(index)])
        if not kept_steps:
            return ""
        return "\n\n".join(kept_steps) + ("" if open_end else "\n\n")

    @property
    def separator(self) -> str:
        """What joins kept steps in a solution: a newline, or a blank line."""
        return "\n" if self.headed else "\n\n"

    def separator_after(self, *, cut: bool) -> str:
        """What follows a kept step in the solution: nothing after an unheaded step cut mid-paragraph."""
        return "" if cut and not self.headed else self.separator

    def solution(self, steps: Sequence[str]) -> str:
        """Kept steps joined into one solution text."""
        return self.separator.join(steps)


STEP_FORMATS: dict[str, StepFormat] = {
    "prompted": StepFormat(
        name="prompted",
        headed=True,
        instruction=(
            "Solve the problem step by step. Start each step with 'Step<k>:' (Step0:, Step1:, ...). "
            + ANSWER_INSTRUCTION
        ),
    ),
    "blank_line": StepFormat(
        name="blank_line",
        headed=False,
        instruction="Solve the problem step by step, one step per paragraph. " + ANSWER_INSTRUCTION,
    ),
    # The model's own way: its chat template, the plain system prompt, the bare question; a step is
    # a paragraph of the solution it writes anyway, so never-scaled steps reproduce the plain model.
    "natural": StepFormat(name="natural", headed=False, instruction="", system=PLAIN_SYSTEM),
}

CRITIC_SYSTEM = (
    "You are a math teacher. Review the last paragraph of a student's solution and judge "
    "whether it is correct."
)

CRITIQUE_SYSTEM = (
    "You are a math teacher. Review and critique the last paragraph of a student's solution. "
    "Analyze it step by step inside <analyze></analyze>, then give your judgement inside "
    "<output></output> as \\boxed{Yes} if the paragraph is correct or \\boxed{No} if it is not."
)


def step_format(name: str) -> StepFormat:
    """Return the step format called `name`.

    Raises:
        ValueError: no such format.
    """
    if name not in STEP_FORMATS:
        msg = f"unknown step format {name!r}; use one of {', '.join(STEP_FORMAT_NAMES)}"
        raise ValueError(msg)
    return STEP_FORMATS[name]


def _question_turns(question: str, fmt: StepFormat, *, calculator: bool = False) -> list[BaseMessage]:
    """The conversation before the answer: the instruction in the user turn, or the format's system prompt."""
    if fmt.system is not None:
        tail = f"\n\n{CALCULATOR_INSTRUCTION}" if calculator else ""
        return [SystemMessage(fmt.system), HumanMessage(question + tail)]
    instruction = f"{fmt.instruction} {CALCULATOR_INSTRUCTION}" if calculator else fmt.instruction
    return [HumanMessage(f"Q: {question}\n{instruction}")]


def _continue(prefix: str) -> list[BaseMessage]:
    """A partial assistant turn to continue, or nothing when the model starts afresh."""
    return [AIMessage(prefix)] if prefix else []


def policy_messages(
    question: str,
    kept_steps: Sequence[str],
    index: int,
    fmt: StepFormat,
    *,
    calculator: bool = False,
    open_end: bool = False,
) -> list[BaseMessage]:
    """Messages that ask the policy for step `index` after `kept_steps`.

    With `calculator`, the instruction also tells the model how to call the calculator;
    `open_end`: the last kept step was cut mid-paragraph and step `index` continues it.
    """
    prefix = fmt.prefix(kept_steps, index, open_end=open_end)
    return [*_question_turns(question, fmt, calculator=calculator), *_continue(prefix)]


def plain_messages(question: str) -> list[BaseMessage]:
    """The model run plainly (`plain` mode): a system prompt and the question, under its own chat template."""
    return [SystemMessage(PLAIN_SYSTEM), HumanMessage(question)]


def continuation_messages(
    question: str,
    kept_steps: Sequence[str],
    candidate: str,
    fmt: StepFormat,
    *,
    calculator: bool = False,
    open_end: bool = False,
    cut: bool = False,
) -> list[BaseMessage]:
    """Messages that ask for the step after `candidate` (φ-decoding's one-step foresight).

    The context is prefix + kept steps + the candidate as step t + the header of step t+1; the
    reference code repeats the trajectory and glues the candidate to its header (spec §2.3).
    `open_end`: the candidate continues the last kept paragraph; `cut`: the candidate itself
    stopped at its token limit, so the rollout continues its paragraph (unheaded formats).
    """
    index = len(kept_steps)
    steps = fmt.extend(kept_steps, fmt.format(index, candidate), open_end=open_end)
    return policy_messages(question, steps, index + 1, fmt, calculator=calculator, open_end=cut)


def _paragraphs(
    kept_steps: Sequence[str], candidate: str, fmt: StepFormat, *, open_end: bool
) -> tuple[str, int]:
    """GenPRM's blocks with `candidate` last, and its 0-based number: glued onto an open paragraph."""
    paragraphs = fmt.extend(kept_steps, fmt.format(len(kept_steps), candidate), open_end=open_end)
    blocks = "\n\n".join(f"<paragraph_{i}>\n{text}\n</paragraph_{i}>" for i, text in enumerate(paragraphs))
    return blocks, len(paragraphs) - 1


def critic_messages(
    question: str, kept_steps: Sequence[str], candidate: str, fmt: StepFormat, *, open_end: bool = False
) -> list[BaseMessage]:
    """Messages asking whether `candidate`, the step after `kept_steps`, is correct (Yes or No).

    The solution is laid out as GenPRM's `<paragraph_i>` blocks, 0-based (spec §5.3). `open_end`:
    the candidate continues the last kept paragraph (cut at its token limit), and the critic is
    asked about that paragraph as the model wrote it, not about a fragment starting mid-sentence.
    """
    blocks, last = _paragraphs(kept_steps, candidate, fmt, open_end=open_end)
    user = (
        f"[Math Problem]\n{question}\n\n[Solution]\n{blocks}\n\n"
        f"Is paragraph {last} correct? Answer with one word: Yes or No."
    )
    return [SystemMessage(CRITIC_SYSTEM), HumanMessage(user)]


def critique_messages(
    question: str, kept_steps: Sequence[str], draft: str, fmt: StepFormat, *, open_end: bool = False
) -> list[BaseMessage]:
    """Messages asking the critic to analyse `draft`; the reply is prefilled as GenPRM's (spec §2.2).

    `open_end`: the draft continues the last kept paragraph (see `critic_messages`).
    """
    blocks, last = _paragraphs(kept_steps, draft, fmt, open_end=open_end)
    user = f"[Math Problem]\n{question}\n\n[Solution]\n{blocks}"
    opening = f"<analyze>\nLet's analyze the paragraph {last} step by step: "
    return [SystemMessage(CRITIQUE_SYSTEM), HumanMessage(user), AIMessage(opening)]


def judgement_messages(critique: Sequence[BaseMessage], analysis: str) -> list[BaseMessage]:
    r"""The critique conversation continued up to the verdict slot after `\boxed{`."""
    *head, opening = critique
    verdict_slot = f"{opening.text}{analysis.strip()}\n</analyze>\n<output>\n**Judgement**: $\\boxed{{"
    return [*head, AIMessage(verdict_slot)]


def revision_messages(
    question: str,
    kept_steps: Sequence[str],
    draft: str,
    analysis: str,
    fmt: StepFormat,
    *,
    calculator: bool = False,
    open_end: bool = False,
) -> list[BaseMessage]:
    """Messages asking the policy to revise step t once, with the critique in the prompt (spec §5.2).

    `open_end`: the draft continues the last kept paragraph.
    """
    index = len(kept_steps)
    attempt = fmt.solution(fmt.extend(kept_steps, fmt.format(index, draft), open_end=open_end))
    feedback = f"Your previous solution is incorrect.\n{analysis.strip()}\nPlease revise your solution."
    opening = f"Refined {fmt.header(index)}" if fmt.headed else ""
    question_turns = _question_turns(question, fmt, calculator=calculator)
    return [*question_turns, AIMessage(attempt), HumanMessage(feedback), *_continue(opening)]
