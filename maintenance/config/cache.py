"""The cache tasks (docs/cache.md): the application's Redis, ``MAINT_CACHE_URL``."""

from __future__ import annotations

from pydantic import Field, field_validator

from maintenance.config._base import Section


class CacheSection(Section):
    TITLE = "Cache"

    cache_swaps_prefix: str = Field(
        "swaps:", min_length=1, description="cache.clear, step 1 (any time): keys starting so."
    )
    cache_schedule_prefix: str = Field(
        "schedule:",
        min_length=1,
        description="cache.clear, step 2: only while the API reports no active operations.",
    )
    cache_report_prefix: str = Field(
        "report:", min_length=1, description="cache.clear, step 3: keys starting so."
    )
    cache_health_path: str = Field(
        "/api/health",
        description="API health endpoint whose active_operations gates the schedule step.",
    )
    cache_scan_count: int = Field(
        200, ge=1, le=100_000, description="COUNT hint of each SCAN step of a clear."
    )
    cache_batch_ms: float = Field(
        1.0, ge=0, le=100, description="How long one SCAN + UNLINK batch may hold Redis (ms)."
    )
    cache_pause_ms: float = Field(
        0.0,
        ge=0,
        le=10_000,
        description="Sleep between two batches of a clear (ms); 0: none (docs/benchmarks.md).",
    )
    cache_memory_alert_ratio: float = Field(
        0.8, gt=0, le=1, description="cache.stats fails above this share of maxmemory."
    )
    cache_hit_ratio_warn: float = Field(
        0.8, ge=0, le=1, description="cache.stats warns below this hit ratio."
    )
    cache_fragmentation_warn: float = Field(
        1.5, gt=1, description="cache.stats warns above this fragmentation ratio."
    )
    cache_analyze_sample: int = Field(
        1000, ge=10, le=100_000, description="Keys cache.analyze samples."
    )
    cache_cold_idle_s: int = Field(
        86_400, ge=60, description="cache.analyze calls a key unused after this idle time."
    )

    @field_validator("cache_health_path")
    @classmethod
    def _cache_health_path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"must be a path starting with '/', got {value!r}")
        return value
