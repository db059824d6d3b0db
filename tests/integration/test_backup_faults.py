"""Faults from the issue, each against the real thing: PostgreSQL stopped, a wrong
password, the worker killed mid-dump, a full disk."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from maintenance import catalog, locks, pg, runner
from maintenance.backup import inventory
from maintenance.config import Settings
from maintenance.fs import temp
from maintenance.results import RunStatus, Trigger
from tests.conftest import LEAK_CANARY, PG_SERVER, TAG, Worker, history_rows, start_worker, wait_for

pytestmark = pytest.mark.integration

SMALL = {"daily": 1000, "weekly": 1000, "monthly": 1000}
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    """initdb and the server refuse to run as root: run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="module")
def password_pg() -> Iterator[dict[str, object]]:
    """A private PostgreSQL 15 cluster that really checks passwords (scram-sha-256)."""
    # not under pytest's tmp root: that is 0700 root's, and the server runs as postgres
    base = Path(tempfile.mkdtemp(prefix="maint-pgcluster-"))
    data, pwfile = base / "data", base / "pw"
    password = f"right-{secrets.token_hex(6)}"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(pwfile, "postgres")
    subprocess.run(
        _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "scram-sha-256",
                f"--pwfile={pwfile}",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = _free_port()
    ctl = [str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log")]
    start = [*ctl, "-o", f"-p {port} -c listen_addresses=127.0.0.1 -k {base} -c fsync=off", "start"]
    subprocess.run(_as_postgres(start), check=True, capture_output=True)
    dsn = f"postgresql://postgres:{password}@127.0.0.1:{port}"
    with psycopg.connect(f"{dsn}/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE residency_scheduler")
    with psycopg.connect(f"{dsn}/residency_scheduler", autocommit=True) as conn:
        conn.execute("CREATE TABLE persons (id int primary key, role text)")
        conn.execute("INSERT INTO persons SELECT g, 'RESIDENT' FROM generate_series(1, 500) g")
    try:
        yield {"dsn": dsn, "port": port, "ctl": ctl, "start": start}
    finally:
        subprocess.run(_as_postgres([*ctl, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _settings(settings: Settings, tmp_path: Path, **extra: object) -> Settings:
    return Settings.model_validate(
        settings.model_dump()
        | {"backup_root": tmp_path / "backups", "backup_min_bytes": SMALL}
        | extra
    )


def _lock_sessions(settings: Settings) -> list[tuple[str]]:
    """Lock sessions open on this test session's job-history database."""
    dsn = settings.history_dsn.get_secret_value()
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(
            "SELECT application_name FROM pg_stat_activity "
            "WHERE datname = current_database() AND application_name LIKE %s",
            (locks.APP_PREFIX + "%",),
        ).fetchall()


def _files(root: Path) -> list[str]:
    return (
        sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
        if root.exists()
        else []
    )


def test_a_wrong_password_fails_clearly_and_leaves_no_file(
    password_pg: dict[str, object], settings: Settings, tmp_path: Path, clean_history: str
) -> None:
    base = str(password_pg["dsn"]).rsplit(":", 1)[0]  # drop the port
    wrong = (
        f"postgresql://postgres:{LEAK_CANARY}@127.0.0.1:{password_pg['port']}/residency_scheduler"
    )
    assert base
    s = _settings(
        settings,
        tmp_path,
        target_dsn=wrong,
        stats_counts={"persons": "SELECT count(*) FROM persons"},
    )
    out = runner.execute(
        catalog.get("backup.create"), {"tier": "daily"}, settings=s, trigger=Trigger.CLI
    )
    assert out.status is RunStatus.FAILED
    assert (
        out.error_type == "ServiceRefused" and not out.transient
    )  # a retry will not fix a password
    assert "password authentication failed" in (out.error_message or "")
    assert LEAK_CANARY not in str(history_rows())
    assert _files(s.backup_root) == []


def test_the_right_password_works_through_the_environment_only(
    password_pg: dict[str, object], settings: Settings, tmp_path: Path, clean_history: str
) -> None:
    """pg_dump gets the password from PGPASSWORD: the backup works, and no argv has it."""
    s = _settings(
        settings,
        tmp_path,
        target_dsn=f"{password_pg['dsn']}/residency_scheduler",
        stats_counts={"persons": "SELECT count(*) FROM persons"},
        backup_expected_tables=["persons"],
    )
    out = runner.execute(
        catalog.get("backup.create"),
        {"tier": "daily", "verify": "restore"},
        settings=s,
        trigger=Trigger.CLI,
    )
    assert out.status is RunStatus.SUCCEEDED, out.error_message
    assert out.result["figures"]["counts"] == {"persons": 500}  # type: ignore[index]


def test_postgresql_stopped_fails_as_transient_and_leaves_no_file(
    password_pg: dict[str, object], settings: Settings, tmp_path: Path, clean_history: str
) -> None:
    dead = (
        f"postgresql://postgres:x@127.0.0.1:{_free_port()}/residency_scheduler"  # nothing listens
    )
    s = _settings(settings, tmp_path, target_dsn=dead)
    out = runner.execute(
        catalog.get("backup.create"), {"tier": "daily"}, settings=s, trigger=Trigger.CLI
    )
    assert (
        out.status is RunStatus.FAILED and out.error_type == "ServiceUnavailable" and out.transient
    )
    assert "cannot connect to database 'residency_scheduler'" in (out.error_message or "")
    assert _files(s.backup_root) == []


def test_a_dump_whose_server_goes_away_fails_as_transient_and_leaves_no_file(
    password_pg: dict[str, object], settings: Settings, tmp_path: Path
) -> None:
    """pg_dump loses its server mid-dump (stopped while pg_dump waits for a lock): a new
    connection does not get through either, so a retry may succeed."""
    import threading

    from maintenance import pgtools
    from maintenance.errors import ServiceUnavailable
    from maintenance.pgarchive import dump

    dsn = f"{password_pg['dsn']}/residency_scheduler"
    temp = tmp_path / "x.dump.zst"
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            dump.dump_to(
                temp,
                pg_dump=pgtools.find("pg_dump", settings, 15),
                dsn=dsn,
                snapshot=None,
                level=1,
                threads=0,
            )
        except BaseException as exc:  # noqa: BLE001  (looked at below)
            outcome["error"] = exc

    blocker = psycopg.connect(dsn)
    try:
        blocker.execute("LOCK TABLE persons IN ACCESS EXCLUSIVE MODE")
        thread = threading.Thread(target=run)
        thread.start()

        def waiting() -> bool:
            with psycopg.connect(dsn, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'"
                ).fetchone()
            return bool(row and row[0])

        wait_for(waiting, timeout=30, what="pg_dump to wait for the lock")
        ctl = list(password_pg["ctl"])  # type: ignore[call-overload]
        subprocess.run(_as_postgres([*ctl, "-m", "immediate", "stop"]), check=True)
        thread.join(timeout=60)
    finally:
        blocker.close()
        subprocess.run(_as_postgres(list(password_pg["start"])), check=True, capture_output=True)  # type: ignore[call-overload]
    assert not thread.is_alive()
    error = outcome.get("error")
    assert isinstance(error, ServiceUnavailable) and error.transient, repr(error)
    assert "pg_dump lost the database" in str(error)
    assert not temp.exists()


def test_worker_killed_mid_dump_leaves_no_final_file_and_the_next_run_succeeds(
    maint_env: dict[str, str],
    settings: Settings,
    target_db: str,
    tmp_path: Path,
    clean_history: str,
) -> None:
    from tasks.app import app

    root = tmp_path / "backups"
    env = maint_env | {
        "MAINT_BACKUP_ROOT": str(root),
        "MAINT_BACKUP_MIN_BYTES": json.dumps(SMALL),
        "MAINT_QUEUE": f"{maint_env['MAINT_QUEUE']}-{secrets.token_hex(3)}",
    }
    # Hold a lock that pg_dump must wait for: the dump is then reliably "in the middle".
    blocker = psycopg.connect(target_db)
    blocker.execute("LOCK TABLE swaps IN ACCESS EXCLUSIVE MODE")
    worker: Worker = start_worker(env, tmp_path / "w.log", concurrency=1)
    try:
        app.send_task("backup.create", kwargs={"tier": "daily"}, queue=env["MAINT_QUEUE"])
        folder = root / "daily"
        wait_for(
            lambda: folder.exists() and any(temp.is_temp(p) for p in folder.iterdir()),
            timeout=60,
            what="the dump to start writing",
        )
        worker.kill9()
    finally:
        worker.kill9()
        blocker.close()
    inv = inventory.scan(root)
    assert inv.backups == []  # nothing under a final name, no manifest
    assert len(inv.temp_files) <= 1  # at most the hidden temp file, for retention to remove
    # The server ends the killed worker's lock session a moment later, not at once: wait
    # for that here rather than race it (the runner itself waits a bounded time for a
    # dead local holder, tests/integration/test_locks.py).
    wait_for(lambda: not _lock_sessions(settings), timeout=30, what="the dead lock session to end")
    s = _settings(settings, tmp_path)
    out = runner.execute(
        catalog.get("backup.create"), {"tier": "daily"}, settings=s, trigger=Trigger.CLI
    )
    assert out.status is RunStatus.SUCCEEDED, out.error_message
    assert [b.verified for b in inventory.scan(root).backups] == [True]


DISK_FULL_SCRIPT = textwrap.dedent(
    """
    import json, os, shutil, subprocess, sys
    root, old_src, size = sys.argv[1], sys.argv[2], sys.argv[3]
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", root], check=True)
    os.makedirs(os.path.join(root, "daily"), mode=0o700)
    for name in os.listdir(old_src):
        shutil.copy2(os.path.join(old_src, name), os.path.join(root, "daily", name))
    before = {n: open(os.path.join(root, "daily", n), "rb").read() for n in os.listdir(os.path.join(root, "daily"))}
    from maintenance import catalog, runner
    from maintenance.config import load_settings
    from maintenance.results import Trigger
    s = load_settings(backup_root=root, backup_min_free_bytes=0)
    out = runner.execute(catalog.get("backup.create"), {"tier": "daily"}, settings=s, trigger=Trigger.CLI)
    after = {n: open(os.path.join(root, "daily", n), "rb").read() for n in os.listdir(os.path.join(root, "daily"))}
    verify = runner.execute(catalog.get("backup.verify"), {"backup": "latest", "level": "full"}, settings=s, trigger=Trigger.CLI)
    print(json.dumps({
        "status": out.status.value, "error_type": out.error_type, "error": out.error_message,
        "old_intact": before == {k: v for k, v in after.items() if k in before},
        "new_files": sorted(set(after) - set(before)),
        "old_verify": verify.status.value,
    }))
    """
)


def test_disk_full_fails_cleanly_and_older_backups_stay_intact(
    maint_env: dict[str, str], settings: Settings, tmp_path: Path, clean_history: str
) -> None:
    """The backup root is a tmpfs with room for the old backup but not the new one
    (mounted in a private user+mount namespace: no root needed, nothing else touched)."""
    # an older backup of a tiny database: small enough that "twice the last" passes
    tiny_db = f"maint_test_{TAG}_tiny"
    pg.create_database(PG_SERVER, tiny_db, if_missing=True)
    try:
        with psycopg.connect(pg.with_dbname(PG_SERVER, tiny_db), autocommit=True) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS t (id int)")
        tiny = Settings.model_validate(
            settings.model_dump()
            | {
                "backup_root": tmp_path / "old",
                "backup_min_bytes": {"daily": 1, "weekly": 1, "monthly": 1},
                "target_dsn": pg.with_dbname(PG_SERVER, tiny_db),
                "stats_counts": {"x": "SELECT 1"},
                "backup_expected_tables": [],
            }
        )
        out = runner.execute(
            catalog.get("backup.create"), {"tier": "daily"}, settings=tiny, trigger=Trigger.CLI
        )
    finally:
        pg.drop_database(PG_SERVER, tiny_db)
    assert out.status is RunStatus.SUCCEEDED, out.error_message
    (old,) = inventory.scan(tmp_path / "old").backups
    size = old.size_bytes + old.manifest_path.stat().st_size + 3 * old.size_bytes + 64 * 1024
    mount = tmp_path / "full"
    mount.mkdir()
    res = subprocess.run(
        [
            "unshare",
            "--user",
            "--map-root-user",
            "--mount",
            sys.executable,
            "-c",
            DISK_FULL_SCRIPT,
            str(mount),
            str(old.path.parent),
            str(size),
        ],
        env={**os.environ, **maint_env, "MAINT_BACKUP_MIN_BYTES": json.dumps(SMALL)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert report["status"] == "failed" and report["error_type"] == "DiskFull", report
    assert "no space left" in report["error"]
    assert report["old_intact"] and report["new_files"] == []  # no partial file, no temp
    assert report["old_verify"] == "succeeded"


def test_a_dump_that_fails_on_a_live_server_is_permanent_whatever_its_message_says(
    settings: Settings, tmp_path: Path
) -> None:
    """pg_dump's failure is told apart by asking the server, not by reading its stderr:
    here pg_dump gives up waiting for a lock on a table whose name reads like a lost
    connection, and the server is fine: a retry would fail the same way."""
    from maintenance import pgtools
    from maintenance.errors import PermanentError
    from maintenance.pgarchive import dump

    name = f"maint_test_{TAG}_msg"
    pg.create_database(PG_SERVER, name, if_missing=False)
    try:
        dsn = pg.with_dbname(PG_SERVER, name)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute('CREATE TABLE "could not connect to server" (id int)')
            major = conn.info.server_version // 10000
        with psycopg.connect(dsn) as blocker:
            blocker.execute('LOCK TABLE "could not connect to server" IN ACCESS EXCLUSIVE MODE')
            temp = tmp_path / "x.dump.zst"
            with pytest.raises(PermanentError) as caught:
                dump.dump_to(
                    temp,
                    pg_dump=pgtools.find("pg_dump", settings, major),
                    dsn=dsn,
                    snapshot=None,
                    level=1,
                    threads=0,
                    lock_wait_timeout_s=1,
                )
        assert type(caught.value).__name__ == "DumpFailed"
        assert "could not connect to server" in str(caught.value)  # still the message
        assert not temp.exists()
    finally:
        pg.drop_database(PG_SERVER, name)
