"""Who else is in the target database: the weekly checklist's "No active locks".

Every upkeep task refuses to start (``skipped``, the sessions named) while a session
would make its work wait or make the application wait behind it; ``backup.create`` has
the same pre-check as a checklist item (a dump only reads, so there it warns). Three steps:

* :func:`read_sessions` reads ``pg_stat_activity`` and ``pg_locks`` of the current
  database once (client backends other than our own);
* :func:`blockers` decides, purely, which of them block and why, under a
  :class:`Policy` (the thresholds of docs/configuration.md, "Database upkeep");
* :func:`describe` names them for a summary or a check: pid, user, application, state,
  age and the query with its literals masked (a query can quote a password or a
  resident's name; neither belongs in the history).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import psycopg

from maintenance import redact
from maintenance.config import Settings

#: Relation lock modes that conflict with VACUUM's SHARE UPDATE EXCLUSIVE (and so with a
#: concurrent reindex, ANALYZE, and every rebuild).
CONFLICTING_MODES = frozenset(
    {
        "ShareUpdateExclusiveLock",
        "ShareLock",
        "ShareRowExclusiveLock",
        "ExclusiveLock",
        "AccessExclusiveLock",
    }
)

QUERY_CHARS = 160


@dataclass(frozen=True)
class Session:
    """One client session of the database, as the pre-check sees it."""

    pid: int
    user: str | None
    application: str | None
    state: str | None
    #: seconds since the session's transaction began (None: not in a transaction)
    xact_age_s: float | None
    #: seconds in its current state
    state_age_s: float | None
    #: waiting for a heavyweight lock (pg_stat_activity.wait_event_type = 'Lock')
    waiting_for_lock: bool
    #: pids this session waits for (pg_blocking_pids)
    blocked_by: tuple[int, ...]
    #: relation locks it holds: (relation name, lock mode)
    holds: tuple[tuple[str, str], ...] = field(default=())
    query: str = ""


@dataclass(frozen=True)
class Policy:
    idle_in_transaction_s: float = 300
    lock_hold_s: float = 60
    lock_wait_s: float = 10


def policy_of(settings: Settings) -> Policy:
    """The pre-check's thresholds from the settings (docs/configuration.md)."""
    return Policy(
        idle_in_transaction_s=settings.upkeep_idle_in_transaction_s,
        lock_hold_s=settings.upkeep_lock_hold_s,
        lock_wait_s=settings.upkeep_lock_wait_s,
    )


@dataclass(frozen=True)
class Blocker:
    session: Session
    reasons: tuple[str, ...]


_ACTIVITY = """
SELECT a.pid, a.usename, a.application_name, a.state,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8,
       extract(epoch FROM clock_timestamp() - a.state_change)::float8,
       coalesce(a.wait_event_type = 'Lock', false),
       pg_blocking_pids(a.pid),
       coalesce(a.query, ''),
       coalesce((
         SELECT array_agg(DISTINCT format('%s.%s', n.nspname, c.relname) || '|' || l.mode)
           FROM pg_locks l
           JOIN pg_class c ON c.oid = l.relation
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE l.pid = a.pid AND l.granted AND l.locktype = 'relation'
            AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname NOT LIKE 'pg_toast%'
       ), '{}')
  FROM pg_stat_activity a
 WHERE a.datname = current_database()
   AND a.pid <> pg_backend_pid()
   AND a.backend_type = 'client backend'
 ORDER BY a.pid
"""


def read_sessions(conn: psycopg.Connection) -> list[Session]:
    """The client sessions of ``conn``'s database other than ``conn`` itself."""
    out = []
    for row in conn.execute(_ACTIVITY).fetchall():
        pid, user, app, state, xact_age, state_age, waiting, blocked_by, query, held = row
        holds = tuple(sorted(tuple(h.rsplit("|", 1)) for h in held))
        out.append(
            Session(
                pid=pid,
                user=user,
                application=app or None,
                state=state,
                xact_age_s=xact_age,
                state_age_s=state_age,
                waiting_for_lock=bool(waiting),
                blocked_by=tuple(blocked_by or ()),
                holds=holds,
                query=query,
            )
        )
    return out


def blockers(sessions: Sequence[Session], policy: Policy) -> list[Blocker]:
    """The sessions that block upkeep, each with why (pure, in pid order).

    * idle in a transaction (or in an aborted one) for longer than the policy allows;
    * holding a lock that conflicts with VACUUM on a table, in a transaction older than
      the policy allows;
    * making another session wait for a lock for longer than the policy allows.
    """
    reasons: dict[int, list[str]] = {}
    by_pid = {s.pid: s for s in sessions}
    for s in sessions:
        if (
            s.state in ("idle in transaction", "idle in transaction (aborted)")
            and (s.state_age_s or 0) > policy.idle_in_transaction_s
        ):
            reasons.setdefault(s.pid, []).append(
                f"{s.state} for {_age(s.state_age_s)} (limit {_age(policy.idle_in_transaction_s)})"
            )
        strong = sorted({f"{rel} ({mode})" for rel, mode in s.holds if mode in CONFLICTING_MODES})
        if strong and (s.xact_age_s or 0) > policy.lock_hold_s:
            reasons.setdefault(s.pid, []).append(
                f"holds {', '.join(strong)} for {_age(s.xact_age_s)} "
                f"(limit {_age(policy.lock_hold_s)})"
            )
    for s in sessions:
        if not (s.waiting_for_lock and s.blocked_by) or (s.state_age_s or 0) <= policy.lock_wait_s:
            continue
        for pid in s.blocked_by:
            reasons.setdefault(pid, []).append(
                f"pid {s.pid} has waited {_age(s.state_age_s)} for its lock"
            )
            if pid not in by_pid:  # in another database, or not a client backend
                by_pid[pid] = Session(pid, None, None, None, None, None, False, ())
    return [Blocker(by_pid[pid], tuple(dict.fromkeys(r))) for pid, r in sorted(reasons.items())]


def mask_query(query: str, limit: int = QUERY_CHARS) -> str:
    """The query with string literals masked and whitespace folded, cut to ``limit``."""
    text = _LITERAL.sub("'***'", query)
    text = redact.scrub(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: String literals: E'...' with its backslash escapes (E'it\'s'), then the standard ones
#: ('it''s', with B/X/N/U& prefixes), then dollar-quoted bodies.
_LITERAL = re.compile(
    r"(?<!\w)[Ee]'(?:[^'\\]|\\.|'')*'|(?:[BbXxNn]|[Uu]&)?'(?:[^']|'')*'|\$(\w*)\$.*?\$\1\$", re.S
)


def describe(blocker: Blocker) -> dict[str, object]:
    """A blocking session as the history records it."""
    s = blocker.session
    return {
        "pid": s.pid,
        "user": s.user,
        "application": s.application,
        "state": s.state,
        "transaction_age_s": None if s.xact_age_s is None else round(s.xact_age_s, 1),
        "state_age_s": None if s.state_age_s is None else round(s.state_age_s, 1),
        "query": mask_query(s.query),
        "why": list(blocker.reasons),
    }


def summary(found: Iterable[Blocker]) -> str:
    """One line naming each blocking session: for a skipped run's summary."""
    parts = []
    for b in found:
        s = b.session
        who = f"pid {s.pid}" + (f" {s.user}" if s.user else "")
        if s.application:
            who += f" ({s.application})"
        parts.append(f"{who}: {'; '.join(b.reasons)}; query {mask_query(s.query, 80)!r}")
    return " | ".join(parts)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
