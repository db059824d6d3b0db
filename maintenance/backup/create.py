"""``backup.create``: the playbook's daily, weekly and monthly backups, made safely.

1. Pre-checks: free space above MAINT_BACKUP_MIN_FREE_BYTES and above twice the last
   backup of the tier; the database answers; (warn) no exclusive locks held. The task
   is exclusive (lock ``backups``): no other backup runs at the same time.
2. In one REPEATABLE READ snapshot, exported to pg_dump: the dump (see :mod:`.dump`),
   then the exact row count of every table and the db.stats counts. The manifest's
   counts are therefore exactly what the archive holds.
3. The manifest is written, then the dump is renamed to its final name: a file under a
   final name always has its manifest, and a crash at any point leaves at most a hidden
   temp file (removed by retention) and the previous backups untouched.
4. The DAILY/WEEKLY BACKUP VERIFICATION checklist, then the verification right after
   creation: ``full`` for daily backups, ``restore`` for weekly and monthly ones.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import statistics
from datetime import timedelta
from typing import Any, Literal

import psycopg
from pydantic import Field

from maintenance import activity, clock, dbcheck, pg, pgtools
from maintenance.backup import inventory, layout, manifest, proof, verify
from maintenance.backup.layout import Tier
from maintenance.errors import MaintenanceError
from maintenance.fs import atomic, delete
from maintenance.fs.temp import temp_path
from maintenance.pgarchive import dump
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext
from maintenance.units import human_bytes

DEFAULT_VERIFY: dict[Tier, manifest.Level] = {
    Tier.DAILY: "full",
    Tier.WEEKLY: "restore",
    Tier.MONTHLY: "restore",
}
FORMAT = "pg_dump custom archive (-Fc -Z0) in a zstd frame with content checksum"

_EXCLUSIVE_LOCKS = """
SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
 WHERE d.datname = current_database() AND l.mode = 'AccessExclusiveLock'
   AND l.granted AND l.pid <> pg_backend_pid() AND l.locktype = 'relation'
