"""The judgement of the services the scheduler runs on: the API, its database and its
cache (pure; docs/health.md lists every rule)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from maintenance.cache.samples import Interval, Sample, interval
from maintenance.health.document import Entry, Status
from maintenance.health.facts import (
    CacheFacts,
    DatabaseFacts,
    HttpFacts,
)
from maintenance.health.parallel import Outcome
from maintenance.health.policy import (
    DEGRADED,
    HEALTHY,
    HealthPolicy,
    Ids,
    as_number,
    as_ratio,
    entries,
    limit,
    pct,
)
from maintenance.units import human_bytes

# --- API -------------------------------------------------------------------------------


def api(
    health: Outcome, extended: Outcome | None, p: HealthPolicy, now: datetime, ids: Ids
) -> list[Entry]:
    entry = entries("api", "component", now, ids.api or None)

    out: list[Entry] = []
    facts: HttpFacts | None = health.value if health.ok else None
    if facts is None:
        out.append(
            entry("status", Status.FAIL, output=f"/api/health did not answer: {health.problem}")
        )
    else:
        out.append(_api_status(facts, entry))
        slow = facts.elapsed_ms > p.response_ms
        out.append(
            limit(
                entry,
                "responseTime",
                facts.elapsed_ms,
                "ms",
                slow,
                f"{facts.elapsed_ms:g} ms, above {p.response_ms:g} ms",
            )
        )
    if extended is not None:
        out.extend(_api_extended(extended, p, entry))
    return out


def _api_status(facts: HttpFacts, entry: Any) -> Entry:
    if facts.status_code != 200:
        return entry("status", Status.FAIL, facts.status_code, None, f"HTTP {facts.status_code}")
    if facts.body is None:
        return entry(
            "status", Status.FAIL, facts.status_code, None, f"HTTP 200 but the {facts.body_problem}"
        )
    said = facts.body.get("status")
    if said is None:
        return entry("status", Status.PASS, facts.status_code)
    word = str(said).strip().lower()
    if word in HEALTHY:
        return entry("status", Status.PASS, str(said))
    if word in DEGRADED:
        return entry("status", Status.WARN, str(said), None, f"the API says {said!r}")
    return entry("status", Status.FAIL, str(said)[:80], None, f"the API says {str(said)[:80]!r}")


def _metrics(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body's figures, at its top level or under ``metrics``."""
    inner = body.get("metrics")
    return {**(inner if isinstance(inner, Mapping) else {}), **body}


def _api_extended(ext: Outcome, p: HealthPolicy, entry: Any) -> list[Entry]:
    facts: HttpFacts | None = ext.value if ext.ok else None
    if facts is None:
        return [
            entry(
                "extended",
                Status.WARN,
                output=f"/api/health/extended did not answer: {ext.problem}",
            )
        ]
    if facts.status_code != 200 or facts.body is None:
        why = (
            f"HTTP {facts.status_code}" if facts.status_code != 200 else f"the {facts.body_problem}"
        )
        return [
            entry("extended", Status.WARN, facts.status_code, None, f"/api/health/extended: {why}")
        ]
    m = _metrics(facts.body)
    out: list[Entry] = []
    if "error_rate" in m:
        r = as_ratio(m["error_rate"])
        if r is None:
            out.append(
                entry(
                    "errorRate",
                    Status.WARN,
                    None,
                    "%",
                    f"error_rate {m['error_rate']!r} is not a rate",
                )
            )
        else:
            bad = r >= p.error_rate_max
            out.append(
                limit(
                    entry,
                    "errorRate",
                    pct(r),
                    "%",
                    bad,
                    f"{pct(r):g}%, at or above {pct(p.error_rate_max):g}%",
                )
            )
    if "active_operations" in m:
        ops = m["active_operations"]
        n = len(ops) if isinstance(ops, list | dict) else as_number(ops)
        out.append(
            entry("activeOperations", Status.PASS, int(n) if n is not None else str(ops)[:80])
        )
    if "cache_hit_rate" in m:
        r = as_ratio(m["cache_hit_rate"])
        if r is None:
            out.append(
                entry(
                    "cacheHitRate",
                    Status.WARN,
                    None,
                    "%",
                    f"cache_hit_rate {m['cache_hit_rate']!r} is not a rate",
                )
            )
        else:
            low = r < p.cache_hit_min
            out.append(
                limit(
                    entry,
                    "cacheHitRate",
                    pct(r),
                    "%",
                    low,
                    f"{pct(r):g}%, below {pct(p.cache_hit_min):g}%",
                )
            )
    if "database_query_time_ms" in m:
        ms = as_number(m["database_query_time_ms"])
        if ms is None:
            out.append(
                entry(
                    "databaseQueryTime",
                    Status.WARN,
                    None,
                    "ms",
                    "database_query_time_ms is not a number",
                )
            )
        else:
            slow = ms > p.query_ms
            out.append(
                limit(
                    entry,
                    "databaseQueryTime",
                    ms,
                    "ms",
                    slow,
                    f"{ms:g} ms reported, above {p.query_ms:g} ms",
                )
            )
    return out


