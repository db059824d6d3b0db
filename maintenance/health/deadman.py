"""The dead man's switch: ``health.check`` tells an outside service (healthchecks.io, or
anything that speaks its URLs) that it ran, so that someone outside notices when it does
not (a dead beat, no worker, a host down).

``MAINT_HEALTH_DEADMAN_URL`` is the check's ping URL. A run requests ``URL/start`` when it
starts, then ``URL`` when it ends healthy or degraded, or ``URL/fail`` when it ends
critical or crashed; the body is the run's one-line summary. The service alerts when no
success came within its period and grace time, or on a fail.

A request that fails (no answer, an HTTP error) is reported, never raised: the check's
outcome is the check's own (borgmatic's rule: a monitoring hook never changes the
outcome, and the run's own exception wins). Each request is bounded by
``MAINT_HEALTH_DEADMAN_TIMEOUT_S`` as a whole, not per socket operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx

from maintenance import redact
from maintenance.config import Settings
from maintenance.health import parallel

#: The most of a summary sent as a ping's body (healthchecks.io keeps 100 kB).
BODY_MAX = 10_000


class Signal(StrEnum):
    START = "start"
    SUCCESS = "success"
    FAIL = "fail"


def url_for(base: str, signal: Signal) -> str:
    """healthchecks.io's URL of ``signal`` for the check whose ping URL is ``base``."""
    base = base.rstrip("/")
    return base if signal is Signal.SUCCESS else f"{base}/{signal.value}"


@dataclass(frozen=True)
class Ping:
    signal: Signal
    ok: bool
    detail: str  # "HTTP 200", or why it failed (secrets masked)

    def __str__(self) -> str:
        return f"{self.signal.value}: {self.detail}"


def _post(url: str, body: str, timeout_s: float) -> int:
    resp = httpx.post(url, content=body.encode()[:BODY_MAX], timeout=timeout_s)
    return resp.status_code


def ping(settings: Settings, signal: Signal, body: str = "") -> Ping | None:
    """Send ``signal``; None when no dead man's switch is set up. Never raises."""
    if settings.health_deadman_url is None:
        return None
    url = url_for(settings.health_deadman_url.get_secret_value(), signal)
    limit = settings.health_deadman_timeout_s
    probe = parallel.Probe("deadman", "host", lambda: _post(url, body, limit), limit)
    try:
        outcome = parallel.run([probe], limit)["deadman"]
    except Exception as exc:  # noqa: BLE001 - no thread to be had: reported, never raised
        outcome = parallel.Outcome("deadman", error=parallel.describe(exc))
    if not outcome.ok:
        detail = str(outcome.problem).replace(url, "MAINT_HEALTH_DEADMAN_URL")
        return Ping(signal, False, redact.scrub(detail))
    code = int(outcome.value)
    return Ping(signal, 200 <= code < 300, f"HTTP {code}")
