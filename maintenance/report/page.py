"""The report page's small parts (pure): escaping, table cells, sizes and durations as
text, a "not found" line, a chart's frame, and :class:`Page` (times in the report's zone,
tables cut at the row limit)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from maintenance.units import human_bytes


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


class Page:
    """Formatting for one report: times in its zone, tables cut at ``max_rows``."""

    def __init__(self, zone: str, max_rows: int) -> None:
        self.zone = ZoneInfo(zone)
        self.max_rows = max_rows

    def when(self, iso: str | None) -> str:
        if not iso:
            return ""
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]], *, cls: str = "") -> str:
        """``rows`` are already-escaped cells (see :func:`cell`)."""
        head = "".join(f"<th>{esc(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows[: self.max_rows])
        more = (
            f'<p class="more">{len(rows) - self.max_rows} more rows in the JSON file</p>'
            if len(rows) > self.max_rows
            else ""
        )
        klass = f' class="{esc(cls)}"' if cls else ""
        return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def cell(value: Any, *, num: bool = False, status: bool = False) -> str:
    if status:
        return f'<td class="st-{esc(value)}">{esc(value)}</td>'
    return f'<td class="num">{esc(value)}</td>' if num else f"<td>{esc(value)}</td>"


def size(n: Any) -> str:
    return human_bytes(n) if isinstance(n, int | float) else ""


def seconds(s: Any) -> str:
    if not isinstance(s, int | float):
        return ""
    if s >= 3600:
        return f"{s / 3600:.2f} h"
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.1f} s"


def missing(text: str | None) -> str:
    return f'<p class="missing">{esc(text)}</p>' if text else ""


def yes_no(v: Any) -> str:
    return "" if v is None else ("yes" if v else "NO")


def chart(svg: str | None, absent: str) -> str:
    # the SVG is matplotlib's own output, not data from the history
    return f'<div class="chart">{svg}</div>' if svg else missing(absent)
