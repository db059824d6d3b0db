"""report.monthly on a month of history fabricated through the real recorder and stores
(RunRecorder, window runs, health samples, the send log, alert state) in this session's
PostgreSQL: its numbers match the history, it names every window, failure and drill, it
says "not found" where the history holds nothing, it is sent by e-mail (the HTML
attached) and webhook, it renders in headless Chromium with its charts, loading
nothing; and `maint report approve` records sign-offs (refusing a month with no report).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
import time_machine

from maintenance import catalog, clock, runner
from maintenance.alerts import store as alert_store
from maintenance.alerts.rules import Action, Decision
from maintenance.config import Settings
from maintenance.errors import ServiceUnavailable
from maintenance.health import samples
from maintenance.history import store
from maintenance.history.recorder import RunRecorder
from maintenance.history.store import RunEnd, RunStart, WindowStart
from maintenance.notify import sendlog
from maintenance.notify.message import Message, Severity
from maintenance.report import files
from maintenance.results import Check, CheckStatus, Result, RunStatus, Trigger
from tests.conftest import HISTORY_DB, _dsn, run_cli
from tests.integration import notify_servers

pytestmark = pytest.mark.integration

NY = ZoneInfo("America/New_York")  # the session's MAINT_TIMEZONE (tests/conftest.py)
MONTH = "2026-10"
CHROMIUM = "/usr/bin/chromium"


def L(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    """A local time of the month, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=NY).astimezone(UTC)


@dataclass
class Month:
    """What was fabricated, to check the report against."""

    settings: Settings
    windows: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    resolutions: dict[str, int] = field(default_factory=dict)
    drills: dict[str, int] = field(default_factory=dict)
    backup_bytes: int = 0
    backups_made: int = 0


def record(
    settings: Settings,
    task: str,
    at: datetime,
    result: Result | None = None,
    *,
    seconds: float = 1.0,
    error: Exception | None = None,
    window_run_id: int | None = None,
    trigger: Trigger = Trigger.BEAT,
    params: dict[str, Any] | None = None,
) -> int:
    """One run through the real recorder, started at ``at`` and lasting ``seconds``."""
    start = RunStart(
        task,
        Trigger.WINDOW if window_run_id else trigger,
        params or {},
        window_run_id=window_run_id,
    )
    with time_machine.travel(at, tick=False) as traveller:
        rec = RunRecorder(settings, start)
        with contextlib.suppress(type(error) if error else ()), rec:
            traveller.shift(timedelta(seconds=seconds))
            if error is not None:
                raise error
            rec.complete(result or Result(summary=f"{task}: done"))
    assert rec.run_id is not None and rec.history_error is None
    return rec.run_id


def finished(settings: Settings, task: str, at: datetime, status: RunStatus, why: str) -> int:
    """A run that never completed by itself (lost, missed), written whole as the reaper
    and beat write them."""
    return store.insert_finished_run(
        settings.history_dsn.get_secret_value(),
        RunStart(task, Trigger.BEAT, {}),
        at,
        RunEnd(
            status,
            at + timedelta(minutes=1),
            60.0,
            summary=why,
            error_type=status.value,
            error_message=why,
        ),
    )


def window(settings: Settings, kind: str, night: date, at: datetime) -> int:
    with time_machine.travel(at, tick=False):
        return store.open_window_run(
            settings.history_dsn.get_secret_value(),
            WindowStart(kind, night, Trigger.BEAT, at, at + timedelta(hours=4), ["api"]),
        )


def close(settings: Settings, wid: int, at: datetime, status: RunStatus) -> None:
    with time_machine.travel(at, tick=False):
        store.close_window_run(
            settings.history_dsn.get_secret_value(), wid, status, {"summary": "closed"}
        )


def backup_result(tier: str, size: int, level: str) -> Result:
    r = Result(summary=f"{tier} backup")
    r.check("backup file exists", True, observed="x", expected="present")
    r.figures = {
        "backup": f"{tier}-x",
        "size_bytes": size,
        "dump_s": 5.0,
        "compression_ratio": 7.1,
        "verification": {"level": level},
    }
    return r


