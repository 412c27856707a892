"""Checkpoints on PostgreSQL for long runs: a `PostgresSaver` over a pool that outlives model calls.

A MUR run writes a checkpoint after each superstep, and between two writes a model call may take
minutes, or a review may wait for days. A single connection held that long can be gone when the
next write comes (an idle timeout, a proxy, a server restart), and the run fails after its model
call. The pool hands each write a connection it has checked (`check_connection`, a round trip
before use), closes connections idle longer than `max_idle` seconds, and asks for TCP keepalives,
so a dropped connection is replaced instead of failing the run. Needs the `postgres` extra.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mur_graph.models.errors import MissingDependencyError

POOL_MAX_IDLE_S = 60.0
"""Close a pooled connection idle for longer than this (PostgreSQL or a proxy may drop it first)."""
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
"""libpq's TCP keepalives: probe an idle connection after 30 s, every 10 s, give up after 3 misses."""
CONNECTION_KWARGS = {"autocommit": True, "prepare_threshold": 0, **KEEPALIVES}
"""What `PostgresSaver` needs of each connection (autocommit, no prepared statements), plus keepalives."""

__all__ = ["CONNECTION_KWARGS", "KEEPALIVES", "POOL_MAX_IDLE_S", "postgres_checkpointer"]


@contextmanager
def postgres_checkpointer(
    conninfo: str, *, max_size: int = 4, max_idle: float = POOL_MAX_IDLE_S
) -> Iterator[Any]:
    """Yield a `PostgresSaver` on `conninfo` (its tables created if missing) over a checked pool.

    Pass it as `create_mur_graph(..., checkpointer=saver)`; a run is resumed by its thread id
    from any process: `graph.invoke(None, {"configurable": {"thread_id": ...}})`, or with a
    `Command(resume=...)` for a run paused for review.

    Raises:
        MissingDependencyError: langgraph-checkpoint-postgres or psycopg is not installed.
    """
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool
    except ImportError as exc:
        msg = f"PostgreSQL checkpoints need {exc.name}: pip install 'mur-graph[postgres]'"
        raise MissingDependencyError(msg) from exc
    pool = ConnectionPool(
        conninfo,
        min_size=1,
        max_size=max_size,
        max_idle=max_idle,
        check=ConnectionPool.check_connection,
        kwargs={**CONNECTION_KWARGS, "row_factory": dict_row},
        open=False,
    )
    with pool:
        saver = PostgresSaver(pool)  # type: ignore[arg-type]
        saver.setup()
        yield saver
