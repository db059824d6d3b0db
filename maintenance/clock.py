"""The one time seam. Everything that needs "now" calls :func:`now`, which tests control
with ``time_machine``. Inside the suite every timestamp is an aware UTC datetime; local
time exists only at the edges (beat's calendar, what the CLI prints)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def monotonic() -> float:
    """Seconds from an arbitrary origin, for measuring durations."""
    return time.monotonic()


def to_local(moment: datetime, tz: str | ZoneInfo) -> datetime:
    """Convert an aware datetime to the configured local zone for display."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    return moment.astimezone(zone)