def drill_result(rto: float, rpo: float) -> Result:
    r = Result()
    r.check("RTO within objective", rto <= 3600, observed=f"{rto} s", expected="<= 3600 s")
    r.check("RPO within objective", rpo <= 93600, observed=f"{rpo} s", expected="<= 93600 s")
    r.figures = {
        "backup": "daily-20261003",
        "passed": not r.failed,
        "purpose": "monthly",
        "rto_s": rto,
        "rpo_s": rpo,
        "rto_objective_s": 3600.0,
        "rpo_objective_s": 93600.0,
        "method": "copy",
    }
    return r


def health_doc(api: str, cache: str) -> dict[str, Any]:
    worst = "fail" if "fail" in (api, cache) else ("warn" if "warn" in (api, cache) else "pass")
    return {
        "status": worst,
        "checks": {
            "api:responseTime": [
                {
                    "componentType": "system",
                    "status": api,
                    "observedValue": 120,
                    "observedUnit": "ms",
                }
            ],
            "database:connections": [{"componentType": "datastore", "status": "pass"}],
            "cache:ping": [{"componentType": "datastore", "status": cache}],
        },
    }


def notify(
    settings: Settings,
    at: datetime,
    kind: str,
    severity: Severity,
    subject: str,
    channel: str,
    ok: bool,
) -> None:
    dsn = settings.history_dsn.get_secret_value()
    with time_machine.travel(at, tick=False):
        nid = sendlog.claim(
            dsn, Message(kind, severity, subject, "text"), channel, {"subject": subject}
        )
        assert nid is not None
        sendlog.finish(
            dsn, nid, ok=ok, attempts=1 if ok else 3, error=None if ok else "SMTP 451: try later"
        )


