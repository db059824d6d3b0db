"""The upkeep calendar: each Sunday runs vacuum, reindex and report exactly once (in the
weekly window's 02:00 slot, or the monthly window's 03:00 one on the first Sunday), and
beat never sends db.optimize (it needs a window run)."""

from __future__ import annotations

from datetime import date, timedelta

import beat_schedule
from maintenance.config import get_settings


def _runs_on(entry: dict, day: date) -> bool:
    s = entry["schedule"]
    return (
        day.day in s.day_of_month
        and day.month in s.month_of_year
        and (day.isoweekday() % 7) in s.day_of_week
    )


def test_every_sunday_of_a_year_runs_each_upkeep_task_once_and_no_other_day() -> None:
    entries = beat_schedule.build(get_settings())
    day = date(2027, 1, 1)
    while day.year == 2027:
        for task in ("db.vacuum_analyze", "db.reindex", "db.report"):
            due = [
                (name, sorted(e["schedule"].hour))
                for name, e in entries.items()
                if e["task"] == task and _runs_on(e, day)
            ]
            if day.isoweekday() != 7:
                assert due == [], (day, task)
            elif day.day <= 7:
                assert due == [(f"monthly-{task[3:].replace('_', '-')}", [3])], (day, due)
            else:
                assert due == [(f"weekly-{task[3:].replace('_', '-')}", [2])], (day, due)
        day += timedelta(days=1)
    assert all(e["task"] != "db.optimize" for e in entries.values())


def test_the_security_reviews_run_on_the_first_sunday_of_each_month_only() -> None:
    entries = beat_schedule.build(get_settings())
    for task in ("security.audit", "security.access_review"):
        days = [
            day
            for day in (date(2027, 1, 1) + timedelta(n) for n in range(365))
            if any(e["task"] == task and _runs_on(e, day) for e in entries.values())
        ]
        assert len(days) == 12 and all(d.isoweekday() == 7 and d.day <= 7 for d in days), task
        (entry,) = [e for e in entries.values() if e["task"] == task]
        assert entry["schedule"].hour == {4}
