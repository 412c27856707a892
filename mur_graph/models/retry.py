"""Retrying an in-process model call after a failure that a reset may cure."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["retrying"]

_T = TypeVar("_T")


def retrying(
    action: Callable[[], _T],
    retries: int,
    errors: type[BaseException] | tuple[type[BaseException], ...],
    reset: Callable[[], None],
) -> _T:
    """Run `action`; on one of `errors`, call `reset` and run it again, up to `retries` more times.

    The last failure is raised as is. (Server clients retry in the OpenAI client, with backoff.)
    """
    attempt = 0
    while True:
        try:
            return action()
        except errors:
            if attempt >= retries:
                raise
            attempt += 1
            reset()