def fabricate(settings: Settings) -> Month:
    m = Month(settings)
    s = settings
    # The monthly window (first Sunday): a monthly backup, a rebuild, the security review,
    # the monthly drill.
    w1 = m.windows["monthly"] = window(s, "monthly", date(2026, 10, 4), L(4, 2))
    record(
        s,
        "backup.create",
        L(4, 2),
        backup_result("monthly", 60_000_000, "restore"),
        seconds=300,
        window_run_id=w1,
        params={"tier": "monthly"},
    )
    m.backup_bytes += 60_000_000
    m.backups_made += 1
    opt = Result(summary="rebuilt 2 of 9 tables")
    opt.figures = {"reclaimed_bytes": 50_000_000, "dry_run": False}
    record(s, "db.optimize", L(4, 3), opt, seconds=600, window_run_id=w1)
    audit = Result(summary="1 vulnerable package")
    audit.checks = [
        Check("package urllib3: no known vulnerability", CheckStatus.WARN, "CVE-2026-0001", "none"),
        Check("pip-audit ran", CheckStatus.PASS, "yes", "yes"),
    ]
    record(s, "security.audit", L(4, 4), audit, seconds=40, window_run_id=w1)
    m.drills["met"] = record(
        s, "restore.drill", L(4, 5), drill_result(420.5, 6 * 3600.0), seconds=420, window_run_id=w1
    )
    close(s, w1, L(4, 6), RunStatus.SUCCEEDED)

    # Weekly window: vacuum, a verification, the database report with its slow statements.
    w2 = m.windows["weekly-11"] = window(s, "weekly", date(2026, 10, 11), L(11, 2))
    vac = Result(summary="vacuumed")
    vac.figures = {"dead_tuples_before": 5000, "dead_tuples_after": 10}
    record(s, "db.vacuum_analyze", L(11, 2), vac, seconds=90, window_run_id=w2)
    ver = Result(summary="restore verification passed")
    ver.figures = {"backup": "daily-20261010", "level": "restore"}
    record(s, "backup.verify", L(11, 2, 30), ver, seconds=200, window_run_id=w2)
    rep = Result(summary="report")
    rep.figures = {
        "statements": {
            "slowest": [
                {
                    "query": "SELECT * FROM assignments WHERE person_id = $1",
                    "calls": 1200,
                    "total_ms": 975000.0,
                    "mean_ms": 812.5,
                    "rows": 1200,
                }
            ]
        }
    }
    record(s, "db.report", L(11, 3), rep, seconds=5, window_run_id=w2)
    close(s, w2, L(11, 4), RunStatus.SUCCEEDED)

    # Weekly window with a failed step, fixed a week later.
    w3 = m.windows["weekly-18"] = window(s, "weekly", date(2026, 10, 18), L(18, 2))
    m.failures["reindex"] = record(
        s,
        "db.reindex",
        L(18, 2),
        seconds=30,
        window_run_id=w3,
        error=ServiceUnavailable("the target database did not answer"),
    )
    close(s, w3, L(18, 4), RunStatus.FAILED)
    fixed = Result(summary="rebuilt 3 indexes")
    fixed.figures = {"reclaimed_bytes": 2_000_000, "dry_run": False}
    m.resolutions["reindex"] = record(s, "db.reindex", L(25, 2), fixed, seconds=45)

    # A drill that missed its recovery time objective.
    m.drills["missed"] = m.failures["drill"] = record(
        s,
        "restore.drill",
        L(20, 10),
        drill_result(5400.0, 7200.0),
        seconds=5400,
        trigger=Trigger.ADHOC,
    )

    # Every night's backup; the 15th's failed (disk full) and the 16th's made up for it.
    for day in range(1, 32):
        size = 10_000_000 + day * 50_000
        if day == 15:
            m.failures["backup"] = record(
                s,
                "backup.create",
                L(day, 23),
                seconds=12,
                error=OSError(28, "No space left on device"),
                params={"tier": "daily"},
            )
            continue
        rid = record(
            s,
            "backup.create",
            L(day, 23),
            backup_result("daily", size, "full"),
            seconds=60 + day,
            params={"tier": "daily"},
        )
        if day == 16:
            m.resolutions["backup"] = rid
        m.backup_bytes += size
        m.backups_made += 1
    # Lost and missed runs nothing made up for.
    m.failures["lost"] = finished(
        s, "logs.cleanup", L(20, 1), RunStatus.LOST, "the worker died (heartbeat 95 s old)"
    )
    m.failures["missed"] = finished(
        s, "db.vacuum_analyze", L(25, 2), RunStatus.MISSED, "beat was not running when it was due"
    )
    # Just outside the month: not in its report.
    record(
        s,
        "backup.create",
        L(30, 23, 59, month=9),
        backup_result("daily", 999, "full"),
        params={"tier": "daily"},
    )
    record(
        s,
        "backup.create",
        L(1, 0, 0, month=11),
        backup_result("daily", 999, "full"),
        params={"tier": "daily"},
    )
    # A capacity forecast (its shape: /work/plan/i13-capacity-shape.md, docs/capacity.md).
    cap = Result(summary="6 series: 1 crosses its limit within 90 days")
    cap.figures = {
        "format_version": 1,
        "warn_days": 90,
        "series": [
            {
                "key": "backup_tier:daily",
                "label": "backups, daily tier",
                "unit": "bytes",
                "current": 330_000_000,
                "limit": 50 * 10**9,
                "slope_per_day": 1.5e9,
                "crossing_at": "2026-12-30T00:00:00Z",
                "days_left": 60.0,
                "verdict": "warn",
                "status": "warn",
                "note": "crosses 50.0 GB on 2026-12-30 (60 days)",
            }
        ],
    }
    record(s, "capacity.forecast", L(28, 4), cap, seconds=3)

    # Health: a sample an hour; the API failed 03:00-05:00 on the 10th, the cache warns
    # from 20:00 on the 31st to the month's end (its alert still open).
    dsn = s.history_dsn.get_secret_value()
    moment = L(1, 0)
    while moment < L(1, 0, month=11):
        local = moment.astimezone(NY)
        api = "fail" if (local.day == 10 and 3 <= local.hour <= 5) else "pass"
        cache = "warn" if (local.day == 31 and local.hour >= 20) else "pass"
        samples.save(dsn, health_doc(api, cache), taken_at=moment, duration_ms=40.0, run_id=None)
        moment += timedelta(hours=1)
    notify(s, L(10, 3, 5), "alert", Severity.CRITICAL, "scheduler: api critical", "webhook", True)
    notify(s, L(10, 6, 5), "recovery", Severity.OK, "scheduler: api healthy", "webhook", True)
    notify(s, L(15, 23, 10), "run", Severity.CRITICAL, "backup.create failed", "email", False)
    alert_store.record(
        dsn,
        [
            Decision(
                "health:cache",
                Action.FIRE,
                "warn",
                "pass",
                L(31, 20),
                "cache:ping: slow",
                "degraded 2 samples",
            )
        ],
        L(31, 20, 5),
    )
    return m