"""


class CreateParams(Params):
    tier: Tier = Field(Tier.DAILY, description="daily, weekly or monthly.")
    verify: Literal["none", "checksum", "full", "restore"] | None = Field(
        None,
        description="Verification right after the backup (default: full daily, restore weekly/monthly).",
    )


def _new_id(root: Any, tier: Tier) -> str:
    moment = clock.now()
    while True:
        backup_id = layout.make_id(tier, moment)
        if (
            not layout.dump_path(root, backup_id).exists()
            and not layout.manifest_path(root, backup_id).exists()
        ):
            return backup_id
        moment += timedelta(seconds=1)


def create(ctx: RunContext, params: CreateParams) -> Result:
    s = ctx.settings
    root, tier = s.backup_root, params.tier
    result = Result()
    atomic.private_dir(root)
    folder = atomic.private_dir(layout.tier_dir(root, tier))
    inv = inventory.scan(root)
    previous = [b for b in inv.of_tier(tier) if b.problem is None]

    # --- pre-checks ---------------------------------------------------------------------
    last_size = previous[-1].size_bytes if previous else 0
    free = shutil.disk_usage(folder).free
    need = max(s.backup_min_free_bytes, 2 * last_size)
    result.check(
        "free space before the backup",
        free >= need,
        observed=human_bytes(free),
        expected=f">= {human_bytes(need)} (floor, and twice the last {tier.value} backup)",
    )
    if free < need:
        result.summary = (
            f"not started: {human_bytes(free)} free in {folder}, need {human_bytes(need)}"
        )
        return result

    target = s.target_dsn.get_secret_value()
    backup_id = _new_id(root, tier)
    final = layout.dump_path(root, backup_id)
    man_path = layout.manifest_path(root, backup_id)
    temp = temp_path(final)
    started = clock.now()
    with pg.connect(target, autocommit=False) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        facts = dbcheck.server_facts(conn)
        result.check(
            "database answers", True, observed=facts["database"], expected=pg.dbname(target)
        )
        locks = conn.execute(_EXCLUSIVE_LOCKS).fetchone()
        held = int(locks[0]) if locks else 0
        result.check(
            "no exclusive locks held",
            held == 0,
            observed=held,
            expected=0,
            warn_only=True,
            detail="pg_dump waits for them (up to 5 minutes)" if held else None,
        )
        blocking = activity.blockers(activity.read_sessions(conn), activity.policy_of(s))
        result.check(
            "no blocking sessions",
            not blocking,
            observed=activity.summary(blocking) or "none",
            expected="none idle in a transaction or holding strong locks (docs/upkeep.md)",
            warn_only=True,
            detail="the dump only reads: it goes on" if blocking else None,
        )
        snap = conn.execute("SELECT pg_export_snapshot()").fetchone()
        server_major = int(str(facts["server_version"]).split(".")[0])
        pg_dump = pgtools.find("pg_dump", s, server_major)
        _, client_text = pgtools.client_version(pg_dump)
        written = dump.dump_to(
            temp,
            pg_dump=pg_dump,
            dsn=target,
            snapshot=snap[0] if snap else None,
            level=s.backup_compression_level,
            threads=s.backup_compression_threads,
        )
        try:
            table_counts = dbcheck.exact_counts(conn)
            objects = proof.schema_objects(conn)
            stat_counts, stat_errors = dbcheck.named_counts(conn, s.stats_counts)
            conn.rollback()
        except BaseException:
            delete.discard(temp)
            raise
    finished = clock.now()

    data = manifest.Manifest(
        format_version=manifest.FORMAT_VERSION,
        id=backup_id,
        tier=tier,
        file=final.name,
        format=FORMAT,
        compression=manifest.Compression(
            codec="zstd",
            level=s.backup_compression_level,
            threads=s.backup_compression_threads or os.cpu_count(),
        ),
        size_bytes=written.size_bytes,
        dump_bytes=written.dump_bytes,
        compression_ratio=round(written.dump_bytes / max(1, written.size_bytes), 3),
        sha256=written.sha256,
        database=facts["database"],
        database_size_bytes=facts["database_size_bytes"],
        server_version=facts["server_version"],
        client_version=client_text,
        started_at=started,
        finished_at=finished,
        duration_s=round((finished - started).total_seconds(), 3),
        dump_duration_s=round(written.duration_s, 3),
        tables=tuple(sorted(table_counts)),
        counts=manifest.Counts(tables=table_counts, stats=stat_counts),
        objects=objects,
        expires_at=started + timedelta(days=s.retention_days[tier.value]),
        created_by_run=ctx.run_id,
        verification=None,
        verifications=(),
    )
    try:
        manifest.write(man_path, data)
        atomic.commit(temp, final)
    except BaseException:
        delete.discard(temp)
        if not final.exists():  # the manifest must not outlive a backup that never was
            with contextlib.suppress(MaintenanceError, OSError):  # else: retention, a day on
                delete.delete(
                    man_path,
                    root=root,
                    reason="its backup file never got its final name",
                    dry_run=False,
                )
        raise

    _checklist(
        result,
        s,
        tier,
        final,
        folder,
        written.size_bytes,
        previous,
        inv,
        stat_errors,
        database_bytes=int(facts["database_size_bytes"]),
    )
    result.figures = {
        "backup": backup_id,
        "path": str(final),
        "size_bytes": written.size_bytes,
        "dump_bytes": written.dump_bytes,
        "compression_ratio": data.compression_ratio,
        "dump_s": data.dump_duration_s,
        "throughput_mb_s": round(written.dump_bytes / 1e6 / max(written.duration_s, 1e-6), 1),
        "counts": stat_counts,
        "tables": len(table_counts),
        "rows": sum(table_counts.values()),
        # for capacity.forecast: the database's size, and the tier's backups on disk
        # now that this one is written (before retention deletes any)
        "database_size_bytes": int(facts["database_size_bytes"]),
        "tier_bytes": sum(b.size_bytes for b in inv.of_tier(tier)) + written.size_bytes,
    }

    level = params.verify or DEFAULT_VERIFY[tier]
    verified_ok = True
    if level != "none":
        backup = inventory.scan(root).get(backup_id)
        checks, figures = verify.verify_backup(s, backup, level)
        result.checks.extend(checks)
        result.figures["verification"] = figures
        verified_ok = verify.passed(checks)
        manifest.record_verification(
            man_path,
            level=level,
            passed=verified_ok,
            at=clock.now(),
            run_id=ctx.run_id,
            figures=figures,
        )
    counts = ", ".join(f"{k} {v}" for k, v in stat_counts.items())
    verdict = (
        ""
        if level == "none"
        else (f", verified {level}" if verified_ok else f", {level} verification FAILED")
    )
    result.summary = (
        f"{backup_id}: {human_bytes(written.size_bytes)} ({data.compression_ratio or 0:.1f}x) "
        f"in {data.duration_s or 0:.1f}s{verdict}" + (f"; {counts}" if counts else "")
    )
    return result


def _checklist(
    result: Result,
    s: Any,
    tier: Tier,
    final: Any,
    folder: Any,
    size: int,
    previous: list[inventory.Backup],
    inv: inventory.Inventory,
    stat_errors: dict[str, str],
    *,
    database_bytes: int,
) -> None:
    result.check("backup file exists", final.exists(), observed=final.name, expected="present")
    # The playbook's "> 10 MB indicates data" catches an empty dump of a big database; a
    # small database makes a small backup. Ours run at 10-15% of the database's size on
    # disk, so 1% of it is a floor that an empty dump cannot pass.
    configured = s.backup_min_bytes[tier.value]
    floor = min(configured, database_bytes // 100)
    why = "MAINT_BACKUP_MIN_BYTES" if floor == configured else "1% of the database's size on disk"
    result.check(
        "size above floor",
        size >= floor,
        observed=human_bytes(size),
        expected=f">= {human_bytes(floor)} ({why})",
    )
    age = clock.now().timestamp() - final.stat().st_mtime
    result.check(
        "file timestamp recent", age < 86400, observed=f"{age:.0f}s old", expected="< 24 hours"
    )
    fmode = stat.S_IMODE(final.stat().st_mode)
    dmode = stat.S_IMODE(folder.stat().st_mode)
    result.check("file permissions 0600", fmode == 0o600, observed=oct(fmode), expected="0o600")
    result.check("folder permissions 0700", dmode == 0o700, observed=oct(dmode), expected="0o700")
    window = [b.size_bytes for b in previous[-s.backup_size_window :]]
    if window:
        median = statistics.median(window)
        result.check(
            "size consistent with previous backups",
            size >= s.backup_shrink_warn_ratio * median,
            observed=human_bytes(size),
            expected=f">= {s.backup_shrink_warn_ratio:.0%} of the median "
            f"{human_bytes(median)} of the last {len(window)}",
            warn_only=True,
        )
    used = inv.total_bytes + size
    result.check(
        "space used within budget",
        used <= s.backup_budget_bytes,
        observed=human_bytes(used),
        expected=f"<= {human_bytes(s.backup_budget_bytes)}",
        warn_only=True,
    )
    for name, error in stat_errors.items():
        result.check(
            f"count {name}",
            False,
            observed=error,
            expected="an exact count",
            warn_only=True,
            detail="recorded without this count: check MAINT_STATS_COUNTS",
        )
