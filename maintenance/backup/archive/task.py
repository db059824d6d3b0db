"""``backup.archive``: archive a verified backup, prove the tar, record it in the
backup's manifest, then (``prune``) archive retention."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from maintenance import clock
from maintenance.backup import inventory, layout, manifest
from maintenance.backup.archive.prune import prune
from maintenance.backup.archive.tar import (
    ARCHIVE_DIR,
    TAR_SUFFIX,
    LocalMismatch,
    TarCheck,
    archive_path,
    check_archive,
    member_names,
    write,
)
from maintenance.backup.inventory import Backup
from maintenance.backup.layout import Tier
from maintenance.fs import atomic, delete
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext


class ArchiveParams(Params):
    backup: layout.BackupRef = Field(
        "latest",
        description="Backup id to archive, or 'latest': the newest verified monthly backup.",
    )
    prune: Literal["no", "dry-run", "apply"] = Field(
        "dry-run",
        description="Archive retention after archiving: archives older than the monthly "
        "retention age go, never the newest MAINT_RETENTION_MIN_VERIFIED.",
    )


def run(ctx: RunContext, params: ArchiveParams) -> Result:
    """Archive a verified backup, prove the tar, then apply archive retention."""
    result = _archive(ctx, params)
    if params.prune != "no":
        prune(ctx, result, apply=params.prune == "apply")
    return result


def _archive(ctx: RunContext, params: ArchiveParams) -> Result:
    """Archive a verified backup and its manifest into one tar, and prove the tar."""
    root = ctx.settings.backup_root
    if params.backup != "latest":
        layout.parse_id(params.backup)  # also when Params were built without validation
    result = Result()
    inv = inventory.scan(root)
    backup: Backup | None
    if params.backup == "latest":
        backup = inv.latest(Tier.MONTHLY, verified=True)
        result.check(
            "a verified monthly backup to archive",
            backup is not None,
            observed=backup.id if backup else f"none in {root}",
            expected="the newest verified monthly backup",
        )
        if backup is None:
            result.summary = "no verified monthly backup to archive"
            return result
    else:
        backup = inv.get(params.backup)
    result.figures["backup_id"] = backup.id
    result.check(
        "backup is verified",
        backup.verified,
        observed=backup.problem or backup.status,
        expected="verified:full or verified:restore",
    )
    if not backup.verified:
        result.summary = f"{backup.id} not archived: it is not verified ({backup.status})"
        return result
    assert backup.manifest is not None
    sha, size = str(backup.manifest.sha256), backup.manifest.size_bytes
    path = archive_path(root, backup.id)
    rel = str(path.relative_to(root.resolve()))
    result.figures["path"] = rel

    action = "archived"
    if path.exists():
        existing = check_archive(path, backup.id, sha256=sha, size_bytes=size)
        if existing.passed:
            _report(result, path, existing)
            _record(ctx, backup, rel, "already-present", existing)
            result.figures.update(_figures(existing, None, "already-present"))
            result.summary = f"{backup.id} already archived in {rel}; read back OK"
            return result
        result.check(
            "existing archive is intact",
            False,
            observed="; ".join(existing.problems),
            expected="exactly the backup and its manifest, matching the manifest's SHA-256",
            detail="the damaged archive was replaced by a fresh one",
        )
        action = "rebuilt"

    free = shutil.disk_usage(root).free
    reserve = ctx.settings.backup_min_free_bytes
    enough = free - size >= reserve  # the temp file is written whole beside any old archive
    result.check(
        "enough free space for the archive",
        enough,
        observed=f"{free} bytes free",
        expected=f">= {size} (the archive) + {reserve} (MAINT_BACKUP_MIN_FREE_BYTES)",
    )
    if not enough:
        result.summary = f"{backup.id} not archived: not enough free space in {root}"
        return result

    atomic.private_dir(layout.inside(root, root / ARCHIVE_DIR))
    # under the backups lock, a temp file beside the archive is a dead run's
    stale = [d.path.name for d in delete.remove_leftovers(path, root=root) if d.deleted]
    if stale:
        result.figures["stale_temps_removed"] = stale
    t0 = clock.monotonic()
    try:
        write(path, backup, sha)
    except LocalMismatch as exc:
        result.check(
            "local backup still matches its manifest",
            False,
            observed=str(exc),
            expected=f"{size} bytes, SHA-256 {sha}",
            detail="not archived: the backup file changed after it was verified",
        )
        result.summary = f"{backup.id} not archived: its checksum no longer matches"
        return result
    write_s = clock.monotonic() - t0
    result.check("local backup still matches its manifest", True, observed=sha, expected=sha)

    check = check_archive(path, backup.id, sha256=sha, size_bytes=size)
    _report(result, path, check)
    _record(ctx, backup, rel, action, check)
    result.figures.update(_figures(check, write_s, action))
    verdict = "read back OK" if check.passed else "READ-BACK FAILED"
    result.summary = (
        f"{backup.id} {action} to {rel} ({check.tar_bytes / 1e6:.1f} MB at "
        f"{_rate(check.tar_bytes, write_s)} MB/s), {verdict}"
    )
    return result


def _report(result: Result, path: Path, check: TarCheck) -> None:
    dump_name, manifest_name = member_names(path.name.removesuffix(TAR_SUFFIX))
    result.check(
        "archive holds exactly the backup and its manifest",
        sorted(check.names) == sorted([dump_name, manifest_name]),
        observed=check.names,
        expected=[dump_name, manifest_name],
    )
    result.check(
        "archived backup matches the manifest's SHA-256",
        check.dump_ok,
        observed=_sha(check, dump_name),
        expected="the manifest's sha256",
        detail="; ".join(check.problems) or None,
    )
    result.check(
        "archived manifest is this backup's",
        check.manifest_ok,
        observed=_sha(check, manifest_name),
        expected="a manifest with this id and sha256",
    )
    file_mode = stat.S_IMODE(path.stat().st_mode)
    dir_mode = stat.S_IMODE(path.parent.stat().st_mode)
    result.check(
        "archive is private",
        file_mode == layout.FILE_MODE and dir_mode == layout.DIR_MODE,
        observed=f"file {file_mode:04o}, folder {dir_mode:04o}",
        expected=f"file {layout.FILE_MODE:04o}, folder {layout.DIR_MODE:04o}",
    )


def _record(ctx: RunContext, backup: Backup, rel: str, action: str, check: TarCheck) -> None:
    manifest.record_archive(
        backup.manifest_path,
        manifest.ArchiveRecord(
            at=clock.now(),
            run_id=ctx.run_id,
            action=action,
            path=rel,
            size_bytes=check.tar_bytes,
            sha256=check.tar_sha256,
            members=check.members,
            readback=manifest.ArchiveReadback(passed=check.passed, problems=tuple(check.problems)),
        ),
    )


def _sha(check: TarCheck, name: str) -> str | None:
    member = check.members.get(name)
    return member.sha256 if member else None


def _figures(check: TarCheck, write_s: float | None, action: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "action": action,
        "archive_bytes": check.tar_bytes,
        "archive_sha256": check.tar_sha256,
        "readback_s": round(check.seconds, 3),
        "readback_mb_s": _rate(check.tar_bytes, check.seconds),
    }
    if write_s is not None:
        out.update({"write_s": round(write_s, 3), "write_mb_s": _rate(check.tar_bytes, write_s)})
    return out


def _rate(size: int, seconds: float | None) -> float:
    return round(size / 1e6 / seconds, 1) if seconds else 0.0
