"""phi_foresight: simplified φ-decoding — candidates, one-step foresight, clustering (spec §2.3).

Subgraph: sample_candidates → roll_out → select_by_foresight. Each of the N candidates gets a
one-step rollout; its foresight score is the rollout's mean log-prob. Rollouts are clustered
(TF-IDF + k-means, scikit-learn); a candidate's selection probability is the average of
softmax(size of its rollout's cluster) and softmax(foresight), and one candidate is *sampled*
from it with a seeded generator. Fixed against the reference code: the rollout context holds the
trajectory once, empty rollouts are dropped without misaligning indices, and rollout tokens are
booked. A rollout whose prompt the context cannot hold counts as empty.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, cast

from langchain_core.language_models import BaseChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from mur_graph.config import MURConfig, check_positive_int
from mur_graph.node_types import Node
from mur_graph.prompts import continuation_messages
from mur_graph.scaling.candidates import (
    CandidatesState,
    keep_candidate,
    lowest_uncertainty,
    make_sample_candidates,
)
from mur_graph.seeds import ROLLOUT_CALL, SELECTION_DRAW
from mur_graph.state import FALLBACK_SELECTION, Candidate, KeptUpdate, ScalingOutput
from mur_graph.step_call import StepCall

METHOD = "phi_foresight"


@dataclass(frozen=True)
class PhiSettings:
    """φ-decoding's own settings (`create_mur_graph(policy, method="phi", method_settings=...)`)."""

    clusters: int = 2
    """Number of k-means clusters of the foresight rollouts (1 disables clustering)."""

    def __post_init__(self) -> None:
        check_positive_int("clusters", self.clusters)


class PhiCandidate(Candidate):
    """A candidate of φ-decoding: its rollout's foresight and cluster besides the shared keys."""

    foresight: NotRequired[float | None]
    """Mean log-prob of the one-step rollout after this candidate (None: empty rollout)."""
    cluster: NotRequired[int | None]
    """The k-means cluster of the rollout."""


class PhiState(CandidatesState):
    """The parent's keys, plus candidates, their rollouts and the tokens spent."""

    rollouts: NotRequired[list[str]]
    rollout_tokens: NotRequired[int]


