"""The playbook's maintenance windows as data, and where they fall in local time.

A leaf: nothing from the suite is imported here. The calendar (which night runs what)
and the notices (``maintenance.notify.notices``) read it.

Times are the playbook's "system time": wall-clock times in ``MAINT_TIMEZONE``. A window
starts at its wall-clock start on its date; a start that falls into a spring-forward gap
(02:00 on the night the clocks jump from 02:00 to 03:00) is the first instant after the
gap (03:00 in the new offset), and an ambiguous one (a fall-back night's repeated hour)
is its first occurrence. A window then lasts its planned duration in elapsed time: the
work takes four hours whatever the clocks do, so on a spring-forward night the weekly
window runs 03:00-07:00. Its slots keep their offsets from the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class WindowKind(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    EMERGENCY = "emergency"


@dataclass(frozen=True)
class Slot:
    """One part of a window's schedule (the weekly window's 2:00-2:30 database maintenance)."""

    start: time
    end: time
    title: str
    activities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notice:
    """When the advance notice of a window goes out: ``days_before`` its date, at ``at``
    local time (the weekly one: 2 days before Sunday, Friday 15:00)."""

    days_before: int
    at: time


@dataclass(frozen=True)
class Window:
    kind: WindowKind
    title: str
    start: time
    duration: timedelta
    impact: str
    activities: tuple[str, ...]
    #: The advance notice; None: no notice required (daily) or sent at once (emergency).
    notice: Notice | None
    #: Health components (api, database, cache, celery, host) the window is expected to
    #: take down: alerts for them are held while it lasts.
    expected_down: tuple[str, ...]
    slots: tuple[Slot, ...] = ()
    #: Months in which it happens (quarterly); None: every month.
    months: tuple[int, ...] | None = None
    #: When during the window status updates go out (local wall times).
    status_updates: tuple[time, ...] = ()


WINDOWS: dict[WindowKind, Window] = {
    WindowKind.DAILY: Window(
        kind=WindowKind.DAILY,
        title="Daily maintenance",
        start=time(2, 0),
        duration=timedelta(hours=1),
        impact="Minimal (read-only access may be brief)",
        activities=("Log rotation", "Cache cleanup", "Health checks"),
        notice=None,
        expected_down=(),
    ),
    WindowKind.WEEKLY: Window(
        kind=WindowKind.WEEKLY,
        title="Weekly maintenance",
        start=time(2, 0),
        duration=timedelta(hours=4),
        impact="The system may be briefly unavailable",
        activities=(
            "Database maintenance",
            "Index optimization",
            "Backup verification",
            "System updates and security patches",
            "Testing and verification",
        ),
        notice=Notice(days_before=2, at=time(15, 0)),
        expected_down=("api", "database"),
        slots=(
            Slot(
                time(2, 0),
                time(2, 30),
                "Database maintenance",
                (
                    "Full database optimization",
                    "Index rebuilding",
                    "Query analysis",
                    "Vacuum and analyze",
                ),
            ),
            Slot(
                time(2, 30),
                time(3, 30),
                "Backup operations",
                (
                    "Weekly full backup",
                    "Backup verification",
                    "Off-site backup sync",
                    "Retention cleanup",
                ),
            ),
            Slot(
                time(3, 30),
                time(4, 30),
                "System updates",
                (
                    "Software updates (if available)",
                    "Security patches",
                    "Dependency updates",
                    "Container image updates",
                ),
            ),
            Slot(
                time(4, 30),
                time(5, 30),
                "Testing & verification",
                (
                    "Full test suite run",
                    "Health check verification",
                    "Performance baseline",
                    "Alert testing",
                ),
            ),
            Slot(
                time(5, 30),
                time(6, 0),
                "Buffer/contingency",
                ("Extra time if operations run long", "Issues resolution", "Documentation updates"),
            ),
        ),
        status_updates=(time(3, 0), time(4, 0)),
    ),
    WindowKind.MONTHLY: Window(
        kind=WindowKind.MONTHLY,
        title="Monthly maintenance",
        start=time(2, 0),
        duration=timedelta(hours=6),
        impact="The system will be unavailable",
        activities=(
            "Full database backup and archive",
            "Database full optimization",
            "Software updates and security patches",
            "Access review",
            "Regression tests and disaster recovery drill",
        ),
        notice=Notice(days_before=14, at=time(15, 0)),
        expected_down=("api", "database", "cache"),
        slots=(
            Slot(
                time(2, 0),
                time(3, 0),
                "Backups",
                ("Full database backup", "System backup", "Archive creation", "Off-site sync"),
            ),
            Slot(
                time(3, 0),
                time(4, 0),
                "Optimization",
                (
                    "Database full vacuum",
                    "Index defragmentation",
                    "Cache optimization",
                    "Performance tuning",
                ),
            ),
            Slot(
                time(4, 0),
                time(5, 0),
                "Security",
                (
                    "Security update review",
                    "Patch application",
                    "Vulnerability scanning",
                    "Access review",
                ),
            ),
            Slot(
                time(5, 0),
                time(6, 0),
                "Testing",
                (
                    "Full regression test suite",
                    "Performance testing",
                    "Load testing",
                    "Disaster recovery drill",
                ),
            ),
            Slot(
                time(6, 0),
                time(7, 0),
                "Documentation",
                (
                    "Update maintenance logs",
                    "Capture metrics",
                    "Report generation",
                    "Incident documentation",
                ),
            ),
            Slot(
                time(7, 0),
                time(8, 0),
                "Buffer",
                ("Extra time for anything running long", "Final verification", "Communication"),
            ),
        ),
        status_updates=(time(3, 0), time(4, 0), time(5, 0), time(6, 0), time(7, 0)),
    ),
    WindowKind.QUARTERLY: Window(
        kind=WindowKind.QUARTERLY,
        title="Quarterly deep maintenance",
        start=time(2, 0),
        duration=timedelta(hours=8),
        impact="The system will be unavailable; extra IT staff on duty, rollback ready",
        activities=(
            "Full database rebuild (if needed)",
            "Archive cleanup",
            "System audit",
            "Capacity expansion (if needed)",
            "Major upgrades and migrations",
            "Disaster recovery testing",
        ),
        notice=Notice(days_before=28, at=time(15, 0)),
        expected_down=("api", "database", "cache"),
        months=(1, 4, 7, 10),
        status_updates=tuple(time(h, 0) for h in range(3, 10)),
    ),
    WindowKind.EMERGENCY: Window(
        kind=WindowKind.EMERGENCY,
        title="Emergency maintenance",
        start=time(0, 0),  # any time: the notice gives the start
        duration=timedelta(minutes=60),
        impact="The system may be unavailable",
        activities=("Critical security fix or system failure repair",),
        notice=None,  # immediately, before work starts if possible
        expected_down=("api", "database", "cache"),
    ),
}

#: Kinds that fall on a calendar date (emergency falls whenever it is declared).
SCHEDULED = (WindowKind.DAILY, WindowKind.WEEKLY, WindowKind.MONTHLY, WindowKind.QUARTERLY)


def occurs_on(kind: WindowKind, day: date) -> bool:
    """Whether a window of ``kind`` falls on ``day`` (pure; emergency: any day)."""
    window = WINDOWS[kind]
    if kind in (WindowKind.DAILY, WindowKind.EMERGENCY):
        return True
    if day.weekday() != 6:  # Sunday
        return False
    if kind is WindowKind.WEEKLY:
        return True
    first_sunday = day.day <= 7
    return first_sunday and (window.months is None or day.month in window.months)


def resolve_local(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The instant (aware, UTC) of wall-clock ``wall`` on ``day`` in ``zone``: a wall time
    in a spring-forward gap is the first instant after the gap, an ambiguous one its first
    occurrence (pure)."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return first.astimezone(UTC)
    # In a gap: fold=1 maps with the offset after the jump (the earlier instant), fold=0
    # with the one before (the later); the jump lies between. Find it to the second.
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    high = int(first.timestamp())
    after = datetime.fromtimestamp(high, UTC).astimezone(zone).utcoffset()
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, UTC).astimezone(zone).utcoffset() == after:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def span(
    kind: WindowKind,
    day: date,
    zone: ZoneInfo,
    *,
    start: datetime | None = None,
    duration: timedelta | None = None,
) -> tuple[datetime, datetime]:
    """(start, end) of the window of ``kind`` on ``day``, aware, in ``zone`` (pure).

    ``start``/``duration`` override the window's own (an emergency's declared start)."""
    window = WINDOWS[kind]
    # in UTC: arithmetic on two times of one zone is wall-clock arithmetic in Python
    begin = (start if start is not None else resolve_local(day, window.start, zone)).astimezone(UTC)
    end = begin + (duration if duration is not None else window.duration)
    return begin.astimezone(zone), end.astimezone(zone)


def slot_spans(
    kind: WindowKind, day: date, zone: ZoneInfo
) -> list[tuple[datetime, datetime, Slot]]:
    """Each slot of the window on ``day`` with its local start and end (pure): offsets
    from the window's start kept in elapsed time."""
    window = WINDOWS[kind]
    begin = span(kind, day, zone)[0].astimezone(UTC)
    base = datetime.combine(day, window.start)
    out = []
    for slot in window.slots:
        s = begin + (datetime.combine(day, slot.start) - base)
        e = begin + (datetime.combine(day, slot.end) - base)
        out.append((s.astimezone(zone), e.astimezone(zone), slot))
    return out


