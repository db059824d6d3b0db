"""Watching and running the calendar: notices and alerts.test, health.*, diag.hold,
window.run and the monthly report (docs/notices.md, health.md, calendar.md, reports.md)."""

from __future__ import annotations

from typing import Any

from maintenance import diag
from maintenance.capacity import forecast as capacity_forecast
from maintenance.health import check as health_check
from maintenance.health import deep as health_deep
from maintenance.notify import tasks as notify_tasks
from maintenance.report import task as report_task
from maintenance.smoketest import tasks as smoke_tasks
from maintenance.taskspec import NoParams, TaskSpec
from maintenance.window import run as window_run


def _message_task(name: str, func: Any, params: Any, description: str) -> TaskSpec[Any]:
    """A task that sends messages (docs/notices.md): each channel retries inside the run
    and a dedup key sends each notice once, so the workers never retry it."""
    return TaskSpec(
        name=name,
        func=func,
        params=params,
        description=description,
        soft_time_limit=300,
        time_limit=360,
        max_retries=0,
    )


def _task(name: str) -> TaskSpec[Any]:
    """A task by name, for window.run's steps (the catalog is whole by the time one runs)."""
    from maintenance.catalog import get

    return get(name)


SPECS: tuple[TaskSpec[Any], ...] = (
    # Notifications (docs/notices.md)
    _message_task(
        "alerts.test",
        notify_tasks.alerts_test,
        NoParams,
        "One test message through every configured notification channel (webhook, "
        "e-mail); each channel's result in the checklist; fails if one fails or none is set.",
    ),
    _message_task(
        "notice.weekly",
        notify_tasks.weekly,
        notify_tasks.AdvanceParams,
        "The weekly window's notice (sent Friday 15:00 for Sunday 02:00-06:00): date, local time, zone, impact, activities, schedule.",
    ),
    _message_task(
        "notice.monthly",
        notify_tasks.monthly,
        notify_tasks.AdvanceParams,
        "The monthly window's notice, 14 days ahead (first Sunday, 02:00-08:00).",
    ),
    _message_task(
        "notice.quarterly",
        notify_tasks.quarterly,
        notify_tasks.AdvanceParams,
        "The quarterly deep maintenance's notice, 28 days ahead (first Sunday of Jan/Apr/Jul/Oct).",
    ),
    _message_task(
        "notice.emergency",
        notify_tasks.emergency,
        notify_tasks.EmergencyParams,
        "Emergency maintenance notice, sent at once: reason (required), start (default now), duration.",
    ),
    _message_task(
        "notice.status",
        notify_tasks.status,
        notify_tasks.StatusParams,
        "A status update during a window (03:00, 04:00 ...), once per window and hour, with an optional message.",
    ),
    _message_task(
        "notice.all_clear",
        notify_tasks.all_clear,
        notify_tasks.AllClearParams,
        "The all-clear: a window completed and the system is available again.",
    ),
    _message_task(
        "notice.problem",
        notify_tasks.problem,
        notify_tasks.ProblemParams,
        "A window ran into a problem: what failed (required), and what happens next.",
    ),
    # Health (docs/health.md): read-only probes; the check stores its sample, sends the
    # alerts and pings the dead man's switch. Not exclusive: two overlapping checks harm
    # nothing (an alert's dedup key is claimed once per channel).
    TaskSpec(
        name="health.check",
        func=health_check.check,
        params=NoParams,
        description="Every 5 minutes: API, database, cache, Celery and host probed at once, "
        "bounded (5 s); the health document stored; alerts sent; fails only when critical.",
        # The probes take at most 5 s; the rest is for the alerts' channels, which retry
        # with backoff (a webhook's 4 attempts of 5 s, SMTP's 3): still inside the 5 minutes.
        soft_time_limit=240,
        time_limit=270,
        # the next check is 5 minutes away: a retry would only overlap it
        max_retries=0,
    ),
    TaskSpec(
        name="health.deep",
        func=health_deep.deep,
        params=NoParams,
        description="Weekly deep health check: versions, pg_isready, API timing, cache INFO, "
        "disk, memory, CPU, workers and queues, recent error lines in the logs.",
        soft_time_limit=300,
        time_limit=360,
        max_retries=0,
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
    TaskSpec(
        name="window.run",
        func=lambda ctx, params: window_run.run(ctx, params, _task),
        params=window_run.WindowParams,
        description="A maintenance window: its steps in slot order (each a linked run), "
        "dependencies, blackout and buffer skips, status updates and the all-clear "
        "(docs/calendar.md).",
        exclusive=True,
        lock="window",
        # the quarterly window lasts 8 hours; its steps have their own limits
        soft_time_limit=10 * 3600,
        time_limit=10 * 3600 + 600,
        max_retries=0,
    ),
    # Capacity (docs/capacity.md): the quarterly audit's "capacity expansion (if needed)"
    TaskSpec(
        name="capacity.forecast",
        func=capacity_forecast.run,
        params=NoParams,
        description="Database size, backup storage per tier, log volume, free disk and Redis "
        "memory over time from the history; a least-squares growth rate and the date each "
        "crosses its limit; warns when that is under MAINT_CAPACITY_WARN_DAYS away.",
        soft_time_limit=600,
        time_limit=660,
        max_retries=0,
    ),
    # The weekly testing slot (docs/smoke.md)
    TaskSpec(
        name="test.smoke",
        func=smoke_tasks.smoke,
        params=NoParams,
        description="The application's smoke checks (MAINT_SMOKE_REQUESTS) against "
        "MAINT_API_URL: status and body keys of each answer, each timed and bounded.",
        soft_time_limit=300,
        time_limit=360,
        max_retries=0,
    ),
    TaskSpec(
        name="test.baseline",
        func=smoke_tasks.baseline,
        params=smoke_tasks.BaselineParams,
        description="The smoke requests' response times recorded as the performance "
        "baseline and compared with the medians of the trailing weeks; warns on a regression.",
        soft_time_limit=600,
        time_limit=660,
        max_retries=0,
    ),
    # The monthly report (docs/reports.md): the monthly window's documentation slot.
    TaskSpec(
        name="report.monthly",
        func=report_task.monthly,
        params=report_task.MonthlyParams,
        description="The month's report (default: the previous month) from the history: "
        "windows and their steps, failures and what was done, backups, drills' RTO/RPO, "
        "uptime, alerts, upkeep, security, capacity; HTML with charts and JSON under "
        "MAINT_REPORT_DIR, sent through the notification channels.",
        exclusive=True,
        lock="report",
        soft_time_limit=600,
        time_limit=660,
        # a report is sent once per run: a retry would send it again
        max_retries=0,
    ),
    TaskSpec(
        name="report.approve",
        func=report_task.approve,
        params=report_task.ApproveParams,
        description="Sign a month's report off (maint report approve MONTH --by NAME): "
        "who, in which role, when, recorded in the history; the report is rendered again "
        "with its sign-off lines filled. Refused when the month has no report.",
        exclusive=True,
        lock="report",
        soft_time_limit=120,
        time_limit=180,
        max_retries=0,
    ),
)
