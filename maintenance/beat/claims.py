"""``beat_dispatches``: beat's claims of due occurrences (docs/beat.md).

An occurrence (entry name, due instant in UTC) is claimed with ``INSERT ... ON CONFLICT
DO NOTHING`` before it is sent; only the beat whose insert returned a row sends it. A
missed occurrence is claimed the same way and recorded once in ``job_runs`` as
``missed``. The newest claim of each entry is where beat resumes after a restart or a
takeover: the table is beat's persistent state (there is no schedule file).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from maintenance import clock
from maintenance.history.models import BeatDispatch, JobRun
from maintenance.history.store import (
    RunEnd,
    RunStart,
    _end_values,
    new_row,
    reading,
    writing,
)
from maintenance.results import RunStatus, Trigger

SENDING, SENT, SEND_FAILED, MISSED = "sending", "sent", "send_failed", "missed"


def claimant() -> str:
    """Who claims: this process (``PID@HOST``)."""
    return f"{os.getpid()}@{socket.gethostname()}"


def last_claims(dsn: str) -> dict[str, datetime]:
    """Each entry's newest claimed occurrence."""
    stmt = select(BeatDispatch.entry, func.max(BeatDispatch.scheduled_for)).group_by(
        BeatDispatch.entry
    )
    with reading(dsn) as s:
        return {name: when for name, when in s.execute(stmt)}


def last_zone(dsn: str) -> str | None:
    """The zone of the newest claim (None: no claim yet, or one made before zones were
    recorded)."""
    stmt = select(BeatDispatch.zone).order_by(BeatDispatch.claimed_at.desc()).limit(1)
    with reading(dsn) as s:
        return s.execute(stmt).scalar_one_or_none()


def claim(
    dsn: str,
    entry: str,
    scheduled_for: datetime,
    *,
    task: str,
    late: bool = False,
    zone: str | None = None,
) -> bool:
    """Claim one occurrence for sending; True if this call claimed it (send it), False
    if someone already had (do not)."""
    stmt = (
        insert(BeatDispatch)
        .values(
            entry=entry,
            scheduled_for=scheduled_for,
            claimed_at=clock.now(),
            claimed_by=claimant(),
            task=task,
            outcome=SENDING,
            late=late,
            zone=zone,
        )
        .on_conflict_do_nothing(index_elements=["entry", "scheduled_for"])
        .returning(BeatDispatch.entry)
    )
    with writing(dsn) as s:
        return s.execute(stmt).first() is not None


def mark(
    dsn: str,
    entry: str,
    scheduled_for: datetime,
    *,
    outcome: str,
    celery_task_id: str | None = None,
    run_id: int | None = None,
    detail: str | None = None,
    late: bool | None = None,
) -> None:
    """Record how a claimed send ended (sent, or send_failed with the history row)."""
    values: dict[str, Any] = {"outcome": outcome}
    if late is not None:
        values["late"] = late
    if celery_task_id is not None:
        values["celery_task_id"] = celery_task_id
    if run_id is not None:
        values["run_id"] = run_id
    if detail is not None:
        values["detail"] = detail
    with writing(dsn) as s:
        s.execute(
            update(BeatDispatch)
            .where(BeatDispatch.entry == entry, BeatDispatch.scheduled_for == scheduled_for)
            .values(**values)
        )


def record_failed_send(
    dsn: str,
    entry: str,
    scheduled_for: datetime,
    *,
    task: str,
    params: Mapping[str, Any],
    error: BaseException,
) -> int:
    """A claimed occurrence that could not be sent (the broker refused it): a ``failed``
    row in the history (trigger beat), so on-call sees it; never sent again by itself."""
    now = clock.now()
    start = RunStart(task=task, trigger=Trigger.BEAT, params=dict(params))
    end = RunEnd(
        status=RunStatus.FAILED,
        finished_at=now,
        duration_s=0.0,
        summary=f"beat could not send {entry} due {scheduled_for:%Y-%m-%d %H:%M:%SZ}",
        error_type=type(error).__name__,
        error_message=str(error)[:2000],
    )
    with writing(dsn) as s:
        row = new_row(start, now, **_end(end))
        s.add(row)
        s.flush()
        run_id = int(row.id)
        s.execute(
            update(BeatDispatch)
            .where(BeatDispatch.entry == entry, BeatDispatch.scheduled_for == scheduled_for)
            .values(outcome=SEND_FAILED, run_id=run_id, detail=str(error)[:2000])
        )
        return run_id