def build_phi_foresight_subgraph(
    *, policy: BaseChatModel, critic: BaseChatModel, default: MURConfig, settings: PhiSettings | None = None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Return the compiled φ-decoding subgraph (the critic is not used)."""
    settings = settings or PhiSettings()
    builder = StateGraph(PhiState, context_schema=MURConfig, output_schema=ScalingOutput)
    builder.add_node("sample_candidates", make_sample_candidates(policy, default))
    builder.add_node("roll_out", _make_roll_out(policy, default))
    builder.add_node("select_by_foresight", _make_select(default, settings))
    builder.add_edge(START, "sample_candidates")
    builder.add_edge("sample_candidates", "roll_out")
    builder.add_edge("roll_out", "select_by_foresight")
    builder.add_edge("select_by_foresight", END)
    return builder.compile(name=METHOD)


def _make_roll_out(policy: BaseChatModel, default: MURConfig) -> Node[PhiState]:
    def roll_out(state: PhiState, *, runtime: Runtime[MURConfig]) -> dict[str, Any]:
        step = StepCall.of(state, runtime, default)
        config, fmt = step.config, step.fmt
        step.announce("rollouts")
        candidates: list[PhiCandidate] = []
        rollouts: list[str] = []
        tokens = 0
        for i, candidate in enumerate(state.get("candidates", [])):
            prompt = continuation_messages(
                step.question,
                step.kept,
                candidate["text"],
                fmt,
                calculator=config.calculator,
                open_end=step.open_end,
                cut=candidate.get("finish_reason") == "length",
            )
            rollout = step.sample_if_fits(
                policy,
                prompt,
                call=ROLLOUT_CALL,
                more=(i,),
                stop=fmt.stops(step.index + 1),
                max_tokens=config.max_step_tokens,
            )
            if rollout is None:  # no room after this candidate: dropped, as an empty rollout
                candidates.append({**candidate, "foresight": None})
                rollouts.append("")
                continue
            tokens += rollout.n_tokens
            text = rollout.text.strip()
            foresight = -rollout.uncertainty if text else None
            candidates.append({**candidate, "foresight": foresight})
            rollouts.append(text)
        return {"candidates": candidates, "rollouts": rollouts, "rollout_tokens": tokens}

    return roll_out


def softmax(values: Sequence[float]) -> list[float]:
    """Numerically stable softmax."""
    top = max(values)
    weights = [math.exp(v - top) for v in values]
    total = sum(weights)
    return [w / total for w in weights]


def cluster_labels(texts: Sequence[str], clusters: int, seed: int | None) -> list[int] | None:
    """K-means labels of TF-IDF vectors of `texts`, or None when they cannot be clustered.

    None when there are fewer texts than clusters, or the texts share no vocabulary to vectorise.
    Identical rollouts (common when the model is sure) share a label; scikit-learn's warning that
    it found fewer distinct points than clusters says just that, and is silenced.
    """
    if len(texts) < clusters or clusters < 2:
        return None
    try:
        from sklearn.cluster import KMeans
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.feature_extraction.text import TfidfVectorizer
    except ImportError as exc:
        msg = "φ-decoding clusters rollouts with scikit-learn; install it with: pip install 'mur-graph[phi]'"
        raise ImportError(msg) from exc
    try:
        vectors = TfidfVectorizer().fit_transform(list(texts))
    except ValueError:  # empty vocabulary, e.g. rollouts of punctuation only
        return None
    if vectors.shape[0] < clusters:
        return None
    model = KMeans(n_clusters=clusters, n_init="auto", random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = model.fit_predict(vectors)
    return [int(label) for label in labels]


def selection_probabilities(
    foresight: Sequence[float], labels: Sequence[int] | None
) -> tuple[list[float], str]:
    """Return each rollout's selection probability and the rule used.

    `phi`: the average of softmax(foresight) and softmax(size of the sample's cluster), the
    reference main branch's weighting (it favours the majority cluster). `foresight_only`: the
    softmax of foresight alone, when the rollouts could not be clustered.
    """
    by_foresight = softmax(foresight)
    if labels is None:
        return by_foresight, "foresight_only"
    sizes = [labels.count(label) for label in labels]
    by_cluster = softmax([float(size) for size in sizes])
    return [(f + c) / 2 for f, c in zip(by_foresight, by_cluster, strict=True)], "phi"


def _make_select(default: MURConfig, settings: PhiSettings) -> Node[PhiState]:
    def select_by_foresight(state: PhiState, *, runtime: Runtime[MURConfig]) -> KeptUpdate:
        import numpy as np

        step = StepCall.of(state, runtime, default)
        candidates = cast(list[PhiCandidate], state.get("candidates", []))
        if not candidates:
            msg = "φ-decoding got no candidates to choose from"
            raise ValueError(msg)
        rollouts = state.get("rollouts", [])
        # Only candidates with a non-empty rollout compete; indices stay those of `candidates`.
        alive = [i for i, c in enumerate(candidates) if c.get("foresight") is not None]
        scores: dict[int, float] = {}
        clusters: dict[int, int] = {}
        if alive:
            foresight = [float(candidates[i].get("foresight") or 0.0) for i in alive]
            seed = step.seed(SELECTION_DRAW)
            labels = cluster_labels([rollouts[i] for i in alive], settings.clusters, seed)
            probabilities, selection = selection_probabilities(foresight, labels)
            rng = np.random.default_rng(seed)
            selected = alive[int(rng.choice(len(alive), p=np.asarray(probabilities)))]
            scores = dict(zip(alive, probabilities, strict=True))
            clusters = dict(zip(alive, labels, strict=True)) if labels is not None else {}
        else:  # every rollout empty: rank by the candidates' own log-probs
            selected = lowest_uncertainty(candidates)
            selection = FALLBACK_SELECTION
        ranked: list[PhiCandidate] = [
            {**c, "score": scores.get(i), "cluster": clusters.get(i)} for i, c in enumerate(candidates)
        ]
        tokens = {"candidates": state.get("candidate_tokens", 0), "rollouts": state.get("rollout_tokens", 0)}
        return keep_candidate(
            METHOD,
            list[Candidate](ranked),
            selected=selected,
            selection=selection,
            tokens=tokens,
            runtime=runtime,
            step=step.index,
        )

    return select_by_foresight
