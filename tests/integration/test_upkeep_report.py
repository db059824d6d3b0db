"""db.report on a real bloated database, and `maint db report` as a user runs it."""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from maintenance.config import Settings
from maintenance.results import RunStatus
from tests.conftest import run_cli
from tests.integration.test_upkeep import db, holding, run, template, tuned

pytestmark = pytest.mark.integration
__all__ = ["db", "template"]  # fixtures


def _wait_dead(dsn: str) -> None:
    deadline = time.monotonic() + 10
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'assignments'"
            ).fetchone()
            if row and row[0] > 0:
                return
            time.sleep(0.2)


def test_report_names_bloat_dead_tuples_unused_and_duplicate_indexes(
    settings: Settings, db: str, clean_history: str
) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE INDEX assignments_person_again ON assignments (person_id)")
        conn.execute("CREATE INDEX assignments_block ON assignments (block_id) WHERE role = 'x'")
        conn.execute("ANALYZE")  # a copy starts with no statistics of its own
        conn.execute("UPDATE assignments SET note = 'moved' WHERE id % 2 = 0")
        conn.execute("SELECT count(*) FROM blocks WHERE id = 1")
    _wait_dead(db)
    out = run(tuned(settings, db), "db.report")
    assert out.status is RunStatus.SUCCEEDED, out.summary  # warnings only
    checks = {c["name"]: c for c in out.result["checks"]}  # type: ignore[index]
    f = out.result["figures"]  # type: ignore[index]

    assert checks["dead tuples under the threshold"]["status"] == "warn"
    assert "public.assignments" in checks["dead tuples under the threshold"]["observed"]
    row = next(t for t in f["tables"] if t["table"] == "public.assignments")
    assert row["dead"] >= 15_000 and 0.2 < row["dead_ratio"] < 0.5
    assert row["last_analyzed"] and row["last_vacuum"] is None

    assert f["duplicate_indexes"] == [
        ["public.assignments_person", "public.assignments_person_again"]
    ]
    assert checks["no duplicate indexes"]["status"] == "warn"
    unused = {i["index"] for i in f["unused_indexes"]}
    assert {"public.assignments_person", "public.assignments_block"} <= unused
    assert "public.assignments_pkey" not in unused  # a constraint needs it

    pkey = next(b for b in f["index_bloat"] if b["index"] == "assignments_pkey")
    assert pkey["bloat_ratio"] > 0.3 and pkey["reliable"]
    assert checks["bloat under the rebuild thresholds"]["status"] == "warn"

    assert checks["transaction ID age"]["status"] == "pass"
    assert f["xid"]["database_age"] > 0 and f["xid"]["freeze_max_age"] == 200_000_000
    assert f["connections"]["total"] >= 1 and f["connections"]["max_connections"] > 0
    assert 0 < f["cache_hit_ratio"] <= 1
    stm = checks["pg_stat_statements readable"]
    assert stm["status"] == "warn" and "not installed" in stm["observed"]
    assert "shared_preload_libraries" in stm["detail"]


def test_pg_stat_statements_installed_but_not_preloaded_is_said_plainly(
    settings: Settings, db: str, clean_history: str
) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
        preloaded = "pg_stat_statements" in conn.execute("SHOW shared_preload_libraries").fetchone()[0]  # type: ignore[index]
    if preloaded:
        pytest.skip("this server preloads pg_stat_statements")
    out = run(tuned(settings, db), "db.report")
    stm = out.result["figures"]["statements"]  # type: ignore[index]
    assert "shared_preload_libraries" in stm["unavailable"]


def test_report_skips_while_a_session_blocks_it(
    settings: Settings, db: str, clean_history: str
) -> None:
    with holding(db, "LOCK TABLE blocks IN EXCLUSIVE MODE") as pid:
        time.sleep(0.8)
        out = run(tuned(settings, db), "db.report")
    assert out.status is RunStatus.SKIPPED and f"pid {pid}" in out.summary


def test_maint_db_report_prints_tables_and_json(
    maint_env: dict[str, str], db: str, clean_history: str
) -> None:
    env = {**maint_env, "MAINT_TARGET_DSN": db, "COLUMNS": "120"}
    shown = run_cli("db", "report", env=env)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "db.report run" in text and "estimated bloat, largest first" in text
    assert "public.assignments_pkey" in text and "tables, most dead tuples first" in text
    assert "transaction ID age" in text and "pg_stat_statements" in text
    as_json = run_cli("db", "report", "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    row = json.loads(as_json.stdout)
    assert row["task"] == "db.report" and row["status"] == "succeeded"
    assert {"tables", "index_bloat", "xid", "connections"} <= set(row["result"]["figures"])
