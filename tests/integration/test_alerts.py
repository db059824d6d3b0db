"""Alerts through real channels (a local webhook receiver and SMTP server), with their
state in the real job-history database: one message per change, none while unchanged,
recovery once, nothing twice after a restart or a crash between sending and recording,
held by a window until it ends, and each failed run once."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from maintenance import notify
from maintenance.alerts import evaluate, rules
from maintenance.alerts import store as alert_store
from maintenance.alerts.rules import FAIL, PASS, WARN, Observation
from maintenance.config import Settings, load_settings
from maintenance.history import store
from tests.conftest import HISTORY_DB, _dsn, run_cli, start_worker, wait_for
from tests.health_api import stand_in
from tests.integration import notify_servers
from tests.integration.notify_servers import (
    Mailbox,
    Receiver,
    channel_settings,
    mailbox,
    receiver,
)

__all__ = ["mailbox", "receiver"]  # fixtures

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
EVERY = timedelta(minutes=5)


def channels(receiver: Receiver, mailbox: Mailbox, hook: str = "ok", **more: Any) -> Settings:
    settings: Settings = channel_settings(
        receiver, mailbox, hook, notify_webhook_attempts=1, alerts_wait_s=240, **more
    )
    return settings


def sql(query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(_dsn(HISTORY_DB, password=False), autocommit=True) as conn:
        cur = conn.execute(query, args)
        return cur.fetchall() if cur.description else []


class Samples:
    """Health samples every 5 minutes from T0, per component, newest first."""

    def __init__(self) -> None:
        self.seen: dict[str, list[Observation]] = {}
        self.at = T0 - EVERY

    def add(self, **statuses: str) -> datetime:
        self.at += EVERY
        for component, status in statuses.items():
            out = "" if status == PASS else f"{component} did not answer within 2 s"
            self.seen.setdefault(component, []).insert(0, Observation(self.at, status, out))
        return self.at

    def check(self, settings: Settings) -> evaluate.Outcome:
        return evaluate.health(settings, self.seen, self.at)


def test_a_change_pages_once_on_each_channel_and_the_recovery_once(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    settings = channels(receiver, mailbox)
    s = Samples()
    s.add(api=PASS, cache=PASS, database=PASS)
    assert not s.check(settings).deliveries
    s.add(api=FAIL, cache=FAIL, database=PASS)  # a first bad sample: wait
    first = s.check(settings)
    assert not first.deliveries and not receiver.bodies() and not mailbox.messages
    s.add(api=FAIL, cache=FAIL, database=PASS)  # confirmed: one message, both components
    fired = s.check(settings)
    assert [d.channel for d in fired.deliveries if d.ok] == ["webhook", "email"]
    [body] = receiver.bodies()
    assert body["text"].startswith("[CRITICAL] residency scheduler: api critical, cache critical")
    [mail] = mailbox.messages
    assert "api critical, cache critical" in mail["Subject"]
    assert sql("SELECT key, notified_status FROM alert_state ORDER BY key") == [
        ("health:api", FAIL),
        ("health:cache", FAIL),
    ]
    for _ in range(3):  # unchanged: nothing more
        s.add(api=FAIL, cache=FAIL, database=PASS)
        assert not s.check(settings).deliveries
    s.add(api=PASS, cache=WARN, database=PASS)
    s.check(settings)
    s.add(api=PASS, cache=WARN, database=PASS)
    changed = s.check(settings)
    assert {d.key: d.action.value for d in changed.announced} == {
        "health:api": "resolve",
        "health:cache": "fire",
    }
    assert len(receiver.bodies()) == 2 and len(mailbox.messages) == 2
    assert "api healthy" in receiver.bodies()[-1]["text"]
    s.add(api=PASS, cache=PASS, database=PASS)
    s.check(settings)
    s.add(api=PASS, cache=PASS, database=PASS)
    s.check(settings)
    assert receiver.bodies()[-1]["text"].startswith("[OK] residency scheduler: cache healthy")
    assert len(receiver.bodies()) == 3 and len(mailbox.messages) == 3
    assert sql("SELECT count(*) FROM alert_state WHERE notified_status <> 'pass'") == [(0,)]


def test_a_restarted_process_does_not_page_again_nor_after_a_crash_mid_send(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    settings = channels(receiver, mailbox)
    s = Samples()
    s.add(api=FAIL)
    s.add(api=FAIL)
    # A worker sent the page and died before recording it: what it sent is what
    # evaluate.health would send (the same decision, the same dedup key).
    dsn = settings.history_dsn.get_secret_value()
    policy = evaluate.policy_of(settings)
    decision = rules.decide("health:api", "api", s.seen["api"], None, [], policy, s.at)
    assert decision.action is rules.Action.FIRE
    sent = notify.send(
        settings,
        evaluate.health_message([decision], alert_store.notified(dsn), "residency scheduler"),
    )
    assert [x.ok for x in sent] == [True, True]
    assert len(receiver.bodies()) == 1
    # The next worker (new engines, settings read again) decides the same and sends nothing.
    store.dispose_all()
    again = s.check(load_settings(**settings.model_dump()))
    assert [x.skipped for x in again.deliveries] == [True, True]
    assert again.recorded and len(receiver.bodies()) == 1 and len(mailbox.messages) == 1
    assert sql("SELECT notified_status FROM alert_state WHERE key = 'health:api'") == [(FAIL,)]
    s.add(api=FAIL)
    store.dispose_all()
    assert not s.check(settings).deliveries and len(receiver.bodies()) == 1


def test_a_change_no_channel_took_is_tried_again_at_the_next_check(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    s = Samples()
    s.add(database=FAIL)
    s.add(database=FAIL)
    broken = channels(receiver, mailbox, hook="gone", notify_smtp_port=notify_servers.free_port())
    out = s.check(broken)
    assert out.deliveries and not any(x.ok for x in out.deliveries)
    assert not out.recorded and sql("SELECT count(*) FROM alert_state") == [(0,)]
    assert [c.status.value for c in out.checks()] == ["warn"]  # never fails the check
    s.add(database=FAIL)
    fixed = s.check(channels(receiver, mailbox))
    assert [x.ok for x in fixed.deliveries] == [True, True] and fixed.recorded
    assert len(receiver.bodies("ok")) == 1 and len(mailbox.messages) == 1


def test_a_window_holds_what_it_takes_down_until_it_ends(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    settings = channels(receiver, mailbox)
    (window,) = sql(
        "INSERT INTO window_runs (kind, local_date, trigger, status, started_at, ends_at, "
        "expected_down) VALUES ('weekly', '2026-12-06', 'beat', 'running', %s, %s, "
        "'{api,database}') RETURNING id",
        T0 - timedelta(hours=1),
        T0 + 3 * EVERY,
    )
    s = Samples()
    s.add(api=FAIL, cache=PASS)
    s.check(settings)
    s.add(api=FAIL, cache=PASS)
    held = s.check(settings)
    assert [d.action.value for d in held.decisions if d.key == "health:api"] == ["hold"]
    assert not held.deliveries and not receiver.bodies()
    assert sql("SELECT held_since IS NOT NULL FROM alert_state WHERE key = 'health:api'") == [
        (True,)
    ]
    assert [c.name for c in held.checks()] == ["alerts held by a maintenance window"]
    s.add(api=FAIL, cache=PASS)  # still inside the window
    assert not s.check(settings).deliveries
    s.add(api=FAIL, cache=PASS)  # the window has ended and the API is still down
    after = s.check(settings)
    assert [d.key for d in after.announced] == ["health:api"] and len(receiver.bodies()) == 1
    assert sql("SELECT notified_status, held_since FROM alert_state") == [(FAIL, None)]
    assert f"(run {window[0]})" in held.decisions[0].reason


def test_a_component_back_before_its_window_ends_never_pages(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    settings = channels(receiver, mailbox)
    sql(
        "INSERT INTO window_runs (kind, local_date, trigger, status, started_at, ends_at, "
        "expected_down) VALUES ('monthly', '2026-12-06', 'beat', 'running', %s, %s, '{cache}')",
        T0 - timedelta(hours=1),
        T0 + timedelta(hours=2),
    )
    s = Samples()
    for status in (FAIL, FAIL, FAIL, PASS, PASS, PASS):
        s.add(cache=status)
        s.check(settings)
    assert not receiver.bodies() and not mailbox.messages
    assert sql("SELECT notified_status, held_since FROM alert_state") == [(PASS, None)]


def _run(task: str, status: str, trigger: str, error_type: str | None, ended: datetime) -> int:
    (row,) = sql(
        "INSERT INTO job_runs (task, trigger, status, started_at, finished_at, host, summary, "
        "error_type) VALUES (%s, %s, %s, %s, %s, 'w1', %s, %s) RETURNING id",
        task,
        trigger,
        status,
        ended - timedelta(minutes=3),
        ended,
        f"{task} went wrong",
        error_type,
    )
    return int(row[0])


def test_each_failed_lost_or_missed_run_is_announced_once(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    settings = channels(receiver, mailbox)
    now = datetime.now(UTC)
    backup = _run("backup.create", "failed", "beat", "DumpFailed", now - timedelta(hours=1))
    lost = _run("db.report", "lost", "adhoc", None, now - timedelta(minutes=30))
    missed = _run("db.stats", "missed", "beat", None, now - timedelta(minutes=20))
    _run("db.stats", "failed", "cli", "CheckFailed", now)  # a person saw it
    _run("db.stats", "failed", "adhoc", "ParamError", now)  # refused input
    _run("health.check", "failed", "beat", "CheckFailed", now)  # excluded
    _run("db.stats", "failed", "beat", "CheckFailed", now - timedelta(days=2))  # too old
    _run("db.stats", "succeeded", "beat", None, now)
    out = evaluate.runs(settings, now)
    assert out.runs_sent == [backup, lost, missed]
    subjects = [b["text"].split("\n")[0] for b in receiver.bodies()]
    assert subjects[0].startswith(f"[CRITICAL] backup.create run {backup} failed")
    assert subjects[1].startswith(f"[WARNING] db.report run {lost} lost")
    assert subjects[2].startswith(f"[WARNING] db.stats run {missed} missed")
    assert len(mailbox.messages) == 3
    assert "no beat sent it in time" in mailbox.messages[2].get_body().get_content()
    assert f"maint show {backup}" in mailbox.messages[0].get_body().get_content()
    again = evaluate.runs(settings, now + timedelta(minutes=5))
    assert again.runs_sent == [] and again.deliveries == []
    assert len(receiver.bodies()) == 3 and len(mailbox.messages) == 3
    assert sorted(sql("SELECT dedup_key, channel, status FROM notifications")) == sorted(
        (f"run:{run}", channel, "sent")
        for run in (backup, lost, missed)
        for channel in ("webhook", "email")
    )


def _finished_checks() -> int:
    return int(
        sql("SELECT count(*) FROM job_runs WHERE task = 'health.check' AND status <> 'running'")[0][
            0
        ]
    )


@pytest.mark.worker
def test_health_check_on_a_worker_pages_once_and_a_restarted_worker_does_not_again(
    maint_env: dict[str, str],
    clean_history: str,
    tmp_path: Path,
    receiver: Receiver,
    mailbox: Mailbox,
) -> None:
    """The issue's check: the API down, health.check on a real worker pages once (one
    webhook, one e-mail); the worker is killed mid-incident, a new one takes over, and
    its check does not page again for the API."""
    from tasks.app import app

    with stand_in("hang") as api:
        env = maint_env | {
            "MAINT_QUEUE": f"{maint_env['MAINT_QUEUE']}-alerts",
            "MAINT_API_URL": api.url,
            "MAINT_HEALTH_PROBE_TIMEOUT_S": "1",
            "MAINT_HEALTH_TIMEOUT_S": "2",
            "MAINT_HEALTH_WORKER_PING_S": "0.3",
            "MAINT_HEALTH_LOAD_PER_CORE_MAX": "1000",
            "MAINT_HEALTH_DB_CACHE_HIT_MIN": "0",
            "MAINT_ALERTS_WAIT_S": "0",
            "MAINT_NOTIFY_WEBHOOK_URL": receiver.url("ok", secrets.token_hex(8)),
            "MAINT_NOTIFY_SMTP_HOST": mailbox.host,
            "MAINT_NOTIFY_SMTP_PORT": str(mailbox.port),
            "MAINT_NOTIFY_SMTP_TLS": "off",
            "MAINT_NOTIFY_SMTP_FROM": "maint@hospital.example",
            "MAINT_NOTIFY_SMTP_TO": '["oncall@hospital.example"]',
        }

        def check_on(worker_log: Path, done: int) -> None:
            worker = start_worker(env, worker_log, concurrency=1)
            try:
                app.send_task("health.check", queue=env["MAINT_QUEUE"])
                wait_for(lambda: _finished_checks() == done, timeout=60, what="health.check")
            finally:
                worker.kill9()  # mid-incident: the API is still down

        check_on(tmp_path / "w1.log", 1)
        about_api = [b for b in receiver.bodies() if "api critical" in b["text"]]
        assert len(about_api) == 1 and len(receiver.bodies()) == 1
        assert len(mailbox.messages) == 1 and "api critical" in mailbox.messages[0]["Subject"]
        check_on(tmp_path / "w2.log", 2)
    assert [b for b in receiver.bodies() if "api" in b["text"].split("\n")[0]] == about_api
    assert sum("api" in m["Subject"] for m in mailbox.messages) == 1
    assert sql("SELECT notified_status FROM alert_state WHERE key = 'health:api'") == [(FAIL,)]


def test_maint_alerts_list_shows_open_and_held_alerts_and_the_messages(
    maint_env: dict[str, str], receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    settings = channels(receiver, mailbox)
    sql(
        "INSERT INTO window_runs (kind, local_date, trigger, status, started_at, ends_at, "
        "expected_down) VALUES ('weekly', '2026-12-06', 'beat', 'running', %s, %s, '{cache}')",
        T0 - timedelta(hours=1),
        T0 + timedelta(hours=2),
    )
    s = Samples()
    for _ in range(2):
        s.add(api=FAIL, cache=FAIL)
        s.check(settings)
    listed = run_cli("alerts", "list", "--json", env=maint_env)
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    states = {a["key"]: (a["status"], a["held_since"] is not None) for a in doc["open"]}
    assert states == {"health:api": (FAIL, False), "health:cache": (PASS, True)}
    assert {(n["channel"], n["status"], n["kind"]) for n in doc["notifications"]} == {
        ("webhook", "sent", "alert"),
        ("email", "sent", "alert"),
    }
    table = run_cli("alerts", "list", env=maint_env | {"COLUMNS": "120"})
    assert table.returncode == 0
    assert "health:api" in table.stdout and "critical" in table.stdout
    (held,) = [line for line in table.stdout.splitlines() if "health:cache" in line]
    assert " held " in held and "weekly window" in held
    assert "latest messages" in table.stdout


def test_a_burst_of_failed_runs_is_announced_over_the_next_checks(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    settings = channels(receiver, mailbox, notify_smtp_host=None)  # the webhook alone
    now = datetime.now(UTC)
    burst = [
        _run("db.stats", "failed", "beat", "CheckFailed", now - timedelta(minutes=30 - i))
        for i in range(evaluate.RUNS_PER_CHECK + 2)
    ]
    first = evaluate.runs(settings, now)
    assert first.runs_sent == burst[: evaluate.RUNS_PER_CHECK]  # oldest first
    assert evaluate.runs(settings, now).runs_sent == burst[evaluate.RUNS_PER_CHECK :]
    assert evaluate.runs(settings, now).runs_sent == []
    assert len(receiver.bodies()) == len(burst)
