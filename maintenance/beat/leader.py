"""Beat's leadership: a PostgreSQL session advisory lock on a dedicated, checked
connection to the history database (the approach of :mod:`maintenance.locks`).

The lock belongs to the session: when the beat process dies (kill -9 included) its
connection closes and PostgreSQL releases the lock at once; a standby polling every
``poll_s`` seconds takes it. When the leader's *host* or network dies there is no FIN:
the session is ended by the server's TCP keepalives, which this session sets for itself
(:data:`SERVER_KEEPALIVE`: about 25 s), and the leader notices from its own side with the
client keepalives of :data:`maintenance.pg.KEEPALIVE`. The leader asks its session before
every send (:meth:`Leadership.check`): the lock still held by this very backend; a
leader whose session is gone stops sending at once.

A lease is not a fence: between a check and a send the session can die and a standby
take over. Dispatch is therefore also claimed per occurrence (:mod:`.claims`).
"""

from __future__ import annotations

import contextlib
import logging

import psycopg

from maintenance import locks, pg
from maintenance.errors import MaintenanceError

log = logging.getLogger(__name__)

#: Server-side TCP keepalives of the leader's session (user-settable GUCs): a leader
#: whose host vanished loses its session, and so the lock, after idle + interval x count
#: = 10 + 5 x 3 = 25 s, instead of the server's default (the kernel's: 2 hours).
SERVER_KEEPALIVE = {
    "tcp_keepalives_idle": 10,
    "tcp_keepalives_interval": 5,
    "tcp_keepalives_count": 3,
    "tcp_user_timeout": 25_000,  # milliseconds: data unacknowledged that long ends it
}


class Leadership:
    """Try to become beat's leader, keep checking it, let it go."""

    def __init__(self, dsn: str, name: str) -> None:
        self._dsn, self.name = dsn, name
        self._key = locks.lock_key(name)
        self._conn: psycopg.Connection | None = None
        self._stack = contextlib.ExitStack()

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; True if this process now leads."""
        if self._conn is not None:
            return self.check()
        stack = contextlib.ExitStack()
        try:
            conn = stack.enter_context(
                pg.connect(
                    self._dsn,
                    autocommit=True,
                    keepalive=True,
                    application_name=locks.session_name(),
                )
            )
            for setting, value in SERVER_KEEPALIVE.items():
                try:  # autocommit: a refused SET leaves the session usable
                    conn.execute(f"SET {setting} = {int(value)}")
                except psycopg.Error as exc:  # an older server (tcp_user_timeout: 12+)
                    log.warning("beat leadership: the server refused %s: %s", setting, exc)
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
        except (MaintenanceError, psycopg.Error) as exc:
            stack.close()
            log.warning("beat leadership: cannot reach the history database: %s", exc)
            return False
        if not (row and row[0]):
            stack.close()
            return False
        self._stack, self._conn = stack, conn
        return True

    def check(self) -> bool:
        """True while this session answers and holds the lock. False (and the session
        dropped) otherwise: the caller must stop sending."""
        conn = self._conn
        if conn is None:
            return False
        unsigned = self._key & 0xFFFF_FFFF_FFFF_FFFF
        try:
            row = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND granted AND objsubid = 1 "
                "AND classid = %s::bigint::oid AND objid = %s::bigint::oid)",
                (unsigned >> 32, unsigned & 0xFFFF_FFFF),
            ).fetchone()
        except psycopg.Error as exc:
            log.error("beat leadership lost: the lock's session is gone: %s", exc)
            self._drop()
            return False
        if not (row and row[0]):
            log.error("beat leadership lost: the session no longer holds the lock")
            self._drop()
            return False
        return True

    def release(self) -> None:
        """Give the lock up (on a clean stop), so a standby takes over at its next poll.

        Called from beat's signal handler: a second signal (Ctrl-C reaches the whole
        process group, then a supervisor's TERM) can arrive while the unlock waits for the
        server, and runs this again inside it. The session is detached first, so that
        call finds nothing to release; before, it waited for the connection's lock,
        which the interrupted unlock held, and beat hung for ever, still leading."""
        conn, stack = self._conn, self._stack
        if conn is None:
            return
        self._conn = None
        with contextlib.suppress(psycopg.Error):
            conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        with contextlib.suppress(Exception):
            stack.close()

    def _drop(self) -> None:
        stack, self._conn = self._stack, None
        with contextlib.suppress(Exception):
            stack.close()

    def holder(self) -> str | None:
        """Who holds the lock now (its session's ``application_name``), for logs."""
        unsigned = self._key & 0xFFFF_FFFF_FFFF_FFFF
        try:
            with pg.connect(self._dsn, timeout=5) as conn:
                row = conn.execute(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                    "USING (pid) WHERE l.locktype = 'advisory' AND l.granted "
                    "AND l.objsubid = 1 AND l.classid = %s::bigint::oid "
                    "AND l.objid = %s::bigint::oid AND l.database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())",
                    (unsigned >> 32, unsigned & 0xFFFF_FFFF),
                ).fetchone()
        except (MaintenanceError, psycopg.Error):
            return None
        return str(row[0]) if row else None
