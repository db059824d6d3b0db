"""Runs whose worker died: marked ``lost`` (or ``failed`` when the worker killed them).

Three nets call these (tasks/signals.py): the worker's parent when a child dies, a
worker's start-up sweep of its own host, and the reaper of stale heartbeats (also run by
``maint history``/``show``/``status`` and the ``--wait`` waiter before they read).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psutil
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from maintenance import clock
from maintenance.history.models import JobRun
from maintenance.history.store import HOSTNAME, reading, session, unavailable
from maintenance.results import RunStatus


def reap(dsn: str, *, lost_after_s: float, now: datetime | None = None) -> list[int]:
    """Mark ``lost`` every running row whose heartbeat is older than ``lost_after_s``.

    A live run refreshes its heartbeat every ``heartbeat_interval_s``; one that stopped
    refreshing belongs to a worker that died (kill -9, OOM, power loss). Returns the ids.
    """
    now = now or clock.now()
    cutoff = now - timedelta(seconds=lost_after_s)
    return _mark_lost(
        dsn,
        [JobRun.heartbeat_at < cutoff],
        now,
        f"no heartbeat for more than {lost_after_s:g}s: the worker running it died",
    )


def sweep_dead_local(
    dsn: str, *, heartbeat_interval_s: float, now: datetime | None = None
) -> list[int]:
    """At worker start-up: rows of *this host* whose process is gone are lost now,
    without waiting for the heartbeat timeout (a live process with a reused pid is
    protected by also requiring two missed heartbeats)."""
    now = now or clock.now()
    cutoff = now - timedelta(seconds=2 * heartbeat_interval_s)
    with reading(dsn) as s:
        candidates = s.execute(
            select(JobRun.id, JobRun.pid).where(
                JobRun.status == RunStatus.RUNNING.value,
                JobRun.host == HOSTNAME,
                JobRun.heartbeat_at < cutoff,
            )
        ).all()
    dead = [rid for rid, pid in candidates if pid is None or not psutil.pid_exists(pid)]
    if not dead:
        return []
    return _mark_lost(
        dsn, [JobRun.id.in_(dead)], now, f"its process on {HOSTNAME} is gone (worker restarted)"
    )


def mark_lost_by_celery_id(dsn: str, celery_task_id: str, reason: str) -> list[int]:
    """The worker's parent saw its child die while running this task."""
    return _mark_lost(dsn, [JobRun.celery_task_id == celery_task_id], clock.now(), reason)


def fail_running_by_celery_id(
    dsn: str, celery_task_id: str, error_type: str, message: str
) -> list[int]:
    """The worker's parent killed this task (hard time limit): complete its row failed."""
    return _mark_lost(
        dsn,
        [JobRun.celery_task_id == celery_task_id],
        clock.now(),
        message,
        status=RunStatus.FAILED,
        error_type=error_type,
    )


def _mark_lost(
    dsn: str,
    conditions: list[Any],
    now: datetime,
    reason: str,
    *,
    status: RunStatus = RunStatus.LOST,
    error_type: str = "WorkerLost",
) -> list[int]:
    try:
        with session(dsn) as s, s.begin():
            res = s.execute(
                update(JobRun)
                .where(JobRun.status == RunStatus.RUNNING.value, *conditions)
                .values(
                    status=status.value,
                    finished_at=now,
                    duration_s=func.extract("epoch", now - JobRun.started_at),
                    error_type=error_type,
                    error_message=reason,
                    summary=f"{status.value}: {reason}",
                )
                .returning(JobRun.id)
            )
            return [int(r) for r in res.scalars()]
    except DBAPIError as exc:
        raise unavailable(exc) from None
