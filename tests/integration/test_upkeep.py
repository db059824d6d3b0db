"""Upkeep on a real database in use: the pre-check, vacuum, reindex and optimize.

Each test gets its own copy (CREATE DATABASE ... TEMPLATE) of a small bloated scheduler
database: ``assignments`` whose rows were all updated twice and vacuumed (half-empty
pages in the heap and the indexes), ``blocks`` left clean, autovacuum off on both so the
bloat stays until the test's upkeep removes it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from maintenance import catalog, pg, runner
from maintenance.config import Settings
from maintenance.results import RunStatus, Trigger
from tests.conftest import PG_SERVER, TAG, _dsn, history_rows

pytestmark = pytest.mark.integration

TEMPLATE = f"maint_test_{TAG}_upkeep_tpl"
DB = f"maint_test_{TAG}_upkeep"
UPKEEP = ("db.vacuum_analyze", "db.reindex", "db.optimize")

SCHEMA = """
CREATE TABLE blocks (id int PRIMARY KEY, name text NOT NULL) WITH (autovacuum_enabled = false);
CREATE TABLE assignments (
    id serial PRIMARY KEY,
    person_id int NOT NULL,
    block_id int NOT NULL REFERENCES blocks (id),
    role text NOT NULL,
    note text
) WITH (autovacuum_enabled = false);
CREATE INDEX assignments_person ON assignments (person_id);
INSERT INTO blocks SELECT g, 'block ' || g FROM generate_series(1, 13) g;
INSERT INTO assignments (person_id, block_id, role, note)
SELECT g, 1 + g % 13, 'resident', 'note ' || g FROM generate_series(1, 40000) g;
"""


@pytest.fixture(scope="module")
def template(services: None) -> Iterator[str]:
    pg.create_database(PG_SERVER, TEMPLATE, if_missing=False)
    with psycopg.connect(_dsn(TEMPLATE, password=False), autocommit=True) as conn:
        conn.execute(SCHEMA)
        for _ in range(2):
            conn.execute("UPDATE assignments SET person_id = person_id + 100000")
            conn.execute("VACUUM assignments")
        conn.execute("ANALYZE")
    yield TEMPLATE
    pg.drop_database(PG_SERVER, TEMPLATE)


@pytest.fixture
def db(template: str) -> Iterator[str]:
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DB}" TEMPLATE "{template}"')
    yield _dsn(DB)
    pg.drop_database(PG_SERVER, DB)


def tuned(settings: Settings, dsn: str, **over: Any) -> Settings:
    """The session's settings aimed at ``dsn``, with thresholds a test can reach."""
    values = {
        "target_dsn": dsn,
        "upkeep_idle_in_transaction_s": 0.5,
        "upkeep_lock_hold_s": 0.5,
        "upkeep_lock_wait_s": 0.5,
        "upkeep_reindex_min_bytes": 64 << 10,
        "upkeep_optimize_min_bytes": 64 << 10,
        "upkeep_pg_repack": "",
    }
    return Settings.model_validate(settings.model_dump() | values | over)


def run(s: Settings, task: str, **params: Any) -> runner.Outcome:
    return runner.execute(catalog.get(task), params, settings=s, trigger=Trigger.CLI)


PARAMS = {"db.optimize": {"force_reason": "test of the pre-check"}}


@contextlib.contextmanager
def holding(dsn: str, *statements: str, isolation: str | None = None) -> Iterator[int]:
    """A session that ran ``statements`` in a transaction left open; yields its pid."""
    conn = psycopg.connect(dsn, application_name="scheduler-api")
    if isolation:
        conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
    for statement in statements:
        conn.execute(statement)
    try:
        yield conn.info.backend_pid
    finally:
        conn.rollback()
        conn.close()


def relsize(dsn: str, name: str) -> int:
    with psycopg.connect(dsn) as conn:
        (size,) = conn.execute("SELECT pg_relation_size(%s::regclass)", (name,)).fetchone()  # type: ignore[misc]
    return int(size)


def test_every_upkeep_task_skips_while_a_session_holds_a_lock_then_runs(
    settings: Settings, db: str, clean_history: str
) -> None:
    s = tuned(settings, db)
    with holding(db, "LOCK TABLE assignments IN SHARE MODE", "SELECT 'alice' FROM blocks") as pid:
        time.sleep(0.8)
        for task in UPKEEP:
            out = run(s, task, **PARAMS.get(task, {}))
            assert out.status is RunStatus.SKIPPED, (task, out.summary)
            assert f"pid {pid}" in out.summary and "scheduler-api" in out.summary, out.summary
            assert "public.assignments (ShareLock)" in out.summary
            assert "alice" not in out.summary  # literals masked
    rows = history_rows("task = ANY(%s)", (list(UPKEEP),))
    assert [r["status"] for r in rows] == ["skipped"] * 3
    for r in rows:
        (found,) = r["result"]["figures"]["blocking_sessions"]  # type: ignore[index]
        assert found["pid"] == pid and found["application"] == "scheduler-api"
        assert found["state"] == "idle in transaction" and found["query"].endswith("FROM blocks")
    for task in UPKEEP:  # released: the same tasks run
        out = run(s, task, **PARAMS.get(task, {}))
        assert out.status is RunStatus.SUCCEEDED, (task, out.summary)


