"""The health check's judgement: probe outcomes, the policy and the time in, check
entries and the document out. Pure (docs/health.md lists every rule)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from maintenance.cache.samples import Interval, Sample, interval
from maintenance.config import Settings
from maintenance.health import document
from maintenance.health.document import Entry, Status
from maintenance.health.facts import (
    BackupFacts,
    CacheFacts,
    DatabaseFacts,
    HistoryFacts,
    HostFacts,
    HttpFacts,
)
from maintenance.health.parallel import Outcome
from maintenance.units import human_bytes

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


# --- Celery ----------------------------------------------------------------------------


def celery(
    workers: Outcome,
    queues: Outcome,
    history: Outcome,
    backups: Outcome,
    p: HealthPolicy,
    now: datetime,
    ids: Ids,
) -> list[Entry]:
    entry = entries("celery", "component", now, None, per_call_id=True)

    out: list[Entry] = []
    if workers.ok:
        names: list[str] = workers.value
        few = len(names) < p.min_workers
        out.append(
            limit(
                entry,
                "workers",
                len(names),
                "workers",
                few,
                f"{len(names)} answered the ping, {p.min_workers} needed",
                Status.FAIL,
            )
        )
    else:
        out.append(
            entry(
                "workers", Status.FAIL, None, "workers", f"no answer to the ping: {workers.problem}"
            )
        )
    if queues.ok:
        lengths: dict[str, int] = queues.value
        for name, n in lengths.items():
            long_ = n > p.queue_max
            out.append(
                entry(
                    "queueLength",
                    Status.WARN if long_ else Status.PASS,
                    n,
                    "messages",
                    f"{n:,} messages waiting, above {p.queue_max:,}" if long_ else None,
                    name,
                )
            )
    else:
        out.append(
            entry(
                "queueLength",
                Status.FAIL,
                None,
                "messages",
                f"broker {ids.broker}: {queues.problem}",
            )
        )
    if history.ok:
        h: HistoryFacts = history.value
        many = h.failed_total > p.failed_runs_max
        listed = ", ".join(f"{r.task} run {r.id} {r.status}" for r in h.failed[:5])
        out.append(
            limit(
                entry,
                "failedRuns",
                h.failed_total,
                "runs",
                many,
                f"{h.failed_total} in 24 h: {listed}" + (" ..." if h.failed_total > 5 else ""),
            )
        )
    else:
        out.append(
            entry(
                "failedRuns",
                Status.WARN,
                None,
                "runs",
                f"job history not readable: {history.problem}",
            )
        )
    out.append(_backup_age(backups, p, now, entry))
    return out


def _backup_age(o: Outcome, p: HealthPolicy, now: datetime, entry: Any) -> Entry:
    if not o.ok:
        return entry(
            "lastVerifiedBackup", Status.WARN, None, "h", f"backups not readable: {o.problem}"
        )
    b: BackupFacts = o.value
    if b.newest_at is None:
        return entry(
            "lastVerifiedBackup",
            Status.WARN,
            None,
            "h",
            f"no verified backup in {b.root} ({b.backups} backups)",
        )
    hours = round((now - b.newest_at).total_seconds() / 3600, 1)
    status = (
        Status.FAIL
        if hours > p.backup_fail_hours
        else Status.WARN
        if hours > p.backup_warn_hours
        else Status.PASS
    )
    bound = p.backup_fail_hours if status is Status.FAIL else p.backup_warn_hours
    return entry(
        "lastVerifiedBackup",
        status,
        hours,
        "h",
        f"{b.newest_id} is {hours:g} h old, above {bound:g} h"
        if status is not Status.PASS
        else None,
        b.newest_id,
    )


# --- host ------------------------------------------------------------------------------


def host(
    o: Outcome, folders: Outcome | None, p: HealthPolicy, now: datetime, ids: Ids
) -> tuple[list[Entry], list[str]]:
    """The host's entries, and notes (a root that does not exist)."""

    entry = entries("host", "system", now, ids.host or None, per_call_id=True)

    f: HostFacts | None = o.value if o.ok else None
    if f is None:
        return [
            entry("diskUtilization", Status.FAIL, None, "%", f"host not readable: {o.problem}")
        ], []
    out: list[Entry] = []
    notes: list[str] = []
    for d in f.disks:
        cid = f"{d.label} {d.root}"
        r = d.used / d.total if d.total else 0.0
        status = (
            Status.FAIL if r >= p.disk_fail else Status.WARN if r >= p.disk_warn else Status.PASS
        )
        bound = p.disk_fail if status is Status.FAIL else p.disk_warn
        out.append(
            entry(
                "diskUtilization",
                status,
                pct(r),
                "%",
                f"{pct(r):g}% used, at or above {pct(bound):g}% ({human_bytes(d.free)} free)"
                if status is not Status.PASS
                else None,
                cid,
            )
        )
        low = d.free < p.disk_min_free_bytes
        out.append(
            entry(
                "diskFree",
                Status.FAIL if low else Status.PASS,
                d.free,
                "bytes",
                f"{human_bytes(d.free)} free, below {human_bytes(p.disk_min_free_bytes)}"
                if low
                else None,
                cid,
            )
        )
        size = folders.value.get(d.label) if folders is not None and folders.ok else None
        if size is not None:
            out.append(entry("folderSize", Status.PASS, size, "bytes", None, cid))
        if d.measured != d.root:
            notes.append(
                f"the {d.label} root {d.root} does not exist: its disk was measured at {d.measured}"
            )
    if folders is not None and not folders.ok:
        out.append(
            entry("folderSize", Status.WARN, None, "bytes", f"not measured: {folders.problem}")
        )
    mem = f.memory_percent / 100
    high = mem > p.memory_max
    out.append(
        limit(
            entry,
            "memoryUtilization",
            round(f.memory_percent, 1),
            "%",
            high,
            f"{f.memory_percent:.1f}% used, above {pct(p.memory_max):g}% ({human_bytes(f.memory_available)} available)",
        )
    )
    load1 = round(f.load[0], 2)
    busy = load1 > p.load_per_core_max * f.cpus
    out.append(
        limit(
            entry,
            "loadAverage",
            load1,
            None,
            busy,
            f"1-minute load {load1:g} on {f.cpus} cores, above {p.load_per_core_max:g} per core",
        )
    )
    return out, notes


