"""A whole worker killed mid-task: its message comes back, and nothing runs twice.

With ``acks_late`` on the Redis broker, the message of a task whose whole worker died
stays in kombu's ``unacked`` hash; once the visibility timeout has passed, the next
worker that polls hands it out again. The tests make the broker do exactly that by
back-dating the message's entry in ``unacked_index`` (the visibility timeout itself is
hours), then start a worker and look at what it did with the message.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import redis

from maintenance.history import lost
from tests.conftest import (
    BROKER_DB,
    REDIS_BASE,
    ROOT,
    history_rows,
    start_worker,
    venv_bin,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.worker, pytest.mark.slow]

SMALL = {"daily": 1000, "weekly": 1000, "monthly": 1000}


def _broker() -> redis.Redis:
    return redis.Redis.from_url(f"{REDIS_BASE}/{BROKER_DB}")


def _unacked_tag(celery_id: str) -> str | None:
    """The delivery tag under which the broker keeps ``celery_id``'s unacked message."""
    for tag, raw in _broker().hgetall("unacked").items():
        payload = json.loads(raw)[0]
        if payload.get("headers", {}).get("id") == celery_id:
            return tag.decode()
    return None


def _visibility_timeout_passes(celery_id: str) -> None:
    """What hours of waiting would do: the message's unacked entry is older than any
    visibility timeout, so the next worker to poll restores it to its queue."""
    tag = wait_for(lambda: _unacked_tag(celery_id), timeout=10, what="the unacked message")
    _broker().zadd("unacked_index", {tag: 0})


def _private(env: dict[str, str], **extra: str) -> dict[str, str]:
    return env | {"MAINT_QUEUE": f"{env['MAINT_QUEUE']}-{secrets.token_hex(3)}"} | extra


def _lost(history_db: str, celery_id: str) -> dict[str, object]:
    """Wait until the dead run's row is lost (nobody reaps for us: no worker is up)."""

    def reaped() -> list[dict[str, object]]:
        lost.reap(history_db, lost_after_s=4)
        return history_rows("celery_task_id = %s AND status = 'lost'", (celery_id,))

    return wait_for(reaped, timeout=30, what="the dead run to be marked lost")[0]


def test_a_redelivered_message_of_a_lost_run_is_recorded_skipped_and_never_runs(
    maint_env: dict[str, str], history_db: str, clean_history: str, session_tmp: Path
) -> None:
    from tasks.app import app

    env = _private(maint_env)
    doomed = start_worker(env, session_tmp / "redeliver-doomed.log", concurrency=1)
    try:
        r = app.send_task("diag.hold", kwargs={"seconds": 300}, queue=env["MAINT_QUEUE"])
        wait_for(lambda: history_rows("status = 'running'"), what="the run to start")
    finally:
        doomed.kill9()
    lost = _lost(history_db, r.id)
    _visibility_timeout_passes(r.id)

    survivor = start_worker(env, session_tmp / "redeliver-survivor.log", concurrency=1)
    try:
        skipped = wait_for(
            lambda: history_rows("celery_task_id = %s AND status = 'skipped'", (r.id,)),
            timeout=60,
            what="the redelivered message to be recorded",
        )[0]
        # acknowledged: the broker holds it nowhere any more
        wait_for(lambda: _unacked_tag(r.id) is None, timeout=20, what="the message to be acked")
        assert _broker().llen(env["MAINT_QUEUE"]) == 0
        time.sleep(2)  # a second execution would show as a running row by now
        rows = history_rows("celery_task_id = %s", (r.id,))
    finally:
        survivor.stop()
    assert [(row["status"], row["attempt"]) for row in rows] == [("lost", 1), ("skipped", 1)]
    assert "redelivered after the run was lost at" in str(skipped["summary"])
    assert f"run {lost['id']}" in str(skipped["summary"])
    assert "does not retry a lost run" in str(skipped["summary"])
    assert "redelivered" in survivor.log()  # the worker did receive it


