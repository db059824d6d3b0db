"""What to do with a message whose run is already recorded: a pure decision.

With ``acks_late`` on the Redis broker, the message of a run whose whole worker died
(kill -9 of the main process, a lost host) stays unacknowledged and is handed out again
once the broker's visibility timeout has passed, hours later. The run was claimed by its
Celery task id and attempt when it started (:func:`maintenance.history.claims.claim_run`),
so the second delivery finds the first run's row. It is never executed again: it is
recorded ``skipped`` with the reason. A task may instead allow a lost run to be retried,
as a new attempt, while it is still due (:class:`LostRetry`); ``restore.run`` never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from maintenance.results import RunStatus


@dataclass(frozen=True)
class LostRetry:
    """A task's policy for a run whose worker died.

    ``attempts``: how many lost runs of one message may be retried (0: never);
    ``within_s``: only while the message's first attempt started less than this ago (a
    daily backup lost at 23:05 is still worth taking at 05:45, not after the next one).
    """

    attempts: int = 0
    within_s: float = 0.0

    def __post_init__(self) -> None:
        if self.attempts < 0 or self.within_s < 0:
            raise ValueError("LostRetry: attempts and within_s must not be negative")
        if self.attempts and not self.within_s:
            raise ValueError("LostRetry: a retry needs a window (within_s) while it is due")


NEVER = LostRetry()


@dataclass(frozen=True)
class PriorRun:
    """What the history says about an earlier run of the same message."""

    run_id: int
    attempt: int
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    host: str | None = None
    pid: int | None = None


@dataclass(frozen=True)
class Redelivery:
    """The decision: the message is never executed as it is; ``retry`` says whether a
    new attempt is sent in its place."""

    reason: str
    retry: bool = False


def _at(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z" if moment else "an unknown time"


def _span(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:g} h" if hours >= 1 else f"{seconds / 60:g} min"


def decide(
    seen: PriorRun, runs: list[PriorRun], policy: LostRetry, now: datetime
) -> Redelivery:
    """Decide for a delivery that found ``seen``, the recorded run of its own (or a
    later) attempt; ``runs`` are every recorded run of the message. ``now`` is UTC."""
    status = seen.status
    if status is RunStatus.RUNNING:
        where = f" on {seen.host} pid {seen.pid}" if seen.host else ""
        return Redelivery(
            f"redelivered while run {seen.run_id} (attempt {seen.attempt}) is still running"
            f"{where} since {_at(seen.started_at)}: not run a second time"
        )
    if status is not RunStatus.LOST:
        return Redelivery(
            f"redelivered after run {seen.run_id} (attempt {seen.attempt}) had already ended "
            f"{status.value} at {_at(seen.finished_at)}: not run again"
        )
    base = (
        f"redelivered after the run was lost at {_at(seen.finished_at)} "
        f"(run {seen.run_id}, attempt {seen.attempt})"
    )
    if policy.attempts == 0:
        return Redelivery(f"{base}: this task does not retry a lost run; not run again")
    lost = sum(1 for r in runs if r.status is RunStatus.LOST)
    if lost > policy.attempts:
        return Redelivery(
            f"{base}: {lost - 1} lost run(s) already retried, the policy allows "
            f"{policy.attempts}; not run again"
        )
    first = min(r.started_at for r in runs) if runs else seen.started_at
    age = now - first
    if age >= timedelta(seconds=policy.within_s):
        return Redelivery(
            f"{base}: no longer due (first attempt {_span(age.total_seconds())} ago, "
            f"retried only within {_span(policy.within_s)}); not run again"
        )
    last = max(r.attempt for r in runs) if runs else seen.attempt
    return Redelivery(f"{base}: retried as attempt {last + 1}", retry=True)
