"""The maintenance calendar, as data (docs/calendar.md).

Two lists of :class:`~maintenance.calendar.model.Entry`, with local-time cron
expressions in ``MAINT_TIMEZONE`` (the playbook's "system time"):

* :func:`entries`, what beat sends: the standalone jobs, the advance notices and one
  ``window.run`` per scheduled window, at the window's start;
* :func:`steps`, what each window's run does: its steps, in the playbook's slots, each
  with its planned local time in its slot (``maint schedule`` shows them,
  ``maint schedule --check`` checks they fit).

:func:`build` hands :func:`entries` to Celery beat through
:class:`tasks.schedule.CalendarSchedule`, whose times come from
:func:`maintenance.calendar.plan.next_fire`, the code ``maint schedule`` shows: not
Celery's crontab (open DST bugs).

Windows: weekly Sunday 02:00-06:00, monthly on the first Sunday 02:00-08:00, quarterly
on the first Sunday of January, April, July and October (the monthly window plus the
quarterly DR test). One night, one window: a window is sent only on nights whose window
is its own (:func:`maintenance.calendar.plan.night_window`), so on a first Sunday the
monthly (or quarterly) window runs and the weekly one does not, steps included. The
daily window (02:00-03:00: log rotation, cache statistics, health) is the standalone
nightly jobs: they run every night, whichever window runs, so it has no run of its own.
``window.run`` runs the steps one after another in slot order, chains the dependent
ones (archive and off-site after the backup), skips disruptive ones in a blackout or
after the buffer's start, and sends the window's notices (docs/calendar.md).

Every entry is sent with the ``maint_trigger=beat`` header so its history rows say who
started them.
"""

from __future__ import annotations

from typing import Any

from maintenance.calendar.model import Entry, interval, job, notice, step, window_run
from maintenance.config import Settings
from maintenance.logs import hosts as log_hosts
from maintenance.windows import WINDOWS, WindowKind

SUNDAY = "SUN"
FIRST_SUNDAY = "SUN#1"  # cronsim: the first Sunday of the month (1-7 * SUN would OR them)


def log_entries(settings: Settings) -> list[Entry]:
    """The playbook's log calendar, fanned out: one entry per task and host of
    MAINT_LOG_HOSTS, sent to that host's queue (``logs.<host>``) with ``host`` set, so
    only that host's worker runs it. Daily rotation at 01:00; the size cap is checked
    every hour (a log over it rotates early); cleanup on Sunday at 03:00; the report
    every day at 06:00, after the night's work."""
    out: list[Entry] = []
    for host in settings.managed_log_hosts:
        q = log_hosts.queue(host)
        out += [
            job(f"daily-log-rotation@{host}", "logs.rotate", "0 1 * * *", queue=q, host=host),
            job(
                f"hourly-log-size-check@{host}",
                "logs.rotate",
                "30 * * * *",
                queue=q,
                host=host,
                only_oversized=True,
            ),
            job(
                f"weekly-log-cleanup@{host}",
                "logs.cleanup",
                f"0 3 * * {SUNDAY}",
                queue=q,
                host=host,
            ),
            job(f"daily-log-report@{host}", "logs.report", "0 6 * * *", queue=q, host=host),
        ]
    return out


def standalone_entries(settings: Settings) -> list[Entry]:
    """Jobs outside the windows: every night or every Sunday whatever window runs."""
    return [
        job("daily-backup", "backup.create", "0 23 * * *", tier="daily"),
        job("nightly-data-statistics", "db.stats", "0 2 * * *"),
        # The playbook's cache maintenance: daily "monitor memory usage, alert if > 80%";
        # weekly (Sunday 04:00) "analyze cache hit/miss ratios". Clearing is never
        # scheduled: a person or a window decides it.
        job("daily-cache-stats", "cache.stats", "5 2 * * *"),
        job("weekly-cache-analyze", "cache.analyze", f"0 4 * * {SUNDAY}"),
        *log_entries(settings),
        *health_entries(settings),
    ]


def health_entries(settings: Settings) -> list[Entry]:
    """The playbook's Health Check Verification: every 5 minutes, 24/7 (elapsed time, not
    tied to the clock's minutes), and the Weekly Deep Health Check on Sunday at 05:00
    (docs/health.md), inside the testing slot of whichever window runs that Sunday. A
    check that waited in the queue past the next one's time (workers busy) is dropped
    unrun: it would report on a moment long gone."""
    return [
        interval("health-check", "health.check", 300, expires_s=270),
        job("weekly-deep-health-check", "health.deep", f"0 5 * * {SUNDAY}"),
    ]


def notice_entries() -> list[Entry]:
    """The windows' advance notices (docs/notices.md), from the windows' data: weekly
    two days before (Friday 15:00), monthly 14 days before, quarterly 28 days before,
    each only when the announced Sunday has that window (one night, one window). The
    notice task finds the window's date itself (the next of its kind)."""
    out = []
    for kind in (WindowKind.WEEKLY, WindowKind.MONTHLY, WindowKind.QUARTERLY):
        lead = WINDOWS[kind].notice
        assert lead is not None
        dow = (0 - lead.days_before) % 7  # the windows fall on Sunday (cron: 0)
        cron = f"{lead.at.minute} {lead.at.hour} * * {dow}"
        out.append(notice(f"{kind}-notice", f"notice.{kind}", cron, kind, lead.days_before))
    return out


