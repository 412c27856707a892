"""The nodes of the MUR graph, one module each; each `make_*` binds models and default settings."""

from mur_graph.nodes.accept import accept
from mur_graph.nodes.assess_uncertainty import make_assess_uncertainty
from mur_graph.nodes.commit_step import make_commit_step
from mur_graph.nodes.finalize import make_finalize
from mur_graph.nodes.generate_step import make_generate_step
from mur_graph.nodes.review_scale import make_review_scale

__all__ = [
    "accept",
    "make_assess_uncertainty",
    "make_commit_step",
    "make_finalize",
    "make_generate_step",
    "make_review_scale",
]
