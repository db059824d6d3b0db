"""``maint status`` (the on-call screen) and ``maint metrics`` (the Prometheus endpoint)."""

from __future__ import annotations

from pydantic import Field, field_validator

from maintenance.config._base import TIERS, Section


class MetricsSection(Section):
    TITLE = "Status and metrics"

    metrics_host: str = Field(
        "127.0.0.1",
        description="Address `maint metrics serve` listens on (compose: 0.0.0.0 inside the "
        "container, published on the host's loopback).",
    )
    metrics_port: int = Field(
        9808, ge=1, le=65535, description="Port `maint metrics serve` listens on."
    )
    metrics_scrape_timeout_s: float = Field(
        5.0,
        gt=0,
        le=60,
        description="Statement timeout of each query a scrape makes on the history database: "
        "a scrape is bounded, whatever the database does.",
    )
    status_backup_max_age_h: dict[str, float] = Field(
        default_factory=lambda: {"daily": 26.0, "weekly": 360.0, "monthly": 864.0},
        description="`maint status` needs attention when the newest verified backup of a tier "
        "is older than this (hours): a daily backup a day and two hours, a weekly one two "
        "weeks and a day (the first Sunday's is the monthly), a monthly one 36 days.",
    )
    status_failures_in_a_row: int = Field(
        2,
        ge=1,
        description="A task whose last this many real runs all failed (or were lost or "
        "missed) is named as failing repeatedly, first among the run problems.",
    )
    status_health_stale_s: float = Field(
        900,
        gt=0,
        description="`maint status` needs attention when the newest stored health sample is "
        "older than this (seconds): health.check has stopped (it runs every 300 s).",
    )

    @field_validator("status_backup_max_age_h")
    @classmethod
    def _status_ages(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != TIERS:
            raise ValueError(
                f"needs exactly the tiers daily, weekly, monthly (got {sorted(value)})"
            )
        if any(v <= 0 for v in value.values()):
            raise ValueError("ages must be positive")
        return value
