"""Claims of delivered runs: a message whose run is already recorded never runs again
(docs/architecture.md, "A lost run never runs again by itself")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from maintenance.history.models import JobRun
from maintenance.history.store import RunStart, new_row, session, unavailable
from maintenance.locks import lock_key
from maintenance.redelivery import PriorRun
from maintenance.results import RunStatus


def _prior(row: JobRun) -> PriorRun:
    return PriorRun(
        run_id=int(row.id),
        attempt=int(row.attempt),
        status=RunStatus(row.status),
        started_at=row.started_at,
        finished_at=row.finished_at,
        host=row.host,
        pid=row.pid,
    )


@dataclass(frozen=True)
class Claim:
    """The outcome of :func:`claim_run`: the new row's id, or what was there before."""

    run_id: int | None
    seen: PriorRun | None = None
    runs: tuple[PriorRun, ...] = ()


def claim_run(dsn: str, start: RunStart, *, started_at: datetime) -> Claim:
    """Claim a delivered message's run by its Celery task id and attempt.

    In one transaction, under a transaction-scoped advisory lock on the task id (two
    workers handed the same message at once cannot both pass): if a top-level row of this
    task id with this attempt or a later one exists, nothing is inserted and the earliest
    such row is returned as ``seen``; otherwise a ``running`` row is inserted.
    """
    assert start.celery_task_id is not None, "only a delivered message is claimed"
    assert start.parent_run_id is None, "steps are not claimed"
    key = lock_key(f"delivery:{start.celery_task_id}")
    try:
        with session(dsn) as s, s.begin():
            s.execute(select(func.pg_advisory_xact_lock(key)))
            rows = list(
                s.scalars(
                    select(JobRun)
                    .where(
                        JobRun.celery_task_id == start.celery_task_id,
                        JobRun.parent_run_id.is_(None),
                    )
                    .order_by(JobRun.attempt, JobRun.id)
                )
            )
            # rows that are themselves the record of a redelivery say nothing new
            runs = tuple(_prior(r) for r in rows if not _is_redelivery_record(r))
            seen = next((r for r in runs if r.attempt >= start.attempt), None)
            if seen is not None:
                return Claim(None, seen, runs)
            row = new_row(
                start, started_at, status=RunStatus.RUNNING.value, heartbeat_at=started_at
            )
            s.add(row)
            s.flush()
            return Claim(int(row.id), None, runs)
    except DBAPIError as exc:
        raise unavailable(exc) from None


#: The summary prefix of a row that records a redelivered message (never executed).
REDELIVERY_MARK = "skipped: redelivered "


def _is_redelivery_record(row: JobRun) -> bool:
    return row.status == RunStatus.SKIPPED.value and (row.summary or "").startswith(
        REDELIVERY_MARK
    )
