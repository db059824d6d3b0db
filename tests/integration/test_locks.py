"""The singleton lock's two gaps: a dead holder's session that the server has not ended
yet, and a lock session that dies under a run that is still alive."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psutil
import psycopg
import pytest

from maintenance import catalog, locks, runner
from maintenance.config import Settings
from maintenance.errors import is_transient
from maintenance.results import RunStatus, Trigger
from tests.conftest import history_rows, wait_for

pytestmark = pytest.mark.integration


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not psutil.pid_exists(proc.pid)
    return proc.pid


def _hold_as(dsn: str, name: str, pid: int, release_after_s: float) -> threading.Thread:
    """A session that holds lock ``name`` and says it belongs to process ``pid`` of this
    host (as a killed worker's session does until the server ends it)."""
    ready = threading.Event()

    def hold() -> None:
        with psycopg.connect(
            dsn, autocommit=True, application_name=locks.session_name(pid)
        ) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (locks.lock_key(name),))
            ready.set()
            time.sleep(release_after_s)

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    assert ready.wait(10)
    return t


def test_a_lock_left_by_a_dead_process_is_waited_for_not_skipped(
    settings: Settings, clean_history: str
) -> None:
    holder = _hold_as(clean_history, "diag.hold", _dead_pid(), release_after_s=1.5)
    out = runner.execute(
        catalog.get("diag.hold"), {"seconds": 0.1}, settings=settings, trigger=Trigger.CLI
    )
    holder.join()
    assert out.status is RunStatus.SUCCEEDED, out.summary


def test_a_lock_held_by_a_live_process_is_skipped_at_once(
    settings: Settings, clean_history: str
) -> None:
    holder = _hold_as(clean_history, "diag.hold", os.getpid(), release_after_s=3)
    t0 = time.monotonic()
    out = runner.execute(
        catalog.get("diag.hold"), {"seconds": 0.1}, settings=settings, trigger=Trigger.CLI
    )
    waited = time.monotonic() - t0
    holder.join()
    assert out.status is RunStatus.SKIPPED and "lock" in out.summary
    assert waited < 2.5  # it did not wait for a holder that is alive


def test_a_run_whose_lock_session_dies_stops_with_lock_lost(
    settings: Settings, clean_history: str
) -> None:
    """The lock's session is ended under a live run (what a network cut or an admin's
    pg_terminate_backend does): the run stops at its next heartbeat (1 s here)."""
    result: dict[str, object] = {}

    def run() -> None:
        result["out"] = runner.execute(
            catalog.get("diag.hold"), {"seconds": 60}, settings=settings, trigger=Trigger.CLI
        )

    t = threading.Thread(target=run)
    t.start()
    wait_for(lambda: history_rows("status = 'running'"), what="the run to start")
    name = locks.session_name()
    with psycopg.connect(clean_history, autocommit=True) as conn:

        def terminate() -> list[tuple[bool]]:
            # the row can be written a moment before the lock's session connects
            return conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s",
                (name,),
            ).fetchall()

        killed = wait_for(terminate, what="the lock's session to be there to end")
    assert killed == [(True,)]
    t.join(timeout=30)
    assert not t.is_alive()
    out = result["out"]
    assert out.status is RunStatus.FAILED and out.error_type == "LockLost"  # type: ignore[attr-defined]
    assert out.transient  # type: ignore[attr-defined]
    (row,) = history_rows()
    assert row["status"] == "failed" and "singleton lock" in str(row["error_message"])
    assert row["duration_s"] < 30


def test_a_connection_lost_mid_query_is_transient_a_timeout_is_not(history_db: str) -> None:
    with psycopg.connect(history_db, autocommit=True) as killer, psycopg.connect(
        history_db, autocommit=True
    ) as victim:
        (pid,) = victim.execute("SELECT pg_backend_pid()").fetchone()  # type: ignore[misc]
        threading.Timer(0.5, lambda: killer.execute("SELECT pg_terminate_backend(%s)", (pid,))).start()
        with pytest.raises(psycopg.OperationalError) as lost:
            victim.execute("SELECT pg_sleep(10)")
    assert is_transient(lost.value)
    with psycopg.connect(history_db, autocommit=True) as conn:
        conn.execute("SET statement_timeout = '100ms'")
        with pytest.raises(psycopg.errors.QueryCanceled) as timeout:
            conn.execute("SELECT pg_sleep(2)")
    assert isinstance(timeout.value, psycopg.OperationalError)
    assert not is_transient(timeout.value)
