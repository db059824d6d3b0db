"""``maint status``, the on-call screen, on a real history: real backups, a real drill
and real failed runs (``maint run``), an alert and a health sample stored by the real
store functions. It says on its first line what needs attention and exits 1; on a clean
history it says so and exits 0."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from maintenance.alerts import store as alert_store
from maintenance.alerts.rules import Action, Decision
from maintenance.backup import inventory, manifest
from maintenance.backup.layout import Tier
from maintenance.health import document, samples
from maintenance.health.document import Entry, Status
from maintenance.history import store
from maintenance.results import Trigger
from tests.conftest import run_cli

pytestmark = pytest.mark.integration


@pytest.fixture
def env(
    maint_env: dict[str, str], history_db: str, target_db: str, clean_history: str, tmp_path: Path
) -> dict[str, str]:
    return maint_env | {
        "MAINT_BACKUP_ROOT": str(tmp_path / "backups"),
        "MAINT_BACKUP_MIN_BYTES": json.dumps({"daily": 1, "weekly": 1, "monthly": 1}),
        "MAINT_API_URL": "http://127.0.0.1:9",  # the drill's restore does not probe it
    }


def _sample(dsn: str, root: str, free: int, used_pct: float) -> None:
    """A health sample as health.check stores it: host disks and the cache's hit rate."""
    now = datetime.now(UTC)
    entries = [
        Entry(
            "host",
            "diskUtilization",
            "system",
            Status.PASS,
            now,
            used_pct,
            "%",
            None,
            f"backups {root}",
        ),
        Entry(
            "host", "diskFree", "system", Status.PASS, now, free, "bytes", None, f"backups {root}"
        ),
        Entry("cache", "hitRate", "datastore", Status.PASS, now, 93.5, "%"),
    ]
    doc = document.build(entries, critical=["host"], release="t", description="t")
    samples.save(dsn, doc, taken_at=now, duration_ms=12.0, run_id=None)


def _status(env: dict[str, str], *args: str) -> tuple[int, str]:
    res = run_cli("status", *args, env=env)
    assert res.stderr == "", res.stderr
    return res.returncode, res.stdout


