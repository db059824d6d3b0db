"""``maint schedule --check``'s rules on the shipped calendar (clean) and a broken one."""

from __future__ import annotations

import dataclasses

import beat_schedule
from maintenance import catalog
from maintenance.calendar import check
from maintenance.calendar.model import interval, is_step, job, notice, step, window_run
from maintenance.config import load_settings

KNOWN = {s.name for s in catalog.SPECS}


def test_the_shipped_calendar_is_clean() -> None:
    settings = load_settings(log_hosts=["web1", "web2"])
    entries, steps = beat_schedule.entries(settings), beat_schedule.steps(settings)
    assert check.problems(entries, KNOWN, steps) == []
    names = [e.name for e in (*entries, *steps)]
    assert len(set(names)) == len(names)
    # beat sends windows, never steps: every step runs inside its window's run
    assert not [e for e in entries if is_step(e)]
    assert {e.name for e in entries if e.task == "window.run"} == {
        "weekly-window",
        "monthly-window",
        "quarterly-window",
    }


def test_a_broken_calendar_lists_every_problem() -> None:
    settings = load_settings(log_hosts=["web1"])
    good, good_steps = beat_schedule.entries(settings), beat_schedule.steps(settings)
    broken = [
        *(e for e in good if e.name != "monthly-window"),
        dataclasses.replace(good[0]),  # a duplicate name
        job("typo", "db.stat", "0 3 * * *"),
        job("bad-cron", "db.stats", "61 3 * * *"),
        dataclasses.replace(interval("both", "health.check", 60), cron="* * * * *"),
        notice("late-notice", "notice.weekly", "0 15 * * SAT", "weekly", 2),
        step("stray-step", "db.report", "0 2 * * SUN", "weekly", "Database maintenance"),
        dataclasses.replace(
            window_run("quarterly", "0 2 * * SUN#1"), name="wrong-kind", kwargs={"kind": "weekly"}
        ),
    ]
    broken_steps = [
        *good_steps,
        step("late-step", "db.report", "45 6 * * SUN", "weekly", "Database maintenance"),
        step("wrong-slot", "db.report", "0 4 * * SUN", "weekly", "Database maintenance"),
        step("no-such-slot", "db.report", "0 2 * * SUN", "weekly", "Nap"),
        step("odd-window", "db.report", "0 2 * * SUN", "fortnightly", "Nap"),
        step("some-sundays", "db.report", "0 2 * 1-6 SUN", "weekly", "Database maintenance"),
    ]
    found = check.problems(broken, KNOWN, broken_steps)
    text = "\n".join(found)
    assert "stray-step: a step of the weekly window among beat's entries" in found
    assert "wrong-kind: window.run of kind 'weekly' on quarterly nights" in found
    assert "the monthly window has steps but no window.run entry: they never run" in found
    assert "the fortnightly window has steps but no window.run entry: they never run" in found
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
    assert len(found) == 14, found


def test_docs_calendar_names_every_entry() -> None:
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "calendar.md").read_text()
    settings = load_settings(log_hosts=["web1"])
    for e in [*beat_schedule.entries(settings), *beat_schedule.steps(settings)]:
        name = e.name.replace("@web1", "@<host>")
        if is_step(e) and e.window == "quarterly" and e.name != "quarterly-dr-test":
            name = e.name.replace("quarterly-", "monthly-")  # "the monthly steps"
        assert f"`{name}`" in doc, name
