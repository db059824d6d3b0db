"""Beat's leadership lock and claims against the real history database."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from maintenance.beat import claims
from maintenance.beat.leader import SERVER_KEEPALIVE, Leadership
from tests.conftest import HISTORY_DB, _dsn

pytestmark = pytest.mark.usefixtures("clean_history")


def _backend_of(lock: Leadership) -> int:
    conn = lock._conn
    assert conn is not None
    return int(conn.info.backend_pid)


def test_one_leader_and_a_terminated_session_stops_it_at_once(history_db: str) -> None:
    a, b = Leadership(history_db, "t-leader"), Leadership(history_db, "t-leader")
    try:
        assert a.acquire() and a.check()
        assert not b.acquire()
        assert (a.holder() or "").startswith("maint-lock ")
        with psycopg.connect(_dsn(HISTORY_DB, password=False), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (_backend_of(a),))
        assert not a.check()  # the very next check says so: the leader stops sending
        assert not a.held
        assert b.acquire()  # and the lock went with the session
        assert not a.acquire()
    finally:
        a.release()
        b.release()


def test_release_hands_over_and_the_session_sets_server_keepalives(history_db: str) -> None:
    a, b = Leadership(history_db, "t-handover"), Leadership(history_db, "t-handover")
    try:
        assert a.acquire()
        conn = a._conn
        assert conn is not None
        got = conn.execute("SHOW tcp_keepalives_idle").fetchone()
        assert (
            got is not None and int(got[0].rstrip("s")) == SERVER_KEEPALIVE["tcp_keepalives_idle"]
        )
        a.release()
        assert not a.held and b.acquire()
    finally:
        a.release()
        b.release()


def test_an_occurrence_is_claimed_once(history_db: str) -> None:
    when = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
    assert claims.claim(history_db, "daily-backup", when, task="backup.create")
    assert not claims.claim(history_db, "daily-backup", when, task="backup.create")
    assert claims.claim(history_db, "weekly-backup", when, task="backup.create")
    ids = claims.record_missed(
        history_db, "daily-backup", [when], task="backup.create", params={}, summary="x"
    )
    assert ids == []  # already claimed (sent): not recorded missed
    assert claims.last_claims(history_db) == {"daily-backup": when, "weekly-backup": when}


def test_claims_record_their_zone(clean_history: str) -> None:
    when = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    assert claims.last_zone(clean_history) is None
    assert claims.claim(
        clean_history, "daily-backup", when, task="backup.create", zone="America/New_York"
    )
    assert claims.claim(
        clean_history,
        "daily-backup",
        when + timedelta(days=1),
        task="backup.create",
        zone="America/Chicago",
    )
    assert claims.last_zone(clean_history) == "America/Chicago"


def test_a_second_signal_during_the_unlock_does_not_hang_beat(history_db: str) -> None:
    """Celery's TERM/INT handler releases the lock; a second signal (Ctrl-C reaches the
    whole process group, then run-local's or a supervisor's TERM) runs the handler again
    inside the first unlock, while it holds the connection. The inner release must find
    nothing to do: it used to wait for that connection's lock for ever (beat hung,
    still leading). Here the inner call is made where the signal would land."""
    a, b = Leadership(history_db, "t-resignal"), Leadership(history_db, "t-resignal")

    class Interrupted:
        """The session, with a signal arriving while the unlock holds it."""

        def __init__(self, real: Any) -> None:
            self.real, self.signalled = real, False

        def execute(self, sql: str, params: Any = None) -> Any:
            if "unlock" in sql and not self.signalled:
                self.signalled = True
                with self.real.lock:  # the interrupted unlock holds the connection
                    a.release()  # the second signal's handler
            return self.real.execute(sql, params)

    try:
        assert a.acquire()
        session = Interrupted(a._conn)
        a._conn = session  # type: ignore[assignment]
        done = threading.Event()

        def stop() -> None:
            a.release()
            done.set()

        threading.Thread(target=stop, daemon=True).start()
        if not done.wait(10):
            session.real.lock.release()  # let the hung handler go, then say so
            pytest.fail("release hung on its own connection's lock")
        assert not a.held and b.acquire()  # released once, the standby leads
    finally:
        b.release()
