"""The window notices (docs/notices.md): which window a notice is about, the values its
template gets, and the rendering (pure, given the template's text and ``now``).

Templates are files, ``templates/<kind>.txt`` in this package, each replaced by a file of
the same name in ``MAINT_NOTIFY_TEMPLATES_DIR`` when there is one. The first line is
``Subject: ...``, then a blank line, then the body. ``$name`` is a field (``$$`` a dollar
sign); a field the notice does not provide is an error that names it, never a blank.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from maintenance.errors import ConfigError
from maintenance.notify.message import Message, Severity, one_line
from maintenance.windows import (
    WINDOWS,
    WindowKind,
    current_or_last_date,
    next_date,
    slot_spans,
    span,
)


class NoticeKind(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    EMERGENCY = "emergency"
    STATUS = "status"
    ALL_CLEAR = "all_clear"
    PROBLEM = "problem"


#: The advance notices and the window kind each announces.
ADVANCE = {
    NoticeKind.WEEKLY: WindowKind.WEEKLY,
    NoticeKind.MONTHLY: WindowKind.MONTHLY,
    NoticeKind.QUARTERLY: WindowKind.QUARTERLY,
}
#: Notices about a window under way or just ended.
DURING = (NoticeKind.STATUS, NoticeKind.ALL_CLEAR, NoticeKind.PROBLEM)

SEVERITY = {
    NoticeKind.WEEKLY: Severity.INFO,
    NoticeKind.MONTHLY: Severity.INFO,
    NoticeKind.QUARTERLY: Severity.INFO,
    NoticeKind.EMERGENCY: Severity.WARNING,
    NoticeKind.STATUS: Severity.INFO,
    NoticeKind.ALL_CLEAR: Severity.OK,
    NoticeKind.PROBLEM: Severity.CRITICAL,
}

DEFAULT_STATUS = "Work is proceeding as planned."
DEFAULT_ALL_CLEAR = "Everything planned was done."
DEFAULT_PROBLEM = "Updates will follow."


@dataclass(frozen=True)
class Request:
    """What a notice is about (a task's parameters, resolved)."""

    kind: NoticeKind
    window: WindowKind
    date: date | None = None
    #: An emergency's start (aware) and length.
    start: datetime | None = None
    duration: timedelta | None = None
    reason: str | None = None
    message: str | None = None
    what_failed: str | None = None
    impact: str | None = None
    activities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    window: WindowKind
    date: date
    start: datetime
    end: datetime
    subject: str
    text: str
    dedup_key: str
    fields: tuple[tuple[str, str], ...]

    def message(self, *, force: bool, run_id: int | None) -> Message:
        return Message(
            kind="notice",
            severity=SEVERITY[self.kind],
            subject=self.subject,
            text=self.text,
            fields=self.fields,
            dedup_key=None if force else self.dedup_key,
            run_id=run_id,
        )


# --- templates ---------------------------------------------------------------------------


def template(kind: NoticeKind, folder: Path | None) -> tuple[str, str]:
    """(text, where it came from) of the template of ``kind``: the folder's file of that
    name when there is one, else the shipped one."""
    name = f"{kind.value}.txt"
    if folder is not None:
        path = folder / name
        if path.is_file():
            try:
                return path.read_text(encoding="utf-8"), str(path)
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"notice template {path}: cannot read it: {exc}") from None
    shipped = resources.files("maintenance.notify").joinpath("templates", name)
    return shipped.read_text(encoding="utf-8"), f"shipped template {name}"


def render(text: str, values: dict[str, str], *, where: str) -> tuple[str, str]:
    """(subject, body) of a template (pure). A field that ``values`` lacks, a bad ``$``
    or a missing ``Subject:`` line is a ConfigError that names it and where."""
    tpl = string.Template(text)
    try:
        filled = tpl.substitute(values)
    except KeyError as exc:
        field = exc.args[0]
        raise ConfigError(
            f"notice template {where}: field ${field} is not provided for this notice "
            f"(its fields: {', '.join('$' + k for k in sorted(values))})"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"notice template {where}: {exc} (write $$ for a dollar sign)") from None
    head, _, body = filled.partition("\n")
    if not head.startswith("Subject:"):
        raise ConfigError(f"notice template {where}: the first line must be 'Subject: ...'")
    subject = one_line(head.removeprefix("Subject:"))
    if not subject:
        raise ConfigError(f"notice template {where}: the subject is empty")
    return subject, body.strip("\n") + "\n"


# --- values ------------------------------------------------------------------------------


