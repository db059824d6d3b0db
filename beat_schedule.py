"""The maintenance calendar, as data.

Every entry is sent with the ``maint_trigger=beat`` header so its history rows say who
started them. Times are in ``MAINT_TIMEZONE`` (the playbook's "system time").

The maintenance windows (daily, weekly, monthly, quarterly) arrive with their issues;
for now the calendar holds the nightly statistics snapshot, the backup calendar, the
weekly database upkeep and the log calendar (one entry per log task and host).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery.schedules import crontab

from maintenance.config import Settings
from maintenance.logs import hosts as log_hosts


def _entry(
    task: str, schedule: Any, settings: Settings, *, queue: str | None = None, **kwargs: Any
) -> dict[str, Any]:
    return {
        "task": task,
        "schedule": schedule,
        "kwargs": kwargs,
        "options": {"queue": queue or settings.queue, "headers": {"maint_trigger": "beat"}},
    }


def log_entries(settings: Settings) -> dict[str, dict[str, Any]]:
    """The playbook's log calendar, fanned out: one entry per task and host of
    MAINT_LOG_HOSTS, sent to that host's queue (``logs.<host>``) with ``host`` set, so
    only that host's worker runs it. Daily rotation at 01:00; the size cap is checked
    every hour (a log over it rotates early); cleanup on Sunday at 03:00; the report
    every day at 06:00, after the night's work."""
    out: dict[str, dict[str, Any]] = {}
    for host in settings.managed_log_hosts:
        q = log_hosts.queue(host)
        out[f"daily-log-rotation@{host}"] = _entry(
            "logs.rotate", crontab(hour=1, minute=0), settings, queue=q, host=host
        )
        out[f"hourly-log-size-check@{host}"] = _entry(
            "logs.rotate", crontab(minute=30), settings, queue=q, host=host, only_oversized=True
        )
        out[f"weekly-log-cleanup@{host}"] = _entry(
            "logs.cleanup",
            crontab(hour=3, minute=0, day_of_week="sun"),
            settings,
            queue=q,
            host=host,
        )
        out[f"daily-log-report@{host}"] = _entry(
            "logs.report", crontab(hour=6, minute=0), settings, queue=q, host=host
        )
    return out


def build(settings: Settings) -> dict[str, dict[str, Any]]:
    """Beat's schedule for these settings.

    The playbook's backup calendar. The monthly backup replaces that Sunday's weekly
    one (first Sunday: days 1-7); the weekly one and the monthly one are verified by a
    restore inside their own run. Archive and off-site copy follow the monthly backup at
    a distance: they share its lock, and a step that finds the lock held is recorded
    ``skipped`` (the maintenance-window runner will chain them).
    """
    return {
        "nightly-data-statistics": _entry("db.stats", crontab(hour=2, minute=0), settings),
        "daily-backup": _entry("backup.create", crontab(hour=23, minute=0), settings, tier="daily"),
        "weekly-backup": _entry(
            "backup.create",
            crontab(hour=2, minute=30, day_of_week="sun", day_of_month="8-31"),
            settings,
            tier="weekly",
        ),
        "monthly-backup": _entry(
            "backup.create",
            crontab(hour=2, minute=0, day_of_week="sun", day_of_month="1-7"),
            settings,
            tier="monthly",
        ),
        # prune="apply": archives older than the monthly retention age go, never the
        # newest MAINT_RETENTION_MIN_VERIFIED (the task's default is a dry run).
        "monthly-archive": _entry(
            "backup.archive",
            crontab(hour=4, minute=0, day_of_week="sun", day_of_month="1-7"),
            settings,
            prune="apply",
        ),
        "monthly-offsite": _entry(
            "backup.offsite",
            crontab(hour=4, minute=30, day_of_week="sun", day_of_month="1-7"),
            settings,
            prune="apply",
        ),
        # 05:00-06:00 on the first Sunday: testing, "disaster recovery drill"; in January,
        # April, July and October it is the quarterly DR test.
        "monthly-restore-drill": _entry(
            "restore.drill",
            crontab(
                hour=5,
                minute=0,
                day_of_week="sun",
                day_of_month="1-7",
                month_of_year="2,3,5,6,8,9,11,12",
            ),
            settings,
            purpose="monthly",
        ),
        "quarterly-dr-test": _entry(
            "restore.drill",
            crontab(
                hour=5, minute=0, day_of_week="sun", day_of_month="1-7", month_of_year="1,4,7,10"
            ),
            settings,
            purpose="quarterly",
        ),
        # The playbook's cache maintenance: daily "monitor memory usage, alert if > 80%";
        # weekly (Sunday 04:00) "analyze cache hit/miss ratios". Clearing is never
        # scheduled: a person or a window decides it.
        "daily-cache-stats": _entry("cache.stats", crontab(hour=2, minute=5), settings),
        "weekly-cache-analyze": _entry(
            "cache.analyze", crontab(hour=4, minute=0, day_of_week="sun"), settings
        ),
        "weekly-retention": _entry(
            "backup.retention",
            crontab(hour=3, minute=15, day_of_week="sun"),
            settings,
            dry_run=False,
        ),
        **upkeep_entries(settings),
        # First Sunday 04:00-05:00, the monthly window's "Security" slot: update review and
        # vulnerability scan, then the access review. Both only read.
        "monthly-security-audit": _entry(
            "security.audit",
            crontab(hour=4, minute=0, day_of_week="sun", day_of_month="1-7"),
            settings,
        ),
        "monthly-access-review": _entry(
            "security.access_review",
            crontab(hour=4, minute=20, day_of_week="sun", day_of_month="1-7"),
            settings,
        ),
        **log_entries(settings),
        **health_entries(settings),
    }


def health_entries(settings: Settings) -> dict[str, dict[str, Any]]:
    """The playbook's Health Check Verification: every 5 minutes, 24/7 (an interval, not
    a crontab: it is not tied to the clock's minutes), and the Weekly Deep Health Check on
    Sunday at 05:00 (docs/health.md)."""
    check = _entry("health.check", timedelta(minutes=5), settings)
    # A check that waited in the queue past the next one's time (workers busy) is dropped
    # unrun: it would report on a moment long gone.
    check["options"]["expires"] = 270
    return {
        "health-check": check,
        "weekly-deep-health-check": _entry(
            "health.deep", crontab(hour=5, minute=0, day_of_week="sun"), settings
        ),
    }


def upkeep_entries(settings: Settings) -> dict[str, dict[str, Any]]:
    """Database upkeep (docs/upkeep.md). Weekly window, 02:00 slot: vacuum and analyze,
    then the reindex and the query analysis. On the first Sunday the monthly window has
    its backups at 02:00 and its optimization slot at 03:00, so the same three run there.
    ``db.optimize`` needs a window run (or a person's reason) and is not sent by beat:
    the maintenance-window runner sends it in the monthly window's 03:00 slot."""
    entries = {}
    for when, days, hour in (("weekly", "8-31", 2), ("monthly", "1-7", 3)):
        for minute, task in ((0, "db.vacuum_analyze"), (15, "db.reindex"), (30, "db.report")):
            name = f"{when}-{task.removeprefix('db.').replace('_', '-')}"
            schedule = crontab(hour=hour, minute=minute, day_of_week="sun", day_of_month=days)
            entries[name] = _entry(task, schedule, settings)
    return entries
