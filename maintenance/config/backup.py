"""Backups: how backup.create compresses and checks a backup, and what backup.verify
expects to find in one."""

from __future__ import annotations

from pydantic import Field, field_validator

from maintenance import schema
from maintenance.config._base import Section, check_per_tier


class BackupSection(Section):
    TITLE = "Backups"

    backup_compression_level: int = Field(
        3,
        ge=1,
        le=19,
        description="zstd level of backup files (3: as small as gzip -6, far faster).",
    )
    backup_compression_threads: int = Field(
        0, ge=0, le=64, description="zstd worker threads; 0 means one per CPU core."
    )
    backup_min_free_bytes: int = Field(
        1 << 30,
        ge=0,
        description="backup.create starts only with this much free space (and twice the tier's "
        "last backup); backup.archive leaves this much free.",
    )
    backup_min_bytes: dict[str, int] = Field(
        default_factory=lambda: {"daily": 10_000_000, "weekly": 50_000_000, "monthly": 50_000_000},
        description="A backup file smaller than this (per tier) fails its size check, or than 1% "
        "of the database's size on disk when that is less (playbook: daily > 10 MB, weekly > "
        "50 MB).",
    )
    backup_budget_bytes: int = Field(
        100 * 10**9,
        gt=0,
        description="Total size of BACKUP_ROOT above which backup.create and backup.retention "
        "warn.",
    )
    backup_size_window: int = Field(
        7, ge=1, description="How many previous backups of a tier the size-consistency check uses."
    )
    backup_shrink_warn_ratio: float = Field(
        0.5, gt=0, lt=1, description="Warn when a backup is smaller than this share of the median."
    )
    backup_expected_tables: list[str] = Field(
        default_factory=lambda: list(schema.EXPECTED_TABLES),
        description="Tables every backup must contain (the playbook's EXPECTED_TABLES).",
    )

    @field_validator("backup_min_bytes")
    @classmethod
    def _backup_tiers(cls, value: dict[str, int]) -> dict[str, int]:
        return check_per_tier(value)

    @field_validator("backup_expected_tables")
    @classmethod
    def _tables(cls, value: list[str]) -> list[str]:
        for name in value:
            if not all(part.isidentifier() for part in name.split(".")) or name.count(".") > 1:
                raise ValueError(f"{name!r} is not a table name (table or schema.table)")
        return value
