"""The channels against local servers: a webhook receiver (200, 500 then 200, hanging,
404, a redirect elsewhere) and an SMTP server (aiosmtpd) with STARTTLS and AUTH; the send
log; dedup under two concurrent senders; secrets kept out of the record and the logs."""

from __future__ import annotations

import io
import logging
import secrets
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import structlog
from structlog.testing import capture_logs

from maintenance import logs_setup
from maintenance.config import Settings, load_settings
from maintenance.notify import Delivery, Message, Severity, configured_channels, send
from tests.conftest import HISTORY_DB, _dsn
from tests.integration import notify_servers
from tests.integration.notify_servers import Mailbox, Receiver, receiver

__all__ = ["receiver"]  # fixture

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return notify_servers.self_signed(tmp_path_factory.mktemp("tls"))


SMTP_USER = "maint-notify"


@pytest.fixture
def smtp_password() -> str:
    return f"Smtp-{secrets.token_hex(8)}-canary"


@pytest.fixture
def mailbox(cert: tuple[Path, Path], smtp_password: str) -> Iterator[Mailbox]:
    yield from notify_servers.smtp_server(*cert, user=SMTP_USER, password=smtp_password)


def notifications() -> list[dict[str, Any]]:
    with psycopg.connect(_dsn(HISTORY_DB, password=False)) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return list(cur.execute("SELECT * FROM notifications ORDER BY id"))


def webhook_settings(url: str, **more: Any) -> Settings:
    return load_settings(
        **(
            {"notify_webhook_url": url, "notify_webhook_timeout_s": 0.5, "notify_backoff_s": 0.01}
            | more
        )
    )


def smtp_settings(
    mailbox: Mailbox, cert: Path, password_file: Path, monkeypatch: pytest.MonkeyPatch, **more: Any
) -> Settings:
    monkeypatch.setenv("MAINT_NOTIFY_SMTP_PASSWORD_FILE", str(password_file))
    base = {
        "notify_smtp_host": mailbox.host,
        "notify_smtp_port": mailbox.port,
        "notify_smtp_ca_file": cert,
        "notify_smtp_username": SMTP_USER,
        "notify_smtp_from": "maint@hospital.example",
        "notify_smtp_to": ["oncall@hospital.example", "it-ops@hospital.example"],
        "notify_smtp_timeout_s": 5,
        "notify_backoff_s": 0.01,
    }
    return load_settings(**(base | more))


def msg(**kw: Any) -> Message:
    base: dict[str, Any] = {
        "kind": "alert",
        "severity": Severity.CRITICAL,
        "subject": "API critical",
        "text": "The API does not answer.\nSince 03:05.",
        "fields": (("Component", "api"), ("Status", "fail")),
    }
    return Message(**(base | kw))


# --- webhook ------------------------------------------------------------------------------


def test_a_webhook_message_is_a_slack_compatible_payload_recorded_without_its_url(
    receiver: Receiver, clean_history: str
) -> None:
    secret = f"T000/B000/{secrets.token_hex(12)}"
    settings = webhook_settings(receiver.url("ok", secret))
    assert configured_channels(settings) == ["webhook"]
    with capture_logs() as logs:
        [d] = send(settings, msg(run_id=7))
    assert (d.channel, d.ok, d.skipped, d.attempts, d.error) == ("webhook", True, False, 1, None)
    [body] = receiver.bodies("ok")
    assert body["text"] == "[CRITICAL] API critical"
    assert body["blocks"][0]["text"]["text"] == "API critical"
    [att] = body["attachments"]
    assert att["color"] == "#E01E5A"
    assert {"title": "Component", "value": "api", "short": True} in att["fields"]
    assert body["maint"]["fields"] == {"Component": "api", "Status": "fail"}
    [row] = notifications()
    assert (row["kind"], row["severity"], row["channel"], row["status"], row["attempts"]) == (
        "alert",
        "critical",
        "webhook",
        "sent",
        1,
    )
    assert row["run_id"] == 7 and row["id"] == d.notification_id and row["finished_at"]
    assert row["payload"]["text"] == "[CRITICAL] API critical"
    assert secret not in repr(row) and secret not in repr(logs)
    assert any(e["event"] == "notify.sent" for e in logs)


def test_a_5xx_is_retried_with_backoff_and_the_attempts_are_recorded(
    receiver: Receiver, clean_history: str
) -> None:
    settings = webhook_settings(receiver.url("flaky", secrets.token_hex(8)))
    [d] = send(settings, msg())
    assert d.ok and d.attempts == 2
    assert len(receiver.bodies("flaky")) == 2
    assert notifications()[0]["attempts"] == 2