def weekly_steps() -> list[Entry]:
    """The weekly window (Sunday 02:00-06:00) in the playbook's slots."""
    w, dbm, bk = "weekly", "Database maintenance", "Backup operations"
    return [
        # 02:00 database maintenance (docs/upkeep.md)
        step("weekly-vacuum-analyze", "db.vacuum_analyze", "0 2 * * SUN", w, dbm),
        step("weekly-reindex", "db.reindex", "10 2 * * SUN", w, dbm),
        step("weekly-report", "db.report", "20 2 * * SUN", w, dbm),
        # 02:30 backups: the weekly backup is verified by a restore inside its run
        step("weekly-backup", "backup.create", "30 2 * * SUN", w, bk, tier="weekly"),
        step("weekly-retention", "backup.retention", "15 3 * * SUN", w, bk, dry_run=False),
        # 03:30 update and security review (only reads)
        step("weekly-security-audit", "security.audit", "30 3 * * SUN", w, "System updates"),
        # 04:30 testing and verification (the deep health check: 05:00, every Sunday)
        step("weekly-alert-test", "alerts.test", "30 4 * * SUN", w, "Testing & verification"),
    ]


def monthly_steps(kind: str = "monthly") -> list[Entry]:
    """The monthly window (first Sunday 02:00-08:00) in its slots; ``kind="quarterly"``:
    the same steps on the quarterly window's nights, with the quarterly DR test in place
    of the monthly drill."""
    days = f"* {'1,4,7,10' if kind == 'quarterly' else '*'} {FIRST_SUNDAY}"
    k = kind

    def at(hh: int, mm: int) -> str:
        return f"{mm} {hh} {days}"

    steps = [
        # 02:00 backups: the monthly backup, then its archive and off-site copy, which
        # window.run starts only once the backup has succeeded (window.plan.AFTER).
        step(f"{k}-backup", "backup.create", at(2, 0), k, "Backups", tier="monthly"),
        step(f"{k}-retention", "backup.retention", at(2, 30), k, "Backups", dry_run=False),
        # prune="apply": archives older than the monthly retention age go, never the
        # newest MAINT_RETENTION_MIN_VERIFIED (the task's default is a dry run).
        step(f"{k}-archive", "backup.archive", at(2, 40), k, "Backups", prune="apply"),
        step(f"{k}-offsite", "backup.offsite", at(2, 50), k, "Backups", prune="apply"),
        # 03:00 optimization (db.optimize: only from window.run)
        step(f"{k}-vacuum-analyze", "db.vacuum_analyze", at(3, 0), k, "Optimization"),
        step(f"{k}-reindex", "db.reindex", at(3, 15), k, "Optimization"),
        step(f"{k}-report", "db.report", at(3, 30), k, "Optimization"),
        # 04:00 security: update review and vulnerability scan, then the access review
        step(f"{k}-security-audit", "security.audit", at(4, 0), k, "Security"),
        step(f"{k}-access-review", "security.access_review", at(4, 20), k, "Security"),
        # 05:00 testing: the disaster recovery drill (the quarterly DR test in a quarter)
        (
            step("quarterly-dr-test", "restore.drill", at(5, 0), k, "Testing", purpose="quarterly")
            if kind == "quarterly"
            else step(
                "monthly-restore-drill", "restore.drill", at(5, 0), k, "Testing", purpose="monthly"
            )
        ),
        step(f"{k}-alert-test", "alerts.test", at(5, 30), k, "Testing"),
    ]
    return steps


def window_entries() -> list[Entry]:
    """One ``window.run`` per scheduled window, at its start (02:00 local), sent only on
    the nights whose window it is."""
    return [
        window_run("weekly", f"0 2 * * {SUNDAY}"),
        window_run("monthly", f"0 2 * * {FIRST_SUNDAY}"),
        window_run("quarterly", f"0 2 * 1,4,7,10 {FIRST_SUNDAY}"),
    ]


def entries(settings: Settings) -> list[Entry]:
    """What beat sends for these settings, in a stable order (names are unique:
    ``maint schedule --check`` says so)."""
    return [*standalone_entries(settings), *notice_entries(), *window_entries()]


def steps(settings: Settings) -> list[Entry]:
    """Every window's steps (``window.run`` takes those of its kind, in slot order)."""
    return [*weekly_steps(), *monthly_steps("monthly"), *monthly_steps("quarterly")]


def beat_entry(entry: Entry, settings: Settings) -> dict[str, Any]:
    """One Celery beat entry: the schedule from the calendar's own plan, the queue and
    the ``maint_trigger=beat`` header."""
    from tasks.schedule import CalendarSchedule  # Celery lives in tasks/, not here

    options: dict[str, Any] = {
        "queue": entry.queue or settings.queue,
        "headers": {"maint_trigger": "beat"},
    }
    if entry.expires_s is not None:
        options["expires"] = entry.expires_s
    return {
        "task": entry.task,
        "schedule": CalendarSchedule(entry, settings.zone),
        "kwargs": dict(entry.kwargs),
        "options": options,
    }


def build(settings: Settings) -> dict[str, dict[str, Any]]:
    """Beat's schedule for these settings: :func:`entries`, keyed by name."""
    return {e.name: beat_entry(e, settings) for e in entries(settings)}
