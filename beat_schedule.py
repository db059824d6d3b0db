"""The maintenance calendar, as data.

Every entry is sent with the ``maint_trigger=beat`` header so its history rows say who
started them. Times are in ``MAINT_TIMEZONE`` (the playbook's "system time").

The maintenance windows (daily, weekly, monthly, quarterly) arrive with their issues;
for now the calendar holds the nightly statistics snapshot.
"""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab

from maintenance.config import Settings


def _entry(task: str, schedule: Any, settings: Settings, **kwargs: Any) -> dict[str, Any]:
    return {
        "task": task,
        "schedule": schedule,
        "kwargs": kwargs,
        "options": {"queue": settings.queue, "headers": {"maint_trigger": "beat"}},
    }


def build(settings: Settings) -> dict[str, dict[str, Any]]:
    """Beat's schedule for these settings."""
    return {
        "nightly-data-statistics": _entry("db.stats", crontab(hour=2, minute=0), settings),
    }
