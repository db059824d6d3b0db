"""What the probes read, and the thin functions that read it (docs/health.md).

Each reader asks one thing, with its own sockets' timeouts set to the probe's limit, and
returns plain facts; judging them is :mod:`maintenance.health.assess` (pure). A reader
may raise: :mod:`maintenance.health.parallel` turns that into the probe's outcome.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
import redis

from maintenance import clock, dispatch, pg, redact
from maintenance.backup import inventory
from maintenance.cache.client import endpoint as cache_endpoint
from maintenance.cache.client import info_and_keys
from maintenance.cache.samples import Sample
from maintenance.history.store import REJECTED_INPUT
from maintenance.logs.files import disk_usage
from maintenance.results import Trigger

#: The most of a health endpoint's body that is read as JSON.
BODY_MAX = 1 << 20


# --- API -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpFacts:
    """One GET of a health endpoint."""

    url: str
    status_code: int
    elapsed_ms: float
    body: dict[str, Any] | None
    #: Why ``body`` is None: "not JSON", "JSON but not an object", "too large".
    body_problem: str | None = None


def read_http(url: str, timeout_s: float) -> HttpFacts:
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        # the request only: building the client (its TLS context) is not the API's time
        t0 = time.monotonic()
        resp = client.get(url, headers={"Accept": "application/json, application/health+json"})
        elapsed = (time.monotonic() - t0) * 1000
    body: dict[str, Any] | None = None
    problem: str | None = None
    if len(resp.content) > BODY_MAX:
        problem = "body too large"
    else:
        try:
            parsed = resp.json()
        except ValueError:
            problem = "body is not JSON"
        else:
            if isinstance(parsed, dict):
                body = parsed
            else:
                problem = "body is JSON but not an object"
    return HttpFacts(redact.mask_url(url), resp.status_code, round(elapsed, 1), body, problem)


# --- database --------------------------------------------------------------------------

_CONNECTIONS = """
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
"""
_BLOCKS = """
SELECT coalesce(blks_hit, 0)::bigint, coalesce(blks_read, 0)::bigint
  FROM pg_stat_database WHERE datname = current_database()
"""


@dataclass(frozen=True)
class DatabaseFacts:
    server: str  # host:port/database
    version: str
    connect_ms: float
    query_ms: float  # SELECT 1, on the open connection
    connections: int
    max_connections: int
    reserved: int
    blks_hit: int
    blks_read: int


def server_name(dsn: str) -> str:
    host, port = pg.server_identity(dsn)
    return f"{host}:{port}/{pg.dbname(dsn)}"


def read_database(dsn: str, timeout_s: float) -> DatabaseFacts:
    t0 = time.monotonic()
    with pg.connect(dsn, timeout=timeout_s, application_name="maint-health") as conn:
        connected = time.monotonic()
        conn.execute(f"SET statement_timeout = {max(1, int(timeout_s * 1000))}")
        q0 = time.monotonic()
        conn.execute("SELECT 1").fetchone()
        query_ms = (time.monotonic() - q0) * 1000
        version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        max_conn, reserved, total = conn.execute(_CONNECTIONS).fetchone()  # type: ignore[misc]
        blocks = conn.execute(_BLOCKS).fetchone() or (0, 0)
    return DatabaseFacts(
        server=server_name(dsn),
        version=version,
        connect_ms=round((connected - t0) * 1000, 1),
        query_ms=round(query_ms, 2),
        connections=int(total),
        max_connections=int(max_conn),
        reserved=int(reserved),
        blks_hit=int(blocks[0]),
        blks_read=int(blocks[1]),
    )


# --- cache -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CacheFacts:
    endpoint: str
    version: str
    ping_ms: float
    used_memory: int
    maxmemory: int
    total_system_memory: int
    maxmemory_policy: str
    keys: int
    sample: Sample


def redis_client(url: str, timeout_s: float) -> redis.Redis:
    """A client whose every socket operation (connect included) gives up after
    ``timeout_s``: a closed port answers at once, a black hole within the limit."""
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=0,
        retry_on_timeout=False,
    )


def read_cache(url: str, timeout_s: float) -> CacheFacts:
    client = redis_client(url, timeout_s)
    try:
        t0 = time.monotonic()
        client.ping()
        ping_ms = (time.monotonic() - t0) * 1000
        info, keys = info_and_keys(client)
    finally:
        client.close()
    return CacheFacts(
        endpoint=str(cache_endpoint(url)),
        version=str(info.get("redis_version", "?")),
        ping_ms=round(ping_ms, 2),
        used_memory=int(info.get("used_memory", 0)),
        maxmemory=int(info.get("maxmemory", 0)),
        total_system_memory=int(info.get("total_system_memory", 0)),
        maxmemory_policy=str(info.get("maxmemory_policy", "?")),
        keys=keys,
        sample=Sample.from_info(info, clock.now()),
    )


# --- Celery ----------------------------------------------------------------------------


def read_workers(timeout_s: float) -> list[str]:
    """The workers that answered a ping within ``timeout_s`` (through the dispatch seam:
    maintenance/ never imports Celery)."""
    return sorted(dispatch.load().ping(timeout_s))


#: kombu's Redis transport keeps a queue's messages of priority p (3, 6, 9) under
#: ``<queue>\x06\x16<p>``; priority 0 (the default) under the queue's own name.
_PRIORITY_SEP = "\x06\x16"
_PRIORITIES = (3, 6, 9)


def read_queues(broker_url: str, queues: list[str], timeout_s: float) -> dict[str, int]:
    """Messages waiting in each of ``queues`` on a Redis broker (LLEN)."""
    if urlsplit(broker_url).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("the broker is not Redis: its queues are not measured")
    client = redis_client(broker_url, timeout_s)
    try:
        pipe = client.pipeline(transaction=False)
        for q in queues:
            pipe.llen(q)
            for p in _PRIORITIES:
                pipe.llen(f"{q}{_PRIORITY_SEP}{p}")
        lengths = [int(n) for n in pipe.execute()]
    finally:
        client.close()
    step = 1 + len(_PRIORITIES)
    return {q: sum(lengths[i * step : (i + 1) * step]) for i, q in enumerate(queues)}


@dataclass(frozen=True)
class FailedRun:
    id: int
    task: str
    status: str
    at: datetime


@dataclass(frozen=True)
class HistoryFacts:
    """From the job history: runs failed or lost recently, and the previous sample."""

    since: datetime
    failed: list[FailedRun] = field(default_factory=list)
    failed_total: int = 0
    #: The newest stored health sample's cache counters, and when it was taken.
    previous_cache: Sample | None = None
    previous_at: datetime | None = None


_FAILED = """
SELECT id, task, status, coalesce(finished_at, started_at) AS at, count(*) OVER () AS total
  FROM job_runs
 WHERE status IN ('failed', 'lost') AND parent_run_id IS NULL
   AND coalesce(finished_at, started_at) >= %(since)s
   AND task NOT LIKE 'health.%%'
   AND NOT (status = 'failed' AND coalesce(error_type, '') = ANY(%(rejected)s)
            AND trigger = ANY(%(people)s))
 ORDER BY id DESC LIMIT 20
