"""``maint schedule`` as an operator runs it (subprocesses): the plan as JSON with a real
publication read from PostgreSQL, and ``--check`` on a broken calendar (this module's
own :func:`entries`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

import beat_schedule
from maintenance import pg
from maintenance.calendar.model import Entry, job, step
from tests.conftest import PG_SERVER, ROOT, TAG, _dsn, run_cli

pytestmark = [pytest.mark.integration]


def entries(settings: Any) -> list[Entry]:
    """A broken calendar for ``maint schedule --check --calendar`` (this module)."""
    good = beat_schedule.entries(settings)
    return [
        *good,
        job("daily-backup", "backup.create", "0 22 * * *", tier="daily"),
        job("typo", "db.vacum_analyze", "0 2 * * SUN"),
        job("bad-cron", "db.stats", "0 25 * * *"),
    ]


def steps(settings: Any) -> list[Entry]:
    """The broken calendar's window steps: one planned after its window's end."""
    return [
        *beat_schedule.steps(settings),
        step("too-late", "db.reindex", "30 7 * * SUN", "weekly", "Database maintenance"),
    ]


@pytest.fixture
def published(services: None) -> Iterator[str]:
    name = f"maint_test_{TAG}_calcli"
    pg.create_database(PG_SERVER, name, if_missing=True)
    with psycopg.connect(_dsn(name), autocommit=True) as conn:
        conn.execute("CREATE TABLE schedules (published_at timestamptz)")
        conn.execute("INSERT INTO schedules VALUES ('2027-07-03 22:00+00')")
    try:
        yield _dsn(name)
    finally:
        pg.drop_database(PG_SERVER, name)


def test_maint_schedule_json_over_a_week_in_berlin(published: str) -> None:
    res = run_cli(
        "schedule",
        "--json",
        "--from",
        "2027-06-28",
        "--days",
        "14",
        "--zone",
        "Europe/Berlin",
        env={
            "MAINT_TARGET_DSN": published,
            "MAINT_CALENDAR_SURVEY_DATES": '["2027-07-12"]',
            "MAINT_LOG_HOSTS": '["web1"]',
        },
    )
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["zone"] == "Europe/Berlin" and doc["blackouts"]["publication"]["unknown"] is None
    assert doc["blackouts"]["publication"]["at"].startswith("2027-07-03T22:00")
    nights = [(w["date"], w["kind"]) for w in doc["windows"]]
    assert len(nights) == 14 and len({d for d, _ in nights}) == 14
    assert dict(nights)["2027-07-04"] == "quarterly" and dict(nights)["2027-07-11"] == "weekly"
    runs = doc["runs"]
    per_day = Counter(
        (r["name"], r["local"][:10]) for r in runs if not r["name"].startswith("hourly")
    )
    assert set(per_day.values()) == {1}
    daily = [r for r in runs if r["name"] == "daily-backup"]
    assert [r["local"][:16] for r in daily][:2] == ["2027-06-28T23:00", "2027-06-29T23:00"]
    assert daily[0]["utc"] == "2027-06-28T21:00:00Z" and len(daily) == 14
    # beat sends each window night's window.run once, never a step; the window lists its
    # steps as its run would decide them, each at its planned time
    assert not any(r["skipped"] for r in runs if r["by"] == "beat")
    sent = [(r["local"][:16], r["kwargs"]) for r in runs if r["task"] == "window.run"]
    assert sent == [
        ("2027-07-04T02:00", {"kind": "quarterly"}),
        ("2027-07-11T02:00", {"kind": "weekly"}),
    ]
    beat = [r for r in runs if r["by"] == "beat"]
    assert not any(r["window"] and r["task"] != "window.run" for r in beat)
    steps_of = {w["date"]: w["steps"] for w in doc["windows"]}
    assert [st["name"] for st in steps_of["2027-07-04"]][:3] == [
        "quarterly-backup",
        "quarterly-retention",
        "quarterly-archive",
    ]
    assert steps_of["2027-07-04"][2]["after"] == ["quarterly-backup"]
    assert "quarterly-dr-test" in {st["name"] for st in steps_of["2027-07-04"]}
    assert all(not steps_of[d] for d, kind in nights if kind == "daily")
    skipped = {
        (st["name"], d): st["skip_reason"]
        for d, sts in steps_of.items()
        for st in sts
        if st["skipped"]
    }
    assert set(skipped) == {("quarterly-reindex", "2027-07-04"), ("weekly-reindex", "2027-07-11")}
    assert "publication" in skipped[("quarterly-reindex", "2027-07-04")]
    assert "ACGME survey on 2027-07-12" in skipped[("weekly-reindex", "2027-07-11")]
    reindex = next(st for st in steps_of["2027-07-11"] if st["name"] == "weekly-reindex")
    assert (reindex["local"][:16], reindex["utc"]) == ("2027-07-11T02:10", "2027-07-11T00:10:00Z")
    # runs also lists every step at its planned time, with the same decision
    in_runs = {(r["name"], r["local"][:10]): r for r in runs if r["by"] == "window.run"}
    assert {k for k, r in in_runs.items() if r["skipped"]} == set(skipped)
    assert len(in_runs) == sum(len(sts) for sts in steps_of.values())
    july1 = next(w for w in doc["windows"] if w["date"] == "2027-07-01")
    assert july1["blackouts"] == ["July 1 (fiscal year start)"]
    assert not any(r["task"] == "db.optimize" for r in runs)
    assert doc["intervals"] == [
        {"name": "health-check", "task": "health.check", "every_s": 300, "expires_s": 270}
    ]


def test_maint_schedule_check_lists_the_problems_of_a_broken_calendar() -> None:
    ok = run_cli("schedule", "--check", env={})
    assert ok.returncode == 0 and "calendar ok" in ok.stdout, ok.stderr
    bad = run_cli("schedule", "--check", "--calendar", __name__, env={"PYTHONPATH": str(ROOT)})
    assert bad.returncode == 1, bad.stdout + bad.stderr
    problems = [line for line in bad.stderr.splitlines() if line.startswith("problem: ")]
    text = "\n".join(problems)
    assert "daily-backup: 2 entries have this name" in text
    assert "typo: unknown task 'db.vacum_analyze'" in text
    assert "bad-cron: bad cron expression '0 25 * * *'" in text
    assert "too-late: 07:30 is outside the weekly window (02:00-06:00)" in text
    assert len(problems) == 4, problems


def test_maint_schedule_table_fits_80_columns_and_shows_the_skip(published: str) -> None:
    res = run_cli(
        "schedule",
        "--from",
        "2027-07-03",
        "--days",
        "2",
        env={"MAINT_TARGET_DSN": published, "COLUMNS": "80", "MAINT_TIMEZONE": "America/Chicago"},
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, res.stdout
    assert "last schedule publication: 2027-07-03 22:00" in res.stdout
    (n,) = [i for i, line in enumerate(lines) if "quarterly-reindex" in line]
    assert lines[n].startswith("2027-07-04 03:15  08:15") and lines[n].endswith("skip")
    assert "blackout: within 24 hours of the schedule publication" in lines[n + 1]
    assert any(line.startswith("2027-07-04  quarterly  02:00-10:00") for line in lines)
    assert "health-check (health.check) every 300 s of elapsed time" in res.stdout
