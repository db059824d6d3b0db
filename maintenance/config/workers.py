"""The workers and the job history: the queue, heartbeats, lost runs, retries, time
limits."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from maintenance.config._base import Section


class WorkersSection(Section):
    TITLE = "Workers and the job history"

    queue: str = Field("maintenance", description="Celery queue the tasks are sent to.")
    heartbeat_interval_s: float = Field(
        15.0,
        gt=0,
        description="How often a running task refreshes its history row (and checks the "
        "session of its singleton lock).",
    )
    lost_after_s: float = Field(
        90.0, gt=0, description="A running row whose heartbeat is older than this is marked lost."
    )
    retry_backoff_s: float = Field(
        15.0, gt=0, description="First retry delay of a transient failure; doubles, at most 600 s."
    )
    time_limits: dict[str, tuple[int, int]] = Field(
        default_factory=dict,
        description="Per-task [soft, hard] time limits in seconds, overriding the built-in ones.",
    )
    reap_interval_s: float = Field(
        60.0,
        gt=0,
        description="How often each worker's main process (its reaper thread) looks for lost runs.",
    )

    @field_validator("queue")
    @classmethod
    def _queue(cls, value: str) -> str:
        if not value or not value.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"{value!r}: use letters, digits, '.', '-' and '_'")
        return value

    @field_validator("time_limits")
    @classmethod
    def _limits(cls, value: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
        for name, (soft, hard) in value.items():
            if not 0 < soft < hard:
                raise ValueError(f"{name}: need 0 < soft < hard, got [{soft}, {hard}]")
        return value

    @model_validator(mode="after")
    def _heartbeats(self) -> Self:
        if self.lost_after_s < 2 * self.heartbeat_interval_s:
            raise ValueError(
                "MAINT_LOST_AFTER_S must be at least twice MAINT_HEARTBEAT_INTERVAL_S "
                f"({self.lost_after_s} < 2 x {self.heartbeat_interval_s})"
            )
        return self