def test_a_session_idle_in_a_transaction_blocks_upkeep(
    settings: Settings, db: str, clean_history: str
) -> None:
    s = tuned(settings, db)
    with holding(db, "SELECT count(*) FROM blocks") as pid:
        time.sleep(0.8)
        out = run(s, "db.vacuum_analyze")
        assert out.status is RunStatus.SKIPPED
        assert f"pid {pid}" in out.summary and "idle in transaction for" in out.summary
        # below the thresholds the same session is no obstacle
        out = run(tuned(settings, db, upkeep_idle_in_transaction_s=3600), "db.vacuum_analyze")
        assert out.status is RunStatus.SUCCEEDED, out.summary


def _dead(dsn: str, table: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = %s", (table,)
        ).fetchone()
    return int(row[0]) if row else 0


def test_vacuum_reports_dead_tuples_per_table_and_names_the_locked_one(
    settings: Settings, db: str, clean_history: str
) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("UPDATE assignments SET role = 'chief' WHERE id % 3 = 0")
        conn.execute("UPDATE blocks SET name = name || '!'")
    deadline = time.monotonic() + 10
    while _dead(db, "assignments") == 0 and time.monotonic() < deadline:
        time.sleep(0.2)  # the updating backend flushes its statistics within a second
    s = tuned(settings, db, upkeep_lock_hold_s=3600)
    with holding(db, "LOCK TABLE blocks IN SHARE UPDATE EXCLUSIVE MODE"):
        out = run(s, "db.vacuum_analyze")
    assert out.status is RunStatus.SUCCEEDED, out.summary
    f = out.result["figures"]  # type: ignore[index]
    rows = {r["table"]: r for r in f["tables"]}
    assert rows["public.blocks"]["status"] == "skipped"
    assert "lock not available" in rows["public.blocks"]["why"]
    a = rows["public.assignments"]
    assert a["status"] == "vacuumed" and a["dead_before"] > 10_000 and a["dead_after"] == 0
    assert a["seconds"] > 0
    assert f["skipped"] == ["public.blocks"]
    check = next(
        c for c in out.result["checks"] if c["name"] == "every table vacuumed and analyzed"
    )  # type: ignore[index]
    assert check["status"] == "warn" and "public.blocks" in check["observed"]
    assert "skipped public.blocks" in out.summary


@contextlib.contextmanager
def writing(dsn: str) -> Iterator[list[float]]:
    """Another client inserting every 10 ms; yields its statements' latencies (s)."""
    latencies: list[float] = []
    stop = threading.Event()

    def writer() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not stop.is_set():
                t0 = time.monotonic()
                conn.execute(
                    "INSERT INTO assignments (person_id, block_id, role) VALUES (1, 1, 'w')"
                )
                latencies.append(time.monotonic() - t0)
                time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.3)
        yield latencies
    finally:
        stop.set()
        thread.join()


def test_writers_never_wait_longer_than_the_lock_timeout(
    settings: Settings, db: str, clean_history: str
) -> None:
    """VACUUM FULL needs ACCESS EXCLUSIVE; a reader's open transaction makes it wait, and
    every writer that comes after queues behind it: for lock_timeout at most."""
    s = tuned(
        settings,
        db,
        upkeep_idle_in_transaction_s=3600,
        upkeep_lock_timeout_ms={"rebuild": 300},
        upkeep_optimize_bloat_ratio=0.2,
    )
    with holding(db, "SELECT count(*) FROM assignments"), writing(db) as latencies:
        out = run(s, "db.optimize", force_reason="test: lock timeout")
    table = next(r for r in out.result["figures"]["tables"] if r["table"] == "public.assignments")  # type: ignore[index]
    assert table["status"] == "failed" and "LockTimeout" in table["why"], table
    assert len(latencies) > 10
    assert max(latencies) < 0.3 + 0.4, f"a writer waited {max(latencies):.3f} s"
    assert max(latencies) > 0.1  # it did queue behind the rebuild's lock request


