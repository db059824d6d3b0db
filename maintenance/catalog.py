"""Every task the suite offers, by its stable dotted name (area first).

The Celery wrappers in ``tasks/`` and the ``maint`` CLI both read this table.
"""

from __future__ import annotations

from typing import Any

from maintenance import diag, stats
from maintenance.backup import create as backup_create
from maintenance.backup import verify as backup_verify
from maintenance.backup.archive import task as backup_archive
from maintenance.backup.offsite import task as backup_offsite
from maintenance.backup.retention.task import RetentionParams
from maintenance.cache import analyze as cache_analyze
from maintenance.cache import clear as cache_clear
from maintenance.cache import flush as cache_flush
from maintenance.cache import stats as cache_stats
from maintenance.errors import ConfigError, UnknownTask
from maintenance.health import check as health_check
from maintenance.health import deep as health_deep
from maintenance.logs import cleanup as logs_cleanup
from maintenance.logs import report as logs_report
from maintenance.logs import rotate as logs_rotate
from maintenance.notify import tasks as notify_tasks
from maintenance.redelivery import NEVER, LostRetry
from maintenance.restore import drill as restore_drill
from maintenance.restore import report as restore_report
from maintenance.restore import run as restore_run
from maintenance.security import access as security_access
from maintenance.security import audit as security_audit
from maintenance.taskspec import NoParams, TaskSpec
from maintenance.upkeep import optimize as upkeep_optimize
from maintenance.upkeep import reindex as upkeep_reindex
from maintenance.upkeep import report as upkeep_report
from maintenance.upkeep import vacuum as upkeep_vacuum
from maintenance.window import run as window_run

#: Tasks that write or delete backup files exclude each other.
BACKUP_LOCK = "backups"
#: Tasks that delete cache keys exclude each other.
CACHE_LOCK = "cache"
#: Upkeep tasks that change the target database exclude each other.
UPKEEP_LOCK = "upkeep"


def _message_task(name: str, func: Any, params: Any, description: str) -> TaskSpec[Any]:
    """A task that sends messages (docs/notices.md): each channel retries inside the run
    and a dedup key sends each notice once, so the workers never retry it."""
    return TaskSpec(
        name=name,
        func=func,
        params=params,
        description=description,
        soft_time_limit=300,
        time_limit=360,
        max_retries=0,
    )


