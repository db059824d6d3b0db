"""Backups and restores: backup.* and restore.* (docs/backups.md, docs/restore.md)."""

from __future__ import annotations

from typing import Any

from maintenance.backup import create as backup_create
from maintenance.backup import verify as backup_verify
from maintenance.backup.archive import task as backup_archive
from maintenance.backup.offsite import task as backup_offsite
from maintenance.backup.retention.task import RetentionParams
from maintenance.redelivery import NEVER, LostRetry
from maintenance.restore import report as restore_report
from maintenance.restore import run as restore_run
from maintenance.taskspec import TaskSpec

#: Tasks that write or delete backup files exclude each other.
BACKUP_LOCK = "backups"

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
)
