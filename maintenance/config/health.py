"""health.check, health.deep and ``maint health`` (docs/health.md): the probes' time
limits, the playbook's thresholds, the rules' critical components, the samples' retention
and the dead man's switch."""

from __future__ import annotations

from typing import ClassVar, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from maintenance.config._base import Section

#: The components a health check probes (the first part of each check's key).
COMPONENTS = ("api", "database", "cache", "celery", "host")


class HealthSection(Section):
    TITLE = "Health checks"
    SECRETS: ClassVar[tuple[str, ...]] = ("health_deadman_url",)

    health_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        description="The whole health check's bound: no probe is waited for longer, "
        "whatever hangs; an unfinished probe is reported failed.",
    )
    health_probe_timeout_s: float = Field(
        3.0,
        gt=0,
        le=120,
        description="Each probe's own time limit (its sockets' timeouts and the wait for it).",
    )
    health_probe_timeouts_s: dict[str, float] = Field(
        default_factory=dict,
        description="Per component (api, database, cache, celery, host): its probes' time "
        "limit instead of MAINT_HEALTH_PROBE_TIMEOUT_S.",
    )
    health_worker_ping_s: float = Field(
        1.0,
        gt=0,
        le=60,
        description="How long the Celery probe collects the workers' answers to a ping.",
    )
    health_api_path: str = Field(
        "/api/health", description="The API's health endpoint under MAINT_API_URL."
    )
    health_api_extended_path: str = Field(
        "/api/health/extended",
        description="The API's extended health endpoint (error rate, active operations ...).",
    )
    health_response_ms: float = Field(
        100.0, gt=0, description="The API warns when its health endpoint answers slower (ms)."
    )
    health_query_ms: float = Field(
        50.0,
        gt=0,
        description="The database warns when SELECT 1 (or the API's reported query time) "
        "takes longer (ms).",
    )
    health_cache_hit_min: float = Field(
        0.8,
        ge=0,
        le=1,
        description="The cache (and the API's reported cache_hit_rate) warns below this hit ratio.",
    )
    health_error_rate_max: float = Field(
        0.001, ge=0, le=1, description="The API warns at or above this error rate (0.001: 0.1%)."
    )
    health_memory_max: float = Field(
        0.8,
        gt=0,
        le=1,
        description="The cache's memory (of maxmemory) and the host's warn above this share.",
    )
    health_db_cache_hit_min: float = Field(
        0.9, ge=0, le=1, description="The database's buffer cache hit ratio warns below this."
    )
    health_db_connections_max: float = Field(
        0.8,
        gt=0,
        le=1,
        description="The database warns when client connections reach this share of "
        "max_connections (less the reserved ones).",
    )
    health_disk_warn: float = Field(
        0.8, gt=0, le=1, description="A backup or log root's disk warns at this share used."
    )
    health_disk_fail: float = Field(
        0.9, gt=0, le=1, description="A backup or log root's disk fails at this share used."
    )
    health_disk_min_free_bytes: int = Field(
        1024**3, ge=0, description="A backup or log root's disk fails with less free space."
    )
    health_load_per_core_max: float = Field(
        2.0, gt=0, description="The host warns when its 1-minute load per core is above this."
    )
    health_queue_max: int = Field(
        100, ge=0, description="Celery warns when more messages than this wait in its queues."
    )
    health_min_workers: int = Field(
        1, ge=0, description="Celery fails when fewer workers than this answer the ping."
    )
    health_failed_runs_max: int = Field(
        0,
        ge=0,
        description="Celery warns when more runs than this failed or were lost in 24 hours.",
    )
    health_backup_warn_hours: float = Field(
        26.0, gt=0, description="Celery warns when the newest verified backup is older (hours)."
    )
    health_backup_fail_hours: float = Field(
        50.0, gt=0, description="Celery fails when the newest verified backup is older (hours)."
    )
    health_critical_components: list[str] = Field(
        default_factory=lambda: ["api", "database", "host"],
        description="Components whose failure makes the overall status critical; a failure "
        "of another one makes it degraded.",
    )
    # 40: the monthly report, built on the first Sunday (up to the 7th), reads the whole
    # previous month's samples (31 + 7 days), and the capacity forecast fits free disk
    # over them.
    health_sample_retention_days: int = Field(
        40, ge=1, le=3650, description="health.check deletes samples older than this."
    )
    health_deadman_url: SecretStr | None = Field(
        None,
        description="Dead man's switch (healthchecks.io style): health.check requests "
        "URL/start, then URL on success or URL/fail when critical or crashed.",
    )
    health_deadman_timeout_s: float = Field(
        3.0, gt=0, le=30, description="Time limit of each dead man's switch request."
    )

    @field_validator("health_api_path", "health_api_extended_path")
    @classmethod
    def _health_paths(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"must be a path starting with '/', got {value!r}")
        return value

    @field_validator("health_probe_timeouts_s")
    @classmethod
    def _health_probe_timeouts(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown components {unknown} (known: {', '.join(COMPONENTS)})")
        if any(not 0 < v <= 120 for v in value.values()):
            raise ValueError("each time limit must be above 0 and at most 120 seconds")
        return value

    @field_validator("health_critical_components")
    @classmethod
    def _health_critical(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(COMPONENTS))
        if unknown:
            raise ValueError(f"unknown components {unknown} (known: {', '.join(COMPONENTS)})")
        return value

    @field_validator("health_deadman_url")
    @classmethod
    def _health_deadman(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s):// URL")
        return SecretStr(value.get_secret_value().rstrip("/"))

    @model_validator(mode="after")
    def _health_coherent(self) -> Self:
        if self.health_disk_warn > self.health_disk_fail:
            raise ValueError("MAINT_HEALTH_DISK_WARN must not exceed MAINT_HEALTH_DISK_FAIL")
        if self.health_backup_warn_hours > self.health_backup_fail_hours:
            raise ValueError(
                "MAINT_HEALTH_BACKUP_WARN_HOURS must not exceed MAINT_HEALTH_BACKUP_FAIL_HOURS"
            )
        celery = self.health_probe_timeouts_s.get("celery", self.health_probe_timeout_s)
        if self.health_worker_ping_s >= min(celery, self.health_timeout_s):
            raise ValueError(
                "MAINT_HEALTH_WORKER_PING_S must be shorter than the Celery probe's time limit "
                "and MAINT_HEALTH_TIMEOUT_S (the ping always waits its whole time)"
            )
        return self

    def health_probe_timeout(self, component: str) -> float:
        """A component's probes' time limit, never beyond the whole check's bound."""
        own = self.health_probe_timeouts_s.get(component, self.health_probe_timeout_s)
        return min(own, self.health_timeout_s)
