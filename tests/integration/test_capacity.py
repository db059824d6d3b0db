"""capacity.forecast, the real task against a history fabricated through the real
recorder (job runs at past instants, under time_machine) and the real health-sample
writer; then ``maint capacity`` as an operator runs it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from maintenance import catalog, clock, runner
from maintenance.config import load_settings
from maintenance.health import samples
from maintenance.history.recorder import RunRecorder
from maintenance.history.store import RunStart
from maintenance.results import Result, RunStatus, Trigger
from tests.conftest import history_rows, run_cli

pytestmark = pytest.mark.integration

GB = 10**9


def record(settings: Any, task: str, at: datetime, figures: dict[str, Any], **params: Any) -> None:
    """One finished run of ``task`` at ``at``, written by the recorder every task uses."""
    with (
        time_machine.travel(at, tick=False),
        RunRecorder(settings, RunStart(task, Trigger.BEAT, params)) as rec,
    ):
        rec.complete(Result(summary=f"fabricated {task}", figures=figures))


def sample(settings: Any, at: datetime, backups_free: int, logs_free: int, used: int) -> None:
    document = {
        "status": "pass",
        "checks": {
            "host:diskFree": [
                {
                    "componentId": "backups /srv/backups",
                    "observedValue": backups_free,
                    "observedUnit": "bytes",
                    "status": "pass",
                },
                {
                    "componentId": "logs /var/log/scheduler",
                    "observedValue": logs_free,
                    "observedUnit": "bytes",
                    "status": "pass",
                },
            ],
            "cache:usedMemory": [
                {"observedValue": used, "observedUnit": "bytes", "status": "pass"}
            ],
        },
    }
    samples.save(
        settings.history_dsn.get_secret_value(), document, taken_at=at, duration_ms=5, run_id=None
    )


@pytest.fixture
def history(clean_history: str, tmp_path: Path, maint_env: dict[str, str]) -> tuple[Any, datetime]:
    """Eight weeks of runs and twenty days of samples, ending yesterday."""
    s = load_settings(backup_root=tmp_path / "backups", log_root=tmp_path / "logs")
    now = clock.now()
    last = (now - timedelta(days=1)).replace(hour=23, minute=0, second=0, microsecond=0)
    for k in range(8):
        at = last - timedelta(weeks=7 - k)
        record(s, "db.stats", at, {"database_size_bytes": 2 * GB + k * GB // 10})
        record(s, "backup.create", at, {"tier_bytes": 70 * GB + k * GB}, tier="weekly")
        record(s, "backup.create", at + timedelta(minutes=5), {"tier_bytes": 20 * GB}, tier="daily")
        record(s, "cache.stats", at, {"used_memory_bytes": 300_000_000 + k * 1_000_000})
    for k in range(2):  # a log host with two reports only
        record(
            s, "logs.report", last - timedelta(days=k), {"host": "web1", "disk_usage_bytes": 4 * GB}
        )
    for d in range(20):
        at = last - timedelta(days=19 - d)
        for h in (0, 6):  # two samples a day: the day's worst counts
            sample(s, at - timedelta(hours=h), 500 * GB - d * GB - h, 200 * GB, 310_000_000 + d)
    # a run that failed before it measured anything is no reading
    record(s, "db.stats", last - timedelta(days=2), {})
    return s, last


def by_key(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["key"]: s for s in result["figures"]["series"]}


def test_the_forecast_of_a_fabricated_history(history: tuple[Any, datetime]) -> None:
    s, last = history
    outcome = runner.execute(catalog.get("capacity.forecast"), {}, settings=s, trigger=Trigger.CLI)
    assert outcome.status is RunStatus.SUCCEEDED, outcome.summary  # warnings, no failure
    (row,) = history_rows("task = 'capacity.forecast'")
    result = row["result"]
    assert isinstance(result, dict)
    series = by_key(result)
    assert list(series) == [
        "database_size",
        "backup_tier:daily",
        "backup_tier:weekly",
        "backup_tier:monthly",
        "backup_disk_free",
        "log_volume:web1",
        "log_disk_free",
        "redis_memory",
    ]
    # 70 GB + 1 GB a week against the 80 GB weekly budget: 80 GB three weeks after the last
    weekly = series["backup_tier:weekly"]
    assert weekly["verdict"] == "warn" and weekly["status"] == "warn"
    assert weekly["limit"] == 80 * GB and weekly["n_points"] == 8
    crossing = datetime.fromisoformat(weekly["crossing_at"])
    assert abs(crossing - (last + timedelta(weeks=3))) < timedelta(hours=1)
    assert weekly["slope_per_day"] * 7 == pytest.approx(GB)
    # flat
    assert series["backup_tier:daily"]["verdict"] == "never"
    # nothing recorded: one reading now (an empty folder), and said so
    monthly = series["backup_tier:monthly"]
    assert monthly["verdict"] == "not_enough_data" and monthly["n_points"] == 1
    assert "the history is short" in monthly["note"]
    # no limit set for the database: its growth only
    db = series["database_size"]
    assert db["verdict"] == "no_limit" and db["n_points"] == 8
    assert db["slope_per_day"] * 7 == pytest.approx(GB / 10, rel=1e-6)
    # free disk falls 1 GB a day from 500 GB: the 1 GiB floor is more than a year off
    free = series["backup_disk_free"]
    assert free["direction"] == "down" and free["verdict"] == "ok" and free["n_points"] == 20
    assert free["points"][0][1] == 500 * GB - 6  # the smaller of the day's two samples
    assert series["log_disk_free"]["verdict"] == "never"
    assert series["log_volume:web1"]["verdict"] == "not_enough_data"
    # the test Redis has no maxmemory: no limit, and the note says why
    redis_series = series["redis_memory"]
    assert redis_series["limit"] is None and "unbounded" in redis_series["note"]
    # cache.stats weekly (8) and samples daily (20) share 3 days: 25 daily points
    assert redis_series["n_points"] == 25
    # the checklist: one line per series, as every task's result
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["backups, weekly tier: limit not reached within 90 days"]["status"] == "warn"
    assert (
        "below 80.0 GB"
        in checks["backups, weekly tier: limit not reached within 90 days"]["expected"]
    )
    assert result["figures"]["history_runs"]["db.stats"] == 8
    assert "within 90 days (backups, weekly tier on" in result["summary"]


def test_maint_capacity_fails_a_series_over_its_budget(
    history: tuple[Any, datetime], maint_env: dict[str, str], tmp_path: Path
) -> None:
    env = maint_env | {
        "MAINT_BACKUP_ROOT": str(tmp_path / "backups"),
        "MAINT_LOG_ROOT": str(tmp_path / "logs"),
        "MAINT_CAPACITY_TIER_BUDGETS_GB": '{"daily": 10, "weekly": 80, "monthly": 200}',
    }
    res = run_cli("capacity", env=env)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "capacity.forecast run" in res.stdout and "failed" in res.stdout
    assert "backup_tier:daily" in res.stdout and "already above the limit" in res.stdout
    res = run_cli("capacity", "--json", env=env | {"MAINT_CAPACITY_WARN_DAYS": "10"})
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    series = by_key(doc["result"])
    assert series["backup_tier:daily"]["verdict"] == "over"
    assert series["backup_tier:weekly"]["verdict"] == "ok"  # 21 days: beyond a 10-day horizon
    assert doc["result"]["figures"]["warn_days"] == 10


def test_a_bad_budget_is_a_configuration_error(maint_env: dict[str, str]) -> None:
    res = run_cli("capacity", env=maint_env | {"MAINT_CAPACITY_TIER_BUDGETS_GB": '{"daily": 5}'})
    assert res.returncode == 2
    assert "MAINT_CAPACITY_TIER_BUDGETS_GB: needs exactly the tiers" in res.stderr


def test_backup_create_records_what_the_forecast_reads(
    clean_history: str, target_db: str, tmp_path: Path
) -> None:
    """The real backup.create records its tier's bytes and the database's size; the
    forecast reads them (not a reading of its own) for that tier."""
    s = load_settings(backup_root=tmp_path / "backups", log_root=tmp_path / "logs")
    spec = catalog.get("backup.create")
    first = runner.execute(
        spec, {"tier": "daily", "verify": "none"}, settings=s, trigger=Trigger.CLI
    )
    second = runner.execute(
        spec, {"tier": "daily", "verify": "none"}, settings=s, trigger=Trigger.CLI
    )
    assert first.status is second.status is RunStatus.SUCCEEDED, second.summary
    f1, f2 = first.result["figures"], second.result["figures"]  # type: ignore[index]
    assert f1["tier_bytes"] == f1["size_bytes"]
    assert f2["tier_bytes"] == f1["size_bytes"] + f2["size_bytes"]
    assert f2["database_size_bytes"] > 0
    outcome = runner.execute(catalog.get("capacity.forecast"), {}, settings=s, trigger=Trigger.CLI)
    series = by_key(outcome.result)  # type: ignore[arg-type]
    daily = series["backup_tier:daily"]
    assert daily["source"] == "backup.create runs (2)"
    assert daily["current"] == f2["tier_bytes"]  # one point a day: the day's largest
    assert daily["verdict"] == "not_enough_data"
    assert "the history is short" not in daily["note"]
    assert series["database_size"]["source"].startswith(
        "backup.create runs (2); backup manifests (2)"
    )
    assert "the history is short" in series["backup_tier:weekly"]["note"]


def test_an_unreadable_history_is_said_per_series_not_raised(
    services: None, tmp_path: Path, maint_env: dict[str, str]
) -> None:
    from maintenance.capacity import facts as capacity_facts
    from maintenance.capacity.fit import Policy
    from maintenance.capacity.forecast import Limits, judge

    missing = maint_env["MAINT_HISTORY_DSN"].rsplit("/", 1)[0] + "/maint_test_no_such_db"
    s = load_settings(
        history_dsn=missing, backup_root=tmp_path / "backups", log_root=tmp_path / "logs"
    )
    result = judge(capacity_facts.read(s), Limits.of(s), Policy()).to_dict()
    series = by_key(result)
    db = series["database_size"]
    assert db["verdict"] == "unreadable" and db["status"] == "warn"
    assert db["note"].startswith("no readings: db.stats runs not read: ")
    assert series["log_volume"]["verdict"] == "unreadable"
    assert "logs.report runs not read" in series["log_volume"]["note"]
    # what can be read now is read now, and said to be short
    assert series["backup_disk_free"]["n_points"] == 1
    assert "the history is short" in series["backup_disk_free"]["note"]
    assert "2 not readable" in result["summary"]
