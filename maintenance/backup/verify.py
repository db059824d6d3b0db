"""``backup.verify``: prove a backup at one of three levels, each including the ones before.

* ``checksum``: the file's size and SHA-256 equal the manifest's.
* ``full``: every byte decompresses (zstd's frame checksum), pg_restore decodes the whole
  archive, every table decodes to exactly the rows counted at backup time, and the
  expected tables are there.
* ``restore``: the archive is restored into a scratch database (created and dropped by
  the run), exact row counts and the db.stats counts equal the manifest's, and the
  integrity checks pass: foreign keys valid, no orphans, no duplicate assignment per
  person and block, dates logical (MAINT_INTEGRITY_CHECKS).

The level, time and outcome are recorded in the manifest (atomically) and in the run's
history row.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from maintenance import clock, pgtools
from maintenance.backup import inventory, layout, manifest, proof
from maintenance.backup.inventory import Backup
from maintenance.backup.layout import Tier
from maintenance.backup.manifest import Level, Manifest
from maintenance.config import Settings
from maintenance.errors import BadInput
from maintenance.fs import digest
from maintenance.pgarchive import decode
from maintenance.results import Check, CheckStatus, Result
from maintenance.taskspec import Params, RunContext


class VerifyParams(Params):
    backup: layout.BackupRef = Field("latest", description="A backup id, or 'latest'.")
    tier: Tier | None = Field(None, description="With backup=latest: the newest of this tier.")
    level: Level = Field("full", description="checksum, full or restore.")


def resolve(inv: inventory.Inventory, backup: str, tier: Tier | None) -> Backup:
    if backup == "latest":
        found = inv.latest(tier)
        if found is None:
            where = f"{tier.value} " if tier else ""
            raise BadInput(f"there is no {where}backup to verify")
        return found
    return inv.get(backup)


def verify_backup(
    settings: Settings, backup: Backup, level: Level
) -> tuple[list[Check], dict[str, Any]]:
    """Run the checks of ``level`` on ``backup``; return (checks, figures). Never raises
    for a bad backup: a bad backup is failed checks. Retention cannot delete the backup
    while it is read (a shared lock on its folder, released before this returns)."""
    if not backup.path.parent.is_dir():
        return _verify(settings, backup, level)
    with manifest.locked(backup.manifest_path, shared=True):
        return _verify(settings, backup, level)


def _verify(settings: Settings, backup: Backup, level: Level) -> tuple[list[Check], dict[str, Any]]:
    result = Result()
    figures: dict[str, Any] = {"backup": backup.id, "level": level}
    t0 = clock.monotonic()
    data = backup.manifest
    if backup.problem or data is None:
        result.check(
            "backup is complete", False, observed=backup.problem, expected="file and manifest"
        )
        return result.checks, figures

    # --- checksum -----------------------------------------------------------------------
    size = backup.path.stat().st_size
    result.check(
        "size equals manifest",
        size == data.size_bytes,
        observed=size,
        expected=data.size_bytes,
    )
    sha, _ = digest.of_file(backup.path)
    result.check(
        "sha256 equals manifest", sha == data.sha256, observed=sha, expected=data.sha256
    )
    figures["checksum_s"] = round(clock.monotonic() - t0, 3)
    if result.failed or level == "checksum":
        return result.checks, figures

    # --- full ---------------------------------------------------------------------------
    t1 = clock.monotonic()
    pg_restore = pgtools.find("pg_restore", settings, data.client_major())
    try:
        decoded = decode.decode(backup.path, pg_restore=pg_restore)  # no credentials
    except decode.DecodeFailed as exc:
        result.check(
            "decompresses and decodes completely", False, observed=str(exc), expected="no error"
        )
        return result.checks, figures
    result.check(
        "decompresses and decodes completely",
        True,
        observed=f"{decoded.dump_bytes} bytes",
        expected="no error",
    )
    expected_rows = data.counts.tables
    wrong = {
        t: (decoded.rows.get(t), n) for t, n in expected_rows.items() if decoded.rows.get(t) != n
    }
    result.check(
        "every table decodes to its rows at backup time",
        not wrong,
        observed=f"{len(expected_rows) - len(wrong)} of {len(expected_rows)} tables match"
        + (f"; differ (decoded, expected): {dict(list(wrong.items())[:10])}" if wrong else ""),
        expected="all",
    )
    _expected_tables(result, settings, data, set(decoded.rows))
    figures.update(
        full_s=round(clock.monotonic() - t1, 3),
        decoded_bytes=decoded.dump_bytes,
        decoded_rows=sum(decoded.rows.values()),
    )
    if result.failed or level == "full":
        return result.checks, figures

    # --- restore ------------------------------------------------------------------------
    t2 = clock.monotonic()
    proof.scratch_restore(result, settings, backup.path, data, "verify")
    figures["restore_s"] = round(clock.monotonic() - t2, 3)
    return result.checks, figures


def _qualified(name: str) -> str:
    return name if "." in name else f"public.{name}"


def _expected_tables(result: Result, settings: Settings, data: Manifest, decoded: set[str]) -> None:
    in_db = set(data.counts.tables)
    for table in settings.backup_expected_tables:
        name = _qualified(table)
        if name in decoded:
            result.check(
                f"table {name} present", True, observed="in the archive", expected="present"
            )
        elif name not in in_db:
            result.check(
                f"table {name} present",
                False,
                observed=f"not in database {data.database}",
                expected="present",
                warn_only=True,
                detail="the database itself has no such table: check MAINT_BACKUP_EXPECTED_TABLES",
            )
        else:
            result.check(
                f"table {name} present",
                False,
                observed="missing from the archive",
                expected="present",
            )


def passed(checks: list[Check]) -> bool:
    return not any(c.status is CheckStatus.FAIL for c in checks)


def verify(ctx: RunContext, params: VerifyParams) -> Result:
    """Verify one backup and record the outcome in its manifest."""
    root = ctx.settings.backup_root
    inv = inventory.scan(root)
    backup = resolve(inv, params.backup, params.tier)
    layout.inside(root, backup.path)
    checks, figures = verify_backup(ctx.settings, backup, params.level)
    ok = passed(checks)
    if backup.manifest is not None and backup.manifest_path.exists():
        manifest.record_verification(
            backup.manifest_path,
            level=params.level,
            passed=ok,
            at=clock.now(),
            run_id=ctx.run_id,
            detail="; ".join(
                f"{c.name}: {c.observed}" for c in checks if c.status is CheckStatus.FAIL
            )[:2000],
            figures=figures,
        )
    result = Result(checks=checks, figures=figures)
    verdict = "passed" if ok else "FAILED"
    result.summary = f"{backup.id}: {params.level} verification {verdict}" + (
        "" if ok else ": " + ", ".join(c.name for c in checks if c.status is CheckStatus.FAIL)
    )
    return result
