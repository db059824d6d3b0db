"""Every task the suite offers, by its stable dotted name (area first).

The Celery wrappers in ``tasks/`` and the ``maint`` CLI both read this table. The specs
live by group: :mod:`.backups` (backup, restore), :mod:`.housekeeping` (db, logs, cache,
security) and :mod:`.monitoring` (notices, health, diag, window).
"""

from __future__ import annotations

from typing import Any

from maintenance.catalog import backups, housekeeping, monitoring
from maintenance.catalog.backups import BACKUP_LOCK
from maintenance.catalog.housekeeping import CACHE_LOCK, UPKEEP_LOCK
from maintenance.errors import ConfigError, UnknownTask
from maintenance.taskspec import TaskSpec

__all__ = [
    "BACKUP_LOCK",
    "BY_NAME",
    "CACHE_LOCK",
    "SPECS",
    "UPKEEP_LOCK",
    "check_overrides",
    "get",
    "longest_time_limit",
    "time_limits",
]

SPECS: tuple[TaskSpec[Any], ...] = backups.SPECS + housekeeping.SPECS + monitoring.SPECS

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
