"""Admins trigger tasks from Flower: its HTTP API, behind basic auth, reaches our
workers, and the run lands in the history as ``adhoc``."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import ROOT, Worker, history_rows, venv_bin, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.worker]

USER, PASSWORD = "oncall", "Flower-Secret-31"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def flower(maint_env: dict[str, str], worker: Worker, session_tmp: Path) -> Iterator[str]:
    port = _free_port()
    log = (session_tmp / "flower.log").open("wb")
    env = {**os.environ, **maint_env, "FLOWER_BASIC_AUTH": f"{USER}:{PASSWORD}"}
    proc = subprocess.Popen(
        [venv_bin("celery"), "-A", "tasks.app", "flower", f"--port={port}", "--address=127.0.0.1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthcheck", timeout=1).status_code in (200, 401)
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=30, what="Flower to listen")
        proc_args = " ".join(psutil.Process(proc.pid).cmdline())
        assert PASSWORD not in proc_args  # basic auth came from the environment
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_flower_requires_basic_auth(flower: str) -> None:
    assert httpx.get(f"{flower}/api/workers", timeout=10).status_code == 401
    bad = httpx.post(
        f"{flower}/api/task/async-apply/db.stats", json={}, auth=(USER, "wrong"), timeout=10
    )
    assert bad.status_code == 401


def test_db_stats_triggered_from_flower_is_recorded_as_adhoc(
    flower: str, clean_history: str
) -> None:
    resp = httpx.post(
        f"{flower}/api/task/async-apply/db.stats",
        json={"kwargs": {"statement_timeout_s": 60}},
        auth=(USER, PASSWORD),
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    task_id = resp.json()["task-id"]
    row = wait_for(
        lambda: history_rows("celery_task_id = %s AND status <> 'running'", (task_id,)),
        timeout=60,
        what="the Flower-triggered run in the history",
    )
    assert len(row) == 1
    assert (row[0]["trigger"], row[0]["status"]) == ("adhoc", "succeeded")
    assert row[0]["params"] == {"statement_timeout_s": 60}
    assert history_rows() == row  # exactly one row


def test_flower_knows_only_our_tasks_by_name(flower: str) -> None:
    resp = httpx.post(
        f"{flower}/api/task/async-apply/db.statz", json={}, auth=(USER, PASSWORD), timeout=10
    )
    assert resp.status_code == 404
