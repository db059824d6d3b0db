"""The send log: one ``notifications`` row per message and channel.

A message with a ``dedup_key`` is *claimed* before it is sent, with one statement::

    INSERT ... ON CONFLICT (dedup_key, channel) WHERE dedup_key IS NOT NULL
    DO UPDATE SET status = 'sending', ... WHERE notifications.status = 'failed'
    RETURNING id

Two senders racing for the same key and channel: PostgreSQL makes the second wait for the
first's row, then finds the conflict; only a ``failed`` row is taken over, so the second
gets no row back and sends nothing (``skipped``). A row left ``sending`` by a process
that died is not taken over (it may have been delivered): ``force`` (a notice's
parameter) sends again without a key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError

from maintenance import clock, redact
from maintenance.history import store
from maintenance.history.models import Notification
from maintenance.notify.message import Message


def claim(dsn: str, message: Message, channel: str, payload: dict[str, Any]) -> int | None:
    """Insert the row ``sending``; its id, or None when the key is already sent or being
    sent on this channel. Raises ServiceUnavailable/HistorySchemaError from the store."""
    now = clock.now()
    values = {
        "created_at": now,
        "kind": message.kind,
        "severity": message.severity.value,
        "subject": redact.scrub(message.subject),
        "channel": channel,
        "dedup_key": message.dedup_key,
        "status": "sending",
        "attempts": 0,
        "run_id": message.run_id,
        "payload": redact.scrub_value(payload),
    }
    stmt = insert(Notification).values(**values)
    if message.dedup_key is not None:
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[Notification.dedup_key, Notification.channel],
            index_where=Notification.dedup_key.isnot(None),
            set_={
                "created_at": excluded.created_at,
                "finished_at": None,
                "kind": excluded.kind,
                "severity": excluded.severity,
                "subject": excluded.subject,
                "status": "sending",
                "attempts": 0,
                "error": None,
                "run_id": excluded.run_id,
                "payload": excluded.payload,
            },
            where=Notification.status == "failed",
        )
    try:
        with store.session(dsn) as s, s.begin():
            got = s.execute(stmt.returning(Notification.id)).scalar_one_or_none()
    except DBAPIError as exc:
        raise store.unavailable(exc) from None
    return int(got) if got is not None else None


def finish(
    dsn: str,
    notification_id: int,
    *,
    ok: bool,
    attempts: int,
    error: str | None,
    finished_at: datetime | None = None,
) -> None:
    try:
        with store.session(dsn) as s, s.begin():
            s.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(
                    status="sent" if ok else "failed",
                    attempts=attempts,
                    error=redact.scrub(error) if error else None,
                    finished_at=finished_at or clock.now(),
                )
            )
    except DBAPIError as exc:
        raise store.unavailable(exc) from None
