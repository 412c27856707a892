"""Critic kinds: how guided search scores its N candidates and picks one (`GuidedSearchSettings.critic_kind`).

- `generative` (the paper, spec §2.1): the critic model's P(Yes) to "is this step correct",
  read at the verdict slot; against a server the N verdicts are asked concurrently
  (`critic_concurrency`).
- `confidence`: the candidate with the lowest uncertainty m_t wins (score = −m_t, the mean
  log-prob); no critic call, no critic tokens.
- `vote`: step-level self-consistency. A candidate's claims are the final answer it states and
  the results it computes (a number as the whole right-hand side of an `=`, a calculator call's
  output); its score is how many other candidates share a claim with it. Most votes wins (ties:
  lowest m_t); when the votes single out no one (no two agree, or all have the same votes), the
  lowest m_t wins (`logprob_fallback`). No critic tokens.

A kind is a `CriticKind` (a scorer and a chooser); register your own with `register_critic_kind`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from mur_graph.claims import step_claims
from mur_graph.config import MURConfig
from mur_graph.models.contract import is_server, sample_each
from mur_graph.prompts import critic_messages, step_format
from mur_graph.scaling.candidates import lowest_uncertainty
from mur_graph.scoring import yes_probability
from mur_graph.seeds import CRITIC_CALL, derive_seed
from mur_graph.state import FALLBACK_SELECTION, Candidate

CRITIC_TOP_LOGPROBS = 10
DEFAULT_CRITIC_KIND = "generative"


@dataclass(frozen=True)
class ScoreRequest:
    """What a critic kind may look at to score the candidates of step `step`."""

    question: str
    kept: Sequence[str]
    """The committed steps' texts, headers included."""
    candidates: Sequence[Candidate]
    step: int
    config: MURConfig
    critic: BaseChatModel
    open_end: bool = False
    """The last kept paragraph was cut mid-way and the candidates continue it (unheaded formats)."""


@dataclass(frozen=True)
class Scores:
    """One score per candidate (None: unreadable) and the critic tokens spent getting them."""

    scores: list[float | None]
    critic_tokens: int = 0


@dataclass(frozen=True)
class CriticKind:
    """A way to score candidates and choose among them."""

    name: str
    score: Callable[[ScoreRequest], Scores]
    choose: Callable[[Sequence[Candidate]], tuple[int, str]]
    """Returns the index of the kept candidate and the step record's `selection`."""
    asks_critic: bool
    """Whether `score` calls the critic model (and spends critic tokens)."""


def generative_scores(request: ScoreRequest) -> Scores:
    """The critic's P(Yes) per candidate; greedy verdicts, `verdict_concurrency` at a time.

    A candidate whose verdict prompt the critic's context cannot hold gets no score (None), as an
    unreadable verdict: near the end of a long solution the run goes on rather than failing.
    """
    config = request.config
    fmt = step_format(config.step_format)
    verdicts = sample_each(
        request.critic,
        [
            critic_messages(request.question, request.kept, c["text"], fmt, open_end=request.open_end)
            for c in request.candidates
        ],
        # Greedy: the score is read from the distribution at the verdict slot, so sampling would
        # only add noise to the tokens before it.
        seeds=[
            derive_seed(config.seed, request.step, CRITIC_CALL, i) for i in range(len(request.candidates))
        ],
        concurrency=verdict_concurrency(config, request.critic, len(request.candidates)),
        max_tokens=config.critic_tokens,
        temperature=0.0,
        top_logprobs=CRITIC_TOP_LOGPROBS,
        unfitting_as_none=True,
    )
    return Scores(
        [None if v is None else yes_probability(v.top_logprobs) for v in verdicts],
        sum(v.n_tokens for v in verdicts if v is not None),
    )


def verdict_concurrency(config: MURConfig, critic: BaseChatModel, n: int) -> int:
    """Verdicts in flight: `critic_concurrency`, else all N against a server and 1 on a local model.

    On a local model the N calls would share the same cores and lose the prefix the first call
    leaves for the others: on 2 CPU cores, concurrent verdicts were slower (docs/performance.md).
    """
    if config.critic_concurrency is not None:
        return config.critic_concurrency
    return max(1, n) if is_server(critic) else 1


