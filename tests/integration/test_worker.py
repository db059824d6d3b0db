"""End to end through a real Celery worker on the real Redis broker."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import (
    LEAK_CANARY,
    Worker,
    history_rows,
    run_cli,
    start_worker,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.worker]


@pytest.fixture
def app(worker: Worker, clean_history: str):
    from tasks.app import app

    return app


def _send(app, name: str, *, headers: dict | None = None, queue: str | None = None, **kwargs):
    from maintenance.config import get_settings

    return app.send_task(
        name, kwargs=kwargs, queue=queue or get_settings().queue, headers=headers or {}
    )


def _private(env: dict[str, str], **extra: str) -> dict[str, str]:
    """Settings for a worker of the test's own: a queue the shared worker does not read."""
    return env | {"MAINT_QUEUE": f"{env['MAINT_QUEUE']}-{secrets.token_hex(3)}"} | extra


def test_enqueue_wait_runs_on_the_worker_once_as_adhoc(
    worker: Worker, maint_env: dict[str, str], target_db: str, clean_history: str
) -> None:
    res = run_cli(
        "run", "db.stats", "--enqueue", "--wait", "--timeout", "60", "--json", env=maint_env
    )
    assert res.returncode == 0, res.stdout + res.stderr
    shown = json.loads(res.stdout)
    (row,) = history_rows()
    assert (row["trigger"], row["status"], row["id"]) == ("adhoc", "succeeded", shown["id"])
    assert row["celery_task_id"] and row["pid"] != os.getpid()
    with psycopg.connect(target_db) as conn:
        (n,) = conn.execute("SELECT count(*) FROM persons WHERE role = 'RESIDENT'").fetchone()  # type: ignore[misc]
    assert row["result"]["figures"]["counts"]["residents"] == n


def test_enqueue_without_wait_returns_at_once(
    worker: Worker, maint_env: dict[str, str], clean_history: str
) -> None:
    res = run_cli("run", "diag.hold", "--enqueue", "-p", "seconds=0.2", "--json", env=maint_env)
    assert res.returncode == 0 and json.loads(res.stdout)["status"] == "queued"
    rows = wait_for(lambda: history_rows("status = 'succeeded'"), what="the queued run")
    assert rows[0]["trigger"] == "adhoc"


def test_a_beat_message_is_recorded_as_beat(app) -> None:
    import beat_schedule
    from maintenance.config import get_settings

    entry = beat_schedule.build(get_settings())["nightly-data-statistics"]
    r = app.send_task(entry["task"], kwargs=entry["kwargs"], **entry["options"])
    r.get(timeout=60)
    (row,) = history_rows()
    assert (row["trigger"], row["status"], row["celery_task_id"]) == ("beat", "succeeded", r.id)


def test_a_window_step_carries_its_window_run(app) -> None:
    from maintenance.history import store  # noqa: F401 - the table exists

    with psycopg.connect(os.environ["MAINT_HISTORY_DSN"]) as conn:
        (wid,) = conn.execute(
            "INSERT INTO window_runs (kind, local_date, trigger, status, started_at) "
            "VALUES ('daily', current_date, 'beat', 'running', now()) RETURNING id"
        ).fetchone()  # type: ignore[misc]
    r = _send(
        app,
        "diag.hold",
        headers={"maint_trigger": "window", "maint_window_run_id": wid},
        seconds=0.1,
    )
    r.get(timeout=60)
    (row,) = history_rows()
    assert (row["trigger"], row["window_run_id"]) == ("window", wid)


def test_positional_arguments_are_refused_and_recorded(app) -> None:
    from maintenance.config import get_settings

    r = app.send_task("db.stats", args=[5], queue=get_settings().queue)
    r.get(timeout=60, propagate=False)
    assert r.failed()
    (row,) = history_rows()  # a permanent error: not retried
    assert row["error_type"] == "ParamError" and "positional" in row["error_message"]


def test_two_copies_of_an_exclusive_task_one_runs_one_is_skipped(app) -> None:
    first = _send(app, "diag.hold", seconds=3)
    second = _send(app, "diag.hold", seconds=3)
    first.get(timeout=60)
    second.get(timeout=60)
    rows = history_rows()
    assert sorted(r["status"] for r in rows) == ["skipped", "succeeded"]
    skipped = next(r for r in rows if r["status"] == "skipped")
    ran = next(r for r in rows if r["status"] == "succeeded")
    assert f"run {ran['id']}" in skipped["summary"]  # the reason names the holder
    assert skipped["started_at"] < ran["finished_at"]  # they overlapped


def test_killing_the_pool_child_marks_its_run_lost_at_once(app, worker: Worker) -> None:
    r = _send(app, "diag.hold", seconds=120)
    row = wait_for(lambda: history_rows("status = 'running'"), what="the run to start")[0]
    os.kill(row["pid"], signal.SIGKILL)
    done = wait_for(lambda: history_rows("status <> 'running'"), timeout=20, what="the run to end")[
        0
    ]
    assert done["status"] == "lost" and done["id"] == row["id"]
    assert "died" in done["error_message"]
    assert r.get(timeout=20, propagate=False) is not None and r.failed()
    # the worker replaced its child and goes on working
    again = _send(app, "diag.hold", seconds=0.1)
    again.get(timeout=60)
    assert history_rows("status = 'succeeded'")