def sql(query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(_dsn(HISTORY_DB, password=False)) as conn:
        return list(conn.execute(query, args).fetchall())


PERIOD = "parent_run_id IS NULL AND started_at >= %s AND started_at < %s"


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[notify_servers.Receiver, notify_servers.Mailbox]]:
    hooks = notify_servers.webhook_receiver()
    mails = notify_servers.smtp_server(None, None, user=None, password=None)
    yield next(hooks), next(mails)
    for gen in (hooks, mails):
        with contextlib.suppress(StopIteration):
            next(gen)


@pytest.fixture(scope="module")
def month(history_db: str, servers: Any) -> Month:
    with psycopg.connect(_dsn(HISTORY_DB, password=False), autocommit=True) as conn:
        conn.execute(
            "TRUNCATE job_runs, window_runs, health_samples, alert_state, notifications, "
            "beat_dispatches, report_approvals RESTART IDENTITY"
        )
    settings = notify_servers.channel_settings(*servers)
    with pytest.MonkeyPatch.context() as mp:
        # durations follow the travelled clock (time_machine leaves monotonic alone)
        mp.setattr(clock, "monotonic", lambda: clock.now().timestamp())
        return fabricate(settings)


@pytest.fixture(scope="module")
def built(month: Month, servers: Any) -> dict[str, Any]:
    outcome = runner.execute(
        catalog.get("report.monthly"),
        {"month": MONTH},
        settings=month.settings,
        trigger=Trigger.CLI,
    )
    assert outcome.status is RunStatus.SUCCEEDED, outcome.summary
    html_path, json_path = files.paths(month.settings, MONTH)
    return {
        "outcome": outcome,
        "data": json.loads(json_path.read_text()),
        "html": html_path.read_text(),
        "html_path": html_path,
    }


