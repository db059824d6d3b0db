"""The earlier performance baselines: test.baseline runs in the job history (their
``figures.timings_ms``). Reading only; the baseline is recorded as every run is, by the
runner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from maintenance.history import store
from maintenance.history.models import JobRun
from maintenance.results import RunStatus
from maintenance.smoketest.judge import Previous

TASK = "test.baseline"


def previous(dsn: str, *, since: datetime, before: datetime, exclude: int | None) -> list[Previous]:
    """The test.baseline runs that finished (succeeded or failed: a failed run's other
    requests still timed right) started in [since, before), oldest first."""
    stmt = (
        select(JobRun.id, JobRun.started_at, JobRun.result)
        .where(
            JobRun.task == TASK,
            JobRun.status.in_([RunStatus.SUCCEEDED.value, RunStatus.FAILED.value]),
            JobRun.started_at >= since,
            JobRun.started_at < before,
            JobRun.parent_run_id.is_(None),
        )
        .order_by(JobRun.started_at, JobRun.id)
    )
    if exclude is not None:
        stmt = stmt.where(JobRun.id != exclude)
    out = []
    with store.reading(dsn) as s:
        for run_id, at, result in s.execute(stmt):
            found = ((result or {}).get("figures") or {}).get("timings_ms")
            if not isinstance(found, dict):
                continue
            times = {
                str(k): float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
                for k, v in found.items()
            }
            out.append(Previous(int(run_id), at, times))
    return out