"""
_PREVIOUS = "SELECT taken_at, document -> 'counters' -> 'cache' FROM health_samples ORDER BY taken_at DESC, id DESC LIMIT 1"


def read_history(dsn: str, now: datetime, timeout_s: float) -> HistoryFacts:
    """Runs (not health checks, not refused input) failed or lost in the 24 hours before
    ``now``, and the previous health sample's cache counters."""
    since = now - timedelta(hours=24)
    with pg.connect(dsn, timeout=timeout_s, application_name="maint-health") as conn:
        conn.execute(f"SET statement_timeout = {max(1, int(timeout_s * 1000))}")
        rows = conn.execute(
            _FAILED,
            {
                "since": since,
                "rejected": list(REJECTED_INPUT),
                "people": [Trigger.CLI.value, Trigger.ADHOC.value],
            },
        ).fetchall()
        prev = conn.execute(_PREVIOUS).fetchone()
    sample = Sample.from_dict(prev[1]) if prev and isinstance(prev[1], dict) else None
    return HistoryFacts(
        since=since,
        failed=[FailedRun(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows],
        failed_total=int(rows[0][4]) if rows else 0,
        previous_cache=sample,
        previous_at=prev[0] if prev else None,
    )


@dataclass(frozen=True)
class BackupFacts:
    root: str
    newest_id: str | None
    newest_at: datetime | None
    backups: int


def read_backups(root: Path) -> BackupFacts:
    inv = inventory.scan(root)
    newest = inv.latest(verified=True)
    return BackupFacts(
        str(root),
        newest.id if newest else None,
        newest.created_at if newest else None,
        len(inv.backups),
    )


# --- host ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiskFacts:
    label: str  # "backups" | "logs"
    root: str
    #: The folder whose file system was measured: the root, or its nearest existing parent.
    measured: str
    total: int
    used: int
    free: int


@dataclass(frozen=True)
class HostFacts:
    disks: list[DiskFacts]
    memory_total: int
    memory_available: int
    memory_percent: float
    load: tuple[float, float, float]
    cpus: int


def _existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def read_disk(label: str, root: Path) -> DiskFacts:
    measured = _existing(root)
    usage = shutil.disk_usage(measured)
    return DiskFacts(label, str(root), str(measured), usage.total, usage.used, usage.free)


def read_folders(roots: dict[str, Path]) -> dict[str, int | None]:
    """What ``du -s`` counts under each root (None: it does not exist). A probe of its
    own: walking a large tree may take long, and the disks' own figures must not wait."""
    return {
        label: disk_usage(root) if root.is_dir() and not root.is_symlink() else None
        for label, root in roots.items()
    }


def read_host(roots: dict[str, Path]) -> HostFacts:
    mem = psutil.virtual_memory()
    return HostFacts(
        disks=[read_disk(label, root) for label, root in roots.items()],
        memory_total=int(mem.total),
        memory_available=int(mem.available),
        memory_percent=float(mem.percent),
        load=os.getloadavg(),
        cpus=psutil.cpu_count() or 1,
    )
