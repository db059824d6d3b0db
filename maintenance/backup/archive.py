"""``backup.archive``: the playbook's monthly "Archive backup" step, checked.

``BACKUP_ROOT/archive/<id>.tar`` holds exactly two members, ``<id>.dump.zst`` and
``<id>.manifest.json`` (the manifest as it was when archived). The tar is not
compressed: the dump is zstd already, and ``tar -czf`` of it would spend minutes to
save nothing. The archive is written under a temp name and renamed (0600, folder 0700),
then read back whole: each member's SHA-256 is computed, the dump's against the
manifest's ``sha256``. A run finding the archive already there and intact changes
nothing but the record; a damaged one is reported and rebuilt.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import tarfile
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any, Literal, cast

from pydantic import Field

from maintenance import clock
from maintenance.backup import inventory, layout, manifest, policy
from maintenance.backup.inventory import Backup
from maintenance.backup.layout import Tier
from maintenance.errors import BadInput, MaintenanceError
from maintenance.fs import atomic, delete
from maintenance.fs.digest import Digest, HashingReader
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext

ARCHIVE_DIR = "archive"
TAR_SUFFIX = ".tar"
_BUF = 1 << 20


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


def archive_path(root: Path, backup_id: str) -> Path:
    layout.parse_id(backup_id)
    return layout.inside(root, root / ARCHIVE_DIR / f"{backup_id}{TAR_SUFFIX}")


def member_names(backup_id: str) -> tuple[str, str]:
    return f"{backup_id}{layout.DUMP_SUFFIX}", f"{backup_id}{layout.MANIFEST_SUFFIX}"


@dataclass
class TarCheck:
    """What reading an archive back found."""

    members: dict[str, manifest.MemberDigest] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    dump_ok: bool = False
    manifest_ok: bool = False
    tar_sha256: str = ""
    tar_bytes: int = 0
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems


def check_archive(path: Path, backup_id: str, *, sha256: str, size_bytes: int) -> TarCheck:
    """Read the archive at ``path`` whole: exactly the two expected members, regular
    files, the dump with ``size_bytes`` and ``sha256``, the manifest this backup's."""
    dump_name, manifest_name = member_names(backup_id)
    out = TarCheck()
    t0 = clock.monotonic()
    try:
        with path.open("rb") as raw:
            reader = HashingReader(raw)
            stream = cast(IO[bytes], reader)  # reads are all tarfile's stream mode needs
            with tarfile.open(fileobj=stream, mode="r|", bufsize=_BUF) as tar:
                for member in tar:
                    out.names.append(member.name)
                    if member.name not in (dump_name, manifest_name) or not member.isreg():
                        out.problems.append(f"unexpected member {member.name!r}")
                        continue
                    if member.name in out.members:
                        out.problems.append(f"member {member.name!r} appears twice")
                        continue
                    data = tar.extractfile(member)
                    assert data is not None  # a regular file
                    digest, head = Digest(), b""
                    while chunk := data.read(_BUF):
                        digest.update(chunk)
                        if member.name == manifest_name and len(head) < 1 << 24:
                            head += chunk
                    out.members[member.name] = manifest.MemberDigest(
                        size_bytes=digest.bytes, sha256=digest.hexdigest()
                    )
                    if member.name == manifest_name:
                        out.manifest_ok = _manifest_matches(head, backup_id, sha256, out.problems)
            while reader.read(_BUF):  # the end-of-archive blocks, for the whole file's hash
                pass
            out.tar_sha256, out.tar_bytes = reader.hexdigest(), reader.bytes
    except (OSError, tarfile.TarError) as exc:
        out.problems.append(f"unreadable: {exc}")
    out.seconds = clock.monotonic() - t0
    dump = out.members.get(dump_name)
    if dump is None:
        out.problems.append(f"member {dump_name!r} is missing")
    elif dump.sha256 != sha256 or dump.size_bytes != size_bytes:
        out.problems.append(
            f"{dump_name}: {dump.size_bytes} bytes, SHA-256 {dump.sha256}; the manifest "
            f"says {size_bytes} bytes, SHA-256 {sha256}"
        )
    else:
        out.dump_ok = True
    if manifest_name not in out.members:
        out.problems.append(f"member {manifest_name!r} is missing")
    return out