def test_its_numbers_match_the_history(month: Month, built: dict[str, Any]) -> None:
    data = built["data"]
    start, end = L(1, 0), L(1, 0, month=11)
    assert data["period"] == {"start": "2026-10-01T04:00:00Z", "end": "2026-11-01T04:00:00Z"}
    # every run of the month, by status, as the history counts them
    by_status = dict(
        sql(f"SELECT status, count(*) FROM job_runs WHERE {PERIOD} GROUP BY status", start, end)
    )
    assert data["runs"]["by_status"] == by_status
    assert data["runs"]["total"] == sum(by_status.values()) == data["headline"]["runs"]
    # backups: count and bytes
    ((made, total),) = sql(
        f"SELECT count(*), sum((result->'figures'->>'size_bytes')::bigint) FROM job_runs "
        f"WHERE {PERIOD} AND task = 'backup.create' AND status = 'succeeded'",
        start,
        end,
    )
    assert (
        (data["backups"]["made"], data["backups"]["bytes"])
        == (made, total)
        == (month.backups_made, month.backup_bytes)
    )
    assert data["backups"]["failed"] == 1
    assert data["backups"]["by_tier"]["monthly"] == {
        "count": 1,
        "bytes": 60_000_000,
        "largest": 60_000_000,
    }
    durations = {b["run_id"]: b["duration_s"] for b in data["backups"]["items"]}
    assert durations == dict(
        sql(
            f"SELECT id, duration_s FROM job_runs WHERE {PERIOD} AND task = 'backup.create'",
            start,
            end,
        )
    )
    # drills: RTO and RPO against objectives
    drills = {d["run_id"]: d for d in data["drills"]["items"]}
    assert set(drills) == set(month.drills.values())
    met, missed = drills[month.drills["met"]], drills[month.drills["missed"]]
    assert (met["rto_s"], met["rpo_s"], met["rto_met"], met["rpo_met"]) == (
        420.5,
        21600.0,
        True,
        True,
    )
    assert (missed["rto_s"], missed["rto_objective_s"], missed["rto_met"]) == (
        5400.0,
        3600.0,
        False,
    )
    assert data["headline"]["drills_missing_objective"] == 1
    # failures and what was done about them
    fails = {f["run_id"]: f for f in data["failures"]["items"]}
    ((n_bad,),) = sql(
        f"SELECT count(*) FROM job_runs WHERE {PERIOD} AND status IN ('failed','lost','missed')",
        start,
        end,
    )
    assert set(fails) == set(month.failures.values()) and len(fails) == n_bad == 5
    assert fails[month.failures["backup"]]["resolved_by"]["run_id"] == month.resolutions["backup"]
    assert fails[month.failures["reindex"]]["resolved_by"]["run_id"] == month.resolutions["reindex"]
    assert fails[month.failures["backup"]]["error_message"] == "[Errno 28] No space left on device"
    assert fails[month.failures["reindex"]]["window_run_id"] == month.windows["weekly-18"]
    for key in ("lost", "missed", "drill"):
        assert fails[month.failures[key]]["resolved_by"] is None, key
    assert data["failures"]["unresolved"] == 3
    # windows and their steps
    wins = {w["id"]: w for w in data["windows"]["items"]}
    assert set(wins) == set(month.windows.values())
    steps = dict(
        sql(
            "SELECT window_run_id, count(*) FROM job_runs WHERE window_run_id IS NOT NULL GROUP BY 1"
        )
    )
    assert (
        {w: len(x["steps"]) for w, x in wins.items()}
        == steps
        == {
            month.windows["monthly"]: 4,
            month.windows["weekly-11"]: 3,
            month.windows["weekly-18"]: 1,
        }
    )
    assert wins[month.windows["weekly-18"]]["status"] == "failed"
    assert wins[month.windows["monthly"]]["duration_s"] == 4 * 3600
    # health: samples, uptime, incidents
    h = data["health"]
    ((n_samples,),) = sql(
        "SELECT count(*) FROM health_samples WHERE taken_at >= %s AND taken_at < %s", start, end
    )
    assert h["samples"] == n_samples == 31 * 24  # a sample an hour; EDT all month
    api = next(c for c in h["components"] if c["component"] == "api")
    assert (api["fail"], api["uptime_pct"]) == (3, round(100 * (n_samples - 3) / n_samples, 3))
    incidents = [(i["component"], i["worst"], i["duration_s"]) for i in h["incidents"]]
    assert incidents == [("api", "fail", 3 * 3600.0), ("cache", "warn", None)]
    # alerts, upkeep, security, capacity
    assert len(data["alerts"]["notifications"]) == 3 and data["alerts"]["delivery_failed"] == 1
    assert data["alerts"]["open"][0]["key"] == "health:cache"
    assert data["upkeep"]["reclaimed_bytes"] == 52_000_000
    assert data["upkeep"]["slow_queries"][0]["mean_ms"] == 812.5
    assert data["security"]["findings"] == 1
    assert data["capacity"]["series"][0]["verdict"] == "warn"


def test_it_names_every_window_failure_and_drill(month: Month, built: dict[str, Any]) -> None:
    page = built["html"]
    for wid in month.windows.values():
        assert f"window run {wid}" in page
        assert f"Window run {wid}:" in page
    rows = {int(r) for r in re.findall(r'<td class="num">(\d+)</td>', page)}
    for rid in [*month.failures.values(), *month.drills.values()]:
        assert rid in rows
    assert "No space left on device" in page
    assert "succeeded again in run" in page and "no later success of this task recorded" in page
    assert "SELECT * FROM assignments WHERE person_id = $1" in page
    assert "crosses 50.0 GB on 2026-12-30" in page
    assert page.count("<svg ") == 4  # backup size, backup duration, drill RTO, uptime


