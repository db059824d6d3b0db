"""The run record: one row per run, completed on every exit path, never hiding the
task's own outcome, and never left ``running`` by a dead process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine

from maintenance import clock, locks, pg, runner
from maintenance.config import Settings, load_settings
from maintenance.errors import ServiceUnavailable
from maintenance.history import lost, migrate, store
from maintenance.history.models import Base
from maintenance.results import Result, RunStatus, Trigger
from maintenance.taskspec import NoParams, TaskSpec
from tests.conftest import LEAK_CANARY, PG_SERVER, TAG, history_rows, run_cli, wait_for

pytestmark = pytest.mark.integration


def _boom(ctx, params):
    raise ValueError("the disk said no")


def _warns(ctx, params):
    r = Result(summary="one warning")
    r.check("fine", True)
    r.check("space budget", False, observed="91%", expected="< 80%", warn_only=True)
    return r


def _fails(ctx, params):
    r = Result()
    r.check("backup exists", True)
    r.check("size above floor", False, observed=12, expected=">= 10485760")
    return r


BOOM = TaskSpec(name="test.boom", func=_boom, params=NoParams, description="raises")
WARNS = TaskSpec(name="test.warns", func=_warns, params=NoParams, description="warns")
FAILS = TaskSpec(name="test.fails", func=_fails, params=NoParams, description="fails a check")


def test_a_run_is_running_while_it_runs_then_completed(
    settings: Settings, clean_history: str
) -> None:
    from maintenance import catalog

    seen: dict[str, object] = {}

    def watch() -> None:
        row = wait_for(lambda: history_rows("status = 'running'"), timeout=10, what="running row")[
            0
        ]
        seen["first"] = row
        time.sleep(2.2)  # two heartbeats at MAINT_HEARTBEAT_INTERVAL_S=1
        seen["later"] = history_rows("id = %s", (row["id"],))[0]

    t = threading.Thread(target=watch)
    t.start()
    out = runner.execute(
        catalog.get("diag.hold"), {"seconds": "3"}, settings=settings, trigger=Trigger.CLI
    )
    t.join()
    first, later = seen["first"], seen["later"]
    assert first["status"] == "running" and first["finished_at"] is None  # type: ignore[index]
    assert later["heartbeat_at"] > first["heartbeat_at"]  # type: ignore[index,operator]
    (row,) = history_rows()
    assert out.status is RunStatus.SUCCEEDED and row["id"] == out.run_id
    assert row["status"] == "succeeded" and row["trigger"] == "cli" and row["task"] == "diag.hold"
    assert row["params"] == {"seconds": 3.0}  # stored typed and validated, not as typed in
    assert row["pid"] == os.getpid() and row["host"]
    assert 3 <= row["duration_s"] < 10
    assert row["finished_at"] - row["started_at"] >= timedelta(seconds=3)
    assert row["result"]["checks"][0]["status"] == "pass"


def test_an_exception_is_recorded_with_type_and_message(
    settings: Settings, clean_history: str
) -> None:
    out = runner.execute(BOOM, {}, settings=settings, trigger=Trigger.ADHOC)
    assert isinstance(out.exc, ValueError)
    (row,) = history_rows()
    assert (row["status"], row["error_type"], row["error_message"]) == (
        "failed",
        "ValueError",
        "the disk said no",
    )


def test_a_failed_check_fails_the_run_and_says_which(
    settings: Settings, clean_history: str
) -> None:
    out = runner.execute(FAILS, {}, settings=settings, trigger=Trigger.CLI)
    (row,) = history_rows()
    assert out.status is RunStatus.FAILED and row["status"] == "failed"
    assert row["error_type"] == "CheckFailed"
    assert "size above floor" in row["error_message"] and "12" in row["error_message"]
    assert [c["status"] for c in row["result"]["checks"]] == ["pass", "fail"]


def test_a_warning_does_not_fail_the_run(settings: Settings, clean_history: str) -> None:
    runner.execute(WARNS, {}, settings=settings, trigger=Trigger.CLI)
    (row,) = history_rows()
    assert row["status"] == "succeeded" and row["summary"] == "one warning"


def test_history_outage_never_hides_the_tasks_own_exception(settings: Settings) -> None:
    down = Settings.model_validate(
        settings.model_dump()
        | {"history_dsn": SecretStr("postgresql://postgres@127.0.0.1:1/maintenance")}
    )
    out = runner.execute(BOOM, {}, settings=down, trigger=Trigger.CLI)
    assert isinstance(out.exc, ValueError) and str(out.exc) == "the disk said no"
    assert out.status is RunStatus.FAILED and out.error_type == "ValueError"
    assert out.history_error and "unavailable" in out.history_error
    assert out.run_id is None


def test_a_run_the_history_missed_at_start_is_written_whole_at_the_end(
    settings: Settings, clean_history: str
) -> None:
    start = store.RunStart("test.warns", Trigger.BEAT, {"a": 1})
    t0 = clock.now()
    end = store.RunEnd(RunStatus.SUCCEEDED, clock.now(), 0.5, summary="late")
    run_id = store.insert_finished_run(clean_history, start, t0, end)
    (row,) = history_rows()
    assert row["id"] == run_id and row["status"] == "succeeded" and row["trigger"] == "beat"


def test_secret_params_and_messages_are_redacted(settings: Settings, clean_history: str) -> None:
    from maintenance import catalog

    runner.execute(
        catalog.get("db.stats"),
        {"password": "hunter2-x", "note": f"postgresql://u:{LEAK_CANARY}@h/db"},
        settings=settings,
        trigger=Trigger.CLI,
    )
    (row,) = history_rows()
    assert row["params"]["password"] == "***"
    assert LEAK_CANARY not in str(row) and "hunter2-x" not in str(row)


def test_a_second_exclusive_run_is_skipped_with_the_reason(
    settings: Settings, clean_history: str
) -> None:
    from maintenance import catalog

    with locks.try_exclusive(clean_history, "diag.hold") as got:
        assert got
        out = runner.execute(
            catalog.get("diag.hold"), {"seconds": "5"}, settings=settings, trigger=Trigger.CLI
        )
    assert out.status is RunStatus.SKIPPED and out.exit_code == 3
    (row,) = history_rows()
    assert row["status"] == "skipped" and "lock" in row["summary"]
    assert row["duration_s"] < 5  # it did not do the work


def test_the_lock_dies_with_its_holder(history_db: str) -> None:
    code = (
        "import sys, time; from maintenance import locks\n"
        "with locks.try_exclusive(sys.argv[1], 'test-lock') as got:\n"
        "    print(bool(got), flush=True); time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, history_db], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "True"
        with locks.try_exclusive(history_db, "test-lock") as got:
            assert got is None
        proc.kill()  # SIGKILL: no cleanup code runs in the holder
        proc.wait()

        def free() -> bool:
            with locks.try_exclusive(history_db, "test-lock") as got:
                return got is not None

        assert wait_for(free, timeout=10, what="the lock to be released by the server")
    finally:
        proc.kill()


def test_reap_marks_only_stale_running_rows_lost(settings: Settings, clean_history: str) -> None:
    now = clock.now()
    stale = store.insert_run(
        clean_history,
        store.RunStart("diag.hold", Trigger.BEAT, {}),
        started_at=now - timedelta(minutes=10),
    )
    fresh = store.insert_run(
        clean_history, store.RunStart("diag.hold", Trigger.BEAT, {}), started_at=now
    )
    reaped = lost.reap(clean_history, lost_after_s=60, now=now)
    assert reaped == [stale]
    rows = {r["id"]: r for r in history_rows()}
    assert rows[stale]["status"] == "lost" and rows[stale]["error_type"] == "WorkerLost"
    assert rows[stale]["duration_s"] == pytest.approx(600, abs=1)
    assert rows[fresh]["status"] == "running"


def test_startup_sweep_marks_rows_of_dead_local_processes(
    settings: Settings, clean_history: str
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old = clock.now() - timedelta(seconds=30)
    ghost = store.insert_run(
        clean_history, store.RunStart("diag.hold", Trigger.BEAT, {}), started_at=old
    )
    mine = store.insert_run(
        clean_history, store.RunStart("diag.hold", Trigger.BEAT, {}), started_at=old
    )
    with store.session(clean_history) as s, s.begin():
        s.execute(store.update(store.JobRun).where(store.JobRun.id == ghost).values(pid=dead.pid))
    assert lost.sweep_dead_local(clean_history, heartbeat_interval_s=1) == [ghost]
    assert {r["id"]: r["status"] for r in history_rows()} == {ghost: "lost", mine: "running"}


def test_a_finished_row_cannot_say_running(clean_history: str) -> None:
    import psycopg

    with (
        psycopg.connect(clean_history.replace(LEAK_CANARY, "x")) as conn,
        pytest.raises(psycopg.errors.CheckViolation),
    ):
        conn.execute(
            "INSERT INTO job_runs (task, trigger, status, started_at, finished_at) "
            "VALUES ('x', 'cli', 'running', now(), now())"
        )


def test_db_upgrade_creates_migrates_and_is_idempotent_under_concurrency(
    maint_env: dict[str, str],
) -> None:
    name = f"maint_test_{TAG}_upgrade"
    env = maint_env | {"MAINT_HISTORY_DSN": PG_SERVER.rsplit("/", 1)[0] + "/" + name}
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "maintenance.cli", "db", "upgrade"],
                env={**os.environ, **env},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(3)
        ]
        outs = [p.communicate(timeout=120)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0], outs
        again = run_cli("db", "upgrade", env=env)
        assert again.returncode == 0 and "up to date" in again.stdout
        assert migrate.current(env["MAINT_HISTORY_DSN"]) == migrate.head()
    finally:
        store.dispose_all()
        pg.drop_database(PG_SERVER, name)


def test_models_match_the_migrations(history_db: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    eng = create_engine(pg.sqlalchemy_url(history_db))
    with eng.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    eng.dispose()
    assert diff == []


def test_history_outage_is_a_transient_error(settings: Settings) -> None:
    with pytest.raises(ServiceUnavailable, match="job-history database unavailable"):
        store.insert_run(
            "postgresql://postgres@127.0.0.1:1/nothing",
            store.RunStart("x", Trigger.CLI, {}),
            started_at=clock.now(),
        )
    assert load_settings().history_dsn.get_secret_value() == settings.history_dsn.get_secret_value()


def test_an_outdated_history_schema_never_stops_the_work_and_names_the_fix(
    settings: Settings,
) -> None:
    from maintenance import catalog

    name = f"maint_test_{TAG}_oldschema"
    dsn = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    try:
        migrate.upgrade(dsn, "0001")
        old = Settings.model_validate(settings.model_dump() | {"history_dsn": SecretStr(dsn)})
        out = runner.execute(
            catalog.get("diag.hold"), {"seconds": "0.1"}, settings=old, trigger=Trigger.CLI
        )
        assert out.status is RunStatus.SUCCEEDED  # the work was done
        assert out.history_error and "maint db upgrade" in out.history_error
        from tasks.signals import check_history_schema  # the worker says it at start-up too

        assert check_history_schema() is None  # the session's own history is current
    finally:
        store.dispose_all()
        pg.drop_database(PG_SERVER, name)
