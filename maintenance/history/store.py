"""Reads and writes of the job-history database (claims of delivered runs:
:mod:`.claims`; lost runs: :mod:`.lost`).

Connections are made lazily per process (Celery's prefork children must not share a
parent's sockets). Writes are short transactions; nothing here holds a transaction open
while a task works.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, create_engine, func, not_, or_, select, union_all, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from maintenance import clock, pg, redact
from maintenance.errors import MaintenanceError, PermanentError, ServiceUnavailable
from maintenance.history.models import JobRun, WindowRun
from maintenance.results import RunStatus, Trigger

_engines: dict[tuple[int, str], Engine] = {}
_engines_lock = threading.Lock()

HOSTNAME = socket.gethostname()


def engine(dsn: str) -> Engine:
    """The history engine for this process (one per pid and DSN)."""
    key = (os.getpid(), dsn)
    with _engines_lock:
        eng = _engines.get(key)
        if eng is None:
            eng = create_engine(
                pg.sqlalchemy_url(dsn),
                pool_pre_ping=True,
                pool_size=3,
                max_overflow=2,
                connect_args={"connect_timeout": 10, "application_name": "maint-history"},
            )
            _engines[key] = eng
    return eng


def dispose_all() -> None:
    """Forget every engine (after a fork, or at the end of a test)."""
    with _engines_lock:
        for (pid, _), eng in list(_engines.items()):
            if pid == os.getpid():
                eng.dispose()
            else:
                eng.dispose(close=False)
        _engines.clear()


def session(dsn: str) -> Session:
    return Session(engine(dsn), expire_on_commit=False)


@contextlib.contextmanager
def reading(dsn: str) -> Iterator[Session]:
    """A session whose database errors come out as ours (unavailable / schema)."""
    try:
        with session(dsn) as s:
            yield s
    except DBAPIError as exc:
        raise unavailable(exc) from None


@contextlib.contextmanager
def writing(dsn: str) -> Iterator[Session]:
    """A session in one transaction (committed when the block ends, rolled back if it
    raises), its database errors coming out as ours (unavailable / schema)."""
    try:
        with session(dsn) as s, s.begin():
            yield s
    except DBAPIError as exc:
        raise unavailable(exc) from None


class HistorySchemaError(PermanentError):
    """The job-history database's tables are not what this version expects."""


def unavailable(exc: DBAPIError) -> MaintenanceError:
    first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if isinstance(exc, OperationalError):
        return ServiceUnavailable(f"job-history database unavailable: {redact.scrub(first)}")
    return HistorySchemaError(
        f"job-history database error: {redact.scrub(first)} (is its schema current? run `maint db upgrade`)"
    )


@dataclass(frozen=True)
class RunStart:
    task: str
    trigger: Trigger
    params: dict[str, Any]
    celery_task_id: str | None = None
    attempt: int = 1
    window_run_id: int | None = None
    parent_run_id: int | None = None
    step: str | None = None


def new_row(start: RunStart, started_at: datetime, **values: Any) -> JobRun:
    return JobRun(
        task=start.task,
        celery_task_id=start.celery_task_id,
        attempt=start.attempt,
        trigger=start.trigger.value,
        window_run_id=start.window_run_id,
        parent_run_id=start.parent_run_id,
        step=start.step,
        params=redact.redact_params(start.params),
        started_at=started_at,
        host=HOSTNAME,
        pid=os.getpid(),
        **values,
    )


def _insert(dsn: str, row: JobRun) -> int:
    try:
        with session(dsn) as s, s.begin():
            s.add(row)
            s.flush()
            return int(row.id)
    except DBAPIError as exc:
        raise unavailable(exc) from None


def insert_run(dsn: str, start: RunStart, *, started_at: datetime) -> int:
    """Insert a ``running`` row and return its id."""
    row = new_row(start, started_at, status=RunStatus.RUNNING.value, heartbeat_at=started_at)
    return _insert(dsn, row)


