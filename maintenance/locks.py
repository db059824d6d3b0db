"""Singleton guard: a PostgreSQL advisory lock held on a dedicated session.

The lock lives as long as the connection: when the process holding it dies (kill -9,
OOM, a lost host), PostgreSQL ends the session and the lock is gone. No TTL that a long
backup could outlive, no stale lock file to clean up by hand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from maintenance import pg


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name."""
    digest = hashlib.sha256(f"maint-lock:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def try_exclusive(dsn: str, name: str) -> Iterator[bool]:
    """Try to take lock ``name``; yield whether we got it. Released on exit or death."""
    with pg.connect(dsn, autocommit=True) as conn:
        key = lock_key(name)
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        got = bool(row and row[0])
        try:
            yield got
        finally:
            if got and not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
