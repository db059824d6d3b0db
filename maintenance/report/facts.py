"""What the monthly report is built from: thin reads of the job-history database.

Everything is read for one period ``[start, end)`` (a local month, as UTC instants);
nothing is judged here (:mod:`.build` does, purely). Rows come out as plain dicts so the
builder never touches a session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text

from maintenance.history import store
from maintenance.history.models import (
    AlertState,
    JobRun,
    Notification,
    ReportApproval,
    WindowRun,
)
from maintenance.results import RunStatus

#: Tasks whose runs are only counted (a 5-minute check makes 8,640 rows a month; its
#: findings are the health section).
COUNTED_ONLY = ("health.check",)
#: How far past the month a later success of a failed task is looked for.
RESOLUTION_LOOKAHEAD = timedelta(days=31)
CAPACITY_TASK = "capacity.forecast"


@dataclass(frozen=True)
class Facts:
    start: datetime
    end: datetime
    windows: list[dict[str, Any]] = field(default_factory=list)
    #: top-level runs started in the period (not COUNTED_ONLY), with their results
    runs: list[dict[str, Any]] = field(default_factory=list)
    #: task -> status -> count, for every top-level run started in the period
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    #: (task, id, started_at) of succeeded runs from the period's start on (resolutions)
    successes: list[dict[str, Any]] = field(default_factory=list)
    #: (taken_at, status, checks) of every health sample of the period, oldest first
    samples: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    open_alerts: list[dict[str, Any]] = field(default_factory=list)
    capacity: dict[str, Any] | None = None
    approvals: list[dict[str, Any]] = field(default_factory=list)


_RUN_COLUMNS = (
    "id",
    "task",
    "trigger",
    "window_run_id",
    "params",
    "status",
    "started_at",
    "finished_at",
    "duration_s",
    "summary",
    "result",
    "error_type",
    "error_message",
)


#: Each sample's checks reduced to their statuses (``{key: [{"status": ...}]}``, the shape
#: :func:`maintenance.health.document.component_status` reads): a month of documents is
#: tens of megabytes, their statuses a tenth of that. A ``checks`` that is not an object
#: reads as none.
_SAMPLES = text(
    """
SELECT h.taken_at, h.status,
       (SELECT jsonb_object_agg(c.key, (
                 SELECT coalesce(jsonb_agg(jsonb_build_object('status', e.value -> 'status')), '[]')
                   FROM jsonb_array_elements(
                        CASE jsonb_typeof(c.value) WHEN 'array' THEN c.value
                             ELSE jsonb_build_array(c.value) END) e))
          FROM jsonb_each(CASE jsonb_typeof(h.document -> 'checks')
                          WHEN 'object' THEN h.document -> 'checks' ELSE '{}'::jsonb END) c)
  FROM health_samples h
 WHERE h.taken_at >= :start AND h.taken_at < :end
 ORDER BY h.taken_at, h.id
