"""The calendar's blackouts (docs/calendar.md)."""

from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from maintenance.config._base import Section


class CalendarSection(Section):
    TITLE = "Calendar"

    calendar_survey_dates: list[date] = Field(
        default_factory=list,
        description='JSON list of ACGME survey dates (["2027-03-15"]): the seven days before '
        "each, and the day itself, are blackouts (disruptive window steps are skipped).",
    )
    calendar_blackout_dates: list[date] = Field(
        default_factory=list,
        description="JSON list of extra blackout dates (local dates in MAINT_TIMEZONE), on top "
        "of July 1 and the survey weeks.",
    )
    calendar_publication_query: str = Field(
        "SELECT max(published_at) FROM schedules",
        min_length=1,
        description="Query on the target database giving the last schedule publication (one "
        "timestamp, naive = UTC); the 24 hours after it are a blackout. Run in a read-only "
        "transaction; an error or a missing table is reported as 'publication unknown'.",
    )
    calendar_publication_timeout_s: float = Field(
        5.0,
        gt=0,
        le=60,
        description="Connection and statement timeout of the publication query.",
    )
    calendar_module: str = Field(
        "beat_schedule",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$",
        description="The module whose entries(settings) hold the windows' steps for "
        "window.run (a setting, not a task parameter: nobody can make a worker import a "
        "module from Flower). Tests point it at a test calendar.",
    )

    @field_validator("calendar_survey_dates", "calendar_blackout_dates")
    @classmethod
    def _calendar_dates(cls, value: list[date]) -> list[date]:
        return sorted(set(value))
