"""The model layer's errors: each a `MURError` and the builtin it refines; messages name the fix."""

from __future__ import annotations

from mur_graph.errors import MURError

__all__ = [
    "ContextLengthError",
    "EmbeddedModelError",
    "InvalidLogprobsError",
    "MissingDependencyError",
    "MissingLogprobsError",
    "QwenModelError",
    "ServerError",
    "ServerRequestError",
    "ServerUnavailableError",
]


class MissingLogprobsError(MURError, ValueError):
    """The model returned no per-token log-probs, which MUR needs to measure uncertainty."""


class InvalidLogprobsError(MissingLogprobsError):
    """The model returned log-probs that are not log-probabilities (NaN, positive, non-numeric)."""


class ContextLengthError(MURError, ValueError):
    """The prompt does not fit in the model's context window."""


class ServerError(MURError, ConnectionError):
    """A request to an OpenAI-compatible server failed; the message names the server and the fix."""


class ServerUnavailableError(ServerError):
    """The server could not be reached, timed out or failed (HTTP 5xx), after the client's retries."""


class ServerRequestError(ServerError):
    """The server refused the request (HTTP 4xx other than a too-long prompt), e.g. an unknown model."""


class EmbeddedModelError(MURError, RuntimeError):
    """A local model or its runtime cannot be found or converted; the message says how to fix it."""


class QwenModelError(EmbeddedModelError):
    """The 1.5B model's parts are missing or do not join into the pinned file; the message says why."""


class MissingDependencyError(MURError, ImportError):
    """An optional package a backend needs is not installed; the message names the install command."""
