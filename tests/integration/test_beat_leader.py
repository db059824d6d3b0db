"""Real beat processes (the leader scheduler) sending to a real worker, with a test
calendar whose entries fall due every few seconds (tests/beat_app.py): exactly one beat
sends, a standby takes over after kill -9, a forced second leader still sends each
occurrence once, missed runs are recorded or caught up by policy (docs/beat.md)."""

from __future__ import annotations

import contextlib
import socket
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import time_ns

import psycopg
import pytest

from tests.conftest import (
    HISTORY_DB,
    ROOT,
    Beat,
    Worker,
    _dsn,
    history_rows,
    start_beat,
    start_worker,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("clean_history")

HOLD = {"task": "diag.hold", "kwargs": {"seconds": 0.05}}


def dispatches() -> list[dict[str, object]]:
    with psycopg.connect(_dsn(HISTORY_DB, password=False)) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return list(cur.execute("SELECT * FROM beat_dispatches ORDER BY scheduled_for, entry"))


@pytest.fixture
def beats(maint_env: dict[str, str], session_tmp: Path) -> Iterator[list[Beat]]:
    started: list[Beat] = []
    yield started
    for b in started:
        b.stop()
    # what they sent runs now, not in a later test's clean history
    sent = "SELECT count(*) FROM beat_dispatches WHERE outcome = 'sent' AND task = 'diag.hold'"
    done = "SELECT count(*) FROM job_runs WHERE trigger = 'beat' AND status <> 'running'"
    with (
        contextlib.suppress(AssertionError),
        psycopg.connect(_dsn(HISTORY_DB, password=False)) as conn,
    ):

        def drained() -> bool:
            a = conn.execute(sent).fetchone()
            b = conn.execute(done).fetchone()
            conn.commit()
            return bool(a and b and b[0] >= a[0])

        wait_for(drained, timeout=10, what="the sent runs")


def _env(maint_env: dict[str, str], **extra: str) -> dict[str, str]:
    return {**maint_env, "MAINT_BEAT_POLL_INTERVAL_S": "1", **extra}


def _start(
    beats: list[Beat],
    env: dict[str, str],
    tmp: Path,
    calendar: Mapping[str, object],
    node: str | None = None,
) -> Beat:
    log = tmp / f"beat-{len(beats)}-{time.monotonic_ns()}.log"
    b = start_beat(env, log, calendar=calendar, node=node)
    beats.append(b)
    return b


def _by_occurrence() -> Counter[str]:
    return Counter(str(r["celery_task_id"]) for r in history_rows("trigger = 'beat'"))


def test_beat_sends_to_a_worker_and_the_run_is_recorded_as_beat(
    worker: Worker, beats: list[Beat], maint_env: dict[str, str], session_tmp: Path
) -> None:
    node = f"celerybeat-{time.monotonic_ns()}@test"
    b = _start(beats, _env(maint_env), session_tmp, {"tick": {**HOLD, "every_s": 2}}, node)
    rows = wait_for(
        lambda: history_rows("trigger = 'beat' AND status = 'succeeded'"),
        timeout=25,
        what=f"a beat run\n{b.log()[-3000:]}",
    )
    assert rows[0]["task"] == "diag.hold"
    sent = [d for d in dispatches() if d["outcome"] == "sent"]
    assert sent and sent[0]["celery_task_id"] == rows[0]["celery_task_id"]
    assert str(sent[0]["claimed_by"]).startswith(f"{b.pid}@")
    # compose's health check: beat answers a ping on its node while its loop ticks
    from tasks.app import app

    assert wait_for(lambda: app.control.ping(destination=[node], timeout=1), timeout=10)


def _leader_pid(rows: list[dict[str, object]]) -> set[int]:
    return {int(str(d["claimed_by"]).split("@")[0]) for d in rows}


def test_two_beats_send_once_and_the_standby_takes_over_after_kill_9(
    worker: Worker, beats: list[Beat], maint_env: dict[str, str], session_tmp: Path
) -> None:
    env = _env(maint_env)
    calendar = {"tick": {**HOLD, "every_s": 2}}
    a = _start(beats, env, session_tmp, calendar)
    b = _start(beats, env, session_tmp, calendar)
    wait_for(
        lambda: len([d for d in dispatches() if d["outcome"] == "sent"]) >= 3,
        timeout=25,
        what=f"three sends\n{a.log()[-2000:]}\n{b.log()[-2000:]}",
    )
    before = dispatches()
    leaders = _leader_pid(before)
    assert len(leaders) == 1, before  # one beat sent everything
    leader, standby = (a, b) if leaders == {a.pid} else (b, a)
    assert leaders == {leader.pid}
    assert "leading now" not in standby.log()

    leader.kill9()
    killed_at = datetime.now(UTC)
    taken = wait_for(
        lambda: [d for d in dispatches() if _leader_pid([d]) == {standby.pid}],
        timeout=60,
        what=f"the standby's first send\n{standby.log()[-3000:]}",
    )
    claimed_at = taken[0]["claimed_at"]
    assert isinstance(claimed_at, datetime)
    took = (claimed_at - killed_at).total_seconds()
    assert took < 60
    assert took < 10  # poll 1 s: the lock went with the killed session at once
    wait_for(
        lambda: len([d for d in dispatches() if _leader_pid([d]) == {standby.pid}]) >= 2,
        timeout=20,
        what="a second send by the new leader",
    )
    standby.stop()

    sent = [d for d in dispatches() if d["outcome"] == "sent"]
    wait_for(
        lambda: len(history_rows("trigger = 'beat' AND status <> 'running'")) >= len(sent),
        timeout=20,
        what="every sent occurrence run",
    )
    runs = _by_occurrence()
    assert set(runs) == {str(d["celery_task_id"]) for d in sent}
    assert max(runs.values()) == 1, runs  # no occurrence ran twice
    instants = [d["scheduled_for"] for d in sent]
    assert len(instants) == len(set(instants))


def test_a_forced_second_leader_still_runs_nothing_twice(
    worker: Worker, beats: list[Beat], maint_env: dict[str, str], session_tmp: Path
) -> None:
    # two different lock names: both beats lead (a split brain); only the claims fence
    calendar = {"tick": {**HOLD, "every_s": 1}, "tock": {**HOLD, "every_s": 2, "offset_s": 0.5}}
    a = _start(beats, _env(maint_env, MAINT_BEAT_LOCK_NAME="split-a"), session_tmp, calendar)
    b = _start(beats, _env(maint_env, MAINT_BEAT_LOCK_NAME="split-b"), session_tmp, calendar)
    wait_for(
        lambda: "leading now" in a.log() and "leading now" in b.log(),
        timeout=20,
        what="both beats leading",
    )
    wait_for(
        lambda: len([d for d in dispatches() if d["outcome"] == "sent"]) >= 8,
        timeout=20,
        what="eight sends",
    )
    a.stop()
    b.stop()
    sent = [d for d in dispatches() if d["outcome"] == "sent"]
    wait_for(
        lambda: len(history_rows("trigger = 'beat' AND status <> 'running'")) >= len(sent),
        timeout=20,
        what="every sent occurrence run",
    )
    runs = _by_occurrence()
    assert set(runs) == {str(d["celery_task_id"]) for d in sent}
    assert max(runs.values()) == 1, runs
    assert all(r["status"] == "succeeded" for r in history_rows("trigger = 'beat'"))
    assert "already claimed by another beat" in a.log() + b.log()  # they did race


def test_missed_runs_are_recorded_or_caught_up_by_policy(
    worker: Worker, beats: list[Beat], maint_env: dict[str, str], session_tmp: Path
) -> None:
    from maintenance.results import RunStatus
    from tests.conftest import run_cli

    period = 600.0
    now = datetime.now(UTC)
    newest = now - timedelta(seconds=100)  # the newest occurrence: 100 s ago, beat was down
    offset = newest.timestamp() % period
    last = datetime.fromtimestamp(newest.timestamp() - 6 * period, UTC)  # six due since
    calendar = {
        "backup": {**HOLD, "every_s": period, "offset_s": offset, "catch_up": "until_next"},
        "report": {
            "task": "cache.stats",
            "every_s": period,
            "offset_s": offset,
            "catch_up": "never",
        },
        "step-over": {
            **HOLD,
            "every_s": period,
            "offset_s": offset,
            "catch_up": "in_window",
            "within_s": 60,
        },
        "step-open": {
            **HOLD,
            "every_s": period,
            "offset_s": offset,
            "catch_up": "in_window",
            "within_s": 300,
        },
        "health": {**HOLD, "every_s": period, "offset_s": offset, "interval": True},
    }
    with psycopg.connect(_dsn(HISTORY_DB, password=False), autocommit=True) as conn:
        for name, e in calendar.items():
            conn.execute(
                "INSERT INTO beat_dispatches (entry, scheduled_for, claimed_at, claimed_by, task, outcome) "
                "VALUES (%s, %s, %s, 'earlier@beat', %s, 'sent')",
                (name, last, last, e["task"]),
            )
    # a beat that died between its claim and the broker's answer left two claims unsettled
    orphans = {
        "orphan-resent": {**HOLD, "every_s": period, "offset_s": offset, "catch_up": "until_next"},
        "orphan-late": {**HOLD, "every_s": period, "offset_s": offset, "catch_up": "never"},
    }
    calendar.update(orphans)
    with psycopg.connect(_dsn(HISTORY_DB, password=False), autocommit=True) as conn:
        for name in orphans:
            conn.execute(
                "INSERT INTO beat_dispatches (entry, scheduled_for, claimed_at, claimed_by, task, outcome) "
                "VALUES (%s, %s, %s, 'dead@beat', 'diag.hold', 'sending')",
                (name, newest, newest),
            )
    b = _start(beats, _env(maint_env), session_tmp, calendar)
    # both caught-up runs are diag.hold at once: one may be skipped by its singleton lock
    done = "trigger = 'beat' AND status IN ('succeeded', 'skipped')"
    wait_for(lambda: len(history_rows(done)) >= 3, timeout=25, what="the caught-up runs")
    b.stop()

    by_entry: dict[str, Counter[str]] = {}
    for d in dispatches():
        if d["claimed_by"] != "earlier@beat":
            by_entry.setdefault(str(d["entry"]), Counter())[str(d["outcome"])] += 1
    assert by_entry["backup"] == Counter(missed=5, sent=1)
    assert by_entry["report"] == Counter(missed=6)
    assert by_entry["step-over"] == Counter(missed=6)
    assert by_entry["step-open"] == Counter(missed=5, sent=1)
    assert "health" not in by_entry  # an interval is never caught up, never recorded
    assert by_entry["orphan-resent"] == Counter(sent=1)  # resent with its own task id
    assert by_entry["orphan-late"] == Counter(missed=1)
    late = {str(d["entry"]) for d in dispatches() if d["outcome"] == "sent" and d["late"]}
    assert late == {"backup", "step-open", "orphan-resent"}
    from tasks.beat import occurrence_id

    resent = history_rows("celery_task_id = %s", (occurrence_id("orphan-resent", newest),))
    assert len(resent) == 1 and resent[0]["trigger"] == "beat"

    missed = history_rows("status = 'missed'")
    assert len(missed) == 23
    assert all(r["trigger"] == "beat" and r["finished_at"] is not None for r in missed)
    report = [r for r in missed if r["task"] == "cache.stats"]
    started = report[-1]["started_at"]
    assert isinstance(started, datetime) and abs((started - newest).total_seconds()) < 0.01
    assert "not caught up" in str(report[-1]["summary"])

    status = run_cli("status", "--json", env=maint_env)
    assert status.returncode == 1, status.stdout + status.stderr  # a missed run needs attention
    assert '"missed"' in status.stdout
    assert RunStatus.MISSED.exit_code == 1
    hist = run_cli("history", "--status", "missed", env={**maint_env, "COLUMNS": "200"})
    assert hist.returncode == 0 and "missed" in hist.stdout


def test_a_leader_whose_session_dies_stops_sending_at_once(
    worker: Worker, beats: list[Beat], maint_env: dict[str, str], session_tmp: Path
) -> None:
    # the claims say what was sent and when; the worker only runs it
    b = _start(beats, _env(maint_env), session_tmp, {"tick": {**HOLD, "every_s": 1}})
    wait_for(lambda: len(dispatches()) >= 2, timeout=20, what="the leader sending")
    with psycopg.connect(_dsn(HISTORY_DB, password=False), autocommit=True) as admin:
        gone = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (f"maint-lock {b.pid}@{socket.gethostname()}"[:63],),
        ).fetchall()
        assert gone == [(True,)]
        cut = datetime.now(UTC)
    wait_for(lambda: "no longer leading" in b.log(), timeout=5, what="the leader standing down")
    led = wait_for(lambda: _logged_at(b, "leading now")[1:], timeout=10, what="leading again")
    # nothing was claimed (so nothing sent) between the cut and leading again
    assert [d for d in dispatches() if cut < d["claimed_at"] < led[0]] == []  # type: ignore[operator]
    assert _logged_at(b, "no longer leading")[0] < led[0]