# --- database --------------------------------------------------------------------------


def database(o: Outcome, p: HealthPolicy, now: datetime, ids: Ids) -> list[Entry]:
    entry = entries("database", "datastore", now, ids.database or None)

    f: DatabaseFacts | None = o.value if o.ok else None
    if f is None:
        return [entry("queryTime", Status.FAIL, None, "ms", str(o.problem))]
    slow = f.query_ms > p.query_ms
    out = [
        limit(
            entry,
            "queryTime",
            f.query_ms,
            "ms",
            slow,
            f"SELECT 1 took {f.query_ms:g} ms, above {p.query_ms:g} ms",
        )
    ]
    usable = max(f.max_connections - f.reserved, 1)
    many = f.connections >= p.db_connections_max * usable
    out.append(
        limit(
            entry,
            "connections",
            f.connections,
            "connections",
            many,
            f"{f.connections} of {usable} usable (max_connections {f.max_connections}, {f.reserved} reserved)",
        )
    )
    blocks = f.blks_hit + f.blks_read
    if blocks:
        r = f.blks_hit / blocks
        low = r < p.db_cache_hit_min
        out.append(
            limit(
                entry,
                "cacheHitRate",
                pct(r),
                "%",
                low,
                f"{pct(r):g}% of {blocks:,} block reads from the buffer cache, below {pct(p.db_cache_hit_min):g}%",
            )
        )
    else:
        out.append(entry("cacheHitRate", Status.PASS))
    return out


# --- cache -----------------------------------------------------------------------------


def cache(
    o: Outcome, previous: Sample | None, p: HealthPolicy, now: datetime, ids: Ids
) -> tuple[list[Entry], Interval | None]:
    """The cache's entries, and the interval its hit ratio and evictions are over."""

    entry = entries("cache", "datastore", now, ids.cache or None)

    f: CacheFacts | None = o.value if o.ok else None
    if f is None:
        return [entry("responseTime", Status.FAIL, None, "ms", str(o.problem))], None
    out = [entry("responseTime", Status.PASS, f.ping_ms, "ms")]
    cap, of = (
        (f.maxmemory, "maxmemory")
        if f.maxmemory > 0
        else (f.total_system_memory, "the host's memory (no maxmemory)")
    )
    if cap:
        r = f.used_memory / cap
        high = r > p.memory_max
        out.append(
            limit(
                entry,
                "memoryUtilization",
                pct(r),
                "%",
                high,
                f"{human_bytes(f.used_memory)} of {human_bytes(cap)} {of}, above {pct(p.memory_max):g}%",
            )
        )
    out.append(entry("usedMemory", Status.PASS, f.used_memory, "bytes"))
    out.append(entry("keys", Status.PASS, f.keys, "keys"))
    span = interval(previous, f.sample)
    ratio = span.hit_ratio
    if ratio is None:
        out.append(entry("hitRate", Status.PASS, None, "%"))
    else:
        low = ratio < p.cache_hit_min
        out.append(
            limit(
                entry,
                "hitRate",
                pct(ratio),
                "%",
                low,
                f"{pct(ratio):g}% of {span.lookups:,} lookups {span.describe()}, below {pct(p.cache_hit_min):g}%",
            )
        )
    out.append(
        entry(
            "evictions",
            Status.WARN if span.evicted else Status.PASS,
            span.evicted,
            "keys",
            f"{span.evicted:,} keys evicted {span.describe()} (policy {f.maxmemory_policy})"
            if span.evicted
            else None,
        )
    )
    return out, span
