"""Local-time cron with the suite's DST policy (Debian cron's, through cronsim), pure.

The policy, for an expression evaluated in ``MAINT_TIMEZONE``:

* a fixed-time job whose time falls in the spring-forward gap (02:30 on the night 02:00
  jumps to 03:00) runs **once, at the first instant after the gap** (03:00 local);
* a fixed-time job whose time falls in the fall-back fold (01:30 happens twice) runs
  **once, at the first occurrence** (the earlier, summer-time 01:30);
* interval jobs (``health.check`` every 5 minutes) are not cron: they run by elapsed
  time (:class:`maintenance.calendar` intervals), never twice or not at all because a
  clock moved.

cronsim follows Debian cron, including on DST nights, and is what healthchecks uses;
croniter 7 runs a job in the fold twice (checked: ``30 1 * * *`` in America/New_York on
2026-11-01), and Celery's own crontab has open DST bugs (celery#10107, #6438, #1604).
Every instant that comes out of here is an aware UTC datetime.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from cronsim import CronSim, CronSimError

from maintenance.errors import BadInput


@dataclass(frozen=True)
class LocalCron:
    """A five-field cron expression in a zone (``0 2 * * SUN#1``: 02:00 on the first
    Sunday of the month)."""

    expr: str
    zone: ZoneInfo

    def __post_init__(self) -> None:
        check(self.expr)

    def after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment`` (aware), in UTC."""
        return next(self.iter_after(moment))

    def iter_after(self, moment: datetime) -> Iterator[datetime]:
        """Fire times strictly after ``moment``, in UTC, in order."""
        if moment.tzinfo is None:
            raise ValueError("an aware datetime is needed")
        start = moment.astimezone(self.zone)
        for local in CronSim(self.expr, start):
            yield local.astimezone(UTC)

    def between(self, start: datetime, end: datetime) -> list[datetime]:
        """Fire times in ``(start, end]``, in UTC."""
        out = []
        for moment in self.iter_after(start):
            if moment > end:
                break
            out.append(moment)
        return out


def check(expr: str) -> str:
    """``expr`` if cronsim accepts it; otherwise BadInput naming what is wrong."""
    try:
        CronSim(expr, datetime(2026, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise BadInput(f"bad cron expression {expr!r}: {exc}") from None
    return expr
