"""Housekeeping of the database, the logs and the cache, and the security reviews:
db.*, logs.*, cache.*, security.* (docs/upkeep.md, logs.md, cache.md, security.md)."""

from __future__ import annotations

from typing import Any

from maintenance import stats
from maintenance.cache import analyze as cache_analyze
from maintenance.cache import clear as cache_clear
from maintenance.cache import flush as cache_flush
from maintenance.cache import stats as cache_stats
from maintenance.logs import cleanup as logs_cleanup
from maintenance.logs import report as logs_report
from maintenance.logs import rotate as logs_rotate
from maintenance.restore import drill as restore_drill
from maintenance.security import access as security_access
from maintenance.security import audit as security_audit
from maintenance.taskspec import NoParams, TaskSpec
from maintenance.upkeep import optimize as upkeep_optimize
from maintenance.upkeep import reindex as upkeep_reindex
from maintenance.upkeep import report as upkeep_report
from maintenance.upkeep import vacuum as upkeep_vacuum

#: Tasks that delete cache keys exclude each other.
CACHE_LOCK = "cache"
#: Upkeep tasks that change the target database exclude each other.
UPKEEP_LOCK = "upkeep"

SPECS: tuple[TaskSpec[Any], ...] = (
    TaskSpec(
        name="restore.drill",
        func=restore_drill.drill,
        params=restore_drill.DrillParams,
        description="DR drill: restore the newest verified backup into a scratch database, "
        "check everything, measure RTO and RPO against their objectives.",
        exclusive=True,
        soft_time_limit=6 * 3600,
        time_limit=6 * 3600 + 600,
        max_retries=0,
    ),
    TaskSpec(
        name="db.stats",
        func=stats.collect,
        params=stats.StatsParams,
        description="DATA STATISTICS: server version, database size and exact row counts.",
        soft_time_limit=1800,
        time_limit=1900,
    ),
    # Upkeep: each opens its own session on the target database, autocommit, under the
    # timeouts of each statement's kind, and skips while other sessions block it.
    TaskSpec(
        name="db.vacuum_analyze",
        func=upkeep_vacuum.run,
        params=upkeep_vacuum.VacuumParams,
        description="Weekly VACUUM (ANALYZE, SKIP_LOCKED) of every table, one at a time: dead "
        "tuples before and after and the time per table; locked tables skipped and named.",
        exclusive=True,
        lock=UPKEEP_LOCK,
        soft_time_limit=3 * 3600,
        time_limit=3 * 3600 + 600,
        max_retries=1,
    ),
    TaskSpec(
        name="db.reindex",
        func=upkeep_reindex.run,
        params=upkeep_reindex.ReindexParams,
        description="Weekly: drop INVALID leftovers of failed concurrent builds, then REINDEX "
        "INDEX CONCURRENTLY the indexes whose estimated bloat is over the threshold.",
        exclusive=True,
        lock=UPKEEP_LOCK,
        soft_time_limit=3 * 3600,
        time_limit=3 * 3600 + 600,
        max_retries=1,
    ),
    TaskSpec(
        name="db.report",
        func=upkeep_report.run,
        params=NoParams,
        description="Weekly query analysis (read-only): bloat, dead tuples, last (auto)vacuum, "
        "XID age, unused and duplicate indexes, cache hit ratio, connections, top statements.",
        soft_time_limit=900,
        time_limit=1000,
    ),
    TaskSpec(
        name="db.optimize",
        func=upkeep_optimize.run,
        params=upkeep_optimize.OptimizeParams,
        description="Monthly window only (or force_reason): rebuild tables over the bloat "
        "threshold with pg_repack (online) or VACUUM FULL (locks each), then ANALYZE.",
        exclusive=True,
        lock=UPKEEP_LOCK,
        soft_time_limit=4 * 3600,
        time_limit=4 * 3600 + 600,
        # disruptive: never run again later by itself
        max_retries=0,
    ),
    # Log tasks run on the host that holds the logs (its queue logs.<host>) and exclude
    # each other with a lock of that host's log folder, not a cluster-wide one.
    TaskSpec(
        name="logs.rotate",
        func=logs_rotate.rotate,
        params=logs_rotate.RotateParams,
        description="Rotate MAINT_LOG_ROOT's logs as logrotate does (daily, size cap, keep 30, "
        "create, delaycompress) by rename and a reopen signal, then gzip all but the newest.",
        soft_time_limit=3600,
        time_limit=3700,
    ),
    TaskSpec(
        name="logs.cleanup",
        func=logs_cleanup.cleanup,
        params=logs_cleanup.CleanupParams,
        description="Weekly log cleanup: gzip rotated logs over a day old, archive past months, "
        "delete archived logs over 30 days old, orphans and empty logs no process holds open.",
        soft_time_limit=3600,
        time_limit=3700,
    ),
    TaskSpec(
        name="logs.report",
        func=logs_report.report,
        params=logs_report.ReportParams,
        description="LOG MANAGEMENT VERIFICATION: sizes, rotation, retention, disk, permissions, "
        "and the ERROR/CRITICAL lines written since the previous report.",
        soft_time_limit=1800,
        time_limit=1900,
    ),
    TaskSpec(
        name="cache.stats",
        func=cache_stats.collect,
        params=NoParams,
        description="Cache memory against maxmemory (fails above 80%), hit ratio since the "
        "previous sample, evicted and expired keys, fragmentation, key count (DBSIZE).",
        soft_time_limit=120,
        time_limit=180,
    ),
    TaskSpec(
        name="cache.clear_pattern",
        func=cache_clear.clear_pattern,
        params=cache_clear.ClearPatternParams,
        description="Delete the cache keys SCAN MATCH selects (UNLINK in short batches with "
        "pauses) and count them; '*'-like patterns are refused (cache.flush).",
        exclusive=True,
        lock=CACHE_LOCK,
        soft_time_limit=1800,
        time_limit=1900,
    ),
    TaskSpec(
        name="cache.clear",
        func=cache_clear.clear,
        params=cache_clear.ClearParams,
        description="The playbook's gradual clear: swaps:*, then schedule:* if the API reports "
        "no active operations (else skipped with the reason), then report:*.",
        exclusive=True,
        lock=CACHE_LOCK,
        soft_time_limit=1800,
        time_limit=1900,
    ),
    TaskSpec(
        name="cache.flush",
        func=cache_flush.flush,
        params=cache_flush.FlushParams,
        description="FLUSHDB (async) of the cache's own database: confirm=true, and inside a "
        "maintenance window or with force_reason.",
        exclusive=True,
        lock=CACHE_LOCK,
        soft_time_limit=300,
        time_limit=360,
        # a person asked for it now: a flush is never run again later by itself
        max_retries=0,
    ),
    TaskSpec(
        name="cache.analyze",
        func=cache_analyze.run,
        params=cache_analyze.AnalyzeParams,
        description="Sampled key prefixes by count and memory, keys without a TTL, unused "
        "prefixes, the hit-ratio trend, with suggestions (read-only).",
        soft_time_limit=900,
        time_limit=1000,
    ),
    # Security: read-only reports (docs/security.md); no lock, nothing is changed.
    TaskSpec(
        name="security.audit",
        func=security_audit.audit,
        params=security_audit.AuditParams,
        description="Monthly: known vulnerabilities (pip-audit) of the suite's and the backend's "
        "packages, outdated ones as patch/minor/major, PostgreSQL and Redis end of life.",
        soft_time_limit=1800,
        time_limit=1900,
    ),
    TaskSpec(
        name="security.access_review",
        func=security_access.review,
        params=NoParams,
        description="Monthly access review: PostgreSQL superusers, login roles, password expiry, "
        "unseen roles; Redis and Flower authentication; backup, log and secret file modes.",
        soft_time_limit=600,
        time_limit=660,
    ),
)
