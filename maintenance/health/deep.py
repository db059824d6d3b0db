"""``health.deep`` (weekly, Sunday 05:00): the playbook's Weekly Deep Health Check script
as a report.

Its eight steps, each read by a probe of its own (in parallel, in daemon threads, each
bounded by :data:`PROBE_TIMEOUT_S`):

1. Database: ``pg_isready`` (does the server accept connections?) and ``version()``;
2. API: the time of one ``GET /api/health`` and the status it says;
3. Cache: ``INFO`` (server, memory, stats);
4. Disk: ``/``, and the sizes of the backup and log folders (``du -s``);
5. Memory: ``free``'s figures;
6. CPU: load averages, cores, a short CPU-use sample, processes, uptime;
7. Workers and queues (the playbook's container status): the workers that answer a
   ping, the messages waiting in each queue;
8. Recent errors: the last ERROR/CRITICAL lines of the live logs under MAINT_LOG_ROOT
   (their tails only, secrets masked; links never followed).

plus the versions of PostgreSQL, Redis, the suite and Python. Read-only. The checklist
fails when the database does not accept connections or the API does not answer, warns
on the rest (docs/health.md).
"""

from __future__ import annotations

import fnmatch
import os
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from maintenance import __version__, pg
from maintenance.cache.client import info_and_keys
from maintenance.config import Settings
from maintenance.errors import ServiceRefused
from maintenance.health import facts, parallel
from maintenance.health.assess import HEALTHY
from maintenance.health.check import queues
from maintenance.logs.files import LogRoot, disk_usage
from maintenance.logs.scan import LogErrors, count_lines
from maintenance.results import Result
from maintenance.taskspec import NoParams, RunContext
from maintenance.units import human_bytes

#: Each deep probe's time limit: a weekly report may wait longer than the 5-minute check.
PROBE_TIMEOUT_S = 30.0
#: How much of the end of each live log is read for recent errors.
TAIL_BYTES = 256 * 1024
#: Recent error lines quoted per log (the playbook's ``| tail -5``).
QUOTES = 5

_INFO_STATS = (
    "total_connections_received",
    "total_commands_processed",
    "instantaneous_ops_per_sec",
    "rejected_connections",
    "keyspace_hits",
    "keyspace_misses",
    "evicted_keys",
    "expired_keys",
)


def pg_ready(dsn: str, timeout_s: float) -> dict[str, Any]:
    """``pg_isready``'s answer, and ``version()`` when the connection is allowed: a
    server that refuses our credentials still accepts connections."""
    t0 = time.monotonic()
    try:
        with pg.connect(dsn, timeout=timeout_s, application_name="maint-health") as conn:
            version = str(conn.execute("SELECT version()").fetchone()[0])  # type: ignore[index]
            short = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    except ServiceRefused as exc:
        return {"ready": "accepting connections", "refused": str(exc), "version": None}
    return {
        "ready": "accepting connections",
        "version": version,
        "server_version": short,
        "ms": round((time.monotonic() - t0) * 1000, 1),
    }


def cache_info(url: str, timeout_s: float) -> dict[str, Any]:
    client = facts.redis_client(url, timeout_s)
    try:
        info, keys = info_and_keys(client)
    finally:
        client.close()
    return {
        "version": str(info.get("redis_version", "?")),
        "uptime_s": int(info.get("uptime_in_seconds", 0)),
        "used_memory": int(info.get("used_memory", 0)),
        "maxmemory": int(info.get("maxmemory", 0)),
        "maxmemory_policy": str(info.get("maxmemory_policy", "?")),
        "keys": keys,
        "stats": {k: info.get(k) for k in _INFO_STATS if k in info},
    }


def disks(roots: dict[str, Path]) -> dict[str, Any]:
    root = shutil.disk_usage("/")
    out: dict[str, Any] = {
        "/": {"total": root.total, "used": root.used, "free": root.free},
    }
    for label, path in roots.items():
        out[label] = {
            "path": str(path),
            "bytes": disk_usage(path) if path.is_dir() and not path.is_symlink() else None,
        }
    return out


