"""The report's month: ``YYYY-MM``, the one before now, and its span in UTC instants
(local midnights, so a month with a DST change is its real length). Pure."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from maintenance.errors import BadInput

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` -> (year, month); BadInput otherwise."""
    m = _MONTH.match(text.strip())
    if not m:
        raise BadInput(f"month must be YYYY-MM (e.g. 2026-11), got {text!r}")
    return int(m.group(1)), int(m.group(2))


def previous_month(now: datetime, zone: ZoneInfo) -> str:
    """The month before the one ``now`` falls in, in ``zone``."""
    local = now.astimezone(zone).date().replace(day=1) - timedelta(days=1)
    return f"{local.year:04d}-{local.month:02d}"


def span(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The month as UTC instants [first local midnight, next month's first local midnight)."""
    year, mon = parse_month(month)
    first = date(year, mon, 1)
    nxt = date(year + mon // 12, mon % 12 + 1, 1)

    def midnight(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)

    return midnight(first), midnight(nxt)