"""
)


def _run(row: JobRun) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _RUN_COLUMNS}


def read(dsn: str, month: str, start: datetime, end: datetime) -> Facts:
    """Every fact of the period, in a handful of queries."""
    top = JobRun.parent_run_id.is_(None)
    in_period = (JobRun.started_at >= start) & (JobRun.started_at < end)
    with store.reading(dsn) as s:
        windows = [
            {
                "id": w.id,
                "kind": w.kind,
                "local_date": w.local_date,
                "trigger": w.trigger,
                "status": w.status,
                "started_at": w.started_at,
                "finished_at": w.finished_at,
                "reason": w.reason,
                "expected_down": list(w.expected_down or []),
            }
            for w in s.scalars(
                select(WindowRun)
                .where(WindowRun.started_at >= start, WindowRun.started_at < end)
                .order_by(WindowRun.started_at, WindowRun.id)
            )
        ]
        runs = [
            _run(r)
            for r in s.scalars(
                select(JobRun)
                .where(top, in_period, JobRun.task.not_in(COUNTED_ONLY))
                .order_by(JobRun.started_at, JobRun.id)
            )
        ]
        # steps of this period's windows that started outside it are still its steps
        seen = {r["id"] for r in runs}
        ids = [w["id"] for w in windows]
        if ids:
            runs += [
                _run(r)
                for r in s.scalars(
                    select(JobRun)
                    .where(top, JobRun.window_run_id.in_(ids), JobRun.id.not_in(seen or {-1}))
                    .order_by(JobRun.started_at, JobRun.id)
                )
            ]
        counts: dict[str, dict[str, int]] = {}
        for task, status, n in s.execute(
            select(JobRun.task, JobRun.status, func.count())
            .where(top, in_period)
            .group_by(JobRun.task, JobRun.status)
        ):
            counts.setdefault(task, {})[status] = int(n)
        successes = [
            {"task": t, "id": i, "started_at": at}
            for t, i, at in s.execute(
                select(JobRun.task, JobRun.id, JobRun.started_at)
                .where(
                    top,
                    JobRun.status == RunStatus.SUCCEEDED.value,
                    JobRun.started_at >= start,
                    JobRun.started_at < end + RESOLUTION_LOOKAHEAD,
                    JobRun.task.not_in(COUNTED_ONLY),
                )
                .order_by(JobRun.started_at, JobRun.id)
            )
        ]
        samples = [
            {"taken_at": at, "status": st, "checks": checks or {}}
            for at, st, checks in s.execute(_SAMPLES, {"start": start, "end": end})
        ]
        notifications = [
            {
                "id": n.id,
                "created_at": n.created_at,
                "kind": n.kind,
                "severity": n.severity,
                "subject": n.subject,
                "channel": n.channel,
                "status": n.status,
                "run_id": n.run_id,
            }
            for n in s.scalars(
                select(Notification)
                .where(Notification.created_at >= start, Notification.created_at < end)
                .order_by(Notification.created_at, Notification.id)
            )
        ]
        open_alerts = [
            {"key": a.key, "status": a.notified_status, "opened_at": a.opened_at}
            for a in s.scalars(
                select(AlertState)
                .where(AlertState.notified_status != "pass", AlertState.opened_at < end)
                .order_by(AlertState.key)
            )
        ]
        capacity_row = s.scalars(
            select(JobRun)
            .where(
                top,
                JobRun.task == CAPACITY_TASK,
                JobRun.status.in_([RunStatus.SUCCEEDED.value, RunStatus.FAILED.value]),
                JobRun.result.is_not(None),
                JobRun.started_at < end,
            )
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(1)
        ).first()
        capacity = _run(capacity_row) if capacity_row is not None else None
    return Facts(
        start=start,
        end=end,
        windows=windows,
        runs=runs,
        counts=counts,
        successes=successes,
        samples=samples,
        notifications=notifications,
        open_alerts=open_alerts,
        capacity=capacity,
        approvals=approvals(dsn, month),
    )


def approvals(dsn: str, month: str) -> list[dict[str, Any]]:
    """Every sign-off of ``month``'s report, oldest first."""
    with store.reading(dsn) as s:
        return [
            {
                "id": a.id,
                "role": a.role,
                "by": a.approved_by,
                "at": a.approved_at,
                "note": a.note,
                "report_sha256": a.report_sha256,
                "run_id": a.run_id,
            }
            for a in s.scalars(
                select(ReportApproval)
                .where(ReportApproval.month == month)
                .order_by(ReportApproval.approved_at, ReportApproval.id)
            )
        ]


@dataclass(frozen=True)
class NewApproval:
    month: str
    role: str
    by: str
    at: datetime
    note: str | None
    report_sha256: str
    report_generated_at: datetime | None
    run_id: int | None


def record_approval(dsn: str, a: NewApproval) -> int:
    """Insert one sign-off; its id."""
    with store.writing(dsn) as s:
        row = ReportApproval(
            month=a.month,
            role=a.role,
            approved_by=a.by,
            approved_at=a.at,
            note=a.note,
            report_sha256=a.report_sha256,
            report_generated_at=a.report_generated_at,
            run_id=a.run_id,
        )
        s.add(row)
        s.flush()
        return int(row.id)
