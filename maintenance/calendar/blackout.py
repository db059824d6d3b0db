"""The playbook's NO MAINTENANCE WINDOWS, as a pure decision (docs/calendar.md).

* July 1 (fiscal year start, new residents);
* the week before each ACGME survey date: the seven days before it and the day itself;
* configured extra dates;
* the 24 hours after a schedule publication (``schedules.published_at`` in the target
  database, read by :mod:`.publication`).

Dates are local dates in ``MAINT_TIMEZONE``. A blackout skips the *disruptive* steps
(:data:`maintenance.calendar.model.DISRUPTIVE`); read-only ones (backups,
verification, health, reports) still run. A publication that could not be read is
"publication unknown": reported, never a blackout by itself and never a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

PUBLICATION_QUIET = timedelta(hours=24)
SURVEY_LEAD = timedelta(days=7)


@dataclass(frozen=True)
class Publication:
    """The newest schedule publication, as read: ``at`` (aware) or None (no
    publication yet, or ``unknown`` with the reason it could not be read)."""

    at: datetime | None = None
    unknown: str | None = None


@dataclass(frozen=True)
class Blackouts:
    """The blackout facts: configured dates and the last publication."""

    survey_dates: Sequence[date] = ()
    extra_dates: Sequence[date] = ()
    publication: Publication = Publication()


def reasons(moment: datetime, zone: ZoneInfo, facts: Blackouts) -> list[str]:
    """Why ``moment`` (aware) falls in a blackout, or [] (pure)."""
    if moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    day = moment.astimezone(zone).date()
    out = []
    if (day.month, day.day) == (7, 1):
        out.append("July 1 (fiscal year start)")
    for survey in sorted(set(facts.survey_dates)):
        if survey - SURVEY_LEAD <= day <= survey:
            out.append(f"the week before the ACGME survey on {survey.isoformat()}")
    if day in set(facts.extra_dates):
        out.append(f"blackout date {day.isoformat()} (MAINT_CALENDAR_BLACKOUT_DATES)")
    at = facts.publication.at
    if at is not None and at <= moment < at + PUBLICATION_QUIET:
        local = at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        out.append(f"within 24 hours of the schedule publication at {local}")
    return out


def skip_reason(disruptive: bool, moment: datetime, zone: ZoneInfo, facts: Blackouts) -> str | None:
    """The reason a step sent at ``moment`` is skipped, or None: only disruptive steps
    are skipped (pure)."""
    if not disruptive:
        return None
    found = reasons(moment, zone, facts)
    return "blackout: " + "; ".join(found) if found else None
