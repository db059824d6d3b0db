""":func:`send`: a message through every configured channel, each claimed, attempted and
recorded in ``notifications``; never raises for a channel's failure."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from maintenance import clock, redact
from maintenance.config import Settings
from maintenance.errors import MaintenanceError
from maintenance.logs_setup import get_logger
from maintenance.notify import sendlog, smtp, webhook
from maintenance.notify.message import Delivery, Message
from maintenance.notify.retry import Attempted

log = get_logger("maint.notify")

CHANNELS = (webhook.NAME, smtp.NAME)


def configured_channels(settings: Settings) -> list[str]:
    """The channels that are set up, in a fixed order (webhook, email)."""
    out = []
    if settings.notify_webhook_url is not None:
        out.append(webhook.NAME)
    if settings.notify_smtp_host:
        out.append(smtp.NAME)
    return out


def send(
    settings: Settings, message: Message, *, channels: list[str] | None = None
) -> list[Delivery]:
    """One :class:`Delivery` per configured channel (those of ``channels`` only, when
    given), the channels in parallel."""
    unknown = sorted(set(channels or ()) - set(CHANNELS))
    if unknown:
        raise ValueError(f"unknown notification channel(s) {unknown} (known: {list(CHANNELS)})")
    names = [n for n in configured_channels(settings) if channels is None or n in channels]
    if not names:
        return []
    # each thread runs in a copy of this context: the run's log fields (run_id ...) follow
    contexts = [contextvars.copy_context() for _ in names]
    with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="notify") as pool:
        return list(pool.map(lambda n, c: c.run(_guarded, settings, n, message), names, contexts))


def _guarded(settings: Settings, channel: str, message: Message) -> Delivery:
    try:
        return _one(settings, channel, message)
    except Exception as exc:  # noqa: BLE001 - never raised: a Delivery that says what happened
        error = redact.scrub(f"{type(exc).__name__}: {exc}")
        log.error("notify.error", channel=channel, kind=message.kind, error=error)
        return Delivery(
            channel, ok=False, skipped=False, attempts=0, error=error, notification_id=None
        )


def _one(settings: Settings, channel: str, message: Message) -> Delivery:
    sent_at = clock.now()
    deliver: Callable[[], Attempted]
    if channel == webhook.NAME:
        url = settings.notify_webhook_url.get_secret_value() if settings.notify_webhook_url else ""
        body = webhook.payload(message, sent_at=sent_at)
        record: dict[str, Any] = body

        def deliver() -> Attempted:
            return webhook.deliver(
                url,
                body,
                timeout_s=settings.notify_webhook_timeout_s,
                attempts=settings.notify_webhook_attempts,
                backoff_s=settings.notify_backoff_s,
            )
    else:
        mail = smtp.build(settings, message, sent_at=sent_at)
        record = smtp.record(settings, message)

        def deliver() -> Attempted:
            return smtp.deliver(settings, mail)

    dsn = settings.history_dsn.get_secret_value()
    fields = {"channel": channel, "kind": message.kind, "dedup_key": message.dedup_key}
    notification_id: int | None = None
    recorded = True
    try:
        notification_id = sendlog.claim(dsn, message, channel, record)
        if notification_id is None:
            log.info("notify.skipped", reason="already sent or being sent", **fields)
            return Delivery(
                channel, ok=True, skipped=True, attempts=0, error=None, notification_id=None
            )
    except MaintenanceError as exc:
        # A page must still go out while the history database is down: sent unrecorded
        # (its key cannot be checked, so at worst it goes out twice).
        recorded = False
        log.warning("notify.unrecorded", error=redact.scrub(str(exc)), **fields)
    try:
        result = deliver()
    except Exception as exc:  # noqa: BLE001 - a channel's failure is a Delivery, never raised
        result = Attempted(False, 1, redact.scrub(f"{type(exc).__name__}: {exc}"))
    if recorded and notification_id is not None:
        try:
            sendlog.finish(
                dsn, notification_id, ok=result.ok, attempts=result.attempts, error=result.error
            )
        except MaintenanceError as exc:
            log.warning("notify.finish_unrecorded", error=redact.scrub(str(exc)), **fields)
    if result.ok:
        log.info("notify.sent", attempts=result.attempts, **fields)
    else:
        log.warning("notify.failed", attempts=result.attempts, error=result.error, **fields)
    return Delivery(
        channel,
        ok=result.ok,
        skipped=False,
        attempts=result.attempts,
        error=result.error,
        notification_id=notification_id,
    )