def test_the_files_are_private_and_it_was_sent(
    month: Month, built: dict[str, Any], servers: Any
) -> None:
    receiver, mailbox = servers
    html_path: Path = built["html_path"]
    assert stat.S_IMODE(html_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(html_path.with_suffix(".json").stat().st_mode) == 0o600
    assert stat.S_IMODE(html_path.parent.stat().st_mode) == 0o700
    assert html_path.parent == month.settings.backup_root / "reports"
    [mail] = [m for m in mailbox.messages if "Maintenance report 2026-10" in m["Subject"]]
    [attached] = list(mail.iter_attachments())
    assert attached.get_filename() == "maintenance-report-2026-10.html"
    assert attached.get_content() == built["html"]
    [hook] = [b for b in receiver.bodies() if b["maint"]["kind"] == "report"]
    assert str(html_path) in hook["maint"]["text"] and "5 failures" in hook["maint"]["text"]
    assert built["outcome"].result["figures"]["deliveries"][0]["ok"] is True


def test_an_empty_month_says_not_found(month: Month) -> None:
    outcome = runner.execute(
        catalog.get("report.monthly"),
        {"month": "2026-08", "send": False},
        settings=month.settings,
        trigger=Trigger.CLI,
    )
    assert outcome.status is RunStatus.SUCCEEDED
    data = files.read(month.settings, "2026-08")
    assert data is not None
    for key in (
        "windows",
        "failures",
        "backups",
        "drills",
        "health",
        "alerts",
        "upkeep",
        "security",
        "capacity",
    ):
        assert data[key]["missing"].startswith("not found:"), key
    page = files.paths(month.settings, "2026-08")[0].read_text()
    assert "not found: no restore drill recorded in 2026-08" in page
    assert "no capacity forecast found" in page
    assert "not found: no maintenance window recorded in 2026-08" in page
    assert "<svg" not in page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} missing: scripts/ensure-chromium installs it"
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def test_it_renders_in_chromium_with_its_charts_and_loads_nothing(
    built: dict[str, Any], browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    console: list[tuple[str, str]] = []
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: console.append((m.type, m.text)))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    url = built["html_path"].as_uri()
    page.goto(url, wait_until="load")
    charts = page.evaluate(
        """() => [...document.querySelectorAll('svg[data-chart]')].map(s => {
             const r = s.getBoundingClientRect();
             return {name: s.dataset.chart, width: r.width, height: r.height,
                     shapes: s.querySelectorAll('path, use, rect').length};
           })"""
    )
    assert sorted(c["name"] for c in charts) == [
        "backup-duration",
        "backup-size",
        "drill-rto",
        "uptime",
    ]
    for c in charts:
        assert c["width"] > 300 and c["height"] > 80 and c["shapes"] > 10, c
    assert page.title() == "Maintenance report 2026-10"
    assert "Approved By:" in page.inner_text("#signoff")
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    assert [m for m in console if m[0] in ("error", "warning")] == [] and errors == []
    assert requests == [url]  # the file itself, nothing else
    raw = shot.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 50_000
    from PIL import Image

    with Image.open(shot) as img:
        assert img.width == 1280 and img.height > 3000
        colours = img.convert("RGB").resize((64, 256)).getcolors(maxcolors=1 << 16)
        assert colours is not None and len(colours) > 20  # drawn, not a blank page


# --- sign-off ---------------------------------------------------------------------------


def test_approving_a_month_with_no_report_is_refused_and_recorded(
    month: Month, maint_env: dict[str, str]
) -> None:
    got = run_cli("report", "approve", "2026-07", "--by", "Dana Reyes", env=maint_env)
    assert got.returncode == 2, got.stdout + got.stderr
    assert "no report for 2026-07 has been built" in got.stdout + got.stderr
    [(status, error_type, message)] = sql(
        "SELECT status, error_type, error_message FROM job_runs WHERE task = 'report.approve' "
        "AND params->>'month' = '2026-07'"
    )
    assert (status, error_type) == (
        "failed",
        "BadInput",
    ) and "maint report build 2026-07" in message
    assert sql("SELECT count(*) FROM report_approvals WHERE month = '2026-07'") == [(0,)]


