"""The one way upkeep talks to the target database: safe by construction.

* **autocommit**: VACUUM and the CONCURRENTLY commands cannot run in a transaction, and
  no upkeep session ever sits idle in one holding back the application's vacuum;
* **timeouts per statement kind**: before each statement, ``lock_timeout`` and
  ``statement_timeout`` of its kind (``MAINT_UPKEEP_LOCK_TIMEOUT_MS``,
  ``MAINT_UPKEEP_STATEMENT_TIMEOUT_S``). PostgreSQL queues a lock request in arrival
  order: while an upkeep statement waits for a lock, the application's statements that
  arrive after it wait behind it. ``lock_timeout`` bounds that wait, so the application
  is never held up longer than it by a lock upkeep asked for and did not get;
* **the pre-check** (:func:`refuse_if_blocked`): a task does not start while sessions
  that would block it, or that it would make the application wait for, are there (the
  weekly checklist's "No active locks"); it is recorded ``skipped`` with them named.

A statement that meets its lock timeout raises :class:`LockTimeout` (the task skips that
table or index and says so); one that meets its statement timeout raises
:class:`StatementTimeout`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pgerrors
from psycopg import sql

from maintenance import activity, clock, pg
from maintenance.config import Settings
from maintenance.config.upkeep import STATEMENT_KINDS
from maintenance.errors import PermanentError, RunSkipped, TransientError

Query = str | sql.SQL | sql.Composed


class LockTimeout(TransientError):
    """An upkeep statement did not get its lock within its lock_timeout; nothing changed."""


class StatementTimeout(PermanentError):
    """An upkeep statement ran longer than its statement_timeout and was cancelled."""


class UpkeepSession:
    """A connection to the target database that runs each statement under the timeouts
    of its kind."""

    def __init__(self, conn: psycopg.Connection, settings: Settings) -> None:
        self.conn = conn
        self.settings = settings
        self._kind: str | None = None

    def timeouts(self, kind: str) -> tuple[int, int]:
        """(lock_timeout ms, statement_timeout ms) of ``kind``."""
        if kind not in STATEMENT_KINDS:
            raise ValueError(f"unknown statement kind {kind!r}")
        lock_ms = self.settings.upkeep_lock_timeout_ms[kind]
        statement_ms = int(self.settings.upkeep_statement_timeout_s[kind] * 1000)
        return lock_ms, statement_ms

    def execute(
        self, kind: str, query: Query, params: Sequence[Any] | None = None
    ) -> psycopg.Cursor:
        """Run ``query`` as a statement of ``kind``; LockTimeout / StatementTimeout when
        it meets one of them."""
        self._apply(kind)
        try:
            return self.conn.execute(query, params)
        except pgerrors.LockNotAvailable:
            lock_ms, _ = self.timeouts(kind)
            raise LockTimeout(
                f"{_text(query, self.conn)}: no lock within lock_timeout {lock_ms} ms "
                f"(another session holds a conflicting one); nothing was changed"
            ) from None
        except pgerrors.QueryCanceled as exc:
            if "statement timeout" not in str(exc):
                raise
            _, statement_ms = self.timeouts(kind)
            raise StatementTimeout(
                f"{_text(query, self.conn)}: cancelled after statement_timeout "
                f"{statement_ms / 1000:g} s"
            ) from None

    def using(self, kind: str) -> psycopg.Connection:
        """The connection, with ``kind``'s timeouts in force (for readers that take one)."""
        self._apply(kind)
        return self.conn

    def _apply(self, kind: str) -> None:
        if kind != self._kind:
            lock_ms, statement_ms = self.timeouts(kind)
            # ints only: nothing user-given is formatted into this text
            self.conn.execute(
                f"SET lock_timeout = {int(lock_ms)}; SET statement_timeout = {int(statement_ms)}"
            )
            self._kind = kind

    def rows(self, kind: str, query: Query, params: Sequence[Any] | None = None) -> list[Any]:
        """All rows of ``query``, run as a statement of ``kind``."""
        return self.execute(kind, query, params).fetchall()

    def timed(self, kind: str, query: Query, params: Sequence[Any] | None = None) -> float:
        """Run ``query`` as :meth:`execute` does and return its duration (s)."""
        t0 = clock.monotonic()
        self.execute(kind, query, params)
        return clock.monotonic() - t0


@contextmanager
def open_session(settings: Settings, task: str) -> Iterator[UpkeepSession]:
    """A session on the target database (autocommit, named ``maint <task>`` in
    pg_stat_activity so that a DBA sees whose it is)."""
    dsn = settings.target_dsn.get_secret_value()
    with pg.connect(dsn, autocommit=True, application_name=f"maint {task}") as conn:
        yield UpkeepSession(conn, settings)


def blocking(session: UpkeepSession) -> list[activity.Blocker]:
    """The sessions that block upkeep now."""
    sessions = activity.read_sessions(session.using("read"))
    return activity.blockers(sessions, activity.policy_of(session.settings))


def refuse_if_blocked(session: UpkeepSession, task: str) -> None:
    """RunSkipped, naming the blocking sessions, when there are any; else nothing."""
    found = blocking(session)
    if found:
        raise RunSkipped(
            f"{task} not started: {len(found)} session(s) block upkeep on "
            f"{pg.dbname(session.settings.target_dsn.get_secret_value())}: "
            + activity.summary(found),
            figures={"blocking_sessions": [activity.describe(b) for b in found]},
        )


def qualified(schema: str, name: str) -> sql.Composed:
    """``"schema"."name"``, quoted."""
    return sql.SQL(".").join([sql.Identifier(schema), sql.Identifier(name)])


def regclass(schema: str, name: str) -> str:
    """``"schema"."name"`` as text, for ``to_regclass(%s)`` (a parameter, never SQL)."""
    return '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'


def _text(query: Query, conn: psycopg.Connection) -> str:
    text = query if isinstance(query, str) else query.as_string(conn)
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:119] + "…"