def test_writers_are_not_held_up_by_vacuum_or_a_reindex_that_waits(
    settings: Settings, db: str, clean_history: str
) -> None:
    """A reader's snapshot makes REINDEX CONCURRENTLY wait (until its lock timeout); the
    writers go on meanwhile, as they do during the vacuum."""
    s = tuned(
        settings, db, upkeep_idle_in_transaction_s=3600, upkeep_lock_timeout_ms={"reindex": 500}
    )
    with (
        holding(
            db, "SELECT count(*) FROM assignments WHERE person_id = 5", isolation="REPEATABLE READ"
        ),
        writing(db) as latencies,
    ):
        vacuumed = run(s, "db.vacuum_analyze")
        reindexed = run(s, "db.reindex")
    assert vacuumed.status is RunStatus.SUCCEEDED, vacuumed.summary
    failed = [r for r in reindexed.result["figures"]["indexes"] if r["status"] == "failed"]  # type: ignore[index]
    assert failed, reindexed.summary  # it did wait for the reader, and gave up
    assert len(latencies) > 10
    assert max(latencies) < 0.5 + 0.4, f"a writer waited {max(latencies):.3f} s"


def test_a_failed_concurrent_reindex_leaves_an_invalid_index_the_next_run_drops(
    settings: Settings, db: str, clean_history: str
) -> None:
    before = relsize(db, "assignments_person")
    # a REINDEX CONCURRENTLY that waits for an old snapshot and is cancelled leaves _ccnew
    with (
        holding(db, "SELECT count(*) FROM blocks", isolation="REPEATABLE READ"),
        psycopg.connect(db, autocommit=True) as conn,
    ):
        conn.execute("SET statement_timeout = 1000")
        with pytest.raises(psycopg.errors.QueryCanceled):
            conn.execute("REINDEX INDEX CONCURRENTLY assignments_person")
    with psycopg.connect(db) as conn:
        invalid = conn.execute(
            "SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
            "WHERE NOT x.indisvalid"
        ).fetchall()
    assert invalid == [("assignments_person_ccnew",)]

    out = run(tuned(settings, db), "db.reindex")
    assert out.status is RunStatus.SUCCEEDED, out.summary
    f = out.result["figures"]  # type: ignore[index]
    (left,) = f["leftovers"]
    assert left["index"] == "public.assignments_person_ccnew" and left["status"] == "dropped"
    rebuilt = {r["index"]: r for r in f["indexes"]}
    person = rebuilt["public.assignments_person"]
    assert person["status"] == "rebuilt" and person["bytes_after"] < 0.7 * before
    assert f["reclaimed_bytes"] >= person["bytes_before"] - person["bytes_after"] > 0
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
    assert "dropped 1 leftover(s)" in out.summary and "reclaimed" in out.summary
    # nothing is bloated any more: a second run rebuilds nothing
    again = run(tuned(settings, db), "db.reindex")
    assert again.result["figures"]["indexes"] == []  # type: ignore[index]


def test_our_own_failed_reindex_is_reported_and_cleaned_up_by_a_later_run(
    settings: Settings, db: str, clean_history: str
) -> None:
    s = tuned(
        settings,
        db,
        upkeep_idle_in_transaction_s=3600,
        upkeep_lock_timeout_ms={"reindex": 500, "drop_index": 200},
    )
    with holding(db, "SELECT count(*) FROM blocks", isolation="REPEATABLE READ"):
        out = run(s, "db.reindex")
    assert out.status is RunStatus.SUCCEEDED, out.summary  # failures of one index are warnings
    failed = [r for r in out.result["figures"]["indexes"] if r["status"] == "failed"]  # type: ignore[index]
    assert failed and all("LockTimeout" in r["why"] for r in failed), out.result
    assert "failed" in out.summary
    later = run(tuned(settings, db), "db.reindex")
    with psycopg.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)
    statuses = {r["index"]: r["status"] for r in later.result["figures"]["indexes"]}  # type: ignore[index]
    assert statuses.get("public.assignments_person") == "rebuilt"


def test_optimize_is_refused_outside_a_window_and_changes_nothing(
    settings: Settings, db: str, clean_history: str
) -> None:
    size = relsize(db, "assignments")
    out = run(tuned(settings, db), "db.optimize")
    assert out.status is RunStatus.FAILED and out.error_type == "ParamError"
    assert "force_reason" in (out.error_message or "")
    assert relsize(db, "assignments") == size
    dry = run(tuned(settings, db), "db.optimize", dry_run=True)
    assert dry.status is RunStatus.SUCCEEDED
    assert [r["table"] for r in dry.result["figures"]["tables"]] == ["public.assignments"]  # type: ignore[index]
    assert relsize(db, "assignments") == size


