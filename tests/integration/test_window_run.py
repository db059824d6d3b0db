"""window.run for real: a weekly window of cheap steps (tests/window_calendar.py), each a
job_runs row linked to the window_runs row; a dependency skipped after its predecessor
failed; a disruptive step skipped in a blackout and run with force_reason."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg
import pytest
import time_machine

from maintenance import catalog, clock, runner
from maintenance.alerts import store as alert_store
from maintenance.config import Settings
from maintenance.results import RunStatus, Trigger
from maintenance.windows import resolve_local
from tests.conftest import history_rows

pytestmark = pytest.mark.integration

CAL = "tests.window_calendar"


def _next_sunday(settings: Settings) -> date:
    today = clock.now().astimezone(settings.zone).date()
    return today + timedelta(days=(6 - today.weekday()) % 7 or 7)


def _window_rows(dsn: str) -> list[dict[str, Any]]:
    with psycopg.connect(dsn) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return list(cur.execute("SELECT * FROM window_runs ORDER BY id"))


def _with(settings: Settings, **changes: Any) -> Settings:
    return Settings.model_validate(settings.model_dump() | {"calendar_module": CAL} | changes)


def test_weekly_window_runs_its_steps_linked_and_chained(
    settings: Settings, target_db: str, clean_history: str
) -> None:
    night = _next_sunday(settings)
    broken = _with(
        settings,
        stats_counts={"ghosts": "SELECT count(*) FROM no_such_table"},
        calendar_blackout_dates=[night],
    )
    spec = catalog.get("window.run")
    params = {"kind": "weekly", "date": night.isoformat()}
    out = runner.execute(spec, params, settings=broken, trigger=Trigger.CLI)
    assert out.status is RunStatus.FAILED, out.summary
    figures = out.result["figures"]  # type: ignore[index]
    steps = {s["name"]: s for s in figures["steps"]}
    # slot order, whatever the calendar's order; the monthly step is not this window's
    assert list(steps) == ["t-stats", "t-cache", "t-hold", "t-verify"]
    assert steps["t-stats"]["status"] == "failed"
    assert steps["t-cache"]["status"] == "skipped"
    assert "after t-stats (db.stats), which did not succeed (failed)" in steps["t-cache"]["reason"]
    assert steps["t-hold"]["status"] == "skipped"
    assert steps["t-hold"]["reason"].startswith("blackout: blackout date")
    assert steps["t-verify"]["status"] == "succeeded"  # read-only: runs in a blackout
    wid = figures["window_run_id"]
    (win,) = _window_rows(clean_history)
    assert win["id"] == wid and win["kind"] == "weekly" and win["local_date"] == night
    assert win["status"] == "failed" and win["finished_at"] is not None
    assert win["trigger"] == "cli" and win["expected_down"] == ["api", "database"]
    assert win["ends_at"] - win["started_at"] == pytest.approx(
        timedelta(hours=4), abs=timedelta(seconds=5)
    )
    assert win["result"]["figures"]["steps"] == figures["steps"]
    checks = {c["name"]: c["status"] for c in win["result"]["checks"]}
    assert checks["step t-stats (db.stats)"] == "fail"
    assert checks["step t-cache (cache.stats)"] == "warn"
    assert checks["step t-hold (diag.hold)"] == "warn"
    assert checks["blackout"] == "warn"
    # no notification channel in the tests: the notices are warnings, never failures
    assert checks["notice problem"] == "warn"
    assert checks["notice status 03:00"] == "warn"
    linked = history_rows("window_run_id = %s", (wid,))
    assert [(r["task"], r["trigger"], r["status"]) for r in linked] == [
        ("db.stats", "window", "failed"),
        ("diag.hold", "window", "succeeded"),
    ]
    assert steps["t-stats"]["run_id"] == linked[0]["id"]
    (own,) = history_rows("task = 'window.run'")
    assert own["status"] == "failed" and own["trigger"] == "cli"

    # the same night forced: the disruptive step runs, the reason is recorded
    good = _with(settings, calendar_blackout_dates=[night])
    forced = runner.execute(
        spec, params | {"force_reason": "INC-42 index fix"}, settings=good, trigger=Trigger.CLI
    )
    assert forced.status is RunStatus.SUCCEEDED, forced.summary
    fsteps = {s["name"]: s["status"] for s in forced.result["figures"]["steps"]}  # type: ignore[index]
    assert fsteps == {
        "t-stats": "succeeded",
        "t-cache": "succeeded",
        "t-hold": "succeeded",
        "t-verify": "succeeded",
    }
    second = _window_rows(clean_history)[1]
    assert second["status"] == "succeeded" and "INC-42 index fix" in second["reason"]
    assert second["result"]["figures"]["force_reason"] == "INC-42 index fix"
    fchecks = {c["name"]: c["status"] for c in second["result"]["checks"]}
    assert fchecks["blackout"] == "pass" and fchecks["notice all clear"] == "warn"
    hold = history_rows("window_run_id = %s AND task = 'diag.hold'", (second["id"],))
    assert len(hold) == 2 and all(r["trigger"] == "window" for r in hold)


def test_dry_run_records_no_window(settings: Settings, clean_history: str) -> None:
    night = _next_sunday(settings)
    out = runner.execute(
        catalog.get("window.run"),
        {"kind": "weekly", "date": night.isoformat(), "dry_run": True},
        settings=_with(settings, calendar_blackout_dates=[night]),
        trigger=Trigger.CLI,
    )
    assert out.status is RunStatus.SUCCEEDED, out.summary
    plan = {s["name"]: s for s in out.result["figures"]["steps"]}  # type: ignore[index]
    assert plan["t-cache"]["after"] == ["t-stats"] and plan["t-hold"]["skip"].startswith("blackout")
    assert _window_rows(clean_history) == []
    assert [r["task"] for r in history_rows()] == ["window.run"]


def test_emergency_needs_a_reason_and_records_its_window(
    settings: Settings, clean_history: str
) -> None:
    spec = catalog.get("window.run")
    bad = runner.execute(spec, {"kind": "emergency"}, settings=settings, trigger=Trigger.CLI)
    assert bad.status is RunStatus.FAILED and bad.error_type == "ParamError"
    assert "needs a reason" in (bad.error_message or "")
    assert _window_rows(clean_history) == []
    out = runner.execute(
        spec,
        {"kind": "emergency", "reason": "database disk full", "duration_min": 90},
        settings=settings,
        trigger=Trigger.CLI,
    )
    assert out.status is RunStatus.SUCCEEDED, out.summary
    (win,) = _window_rows(clean_history)
    assert win["kind"] == "emergency" and win["reason"] == "database disk full"
    assert win["ends_at"] - win["started_at"] == pytest.approx(
        timedelta(minutes=90), abs=timedelta(seconds=5)
    )
    checks = {c["name"]: c["status"] for c in win["result"]["checks"]}
    assert checks["notice emergency"] == "warn"
    assert [r["task"] for r in history_rows("window_run_id IS NOT NULL")] == []


def _sunday_at(settings: Settings, hh: int, mm: int) -> datetime:
    """A weekly Sunday (not a first Sunday) at local ``hh:mm``."""
    day = _next_sunday(settings)
    while day.day <= 7:
        day += timedelta(days=7)
    return resolve_local(day, time(hh, mm), settings.zone)


def test_beat_runs_its_window_late_inside_it_on_plan_and_never_after_it(
    settings: Settings, clean_history: str
) -> None:
    """Beat sends a window at its start; a message that arrives late (workers busy, beat
    caught it up) keeps the night's planned span: the buffer rule still holds. After
    the window's end it does not start at all."""
    spec = catalog.get("window.run")
    s = _with(settings)
    with time_machine.travel(_sunday_at(s, 3, 10), tick=True):
        late = runner.execute(spec, {"kind": "weekly"}, settings=s, trigger=Trigger.BEAT)
    assert late.status is RunStatus.SUCCEEDED, late.summary
    (win,) = _window_rows(clean_history)
    end = _sunday_at(s, 6, 0)
    assert win["trigger"] == "beat" and win["local_date"] == end.astimezone(s.zone).date()
    assert win["ends_at"] == end  # the planned end, not 4 hours after 03:10
    steps = {st["name"]: st["status"] for st in late.result["figures"]["steps"]}  # type: ignore[index]
    assert steps["t-hold"] == "succeeded"

    with time_machine.travel(_sunday_at(s, 5, 40), tick=True):
        in_buffer = runner.execute(spec, {"kind": "weekly"}, settings=s, trigger=Trigger.BEAT)
    rows = {st["name"]: st for st in in_buffer.result["figures"]["steps"]}  # type: ignore[index]
    assert rows["t-hold"]["status"] == "skipped"
    assert "not started by the start of the buffer" in rows["t-hold"]["reason"]
    assert rows["t-verify"]["status"] == "succeeded"  # read-only steps still run

    with time_machine.travel(_sunday_at(s, 6, 30), tick=True):
        after = runner.execute(spec, {"kind": "weekly"}, settings=s, trigger=Trigger.BEAT)
    assert after.status is RunStatus.SKIPPED
    assert "ended at 06:00" in after.summary and "maint window run weekly" in after.summary
    assert len(_window_rows(clean_history)) == 2  # no window opened after its end


