"""The base class of every error mur-graph raises on purpose, so callers can catch them all at once."""

from __future__ import annotations

__all__ = ["MURError"]


class MURError(Exception):
    """An error mur-graph raises with a message that names the fix (bad input, a missing model, a server).

    Library errors subclass it next to the builtin they refine (e.g. `MissingLogprobsError(MURError,
    ValueError)`), so `except ValueError` keeps working and `except MURError` catches them all.
    """
