"""The Celery beat schedule of one calendar entry (docs/calendar.md).

:class:`CalendarSchedule` is a :class:`celery.schedules.BaseSchedule` whose times come
from :func:`maintenance.calendar.plan.next_fire`, the code ``maint schedule`` shows, in
``MAINT_TIMEZONE`` with the calendar's DST policy and rules (first Sundays, quarters,
one window a night). Celery's crontab is not used: it has open DST bugs.

``is_due(last_run_at)``: due when the entry's next fire time after its last send has
come; the next check is the time until the fire after now. Interval entries
(``health.check``) run by elapsed time since the last send.

A changed zone (``MAINT_TIMEZONE``, which is also Celery's ``timezone``) neither replays
nor drops runs: Celery's persistent scheduler forgets its stored last-run times when the
zone changes, every entry starts again from now, and the next due time is the next
occurrence in the new zone after now. A scheduler that keeps last-run times elsewhere
must do the same (anchor at now when the zone changed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from celery.schedules import BaseSchedule, schedstate

from maintenance.calendar.model import Entry
from maintenance.calendar.plan import next_fire

#: How long beat sleeps at most when an entry never fires again (checked again then).
IDLE_S = 3600.0


class CalendarSchedule(BaseSchedule):
    def __init__(self, entry: Entry, zone: ZoneInfo, nowfun: Any = None, app: Any = None) -> None:
        super().__init__(nowfun=nowfun, app=app)
        self.entry = entry
        self.zone = zone

    def _aware(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:  # Celery's naive times are UTC (enable_utc)
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)

    def next_after(self, moment: datetime) -> datetime | None:
        """The entry's next fire time strictly after ``moment`` (UTC), or None."""
        return next_fire(self.entry, self._aware(moment), self.zone)

    def remaining_estimate(self, last_run_at: datetime) -> timedelta:
        nxt = self.next_after(last_run_at)
        if nxt is None:
            return timedelta(seconds=IDLE_S)
        return nxt - self._aware(self.now())

    def is_due(self, last_run_at: datetime) -> schedstate:
        now = self._aware(self.now())
        nxt = self.next_after(last_run_at)
        if nxt is None:
            return schedstate(is_due=False, next=IDLE_S)
        if nxt > now:
            return schedstate(is_due=False, next=(nxt - now).total_seconds())
        after = self.next_after(now)
        return schedstate(
            is_due=True, next=IDLE_S if after is None else max((after - now).total_seconds(), 0.0)
        )

    def __repr__(self) -> str:
        when = self.entry.cron if self.entry.cron is not None else f"every {self.entry.every_s}s"
        return f"<calendar {self.entry.name}: {when} {self.zone.key}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CalendarSchedule):
            return (self.entry, self.zone) == (other.entry, other.zone)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.entry.name, self.zone.key))

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, (self.entry, self.zone, self.nowfun)
