"""The stored health samples (``health_samples``): one row per ``health.check``, its
document whole, so that deltas (the cache's hit ratio) and trends work and alert state
can be computed from what was seen. Kept ``MAINT_HEALTH_SAMPLE_RETENTION_DAYS``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError

from maintenance.alerts.rules import PASS, Observation
from maintenance.health.document import component_status, entries_of
from maintenance.history import store
from maintenance.history.models import HealthSample


@dataclass(frozen=True)
class Stored:
    id: int
    taken_at: datetime
    status: str
    duration_ms: float | None
    run_id: int | None
    document: dict[str, Any]


def _stored(row: HealthSample) -> Stored:
    return Stored(row.id, row.taken_at, row.status, row.duration_ms, row.run_id, row.document)


def save(
    dsn: str,
    document: dict[str, Any],
    *,
    taken_at: datetime,
    duration_ms: float,
    run_id: int | None,
) -> int:
    """Store one sample; return its id."""
    row = HealthSample(
        taken_at=taken_at,
        status=str(document["status"]),
        duration_ms=round(duration_ms, 1),
        run_id=run_id,
        document=document,
    )
    try:
        with store.session(dsn) as s:
            s.add(row)
            s.commit()
            return int(row.id)
    except DBAPIError as exc:
        raise store.unavailable(exc) from None


def latest(dsn: str, limit: int = 1) -> list[Stored]:
    """The newest ``limit`` samples, newest first."""
    stmt = (
        select(HealthSample)
        .order_by(HealthSample.taken_at.desc(), HealthSample.id.desc())
        .limit(limit)
    )
    with store.reading(dsn) as s:
        return [_stored(r) for r in s.scalars(stmt)]


def prune(dsn: str, *, now: datetime, keep_days: int) -> int:
    """Delete the samples taken more than ``keep_days`` before ``now``; return how many."""
    cutoff = now - timedelta(days=keep_days)
    try:
        with store.session(dsn) as s:
            result = s.execute(delete(HealthSample).where(HealthSample.taken_at < cutoff))
            s.commit()
            return int(getattr(result, "rowcount", 0) or 0)
    except DBAPIError as exc:
        raise store.unavailable(exc) from None


def since(dsn: str, moment: datetime, *, limit: int = 500) -> list[Stored]:
    """The samples taken at or after ``moment``, newest first (at most ``limit``)."""
    stmt = (
        select(HealthSample)
        .where(HealthSample.taken_at >= moment)
        .order_by(HealthSample.taken_at.desc(), HealthSample.id.desc())
        .limit(limit)
    )
    with store.reading(dsn) as s:
        return [_stored(r) for r in s.scalars(stmt)]


def observations(stored: list[Stored]) -> dict[str, list[Observation]]:
    """What each component's alert is decided on (pure): per component, its status in
    each sample, newest first, with the first thing that was wrong with it."""
    out: dict[str, list[Observation]] = {}
    for sample in stored:
        for component, status in component_status(sample.document).items():
            output = "" if status == PASS else _first_output(sample.document, component)
            out.setdefault(component, []).append(Observation(sample.taken_at, status, output))
    return out


def _first_output(document: dict[str, Any], component: str) -> str:
    """``key: output`` of the component's worst check, in the document's order."""
    rank = {"fail": 0, "warn": 1}
    found = [
        (rank.get(str(item.get("status")), 2), f"{key}: {item.get('output') or item.get('status')}")
        for key, item in entries_of(document)
        if key.split(":", 1)[0] == component and item.get("status") != PASS
    ]
    return min(found)[1] if found else ""