def heartbeat(dsn: str, run_id: int) -> bool:
    """Refresh a running row's heartbeat; False if the row is no longer running."""
    try:
        with session(dsn) as s, s.begin():
            res = s.execute(
                update(JobRun)
                .where(JobRun.id == run_id, JobRun.status == RunStatus.RUNNING.value)
                .values(heartbeat_at=clock.now())
            )
            return bool(res.rowcount)  # type: ignore[attr-defined]
    except DBAPIError as exc:
        raise unavailable(exc) from None


@dataclass(frozen=True)
class RunEnd:
    status: RunStatus
    finished_at: datetime
    duration_s: float
    summary: str | None = None
    result: dict[str, Any] | None = None
    error_type: str | None = None
    error_message: str | None = None


def finish_run(dsn: str, run_id: int, end: RunEnd) -> None:
    """Complete a row. A row the reaper already marked ``lost`` is completed anyway:
    the run did end, and what it says beats a guess."""
    values = _end_values(end)
    try:
        with session(dsn) as s, s.begin():
            s.execute(update(JobRun).where(JobRun.id == run_id).values(**values))
    except DBAPIError as exc:
        raise unavailable(exc) from None


def insert_finished_run(dsn: str, start: RunStart, started_at: datetime, end: RunEnd) -> int:
    """Write a whole row at once (the start insert had failed, or the run never began)."""
    return _insert(dsn, new_row(start, started_at, **_end_values(end)))


def _end_values(end: RunEnd) -> dict[str, Any]:
    return {
        "status": end.status.value,
        "finished_at": end.finished_at,
        "heartbeat_at": end.finished_at,
        "duration_s": round(end.duration_s, 3),
        "summary": redact.scrub(end.summary) if end.summary else None,
        "result": redact.scrub_value(end.result) if end.result is not None else None,
        "error_type": end.error_type,
        "error_message": redact.scrub(end.error_message) if end.error_message else None,
    }


# --- reading -----------------------------------------------------------------------------


def get_run(dsn: str, run_id: int) -> JobRun | None:
    with reading(dsn) as s:
        return s.get(JobRun, run_id)


def runs_for_celery_id(dsn: str, celery_task_id: str) -> list[JobRun]:
    with reading(dsn) as s:
        stmt = (
            select(JobRun)
            .where(JobRun.celery_task_id == celery_task_id)
            .order_by(JobRun.attempt, JobRun.id)
        )
        return list(s.scalars(stmt))


def list_runs(
    dsn: str,
    *,
    task: str | None = None,
    status: RunStatus | None = None,
    trigger: Trigger | None = None,
    since: datetime | None = None,
    limit: int = 50,
    steps: bool = False,
) -> list[JobRun]:
    """Newest first; the steps of longer runs only with ``steps``."""
    stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if not steps:
        stmt = stmt.where(JobRun.parent_run_id.is_(None))
    if task:
        stmt = stmt.where(JobRun.task == task)
    if status:
        stmt = stmt.where(JobRun.status == status.value)
    if trigger:
        stmt = stmt.where(JobRun.trigger == trigger.value)
    if since:
        stmt = stmt.where(JobRun.started_at >= since)
    try:
        with reading(dsn) as s:
            return list(s.scalars(stmt))
    except DBAPIError as exc:
        raise unavailable(exc) from None


#: The error types of input refused before a run could start: an unknown task, a bad
#: parameter, a bad identifier. The CLI exits 2 for them.
REJECTED_INPUT = ("ParamError", "UnknownTask", "BadInput")
#: Who can type a bad input. The same error from the schedule or a window is a real
#: failure: that job will fail the same way every time until someone fixes it.
_PEOPLE = (Trigger.CLI.value, Trigger.ADHOC.value)


def rejected_input() -> Any:
    """SQL condition: a row that records input a person gave and that was refused."""
    return and_(
        JobRun.status == RunStatus.FAILED.value,
        func.coalesce(JobRun.error_type, "").in_(REJECTED_INPUT),  # NULL would poison NOT
        JobRun.trigger.in_(_PEOPLE),
    )