def test_optimize_with_vacuum_full_reclaims_and_reports_the_lock(
    settings: Settings, db: str, clean_history: str
) -> None:
    size = relsize(db, "assignments")
    out = run(tuned(settings, db), "db.optimize", force_reason="monthly window rehearsal")
    assert out.status is RunStatus.SUCCEEDED, out.summary
    f = out.result["figures"]  # type: ignore[index]
    assert f["method"] == "vacuum_full" and f["authority"].startswith("forced outside a window")
    (t,) = f["tables"]
    assert t["table"] == "public.assignments" and t["status"] == "rebuilt"
    assert t["exclusive_lock_s"] > 0 and f["longest_exclusive_lock_s"] == t["exclusive_lock_s"]
    assert relsize(db, "assignments") < 0.6 * size
    assert f["reclaimed_bytes"] > 0.3 * size
    assert "VACUUM FULL" in out.summary and "longest table lock" in out.summary


def test_optimize_uses_pg_repack_online_when_it_is_installed(
    settings: Settings, db: str, clean_history: str
) -> None:
    if shutil.which("pg_repack") is None:
        if os.environ.get("CI"):
            pytest.fail("pg_repack is missing: scripts/ensure-services installs it")
        pytest.skip("pg_repack is not installed (scripts/ensure-services installs it)")
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_repack")
        # a table pg_repack cannot rewrite (no primary key): it warns and exits 0
        conn.execute(
            "CREATE TABLE notes_log WITH (autovacuum_enabled = false) AS SELECT * FROM assignments"
        )
        conn.execute("DELETE FROM notes_log WHERE id % 2 = 0")
        conn.execute("VACUUM ANALYZE notes_log")
    size = relsize(db, "assignments")
    log_size = relsize(db, "notes_log")
    out = run(
        tuned(settings, db, upkeep_pg_repack="pg_repack"), "db.optimize", force_reason="repack"
    )
    assert out.status is RunStatus.SUCCEEDED, out.summary
    f = out.result["figures"]  # type: ignore[index]
    assert f["method"] == "pg_repack", f
    tables = {t["table"]: t for t in f["tables"]}
    t = tables["public.assignments"]
    assert t["status"] == "rebuilt" and t["method"] == "pg_repack" and "exclusive_lock_s" not in t
    assert relsize(db, "assignments") < 0.6 * size
    log = tables["public.notes_log"]
    assert log["status"] == "rebuilt" and log["method"] == "vacuum_full", log
    assert log["why_not_repack"] and log["exclusive_lock_s"] > 0
    assert relsize(db, "notes_log") < 0.6 * log_size
    assert "pg_repack (online)" in out.summary
    assert "VACUUM FULL for public.notes_log (pg_repack could not)" in out.summary


def test_backup_create_runs_the_same_pre_check_as_a_warning(
    settings: Settings, db: str, clean_history: str, tmp_path: Any
) -> None:
    s = tuned(settings, db, backup_root=tmp_path / "backups")
    with holding(db, "LOCK TABLE blocks IN SHARE MODE") as pid:
        time.sleep(0.8)
        out = run(s, "backup.create", tier="daily")
    checks = {c["name"]: c for c in out.result["checks"]}  # type: ignore[index]
    # a dump only reads: it goes on (this bloated copy is small for its size on disk, so
    # the size floor may fail; that is not what this test is about)
    assert checks["backup file exists"]["status"] == "pass"
    check = checks["no blocking sessions"]
    assert check["status"] == "warn"
    assert f"pid {pid}" in check["observed"] and "public.blocks (ShareLock)" in check["observed"]
    clean = run(s, "backup.create", tier="daily")
    check = next(c for c in clean.result["checks"] if c["name"] == "no blocking sessions")  # type: ignore[index]
    assert check["status"] == "pass" and check["observed"] == "none"


def test_pg_repack_that_gives_up_on_a_lock_leaves_the_table_and_says_so(
    settings: Settings, db: str, clean_history: str
) -> None:
    """--no-kill-backend: pg_repack waits --wait-timeout for the application's lock, then
    skips the table and exits 0; it is reported failed, never rebuilt by VACUUM FULL."""
    if shutil.which("pg_repack") is None:
        if os.environ.get("CI"):
            pytest.fail("pg_repack is missing: scripts/ensure-services installs it")
        pytest.skip("pg_repack is not installed (scripts/ensure-services installs it)")
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_repack")
    size = relsize(db, "assignments")
    s = tuned(settings, db, upkeep_pg_repack="pg_repack", upkeep_idle_in_transaction_s=3600)
    with holding(db, "SELECT count(*) FROM assignments"):
        out = run(s, "db.optimize", force_reason="repack against a held lock")
    (t,) = out.result["figures"]["tables"]  # type: ignore[index]
    assert t["status"] == "failed" and t["method"] == "pg_repack", t
    assert "timeout" in t["why"] and "exclusive_lock_s" not in t
    assert relsize(db, "assignments") == size
    assert out.status is RunStatus.SUCCEEDED and "failed public.assignments" in out.summary
