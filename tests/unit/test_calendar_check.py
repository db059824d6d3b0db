"""``maint schedule --check``'s rules on the shipped calendar (clean) and a broken one."""

from __future__ import annotations

import dataclasses

import beat_schedule
from maintenance import catalog
from maintenance.calendar import check
from maintenance.calendar.model import interval, job, notice, step
from maintenance.config import load_settings

KNOWN = {s.name for s in catalog.SPECS}


def test_the_shipped_calendar_is_clean() -> None:
    entries = beat_schedule.entries(load_settings(log_hosts=["web1", "web2"]))
    assert check.problems(entries, KNOWN) == []
    assert len({e.name for e in entries}) == len(entries)


def test_a_broken_calendar_lists_every_problem() -> None:
    good = beat_schedule.entries(load_settings(log_hosts=["web1"]))
    broken = [
        *good,
        dataclasses.replace(good[0]),  # a duplicate name
        job("typo", "db.stat", "0 3 * * *"),
        job("bad-cron", "db.stats", "61 3 * * *"),
        step("late-step", "db.report", "45 6 * * SUN", "weekly", "Database maintenance"),
        step("wrong-slot", "db.report", "0 4 * * SUN", "weekly", "Database maintenance"),
        step("no-such-slot", "db.report", "0 2 * * SUN", "weekly", "Nap"),
        step("odd-window", "db.report", "0 2 * * SUN", "fortnightly", "Nap"),
        step("some-sundays", "db.report", "0 2 * 1-6 SUN", "weekly", "Database maintenance"),
        dataclasses.replace(interval("both", "health.check", 60), cron="* * * * *"),
        notice("late-notice", "notice.weekly", "0 15 * * SAT", "weekly", 2),
    ]
    found = check.problems(broken, KNOWN)
    text = "\n".join(found)
    assert f"{good[0].name}: 2 entries have this name" in found
    assert "typo: unknown task 'db.stat'" in found
    assert "bad-cron: bad cron expression" in text
    assert "late-step: 06:45 is outside the weekly window (02:00-06:00)" in found
    assert "wrong-slot: 04:00 is outside its slot 'Database maintenance' (02:00-02:30)" in found
    assert "no-such-slot: the weekly window has no slot 'Nap'" in found
    assert "odd-window: unknown window 'fortnightly'" in found
    assert "some-sundays: not sent on every weekly night" in text
    assert "both: needs exactly one of a cron expression and an interval" in found
    assert "late-notice: does not announce every weekly night" in text
    assert len(found) == 10, found


def test_docs_calendar_names_every_entry() -> None:
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "calendar.md").read_text()
    for e in beat_schedule.entries(load_settings(log_hosts=["web1"])):
        name = e.name.replace("@web1", "@<host>")
        if e.window == "quarterly" and e.name != "quarterly-dr-test":
            name = e.name.replace("quarterly-", "monthly-")  # "the monthly steps"
        assert f"`{name}`" in doc, name
