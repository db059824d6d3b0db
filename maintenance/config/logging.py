"""The suite's own log stream (not the scheduler's log folder: that is MAINT_LOG_ROOT)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from maintenance.config._base import Section


class LoggingSection(Section):
    TITLE = "Logging"

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO",
        description="Log level of the worker, beat and Flower processes (`maint` logs only "
        "with -v, at INFO).",
    )
    log_format: Literal["json", "console"] = Field(
        "json",
        description="json: one JSON object per line, for log shippers; console: for people.",
    )
