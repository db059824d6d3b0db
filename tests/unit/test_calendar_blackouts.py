"""The NO MAINTENANCE WINDOWS rules, pure: July 1, the survey week, extra dates, 24 hours
after a publication; only disruptive steps are skipped, and the plan says why."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import beat_schedule
from maintenance.calendar import blackout, plan
from maintenance.calendar.blackout import Blackouts, Publication
from maintenance.calendar.model import DISRUPTIVE
from maintenance.config import load_settings
from maintenance.windows import resolve_local

NY = ZoneInfo("America/New_York")
SETTINGS = load_settings(log_hosts=["web1"])
#: What beat sends and the windows' steps at their planned times: the plan of a night.
ENTRIES = [*beat_schedule.entries(SETTINGS), *beat_schedule.steps(SETTINGS)]


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return resolve_local(day, time(hh, mm), NY)


def test_july_first_the_survey_week_and_extra_dates() -> None:
    facts = Blackouts(survey_dates=[date(2027, 3, 15)], extra_dates=[date(2027, 12, 24)])
    assert blackout.reasons(_at(date(2027, 7, 1), 2), NY, facts) == ["July 1 (fiscal year start)"]
    # local date: 23:30 on June 30 in New York is July 1 in UTC, and not a blackout
    assert blackout.reasons(_at(date(2027, 6, 30), 23, 30), NY, facts) == []
    week = [
        d
        for d in (date(2027, 3, 1) + timedelta(n) for n in range(31))
        if blackout.reasons(_at(d, 2), NY, facts)
    ]
    assert week == [date(2027, 3, 8) + timedelta(n) for n in range(8)]  # 7 days before + the day
    assert "ACGME survey on 2027-03-15" in blackout.reasons(_at(date(2027, 3, 14), 2), NY, facts)[0]
    assert "2027-12-24" in blackout.reasons(_at(date(2027, 12, 24), 2), NY, facts)[0]
    assert blackout.reasons(_at(date(2027, 12, 25), 2), NY, facts) == []


def test_the_24_hours_after_a_publication_and_an_unknown_publication() -> None:
    at = datetime(2027, 5, 1, 18, tzinfo=UTC)
    facts = Blackouts(publication=Publication(at=at))
    assert blackout.reasons(at - timedelta(seconds=1), NY, facts) == []
    assert "publication" in blackout.reasons(at, NY, facts)[0]
    assert blackout.reasons(at + timedelta(hours=23, minutes=59), NY, facts)
    assert blackout.reasons(at + timedelta(hours=24), NY, facts) == []
    unknown = Blackouts(publication=Publication(unknown='relation "schedules" does not exist'))
    assert blackout.reasons(at, NY, unknown) == []


def test_only_disruptive_steps_are_skipped_and_the_plan_says_why() -> None:
    assert {"db.optimize", "db.reindex", "cache.flush"} <= DISRUPTIVE
    assert (
        not {
            "backup.create",
            "backup.verify",
            "health.check",
            "health.deep",
            "db.report",
            "db.vacuum_analyze",
            "restore.drill",
            "logs.report",
        }
        & DISRUPTIVE
    )
    assert all(e.disruptive == (e.task in DISRUPTIVE) for e in ENTRIES)
    assert not any(e.task in {"db.optimize", "cache.flush", "cache.clear"} for e in ENTRIES)
    # 2027-03-14 is a weekly Sunday inside the survey week of 2027-03-15
    facts = Blackouts(survey_dates=[date(2027, 3, 15)])
    night = plan.occurrences(
        ENTRIES,
        datetime(2027, 3, 14, 5, tzinfo=UTC),
        datetime(2027, 3, 14, 12, tzinfo=UTC),
        NY,
        facts,
    )
    skipped = {p.entry.name: p.skip for p in night if p.skip}
    assert list(skipped) == ["weekly-reindex"]
    assert skipped["weekly-reindex"] == "blackout: the week before the ACGME survey on 2027-03-15"
    sent = {p.entry.name for p in night if not p.skip}
    assert {
        "weekly-window",
        "weekly-backup",
        "weekly-vacuum-analyze",
        "weekly-report",
        "weekly-deep-health-check",
    } <= sent
    # July 4 2027 is the quarterly first Sunday; a publication the evening before
    facts = Blackouts(publication=Publication(at=_at(date(2027, 7, 3), 20)))
    night = plan.occurrences(ENTRIES, _at(date(2027, 7, 4), 0), _at(date(2027, 7, 4), 9), NY, facts)
    assert [p.entry.name for p in night if p.skip] == ["quarterly-reindex"]
    (window,) = plan.windows(_at(date(2027, 7, 4), 0), _at(date(2027, 7, 4), 9), NY, facts)
    assert window.kind == "quarterly" and "publication" in window.blackouts[0]
