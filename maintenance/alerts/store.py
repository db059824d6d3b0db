"""The facts alerts are decided on, and the record of what was announced.

Reads: what was last notified per key (``alert_state``), the running maintenance windows
that take components down (``window_runs``), the failed and lost runs to announce
(``job_runs``). Writes: ``alert_state`` after a decision was delivered. Short
transactions; nothing is held while messages are sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, not_, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from maintenance.alerts.rules import PASS, Action, Decision, Hold, Notified
from maintenance.history import store
from maintenance.history.models import AlertState, JobRun, Notification, WindowRun
from maintenance.results import RunStatus, Trigger


def notified(dsn: str) -> dict[str, Notified]:
    """Every key's last announcement."""
    with store.reading(dsn) as s:
        rows = s.scalars(select(AlertState)).all()
    return {
        r.key: Notified(r.notified_status, r.notified_at, r.opened_at, r.held_since) for r in rows
    }


def open_alerts(dsn: str) -> list[AlertState]:
    """Keys whose last announcement was not a recovery, or that a window holds."""
    with store.reading(dsn) as s:
        stmt = (
            select(AlertState)
            .where((AlertState.notified_status != PASS) | AlertState.held_since.is_not(None))
            .order_by(AlertState.key)
        )
        return list(s.scalars(stmt))


def holds(dsn: str, now: datetime) -> list[Hold]:
    """Window runs that hold alerts for the components they take down: every running
    one, and an emergency window until its announced end (its run only records and
    announces it, then ends; the people doing the work are the ones the alerts would
    page)."""
    with store.reading(dsn) as s:
        stmt = select(WindowRun).where(
            WindowRun.expected_down != [],
            or_(
                WindowRun.status == RunStatus.RUNNING.value,
                (WindowRun.kind == "emergency") & (WindowRun.ends_at > now),
            ),
        )
        rows = s.scalars(stmt).all()
    return [Hold(r.id, r.kind, r.started_at, r.ends_at, frozenset(r.expected_down)) for r in rows]


def record(dsn: str, decisions: Sequence[Decision], now: datetime) -> None:
    """Store what was announced (fire, repeat, resolve) and what a window holds; a key
    no longer held (its window ended, or it recovered) loses its ``held_since``."""
    with store.writing(dsn) as s:
        for d in decisions:
            if d.action is Action.HOLD:
                hold = insert(AlertState).values(
                    key=d.key,
                    notified_status=d.previous,
                    notified_at=now,
                    held_since=now,
                    detail={"output": d.output, "reason": d.reason},
                )
                s.execute(
                    hold.on_conflict_do_update(
                        index_elements=[AlertState.key],
                        set_={"held_since": func.coalesce(AlertState.held_since, now)},
                    )
                )
                continue
            if not d.notifies:
                s.execute(
                    update(AlertState)
                    .where(AlertState.key == d.key, AlertState.held_since.is_not(None))
                    .values(held_since=None)
                )
                continue
            values: dict[str, object] = {
                "notified_status": d.status,
                "notified_at": now,
                "held_since": None,
                "detail": {"output": d.output, "reason": d.reason},
            }
            if d.action is Action.RESOLVE:
                values["opened_at"] = None
            elif d.previous == PASS:  # a new incident (not an escalation or a repeat)
                values["opened_at"] = d.since
            upsert = insert(AlertState).values(key=d.key, **values)
            s.execute(upsert.on_conflict_do_update(index_elements=[AlertState.key], set_=values))


def failed_runs(dsn: str, now: datetime, lookback_s: float, exclude: Sequence[str]) -> list[JobRun]:
    """Top-level runs that ended failed, lost or missed within ``lookback_s``, started by
    the schedule, a window or the workers (a person at ``maint run`` saw the failure), not
    refused input, not one of the ``exclude`` tasks."""
    stmt = (
        select(JobRun)
        .where(
            JobRun.parent_run_id.is_(None),
            JobRun.status.in_(
                [RunStatus.FAILED.value, RunStatus.LOST.value, RunStatus.MISSED.value]
            ),
            JobRun.finished_at >= now - timedelta(seconds=lookback_s),
            JobRun.trigger != Trigger.CLI.value,
            not_(store.rejected_input()),
        )
        .order_by(JobRun.finished_at, JobRun.id)
    )
    if exclude:
        stmt = stmt.where(JobRun.task.not_in(list(exclude)))
    with store.reading(dsn) as s:
        return list(s.scalars(stmt))


def recent_notifications(dsn: str, limit: int = 20) -> list[Notification]:
    """The latest messages, newest first, one row per channel."""
    with store.reading(dsn) as s:
        stmt = (
            select(Notification)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
        return list(s.scalars(stmt))
