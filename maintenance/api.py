"""The scheduler API, from outside: is it up and healthy?

Bounded in time and never raising out of the probe: a health check returns what it saw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from maintenance import redact


@dataclass(frozen=True)
class Health:
    ok: bool
    observed: str
    status_code: int | None = None
    body: dict[str, Any] | None = None
    elapsed_ms: float | None = None


HEALTHY = {"healthy", "ok", "up", "pass"}


def probe(base_url: str, path: str, *, timeout_s: float = 5) -> Health:
    """One GET of ``base_url + path``: healthy when 200 and, if the body is JSON with a
    ``status``, that status says healthy."""
    url = base_url.rstrip("/") + "/" + path.lstrip("/")
    t0 = time.monotonic()
    try:
        resp = httpx.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return Health(False, redact.scrub(f"{type(exc).__name__}: {exc}"))
    elapsed = (time.monotonic() - t0) * 1000
    body: dict[str, Any] | None = None
    try:
        parsed = resp.json()
        body = parsed if isinstance(parsed, dict) else None
    except ValueError:
        body = None
    status = str((body or {}).get("status", "")).lower()
    ok = resp.status_code == 200 and (not status or status in HEALTHY)
    observed = (
        f"HTTP {resp.status_code}"
        + (f", status {status}" if status else "")
        + f", {elapsed:.0f} ms"
    )
    return Health(ok, observed, resp.status_code, body, elapsed)


def wait_healthy(base_url: str, path: str, *, within_s: float, every_s: float = 2) -> Health:
    """Probe until healthy or ``within_s`` has passed (the playbook's `sleep 30; curl`)."""
    deadline = time.monotonic() + within_s
    while True:
        health = probe(base_url, path)
        if health.ok or time.monotonic() >= deadline:
            return health
        time.sleep(min(every_s, max(0.0, deadline - time.monotonic())))
