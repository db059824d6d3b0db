"""maint restore and restore.drill against real databases, real pg_dump/pg_restore, real
hook commands, and a small local HTTP server standing in for the scheduler API."""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest

from maintenance import catalog, clock, pg, runner
from maintenance.backup import inventory, manifest
from maintenance.config import Settings
from maintenance.restore import swap
from maintenance.results import RunStatus, Trigger
from tests.conftest import PG_SERVER, TAG, history_rows, run_cli
from tests.integration.test_backup import _corrupt_and_rehash, _flip, table_digests

pytestmark = pytest.mark.integration

LIVE = f"maint_test_{TAG}_live"


class _Health(BaseHTTPRequestHandler):
    healthy = True

    def do_GET(self) -> None:
        ok = self.path == "/api/health" and _Health.healthy
        body = json.dumps({"status": "healthy" if ok else "degraded"}).encode()
        self.send_response(200 if ok else 503)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _databases(prefix: str) -> list[str]:
    with psycopg.connect(PG_SERVER) as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY 1", (prefix + "%",)
            )
        ]


#: Scratch databases that existed before the current test: another test process (the
#: suite runs in two) may be verifying or drilling in one of its own at any moment.
_scratch_before: set[str] = set()


def _scratch_left(settle_s: float = 60) -> list[str]:
    """Scratch databases made since the test began that are still there. Another test
    process's scratch database is dropped by its own run within seconds; a leaked one of
    ours never is: wait until only leaks can remain."""
    deadline = time.monotonic() + settle_s
    while True:
        left = sorted(set(_databases("maint_scratch_")) - _scratch_before)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.5)


@pytest.fixture
def live(settings: Settings) -> Iterator[str]:
    from maintenance.demo.seed import seed

    for name in _databases(LIVE):
        pg.drop_database(PG_SERVER, name)
    _scratch_before.clear()
    _scratch_before.update(_databases("maint_scratch_"))
    seed(PG_SERVER, LIVE, scale=0.02)
    yield pg.with_dbname(PG_SERVER, LIVE)
    for name in _databases(LIVE) + _scratch_left(settle_s=30):
        pg.drop_database(PG_SERVER, name)


HOOK = "import sys, time; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n')"


@pytest.fixture
def env(
    maint_env: dict[str, str], live: str, api: str, tmp_path: Path, clean_history: str
) -> dict[str, str]:
    marker = tmp_path / "hooks.log"
    return maint_env | {
        "MAINT_TARGET_DSN": live,
        "MAINT_BACKUP_ROOT": str(tmp_path / "backups"),
        "MAINT_BACKUP_MIN_BYTES": json.dumps({"daily": 1, "weekly": 1, "monthly": 1}),
        "MAINT_API_URL": api,
        "MAINT_RESTORE_HEALTH_TIMEOUT_S": "3",
        "MAINT_RESTORE_STOP_APP_CMD": json.dumps([sys.executable, "-c", HOOK, str(marker), "stop"]),
        "MAINT_RESTORE_START_APP_CMD": json.dumps(
            [sys.executable, "-c", HOOK, str(marker), "start"]
        ),
    }


