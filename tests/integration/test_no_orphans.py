"""A worker killed while a backup's or a verification's child processes run leaves no
``pg_dump``, ``pg_restore`` or ``zstd`` behind (issue 8): whether the pool child that
runs the task is killed (kill -9, the OOM killer) or the whole worker is.

The children are held in the middle: pg_dump waits for a lock this test holds (as in
test_backup_faults.py); the verification's restore waits in its post-data section, in
``pg_restore -j`` workers, on a materialized view whose refresh sleeps in a scratch
database. The worker's processes are killed one by one with SIGKILL (not by process
group: that would kill children which share the worker's group whatever the code does).
Every process of the test is known by its environment: the worker gets a TMPDIR of its
own, which every child inherits.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from maintenance import catalog, pg, runner
from maintenance.config import Settings
from maintenance.results import RunStatus, Trigger
from tests.conftest import PG_SERVER, TAG, Worker, start_worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.worker]

NAMES = {"pg_dump", "pg_restore", "zstd"}
SMALL = {"daily": 1, "weekly": 1, "monthly": 1}

SCHEMA = """
CREATE TABLE t (id int PRIMARY KEY, v text);
INSERT INTO t SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 150000) g;
CREATE FUNCTION slow_in_scratch() RETURNS int LANGUAGE sql AS $$
    SELECT 1 FROM pg_sleep(CASE WHEN current_database() LIKE 'maint\\_scratch\\_%' THEN 300
                                ELSE 0 END) $$;
CREATE MATERIALIZED VIEW slow AS SELECT slow_in_scratch() AS x;
"""


@pytest.fixture(scope="module")
def source(services: None, maint_env: dict[str, str]) -> Iterator[str]:
    """A database whose archive is big enough for the loader's phased path (over 3 MB)
    and whose restore hangs in post-data, in a scratch database only."""
    name = f"maint_test_{TAG}_orphans"
    pg.create_database(PG_SERVER, name, if_missing=False)
    try:
        with psycopg.connect(pg.with_dbname(PG_SERVER, name), autocommit=True) as conn:
            conn.execute(SCHEMA)
        yield pg.with_dbname(maint_env["MAINT_TARGET_DSN"], name)
    finally:
        pg.drop_database(PG_SERVER, name)


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    folder = tmp_path / f"tmp-{secrets.token_hex(4)}"
    folder.mkdir()
    return folder


@pytest.fixture
def worker_env(
    maint_env: dict[str, str], source: str, marker: Path, tmp_path: Path, clean_history: str
) -> dict[str, str]:
    return maint_env | {
        "MAINT_TARGET_DSN": source,
        "MAINT_BACKUP_ROOT": str(tmp_path / "backups"),
        "MAINT_BACKUP_MIN_BYTES": json.dumps(SMALL),
        "MAINT_BACKUP_MIN_FREE_BYTES": "0",
        "MAINT_QUEUE": f"{maint_env['MAINT_QUEUE']}-{secrets.token_hex(3)}",
        "TMPDIR": str(marker),
    }


def ours(marker: Path) -> list[psutil.Process]:
    """Live pg_dump, pg_restore and zstd processes started for this test."""
    found = []
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] not in NAMES:
            continue
        with contextlib.suppress(psutil.Error):
            if proc.status() != psutil.STATUS_ZOMBIE and proc.environ().get("TMPDIR") == str(
                marker
            ):
                found.append(proc)
    return found


def _kill(worker: Worker, child: psutil.Process, what: str) -> None:
    """SIGKILL the pool child that runs ``child``'s task, or every process of the worker."""
    pool = child.parent()
    assert pool is not None and "celery" in " ".join(pool.cmdline()), pool
    if what == "pool child":
        pool.kill()
        return
    main = psutil.Process(worker.proc.pid)
    for proc in [main, *main.children()]:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()


