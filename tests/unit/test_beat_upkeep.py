"""The upkeep calendar: each Sunday runs vacuum, reindex and report exactly once (in the
weekly window's 02:00 slot, or the monthly or quarterly window's 03:00 one on the first
Sunday), and beat never sends db.optimize (it needs a window run)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import beat_schedule
from maintenance.calendar import plan
from maintenance.calendar.model import Entry
from maintenance.config import Settings, get_settings

ZONE = ZoneInfo("UTC")  # wall hours as written; the DST nights: test_calendar_plan
YEAR = (datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, 23, 59, tzinfo=UTC))


def calendar_of(settings: Settings) -> list[Entry]:
    return [*beat_schedule.entries(settings), *beat_schedule.steps(settings)]


def _sends(task: str) -> dict[date, list[tuple[str, str]]]:
    out: dict[date, list[tuple[str, str]]] = defaultdict(list)
    for p in plan.occurrences(calendar_of(get_settings()), *YEAR, ZONE):
        if p.entry.task == task:
            local = p.at.astimezone(ZONE)
            out[local.date()].append((p.entry.name, local.strftime("%H")))
    return out


def test_every_sunday_of_a_year_runs_each_upkeep_task_once_and_no_other_day() -> None:
    for task in ("db.vacuum_analyze", "db.reindex", "db.report"):
        sends = _sends(task)
        assert all(d.isoweekday() == 7 for d in sends) and len(sends) == 52, task
        what = task[3:].replace("_", "-")
        for day, due in sends.items():
            if day.day > 7:
                assert due == [(f"weekly-{what}", "02")], (day, due)
            elif day.month in (1, 4, 7, 10):
                assert due == [(f"quarterly-{what}", "03")], (day, due)
            else:
                assert due == [(f"monthly-{what}", "03")], (day, due)
    assert all(e.task != "db.optimize" for e in calendar_of(get_settings()))


def test_the_security_reviews_run_on_the_first_sunday_of_each_month() -> None:
    audit = _sends("security.audit")
    firsts = sorted(d for d in audit if d.day <= 7)
    assert len(firsts) == 12 and all(d.isoweekday() == 7 for d in firsts)
    assert all(audit[d][0][1] == "04" for d in firsts)
    # and the weekly window's update and security review on the other Sundays (03:30)
    assert all(audit[d] == [("weekly-security-audit", "03")] for d in audit if d.day > 7)
    review = _sends("security.access_review")
    assert sorted(review) == firsts and all(v[0][1] == "04" for v in review.values())
