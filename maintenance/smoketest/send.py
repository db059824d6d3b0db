"""One smoke request against the scheduler API, timed and bounded; never raises (a probe
returns what it saw)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from maintenance import clock, redact
from maintenance.config.smoke import SmokeRequest

#: More of a body than this is not read (the keys are in the first object anyway).
MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Answer:
    """What one request got: its status, the top-level keys of its JSON object body (None:
    not a JSON object), the time to the last byte, or the problem that stopped it."""

    name: str
    status_code: int | None
    keys: tuple[str, ...] | None
    elapsed_ms: float
    problem: str | None = None
    body_note: str | None = None


def url_of(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def send(client: httpx.Client, base_url: str, req: SmokeRequest, timeout_s: float) -> Answer:
    """Send ``req``; every phase (connect, each read) is bounded by ``timeout_s``, and an
    answer whose last byte came later than ``timeout_s`` after the start is a problem."""
    t0 = clock.monotonic()
    url = url_of(base_url, req.path)

    def ms() -> float:
        return round((clock.monotonic() - t0) * 1000, 1)

    try:
        with client.stream(
            req.method,
            url,
            json=req.body,
            timeout=httpx.Timeout(timeout_s),
        ) as resp:
            body = b""
            for chunk in resp.iter_bytes():
                body += chunk
                if clock.monotonic() - t0 > timeout_s:
                    return Answer(
                        req.name,
                        resp.status_code,
                        None,
                        ms(),
                        f"no whole answer within {timeout_s:g} s",
                    )
                if len(body) > MAX_BODY:
                    break
            elapsed = ms()
    except httpx.TimeoutException:
        return Answer(req.name, None, None, ms(), f"timed out after {timeout_s:g} s")
    except httpx.HTTPError as exc:
        return Answer(req.name, None, None, ms(), redact.scrub(f"{type(exc).__name__}: {exc}"))
    if elapsed > timeout_s * 1000:
        return Answer(
            req.name, resp.status_code, None, elapsed, f"no whole answer within {timeout_s:g} s"
        )
    keys, note = _keys(body, req.method)
    return Answer(req.name, resp.status_code, keys, elapsed, None, note)


def _keys(body: bytes, method: str) -> tuple[tuple[str, ...] | None, str | None]:
    if method == "HEAD":
        return None, None
    if len(body) > MAX_BODY:
        return None, f"body larger than {MAX_BODY} bytes: not read whole"
    try:
        parsed: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, "body is not JSON"
    if not isinstance(parsed, dict):
        return None, f"body is a JSON {type(parsed).__name__}, not an object"
    return tuple(str(k) for k in parsed), None


def send_all(
    base_url: str, requests: tuple[SmokeRequest, ...], timeout_s: float, repeat: int = 1
) -> list[list[Answer]]:
    """Each request ``repeat`` times, one after the other (a smoke test must not load the
    API): per request, its answers."""
    with httpx.Client(follow_redirects=False, headers={"User-Agent": "maint-smoke"}) as client:
        return [[send(client, base_url, r, timeout_s) for _ in range(repeat)] for r in requests]