def memory() -> dict[str, Any]:
    mem, swap = psutil.virtual_memory(), psutil.swap_memory()
    return {
        "total": int(mem.total),
        "available": int(mem.available),
        "used_percent": float(mem.percent),
        "swap_total": int(swap.total),
        "swap_used": int(swap.used),
    }


def cpu() -> dict[str, Any]:
    return {
        "load": [round(x, 2) for x in os.getloadavg()],
        "cores": psutil.cpu_count() or 1,
        "cpu_percent": psutil.cpu_percent(interval=0.5),
        "processes": len(psutil.pids()),
        "uptime_s": int(time.time() - psutil.boot_time()),
    }


def celery_state(settings: Settings, timeout_s: float) -> dict[str, Any]:
    broker = settings.broker_url.get_secret_value()
    return {
        "workers": facts.read_workers(settings.health_worker_ping_s),
        "queues": facts.read_queues(broker, queues(settings), timeout_s),
    }


@dataclass
class RecentErrors:
    """The last error lines of each live log's tail."""

    counts: dict[str, int] = field(default_factory=dict)  # log -> error lines in its tail
    quotes: dict[str, list[str]] = field(default_factory=dict)  # log -> its last few
    problems: list[str] = field(default_factory=list)


def recent_errors(root: Path, patterns: list[str]) -> RecentErrors:
    """ERROR/CRITICAL lines in the last :data:`TAIL_BYTES` of every live log (the names
    ``patterns`` match directly in ``root``), the newest :data:`QUOTES` of each quoted
    with secrets masked (:mod:`maintenance.logs.scan`'s rules)."""
    found = RecentErrors()
    if not root.is_dir():
        found.problems.append(f"{root} does not exist")
        return found
    with LogRoot(root) as logs:
        for entry in sorted(logs.entries(), key=lambda e: e.name):
            if entry.kind != "file" or not any(fnmatch.fnmatch(entry.name, p) for p in patterns):
                continue
            try:
                with logs.open_read(entry.name, entry) as handle:
                    start = max(0, entry.size - TAIL_BYTES)
                    handle.seek(start)
                    data = handle.read(TAIL_BYTES)
            except OSError as exc:
                found.problems.append(f"{entry.name}: {parallel.describe(exc)}")
                continue
            if start > 0:  # the first line is cut: not a line
                data = data[data.find(b"\n") + 1 :]
            total = LogErrors()
            count_lines(data, total, entry.name)
            found.counts[entry.name] = total.total
            quotes: list[str] = []
            for line in reversed(data.splitlines()):
                one = LogErrors()
                count_lines(line, one, entry.name)
                if one.quotes:
                    quotes.append(one.quotes[0])
                if len(quotes) == QUOTES:
                    break
            if quotes:
                found.quotes[entry.name] = quotes[::-1]
    return found


def _value(o: parallel.Outcome) -> Any:
    return o.value if o.ok else {"error": o.problem}


def deep(ctx: RunContext, params: NoParams) -> Result:
    """health.deep: the weekly report (module text)."""
    s = ctx.settings
    t = PROBE_TIMEOUT_S
    roots = {"backups": s.backup_root, "logs": s.log_root}
    api_url = s.api_url.rstrip("/") + s.health_api_path
    outcomes = parallel.run(
        [
            parallel.Probe(
                "database", "database", lambda: pg_ready(s.target_dsn.get_secret_value(), t), t
            ),
            parallel.Probe("api", "api", lambda: facts.read_http(api_url, t), t),
            parallel.Probe(
                "cache", "cache", lambda: cache_info(s.cache_url.get_secret_value(), t), t
            ),
            parallel.Probe("disk", "host", lambda: disks(roots), t),
            parallel.Probe("memory", "host", memory, t),
            parallel.Probe("cpu", "host", cpu, t),
            parallel.Probe("celery", "celery", lambda: celery_state(s, t), t),
            parallel.Probe("errors", "host", lambda: recent_errors(s.log_root, s.log_patterns), t),
        ],
        t,
    )
    return report(outcomes, s)