# --- the whole check -------------------------------------------------------------------


def _outcome(outcomes: Mapping[str, Outcome], name: str) -> Outcome:
    return outcomes.get(name) or Outcome(name, error="not probed")


def assess(
    outcomes: Mapping[str, Outcome],
    policy: HealthPolicy,
    now: datetime,
    *,
    ids: Ids,
    release: str,
    description: str = "the residency scheduler and its maintenance suite",
) -> dict[str, Any]:
    """The health document of one check (pure; :mod:`maintenance.health.document`)."""
    get = outcomes.get
    history = _outcome(outcomes, "history")
    previous: Sample | None = history.value.previous_cache if history.ok else None
    notes: list[str] = []
    entries: list[Entry] = []
    entries += api(_outcome(outcomes, "api"), get("api_extended"), policy, now, ids)
    entries += database(_outcome(outcomes, "database"), policy, now, ids)
    cache_entries, span = cache(_outcome(outcomes, "cache"), previous, policy, now, ids)
    entries += cache_entries
    if span is not None and span.basis != "previous sample":
        notes.append(f"cache hit rate and evictions {span.describe()}")
    entries += celery(
        _outcome(outcomes, "workers"),
        _outcome(outcomes, "queues"),
        history,
        _outcome(outcomes, "backups"),
        policy,
        now,
        ids,
    )
    host_entries, host_notes = host(_outcome(outcomes, "host"), get("folders"), policy, now, ids)
    entries += host_entries
    notes += host_notes
    cache_facts = _outcome(outcomes, "cache")
    counters = {"cache": cache_facts.value.sample.to_dict()} if cache_facts.ok else None
    return document.build(
        entries,
        critical=policy.critical,
        release=release,
        description=description,
        notes=notes,
        counters=counters,
    )