def test_status_is_clean_then_names_a_failed_backup_a_missed_drill_and_an_open_alert(
    env: dict[str, str], history_db: str
) -> None:
    # --- a clean history: a verified backup, a drill within its objectives, a sample
    made = run_cli("run", "backup.create", "-p", "tier=daily", env=env)
    assert made.returncode == 0, made.stdout + made.stderr
    drill = run_cli("run", "restore.drill", "-p", "tier=daily", env=env)
    assert drill.returncode == 0, drill.stdout + drill.stderr
    _sample(history_db, env["MAINT_BACKUP_ROOT"], 40 * 1024**3, 55.0)

    code, text = _status(env, "--json")
    doc = json.loads(text)
    assert (code, doc["attention"], doc["reasons"]) == (0, None, []), text
    newest = inventory.scan(Path(env["MAINT_BACKUP_ROOT"])).latest(Tier.DAILY, verified=True)
    assert newest is not None and newest.manifest is not None
    assert doc["backups"]["daily"]["id"] == newest.id
    assert doc["backups"]["daily"]["size_bytes"] == newest.size_bytes
    recorded = manifest.read(newest.manifest_path).drills[-1]
    assert (doc["drill"]["status"], doc["drill"]["rto_s"]) == ("succeeded", recorded.rto_s)
    assert doc["drill"]["rto_objective_s"] == 3600
    assert doc["health"]["cache_hit_ratio"] == pytest.approx(0.935)
    assert doc["health"]["disks"][0]["free_bytes"] == 40 * 1024**3
    assert doc["next_window"]["kind"] in {"daily", "weekly", "monthly", "quarterly"}
    assert doc["next_window"]["runs"], doc["next_window"]
    assert {r["area"] for r in doc["latest"]} == {"backups", "restores"}

    code, text = _status(env)
    assert code == 0
    lines = text.splitlines()
    assert lines[0] == "OK: nothing needs attention"
    assert re.search(r"^\s*\d+\s+backup\.create\s+succeeded\s+cli\s", text, re.M), text
    assert "backups: last run of each task" in text and "restores: last run" in text
    assert newest.id in text and "within objective 1h00m" in text
    assert "next window:" in text and "40.0 GiB" in text

    # --- a failed backup, a drill that misses its RTO, an open alert
    full = run_cli(
        "run", "backup.create", "-p", "tier=daily",
        env=env | {"MAINT_BACKUP_MIN_FREE_BYTES": str(1 << 60)},
    )  # fmt: skip
    assert full.returncode == 1, full.stdout + full.stderr
    slow = run_cli(
        "run", "restore.drill", "-p", "tier=daily",
        env=env | {"MAINT_RESTORE_RTO_OBJECTIVE_S": "0.001"},
    )  # fmt: skip
    assert slow.returncode == 1, slow.stdout + slow.stderr
    now = datetime.now(UTC)
    alert_store.record(
        history_db,
        [
            Decision(
                "health:api",
                Action.FIRE,
                "fail",
                "pass",
                now - timedelta(minutes=12),
                "/api/health did not answer: timed out after 3 s",
                "fail for 12 minutes",
            )
        ],
        now,
    )

    code, text = _status(env)
    assert code == 1, text
    first = text.splitlines()[0]
    assert first == (
        "ATTENTION: backup.create failed; drill missed RTO objective; alert health:api fail"
    ), text
    assert "free space before the backup" in text or "not started" in text  # the why
    assert "failed, lost or missed in the last 24 h" in text
    assert "(MISSED objective 1ms)" in text
    assert "/api/health did not answer" in text

    code, text = _status(env, "--json")
    doc = json.loads(text)
    assert code == 1
    assert doc["attention"] == first
    assert [r["key"] for r in doc["reasons"]] == ["run:backup.create", "drill", "alert:health:api"]
    assert doc["backups"]["daily"]["id"] == newest.id  # the failed run proved nothing away
    assert {r["task"] for r in doc["recent_problems"]} == {"backup.create", "restore.drill"}


def test_status_fits_80_columns_with_every_section(env: dict[str, str], history_db: str) -> None:
    assert run_cli("run", "backup.create", "-p", "tier=daily", env=env).returncode == 0
    run_cli("run", "db.stats", env=env | {"MAINT_STATS_COUNTS": '{"x": "SELECT nope"}'})
    _sample(history_db, "/a/very/long/backup/root/" + "x" * 80, 512 * 1024**2, 97.0)
    now = datetime.now(UTC)
    window = store.open_window_run(
        history_db,
        store.WindowStart(
            "weekly", now.date(), Trigger.CLI, now, now + timedelta(hours=4), ["api"]
        ),
    )
    res = run_cli("status", env=env | {"COLUMNS": "80"})
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert lines[0].startswith("ATTENTION: backups disk 512.0 MiB free; db.stats failed"), lines[0]
    assert [ln for ln in lines if len(ln) > 80] == []
    assert any(ln.startswith(f"window running now: weekly (window run {window})") for ln in lines)
    doc = json.loads(run_cli("status", "--json", env=env).stdout)
    assert [w["id"] for w in doc["windows_running"]] == [window]


def test_a_history_that_does_not_answer_is_an_error_never_ok(env: dict[str, str]) -> None:
    gone = env["MAINT_HISTORY_DSN"].rsplit("/", 1)[0] + "/maint_test_no_such_history"
    res = run_cli("status", env=env | {"MAINT_HISTORY_DSN": gone})
    assert res.returncode == 1
    assert res.stdout == "" and "job-history database unavailable" in res.stderr
    assert "OK" not in res.stdout + res.stderr
