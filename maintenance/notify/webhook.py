"""The webhook channel: a JSON POST, Slack-compatible (``text`` for notifications and
old clients, ``blocks`` for the message, ``attachments`` for the severity's colour and
the fields), plus a ``maint`` object for receivers that are not Slack.

The URL is the credential (a Slack incoming webhook's path is its secret): it is never
logged, stored or quoted in an error; errors say what happened (``HTTP 503``, ``timed
out``, ``ConnectError``) and are scrubbed of it. Redirects are followed only to the same
scheme, host and port, and only 307/308 (which keep the POST); anything else is an error.
"""

from __future__ import annotations

import email.utils
from datetime import datetime
from typing import Any

import httpx

from maintenance import redact
from maintenance.notify.message import Message, Severity, one_line
from maintenance.notify.retry import Attempted, Try, attempt

NAME = "webhook"

COLOURS = {
    Severity.INFO: "#439FE0",
    Severity.OK: "#2EB67D",
    Severity.WARNING: "#ECB22E",
    Severity.CRITICAL: "#E01E5A",
}
_MAX_REDIRECTS = 3


def payload(message: Message, *, sent_at: datetime) -> dict[str, Any]:
    """The JSON body for ``message`` (pure; holds no secret)."""
    tag = message.severity.value.upper()
    subject = one_line(message.subject, 150)
    fields = [{"title": k, "value": v, "short": len(v) <= 40} for k, v in message.fields]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject}},
        {"type": "section", "text": {"type": "mrkdwn", "text": message.text[:3000] or subject}},
    ]
    if message.fields:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{k}*\n{v}"[:2000]} for k, v in message.fields[:10]
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"{tag} · {message.kind} · maint"}],
        }
    )
    return {
        "text": f"[{tag}] {subject}",
        "blocks": blocks,
        "attachments": [
            {
                "color": COLOURS[message.severity],
                "fallback": f"[{tag}] {subject}",
                "title": subject,
                "text": message.text,
                "fields": fields,
                "footer": "residency maintenance",
                "ts": int(sent_at.timestamp()),
            }
        ],
        "maint": {
            "kind": message.kind,
            "severity": message.severity.value,
            "subject": message.subject,
            "text": message.text,
            "fields": dict(message.fields),
            "dedup_key": message.dedup_key,
            "run_id": message.run_id,
            "sent_at": sent_at.isoformat(),
        },
    }


def deliver(
    url: str,
    body: dict[str, Any],
    *,
    timeout_s: float,
    attempts: int,
    backoff_s: float,
) -> Attempted:
    """POST ``body`` to ``url`` with retries (connection errors, timeouts, 429, 5xx)."""
    # httpx logs each request's URL (logger "httpx", INFO) as it spells it: that spelling is
    # masked in every log line too, not only the setting's own
    redact.register_secret(str(httpx.URL(url)))
    with httpx.Client(
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=False,
        headers={"User-Agent": "residency-maintenance"},
    ) as client:
        result = attempt(
            lambda: _post_once(client, httpx.URL(url), body, timeout_s), attempts, backoff_s
        )
    return Attempted(result.ok, result.attempts, _clean(result.error, url))


def _post_once(client: httpx.Client, url: httpx.URL, body: dict[str, Any], timeout_s: float) -> Try:
    target = url
    for _ in range(_MAX_REDIRECTS + 1):
        try:
            resp = client.post(target, json=body)
        except httpx.TimeoutException as exc:
            return Try(False, f"timed out after {timeout_s:g} s ({type(exc).__name__})", True)
        except httpx.TransportError as exc:
            return Try(False, f"{type(exc).__name__}: {exc}", True)
        code = resp.status_code
        if 200 <= code < 300:
            return Try(True)
        if resp.is_redirect:
            nxt = target.join(resp.headers.get("location", ""))
            if (nxt.scheme, nxt.host, nxt.port) != (url.scheme, url.host, url.port):
                return Try(False, f"HTTP {code}: a redirect to another host is not followed")
            if code not in (307, 308):
                return Try(
                    False, f"HTTP {code}: only 307/308 redirects (which keep the POST) are followed"
                )
            target = nxt
            continue
        retry = code == 429 or code >= 500
        return Try(
            False,
            f"HTTP {code}: {one_line(resp.text, 200)}".rstrip(": "),
            retry,
            _retry_after(resp),
        )
    return Try(False, f"more than {_MAX_REDIRECTS} redirects")


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())


def _clean(error: str | None, url: str) -> str | None:
    """An error without the URL or its path (the secret), scrubbed of every known secret."""
    if error is None:
        return None
    parsed = httpx.URL(url)
    for secret in (url, str(parsed), parsed.raw_path.decode("ascii", "replace")):
        if len(secret) > 1:
            error = error.replace(secret, redact.MASK)
    return redact.scrub(error)