def _day(d: date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def _hm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def _duration(length: timedelta) -> str:
    minutes = round(length.total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    if hours:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{rest} minutes"


def _bullets(items: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"  - {item}" for item in items) if items else "  - (none listed)"


def resolve_date(req: Request, now: datetime, zone: ZoneInfo) -> date:
    """The window's date: as given; an advance notice's default is the next window of its
    kind, a during-window notice's the one under way or last begun; an emergency's is its
    start's (pure)."""
    if req.window is WindowKind.EMERGENCY:
        return (req.start or now).astimezone(zone).date()
    if req.date is not None:
        return req.date
    if req.kind in ADVANCE:
        return next_date(req.window, now, zone)
    return current_or_last_date(req.window, now, zone)


def build(req: Request, now: datetime, zone: ZoneInfo, text: str, where: str) -> Notice:
    """The notice for ``req`` at ``now`` with template ``text`` (pure)."""
    window = WINDOWS[req.window]
    day = resolve_date(req, now, zone)
    if req.window is WindowKind.EMERGENCY:
        begin, end = span(req.window, day, zone, start=req.start or now, duration=req.duration)
    else:
        begin, end = span(req.window, day, zone)
    local_now = now.astimezone(zone)
    tz = begin.tzname() or ""
    if end.tzname() != begin.tzname():
        tz = f"{begin.tzname()}/{end.tzname()}"
    slots = slot_spans(req.window, day, zone) if req.window is not WindowKind.EMERGENCY else []
    current = next((s for s in slots if s[0] <= now < s[1]), None)
    values = {
        "window": window.title,
        "window_kind": window.kind.value,
        "date": _day(day),
        "iso_date": day.isoformat(),
        "start": _hm(begin),
        "end": _hm(end),
        "tz": tz,
        "zone": zone.key,
        "duration": _duration(end.astimezone(UTC) - begin.astimezone(UTC)),
        "impact": req.impact or window.impact,
        "activities": _bullets(req.activities or window.activities),
        "schedule": "\n".join(
            f"  {_hm(s)}-{_hm(e)}  {slot.title}: {', '.join(slot.activities)}"
            for s, e, slot in slots
        )
        or "  (no fixed schedule)",
        "expected_down": ", ".join(window.expected_down) or "none",
        "sent": f"{_day(local_now.date())} {_hm(local_now)} {local_now.tzname()}",
        "now": _hm(local_now),
        "now_tz": local_now.tzname() or "",
    }
    if req.kind is NoticeKind.EMERGENCY:
        values["reason"] = one_line(req.reason or "")
    if req.kind is NoticeKind.STATUS:
        values["message"] = req.message or DEFAULT_STATUS
        values["slot"] = (
            f"{current[2].title} ({_hm(current[0])}-{_hm(current[1])})" if current else "-"
        )
    if req.kind is NoticeKind.ALL_CLEAR:
        values["message"] = req.message or DEFAULT_ALL_CLEAR
        values["finished"] = _hm(local_now)
    if req.kind is NoticeKind.PROBLEM:
        values["what_failed"] = one_line(req.what_failed or "")
        values["message"] = req.message or DEFAULT_PROBLEM
    subject, body = render(text, values, where=where)
    fields = [
        ("Window", window.title),
        ("Date", values["date"]),
        ("Time", f"{values['start']}-{values['end']} {tz} ({zone.key})"),
        ("Impact", values["impact"]),
    ]
    if req.reason:
        fields.append(("Reason", values["reason"]))
    if req.what_failed:
        fields.append(("What failed", values["what_failed"]))
    return Notice(
        kind=req.kind,
        window=req.window,
        date=day,
        start=begin,
        end=end,
        subject=subject,
        text=body,
        dedup_key=dedup_key(req.kind, req.window, day, begin, local_now),
        fields=tuple(fields),
    )


def dedup_key(
    kind: NoticeKind, window: WindowKind, day: date, begin: datetime, local_now: datetime
) -> str:
    """Each notice goes out once (pure): an advance notice per window date, an emergency
    per declared start (to the minute), a status update per window and local hour, an
    all-clear or problem notice per window."""
    if kind in ADVANCE:
        return f"notice:{kind.value}:{day.isoformat()}"
    if kind is NoticeKind.EMERGENCY:
        return f"notice:emergency:{begin.strftime('%Y-%m-%dT%H:%M%z')}"
    if kind is NoticeKind.STATUS:
        return f"notice:status:{window.value}:{day.isoformat()}:{local_now.strftime('%Y-%m-%dT%H')}"
    return f"notice:{kind.value}:{window.value}:{day.isoformat()}"
