"""alerts.test and the notices as recorded runs: every channel reached, one check per
channel, no channel is a failing check that names the settings, a notice goes out once
per window, and a template asking for a field the notice lacks fails the run and sends
nothing."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import psycopg
import pytest
import time_machine

from maintenance import catalog, runner
from maintenance.config import Settings, load_settings
from maintenance.results import Trigger
from tests.conftest import HISTORY_DB, _dsn, history_rows, run_cli
from tests.integration.notify_servers import (
    Mailbox,
    Receiver,
    channel_settings,
    mailbox,
    receiver,
)

__all__ = ["mailbox", "receiver"]  # fixtures

pytestmark = pytest.mark.integration


def notifications() -> list[dict[str, Any]]:
    with psycopg.connect(_dsn(HISTORY_DB, password=False)) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return list(cur.execute("SELECT * FROM notifications ORDER BY id"))


def both(receiver: Receiver, mailbox: Mailbox, **more: Any) -> Settings:
    settings: Settings = channel_settings(receiver, mailbox, **more)
    return settings


def run(task: str, settings: Settings, **params: Any) -> runner.Outcome:
    return runner.execute(catalog.get(task), params, settings=settings, trigger=Trigger.CLI)


def test_alerts_test_reaches_every_channel_with_a_check_each(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    outcome = run("alerts.test", both(receiver, mailbox))
    assert outcome.status == "succeeded", outcome.summary
    checks = {c["name"]: c for c in outcome.result["checks"]}
    assert checks["channel webhook"]["status"] == "pass"
    assert checks["channel webhook"]["observed"] == "sent in 1 attempt"
    assert checks["channel email"]["status"] == "pass"
    [body] = receiver.bodies("ok")
    assert body["maint"]["kind"] == "test"
    [mail] = mailbox.messages
    assert mail["Subject"].startswith("[INFO] Test message")
    rows = notifications()
    assert {(r["channel"], r["kind"], r["run_id"]) for r in rows} == {
        ("webhook", "test", outcome.run_id),
        ("email", "test", outcome.run_id),
    }


def test_alerts_test_fails_when_a_channel_fails_and_says_why(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    secret = secrets.token_hex(10)
    outcome = run(
        "alerts.test", both(receiver, mailbox, notify_webhook_url=receiver.url("gone", secret))
    )
    assert outcome.status == "failed"
    checks = {c["name"]: c for c in outcome.result["checks"]}
    assert checks["channel webhook"]["status"] == "fail"
    assert checks["channel webhook"]["observed"] == "failed after 1 attempt"
    assert "HTTP 404" in checks["channel webhook"]["detail"]
    assert checks["channel email"]["status"] == "pass"
    [row] = history_rows()
    assert secret not in json.dumps(row, default=str)


def test_alerts_test_without_a_channel_fails_naming_the_settings(clean_history: str) -> None:
    outcome = run("alerts.test", load_settings())
    assert outcome.status == "failed"
    [check] = outcome.result["checks"]
    assert check["status"] == "fail"
    assert "MAINT_NOTIFY_WEBHOOK_URL" in check["detail"]
    assert "MAINT_NOTIFY_SMTP_HOST" in check["detail"]


def test_the_weekly_notice_goes_out_once_per_window_unless_forced(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    settings = both(receiver, mailbox)
    # Friday 15:00 in New York (MAINT_TIMEZONE of the tests): the window of Sunday 13 Dec
    with time_machine.travel("2026-12-11T20:00:00Z", tick=False):
        first = run("notice.weekly", settings)
        again = run("notice.weekly", settings)
        forced = run("notice.weekly", settings, force=True)
    assert first.status == again.status == forced.status == "succeeded"
    assert first.result["figures"]["notice"]["dedup_key"] == "notice:weekly:2026-12-13"
    assert "skipped (already sent)" in again.summary
    assert len(receiver.bodies("ok")) == 2 and len(mailbox.messages) == 2
    subject = mailbox.messages[0]["Subject"]
    assert subject == (
        "[INFO] Scheduled maintenance: Weekly maintenance on Sunday 13 December 2026, "
        "02:00-06:00 EST"
    )
    body = mailbox.messages[0].get_payload()
    assert "America/New_York" in body and "02:30-03:30  Backup operations" in body


def test_a_template_asking_for_an_unknown_field_fails_the_run_and_sends_nothing(
    receiver: Receiver, mailbox: Mailbox, clean_history: str, tmp_path: Path
) -> None:
    (tmp_path / "weekly.txt").write_text("Subject: Window $date\n\nCall $pager_number now.\n")
    settings = both(receiver, mailbox, notify_templates_dir=tmp_path)
    outcome = run("notice.weekly", settings, date="2026-12-13")
    assert outcome.status == "failed"
    [row] = history_rows()
    assert row["status"] == "failed" and row["error_type"] == "ConfigError"
    assert "$pager_number" in row["error_message"]
    assert str(tmp_path / "weekly.txt") in row["error_message"]
    assert notifications() == [] and receiver.bodies() == [] and mailbox.messages == []
    # the folder replaces only what it holds: the monthly notice is the shipped one
    assert run("notice.monthly", settings, date="2027-01-03").status == "succeeded"


def test_maint_notice_preview_renders_without_sending_and_send_records_it(
    receiver: Receiver, maint_env: dict[str, str], clean_history: str
) -> None:
    env = {
        **maint_env,
        "MAINT_NOTIFY_WEBHOOK_URL": receiver.url("ok", secrets.token_hex(8)),
    }
    res = run_cli("notice", "preview", "status", "--date", "2027-03-14", "--json", env=env)
    assert res.returncode == 0, res.stderr
    shown = json.loads(res.stdout)
    # the spring-forward night: 02:00 does not exist, the window starts at 03:00 EDT
    assert shown["start"] == "2027-03-14T03:00:00-04:00"
    assert shown["channels"] == ["webhook"]
    assert receiver.bodies() == [] and history_rows() == []
    res = run_cli(
        "notice", "send", "emergency", "-p", "reason=database disk failing", "--json", env=env
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["status"] == "succeeded"
    [body] = receiver.bodies("ok")
    assert "database disk failing" in body["text"]


def test_an_emergency_notice_needs_a_reason(
    receiver: Receiver, mailbox: Mailbox, clean_history: str
) -> None:
    outcome = run("notice.emergency", both(receiver, mailbox))
    assert outcome.status == "failed" and outcome.bad_input
    assert "missing parameter 'reason'" in (outcome.error_message or "")
    assert receiver.bodies() == [] and notifications() == []