def approve_here(settings: Settings, **params: Any) -> runner.Outcome:
    """report.approve in this process, as `maint report approve` runs it."""
    return runner.execute(
        catalog.get("report.approve"), params, settings=settings, trigger=Trigger.CLI
    )


def test_approvals_are_recorded_and_the_report_shows_the_latest(
    month: Month, built: dict[str, Any], maint_env: dict[str, str]
) -> None:
    first = run_cli(
        "report", "approve", MONTH, "--by", "Sam Ortiz", "--role", "verified", env=maint_env
    )
    assert first.returncode == 0, first.stdout + first.stderr
    assert "verified by Sam Ortiz" in first.stdout
    second = approve_here(
        month.settings, month=MONTH, by="Dana Reyes", note="drill RTO: follow-up ticket 4411"
    )
    assert second.status is RunStatus.SUCCEEDED, second.summary
    third = approve_here(month.settings, month=MONTH, by="Lee Park")
    assert third.status is RunStatus.SUCCEEDED and third.result is not None
    assert third.result["figures"]["sign_offs"] == 3
    rows = sql(
        "SELECT role, approved_by, note, report_sha256, run_id FROM report_approvals WHERE month = %s ORDER BY id",
        MONTH,
    )
    assert [(r[0], r[1]) for r in rows] == [
        ("verified", "Sam Ortiz"),
        ("approved", "Dana Reyes"),
        ("approved", "Lee Park"),
    ]
    assert rows[1][2] == "drill RTO: follow-up ticket 4411" and rows[1][4] == second.run_id
    assert len({r[3] for r in rows}) == 1  # they all signed the same content
    assert rows[0][3] == files.fingerprint(built["data"])
    page = built["html_path"].read_text()
    assert '<td data-role="verified">Sam Ortiz</td>' in page
    assert '<td data-role="approved">Lee Park</td>' in page  # the latest approval
    assert "Dana Reyes" in page  # kept in the list of every sign-off
    shown = run_cli("report", "show", MONTH, env=maint_env)
    assert shown.returncode == 0, shown.stderr
    assert "Verified By: Sam Ortiz" in shown.stdout and "Approved By: Lee Park" in shown.stdout
    # a rebuild reads the sign-offs again
    rebuilt = runner.execute(
        catalog.get("report.monthly"),
        {"month": MONTH, "send": False},
        settings=month.settings,
        trigger=Trigger.CLI,
    )
    assert rebuilt.status is RunStatus.SUCCEEDED
    assert '<td data-role="approved">Lee Park</td>' in built["html_path"].read_text()
    bad = approve_here(month.settings, month="2026-13", by="X")
    assert bad.bad_input and "YYYY-MM" in (bad.error_message or "")


@pytest.mark.worker
def test_a_worker_builds_the_same_report(month: Month, built: dict[str, Any], worker: Any) -> None:
    """report.monthly through Celery (tasks/report.py, a prefork child drawing the
    charts): the same figures as the run in this process."""
    from tasks.app import app

    sent = app.send_task(
        "report.monthly", kwargs={"month": MONTH, "send": False}, queue=month.settings.queue
    )
    sent.get(timeout=120)
    [(status, trigger, result)] = sql(
        "SELECT status, trigger, result FROM job_runs WHERE task = 'report.monthly' "
        "AND celery_task_id = %s",
        sent.id,
    )
    assert (status, trigger) == ("succeeded", "adhoc")
    data = files.read(month.settings, MONTH)
    assert data is not None and data["generated_by_run"] != built["data"]["generated_by_run"]
    assert data["headline"] == built["data"]["headline"] == result["figures"]["headline"]
    assert files.paths(month.settings, MONTH)[0].read_text().count("<svg ") == 4
