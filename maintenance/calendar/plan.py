"""The pure plan: when beat sends each entry, and what a range of days holds
(docs/calendar.md). Beat (through ``tasks.schedule``) and ``maint schedule`` both call
this module: there is no second copy of the calendar's rules.

The rules, on top of each entry's local-time cron (:class:`.cron.LocalCron`, with its
DST policy):

* **one night, one window**: a night's window is the largest that falls on its date
  (quarterly > monthly > weekly > daily, :func:`night_window`); a window step is sent
  only on nights whose window is its own, so on a first Sunday the monthly (or, in
  January, April, July and October, the quarterly) window's steps run and the weekly
  window's do not;
* an advance notice (``notice.weekly`` two days before, ``notice.monthly`` 14,
  ``notice.quarterly`` 28) is sent only when the night it announces has its window;
* interval entries (``health.check``) run by elapsed time from the last send.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from maintenance.calendar import blackout
from maintenance.calendar.cron import LocalCron
from maintenance.calendar.model import Entry
from maintenance.windows import SCHEDULED, WindowKind, occurs_on, span

#: Larger windows first: the first that falls on a date is that night's window.
BY_SIZE = (WindowKind.QUARTERLY, WindowKind.MONTHLY, WindowKind.WEEKLY, WindowKind.DAILY)

#: How many cron times next_fire looks at before it says "never" (a step of a window
#: that never runs: a quarterly cron on a month without a quarter, say).
SEARCH_LIMIT = 5000


def night_window(day: date) -> WindowKind:
    """The one window that runs on the night of ``day`` (local date), pure."""
    for kind in BY_SIZE:
        if occurs_on(kind, day):
            return kind
    return WindowKind.DAILY  # pragma: no cover - daily falls on every day


def sent_on(entry: Entry, day: date) -> bool:
    """Whether a cron time of ``entry`` on local date ``day`` is sent: always for a
    standalone job; for a window step only when its window is that night's window; for
    an advance notice only when the night it announces has its window."""
    if entry.announces is not None:
        return night_window(day + timedelta(days=entry.lead_days)) == entry.announces
    return entry.window is None or night_window(day) == entry.window


def next_fire(
    entry: Entry, after: datetime, zone: ZoneInfo, rules: object | None = None
) -> datetime | None:
    """The next instant (UTC) strictly after ``after`` at which beat sends ``entry``,
    with every calendar rule applied; None: never. For an interval entry ``after`` is
    its last send: the next is ``every_s`` of elapsed time later. ``rules`` is reserved
    (the calendar's rules are fixed here); pure."""
    if after.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    if entry.every_s is not None:
        return after.astimezone(UTC) + timedelta(seconds=entry.every_s)
    if entry.cron is None:
        return None
    for n, moment in enumerate(LocalCron(entry.cron, zone).iter_after(after)):
        if n >= SEARCH_LIMIT:
            return None
        if sent_on(entry, moment.astimezone(zone).date()):
            return moment
    return None  # pragma: no cover - cronsim's iterator does not end


@dataclass(frozen=True)
class Planned:
    """One planned send of an entry; ``skip``: why a blackout would skip it."""

    entry: Entry
    at: datetime  # UTC
    skip: str | None


@dataclass(frozen=True)
class PlannedWindow:
    """The window of one night, with the blackouts that fall on it."""

    kind: WindowKind
    day: date
    start: datetime  # UTC
    end: datetime  # UTC
    blackouts: tuple[str, ...]


def occurrences(
    calendar: Sequence[Entry],
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    blackouts: blackout.Blackouts | None = None,
    *,
    intervals: bool = False,
) -> list[Planned]:
    """Every send in ``(start, end]`` in time order (then in the calendar's order), each with the reason a
    blackout would skip it; interval entries only with ``intervals`` (every 5 minutes
    would drown the rest), counted from ``start``. Pure."""
    facts = blackouts or blackout.Blackouts()
    out = []
    for entry in calendar:
        if entry.every_s is not None and not intervals:
            continue
        moment: datetime | None = start
        while moment is not None:
            moment = next_fire(entry, moment, zone)
            if moment is None or moment > end:
                break
            out.append(
                Planned(entry, moment, blackout.skip_reason(entry.disruptive, moment, zone, facts))
            )
    order = {id(e): n for n, e in enumerate(calendar)}
    out.sort(key=lambda p: (p.at, order[id(p.entry)]))
    return out


def windows(
    start: datetime, end: datetime, zone: ZoneInfo, blackouts: blackout.Blackouts | None = None
) -> list[PlannedWindow]:
    """The window of each night whose window starts in ``(start, end]``: one per night
    (pure)."""
    facts = blackouts or blackout.Blackouts()
    out = []
    day = start.astimezone(zone).date() - timedelta(days=1)
    while day <= end.astimezone(zone).date():
        kind = night_window(day)
        begin, finish = span(kind, day, zone)
        if start < begin <= end:
            out.append(
                PlannedWindow(
                    kind,
                    day,
                    begin.astimezone(UTC),
                    finish.astimezone(UTC),
                    tuple(blackout.reasons(begin, zone, facts)),
                )
            )
        day += timedelta(days=1)
    return out


__all__ = [
    "SCHEDULED",
    "Planned",
    "PlannedWindow",
    "next_fire",
    "night_window",
    "occurrences",
    "sent_on",
    "windows",
]
