"""``maint run --enqueue --wait``: follow a sent run by its history rows, not only by
Celery's result.

The Celery result says nothing when the worker running the task dies: the message
waits, unacknowledged, for the broker to hand it out again hours later. The history row
does: it turns ``lost`` (the waiter reaps stale rows itself, so it does not depend on a
worker being alive to do it). The waiter returns as soon as the run is settled:
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from maintenance import clock
from maintenance.dispatch import READY_STATES
from maintenance.history import lost, store
from maintenance.history.models import JobRun
from maintenance.results import RunStatus

#: How long a finished row may wait for the result state to agree before it is believed
#: (the result is stored just after the row is completed; a retry is announced in it).
AGREE_S = 5.0
POLL_S = 0.3
REAP_EVERY_S = 2.0


@dataclass(frozen=True)
class Settled:
    """The run's last row and every row of the message (attempts, redeliveries)."""

    last: JobRun
    rows: Sequence[JobRun]


def settled(rows: Sequence[JobRun], state: str, now: datetime) -> Settled | None:
    """The decision, pure: is the run of these rows over, given Celery's ``state``?

    * the last row is ``lost``: over (its worker died; nothing runs it again soon);
    * the last row is finished and the result is ready: over;
    * the last row is finished, no retry is announced (state not RETRY), and the result
      has not agreed within AGREE_S: over (a result store that lost it, or a row written
      by the worker's parent for a killed child);
    * otherwise (running, a retry coming, no row yet): not yet.
    """
    if not rows:
        return None
    last = rows[-1]
    status = RunStatus(last.status)
    if status is RunStatus.LOST:
        return Settled(last, rows)
    if status is RunStatus.RUNNING:
        return None
    if state in READY_STATES:
        return Settled(last, rows)
    if state == "RETRY":
        return None
    finished = last.finished_at or now
    if now - finished >= timedelta(seconds=AGREE_S):
        return Settled(last, rows)
    return None


def follow(
    dsn: str,
    celery_task_id: str,
    state: Callable[[str], str],
    *,
    timeout: float,
    lost_after_s: float,
) -> Settled | None:
    """Poll until :func:`settled` says the run is over; None after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    next_reap = 0.0
    while True:
        if time.monotonic() >= next_reap:
            lost.reap(dsn, lost_after_s=lost_after_s)
            next_reap = time.monotonic() + REAP_EVERY_S
        rows = store.runs_for_celery_id(dsn, celery_task_id)
        done = settled(rows, state(celery_task_id), clock.now())
        if done is not None:
            return done
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_S)
