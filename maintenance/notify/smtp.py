"""The e-mail channel: one plain-text MIME message over SMTP (smtplib).

STARTTLS is required by default (``MAINT_NOTIFY_SMTP_TLS=require``: a server that does
not offer it gets nothing), or used when offered (``allow``), or not at all (``off``);
``MAINT_NOTIFY_SMTP_SSL`` speaks TLS from the first byte instead. The server's certificate
and name are always verified (``MAINT_NOTIFY_SMTP_CA_FILE`` for a private CA). The password
(``MAINT_NOTIFY_SMTP_PASSWORD_FILE``) is only sent over TLS, unless TLS is ``off``.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from maintenance import redact
from maintenance.config import Settings
from maintenance.notify.message import Message, one_line
from maintenance.notify.retry import Attempted, Try, attempt

NAME = "email"


def subject(message: Message) -> str:
    return f"[{message.severity.value.upper()}] {one_line(message.subject, 180)}"


def body(message: Message) -> str:
    """The text: the message's body, then its fields as an aligned table."""
    text = message.text.rstrip() + "\n"
    if message.fields:
        width = max(len(k) for k, _ in message.fields)
        text += "\n" + "".join(f"{k + ':':<{width + 1}} {v}\n" for k, v in message.fields)
    return text + "\n-- \nresidency maintenance (maint)\n"


def build(settings: Settings, message: Message, *, sent_at: datetime) -> EmailMessage:
    """The MIME message (pure apart from its Message-ID)."""
    sender = settings.notify_smtp_from or ""
    mail = EmailMessage()
    mail["Subject"] = subject(message)
    mail["From"] = sender
    mail["To"] = ", ".join(settings.notify_smtp_to)
    mail["Date"] = format_datetime(sent_at)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    mail["X-Maint-Kind"] = message.kind
    mail["X-Maint-Severity"] = message.severity.value
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body(message))
    for item in message.attachments:
        maintype, _, subtype = item.content_type.partition("/")
        mail.add_attachment(
            item.data, maintype=maintype, subtype=subtype or "octet-stream", filename=item.filename
        )
    return mail


def record(settings: Settings, message: Message) -> dict[str, Any]:
    """What the send log keeps of an e-mail (no credentials)."""
    return {
        "from": settings.notify_smtp_from,
        "to": list(settings.notify_smtp_to),
        "subject": subject(message),
        "text": body(message),
        "server": f"{settings.notify_smtp_host}:{settings.notify_smtp_port}",
    } | (
        {
            "attachments": [
                {"filename": a.filename, "bytes": len(a.data)} for a in message.attachments
            ]
        }
        if message.attachments
        else {}
    )


def deliver(settings: Settings, mail: EmailMessage) -> Attempted:
    password = (
        settings.notify_smtp_password.get_secret_value()
        if settings.notify_smtp_password is not None
        else None
    )
    result = attempt(
        lambda: _send_once(settings, mail, password),
        settings.notify_smtp_attempts,
        settings.notify_backoff_s,
    )
    error = result.error
    if error and password:
        error = error.replace(password, redact.MASK)
    return Attempted(result.ok, result.attempts, redact.scrub(error) if error else None)


def _context(settings: Settings) -> ssl.SSLContext:
    cafile = str(settings.notify_smtp_ca_file) if settings.notify_smtp_ca_file else None
    return ssl.create_default_context(cafile=cafile)


def _send_once(settings: Settings, mail: EmailMessage, password: str | None) -> Try:
    host, port, timeout = (
        settings.notify_smtp_host or "",
        settings.notify_smtp_port,
        settings.notify_smtp_timeout_s,
    )
    mode = settings.notify_smtp_tls
    try:
        context = _context(settings)
        conn: smtplib.SMTP
        if settings.notify_smtp_ssl:
            conn = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            conn = smtplib.SMTP(host, port, timeout=timeout)
        try:
            conn.ehlo()
            secure = settings.notify_smtp_ssl
            if not secure and mode != "off":
                if conn.has_extn("starttls"):
                    conn.starttls(context=context)
                    conn.ehlo()
                    secure = True
                elif mode == "require":
                    return Try(
                        False,
                        "the server does not offer STARTTLS and MAINT_NOTIFY_SMTP_TLS=require: "
                        "nothing sent",
                    )
            if settings.notify_smtp_username:
                if not secure and mode != "off":
                    return Try(
                        False,
                        "no TLS: the SMTP password is not sent in clear (MAINT_NOTIFY_SMTP_TLS=off "
                        "would allow it)",
                    )
                conn.login(settings.notify_smtp_username, password or "")
            refused = conn.send_message(mail)
        finally:
            _close(conn)
    except ssl.SSLCertVerificationError as exc:
        return Try(False, f"TLS certificate not trusted: {exc.verify_message}")
    except smtplib.SMTPRecipientsRefused as exc:
        return Try(False, f"every recipient refused: {_refusals(exc.recipients)}")
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return Try(False, f"SMTP {exc.smtp_code}: {one_line(text)}", 400 <= exc.smtp_code < 500)
    except TimeoutError as exc:
        return Try(False, f"timed out after {timeout:g} s ({type(exc).__name__})", True)
    except (smtplib.SMTPException, OSError) as exc:
        return Try(
            False,
            f"{type(exc).__name__}: {exc}",
            not isinstance(exc, smtplib.SMTPNotSupportedError),
        )
    if refused:
        return Try(False, f"some recipients refused (the others got it): {_refusals(refused)}")
    return Try(True)


def _refusals(recipients: dict[str, Any]) -> str:
    return ", ".join(f"{addr} ({code})" for addr, (code, _) in recipients.items())


def _close(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()
