"""The monthly report (docs/reports.md): where it is kept and whether it is sent."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from maintenance.config._base import Section, check_absolute


class ReportSection(Section):
    TITLE = "Monthly report"

    report_dir: Path | None = Field(
        None,
        description="Folder of the monthly reports (maintenance-report-YYYY-MM.html and "
        ".json, mode 0600 in a 0700 folder, written atomically); default "
        "MAINT_BACKUP_ROOT/reports.",
    )
    report_send: bool = Field(
        True,
        description="report.monthly sends the report through the configured notification "
        "channels (e-mail: the HTML attached; webhook: a summary and the file's path). "
        "false: kept in the folder only.",
    )
    report_max_rows: int = Field(
        500,
        ge=10,
        le=100_000,
        description="Rows shown per table of the HTML report (the JSON holds them all); the "
        "table says how many more there are.",
    )

    @field_validator("report_dir")
    @classmethod
    def _report_paths(cls, value: Path | None) -> Path | None:
        return check_absolute(value)
