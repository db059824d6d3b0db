"""The exact counts: what db.stats reports, every backup manifest records, and a restored
copy is counted again with."""

from __future__ import annotations

from pydantic import Field, field_validator

from maintenance import schema
from maintenance.config._base import Section


class StatsSection(Section):
    TITLE = "Counts"

    stats_counts: dict[str, str] = Field(
        default_factory=lambda: dict(schema.STATS_COUNTS),
        description="Exact counts, JSON object name -> SQL returning one integer: db.stats "
        "reports them, every backup manifest records them, and a restored copy is counted "
        "again and compared with its manifest.",
    )

    @field_validator("stats_counts")
    @classmethod
    def _counts(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("needs at least one count query")
        for name, sql in value.items():
            if not name.isidentifier():
                raise ValueError(f"count name {name!r} must be an identifier")
            if not sql.lstrip().lower().startswith(("select", "with")):
                raise ValueError(f"count {name!r} must be a SELECT query")
        return value
