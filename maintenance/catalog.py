"""Every task the suite offers, by its stable dotted name (area first).

The Celery wrappers in ``tasks/`` and the ``maint`` CLI both read this table.
"""

from __future__ import annotations

from typing import Any

from maintenance import diag, stats
from maintenance.errors import ConfigError, UnknownTask
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


def time_limits(spec: TaskSpec[Any], overrides: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """(soft, hard) time limits of ``spec``, after MAINT_TIME_LIMITS."""
    return overrides.get(spec.name, (spec.soft_time_limit, spec.time_limit))


def longest_time_limit(overrides: dict[str, tuple[int, int]] | None = None) -> int:
    return max(time_limits(s, overrides or {})[1] for s in SPECS)


def check_overrides(overrides: dict[str, tuple[int, int]]) -> None:
    """Every name in MAINT_TIME_LIMITS must be a task (a typo would silently do nothing)."""
    for name in overrides:
        try:
            get(name)
        except UnknownTask as exc:
            raise ConfigError(f"MAINT_TIME_LIMITS: {exc}") from None
