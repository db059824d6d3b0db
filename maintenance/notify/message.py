"""What is sent (:class:`Message`), how urgent (:class:`Severity`) and what became of it on
one channel (:class:`Delivery`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: e-mail attaches it; the webhook sends only the text
    (which should say where the file is kept)."""

    filename: str
    content_type: str  # "text/html"
    data: bytes


@dataclass(frozen=True)
class Message:
    kind: str  # "alert" | "recovery" | "repeat" | "run" | "test" | "notice"
    severity: Severity
    subject: str  # one line
    text: str  # plain-text body (several lines)
    fields: tuple[tuple[str, str], ...] = ()  # label/value pairs (Slack fields, e-mail table)
    dedup_key: str | None = None  # sent at most once per channel (claimed in `notifications`)
    run_id: int | None = None  # the job_runs row it is about / sent from
    attachments: tuple[Attachment, ...] = ()  # e-mail only (the monthly report's HTML)


@dataclass(frozen=True)
class Delivery:
    channel: str  # "webhook" | "email"
    ok: bool
    skipped: bool  # dedup_key already sent/being sent on this channel
    attempts: int
    error: str | None  # scrubbed of secrets
    notification_id: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "channel": self.channel,
            "ok": self.ok,
            "skipped": self.skipped,
            "attempts": self.attempts,
            "error": self.error,
            "notification_id": self.notification_id,
        }


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line (a subject, a header), cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