def _manifest_matches(data: bytes, backup_id: str, sha256: str, problems: list[str]) -> bool:
    try:
        doc = manifest.parse(data, "the archived manifest")
    except BadInput as exc:
        problems.append(str(exc))
        return False
    if doc.id != backup_id or doc.sha256 != sha256:
        problems.append("the archived manifest is not this backup's (id or sha256 differ)")
        return False
    return True


class _LocalMismatch(Exception):
    pass


def run(ctx: RunContext, params: ArchiveParams) -> Result:
    """Archive a verified backup, prove the tar, then apply archive retention."""
    result = _archive(ctx, params)
    if params.prune != "no":
        _prune(ctx, result, apply=params.prune == "apply")
    return result


def _prune(ctx: RunContext, result: Result, *, apply: bool) -> None:
    """Archives are kept as long as monthly backups (MAINT_RETENTION_DAYS monthly, the
    playbook's one year), with the same floor: the newest MAINT_RETENTION_MIN_VERIFIED
    archives stay whatever their age. An archive under its final name was written whole
    and read back when it was made, so it counts toward the floor."""
    root = ctx.settings.backup_root
    folder = root / ARCHIVE_DIR
    if not folder.is_dir() or folder.is_symlink():
        return
    candidates = []
    for path in sorted(folder.iterdir()):
        if not path.name.endswith(TAR_SUFFIX) or path.is_symlink() or not path.is_file():
            continue
        backup_id = path.name.removesuffix(TAR_SUFFIX)
        try:
            _, created = layout.parse_id(backup_id)
        except BadInput:
            continue
        candidates.append(
            policy.Candidate(backup_id, "archive", created, True, path.stat().st_size)
        )
    rules = policy.Policy(
        max_age={"archive": timedelta(days=ctx.settings.retention_days["monthly"])},
        min_verified=ctx.settings.retention_min_verified,
    )
    decisions = policy.decide(candidates, rules, clock.now())
    deleted, errors = [], []
    for d in decisions:
        if d.keep:
            continue
        try:
            done = delete.delete(
                archive_path(root, d.id), root=root, reason=d.reason, dry_run=not apply
            )
        except (MaintenanceError, OSError) as exc:
            errors.append(f"{d.id}: {exc}")
            continue
        if done.deleted:
            deleted.append(d.id)
    result.figures["archive_retention"] = {
        "applied": apply,
        "decisions": [{"id": d.id, "keep": d.keep, "reason": d.reason} for d in decisions],
        "deleted": deleted,
        **({"errors": errors} if errors else {}),
    }
    going = [d.id for d in decisions if not d.keep]
    kept = len(decisions) - len(going)
    if going:
        verb = "deleted" if apply else "would delete"
        result.summary += f"; archive retention {verb} {len(going)}, kept {kept}"


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
        _write(path, backup, sha)
    except _LocalMismatch as exc:
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


def _write(path: Path, backup: Backup, sha: str) -> None:
    dump_name, manifest_name = member_names(backup.id)
    manifest_bytes = backup.manifest_path.read_bytes()  # one snapshot: archived and hashed
    with (
        backup.path.open("rb") as src,
        atomic.atomic_write(path) as out,
        tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, bufsize=_BUF) as tar,
    ):
        info = os.fstat(src.fileno())
        reader = HashingReader(src)
        tar.addfile(_member(dump_name, info.st_size, info.st_mtime), reader)
        if reader.hexdigest() != sha:
            raise _LocalMismatch(f"{reader.bytes} bytes, SHA-256 {reader.hexdigest()}")
        stamp = backup.manifest_path.stat().st_mtime
        tar.addfile(_member(manifest_name, len(manifest_bytes), stamp), io.BytesIO(manifest_bytes))


def _member(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = layout.FILE_MODE
    info.type = tarfile.REGTYPE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


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
            readback=manifest.ArchiveReadback(
                passed=check.passed, problems=tuple(check.problems)
            ),
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
