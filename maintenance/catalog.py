"""Every task the suite offers, by its stable dotted name (area first).

The Celery wrappers in ``tasks/`` and the ``maint`` CLI both read this table.
"""

from __future__ import annotations

from typing import Any

from maintenance import diag, stats
from maintenance.errors import UnknownTask
from maintenance.taskspec import TaskSpec

SPECS: tuple[TaskSpec[Any], ...] = (
    TaskSpec(
        name="db.stats",
        func=stats.collect,
        params=stats.StatsParams,
        description="DATA STATISTICS: server version, database size and exact row counts.",
        soft_time_limit=1800,
        time_limit=1900,
    ),
    TaskSpec(
        name="diag.hold",
        func=diag.hold,
        params=diag.HoldParams,
        description="Hold one worker slot for N seconds under the singleton lock (diagnostics).",
        exclusive=True,
        soft_time_limit=3700,
        time_limit=3800,
        max_retries=0,
    ),
)

BY_NAME: dict[str, TaskSpec[Any]] = {s.name: s for s in SPECS}


def get(name: str) -> TaskSpec[Any]:
    """The spec named ``name``; UnknownTask (with suggestions) if there is none."""
    try:
        return BY_NAME[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, BY_NAME, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownTask(f"unknown task {name!r}{hint} (`maint tasks` lists them)") from None


def longest_time_limit() -> int:
    return max(s.time_limit for s in SPECS)
