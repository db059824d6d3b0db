"""The health check's policy and the pieces every component's judgement uses: the
thresholds (MAINT_HEALTH_*), how an entry is made, the threshold rule, rates as the API
reports them. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from maintenance.config import Settings
from maintenance.health.document import Entry, Status

#: A body ``status`` that says healthy (the playbook's "healthy"; the draft's "pass").
HEALTHY = frozenset({"healthy", "ok", "up", "pass"})
#: A body ``status`` that says degraded.
DEGRADED = frozenset({"degraded", "warn", "warning"})


@dataclass(frozen=True)
class HealthPolicy:
    """The thresholds and rules, from the settings (MAINT_HEALTH_*)."""

    response_ms: float = 100.0
    query_ms: float = 50.0
    cache_hit_min: float = 0.8
    error_rate_max: float = 0.001
    memory_max: float = 0.8
    db_cache_hit_min: float = 0.9
    db_connections_max: float = 0.8
    disk_warn: float = 0.8
    disk_fail: float = 0.9
    disk_min_free_bytes: int = 1024**3
    load_per_core_max: float = 2.0
    queue_max: int = 100
    min_workers: int = 1
    failed_runs_max: int = 0
    backup_warn_hours: float = 26.0
    backup_fail_hours: float = 50.0
    critical: tuple[str, ...] = ("api", "database", "host")

    @classmethod
    def of(cls, s: Settings) -> HealthPolicy:
        return cls(
            response_ms=s.health_response_ms,
            query_ms=s.health_query_ms,
            cache_hit_min=s.health_cache_hit_min,
            error_rate_max=s.health_error_rate_max,
            memory_max=s.health_memory_max,
            db_cache_hit_min=s.health_db_cache_hit_min,
            db_connections_max=s.health_db_connections_max,
            disk_warn=s.health_disk_warn,
            disk_fail=s.health_disk_fail,
            disk_min_free_bytes=s.health_disk_min_free_bytes,
            load_per_core_max=s.health_load_per_core_max,
            queue_max=s.health_queue_max,
            min_workers=s.health_min_workers,
            failed_runs_max=s.health_failed_runs_max,
            backup_warn_hours=s.health_backup_warn_hours,
            backup_fail_hours=s.health_backup_fail_hours,
            critical=tuple(s.health_critical_components),
        )


@dataclass(frozen=True)
class Ids:
    """What each component is, for ``componentId``."""

    api: str = ""
    database: str = ""
    cache: str = ""
    broker: str = ""
    host: str = ""


class EntryMaker(Protocol):
    def __call__(
        self,
        measurement: str,
        status: Status,
        value: Any = None,
        unit: str | None = None,
        output: str | None = None,
        cid: str | None = None,
    ) -> Entry: ...


def entries(
    component: str, ctype: str, now: datetime, default_id: str | None, *, per_call_id: bool = False
) -> EntryMaker:
    """How one component's entries are made: its name, type, time and componentId
    (``default_id``; with ``per_call_id``, an entry may name its own)."""

    def entry(
        measurement: str,
        status: Status,
        value: Any = None,
        unit: str | None = None,
        output: str | None = None,
        cid: str | None = None,
    ) -> Entry:
        own = cid if per_call_id and cid else default_id
        return Entry(component, measurement, ctype, status, now, value, unit, output, own or None)

    return entry


def limit(
    entry: EntryMaker,
    measurement: str,
    value: Any,
    unit: str | None,
    over: bool,
    why: str,
    worse: Status = Status.WARN,
) -> Entry:
    """A measured value against its threshold: ``worse``, saying ``why``, when ``over``
    it; pass otherwise."""
    return entry(measurement, worse if over else Status.PASS, value, unit, why if over else None)


def pct(ratio: float) -> float:
    return round(ratio * 100, 3)


def as_ratio(value: Any) -> float | None:
    """A rate as the API may report it: ``"0.05%"`` (a percentage), a number above 1 (a
    percentage: 85 is 85 %), or a number from 0 to 1 (a fraction: 0.85 is 85 %). None if
    it is none of those."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            return (
                float(text.removesuffix("%").strip()) / 100
                if text.endswith("%")
                else as_ratio(float(text))
            )
        except ValueError:
            return None
    if isinstance(value, int | float):
        v = float(value)
        if v != v or v < 0:  # NaN or negative
            return None
        return v / 100 if v > 1 else v
    return None


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None
