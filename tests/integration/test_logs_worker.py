"""Log tasks through a real worker consuming one host's queue (``logs.<host>``): beat's
entry for that host, ``maint run --enqueue``'s dispatcher and Flower's apply (the app's
route) all reach it; a message meant for another host is refused and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import beat_schedule
from maintenance.config import load_settings
from maintenance.results import Trigger
from tests.conftest import TAG, history_rows, start_worker, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.worker]


def _row(task: str, trigger: str, n: int = 1) -> list[dict[str, object]]:
    rows = history_rows(
        "task = %s AND trigger = %s AND status <> 'running' AND parent_run_id IS NULL",
        (task, trigger),
    )
    return rows if len(rows) >= n else []


def test_a_hosts_worker_runs_its_log_tasks_and_refuses_another_hosts(
    maint_env: dict[str, str], clean_history: str, tmp_path: Path
) -> None:
    from tasks.app import app
    from tasks.enqueue import CeleryDispatcher

    host = f"lt{TAG}"
    queue = f"logs.{host}"
    root = tmp_path / "logs"
    root.mkdir()
    (root / "app.log").write_bytes(b"INFO hello\nERROR once\n")
    env = maint_env | {"MAINT_QUEUE": queue, "MAINT_LOG_HOST": host, "MAINT_LOG_ROOT": str(root)}
    worker = start_worker(env, tmp_path / "worker.log", concurrency=1)
    try:
        # beat: the entry of this host, as beat sends it
        schedule = beat_schedule.build(load_settings(log_hosts=[host, "other-host"]))
        entry = schedule[f"daily-log-rotation@{host}"]
        assert entry["options"]["queue"] == queue and entry["kwargs"] == {"host": host}
        app.send_task(entry["task"], kwargs=entry["kwargs"], **entry["options"])
        (row,) = wait_for(lambda: _row("logs.rotate", "beat"), timeout=60, what="the beat rotation")
        assert row["status"] == "succeeded", row["summary"]
        assert (root / "app.log.1").read_bytes() == b"INFO hello\nERROR once\n"
        assert (root / "app.log").stat().st_size == 0

        # maint run logs.report -p host=... --enqueue: the dispatcher routes it here
        CeleryDispatcher(load_settings()).send("logs.report", {"host": host}, trigger=Trigger.ADHOC)
        (row,) = wait_for(lambda: _row("logs.report", "adhoc"), timeout=60, what="the report")
        assert row["status"] == "succeeded", row["summary"]
        assert row["result"]["figures"]["error_counts"] == {"ERROR": 1, "CRITICAL": 0}  # type: ignore[index]

        # no queue given (Flower's apply): the app's route sends it to the host's queue.
        # (Not apply_async on a registered task: registering the tasks in this process
        # would make every later send_task of the session carry this process's time
        # limits.)
        app.send_task("logs.cleanup", kwargs={"host": host, "dry_run": True})
        (row,) = wait_for(lambda: _row("logs.cleanup", "adhoc"), timeout=60, what="the cleanup")
        assert row["status"] == "succeeded", row["summary"]

        # a message for another host on this queue (a worker with the wrong -Q): refused
        before = sorted((p.name, p.stat().st_mtime_ns) for p in root.iterdir())
        other = schedule["daily-log-rotation@other-host"]
        app.send_task(
            "logs.rotate", kwargs=other["kwargs"], queue=queue, headers=other["options"]["headers"]
        )
        rows = wait_for(lambda: _row("logs.rotate", "beat", 2), timeout=60, what="the refusal")
        refused = rows[-1]
        assert refused["status"] == "failed" and refused["error_type"] == "ParamError"
        assert "for host 'other-host'" in str(refused["error_message"])
        assert sorted((p.name, p.stat().st_mtime_ns) for p in root.iterdir()) == before
    finally:
        worker.stop()