def test_a_lost_backup_is_retried_once_as_a_new_attempt_and_runs_once(
    maint_env: dict[str, str],
    history_db: str,
    target_db: str,
    clean_history: str,
    tmp_path: Path,
) -> None:
    from tasks.app import app

    env = _private(
        maint_env,
        MAINT_BACKUP_ROOT=str(tmp_path / "backups"),
        MAINT_BACKUP_MIN_BYTES=json.dumps(SMALL),
    )
    blocker = psycopg.connect(target_db)
    blocker.execute("LOCK TABLE swaps IN ACCESS EXCLUSIVE MODE")  # pg_dump waits: mid-backup
    doomed = start_worker(env, tmp_path / "doomed.log", concurrency=1)
    try:
        r = app.send_task("backup.create", kwargs={"tier": "daily"}, queue=env["MAINT_QUEUE"])
        wait_for(lambda: history_rows("status = 'running'"), what="the backup to start")
        time.sleep(1)
    finally:
        doomed.kill9()
        blocker.close()
    _lost(history_db, r.id)
    _visibility_timeout_passes(r.id)

    survivor = start_worker(env, tmp_path / "survivor.log", concurrency=1)
    try:
        wait_for(
            lambda: history_rows(
                "celery_task_id = %s AND status = 'succeeded' AND parent_run_id IS NULL",
                (r.id,),
            ),
            timeout=120,
            what="the retried backup to succeed",
        )
        wait_for(lambda: _unacked_tag(r.id) is None, timeout=20, what="the messages to be acked")
        time.sleep(2)
        rows = history_rows("celery_task_id = %s AND parent_run_id IS NULL", (r.id,))
    finally:
        survivor.stop()
    assert [(row["status"], row["attempt"]) for row in rows] == [
        ("lost", 1),
        ("skipped", 1),
        ("succeeded", 2),
    ]
    assert "retried as attempt 2" in str(rows[1]["summary"])
    backups = list((tmp_path / "backups" / "daily").glob("*.dump.zst"))
    assert len(backups) == 1  # one backup, not two


def test_enqueue_wait_returns_soon_after_the_worker_dies(
    maint_env: dict[str, str], history_db: str, clean_history: str, session_tmp: Path
) -> None:
    env = _private(maint_env)
    doomed = start_worker(env, session_tmp / "wait-doomed.log", concurrency=1)
    waiter = subprocess.Popen(
        [venv_bin("maint"), "run", "diag.hold", "-p", "seconds=600", "--enqueue", "--wait",
         "--timeout", "500", "--json"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        wait_for(lambda: history_rows("status = 'running'"), what="the run to start")
        doomed.kill9()
        t0 = time.monotonic()
        out, errs = waiter.communicate(timeout=60)
        waited = time.monotonic() - t0
    finally:
        doomed.kill9()
        waiter.kill()
    assert waiter.returncode == 1, out + errs
    shown = json.loads(out)
    assert shown["status"] == "lost" and shown["error_type"] == "WorkerLost"
    # MAINT_LOST_AFTER_S is 4 here; the waiter reaps by itself every 2 s
    assert waited < 30, waited


def test_an_unreachable_broker_is_one_line_naming_the_setting(
    maint_env: dict[str, str], history_db: str
) -> None:
    env = maint_env | {"MAINT_BROKER_URL": "redis://:hunter22secret@127.0.0.1:1/15"}
    res = subprocess.run(
        [venv_bin("maint"), "run", "db.stats", "--enqueue", "--wait"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,  # a hang guard: it used to retry for ~20 s and then print a traceback
        cwd=ROOT,
    )
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "MAINT_BROKER_URL=redis://:***@127.0.0.1:1/15" in lines[0]
    assert "hunter22secret" not in res.stderr + res.stdout
    assert "Traceback" not in res.stderr


def test_a_sent_message_carries_no_time_limits_of_the_sender(
    maint_env: dict[str, str], history_db: str
) -> None:
    """The workers' MAINT_TIME_LIMITS decide: a sender that has the tasks registered (with
    other limits) must not put its own into the message, where they would win. The sender
    is a process of its own: registering the tasks here would change this session's
    other sends."""
    queue = f"{maint_env['MAINT_QUEUE']}-{secrets.token_hex(3)}"
    code = (
        "import tasks.diag\n"  # a sender that has loaded the tasks, as Flower has
        "from tasks.app import app\n"
        "from tasks.enqueue import CeleryDispatcher\n"
        "from maintenance.results import Trigger\n"
        "assert app.tasks['diag.hold'].soft_time_limit\n"
        "print(CeleryDispatcher().send('diag.hold', {'seconds': 1}, trigger=Trigger.ADHOC))\n"
    )
    env = {**os.environ, **maint_env, "MAINT_QUEUE": queue}
    res = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    try:
        assert res.returncode == 0, res.stderr
        (raw,) = _broker().lrange(queue, 0, -1)
        headers = json.loads(raw)["headers"]
        assert headers["id"] == res.stdout.strip()
        assert headers["timelimit"] == [None, None]
    finally:
        _broker().delete(queue)