def is_rejected_input(run: JobRun) -> bool:
    """:func:`rejected_input` for a row in hand."""
    return (
        run.status == RunStatus.FAILED.value
        and run.error_type in REJECTED_INPUT
        and run.trigger in _PEOPLE
    )


def latest_per_task(dsn: str) -> list[JobRun]:
    """For ``maint status``, by task name: the most recent real run of every task, and
    the most recent refused input (:func:`rejected_input`) that came after it, if any.

    A typo (``-p tier=dialy``) must not hide how the last real run went, nor be lost:
    callers tell the two kinds apart with :func:`is_rejected_input`.
    """
    rejected = rejected_input()
    top = JobRun.parent_run_id.is_(None)
    real = (
        select(JobRun.task, func.max(JobRun.id).label("id"))
        .where(top, not_(rejected))
        .group_by(JobRun.task)
        .subquery()
    )
    refused = (
        select(JobRun.task, func.max(JobRun.id).label("id"))
        .outerjoin(real, real.c.task == JobRun.task)
        .where(top, rejected, or_(real.c.id.is_(None), JobRun.id > real.c.id))
        .group_by(JobRun.task)
        .subquery()
    )
    ids = union_all(select(real.c.id), select(refused.c.id)).subquery()
    stmt = select(JobRun).where(JobRun.id.in_(select(ids.c.id))).order_by(JobRun.task, JobRun.id)
    try:
        with reading(dsn) as s:
            return list(s.scalars(stmt))
    except DBAPIError as exc:
        raise unavailable(exc) from None


def steps_of(dsn: str, run_id: int) -> list[JobRun]:
    """The step rows of a run, in order."""
    with reading(dsn) as s:
        return list(
            s.scalars(select(JobRun).where(JobRun.parent_run_id == run_id).order_by(JobRun.id))
        )


def running(dsn: str, tasks: Sequence[str] | None = None) -> list[JobRun]:
    stmt = select(JobRun).where(JobRun.status == RunStatus.RUNNING.value).order_by(JobRun.id)
    if tasks:
        stmt = stmt.where(JobRun.task.in_(list(tasks)))
    with reading(dsn) as s:
        return list(s.scalars(stmt))


# --- window runs ----------------------------------------------------------------------


def get_window_run(dsn: str, window_run_id: int) -> WindowRun | None:
    with reading(dsn) as s:
        return s.get(WindowRun, window_run_id)


@dataclass(frozen=True)
class WindowStart:
    """A window run as it opens (``window.run``)."""

    kind: str
    local_date: Any  # datetime.date
    trigger: Trigger
    started_at: datetime
    ends_at: datetime
    expected_down: Sequence[str]
    scheduled_for: datetime | None = None
    reason: str | None = None


def open_window_run(dsn: str, start: WindowStart) -> int:
    """Insert a ``running`` window run; its id (alerts for its components are held while
    it runs: docs/alerts.md)."""
    with session(dsn) as s, s.begin():
        row = WindowRun(
            kind=start.kind,
            local_date=start.local_date,
            scheduled_for=start.scheduled_for,
            trigger=start.trigger.value,
            status=RunStatus.RUNNING.value,
            started_at=start.started_at,
            ends_at=start.ends_at,
            expected_down=list(start.expected_down),
            reason=redact.scrub(start.reason) if start.reason else None,
        )
        s.add(row)
        s.flush()
        return int(row.id)


def close_window_run(
    dsn: str, window_run_id: int, status: RunStatus, result: dict[str, Any] | None
) -> None:
    """Settle a window run: its status, ``finished_at`` and result (the checklist)."""
    with session(dsn) as s, s.begin():
        s.execute(
            update(WindowRun)
            .where(WindowRun.id == window_run_id)
            .values(
                status=status.value,
                finished_at=clock.now(),
                result=redact.scrub_value(result) if result is not None else None,
            )
        )
