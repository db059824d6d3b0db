"""What capacity.forecast reads (the thin side): the figures earlier runs recorded in
``job_runs``, the health samples, the backup manifests, and a current reading of each
series taken now. Each reader returns :class:`~maintenance.capacity.fit.Point` lists and
the problems it met; it never judges.

Where each series comes from (docs/capacity.md):

- database size: ``db.stats`` (nightly), ``db.report`` (weekly) and ``backup.create``
  results' ``figures.database_size_bytes``; every backup manifest's
  ``database_size_bytes`` (the monthly ones reach back a year);
- a backup tier's bytes: ``backup.create`` results' ``figures.tier_bytes`` (the tier's
  backups on disk once the new one is written);
- free disk of the backup and log roots: the health samples' ``host:diskFree`` (every
  5 minutes, kept MAINT_HEALTH_SAMPLE_RETENTION_DAYS);
- log volume, per log host: ``logs.report`` (daily) and ``logs.cleanup`` (weekly)
  results' ``figures.disk_usage_bytes``;
- Redis memory: ``cache.stats`` results' ``figures.used_memory_bytes`` (daily) and the
  health samples' ``cache:usedMemory``; its limit is ``maxmemory``, read now (INFO).

A series the history holds nothing of gets one reading taken now (the inventory, the
log root, ``shutil.disk_usage``, ``INFO memory``), and the forecast says the history is
short. Only then: a reading now beside a recorded history would be a second way of
measuring the same thing, and a disagreement between the two is not a trend.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from maintenance import clock, redact
from maintenance.backup import inventory
from maintenance.backup.layout import Tier
from maintenance.cache import client as cache_client
from maintenance.capacity.fit import Point
from maintenance.config import Settings
from maintenance.errors import MaintenanceError
from maintenance.history import store
from maintenance.logs.files import disk_usage

#: Tasks whose results carry a figure a series is made of: (task, figure).
DATABASE_SIZE = (
    ("db.stats", "database_size_bytes"),
    ("db.report", "database_size_bytes"),
    ("backup.create", "database_size_bytes"),
)
LOG_VOLUME = (("logs.report", "disk_usage_bytes"), ("logs.cleanup", "disk_usage_bytes"))
REDIS_MEMORY = (("cache.stats", "used_memory_bytes"),)


@dataclass
class Readings:
    """Points (and what went wrong) for one series."""

    points: list[Point] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def add(self, points: list[Point], source: str) -> None:
        if points:
            self.points.extend(points)
            self.sources.append(f"{source} ({len(points)})")


@dataclass
class Facts:
    now: datetime
    database: Readings = field(default_factory=Readings)
    tiers: dict[str, Readings] = field(default_factory=dict)
    backup_disk_free: Readings = field(default_factory=Readings)
    log_disk_free: Readings = field(default_factory=Readings)
    #: log host -> its log folder's bytes
    logs: dict[str, Readings] = field(default_factory=dict)
    #: Why the log runs could not be read (no host known then).
    log_problems: list[str] = field(default_factory=list)
    redis: Readings = field(default_factory=Readings)
    #: Redis maxmemory now (0: unbounded; None: not read), and where it came from.
    maxmemory: int | None = None
    maxmemory_source: str = ""
    #: Runs of each task seen in the history, to say how short it is.
    counts: dict[str, int] = field(default_factory=dict)


def _problem(exc: BaseException) -> str:
    return redact.scrub(f"{type(exc).__name__}: {exc}".splitlines()[0])[:300]


# --- the job history -------------------------------------------------------------------

_FIGURES = text(
    """
    SELECT task, coalesce(finished_at, started_at) AS at, params->>'tier' AS tier,
           result #>> '{figures,host}' AS host, result #> ARRAY['figures', :figure] AS value
    FROM job_runs
    WHERE task = :task AND started_at >= :since
      AND status IN ('succeeded', 'failed')
      AND jsonb_typeof(result #> ARRAY['figures', :figure]) = 'number'
    ORDER BY at
    """
)


def figure_rows(dsn: str, task: str, figure: str, since: datetime) -> list[dict[str, Any]]:
    """Every finished run of ``task`` since ``since`` whose result has a numeric
    ``figures.<figure>``: its time, tier parameter, host figure and the value."""
    with store.reading(dsn) as s:
        rows = s.execute(_FIGURES, {"task": task, "figure": figure, "since": since})
        return [dict(r._mapping) for r in rows]


_SAMPLES = text(
    """
    SELECT taken_at, document->'checks'->'host:diskFree' AS disk_free,
           document->'checks'->'cache:usedMemory' AS used_memory
    FROM health_samples WHERE taken_at >= :since ORDER BY taken_at
    """
)


def sample_rows(dsn: str, since: datetime) -> list[dict[str, Any]]:
    """The health samples' disk-free and Redis memory entries since ``since``."""
    with store.reading(dsn) as s:
        return [dict(r._mapping) for r in s.execute(_SAMPLES, {"since": since})]


def _entries(value: Any) -> list[dict[str, Any]]:
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _observed(entry: dict[str, Any]) -> float | None:
    v = entry.get("observedValue")
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def from_samples(rows: list[dict[str, Any]]) -> dict[str, list[Point]]:
    """Points per series from health sample rows (pure): ``host:diskFree`` entries are
    told apart by their componentId (``backups /path`` or ``logs /path``)."""
    out: dict[str, list[Point]] = {"backups": [], "logs": [], "redis": []}
    for row in rows:
        for e in _entries(row.get("disk_free")):
            label = str(e.get("componentId") or "").split(" ", 1)[0]
            value = _observed(e)
            if label in ("backups", "logs") and value is not None:
                out[label].append(Point(row["taken_at"], value))
        for e in _entries(row.get("used_memory")):
            value = _observed(e)
            if value is not None:
                out["redis"].append(Point(row["taken_at"], value))
    return out


# --- current readings ------------------------------------------------------------------


def _existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def disk_free(root: Path) -> int:
    """Free bytes of the file system ``root`` is on (its nearest existing folder)."""
    return shutil.disk_usage(_existing(root)).free


def tier_bytes(root: Path) -> dict[str, int]:
    """Bytes of each tier's backups (dumps and manifests) in ``root`` now."""
    inv = inventory.scan(root)
    out = {t.value: 0 for t in Tier}
    for b in inv.backups:
        out[b.tier.value] += b.size_bytes
    return out


def manifest_sizes(root: Path, since: datetime) -> list[Point]:
    """The scheduler database's size as each backup's manifest recorded it."""
    inv = inventory.scan(root)
    out = []
    for b in inv.backups:
        size = b.manifest.database_size_bytes if b.manifest is not None else None
        if size and b.created_at >= since:
            out.append(Point(b.created_at, float(size)))
    return out


def redis_memory(url: str) -> tuple[int, int]:
    """(used_memory, maxmemory) of the cache now (INFO memory: read-only)."""
    client = cache_client.connect(url)
    try:
        with cache_client.answering(url):
            info = client.info("memory")
    finally:
        client.close()
    return int(info.get("used_memory", 0)), int(info.get("maxmemory", 0))


# --- all of it -------------------------------------------------------------------------


def read(settings: Settings, now: datetime | None = None) -> Facts:
    """Every series' readings: the history since MAINT_CAPACITY_LOOKBACK_DAYS, and now.
    A source that cannot be read is a problem of its series, never an exception."""
    now = now or clock.now()
    since = now - timedelta(days=settings.capacity_lookback_days)
    dsn = settings.history_dsn.get_secret_value()
    f = Facts(now, tiers={t.value: Readings() for t in Tier})

    def history(task: str, figure: str, into: list[Readings]) -> list[dict[str, Any]]:
        try:
            rows = figure_rows(dsn, task, figure, since)
        except MaintenanceError as exc:
            for r in into:
                r.problems.append(f"{task} runs not read: {_problem(exc)}")
            return []
        f.counts[task] = len(rows)
        return rows

    for task, figure in DATABASE_SIZE:
        rows = history(task, figure, [f.database])
        f.database.add([Point(r["at"], float(r["value"])) for r in rows], f"{task} runs")
    try:
        f.database.add(manifest_sizes(settings.backup_root, since), "backup manifests")
    except (MaintenanceError, OSError) as exc:
        f.database.problems.append(f"backup manifests not read: {_problem(exc)}")

    rows = history("backup.create", "tier_bytes", list(f.tiers.values()))
    for tier, readings in f.tiers.items():
        mine = [Point(r["at"], float(r["value"])) for r in rows if r["tier"] == tier]
        readings.add(mine, "backup.create runs")
    if any(not r.points for r in f.tiers.values()):
        try:
            for tier, size in tier_bytes(settings.backup_root).items():
                if not f.tiers[tier].points:
                    f.tiers[tier].add([Point(now, float(size))], "the inventory now")
        except (MaintenanceError, OSError) as exc:
            for readings in f.tiers.values():
                readings.problems.append(f"the inventory not read: {_problem(exc)}")

    unread_logs = Readings()
    for task, figure in LOG_VOLUME:
        for r in history(task, figure, [unread_logs]):
            host = str(r["host"] or settings.log_host)
            f.logs.setdefault(host, Readings()).add(
                [Point(r["at"], float(r["value"]))], f"{task} runs"
            )
    root = settings.log_root
    if settings.log_host not in f.logs and root.is_dir() and not root.is_symlink():
        f.logs[settings.log_host] = Readings()
        f.logs[settings.log_host].add([Point(now, float(disk_usage(root)))], "the log root now")

    f.log_problems = unread_logs.problems

    for task, figure in REDIS_MEMORY:
        rows = history(task, figure, [f.redis])
        f.redis.add([Point(r["at"], float(r["value"])) for r in rows], f"{task} runs")

    try:
        by = from_samples(sample_rows(dsn, since))
    except MaintenanceError as exc:
        why = f"health samples not read: {_problem(exc)}"
        for readings in (f.backup_disk_free, f.log_disk_free, f.redis):
            readings.problems.append(why)
    else:
        f.backup_disk_free.add(by["backups"], "health samples")
        f.log_disk_free.add(by["logs"], "health samples")
        f.redis.add(by["redis"], "health samples")
    for readings, root in (
        (f.backup_disk_free, settings.backup_root),
        (f.log_disk_free, settings.log_root),
    ):
        if readings.points:
            continue
        try:
            readings.add([Point(now, float(disk_free(root)))], "disk now")
        except OSError as exc:
            readings.problems.append(f"disk not read: {_problem(exc)}")

    # maxmemory is the limit, read now whatever the history holds; used_memory only
    # when the history has none
    try:
        used, maxmemory = redis_memory(settings.cache_url.get_secret_value())
    except (MaintenanceError, OSError) as exc:
        f.redis.problems.append(f"the cache not read now: {_problem(exc)}")
    else:
        if not f.redis.points:
            f.redis.add([Point(now, float(used))], "INFO memory now")
        f.maxmemory, f.maxmemory_source = maxmemory, "Redis maxmemory (INFO, now)"
    return f
