"""Monthly archives of compressed logs: ``MAINT_LOG_ROOT/archive/logs_YYYY-MM.tar``.

The playbook's ``tar -czf archive/logs_$(date -d '1 month ago' +%Y-%m).tar.gz
*.log.*.gz`` takes every compressed log whatever its month, gzips gzip, and overwrites the
month's archive at each weekly run. Here:

* an archive holds the compressed rotated logs last written in its (local) month, and
  nothing else; it is a plain tar (its members are gzip already);
* an archive is written once and never changed: files of that month found later go
  into a further part, ``logs_YYYY-MM.2.tar``;
* members are named ``<log>-<UTC time of last write>.gz`` (a numbered name such as
  ``app.log.12.gz`` changes every day), keep their modification time, and carry their
  SHA-256 in a pax header;
* each part is written under a temp name, fsynced and linked into place
  (:mod:`maintenance.fs.atomic`, 0600 in a 0700 folder), then read back whole: every
  member's bytes must hash to the recorded SHA-256, and every file it was made from must
  be there.

A rotated log is deleted for its age only when an intact part holds a member with its
exact size, modification time and SHA-256 (:mod:`.cleanup`).
"""

from __future__ import annotations

import os
import re
import tarfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from maintenance.fs import atomic, digest
from maintenance.logs.files import LogRoot
from maintenance.logs.inventory import Member

PREFIX = "logs_"
SUFFIX = ".tar"
SHA_HEADER = "MAINT.sha256"
_PART = re.compile(r"^logs_(?P<month>[0-9]{4}-[0-9]{2})(?:\.(?P<n>[2-9]|[1-9][0-9]+))?\.tar$")

#: (size, mtime in whole seconds, sha256): what makes a member the file it was made from.
Identity = tuple[int, int, str]


@dataclass
class Part:
    """One archive file, as reading it back found it."""

    name: str
    month: str
    number: int
    members: dict[str, Identity] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "month": self.month,
            "members": len(self.members),
            "intact": self.intact,
            "problems": self.problems,
        }


def part_name(month: str, number: int) -> str:
    return f"{PREFIX}{month}{SUFFIX}" if number == 1 else f"{PREFIX}{month}.{number}{SUFFIX}"


def parse_part(name: str) -> tuple[str, int] | None:
    m = _PART.match(name)
    return (m.group("month"), int(m.group("n") or 1)) if m else None


def member_name(m: Member) -> str:
    if m.rotated.stamp is not None:
        return m.name
    when = datetime.fromtimestamp(m.entry.mtime_ns // 10**9, UTC)
    return f"{m.rotated.base}-{when:%Y%m%dT%H%M%SZ}.gz"


def identity(m: Member, sha256: str) -> Identity:
    return (m.entry.size, m.entry.mtime_ns // 10**9, sha256)


def read_part(folder: Path, name: str) -> Part:
    """Read the part ``name`` whole: each member's bytes against its recorded SHA-256."""
    month, number = parse_part(name) or ("?", 0)
    part = Part(name, month, number)
    try:
        fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as raw, tarfile.open(fileobj=raw, mode="r:") as tar:
            for info in tar:
                if not info.isreg():
                    part.problems.append(f"{info.name}: not a regular file member")
                    continue
                recorded = info.pax_headers.get(SHA_HEADER, "")
                data = tar.extractfile(info)
                assert data is not None
                sha, size = digest.of_stream(data)
                if sha != recorded or size != info.size:
                    part.problems.append(f"{info.name}: its bytes do not match its SHA-256")
                    continue
                part.members[info.name] = (size, int(info.mtime), sha)
    except (OSError, tarfile.TarError, EOFError) as exc:
        part.problems.append(f"unreadable: {exc}")
    return part


def write_part(
    root: LogRoot, folder: Path, month: str, number: int, files: list[tuple[Member, str]]
) -> Part:
    """Write ``files`` ((member, its sha256)) as part ``number`` of ``month``, never over
    an existing file, and read it back."""
    name = part_name(month, number)
    used: set[str] = set()
    with (
        atomic.atomic_write(folder / name, replace=False) as out,
        tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for m, sha in files:
            arcname = _unique(member_name(m), used)
            info = tarfile.TarInfo(arcname)
            info.size = m.entry.size
            info.mtime = m.entry.mtime_ns // 10**9
            info.mode = m.entry.mode
            info.pax_headers = {SHA_HEADER: sha}
            with root.open_read(m.name, expect=m.entry) as src:
                reader = digest.HashingReader(src)
                tar.addfile(info, reader)
            if reader.hexdigest() != sha or reader.bytes != m.entry.size:
                raise OSError(f"{m.name} changed while it was archived")
    part = read_part(folder, name)
    want = {identity(m, sha) for m, sha in files}
    missing = want - set(part.members.values())
    if missing:
        part.problems.append(f"{len(missing)} file(s) missing from the archive read back")
    return part


def _unique(name: str, used: set[str]) -> str:
    candidate, n = name, 2
    while candidate in used:
        stem = name.removesuffix(".gz")
        candidate, n = f"{stem}-{n}.gz", n + 1
    used.add(candidate)
    return candidate
