"""What one ``backup.offsite`` run carries from stage to stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from maintenance import clock
from maintenance.results import Result
from maintenance.taskspec import RunContext


@dataclass
class OffsiteRun:
    ctx: RunContext
    root: Path  # MAINT_OFFSITE_ROOT
    key: bytes = field(repr=False)  # never in a repr, a log line or a traceback's text
    key_id: str
    result: Result = field(default_factory=Result)
    figures: dict[str, Any] = field(default_factory=dict)
    phrases: list[str] = field(default_factory=list)  # the summary, stage by stage

    def now(self) -> datetime:
        return clock.now()


def rate(size: int, seconds: float) -> float:
    """MB/s, for figures and summaries."""
    return round(size / 1e6 / seconds, 1) if seconds > 0 else 0.0
