"""capacity.forecast (docs/capacity.md): the playbook's quarterly "capacity expansion (if
needed)" as a checklist. Facts are read once (:mod:`.facts`), each series is judged by
the pure :func:`maintenance.capacity.fit.forecast`, and :func:`judge` turns them into the
result whose shape the monthly report reads (``figures.series``, format_version 1)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from maintenance.capacity import facts as capacity_facts
from maintenance.capacity.facts import Readings
from maintenance.capacity.fit import Forecast, Policy, Series, amount, forecast, iso
from maintenance.config import Settings
from maintenance.results import Check, CheckStatus, Result
from maintenance.taskspec import NoParams, RunContext

FORMAT_VERSION = 1
GB = 1e9


@dataclass(frozen=True)
class Limits:
    """The limits the history does not hold, from the settings."""

    tier_budgets: dict[str, float]  # bytes
    database: float | None
    log_volume: float
    disk_min_free: float

    @classmethod
    def of(cls, s: Settings) -> Limits:
        return cls(
            {t: gb * GB for t, gb in s.capacity_tier_budgets_gb.items()},
            float(s.capacity_database_limit_bytes) if s.capacity_database_limit_bytes else None,
            float(s.log_disk_limit_bytes),
            float(s.health_disk_min_free_bytes),
        )


def _series(
    key: str,
    label: str,
    r: Readings,
    limit: float | None,
    limit_source: str,
    direction: str = "up",
    remarks: tuple[str, ...] = (),
) -> Series:
    return Series(
        key=key,
        label=label,
        direction="down" if direction == "down" else "up",
        points=sorted(r.points, key=lambda p: p.at),
        limit=limit,
        limit_source=limit_source,
        source="; ".join(r.sources) or "nothing recorded",
        problems=tuple(r.problems),
        remarks=remarks,
    )


def _short(r: Readings) -> tuple[str, ...]:
    """A remark when the only reading is the one taken now."""
    if r.points and all(s.endswith("now (1)") for s in r.sources):
        return ("the history is short: only the reading taken now",)
    return ()


def series_of(f: capacity_facts.Facts, limits: Limits) -> list[Series]:
    """Every series with its limit, in the documented order (pure)."""
    out = [
        _series(
            "database_size",
            "scheduler database size",
            f.database,
            limits.database,
            "MAINT_CAPACITY_DATABASE_LIMIT_BYTES"
            if limits.database
            else "MAINT_CAPACITY_DATABASE_LIMIT_BYTES is not set",
        )
    ]
    for tier, r in f.tiers.items():
        out.append(
            _series(
                f"backup_tier:{tier}",
                f"backups, {tier} tier",
                r,
                limits.tier_budgets.get(tier),
                f"MAINT_CAPACITY_TIER_BUDGETS_GB {tier}",
                remarks=_short(r),
            )
        )
    out.append(
        _series(
            "backup_disk_free",
            "free disk under the backup root",
            f.backup_disk_free,
            limits.disk_min_free,
            "MAINT_HEALTH_DISK_MIN_FREE_BYTES",
            "down",
            _short(f.backup_disk_free),
        )
    )
    for host, r in sorted(f.logs.items()) or [("", Readings(problems=f.log_problems))]:
        out.append(
            _series(
                f"log_volume:{host}" if host else "log_volume",
                f"log volume on {host}" if host else "log volume",
                r,
                limits.log_volume,
                "MAINT_LOG_DISK_LIMIT_BYTES",
                remarks=_short(r),
            )
        )
    out.append(
        _series(
            "log_disk_free",
            "free disk under the log root",
            f.log_disk_free,
            limits.disk_min_free,
            "MAINT_HEALTH_DISK_MIN_FREE_BYTES",
            "down",
            _short(f.log_disk_free),
        )
    )
    if f.maxmemory:
        redis_limit, redis_source = float(f.maxmemory), f.maxmemory_source
    elif f.maxmemory == 0:
        redis_limit, redis_source = None, "Redis maxmemory is 0, the cache is unbounded: set one"
    else:
        redis_limit, redis_source = None, "maxmemory unknown: the cache was not read now"
    out.append(
        _series(
            "redis_memory",
            "Redis memory",
            f.redis,
            redis_limit,
            redis_source,
            remarks=_short(f.redis),
        )
    )
    return out


def _check(fc: Forecast, policy: Policy) -> Check:
    s = fc.series
    if fc.verdict in ("no_limit",):
        name, expected = f"{s.label}: growth", "a growth rate (no limit to cross)"
    else:
        name = f"{s.label}: limit not reached within {policy.warn_days:g} days"
        limit = amount(s.limit, s.unit) if s.limit is not None else "no limit"
        expected = (
            f"{'above' if s.direction == 'down' else 'below'} {limit} ({s.limit_source}) "
            f"for {policy.warn_days:g} days or more"
        )
    return Check(name, CheckStatus(fc.status), fc.note, expected)


def judge(f: capacity_facts.Facts, limits: Limits, policy: Policy) -> Result:
    """The checklist and figures of one capacity.forecast run (pure)."""
    forecasts = [forecast(s, policy, f.now) for s in series_of(f, limits)]
    result = Result(checks=[_check(fc, policy) for fc in forecasts])
    result.figures = {
        "format_version": FORMAT_VERSION,
        "generated_at": iso(f.now),
        "warn_days": policy.warn_days,
        "min_points": policy.min_points,
        "min_span_days": policy.min_span_days,
        "history_runs": dict(sorted(f.counts.items())),
        "series": [fc.to_dict() for fc in forecasts],
    }
    verdicts = Counter(fc.verdict for fc in forecasts)
    parts = []
    if verdicts["over"]:
        parts.append(f"{verdicts['over']} already over its limit")
    soon = [fc for fc in forecasts if fc.verdict == "warn"]
    if soon:
        first = min(soon, key=lambda fc: fc.days_left or 0.0)
        when = first.crossing_at.date().isoformat() if first.crossing_at else "?"
        parts.append(
            f"{len(soon)} cross(es) its limit within {policy.warn_days:g} days "
            f"({first.series.label} on {when})"
        )
    if verdicts["not_enough_data"]:
        parts.append(f"{verdicts['not_enough_data']} with not enough data yet")
    if verdicts["unreadable"]:
        parts.append(f"{verdicts['unreadable']} not readable")
    result.summary = f"{len(forecasts)} series: " + (
        "; ".join(parts) if parts else f"none reaches its limit within {policy.warn_days:g} days"
    )
    return result


def run(ctx: RunContext, params: NoParams) -> Result:
    """Read the history and the current readings, and forecast every series."""
    s = ctx.settings
    policy = Policy(s.capacity_warn_days, s.capacity_min_points, s.capacity_min_span_days)
    return judge(capacity_facts.read(s), Limits.of(s), policy)