def record_missed(
    dsn: str,
    entry: str,
    occurrences: Iterable[datetime],
    *,
    task: str,
    params: Mapping[str, Any],
    summary: str,
) -> list[int]:
    """Claim each occurrence as missed and record it once in ``job_runs`` (status
    ``missed``, trigger beat, started_at its due instant). An occurrence someone else
    already claimed (sent, or recorded) is left alone. Returns the new rows' ids."""
    ids: list[int] = []
    start = RunStart(task=task, trigger=Trigger.BEAT, params=dict(params))
    with writing(dsn) as s:
        for when in occurrences:
            now = clock.now()
            got = s.execute(
                insert(BeatDispatch)
                .values(
                    entry=entry,
                    scheduled_for=when,
                    claimed_at=now,
                    claimed_by=claimant(),
                    task=task,
                    outcome=MISSED,
                    detail=summary,
                )
                .on_conflict_do_nothing(index_elements=["entry", "scheduled_for"])
                .returning(BeatDispatch.entry)
            ).first()
            if got is None:
                continue
            end = RunEnd(
                status=RunStatus.MISSED,
                finished_at=now,
                duration_s=0.0,
                summary=f"missed {entry} due {when:%Y-%m-%d %H:%M:%SZ}: {summary}",
            )
            row = new_row(start, when, **_end(end))
            s.add(row)
            s.flush()
            ids.append(int(row.id))
            s.execute(
                update(BeatDispatch)
                .where(BeatDispatch.entry == entry, BeatDispatch.scheduled_for == when)
                .values(run_id=int(row.id))
            )
    return ids


def _end(end: RunEnd) -> dict[str, Any]:
    return _end_values(end)


def unsettled(dsn: str, *, before: datetime) -> list[tuple[str, datetime, str]]:
    """Claims another beat made before ``before`` and never confirmed sent (it died
    between its claim and the broker's answer): (entry, scheduled_for, claimed_by)."""
    stmt = select(BeatDispatch.entry, BeatDispatch.scheduled_for, BeatDispatch.claimed_by).where(
        BeatDispatch.outcome == SENDING,
        BeatDispatch.claimed_by != claimant(),
        BeatDispatch.claimed_at < before,
    )
    with reading(dsn) as s:
        return [(e, w, b) for e, w, b in s.execute(stmt)]


def take_over(dsn: str, entry: str, scheduled_for: datetime, *, was: str) -> bool:
    """Take an unsettled claim over from the beat ``was``; True if this call did (one
    taker only, however many beats try)."""
    stmt = (
        update(BeatDispatch)
        .where(
            BeatDispatch.entry == entry,
            BeatDispatch.scheduled_for == scheduled_for,
            BeatDispatch.outcome == SENDING,
            BeatDispatch.claimed_by == was,
        )
        .values(claimed_by=claimant(), claimed_at=clock.now())
        .returning(BeatDispatch.entry)
    )
    with writing(dsn) as s:
        return s.execute(stmt).first() is not None


def run_recorded(dsn: str, celery_task_id: str) -> bool:
    """Whether a worker has recorded a run of this Celery task id."""
    with reading(dsn) as s:
        stmt = select(JobRun.id).where(JobRun.celery_task_id == celery_task_id).limit(1)
        return s.execute(stmt).first() is not None


def settle_missed(
    dsn: str,
    entry: str,
    scheduled_for: datetime,
    *,
    task: str,
    params: Mapping[str, Any],
    summary: str,
) -> int:
    """A claim this beat took over (:func:`take_over`) that is too late to send: marked
    missed and recorded once in ``job_runs``. Returns the row's id."""
    now = clock.now()
    start = RunStart(task=task, trigger=Trigger.BEAT, params=dict(params))
    end = RunEnd(
        status=RunStatus.MISSED,
        finished_at=now,
        duration_s=0.0,
        summary=f"missed {entry} due {scheduled_for:%Y-%m-%d %H:%M:%SZ}: {summary}",
    )
    with writing(dsn) as s:
        row = new_row(start, scheduled_for, **_end(end))
        s.add(row)
        s.flush()
        s.execute(
            update(BeatDispatch)
            .where(
                BeatDispatch.entry == entry,
                BeatDispatch.scheduled_for == scheduled_for,
                BeatDispatch.claimed_by == claimant(),
            )
            .values(outcome=MISSED, run_id=int(row.id), detail=summary)
        )
        return int(row.id)