def _backup(env: dict[str, str]) -> inventory.Backup:
    res = run_cli("run", "backup.create", "-p", "tier=daily", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    (b,) = inventory.scan(Path(env["MAINT_BACKUP_ROOT"])).backups
    return b


def _damage_live(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM swaps")
        conn.execute("DELETE FROM assignments WHERE id % 2 = 0")
        conn.execute("UPDATE persons SET notes = 'overwritten by mistake'")


def _nothing_changed(before: dict, live: str) -> None:  # type: ignore[type-arg]
    assert table_digests(live) == before
    assert _databases(f"{LIVE}_pre_restore") == []
    assert _scratch_left() == []


def test_restore_brings_back_the_backup_and_keeps_everything_else(
    env: dict[str, str], live: str, tmp_path: Path
) -> None:
    b = _backup(env)
    at_backup = table_digests(live)
    _damage_live(live)
    damaged = table_digests(live)
    assert damaged != at_backup

    res = run_cli("restore", b.id, "--target", LIVE, "--yes", "--json", env=env)
    outcome = json.loads(res.stdout)
    assert res.returncode == 0, outcome
    # the database is the backup's moment again, row for row
    assert table_digests(live) == at_backup
    # the previous state is kept under its _pre_restore_ name
    (aside,) = _databases(f"{LIVE}_pre_restore_")
    assert table_digests(pg.with_dbname(PG_SERVER, aside)) == damaged
    # the forensic dump exists and matches its own record
    forensics = sorted((tmp_path / "backups" / "forensics").iterdir())
    dump_file = next(p for p in forensics if p.name.endswith(".dump.zst"))
    info = json.loads(next(p for p in forensics if p.name.endswith(".json")).read_text())
    assert info["sha256"] == hashlib.sha256(dump_file.read_bytes()).hexdigest()
    assert oct(dump_file.stat().st_mode & 0o777) == "0o600"
    # the application was stopped before and started after
    assert (tmp_path / "hooks.log").read_text().split() == ["stop", "start"]
    # the run and each of its steps are in the history, trigger cli
    rows = history_rows("task = 'restore.run'")
    parent = next(r for r in rows if r["parent_run_id"] is None)
    assert (parent["status"], parent["trigger"]) == ("succeeded", "cli")
    steps = [(r["step"], r["status"]) for r in rows if r["parent_run_id"] == parent["id"]]
    assert steps == [
        (s, "succeeded")
        for s in (
            "verify backup",
            "forensic dump",
            "load",
            "verify restore",
            "stop application",
            "swap",
            "start application",
            "health check",
        )
    ]
    checks = {c["name"]: c["status"] for c in outcome["result"]["checks"]}
    for name in (
        "backup file exists and is readable",
        "current database dumped for forensics",
        "all tables recovered with their rows",
        "foreign keys valid",
        "system placed in maintenance mode",
        "all connections closed and databases swapped",
        "API responds to requests",
        "integrity assignments_duplicate_person_block",
    ):
        assert checks[name] == "pass", name
    assert _scratch_left() == []


def test_a_corrupted_backup_is_refused_with_nothing_changed(
    env: dict[str, str], live: str, tmp_path: Path
) -> None:
    b = _backup(env)
    b.path.write_bytes(bytes(_flip(bytearray(b.path.read_bytes()))))
    before = table_digests(live)
    res = run_cli("restore", b.id, "--yes", "--json", env=env)
    assert res.returncode == 1
    assert "refused" in json.loads(res.stdout)["summary"]
    _nothing_changed(before, live)
    assert not (tmp_path / "backups" / "forensics").exists()  # refused before anything else
    assert not (tmp_path / "hooks.log").exists()


def test_a_failure_in_the_middle_leaves_the_live_database_untouched(
    env: dict[str, str], live: str
) -> None:
    b = _backup(env)
    # damage that predates the checksum: it passes, the load then fails half-way
    _corrupt_and_rehash(b, lambda d: d[: len(d) * 2 // 3])
    _damage_live(live)
    before = table_digests(live)
    res = run_cli("restore", b.id, "--yes", "--json", env=env)
    assert res.returncode == 1
    assert json.loads(res.stdout)["error_type"] == "LoadFailed"
    _nothing_changed(before, live)  # and the half-restored database is dropped


def test_a_target_not_configured_as_restorable_is_refused(env: dict[str, str], live: str) -> None:
    b = _backup(env)
    before = table_digests(live)
    for target, why in (
        (f"maint_test_{TAG}_other", "not configured as restorable"),
        ("maint_scratch_restore_x", "reserved prefix"),
        (f"{LIVE}_pre_restore_20260101_000000", "pre-restore"),
        ("Bad-Name", "not allowed"),
    ):
        res = run_cli("restore", b.id, "--target", target, "--yes", env=env)
        assert res.returncode == 2, target
        assert why in res.stderr, (target, res.stderr)
    _nothing_changed(before, live)


def test_without_confirmation_nothing_is_swapped(env: dict[str, str], live: str) -> None:
    b = _backup(env)
    _damage_live(live)
    before = table_digests(live)
    res = run_cli("restore", b.id, "--json", env=env)  # no --yes, no terminal to ask
    assert res.returncode == 3
    assert "not confirmed" in json.loads(res.stdout)["summary"]
    _nothing_changed(before, live)


def test_a_failing_stop_command_stops_the_restore_and_restarts_the_app(
    env: dict[str, str], live: str, tmp_path: Path
) -> None:
    b = _backup(env)
    _damage_live(live)
    before = table_digests(live)
    failing = env | {
        "MAINT_RESTORE_STOP_APP_CMD": json.dumps([sys.executable, "-c", "raise SystemExit(4)"])
    }
    res = run_cli("restore", b.id, "--yes", "--json", env=failing)
    assert res.returncode == 1
    assert json.loads(res.stdout)["error_type"] == "HookFailed"
    _nothing_changed(before, live)
    assert (tmp_path / "hooks.log").read_text().split() == ["start"]


def test_an_unhealthy_api_after_the_swap_fails_the_run_loudly(
    env: dict[str, str], live: str
) -> None:
    b = _backup(env)
    _Health.healthy = False
    try:
        res = run_cli("restore", b.id, "--yes", "--json", env=env)
    finally:
        _Health.healthy = True
    outcome = json.loads(res.stdout)
    assert res.returncode == 1
    assert {c["name"]: c["status"] for c in outcome["result"]["checks"]}[
        "API responds to requests"
    ] == "fail"
    assert len(_databases(f"{LIVE}_pre_restore_")) == 1  # the swap itself happened


def test_pre_restore_names_fit_and_never_collide() -> None:
    moment = clock.now()
    long_target = "a" * 63
    name = swap.pre_restore_name(long_target, moment)
    assert len(name) <= 63 and swap.is_pre_restore(name)
    assert swap.pre_restore_time(name) == moment.replace(microsecond=0)
    assert swap.pre_restore_name("x", moment) != swap.pre_restore_name(
        "x", moment + timedelta(seconds=1)
    )


# --- drills -------------------------------------------------------------------------------


def _drill(s: Settings, **params: object) -> runner.Outcome:
    return runner.execute(catalog.get("restore.drill"), params, settings=s, trigger=Trigger.BEAT)


def test_a_drill_measures_rto_and_rpo_and_leaves_nothing(
    env: dict[str, str], settings: Settings, live: str
) -> None:
    b = _backup(env)
    s = Settings.model_validate(
        settings.model_dump() | {"target_dsn": live, "backup_root": Path(env["MAINT_BACKUP_ROOT"])}
    )
    out = _drill(s, purpose="monthly")
    assert out.status is RunStatus.SUCCEEDED, out.error_message
    figures = out.result["figures"]  # type: ignore[index]
    assert figures["backup"] == b.id and 0 < figures["rto_s"] < 600 and 0 <= figures["rpo_s"] < 600
    (row,) = history_rows("task = 'restore.drill'")
    assert row["result"]["figures"]["rto_s"] == figures["rto_s"]
    assert row["result"]["figures"]["rpo_s"] == figures["rpo_s"]
    names = {c["name"]: c["status"] for c in row["result"]["checks"]}
    assert names["RTO within objective"] == names["RPO within objective"] == "pass"
    assert names["all tables recovered with their rows"] == "pass"
    drills = manifest.read_document(b.manifest_path)["drills"]
    assert drills[-1]["passed"] is True and drills[-1]["purpose"] == "monthly"
    listed = json.loads(run_cli("backups", "list", "--json", env=env).stdout)
    assert listed[0]["last_drill"]["rto_s"] == figures["rto_s"]
    assert _scratch_left() == []


def test_a_drill_fails_loudly_when_an_objective_is_missed(
    env: dict[str, str], settings: Settings, live: str
) -> None:
    _backup(env)
    s = Settings.model_validate(
        settings.model_dump()
        | {
            "target_dsn": live,
            "backup_root": Path(env["MAINT_BACKUP_ROOT"]),
            "restore_rpo_objective_s": 0.001,
        }
    )
    out = _drill(s)
    assert out.status is RunStatus.FAILED
    assert "RPO within objective" in (out.error_message or "") and "DRILL FAILED" in out.summary


def test_a_drill_without_any_verified_backup_fails(
    settings: Settings, tmp_path: Path, clean_history: str
) -> None:
    s = Settings.model_validate(settings.model_dump() | {"backup_root": tmp_path})
    out = _drill(s)
    assert out.status is RunStatus.FAILED and "no verified backup" in out.summary


def test_retention_reports_old_pre_restore_databases_and_never_drops_them(
    settings: Settings, live: str, tmp_path: Path, clean_history: str
) -> None:
    old = f"{LIVE}_pre_restore_20200101_000000"
    pg.create_database(PG_SERVER, old, if_missing=False)
    s = Settings.model_validate(
        settings.model_dump() | {"target_dsn": live, "backup_root": tmp_path}
    )
    out = runner.execute(
        catalog.get("backup.retention"), {"dry_run": False}, settings=s, trigger=Trigger.CLI
    )
    check = next(c for c in out.result["checks"] if c["name"] == "old pre-restore databases")  # type: ignore[index]
    assert check["status"] == "warn" and old in check["observed"]
    assert _databases(old) == [old]