def report(outcomes: dict[str, parallel.Outcome], s: Settings) -> Result:
    """The checklist and figures of the deep check (pure)."""
    r = Result()
    db = outcomes["database"]
    r.check(
        "database accepting connections (pg_isready)",
        db.ok,
        observed=db.value["ready"] if db.ok else f"no response: {db.problem}",
        expected="accepting connections",
    )
    api = outcomes["api"]
    http: facts.HttpFacts | None = api.value if api.ok else None
    said = str((http.body or {}).get("status", "")).lower() if http else ""
    api_ok = http is not None and http.status_code == 200 and (not said or said in HEALTHY)
    r.check(
        "API answers healthy",
        api_ok,
        observed=f"HTTP {http.status_code}, status {said or '-'}, {http.elapsed_ms:g} ms"
        if http
        else f"no answer: {api.problem}",
        expected="HTTP 200, healthy",
    )
    if http is not None and api_ok:
        r.check(
            f"API answers within {s.health_response_ms:g} ms",
            http.elapsed_ms <= s.health_response_ms,
            observed=f"{http.elapsed_ms:g} ms",
            expected=f"<= {s.health_response_ms:g} ms",
            warn_only=True,
        )
    cache = outcomes["cache"]
    r.check(
        "cache answers (INFO)",
        cache.ok,
        observed=f"Redis {cache.value['version']}, {cache.value['keys']:,} keys"
        if cache.ok
        else str(cache.problem),
        expected="an answer",
        warn_only=True,
    )
    disk = outcomes["disk"]
    if disk.ok:
        root = disk.value["/"]
        used = root["used"] / root["total"] if root["total"] else 0.0
        r.check(
            f"disk of / below {s.health_disk_warn:.0%} used",
            used < s.health_disk_warn,
            observed=f"{used:.1%} used, {human_bytes(root['free'])} free",
            expected=f"< {s.health_disk_warn:.0%}",
            warn_only=used < s.health_disk_fail,
        )
    else:
        r.check("disk of / read", False, observed=disk.problem, warn_only=True)
    mem = outcomes["memory"]
    if mem.ok:
        r.check(
            f"memory below {s.health_memory_max:.0%} used",
            mem.value["used_percent"] <= s.health_memory_max * 100,
            observed=f"{mem.value['used_percent']:.1f}% of {human_bytes(mem.value['total'])}",
            expected=f"<= {s.health_memory_max:.0%}",
            warn_only=True,
        )
    load = outcomes["cpu"]
    if load.ok:
        per_core = load.value["load"][0] / load.value["cores"]
        r.check(
            f"load below {s.health_load_per_core_max:g} per core",
            per_core <= s.health_load_per_core_max,
            observed=f"{load.value['load'][0]:g} on {load.value['cores']} cores",
            expected=f"<= {s.health_load_per_core_max:g} per core",
            warn_only=True,
        )
    celery = outcomes["celery"]
    workers = celery.value["workers"] if celery.ok else []
    r.check(
        "workers answer a ping",
        len(workers) >= max(s.health_min_workers, 1),
        observed=", ".join(workers) if celery.ok else str(celery.problem),
        expected=f">= {max(s.health_min_workers, 1)}",
        warn_only=True,
    )
    errors = outcomes["errors"]
    recent: RecentErrors | None = errors.value if errors.ok else None
    lines = sum(recent.counts.values()) if recent else 0
    r.check(
        "no recent error lines in the logs",
        recent is not None and lines == 0,
        observed=f"{lines} in the logs' tails" if recent else str(errors.problem),
        expected="0",
        warn_only=True,
    )
    pg_version = db.value.get("server_version") if db.ok else None
    r.figures = {
        "versions": {
            "postgresql": pg_version,
            "redis": cache.value["version"] if cache.ok else None,
            "suite": __version__,
            "python": platform.python_version(),
        },
        "database": _value(db),
        "api": asdict(http) if http else {"error": api.problem},
        "cache": _value(cache),
        "disk": _value(disk),
        "memory": _value(mem),
        "cpu": _value(load),
        "celery": _value(celery),
        "errors": asdict(recent) if recent else {"error": errors.problem},
    }
    failed = [c.name for c in r.failed]
    warned = [c.name for c in r.warnings]
    r.summary = (
        "weekly deep health check: "
        + (f"failed: {', '.join(failed)}" if failed else "database and API up")
        + (f"; warnings: {', '.join(warned)}" if warned else "")
    )
    return r
