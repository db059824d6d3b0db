"""capacity.forecast (docs/capacity.md): how much history a forecast needs, how far ahead
a crossing warns, and the limits the history does not hold (the tier budgets, the
scheduler database's limit)."""

from __future__ import annotations

from pydantic import Field, field_validator

from maintenance.config._base import TIERS, Section


class CapacitySection(Section):
    TITLE = "Capacity forecast"

    capacity_warn_days: int = Field(
        90,
        ge=1,
        le=3650,
        description="capacity.forecast warns when a series is forecast to cross its limit "
        "within this many days.",
    )
    capacity_min_points: int = Field(
        4,
        ge=2,
        le=1000,
        description="A series needs at least this many daily points to be fitted; with "
        "fewer, capacity.forecast says 'not enough data' instead of a date.",
    )
    capacity_min_span_days: float = Field(
        14.0,
        gt=0,
        le=3650,
        description="A series needs points spanning at least this many days to be fitted.",
    )
    capacity_lookback_days: int = Field(
        365,
        ge=7,
        le=3650,
        description="How far back capacity.forecast reads the history (job runs and health "
        "samples).",
    )
    capacity_tier_budgets_gb: dict[str, float] = Field(
        default_factory=lambda: {"daily": 50.0, "weekly": 80.0, "monthly": 200.0},
        description="JSON object tier -> GB (10^9 bytes): each backup tier's storage budget "
        "(the playbook's retention table: ~50 / 80 / 200 GB).",
    )
    capacity_database_limit_bytes: int | None = Field(
        None,
        gt=0,
        description="The scheduler database's size limit in bytes (its volume, a quota); "
        "unset: its growth rate is reported without a crossing date.",
    )

    @field_validator("capacity_tier_budgets_gb")
    @classmethod
    def _capacity_budgets(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != TIERS:
            raise ValueError(
                f"needs exactly the tiers daily, weekly, monthly (got {sorted(value)})"
            )
        if any(v <= 0 for v in value.values()):
            raise ValueError("budgets must be positive")
        return value
