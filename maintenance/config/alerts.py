"""Alerts (docs/alerts.md): when a change of health, or a failed run, is announced."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from maintenance.config._base import Section


class AlertsSection(Section):
    TITLE = "Alerts"

    alerts_wait_s: float = Field(
        240.0,
        ge=0,
        le=86_400,
        description="A new health status is announced once it has lasted this long, from the "
        "first to the newest sample that saw it (seconds). With a check every 5 minutes, 240 "
        "means two samples in a row: a blip that clears on the next sample never pages.",
    )
    alerts_repeat_s: float = Field(
        4 * 3600.0,
        ge=300,
        description="An alert still open is announced again after this long (seconds).",
    )
    alerts_run_lookback_s: float = Field(
        86_400.0,
        ge=300,
        description="Failed and lost runs that ended within this many seconds are announced "
        "(once per run); older ones are left for maint history.",
    )
    alerts_run_exclude: list[str] = Field(
        default_factory=lambda: ["health.check"],
        description="JSON list of task names whose failed runs are not announced as runs "
        "(health.check: its findings are the health alerts themselves).",
    )

    @model_validator(mode="after")
    def _alerts_repeat_after_wait(self) -> Self:
        if self.alerts_repeat_s <= self.alerts_wait_s:
            raise ValueError("MAINT_ALERTS_REPEAT_S must be longer than MAINT_ALERTS_WAIT_S")
        return self
