"""``cache.analyze`` (weekly): which prefixes hold the cache, and what to change.

The playbook's weekly "analyze cache hit/miss ratios, remove unused cache entries,
update cache size limits if needed", read-only. It reads a sample of keys (all of them
when the database holds no more than ``MAINT_CACHE_ANALYZE_SAMPLE``, else that many
``RANDOMKEY`` draws), and for each ``MEMORY USAGE``, ``PTTL`` and how recently it was
used (``OBJECT IDLETIME``; ``OBJECT FREQ`` under an LFU policy). None of these touch a
key's access time: the analysis does not warm up what it measures.

Redis counts hits and misses for the whole server, never per key or prefix. Per
prefix, the measure of use is therefore the sample's idle time (or LFU frequency): a
prefix whose keys mostly sit unread for ``MAINT_CACHE_COLD_IDLE_S`` is one whose entries
are rarely hit. The server-wide hit ratio comes with its trend, from the samples earlier
``cache.stats`` runs stored.

:func:`analyze` is pure: (sampled keys, key count, trend, policy) -> the checklist,
the prefix table and the suggestions.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import Field

from maintenance import clock
from maintenance.cache import client as cache_client
from maintenance.cache.samples import Sample, interval, recorded
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext
from maintenance.units import human_bytes

SEPARATOR = b":"
NO_PREFIX = "(no ':' in the name)"
#: A prefix with fewer sampled keys than this gets no suggestion (too little to judge).
MIN_SAMPLED = 5
#: A prefix is flagged when at least this share of its sampled keys has no TTL / is cold.
FLAG_SHARE = 0.5
#: The hit ratio "falls" when the newest interval is this much below the earlier median.
TREND_STEP = 0.05
#: Rows of the prefix table kept in the result (the rest are summed as "other").
TOP_PREFIXES = 30
#: Keys read per pipeline.
CHUNK = 100


@dataclass(frozen=True)
class KeyFact:
    key: bytes
    memory: int | None
    ttl_ms: int  # -1: no TTL
    idle_s: int | None = None
    freq: int | None = None


@dataclass(frozen=True)
class TrendPoint:
    at: datetime
    hit_ratio: float | None
    lookups: int | None


@dataclass(frozen=True)
class PrefixRow:
    prefix: str
    sampled: int
    #: Estimated over the whole database (exact when every key was read).
    keys: int
    memory_bytes: int
    no_ttl_share: float | None
    cold_share: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AnalyzePolicy:
    cold_idle_s: int = 86_400
    hit_ratio_warn: float = 0.8
    lfu: bool = False
    depth: int = 1


class AnalyzeParams(Params):
    depth: int = Field(
        1,
        ge=1,
        le=5,
        description="Name segments (up to ':') that make a prefix: 2 splits "
        "'schedule:' into 'schedule:block:', 'schedule:person:' ...",
    )


def prefix_of(key: bytes, depth: int = 1) -> str:
    """The name up to and including its ``depth``-th ``:`` (or its last one, if it has
    fewer); :data:`NO_PREFIX` for a name without any."""
    parts = key.split(SEPARATOR)
    if len(parts) == 1:
        return NO_PREFIX
    kept = parts[: min(depth, len(parts) - 1)]
    return (SEPARATOR.join(kept) + SEPARATOR).decode("utf-8", errors="backslashreplace")


def _cold(fact: KeyFact, policy: AnalyzePolicy) -> bool:
    if policy.lfu:
        return fact.freq is not None and fact.freq == 0
    return fact.idle_s is not None and fact.idle_s >= policy.cold_idle_s


def trend_of(points: list[TrendPoint]) -> tuple[str, str]:
    """("falling" | "rising" | "steady" | "unknown", how it reads) from oldest to newest."""
    ratios = [p.hit_ratio for p in points if p.hit_ratio is not None]
    if len(ratios) < 3:
        return "unknown", f"{len(ratios)} interval(s) with lookups: too few for a trend"
    newest, earlier = ratios[-1], statistics.median(ratios[:-1])
    shown = f"newest {newest:.1%} against a median of {earlier:.1%} over {len(ratios) - 1} earlier"
    if newest < earlier - TREND_STEP:
        return "falling", shown
    if newest > earlier + TREND_STEP:
        return "rising", shown
    return "steady", shown


def analyze(
    facts: list[KeyFact],
    keys: int,
    exact: bool,
    trend: list[TrendPoint],
    policy: AnalyzePolicy,
    guard: str,
) -> Result:
    """The analysis of one sample (pure; see the module text)."""
    groups: dict[str, list[KeyFact]] = defaultdict(list)
    for fact in facts:
        groups[prefix_of(fact.key, policy.depth)].append(fact)
    scale = 1.0 if exact or not facts else keys / len(facts)
    rows = []
    for prefix, members in groups.items():
        sized = [f.memory for f in members if f.memory is not None]
        memory = sum(sized) * (len(members) / len(sized)) if sized else 0
        rows.append(
            PrefixRow(
                prefix=prefix,
                sampled=len(members),
                keys=round(len(members) * scale),
                memory_bytes=round(memory * scale),
                no_ttl_share=round(sum(f.ttl_ms == -1 for f in members) / len(members), 3),
                cold_share=round(sum(_cold(f, policy) for f in members) / len(members), 3),
            )
        )
    rows.sort(key=lambda r: (-r.memory_bytes, r.prefix))
    suggestions = []
    no_ttl_flagged: list[str] = []
    cold_flagged: list[str] = []
    for row in rows:
        if row.sampled < MIN_SAMPLED:
            continue
        where = f"{row.prefix!r} (~{row.keys:,} keys, {human_bytes(row.memory_bytes)})"
        if (row.no_ttl_share or 0) >= FLAG_SHARE:
            no_ttl_flagged.append(row.prefix)
            suggestions.append(
                f"{where}: {row.no_ttl_share:.0%} of its keys have no TTL: give them one, "
                "so that unused entries leave by themselves"
            )
        if (row.cold_share or 0) >= FLAG_SHARE:
            cold_flagged.append(row.prefix)
            measure = (
                "have an LFU frequency of 0"
                if policy.lfu
                else f"were not used for {policy.cold_idle_s / 3600:g} h or more"
            )
            suggestions.append(
                f"{where}: {row.cold_share:.0%} of its keys {measure}: a low hit ratio; "
                "shorten their TTL or stop caching them"
            )
    direction, how = trend_of(trend)
    latest = next((p.hit_ratio for p in reversed(trend) if p.hit_ratio is not None), None)
    if latest is not None and latest < policy.hit_ratio_warn:
        suggestions.append(
            f"server-wide hit ratio {latest:.1%}, below {policy.hit_ratio_warn:.0%}: look at "
            "the prefixes above that are rarely used"
        )
    if direction == "falling":
        suggestions.append(f"the hit ratio is falling ({how})")
    no_ttl = sum(f.ttl_ms == -1 for f in facts)
    result = Result()
    result.check("cache is not Celery's database", True, observed=guard, expected="its own db")
    result.check(
        "keys sampled",
        bool(facts) or keys == 0,
        observed=f"all {len(facts):,}" if exact else f"{len(facts):,} of {keys:,} (random)",
        expected="a sample",
    )
    result.check(
        "prefixes give their keys a TTL",
        not no_ttl_flagged,
        warn_only=True,
        observed=f"{no_ttl:,} of {len(facts):,} sampled keys have no TTL"
        + (f"; mostly none: {', '.join(no_ttl_flagged)}" if no_ttl_flagged else ""),
        expected=f"under {FLAG_SHARE:.0%} of each prefix",
    )
    result.check(
        "prefixes are used",
        not cold_flagged,
        warn_only=True,
        observed=f"mostly unused: {', '.join(cold_flagged)}"
        if cold_flagged
        else "none mostly unused",
        expected=f"under {FLAG_SHARE:.0%} of each prefix unused",
    )
    result.check(
        "hit ratio not falling",
        direction != "falling",
        warn_only=True,
        observed=how,
        expected="steady or rising",
    )
    top, rest = rows[:TOP_PREFIXES], rows[TOP_PREFIXES:]
    if rest:
        top.append(
            PrefixRow(
                prefix=f"(other {len(rest)} prefixes)",
                sampled=sum(r.sampled for r in rest),
                keys=sum(r.keys for r in rest),
                memory_bytes=sum(r.memory_bytes for r in rest),
                no_ttl_share=None,
                cold_share=None,
            )
        )
    result.figures = {
        "keys": keys,
        "sampled": len(facts),
        "exact": exact,
        "cold_measure": "lfu frequency 0" if policy.lfu else f"idle >= {policy.cold_idle_s} s",
        "no_ttl_share": round(no_ttl / len(facts), 3) if facts else None,
        "prefixes": [r.to_dict() for r in top],
        "hit_ratio_trend": {
            "direction": direction,
            "reads": how,
            "points": [
                {"at": p.at.isoformat(), "hit_ratio": p.hit_ratio, "lookups": p.lookups}
                for p in trend
            ],
        },
        "suggestions": suggestions,
    }
    biggest = f", largest {rows[0].prefix!r}" if rows else ""
    result.summary = (
        f"{len(groups)} prefixes in {len(facts):,} sampled of {keys:,} keys{biggest}; "
        f"hit ratio {direction}; {len(suggestions)} suggestion(s)"
    )
    return result


# --- reading the facts ---------------------------------------------------------------------


def _sample_keys(
    cache: cache_client.Cache, keys: int, size: int, scan_count: int, pause_s: float
) -> tuple[list[bytes], bool]:
    client = cache.client
    if keys <= size:
        found: list[bytes] = []
        cursor = 0
        while True:
            cursor, batch = client.scan(cursor, count=scan_count)
            found.extend(k if isinstance(k, bytes) else k.encode() for k in batch)
            if cursor == 0:
                return list(dict.fromkeys(found)), True
            time.sleep(pause_s)
    drawn: dict[bytes, None] = {}
    for _ in range(0, size, CHUNK):
        pipe = client.pipeline(transaction=False)
        for _ in range(CHUNK):
            pipe.randomkey()
        drawn.update((k, None) for k in pipe.execute() if k is not None)
        time.sleep(pause_s)
    return list(drawn), False


def _key_facts(
    cache: cache_client.Cache, names: list[bytes], lfu: bool, pause_s: float
) -> list[KeyFact]:
    out = []
    for i in range(0, len(names), CHUNK):
        chunk = names[i : i + CHUNK]
        pipe = cache.client.pipeline(transaction=False)
        for key in chunk:
            pipe.memory_usage(key)
            pipe.pttl(key)
            pipe.object("freq" if lfu else "idletime", key)
        replies = pipe.execute(raise_on_error=False)
        for j, key in enumerate(chunk):
            memory, ttl, use = replies[3 * j : 3 * j + 3]
            if not isinstance(ttl, int) or ttl == -2:  # gone meanwhile
                continue
            use_n = use if isinstance(use, int) else None
            out.append(
                KeyFact(
                    key,
                    memory if isinstance(memory, int) else None,
                    ttl,
                    idle_s=None if lfu else use_n,
                    freq=use_n if lfu else None,
                )
            )
        time.sleep(pause_s)
    return out


def run(ctx: RunContext, params: AnalyzeParams) -> Result:
    """Sample the cache, then analyze it (module text)."""
    settings = ctx.settings
    cache = cache_client.open_cache(settings)
    try:
        with cache_client.answering(cache.url):
            info: dict[str, Any] = {}
            for section in ("server", "memory", "stats"):
                info |= cache.client.info(section)
            keys = int(cache.client.dbsize())
            now = Sample.from_info(info, clock.now())
            lfu = "lfu" in str(info.get("maxmemory_policy", ""))
            pause_s = settings.cache_pause_ms / 1000
            names, exact = _sample_keys(
                cache, keys, settings.cache_analyze_sample, settings.cache_scan_count, pause_s
            )
            facts = _key_facts(cache, names, lfu, pause_s)
    finally:
        cache.client.close()
    earlier, why_none = recorded(settings.history_dsn.get_secret_value())
    points = [TrendPoint(r.sample.taken_at, r.hit_ratio, r.lookups) for r in reversed(earlier)]
    if earlier:  # and the interval since the newest stored sample, read now (not stored)
        span = interval(earlier[0].sample, now)
        if span.basis == "previous sample" and span.lookups:
            points.append(TrendPoint(now.taken_at, span.hit_ratio, span.lookups))
    policy = AnalyzePolicy(
        settings.cache_cold_idle_s, settings.cache_hit_ratio_warn, lfu, params.depth
    )
    result = analyze(facts, keys, exact, points, policy, cache.guard)
    result.figures["cache"] = str(cache.endpoint)
    if why_none:
        result.figures["trend_unavailable"] = why_none
    return result