def _assert_none_left(marker: Path, before: list[psutil.Process]) -> None:
    def gone(p: psutil.Process) -> bool:
        try:
            return p.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    wait_for(
        lambda: all(gone(p) for p in before),
        timeout=30,
        what=f"{[(p.pid, p.name()) for p in before if not gone(p)]} to end with the worker",
    )
    # Anything of ours still alive is a new run's child (a lost backup is retried once),
    # with a live pool process as its parent: not an orphan.
    for proc in ours(marker):
        parent = proc.parent()
        assert parent is not None and "celery" in " ".join(parent.cmdline()), proc


@pytest.mark.parametrize("what", ["pool child", "whole worker"])
def test_a_worker_killed_mid_dump_leaves_no_pg_dump(
    what: str, worker_env: dict[str, str], source: str, marker: Path, tmp_path: Path
) -> None:
    from tasks.app import app

    blocker = psycopg.connect(source)
    blocker.execute("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")  # pg_dump waits for it
    worker = start_worker(worker_env, tmp_path / "w.log", concurrency=1)
    try:
        app.send_task(
            "backup.create",
            kwargs={"tier": "daily", "verify": "none"},
            queue=worker_env["MAINT_QUEUE"],
        )
        (dump,) = wait_for(lambda: ours(marker), timeout=60, what="pg_dump to start")
        assert dump.name() == "pg_dump"
        before = ours(marker)
        _kill(worker, dump, what)
        _assert_none_left(marker, before)
    finally:
        worker.kill9()
        blocker.close()


@pytest.mark.parametrize("what", ["pool child", "whole worker"])
def test_a_worker_killed_mid_verification_leaves_no_pg_restore(
    what: str,
    worker_env: dict[str, str],
    source: str,
    marker: Path,
    settings: Settings,
    tmp_path: Path,
) -> None:
    from tasks.app import app

    s = Settings.model_validate(
        settings.model_dump()
        | {
            "target_dsn": source,
            "backup_root": tmp_path / "backups",
            "backup_min_bytes": SMALL,
            "backup_min_free_bytes": 0,
        }
    )
    made = runner.execute(
        catalog.get("backup.create"),
        {"tier": "daily", "verify": "none"},
        settings=s,
        trigger=Trigger.CLI,
    )
    assert made.status is RunStatus.SUCCEEDED, made.error_message
    assert made.result["figures"]["size_bytes"] > 3 << 20  # type: ignore[index]
    worker = start_worker(worker_env, tmp_path / "w.log", concurrency=1)
    scratch: str | None = None
    try:
        app.send_task(
            "backup.verify",
            kwargs={"backup": "latest", "level": "restore"},
            queue=worker_env["MAINT_QUEUE"],
        )

        def refreshing() -> str | None:
            """The scratch database, once its materialized view is being refreshed."""
            with psycopg.connect(PG_SERVER) as conn:
                row = conn.execute(
                    "SELECT datname FROM pg_stat_activity WHERE datname LIKE 'maint_scratch_verify_%'"
                    " AND state = 'active' AND query LIKE 'REFRESH MATERIALIZED VIEW%slow%'"
                ).fetchone()
            return row[0] if row else None

        scratch = wait_for(refreshing, timeout=120, what="the restore to reach post-data")
        before = ours(marker)
        restores = [p for p in before if p.name() == "pg_restore"]
        assert restores, [p.name() for p in before]
        leader = next(
            p for p in restores if p.parent() and "celery" in " ".join(p.parent().cmdline())
        )
        assert leader.children(), "pg_restore -j runs the post-data section in workers"
        _kill(worker, leader, what)
        _assert_none_left(marker, before)
        # They were told (SIGTERM) and cancelled their statement: the server is not left
        # sleeping out the refresh for a client that is gone.
        wait_for(lambda: refreshing() is None, timeout=30, what="the refresh to be cancelled")
    finally:
        worker.kill9()
        if scratch is not None:
            pg.drop_database(PG_SERVER, scratch)
