"""The playbook's windows as data, and their local times (pure): which dates they fall
on, the spring-forward gap and the fall-back repeat in America/New_York, the notice
times, the next and the current window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from maintenance import windows as w
from maintenance.windows import WindowKind

NY = ZoneInfo("America/New_York")


def local(moment: datetime) -> str:
    return moment.astimezone(NY).strftime("%Y-%m-%d %H:%M %Z")


@pytest.mark.parametrize(
    ("kind", "day", "falls"),
    [
        (WindowKind.WEEKLY, date(2026, 12, 13), True),
        (WindowKind.WEEKLY, date(2026, 12, 14), False),
        (WindowKind.MONTHLY, date(2026, 12, 6), True),
        (WindowKind.MONTHLY, date(2026, 12, 13), False),
        (WindowKind.QUARTERLY, date(2027, 1, 3), True),
        (WindowKind.QUARTERLY, date(2026, 12, 6), False),  # December is no quarter's start
        (WindowKind.QUARTERLY, date(2027, 4, 4), True),
        (WindowKind.DAILY, date(2026, 12, 14), True),
    ],
)
def test_which_dates_a_window_falls_on(kind: WindowKind, day: date, falls: bool) -> None:
    assert w.occurs_on(kind, day) is falls


def test_the_windows_hold_the_playbooks_times_and_slots() -> None:
    assert (w.WINDOWS[WindowKind.DAILY].start, w.WINDOWS[WindowKind.DAILY].duration) == (
        time(2),
        timedelta(hours=1),
    )
    weekly = w.WINDOWS[WindowKind.WEEKLY]
    assert weekly.duration == timedelta(hours=4) and weekly.status_updates == (time(3), time(4))
    assert [s.start for s in weekly.slots] == [
        time(2),
        time(2, 30),
        time(3, 30),
        time(4, 30),
        time(5, 30),
    ]
    assert weekly.slots[-1].end == time(6)
    assert w.WINDOWS[WindowKind.MONTHLY].duration == timedelta(hours=6)
    assert w.WINDOWS[WindowKind.QUARTERLY].duration == timedelta(hours=8)
    assert w.WINDOWS[WindowKind.MONTHLY].expected_down == ("api", "database", "cache")
    assert w.WINDOWS[WindowKind.DAILY].expected_down == ()


def test_a_start_in_the_spring_forward_gap_is_the_first_instant_after_it() -> None:
    # 8 March 2026: New York jumps from 02:00 EST to 03:00 EDT
    assert local(w.resolve_local(date(2026, 3, 8), time(2, 0), NY)) == "2026-03-08 03:00 EDT"
    assert local(w.resolve_local(date(2026, 3, 8), time(2, 30), NY)) == "2026-03-08 03:00 EDT"
    start, end = w.span(WindowKind.WEEKLY, date(2026, 3, 8), NY)
    assert (local(start), local(end)) == ("2026-03-08 03:00 EDT", "2026-03-08 07:00 EDT")
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=4)
    slots = w.slot_spans(WindowKind.WEEKLY, date(2026, 3, 8), NY)
    assert [s.strftime("%H:%M") for s, _, _ in slots] == [
        "03:00",
        "03:30",
        "04:30",
        "05:30",
        "06:30",
    ]


def test_an_ambiguous_time_is_its_first_occurrence_and_fall_back_keeps_the_duration() -> None:
    # 1 November 2026: 01:00-02:00 happens twice (EDT, then EST)
    assert local(w.resolve_local(date(2026, 11, 1), time(1, 30), NY)) == "2026-11-01 01:30 EDT"
    start, end = w.span(WindowKind.WEEKLY, date(2026, 11, 1), NY)
    assert (local(start), local(end)) == ("2026-11-01 02:00 EST", "2026-11-01 06:00 EST")
    start, end = w.span(WindowKind.DAILY, date(2026, 7, 1), NY)
    assert (local(start), local(end)) == ("2026-07-01 02:00 EDT", "2026-07-01 03:00 EDT")


def test_the_gap_is_found_in_another_zone_too() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # 29 March 2026: 02:00 CET -> 03:00 CEST
    moment = w.resolve_local(date(2026, 3, 29), time(2, 15), berlin)
    assert moment == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_notices_are_due_friday_15_00_two_and_four_weeks_ahead() -> None:
    assert local(w.notice_due(WindowKind.WEEKLY, date(2026, 12, 13), NY)) == "2026-12-11 15:00 EST"
    assert local(w.notice_due(WindowKind.MONTHLY, date(2027, 1, 3), NY)) == "2026-12-20 15:00 EST"
    assert local(w.notice_due(WindowKind.QUARTERLY, date(2027, 4, 4), NY)) == "2027-03-07 15:00 EST"
    assert w.notice_due(WindowKind.DAILY, date(2026, 12, 13), NY) is None
    assert w.notice_due(WindowKind.EMERGENCY, date(2026, 12, 13), NY) is None


def test_the_next_and_the_current_window() -> None:
    friday = datetime(2026, 12, 11, 20, 0, tzinfo=UTC)  # 15:00 EST
    assert w.next_date(WindowKind.WEEKLY, friday, NY) == date(2026, 12, 13)
    assert w.next_date(WindowKind.MONTHLY, friday, NY) == date(2027, 1, 3)
    assert w.next_date(WindowKind.QUARTERLY, friday, NY) == date(2027, 1, 3)
    during = datetime(2026, 12, 13, 8, 0, tzinfo=UTC)  # Sunday 03:00 EST
    assert w.next_date(WindowKind.WEEKLY, during, NY) == date(2026, 12, 20)
    assert w.current_or_last_date(WindowKind.WEEKLY, during, NY) == date(2026, 12, 13)
    assert w.current_or_last_date(WindowKind.WEEKLY, friday, NY) == date(2026, 12, 6)