def choose_by_critic(candidates: Sequence[Candidate]) -> tuple[int, str]:
    """Highest critic score wins (ties: the first, as in the reference code).

    Candidates whose verdict was unreadable rank below all scored ones. With no readable verdict
    at all, the lowest uncertainty wins (`logprob_fallback`).
    """
    _require(candidates)
    scored = [(c["score"], -i) for i, c in enumerate(candidates) if c["score"] is not None]
    if scored:
        _, neg_index = max(scored)
        return -neg_index, "critic"
    return lowest_uncertainty(list(candidates)), FALLBACK_SELECTION


def confidence_scores(request: ScoreRequest) -> Scores:
    """−m_t per candidate: its mean log-prob."""
    return Scores([-c["uncertainty"] for c in request.candidates])


def choose_by_confidence(candidates: Sequence[Candidate]) -> tuple[int, str]:
    """The lowest m_t wins (ties: the first)."""
    _require(candidates)
    return lowest_uncertainty(list(candidates)), "confidence"


def claims(candidate: Candidate) -> frozenset[str]:
    """What a candidate asserts that others can agree with: its answer and the results it computes.

    Results are the numbers it writes as the whole right-hand side of an `=` and its calculator
    calls' outputs (`mur_graph.claims.step_claims`).
    """
    outputs = [call["output"] for call in candidate.get("tool_calls", []) if call["output"] is not None]
    return step_claims(candidate["text"], outputs)


def vote_scores(request: ScoreRequest) -> Scores:
    """Per candidate, the number of other candidates that share a claim with it."""
    scores: list[float | None] = list(vote_counts(request.candidates))
    return Scores(scores)


def vote_counts(candidates: Sequence[Candidate]) -> list[float]:
    """Per candidate, the number of other candidates that share a claim with it."""
    sets = [claims(c) for c in candidates]
    return [
        float(sum(1 for j, other in enumerate(sets) if j != i and mine & other))
        for i, mine in enumerate(sets)
    ]


def choose_by_vote(candidates: Sequence[Candidate]) -> tuple[int, str]:
    """Most votes wins, ties broken by the lowest m_t.

    When the votes single out no one (no two candidates agree, or all have the same votes), the
    lowest m_t decides alone: that is the fallback, not a vote.
    """
    _require(candidates)
    votes = [c["score"] or 0.0 for c in candidates]
    best = max(votes)
    tied = [i for i, v in enumerate(votes) if v == best]
    if best <= 0.0 or len(tied) == len(candidates):
        return lowest_uncertainty(list(candidates)), FALLBACK_SELECTION
    return min(tied, key=lambda i: (candidates[i]["uncertainty"], i)), "vote"


_REGISTRY: dict[str, CriticKind] = {
    kind.name: kind
    for kind in (
        CriticKind("generative", generative_scores, choose_by_critic, asks_critic=True),
        CriticKind("confidence", confidence_scores, choose_by_confidence, asks_critic=False),
        CriticKind("vote", vote_scores, choose_by_vote, asks_critic=False),
    )
}


def register_critic_kind(kind: CriticKind, *, replace: bool = False) -> None:
    """Make `kind` selectable as guided search's `method_settings={"critic_kind": kind.name}`.

    Raises:
        ValueError: the name is taken and `replace` is False.
    """
    if kind.name in _REGISTRY and not replace:
        msg = f"critic kind {kind.name!r} is already registered; pass replace=True to override it"
        raise ValueError(msg)
    _REGISTRY[kind.name] = kind


def critic_kinds() -> list[str]:
    """Return the names of the registered critic kinds."""
    return sorted(_REGISTRY)


def get_critic_kind(name: str) -> CriticKind:
    """Return the registered critic kind `name`.

    Raises:
        ValueError: no kind of that name is registered.
    """
    if name not in _REGISTRY:
        msg = f"unknown critic kind {name!r}; registered kinds: {', '.join(critic_kinds())}"
        raise ValueError(msg)
    return _REGISTRY[name]


def _require(candidates: Sequence[Candidate]) -> None:
    if not candidates:
        msg = "guided search got no candidates to choose from"
        raise ValueError(msg)