def test_a_hanging_webhook_times_out_each_attempt_and_fails_without_raising(
    receiver: Receiver, clean_history: str
) -> None:
    secret = secrets.token_hex(12)
    settings = webhook_settings(
        receiver.url("hang", secret), notify_webhook_timeout_s=0.3, notify_webhook_attempts=2
    )
    with capture_logs() as logs:
        [d] = send(settings, msg())
    assert not d.ok and d.attempts == 2
    assert d.error and "timed out after 0.3 s" in d.error
    [row] = notifications()
    assert (row["status"], row["attempts"]) == ("failed", 2)
    assert "timed out" in row["error"]
    assert secret not in repr(row) + repr(logs) + d.error


@pytest.mark.parametrize(
    ("behaviour", "says"),
    [("gone", "HTTP 404"), ("redirect", "redirect to another host is not followed")],
)
def test_a_4xx_or_a_redirect_elsewhere_fails_at_once(
    receiver: Receiver, clean_history: str, behaviour: str, says: str
) -> None:
    secret = secrets.token_hex(12)
    [d] = send(webhook_settings(receiver.url(behaviour, secret)), msg())
    assert (d.ok, d.attempts) == (False, 1)
    assert d.error and says in d.error and secret not in d.error
    assert len(receiver.bodies(behaviour)) == 1


def test_a_307_on_the_same_host_is_followed(receiver: Receiver, clean_history: str) -> None:
    [d] = send(webhook_settings(receiver.url("moved", secrets.token_hex(8))), msg())
    assert (d.ok, d.attempts) == (True, 1)
    assert len(receiver.bodies("moved")) == len(receiver.bodies("ok")) == 1


def test_a_refused_connection_is_retried_then_reported(clean_history: str) -> None:
    port = notify_servers.free_port()
    [d] = send(webhook_settings(f"http://127.0.0.1:{port}/hook/{secrets.token_hex(6)}"), msg())
    assert (d.ok, d.attempts) == (False, 4)
    assert d.error and "ConnectError" in d.error


@pytest.fixture
def log_stream(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The worker's logging (JSON lines on stderr, every library's records too) into a
    buffer for one test; the process's own configuration is put back after."""
    root = logging.getLogger()
    saved = (structlog.get_config(), root.handlers[:], root.level, logs_setup._configured)
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    logs_setup.configure("INFO", "json", force=True)
    yield stream
    structlog.configure(**saved[0])
    root.handlers[:] = saved[1]
    root.setLevel(saved[2])
    logs_setup._configured = saved[3]


def test_no_log_line_holds_the_webhook_url_httpx_own_included(
    receiver: Receiver, clean_history: str, log_stream: io.StringIO
) -> None:
    secret = f"T0/B0/{secrets.token_hex(12)}"
    # the setting spelled without the path's normalisation httpx applies when it logs
    url = receiver.url("flaky", secret).replace("http://", "HTTP://")
    [d] = send(webhook_settings(url), msg())
    assert d.ok and d.attempts == 2
    lines = log_stream.getvalue()
    assert "HTTP Request: POST" in lines  # httpx's own lines were captured
    assert '"event": "notify.sent"' in lines
    assert secret not in lines


def test_a_message_still_goes_out_when_the_history_database_is_down(
    receiver: Receiver,
) -> None:
    port = notify_servers.free_port()
    settings = webhook_settings(
        receiver.url("ok", secrets.token_hex(8)),
        history_dsn=f"postgresql://postgres@127.0.0.1:{port}/maintenance",
    )
    with capture_logs() as logs:
        [d] = send(settings, msg(dedup_key="alert:health:database:fail"))
    assert (d.ok, d.skipped, d.notification_id) == (True, False, None)
    assert len(receiver.bodies("ok")) == 1
    assert any(e["event"] == "notify.unrecorded" for e in logs)


# --- dedup --------------------------------------------------------------------------------


def test_two_concurrent_senders_of_one_key_send_it_once(
    receiver: Receiver, clean_history: str
) -> None:
    settings = webhook_settings(receiver.url("ok", secrets.token_hex(8)))
    barrier = threading.Barrier(2)
    out: list[Delivery] = []

    def sender() -> None:
        barrier.wait()
        out.extend(send(settings, msg(dedup_key="notice:weekly:2026-12-13")))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted((d.ok, d.skipped) for d in out) == [(True, False), (True, True)]
    assert len(receiver.bodies("ok")) == 1
    assert [r["status"] for r in notifications()] == ["sent"]
    # and later, once more: still not sent again
    [again] = send(settings, msg(dedup_key="notice:weekly:2026-12-13"))
    assert again.skipped and len(receiver.bodies("ok")) == 1


def test_a_failed_key_is_claimed_again_and_sent(receiver: Receiver, clean_history: str) -> None:
    secret = secrets.token_hex(8)
    key = "notice:status:weekly:2026-12-13:2026-12-13T03"
    [first] = send(webhook_settings(receiver.url("gone", secret)), msg(dedup_key=key))
    assert not first.ok
    [second] = send(webhook_settings(receiver.url("ok", secret)), msg(dedup_key=key))
    assert second.ok and not second.skipped and second.notification_id == first.notification_id
    [row] = notifications()
    assert (row["status"], row["attempts"], row["error"]) == ("sent", 1, None)