def next_date(kind: WindowKind, now: datetime, zone: ZoneInfo) -> date:
    """The date of the next window of ``kind`` that has not started at ``now`` (pure)."""
    day = now.astimezone(zone).date()
    for _ in range(800):
        if occurs_on(kind, day) and span(kind, day, zone)[0] > now:
            return day
        day += timedelta(days=1)
    raise ValueError(f"no {kind} window in the next 800 days")  # pragma: no cover


def current_or_last_date(kind: WindowKind, now: datetime, zone: ZoneInfo) -> date:
    """The date of the window of ``kind`` in progress at ``now``, or the last one that
    started before it (pure): what a status update, all-clear or problem notice is about."""
    day = now.astimezone(zone).date()
    for _ in range(800):
        if occurs_on(kind, day) and span(kind, day, zone)[0] <= now:
            return day
        day -= timedelta(days=1)
    raise ValueError(f"no {kind} window in the last 800 days")  # pragma: no cover


def notice_due(kind: WindowKind, day: date, zone: ZoneInfo) -> datetime | None:
    """When the advance notice of the window on ``day`` is due (aware), or None (pure)."""
    notice = WINDOWS[kind].notice
    if notice is None:
        return None
    return resolve_local(day - timedelta(days=notice.days_before), notice.at, zone).astimezone(zone)
