"""The archive's format: a plain (uncompressed) PAX tar of exactly two regular members,
the backup file and its manifest, written in one pass that hashes the backup as it goes,
and read back whole, every member hashed."""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, cast

from maintenance import clock
from maintenance.backup import layout, manifest
from maintenance.backup.inventory import Backup
from maintenance.errors import BadInput, PermanentError
from maintenance.fs import atomic
from maintenance.fs.digest import Digest, HashingReader

ARCHIVE_DIR = "archive"
TAR_SUFFIX = ".tar"
_BUF = 1 << 20


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


class LocalMismatch(PermanentError):
    """The backup file no longer has the SHA-256 its manifest records."""


def write(path: Path, backup: Backup, sha: str) -> None:
    """Write the archive of ``backup`` at ``path`` (atomically); LocalMismatch if the
    backup file does not hash to ``sha`` (then no archive is left)."""
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
            raise LocalMismatch(f"{reader.bytes} bytes, SHA-256 {reader.hexdigest()}")
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
