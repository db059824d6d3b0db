"""The on-call judgement, a pure function of (facts, policy, now), and the reading of
the newest verified backup out of backup runs (pure too)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from maintenance.history.models import JobRun
from maintenance.oncall.facts import newest_verified
from maintenance.oncall.judge import Policy, Severity, area_of, headline, judge
from maintenance.oncall.model import (
    Alert,
    Disk,
    Drill,
    Health,
    Snapshot,
    TaskFigures,
    VerifiedBackup,
)

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
H = 3600.0
POLICY = Policy(
    backup_max_age_s={"daily": 26 * H, "weekly": 360 * H, "monthly": 864 * H},
    failures_in_a_row=2,
    health_stale_s=900,
    disk_min_free_bytes=1 << 30,
    disk_fail_ratio=0.9,
)


def run(task: str, status: str = "succeeded", **kw: Any) -> JobRun:
    values = {"id": 1, "trigger": "beat", "started_at": NOW - timedelta(hours=1)} | kw
    return JobRun(task=task, status=status, **values)


def backup(tier: str, hours_old: float) -> VerifiedBackup:
    created = NOW - timedelta(hours=hours_old)
    return VerifiedBackup(
        f"{tier}-{created:%Y%m%dT%H%M%SZ}", tier, created, "full", created, 7, 1000
    )


def clean() -> Snapshot:
    return Snapshot(
        now=NOW,
        latest=[run("backup.create"), run("health.check"), run("db.vacuum_analyze")],
        backups={"daily": backup("daily", 4)},
        backup_tiers_run={"daily"},
        drill=Drill(1, "succeeded", NOW, "daily-x", 120, 4 * H, 3600, 26 * H, "passed", None),
        health=Health(
            1,
            NOW - timedelta(minutes=2),
            "pass",
            {"host": "pass"},
            {},
            0.95,
            [Disk("backups", "/backups", 50 << 30, 0.4, "pass")],
        ),
    )


def keys(snap: Snapshot) -> list[str]:
    return [r.key for r in judge(snap, POLICY, NOW)]


def test_a_clean_snapshot_needs_no_attention() -> None:
    assert judge(clean(), POLICY, NOW) == []


def test_an_empty_history_needs_no_attention() -> None:
    """Nothing recorded is not a finding: a tier never backed up, no sample, no drill."""
    assert judge(Snapshot(now=NOW), POLICY, NOW) == []
    # a new suite: its first run ten minutes ago, no daily backup or sample yet
    young = Snapshot(now=NOW, history_since=NOW - timedelta(minutes=10))
    assert keys(young) == []


def test_a_history_older_than_a_day_without_a_daily_backup_or_a_sample_is_a_finding() -> None:
    """Beat down since the install: runs by hand only. After 26 h without a verified
    daily backup, and after the staleness limit without a sample, that is the finding."""
    old = Snapshot(now=NOW, history_since=NOW - timedelta(hours=27))
    reasons = judge(old, POLICY, NOW)
    assert [r.key for r in reasons] == ["backup:daily", "health:stale"]
    assert "no verified daily backup in 1d" in reasons[0].text, reasons[0].text
    assert "is beat sending backup.create?" in reasons[0].text
    # weekly and monthly tiers are not required by age alone (a suite one day old)
    just = Snapshot(now=NOW, history_since=NOW - timedelta(hours=25))
    assert keys(just) == ["health:stale"]


def test_a_failed_backup_a_missed_drill_and_an_open_alert_most_severe_first() -> None:
    snap = clean()
    snap.latest[0] = run(
        "backup.create", "failed", id=9, error_type="DiskFull", error_message="no space"
    )
    snap.drill = Drill(5, "failed", NOW, "daily-x", 5400, 4 * H, 3600, 26 * H, "DRILL FAILED", None)
    snap.alerts = [Alert("health:api", "fail", NOW - timedelta(minutes=30), NOW, None, "down")]
    reasons = judge(snap, POLICY, NOW)
    assert [r.key for r in reasons] == ["run:backup.create", "drill", "alert:health:api"]
    first, drill, alert = reasons
    assert first.severity is Severity.CRITICAL and "DiskFull: no space" in first.text
    assert "(run 9)" in first.text
    assert drill.text.startswith("last drill (run 5) missed its objective: RTO 1h30m > obj")
    assert drill.text.endswith("objective 1h00m") and "RPO" not in drill.text
    assert alert.text == "alert open: health:api fail for 30m: down"
    line = "ATTENTION: backup.create failed; drill missed RTO objective; alert health:api fail"
    assert headline(reasons) == line
    assert headline(reasons, width=len(line)) == line
    assert (
        headline(reasons, width=70)
        == "ATTENTION: backup.create failed; drill missed RTO objective (+1 more)"
    )
    assert headline(reasons, width=40) == "ATTENTION: backup.create failed (+2 more)"
    assert headline([]) == "OK: nothing needs attention"


def test_an_old_backup_per_tier_and_a_tier_never_proven() -> None:
    snap = clean()
    snap.backups = {"daily": backup("daily", 27), "weekly": backup("weekly", 100)}
    snap.backup_tiers_run = {"daily", "weekly", "monthly"}
    reasons = judge(snap, POLICY, NOW)
    assert [r.key for r in reasons] == ["backup:daily", "backup:monthly"]
    assert "newest verified daily backup is 1d03h old (limit 1d02h)" in reasons[0].text
    assert "no verified monthly backup" in reasons[1].text
    snap.backups["daily"] = backup("daily", 25.9)
    assert keys(snap) == ["backup:monthly"]


def test_a_task_failing_twice_in_a_row_outranks_a_single_failure() -> None:
    snap = clean()
    snap.latest = [
        run("cache.stats", "failed", id=3, summary="redis down"),
        run("logs.cleanup", "lost", id=4),
    ]
    snap.tasks = {
        "logs.cleanup": TaskFigures("logs.cleanup", {"lost": 2}, None, None, None, 2),
        "cache.stats": TaskFigures("cache.stats", {"failed": 1}, None, None, None, 1),
    }
    reasons = judge(snap, POLICY, NOW)
    assert [(r.key, r.severity) for r in reasons] == [
        ("run:logs.cleanup", Severity.HIGH),
        ("run:cache.stats", Severity.MEDIUM),
    ]
    assert "logs.cleanup lost (2 in a row) (run 4)" in reasons[0].text
    assert reasons[1].text.endswith(": redis down")


def test_missed_runs_count_and_skipped_ones_do_not() -> None:
    snap = clean()
    snap.latest = [
        run("db.reindex", "skipped"),
        run("backup.verify", "missed", summary="not caught up"),
    ]
    assert keys(snap) == ["run:backup.verify"]


def test_health_critical_stale_and_a_full_disk() -> None:
    snap = clean()
    assert snap.health is not None
    snap.health = Health(
        2,
        NOW - timedelta(minutes=20),
        "fail",
        {"api": "fail", "host": "fail", "cache": "pass"},
        {"api": "timed out after 3 s"},
        None,
        [
            Disk("backups", "/backups", 100 << 20, 0.99, "fail"),
            Disk("logs", "/l", 9 << 30, 0.5, "pass"),
        ],
    )
    reasons = judge(snap, POLICY, NOW)
    assert [r.key for r in reasons] == ["disk:backups", "health:critical", "health:stale"]
    assert reasons[0].text == "backups disk /backups: 100.0 MiB free, 99% used"
    assert reasons[1].text == "health critical: api: timed out after 3 s; host: fail"


def test_an_alert_only_held_by_a_window_is_not_a_finding_and_a_warn_ranks_low() -> None:
    snap = clean()
    snap.alerts = [
        Alert("health:cache", "pass", None, NOW, NOW, "held"),
        Alert("health:celery", "warn", None, NOW - timedelta(hours=2), None, "queue long"),
    ]
    reasons = judge(snap, POLICY, NOW)
    assert [(r.key, r.severity) for r in reasons] == [("alert:health:celery", Severity.MEDIUM)]


def test_a_drill_that_failed_without_figures_says_why() -> None:
    snap = clean()
    snap.drill = Drill(8, "lost", NOW, None, None, None, None, None, None, "LostRun: worker died")
    (reason,) = judge(snap, POLICY, NOW)
    assert reason.text == "last drill (run 8) lost: LostRun: worker died"


@pytest.mark.parametrize(
    ("task", "area"),
    [
        ("backup.create", "backups"),
        ("restore.drill", "restores"),
        ("logs.rotate", "logs"),
        ("cache.clear_pattern", "cache"),
        ("db.reindex", "upkeep"),
        ("health.check", "health"),
        ("security.audit", "security"),
        ("window.run", "other"),
    ],
)
def test_areas(task: str, area: str) -> None:
    assert area_of(task) == area


# --- the newest verified backup, from the runs ---------------------------------------------


def row(i: int, task: str, status: str, backup_id: str, **figures: Any) -> SimpleNamespace:
    return SimpleNamespace(
        id=i,
        task=task,
        status=status,
        finished_at=NOW - timedelta(minutes=100 - i),
        figures={"backup": backup_id, **figures},
    )


D1, D2 = "daily-20261205T230000Z", "daily-20261206T230000Z"
W1 = "weekly-20261129T073000Z"


def test_newest_verified_follows_the_latest_verdict_per_backup() -> None:
    rows = [  # newest first, as read
        row(6, "backup.verify", "failed", D2, level="checksum"),
        row(5, "backup.create", "succeeded", D2, size_bytes=2000, verification={"level": "full"}),
        row(4, "backup.verify", "succeeded", D1, level="checksum"),
        row(3, "backup.verify", "succeeded", W1, level="restore"),
        row(2, "backup.create", "succeeded", D1, size_bytes=1000, verification={"level": "full"}),
        row(
            1, "backup.create", "succeeded", W1, size_bytes=5000, verification={"level": "restore"}
        ),
    ]
    found = newest_verified(rows)
    # D2's latest verdict failed (a checksum failure un-proves it); D1 stays proven, its
    # later checksum pass neither proves nor un-proves
    assert {t: (b.id, b.level, b.size_bytes, b.run_id) for t, b in found.items()} == {
        "daily": (D1, "full", 1000, 2),
        "weekly": (W1, "restore", 5000, 3),
    }
    assert found["daily"].created_at == datetime(2026, 12, 5, 23, 0, tzinfo=UTC)
    # once a later full verification passes, D2 is the newest again
    rows.insert(0, row(7, "backup.verify", "succeeded", D2, level="full"))
    assert newest_verified(rows)["daily"].id == D2


def test_a_backup_created_without_verification_or_with_a_bad_id_proves_nothing() -> None:
    rows = [
        row(2, "backup.create", "succeeded", D2, size_bytes=1),
        row(1, "backup.verify", "succeeded", "../etc/passwd", level="full"),
    ]
    assert newest_verified(rows) == {}


# --- every query bounded -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dsn", "options"),
    [
        ("postgresql://u:p@h:5432/maintenance", "-c statement_timeout=2500"),
        (
            "postgresql://u:p@h/maintenance?options=-c%20search_path%3Dx&sslmode=require",
            "-c search_path=x -c statement_timeout=2500",
        ),
    ],
)
def test_the_history_dsn_carries_a_statement_timeout_libpq_reads(dsn: str, options: str) -> None:
    from psycopg.conninfo import conninfo_to_dict

    from maintenance.oncall.facts import bounded_dsn

    parsed = conninfo_to_dict(bounded_dsn(dsn, 2.5))  # libpq's own URI parser
    assert parsed["options"] == options
    assert (parsed["password"], parsed["dbname"]) == ("p", "maintenance")


# --- the health sample's facts -------------------------------------------------------------


def test_a_stored_health_document_gives_components_disks_and_the_hit_ratio() -> None:
    from maintenance.health import document
    from maintenance.health.document import Entry, Status
    from maintenance.health.samples import Stored
    from maintenance.oncall.facts import health_of

    e = [
        Entry(
            "host",
            "diskUtilization",
            "system",
            Status.FAIL,
            NOW,
            93.0,
            "%",
            "93% used",
            "backups /b",
        ),
        Entry("host", "diskFree", "system", Status.PASS, NOW, 5 << 30, "bytes", None, "backups /b"),
        Entry("host", "diskUtilization", "system", Status.PASS, NOW, 10.0, "%", None, "logs /l"),
        Entry("cache", "hitRate", "datastore", Status.WARN, NOW, 75.0, "%", "75% < 80%"),
        Entry("api", "status", "component", Status.PASS, NOW),
    ]
    doc = document.build(e, critical=["host"], release="t", description="t")
    h = health_of(Stored(5, NOW, doc["status"], 3.0, None, doc))
    assert (h.sample_id, h.status) == (5, "fail")
    assert h.components == {"api": "pass", "cache": "warn", "host": "fail"}
    assert h.outputs == {"host": "93% used", "cache": "75% < 80%"}
    assert h.cache_hit_ratio == 0.75
    assert h.disks == [
        Disk("backups", "/b", 5 << 30, 0.93, "fail"),
        Disk("logs", "/l", None, 0.10, "pass"),
    ]