def _logged_at(b: Beat, text: str) -> list[datetime]:
    """When beat logged lines containing ``text`` (its JSON log lines' timestamps)."""
    import json

    out = []
    for line in b.log().splitlines():
        if text in line and line.startswith("{"):
            out.append(datetime.fromisoformat(json.loads(line)["timestamp"].replace("Z", "+00:00")))
    return out


def test_beat_sends_a_window_to_window_run_which_runs_its_steps_on_the_worker(
    beats: list[Beat], maint_env: dict[str, str], session_tmp: Path, target_db: str
) -> None:
    """The wiring end to end: beat sends ``window.run`` (trigger beat) to a worker, whose
    run opens the window and runs its steps there, each a history row linked to it.
    The worker reads the test calendar (tests/window_calendar.py) and listens on a queue
    of its own, so the session's worker does not take the message."""
    queue = f"{maint_env['MAINT_QUEUE']}-window"
    env = {
        **maint_env,
        "MAINT_QUEUE": queue,
        "MAINT_CALENDAR_MODULE": "tests.window_calendar",
        "PYTHONPATH": str(ROOT),
    }
    w = start_worker(env, session_tmp / f"window-worker-{time_ns()}.log", concurrency=1)
    try:
        day = datetime.now(UTC).date() + timedelta(days=1)
        while day.isoweekday() != 7 or day.day <= 7:  # a weekly Sunday ahead
            day += timedelta(days=1)
        hour = 3600.0
        # due once, in 12 s: a beat anchors a new entry at its start, so an instant that
        # passes while it starts up (a loaded machine) would never be sent
        offset = (datetime.now(UTC).timestamp() + 12) % hour
        calendar = {
            "weekly-window": {
                "task": "window.run",
                "kwargs": {"kind": "weekly", "date": day.isoformat()},
                "every_s": hour,
                "offset_s": offset,
                "queue": queue,
            }
        }
        b = _start(beats, _env(maint_env), session_tmp, calendar)
        wait_for(lambda: "leading now" in b.log(), timeout=12, what=f"leadership\n{b.log()}")
        (own,) = wait_for(
            lambda: history_rows("task = 'window.run' AND status <> 'running'"),
            timeout=40,
            what=f"the window's run\n{b.log()[-2000:]}\n{w.log()[-2000:]}",
        )
        assert own["trigger"] == "beat" and own["status"] == "succeeded", (
            own["summary"],
            history_rows("status = 'failed'"),
        )
        with psycopg.connect(_dsn(HISTORY_DB, password=False)) as conn:
            (win,) = conn.execute("SELECT id, trigger, local_date FROM window_runs").fetchall()
        assert win[1:] == ("beat", day)
        steps = history_rows("window_run_id = %s", (win[0],))
        assert [(r["task"], r["trigger"], r["status"]) for r in steps] == [
            ("db.stats", "window", "succeeded"),
            ("cache.stats", "window", "succeeded"),
            ("diag.hold", "window", "succeeded"),
            ("diag.hold", "window", "succeeded"),
        ]
        assert {r["host"] for r in steps} == {own["host"]}  # on the worker, in its run
    finally:
        w.stop()
