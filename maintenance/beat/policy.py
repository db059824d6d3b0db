"""Which due occurrences beat sends and which it records ``missed`` (pure).

An occurrence is one due instant (UTC) of one entry. Between the entry's last claimed
occurrence and now, every unclaimed one is either sent (at most one: the newest, if its
entry's catch-up policy still allows it) or recorded missed. The same rule serves beat's
start, a takeover, and a leader that woke up late: nothing here knows which it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from maintenance import windows


class CatchUp(StrEnum):
    """How late a missed occurrence may still be sent. The values are the calendar's
    (``maintenance.calendar.model.CatchUp``, a StrEnum of the same strings: either works)."""

    UNTIL_NEXT = "until_next"  # until the entry's next occurrence is due (a backup)
    IN_WINDOW = "in_window"  # only while its window lasts (a window step)
    NEVER = "never"  # never late (an interval: the next one comes soon)


#: How long after its due instant an occurrence still counts as on time (a beat that
#: ticks once a second, or sends a few entries in a row, is not "late"): the default of
#: MAINT_BEAT_ON_TIME_S.
ON_TIME = timedelta(seconds=60)

#: At most this many occurrences are listed between a claim and now (an hourly entry
#: over six weeks); older ones are counted, not listed.
MAX_LISTED = 1000


@dataclass(frozen=True)
class Due:
    """The occurrences of one entry due since its last claim, oldest first, and the
    first one after now (None: the schedule has no further occurrence)."""

    occurrences: tuple[datetime, ...]
    next_due: datetime | None
    #: Occurrences older than the listed ones (beyond :data:`MAX_LISTED`).
    uncounted: int = 0


def due_since(
    next_after: Callable[[datetime], datetime | None], last: datetime, now: datetime
) -> Due:
    """Every occurrence strictly after ``last`` and at or before ``now``.

    ``next_after(t)`` gives the entry's first due instant strictly after ``t`` (UTC).
    """
    listed: list[datetime] = []
    dropped = 0
    cursor = next_after(last)
    while cursor is not None and cursor <= now:
        listed.append(cursor)
        if len(listed) > MAX_LISTED:
            listed.pop(0)
            dropped += 1
        following = next_after(cursor)
        if following is not None and following <= cursor:  # a schedule that does not advance
            raise ValueError(f"schedule does not advance after {cursor.isoformat()}")
        cursor = following
    return Due(tuple(listed), cursor, dropped)


@dataclass(frozen=True)
class Decision:
    """What to do with the due occurrences of one entry."""

    send: datetime | None  # the occurrence to send now (None: nothing)
    missed: tuple[datetime, ...]  # to record as missed, oldest first
    late: bool  # ``send`` is a catch-up (later than ON_TIME after its instant)
    reason: str  # why, for the log and the missed rows' summaries


def decide(
    due: Due,
    *,
    policy: CatchUp | str,
    now: datetime,
    within: timedelta | None = None,
    on_time: timedelta = ON_TIME,
) -> Decision:
    """Send the newest due occurrence if it is on time, or late but still inside its
    catch-up deadline; record every other one missed.

    Deadlines of a late occurrence ``o``: ``until_next``: the entry's next occurrence
    (``due.next_due``); ``in_window``: ``o + within`` (the rest of its window after its
    slot; None: it is never late-sendable); ``never``: none.
    """
    if not due.occurrences:
        return Decision(None, (), False, "nothing due")
    *older, newest = due.occurrences
    age = now - newest
    if age <= on_time:
        return Decision(newest, tuple(older), False, "on time")
    policy = CatchUp(policy)
    if policy is CatchUp.UNTIL_NEXT:
        ok = due.next_due is None or now < due.next_due
        reason = "caught up: its next run is not due yet" if ok else "its next run is due"
    elif policy is CatchUp.IN_WINDOW:
        ok = within is not None and now < newest + within
        reason = "caught up: still inside its window" if ok else "its window has ended"
    else:
        ok = False
        reason = "never caught up"
    if ok:
        return Decision(newest, tuple(older), True, reason)
    return Decision(None, tuple(due.occurrences), False, reason)


def window_end(kind: str, occurrence: datetime, zone: ZoneInfo) -> datetime | None:
    """The end (UTC) of the window of ``kind`` that a step due at ``occurrence`` belongs
    to: the window of that local night (windows start after midnight), or None if there
    is none that night or the occurrence is not inside it: the deadline of an
    ``in_window`` catch-up."""
    try:
        kind_ = windows.WindowKind(kind)
    except ValueError:
        return None
    day = occurrence.astimezone(zone).date()
    if not windows.occurs_on(kind_, day):
        return None
    begin, end = windows.span(kind_, day, zone)
    if not begin <= occurrence < end:
        return None
    return end.astimezone(occurrence.tzinfo)


def resume_from(
    last: datetime | None, anchor: datetime, now: datetime, *, zone_changed: bool
) -> datetime:
    """Where an entry resumes (pure): its newest claim, else ``anchor`` (the newest claim
    of any entry, or now). After a change of MAINT_TIMEZONE every entry resumes from now:
    the new zone's times between the last claim and now are neither replayed (the same
    local night's backup a second time, an hour later in UTC) nor recorded missed."""
    if zone_changed:
        return now
    return last if last is not None else anchor