SPECS: tuple[TaskSpec[Any], ...] = (
    TaskSpec(
        name="backup.create",
        func=backup_create.create,
        params=backup_create.CreateParams,
        description="Back up the target database (daily/weekly/monthly), write its manifest, "
        "then verify it (full, or restore for weekly/monthly).",
        exclusive=True,
        lock=BACKUP_LOCK,
        soft_time_limit=4 * 3600,
        time_limit=4 * 3600 + 600,
        max_retries=2,
        # A backup lost with its worker is taken once more while it is still due (the
        # message comes back after the broker's visibility timeout, ~6.7 h): before the
        # next night's backup, never twice.
        lost_retry=LostRetry(attempts=1, within_s=20 * 3600),
    ),
    TaskSpec(
        name="backup.retention",
        # backup retention with restore's report of set-aside databases added
        func=restore_report.retention,
        params=RetentionParams,
        description="Delete backups past their tier's age, never below the floor of verified "
        "ones; remove temp files of crashed runs. Dry run unless dry_run=false.",
        exclusive=True,
        lock=BACKUP_LOCK,
        soft_time_limit=1800,
        time_limit=1900,
    ),
    TaskSpec(
        name="backup.archive",
        func=backup_archive.run,
        params=backup_archive.ArchiveParams,
        description="Monthly archive: a tar of the newest verified monthly backup and its "
        "manifest in BACKUP_ROOT/archive, read back and checked.",
        exclusive=True,
        lock=BACKUP_LOCK,
        soft_time_limit=7200,
        time_limit=7800,
    ),
    TaskSpec(
        name="backup.offsite",
        func=backup_offsite.run,
        params=backup_offsite.OffsiteParams,
        description="Encrypted (AES-256-GCM) copy of the newest verified monthly backup in "
        "MAINT_OFFSITE_ROOT, read back and checked; off-site retention 2 years with the floor.",
        exclusive=True,
        lock=BACKUP_LOCK,
        soft_time_limit=10800,
        time_limit=11400,
    ),
    TaskSpec(
        name="backup.verify",
        func=backup_verify.verify,
        params=backup_verify.VerifyParams,
        description="Prove a backup: checksum, full (decode every byte, count every row) or "
        "restore (into a scratch database, counts and integrity checks).",
        exclusive=True,
        soft_time_limit=4 * 3600,
        time_limit=4 * 3600 + 600,
        max_retries=1,
    ),
    TaskSpec(
        name="restore.run",
        func=restore_run.restore,
        params=restore_run.RestoreParams,
        description="Restore a backup over a configured database: checksum, forensic dump, "
        "load, verify, then (yes=true) swap with the app stopped; the old one is kept.",
        exclusive=True,
        lock=BACKUP_LOCK,
        soft_time_limit=6 * 3600,
        time_limit=6 * 3600 + 600,
        max_retries=0,
        # Never re-run a lost restore: hours later it would be an unannounced swap.
        lost_retry=NEVER,
    ),
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
    # Notifications (docs/notices.md)
    _message_task(
        "alerts.test",
        notify_tasks.alerts_test,
        NoParams,
        "One test message through every configured notification channel (webhook, "
        "e-mail); each channel's result in the checklist; fails if one fails or none is set.",
    ),
    _message_task(
        "notice.weekly",
        notify_tasks.weekly,
        notify_tasks.AdvanceParams,
        "The weekly window's notice (sent Friday 15:00 for Sunday 02:00-06:00): date, local time, zone, impact, activities, schedule.",
    ),
    _message_task(
        "notice.monthly",
        notify_tasks.monthly,
        notify_tasks.AdvanceParams,
        "The monthly window's notice, 14 days ahead (first Sunday, 02:00-08:00).",
    ),
    _message_task(
        "notice.quarterly",
        notify_tasks.quarterly,
        notify_tasks.AdvanceParams,
        "The quarterly deep maintenance's notice, 28 days ahead (first Sunday of Jan/Apr/Jul/Oct).",
    ),
    _message_task(
        "notice.emergency",
        notify_tasks.emergency,
        notify_tasks.EmergencyParams,
        "Emergency maintenance notice, sent at once: reason (required), start (default now), duration.",
    ),
    _message_task(
        "notice.status",
        notify_tasks.status,
        notify_tasks.StatusParams,
        "A status update during a window (03:00, 04:00 ...), once per window and hour, with an optional message.",
    ),
    _message_task(
        "notice.all_clear",
        notify_tasks.all_clear,
        notify_tasks.AllClearParams,
        "The all-clear: a window completed and the system is available again.",
    ),
    _message_task(
        "notice.problem",
        notify_tasks.problem,
        notify_tasks.ProblemParams,
        "A window ran into a problem: what failed (required), and what happens next.",
    ),
    # Health (docs/health.md): read-only probes; the check stores its sample, sends the
    # alerts and pings the dead man's switch. Not exclusive: two overlapping checks harm
    # nothing (an alert's dedup key is claimed once per channel).
    TaskSpec(
        name="health.check",
        func=health_check.check,
        params=NoParams,
        description="Every 5 minutes: API, database, cache, Celery and host probed at once, "
        "bounded (5 s); the health document stored; alerts sent; fails only when critical.",
        # The probes take at most 5 s; the rest is for the alerts' channels, which retry
        # with backoff (a webhook's 4 attempts of 5 s, SMTP's 3): still inside the 5 minutes.
        soft_time_limit=240,
        time_limit=270,
        # the next check is 5 minutes away: a retry would only overlap it
        max_retries=0,
    ),
    TaskSpec(
        name="health.deep",
        func=health_deep.deep,
        params=NoParams,
        description="Weekly deep health check: versions, pg_isready, API timing, cache INFO, "
        "disk, memory, CPU, workers and queues, recent error lines in the logs.",
        soft_time_limit=300,
        time_limit=360,
        max_retries=0,
    ),
    TaskSpec(
        name="diag.hold",
        func=diag.hold,
        params=diag.HoldParams,
        description="Hold one worker slot for N seconds under the singleton lock (diagnostics).",
        exclusive=True,
        soft_time_limit=3700,
        time_limit=3800,
        max_retries=0,
    ),
    TaskSpec(
        name="window.run",
        func=lambda ctx, params: window_run.run(ctx, params, get),
        params=window_run.WindowParams,
        description="A maintenance window: its steps in slot order (each a linked run), "
        "dependencies, blackout and buffer skips, status updates and the all-clear "
        "(docs/calendar.md).",
        exclusive=True,
        lock="window",
        # the quarterly window lasts 8 hours; its steps have their own limits
        soft_time_limit=10 * 3600,
        time_limit=10 * 3600 + 600,
        max_retries=0,
    ),
)

BY_NAME: dict[str, TaskSpec[Any]] = {s.name: s for s in SPECS}


def get(name: str) -> TaskSpec[Any]:
    """The spec named ``name``; UnknownTask (with suggestions) if there is none."""
    try:
        return BY_NAME[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, BY_NAME, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownTask(f"unknown task {name!r}{hint} (`maint tasks` lists them)") from None


def time_limits(spec: TaskSpec[Any], overrides: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """(soft, hard) time limits of ``spec``, after MAINT_TIME_LIMITS."""
    return overrides.get(spec.name, (spec.soft_time_limit, spec.time_limit))


def longest_time_limit(overrides: dict[str, tuple[int, int]] | None = None) -> int:
    return max(time_limits(s, overrides or {})[1] for s in SPECS)


def check_overrides(overrides: dict[str, tuple[int, int]]) -> None:
    """Every name in MAINT_TIME_LIMITS must be a task (a typo would silently do nothing)."""
    for name in overrides:
        try:
            get(name)
        except UnknownTask as exc:
            raise ConfigError(f"MAINT_TIME_LIMITS: {exc}") from None
