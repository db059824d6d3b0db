"""The calendar over whole years (issue 12): every local-time entry exactly once per
local day it is due across both DST nights, first Sundays and quarters, one window a
night and no step twice that night. Expectations are computed here from the playbook's
words, not from the plan's own rules."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import beat_schedule
from maintenance.calendar import plan
from maintenance.calendar.model import Entry
from maintenance.config import load_settings
from maintenance.windows import WindowKind, resolve_local

ZONES = ("America/New_York", "America/Chicago", "Europe/Berlin")
YEAR = 2027
#: Also: a half-hour DST shift, and a zone whose clocks change at midnight, in a leap year.
ODD = (("Australia/Lord_Howe", 2028), ("America/Santiago", 2028))
SETTINGS = load_settings(log_hosts=["web1"])
#: A year's plan: what beat sends (jobs, notices, one window.run a window night) and the
#: windows' steps at their planned times in their slots (what ``maint schedule`` shows).
SENT = beat_schedule.entries(SETTINGS)
ENTRIES = [*SENT, *beat_schedule.steps(SETTINGS)]


def _expected_days(entry: Entry, year: int) -> list[date]:
    """The local days the entry is due on, from the playbook: every day, every Sunday,
    or a window's nights (weekly: Sundays but the first; monthly: first Sundays outside
    January, April, July, October; quarterly: the first Sunday of those)."""
    days = [
        date(year, 1, 1) + timedelta(n)
        for n in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)
    ]
    assert entry.cron is not None
    dow = entry.cron.split()[4]
    if entry.window is None:
        return days if dow == "*" else [d for d in days if d.isoweekday() == 7]
    sundays = [d for d in days if d.isoweekday() == 7]
    quarter = {1, 4, 7, 10}
    return {
        "weekly": [d for d in sundays if d.day > 7],
        "monthly": [d for d in sundays if d.day <= 7 and d.month not in quarter],
        "quarterly": [d for d in sundays if d.day <= 7 and d.month in quarter],
    }[entry.window]


def _year(zone: ZoneInfo, year: int = YEAR) -> tuple[datetime, datetime]:
    return (
        resolve_local(date(year, 1, 1), time(0), zone) - timedelta(microseconds=1),
        resolve_local(date(year + 1, 1, 1), time(0), zone) - timedelta(microseconds=1),
    )


@pytest.mark.parametrize(("zone_name", "year"), [*((z, YEAR) for z in ZONES), *ODD])
def test_every_local_time_entry_runs_once_per_local_day_it_is_due_across_both_dst_nights(
    zone_name: str, year: int
) -> None:
    zone = ZoneInfo(zone_name)
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    planned = plan.occurrences(ENTRIES, *_year(zone, year), zone)
    by_entry: dict[str, list[datetime]] = defaultdict(list)
    for p in planned:
        by_entry[p.entry.name].append(p.at)
    offsets = set()
    for entry in ENTRIES:
        if entry.cron is None or entry.name.startswith("hourly-") or entry.announces:
            continue
        minute, hour = (int(f) for f in entry.cron.split()[:2])
        wall = time(hour, minute)
        want = [resolve_local(d, wall, zone) for d in _expected_days(entry, year)]
        got = by_entry[entry.name]
        assert got == want, entry.name
        offsets |= {m.astimezone(zone).utcoffset() for m in got}
    assert len(offsets) == 2  # the year crossed both DST changes
    # the hourly size check: never twice in one instant, at most once per local hour
    hourly = by_entry["hourly-log-size-check@web1"]
    assert len(hourly) == len(set(hourly)) and abs(len(hourly) - 24 * days) <= 1


def test_the_dst_nights_by_hand_new_york() -> None:
    """2027-03-14 (02:00 jumps to 03:00, a weekly Sunday) and 2027-11-07 (01:00-02:00
    twice, the November first Sunday: a monthly window)."""
    zone = ZoneInfo("America/New_York")
    spring = plan.occurrences(
        ENTRIES, datetime(2027, 3, 14, 5, tzinfo=UTC), datetime(2027, 3, 14, 9, tzinfo=UTC), zone
    )
    local = {p.entry.name: p.at.astimezone(zone).strftime("%H:%M") for p in spring}
    # in the gap: once, at the first instant after it
    assert local["weekly-window"] == local["weekly-vacuum-analyze"] == "03:00"
    assert local["weekly-backup"] == "03:00"
    assert local["weekly-retention"] == "03:15"
    fall = plan.occurrences(
        ENTRIES, datetime(2027, 11, 7, 4, tzinfo=UTC), datetime(2027, 11, 7, 8, tzinfo=UTC), zone
    )
    rot = [p.at for p in fall if p.entry.name == "daily-log-rotation@web1"]
    assert rot == [datetime(2027, 11, 7, 5, tzinfo=UTC)]  # 01:00 EDT, the first 01:00
    assert "monthly-backup" in {p.entry.name for p in fall}


@pytest.mark.parametrize("zone_name", ZONES)
def test_one_window_a_night_and_no_step_twice_that_night(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    planned = plan.occurrences(ENTRIES, *_year(zone), zone)
    windows_of: dict[date, set[str]] = defaultdict(set)
    sends: dict[date, Counter[tuple[str, str]]] = defaultdict(Counter)
    for p in planned:
        day = p.at.astimezone(zone).date()
        if p.entry.window:
            windows_of[day].add(p.entry.window)
        if not p.entry.name.startswith("hourly-"):
            sends[day][(p.entry.task, repr(sorted(p.entry.kwargs.items())))] += 1
    assert all(len(kinds) == 1 for kinds in windows_of.values())
    for day, counter in sends.items():
        assert max(counter.values()) == 1, (day, counter.most_common(2))
    sundays = [d for d in windows_of]
    assert len(sundays) in (52, 53) and all(d.isoweekday() == 7 for d in sundays)
    first = sorted(d for d in sundays if d.day <= 7)
    assert [windows_of[d] for d in first] == [
        {"quarterly" if d.month in (1, 4, 7, 10) else "monthly"} for d in first
    ]
    assert len(first) == 12
    # beat sends one window.run a Sunday, of that night's kind, and nothing else runs it
    runs = [p for p in plan.occurrences(SENT, *_year(zone), zone) if p.entry.task == "window.run"]
    assert sorted(p.at.astimezone(zone).date() for p in runs) == sorted(sundays)
    assert all(
        {p.entry.kwargs["kind"]} == windows_of[p.at.astimezone(zone).date()] for p in runs
    )
    # the windows shown: one a night, the largest
    shown = plan.windows(*_year(zone), zone)
    assert len(shown) == 365 and len({w.day for w in shown}) == 365
    assert Counter(w.kind for w in shown) == {
        WindowKind.DAILY: 365 - len(sundays),
        WindowKind.WEEKLY: len(sundays) - 12,
        WindowKind.MONTHLY: 8,
        WindowKind.QUARTERLY: 4,
    }


def test_one_backup_each_sunday_and_the_drill_right_each_first_sunday() -> None:
    zone = ZoneInfo("Europe/Berlin")
    planned = plan.occurrences(ENTRIES, *_year(zone), zone)
    tiers: dict[date, list[str]] = defaultdict(list)
    drills = {}
    for p in planned:
        day = p.at.astimezone(zone).date()
        if p.entry.task == "backup.create" and p.entry.kwargs["tier"] != "daily":
            tiers[day].append(p.entry.kwargs["tier"])
        if p.entry.task == "restore.drill":
            drills[day] = p.entry.kwargs["purpose"]
    assert all(d.isoweekday() == 7 for d in tiers) and all(len(t) == 1 for t in tiers.values())
    assert {d: t[0] for d, t in tiers.items() if t[0] == "monthly"}.keys() == drills.keys()
    assert drills[date(2027, 1, 3)] == "quarterly" and drills[date(2027, 2, 7)] == "monthly"
    assert sorted(d for d, p in drills.items() if p == "quarterly") == [
        date(2027, 1, 3),
        date(2027, 4, 4),
        date(2027, 7, 4),
        date(2027, 10, 3),
    ]


def test_next_fire_skips_the_weekly_step_on_a_first_sunday_and_intervals_use_elapsed_time() -> None:
    zone = ZoneInfo("America/Chicago")
    weekly = next(e for e in ENTRIES if e.name == "weekly-backup")
    # 2027-07-31 (Saturday): the next Sunday, 08-01, is a first Sunday (quarterly)
    after = datetime(2027, 7, 31, 12, tzinfo=UTC)
    assert plan.next_fire(weekly, after, zone) == resolve_local(date(2027, 8, 8), time(2, 30), zone)
    check = next(e for e in ENTRIES if e.name == "health-check")
    # elapsed: 300 s after the last send, even across the fall-back hour
    last = datetime(2027, 11, 7, 6, 58, tzinfo=UTC)  # 01:58 CDT
    assert plan.next_fire(check, last, zone) == last + timedelta(seconds=300)
    with pytest.raises(ValueError, match="aware"):
        plan.next_fire(weekly, datetime(2027, 1, 1), zone)  # noqa: DTZ001 - on purpose


@pytest.mark.parametrize("zone_name", ZONES)
def test_each_window_is_announced_once_at_its_lead_and_never_for_a_night_it_does_not_have(
    zone_name: str,
) -> None:
    """Weekly: the Friday before at 15:00; monthly: 14 days before; quarterly: 28 days
    before (the playbook's notification times, maintenance/windows.py)."""
    zone = ZoneInfo(zone_name)
    notices = [e for e in ENTRIES if e.announces]
    assert {e.task for e in notices} == {"notice.weekly", "notice.monthly", "notice.quarterly"}
    start, end = _year(zone)
    sent = plan.occurrences(notices, start - timedelta(days=30), end, zone)
    nights = {w.day: w.kind for w in plan.windows(start, end, zone)}
    lead = {"notice.weekly": 2, "notice.monthly": 14, "notice.quarterly": 28}
    announced: Counter[date] = Counter()
    for p in sent:
        local = p.at.astimezone(zone)
        assert (local.hour, local.minute) == (15, 0)
        night = local.date() + timedelta(days=lead[p.entry.task])
        if night.year == YEAR:
            assert nights[night] == p.entry.task.removeprefix("notice."), (night, p.entry.name)
            announced[night] += 1
    assert set(announced) == {d for d, k in nights.items() if k != "daily"}
    assert set(announced.values()) == {1}
