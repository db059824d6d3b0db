"""Singleton guard: a PostgreSQL advisory lock held on a dedicated session.

The lock lives as long as the connection: when the process holding it dies (kill -9,
OOM, a lost host), PostgreSQL ends the session and the lock is gone. No TTL that a long
backup could outlive, no stale lock file to clean up by hand.

Two gaps that leaves, and how they are closed:

* the server ends a dead client's session a moment after the client died, not at once:
  a run started right after a crash would find the lock still held. The session is named
  after its process (``application_name`` ``maint-lock PID@HOST``), so a contender on the
  same host can tell that the holder is gone and wait briefly for the release
  (``wait_for_dead_s``) instead of skipping;
* a session can die while its process lives (network cut, server restart, an admin's
  ``pg_terminate_backend``): then another process may take the lock. TCP keepalives make
  a dead connection visible within about a minute, and :meth:`Held.alive` lets the run's
  heartbeat check the session, so the run stops instead of going on unguarded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
import psycopg

from maintenance import pg

HOST = socket.gethostname()
APP_PREFIX = "maint-lock "

def lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name."""
    digest = hashlib.sha256(f"maint-lock:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def session_name(pid: int | None = None, host: str = HOST) -> str:
    """The ``application_name`` of a lock session: who holds it (63 bytes at most)."""
    return f"{APP_PREFIX}{pid or os.getpid()}@{host}"[:63]


class Held:
    """A lock this process holds; truthy. ``alive()`` asks whether its session lives."""

    def __init__(self, conn: psycopg.Connection, name: str) -> None:
        self._conn, self.name = conn, name
        self._guard = threading.Lock()
        self._released = False

    def __bool__(self) -> bool:
        return True

    def alive(self) -> bool:
        """True while the lock's session answers (or once the lock was released)."""
        with self._guard:
            if self._released:
                return True
            try:
                self._conn.execute("SELECT 1")
            except psycopg.Error:
                return False
            return True

    def _release(self, key: int) -> None:
        with self._guard:
            self._released = True
            if not self._conn.closed:
                # a session that is gone took the lock with it
                with contextlib.suppress(psycopg.OperationalError):
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


@contextmanager
def try_exclusive(dsn: str, name: str, *, wait_for_dead_s: float = 0) -> Iterator[Held | None]:
    """Try to take lock ``name``; yield a :class:`Held` (truthy) or None if another
    session holds it. Released on exit or death.

    With ``wait_for_dead_s``, a lock held by a session of a process on this host that no
    longer exists is waited for (up to that long) instead of being reported held.
    """
    with pg.connect(
        dsn, autocommit=True, keepalive=True, application_name=session_name()
    ) as conn:
        key = lock_key(name)
        got = _try(conn, key)
        deadline = time.monotonic() + wait_for_dead_s
        while not got and time.monotonic() < deadline and holder_is_gone(conn, key):
            time.sleep(0.2)
            got = _try(conn, key)
        held = Held(conn, name) if got else None
        try:
            yield held
        finally:
            if held is not None:
                held._release(key)


def _try(conn: psycopg.Connection, key: int) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    return bool(row and row[0])


def holder_is_gone(conn: psycopg.Connection, key: int) -> bool:
    """Whether the session holding advisory lock ``key`` belongs to a process of this
    host that no longer exists (or nobody holds it any more)."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    rows = conn.execute(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid",
        (unsigned >> 32, unsigned & 0xFFFF_FFFF),
    ).fetchall()
    if not rows:
        return True  # released meanwhile: try again
    owner = rows[0][0] or ""
    if not owner.startswith(APP_PREFIX):
        return False
    pid_text, _, host = owner.removeprefix(APP_PREFIX).partition("@")
    if host != HOST[: len(host)] or not host or not pid_text.isdigit():
        return False
    return not psutil.pid_exists(int(pid_text))