# --- e-mail -------------------------------------------------------------------------------


def test_email_goes_over_starttls_with_auth_from_a_password_file(
    mailbox: Mailbox,
    cert: tuple[Path, Path],
    smtp_password: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_history: str,
) -> None:
    pw_file = tmp_path / "smtp-password"
    pw_file.write_text(smtp_password + "\n")
    settings = smtp_settings(mailbox, cert[0], pw_file, monkeypatch)
    assert configured_channels(settings) == ["email"]
    with capture_logs() as logs:
        [d] = send(settings, msg(severity=Severity.WARNING, subject="Cache degraded"))
    assert (d.channel, d.ok, d.attempts, d.error) == ("email", True, 1, None)
    assert mailbox.logins == [
        (SMTP_USER, True)
    ]  # AUTH only after STARTTLS (the server requires it)
    [mail] = mailbox.messages
    assert mail["Subject"] == "[WARNING] Cache degraded"
    assert mail["To"] == "oncall@hospital.example, it-ops@hospital.example"
    assert mail["X-Maint-Severity"] == "warning" and mail.get_content_type() == "text/plain"
    body = mail.get_payload(decode=True).decode()
    assert "The API does not answer." in body and "Component: api" in body
    [row] = notifications()
    assert (row["channel"], row["status"]) == ("email", "sent")
    assert row["payload"]["to"] == ["oncall@hospital.example", "it-ops@hospital.example"]
    assert smtp_password not in repr(row) + repr(logs)


# aiosmtpd counts only STARTTLS as TLS, so it warns about AUTH over an implicit-TLS port
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_auth(
    cert: tuple[Path, Path],
    smtp_password: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_history: str,
) -> None:
    (tmp_path / "pw").write_text(smtp_password)
    for box in notify_servers.smtp_server(
        *cert, user=SMTP_USER, password=smtp_password, implicit_tls=True
    ):
        settings = smtp_settings(box, cert[0], tmp_path / "pw", monkeypatch, notify_smtp_ssl=True)
        [d] = send(settings, msg())
        assert (d.ok, d.error) == (True, None)
        assert box.logins == [(SMTP_USER, True)] and len(box.messages) == 1


def test_a_wrong_password_fails_without_retry_or_echo(
    mailbox: Mailbox,
    cert: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_history: str,
) -> None:
    wrong = f"Wrong-{secrets.token_hex(6)}"
    (tmp_path / "pw").write_text(wrong)
    [d] = send(smtp_settings(mailbox, cert[0], tmp_path / "pw", monkeypatch), msg())
    assert (d.ok, d.attempts) == (False, 1)
    assert d.error and d.error.startswith("SMTP 535") and wrong not in d.error
    assert mailbox.messages == []


def test_an_untrusted_certificate_is_refused(
    mailbox: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_history: str
) -> None:
    other, _ = notify_servers.self_signed(tmp_path)  # a different CA than the server's
    (tmp_path / "pw").write_text("whatever-pw")
    [d] = send(smtp_settings(mailbox, other, tmp_path / "pw", monkeypatch), msg())
    assert (d.ok, d.attempts) == (False, 1)
    assert d.error and "certificate not trusted" in d.error
    assert mailbox.messages == []


def test_starttls_required_refuses_a_server_without_it(clean_history: str, tmp_path: Path) -> None:
    for plain in notify_servers.smtp_server(None, None, user=None, password=None):
        settings = load_settings(
            notify_smtp_host=plain.host,
            notify_smtp_port=plain.port,
            notify_smtp_from="maint@hospital.example",
            notify_smtp_to=["oncall@hospital.example"],
            notify_backoff_s=0.01,
        )
        [d] = send(settings, msg())
        assert not d.ok and d.error and "does not offer STARTTLS" in d.error
        assert plain.messages == []
        allowed = load_settings(**{**settings.model_dump(), "notify_smtp_tls": "allow"})
        [d] = send(allowed, msg())
        assert d.ok and len(plain.messages) == 1


def test_both_channels_in_one_send(
    receiver: Receiver,
    mailbox: Mailbox,
    cert: tuple[Path, Path],
    smtp_password: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_history: str,
) -> None:
    (tmp_path / "pw").write_text(smtp_password)
    settings = smtp_settings(
        mailbox,
        cert[0],
        tmp_path / "pw",
        monkeypatch,
        notify_webhook_url=receiver.url("ok", secrets.token_hex(8)),
    )
    deliveries = send(settings, msg(dedup_key="alert:health:api:fail"))
    assert [(d.channel, d.ok) for d in deliveries] == [("webhook", True), ("email", True)]
    assert send(settings, msg(dedup_key="alert:health:api:fail"))[1].skipped
    only = send(settings, msg(subject="x"), channels=["email"])
    assert [d.channel for d in only] == ["email"]
    with pytest.raises(ValueError, match="unknown notification channel"):
        send(settings, msg(), channels=["pager"])