def test_kill9_of_the_whole_worker_leaves_a_lost_row_not_running(
    maint_env: dict[str, str],
    history_db: str,
    target_db: str,
    clean_history: str,
    session_tmp: Path,
) -> None:
    from tasks.app import app

    env = _private(maint_env)
    doomed = start_worker(env, session_tmp / "doomed.log", concurrency=1)
    try:
        _send(app, "diag.hold", seconds=300, queue=env["MAINT_QUEUE"])
        row = wait_for(lambda: history_rows("status = 'running'"), what="the run to start")[0]
        doomed.kill9()
        # Nobody is left to finish the row: it is still "running" ...
        assert history_rows()[0]["status"] == "running"
        # ... until a worker notices (start-up sweep / reaper, MAINT_LOST_AFTER_S=4 here).
        other = start_worker(_private(maint_env), session_tmp / "survivor.log", concurrency=1)
        try:
            done = wait_for(
                lambda: history_rows("status = 'lost'"),
                timeout=30,
                what="the dead run to be marked lost",
            )[0]
        finally:
            other.stop()
        assert done["id"] == row["id"] and done["error_type"] == "WorkerLost"
        assert done["finished_at"] is not None
    finally:
        doomed.kill9()


@pytest.fixture(scope="module")
def odd_worker(maint_env: dict[str, str], history_db: str, session_tmp: Path) -> Iterator[Worker]:
    """A worker of its own whose target refuses connections (port 1) and whose
    diag.hold has tight time limits."""
    env = _private(
        maint_env,
        MAINT_TARGET_DSN=f"postgresql://postgres:{LEAK_CANARY}@127.0.0.1:1/residency_scheduler",
        MAINT_RETRY_BACKOFF_S="0.2",
        MAINT_TIME_LIMITS='{"diag.hold": [1, 20]}',
    )
    w = start_worker(env, session_tmp / "odd.log", concurrency=1)
    yield w
    w.stop()


def test_transient_errors_are_retried_then_fail(odd_worker: Worker, clean_history: str) -> None:
    """A target that refuses connections is transient: 1 try + 3 retries, then failed."""
    from tasks.app import app

    r = _send(app, "db.stats", queue=odd_worker.env["MAINT_QUEUE"])
    r.get(timeout=90, propagate=False)
    assert r.failed()
    rows = history_rows()
    assert [row["attempt"] for row in rows] == [1, 2, 3, 4]
    assert {row["status"] for row in rows} == {"failed"}
    assert {row["error_type"] for row in rows} == {"ServiceUnavailable"}
    assert {row["celery_task_id"] for row in rows} == {r.id}
    assert LEAK_CANARY not in odd_worker.log()


def test_the_soft_time_limit_ends_the_run_as_failed(odd_worker: Worker, clean_history: str) -> None:
    from tasks.app import app

    r = _send(app, "diag.hold", queue=odd_worker.env["MAINT_QUEUE"], seconds=15)
    r.get(timeout=60, propagate=False)
    (row,) = history_rows()
    assert (row["status"], row["error_type"]) == ("failed", "SoftTimeLimitExceeded")
    assert "soft time limit" in row["error_message"]
    assert row["duration_s"] < 5


def test_a_dsn_password_never_appears_in_logs_history_or_ps(
    app,
    worker: Worker,
    maint_env: dict[str, str],
) -> None:
    assert LEAK_CANARY in maint_env["MAINT_TARGET_DSN"]  # the canary is really in use
    r = _send(app, "diag.hold", seconds=2)
    wait_for(lambda: history_rows("status = 'running'"), what="the run to start")
    ps = subprocess.run(
        ["ps", "-eww", "-o", "args"], capture_output=True, text=True, check=True
    ).stdout
    assert "celery" in ps and LEAK_CANARY not in ps
    r.get(timeout=60)
    _send(app, "db.stats").get(timeout=60)
    log = worker.log()
    assert "run.finished" in log and LEAK_CANARY not in log
    with psycopg.connect(os.environ["MAINT_HISTORY_DSN"]) as conn:
        (hits,) = conn.execute(
            "SELECT count(*) FROM job_runs WHERE (job_runs.*)::text LIKE %s", (f"%{LEAK_CANARY}%",)
        ).fetchone()  # type: ignore[misc]
    assert hits == 0


def test_worker_logs_are_json_lines_carrying_task_run_and_trigger(app, worker: Worker) -> None:
    r = _send(app, "db.stats")
    result = r.get(timeout=60)
    events = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
    # run ids restart with each test's clean history; the Celery id is unique
    finished = [
        e for e in events if e.get("event") == "run.finished" and e.get("celery_task_id") == r.id
    ]
    assert len(finished) == 1
    (event,) = finished
    assert (event["task"], event["trigger"], event["celery_task_id"]) == ("db.stats", "adhoc", r.id)
    assert (
        event["status"] == "succeeded"
        and event["run_id"] == result["run_id"]
        and "timestamp" in event
    )