def test_an_emergency_window_holds_alerts_until_its_announced_end(
    settings: Settings, clean_history: str
) -> None:
    out = runner.execute(
        catalog.get("window.run"),
        {"kind": "emergency", "reason": "replacing the database disk", "duration_min": 30},
        settings=settings,
        trigger=Trigger.CLI,
    )
    assert out.status is RunStatus.SUCCEEDED, out.summary
    (win,) = _window_rows(clean_history)
    assert win["status"] == "succeeded"  # its run only records and announces it
    now = clock.now()
    (hold,) = alert_store.holds(clean_history, now)
    assert hold.window_run_id == win["id"] and "database" in hold.components
    assert alert_store.holds(clean_history, win["ends_at"] + timedelta(seconds=1)) == []


def test_a_date_without_that_window_is_bad_input(settings: Settings, clean_history: str) -> None:
    out = runner.execute(
        catalog.get("window.run"),
        {"kind": "weekly", "date": "2027-03-10"},
        settings=settings,
        trigger=Trigger.CLI,
    )
    assert out.status is RunStatus.FAILED and out.error_type == "ParamError"
    assert _window_rows(clean_history) == []
    # which module holds the calendar is a setting: Flower cannot make a worker import one
    other = runner.execute(
        catalog.get("window.run"),
        {"kind": "weekly", "calendar": "os"},
        settings=settings,
        trigger=Trigger.ADHOC,
    )
    assert other.error_type == "ParamError" and "unknown parameter 'calendar'" in (
        other.error_message or ""
    )


def test_maint_window_run_cli(maint_env: dict[str, str], clean_history: str) -> None:
    from tests.conftest import run_cli

    night = (clock.now() + timedelta(days=1)).date()
    while night.weekday() != 6:
        night += timedelta(days=1)
    done = run_cli(
        "window",
        "run",
        "weekly",
        "--date",
        night.isoformat(),
        "--dry-run",
        "--json",
        env=maint_env,
    )
    assert done.returncode == 0, done.stderr
    assert '"window.run"' in done.stdout and "weekly-vacuum-analyze" in done.stdout
    shown = run_cli(
        "window", "run", "weekly", "--date", night.isoformat(), "--dry-run", env=maint_env
    )
    assert shown.returncode == 0, shown.stderr
    assert "weekly-reindex" in shown.stdout and "db.reindex" in shown.stdout
    bad = run_cli("window", "run", "emergency", env=maint_env)
    assert bad.returncode == 2, bad.stdout + bad.stderr
