"""Retention: how long backup.retention keeps backups and forensic dumps, the floors it
never goes below, and the set-aside databases it reports."""

from __future__ import annotations

from pydantic import Field, field_validator

from maintenance.config._base import Section, check_per_tier


class RetentionSection(Section):
    TITLE = "Retention"

    retention_days: dict[str, int] = Field(
        default_factory=lambda: {"daily": 7, "weekly": 56, "monthly": 365},
        description="Age in days after which a backup of a tier may be deleted (archives follow "
        "the monthly age).",
    )
    retention_min_verified: int = Field(
        3,
        ge=1,
        description="Never fewer verified backups than this left in a tier (and off-site, and "
        "in the archive), whatever their age.",
    )
    forensics_keep_days: int = Field(
        30,
        ge=1,
        description="Age in days after which a forensic dump (BACKUP_ROOT/forensics) may go.",
    )
    forensics_min_keep: int = Field(
        3,
        ge=1,
        description="The newest forensic dumps of each database kept whatever their age.",
    )
    pre_restore_report_days: int = Field(
        7,
        ge=0,
        description="backup.retention warns about the *_pre_restore_* databases of the "
        "restorable targets older than this (it never drops them).",
    )

    @field_validator("retention_days")
    @classmethod
    def _retention_tiers(cls, value: dict[str, int]) -> dict[str, int]:
        return check_per_tier(value)
