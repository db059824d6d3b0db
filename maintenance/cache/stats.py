"""``cache.stats`` (daily): the playbook's "Monitor memory usage, alert if > 80 %
utilized", with the figures the health dashboard asks for.

Read-only: ``INFO`` and ``DBSIZE`` (never ``KEYS``). The checklist is a pure function of
what was read, the previous sample and the policy (:func:`assess`):

* memory used against ``maxmemory`` (or, without one, the host's memory): **fails**
  above ``MAINT_CACHE_MEMORY_ALERT_RATIO`` (80 %), the playbook's alert;
* the hit ratio over the interval since the previous sample (warns below
  ``MAINT_CACHE_HIT_RATIO_WARN``); keys evicted (warns) and expired in it;
* memory fragmentation (warns above ``MAINT_CACHE_FRAGMENTATION_WARN`` when enough
  memory is at stake for the ratio to mean something);
* the key count, from ``DBSIZE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from maintenance import clock
from maintenance.cache import client as cache_client
from maintenance.cache.samples import Interval, Sample, interval, recorded
from maintenance.config import Settings
from maintenance.results import Result
from maintenance.taskspec import NoParams, RunContext
from maintenance.units import human_bytes

#: Below this much memory between the allocator and the data, a fragmentation ratio is
#: noise (a nearly empty Redis reads 5 or 10): not worth a warning.
FRAGMENTATION_MIN_BYTES = 100 * 2**20


@dataclass(frozen=True)
class Facts:
    """What ``INFO`` and ``DBSIZE`` said."""

    cache: str
    version: str
    used_memory: int
    used_memory_rss: int
    maxmemory: int
    maxmemory_policy: str
    total_system_memory: int
    fragmentation: float | None
    keys: int
    sample: Sample

    @classmethod
    def from_info(cls, cache: str, info: Mapping[str, Any], keys: int, sample: Sample) -> Facts:
        frag = info.get("mem_fragmentation_ratio")
        return cls(
            cache=cache,
            version=str(info.get("redis_version", "?")),
            used_memory=int(info.get("used_memory", 0)),
            used_memory_rss=int(info.get("used_memory_rss", 0)),
            maxmemory=int(info.get("maxmemory", 0)),
            maxmemory_policy=str(info.get("maxmemory_policy", "?")),
            total_system_memory=int(info.get("total_system_memory", 0)),
            fragmentation=float(frag) if frag is not None else None,
            keys=keys,
            sample=sample,
        )


@dataclass(frozen=True)
class StatsPolicy:
    memory_alert_ratio: float = 0.8
    hit_ratio_warn: float = 0.8
    fragmentation_warn: float = 1.5

    @classmethod
    def of(cls, settings: Settings) -> StatsPolicy:
        return cls(
            settings.cache_memory_alert_ratio,
            settings.cache_hit_ratio_warn,
            settings.cache_fragmentation_warn,
        )


def pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.1f}%"


def memory_limit(facts: Facts) -> tuple[int, str]:
    """(the limit memory use is measured against, what that limit is)."""
    if facts.maxmemory > 0:
        return facts.maxmemory, "maxmemory"
    return facts.total_system_memory, "system memory (no maxmemory)"


def assess(facts: Facts, span: Interval, policy: StatsPolicy, guard: str) -> Result:
    """The checklist and figures of one ``cache.stats`` run (pure)."""
    result = Result()
    result.check("cache is not Celery's database", True, observed=guard, expected="its own db")
    limit, source = memory_limit(facts)
    used_ratio = facts.used_memory / limit if limit else None
    alert = policy.memory_alert_ratio
    result.check(
        f"memory used below {alert:.0%} of {source}",
        used_ratio is not None and used_ratio < alert,
        observed=f"{human_bytes(facts.used_memory)} of {human_bytes(limit)} ({pct(used_ratio)})",
        expected=f"< {alert:.0%}",
        detail=None
        if used_ratio is None or used_ratio < alert
        else "the playbook's alert: raise maxmemory, or clear or shorten the TTLs of the "
        "largest prefixes (maint cache analyze)",
    )
    if facts.maxmemory == 0:
        result.check(
            "maxmemory set",
            False,
            warn_only=True,
            observed="0 (no limit)",
            expected="a limit with an eviction policy",
            detail="without one the cache can grow until the host runs out of memory",
        )
    ratio = span.hit_ratio
    result.check(
        f"hit ratio at least {policy.hit_ratio_warn:.0%}",
        ratio is None or ratio >= policy.hit_ratio_warn,
        warn_only=True,
        observed=(
            f"{pct(ratio)} of {span.lookups:,} lookups {span.describe()}"
            if ratio is not None
            else f"no lookups {span.describe()}"
        ),
        expected=f">= {policy.hit_ratio_warn:.0%} (server-wide)",
    )
    result.check(
        "no keys evicted",
        span.evicted == 0,
        warn_only=True,
        observed=f"{span.evicted:,} {span.describe()}",
        expected="0",
        detail=None
        if span.evicted == 0
        else f"the cache is at its limit; policy {facts.maxmemory_policy}",
    )
    excess = facts.used_memory_rss - facts.used_memory
    frag = facts.fragmentation
    meaningful = excess >= FRAGMENTATION_MIN_BYTES
    result.check(
        f"fragmentation below {policy.fragmentation_warn:g}",
        frag is None or not meaningful or frag < policy.fragmentation_warn,
        warn_only=True,
        observed="-" if frag is None else f"{frag:.2f} (RSS {human_bytes(facts.used_memory_rss)})",
        expected=f"< {policy.fragmentation_warn:g}",
        detail=None
        if meaningful or frag is None
        else f"only {human_bytes(max(excess, 0))} above the data: the ratio is not meaningful",
    )
    result.check("key count (DBSIZE)", True, observed=facts.keys, expected="a count")
    result.figures = {
        "cache": facts.cache,
        "redis_version": facts.version,
        "keys": facts.keys,
        "used_memory_bytes": facts.used_memory,
        "memory_limit_bytes": limit,
        "memory_limit": source,
        "memory_used_ratio": round(used_ratio, 4) if used_ratio is not None else None,
        "maxmemory_policy": facts.maxmemory_policy,
        "rss_bytes": facts.used_memory_rss,
        "fragmentation_ratio": frag,
        "hit_ratio": round(ratio, 4) if ratio is not None else None,
        "interval": span.to_dict(),
        "sample": facts.sample.to_dict(),
    }
    result.summary = (
        f"{facts.cache}: {facts.keys:,} keys, {human_bytes(facts.used_memory)} "
        f"({pct(used_ratio)} of {source.split(' (')[0]}), hit ratio {pct(ratio)} "
        f"{span.describe()}, {span.evicted:,} evicted, {span.expired:,} expired"
    )
    return result


def read_facts(cache: cache_client.Cache) -> Facts:
    """INFO (server, memory, stats) and DBSIZE, at one moment."""
    with cache_client.answering(cache.url):
        info, keys = cache_client.info_and_keys(cache.client)
    sample = Sample.from_info(info, clock.now())
    return Facts.from_info(str(cache.endpoint), info, keys, sample)


def collect(ctx: RunContext, params: NoParams) -> Result:
    """Report the cache's memory, hit ratio, evictions, fragmentation and key count."""
    cache = cache_client.open_cache(ctx.settings)
    try:
        facts = read_facts(cache)
    finally:
        cache.client.close()
    earlier, why_none = recorded(ctx.settings.history_dsn.get_secret_value(), limit=20)
    previous = next((r.sample for r in earlier if r.run_id != ctx.run_id), None)
    result = assess(
        facts, interval(previous, facts.sample), StatsPolicy.of(ctx.settings), cache.guard
    )
    if why_none:
        result.figures["previous_sample"] = why_none
    return result
