"""Retention's first step: read BACKUP_ROOT, decide nothing.

Everything :func:`~.plan.plan` needs is gathered here, once: the inventory's backups
(:func:`..inventory.scan`) and forensic dumps (:func:`..forensics.scan`), and the
``lstat`` of every file retention might touch (links are described, never followed).
A root that cannot be read safely (a link leading out of it, an unreadable folder)
gives facts with an ``error`` and nothing else: then nothing at all is deleted.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from maintenance.backup import forensics, inventory, layout
from maintenance.backup.forensics import ForensicDump
from maintenance.backup.inventory import Backup
from maintenance.backup.layout import Tier
from maintenance.errors import BadInput
from maintenance.fs.delete import folder_problem

Kind = Literal["file", "link", "other"]


@dataclass(frozen=True)
class Entry:
    """One file as ``lstat`` saw it."""

    relpath: str  # below the root
    kind: Kind
    size_bytes: int
    mtime: datetime
    link_to: str | None = None  # where a link points (read, never followed)

    @property
    def name(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]

    @property
    def folder(self) -> str:
        return self.relpath.rsplit("/", 1)[0]


@dataclass(frozen=True)
class BackupFacts:
    backup: Backup  # as the inventory found it: status, verified, problem
    dump: Entry | None  # None: not there
    manifest: Entry | None


@dataclass(frozen=True)
class ForensicFacts:
    folder_problem: str | None = None  # the forensics folder is a link, or not a folder
    dumps: tuple[tuple[ForensicDump, Entry | None, Entry | None], ...] = ()  # dump, record
    temp_files: tuple[Entry, ...] = ()
    strays: tuple[Entry, ...] = ()


@dataclass(frozen=True)
class Facts:
    root: Path
    backups: tuple[BackupFacts, ...] = ()
    tier_problems: dict[Tier, str] = field(default_factory=dict)  # not plain folders
    root_links: tuple[Entry, ...] = ()  # links directly in the root
    temp_files: tuple[Entry, ...] = ()  # of backup and manifest writes, in tier folders
    strays: tuple[Entry, ...] = ()  # anything else in a tier folder (links included)
    forensic: ForensicFacts = field(default_factory=ForensicFacts)
    total_bytes: int = 0  # every regular file under the root
    error: str | None = None  # the root was not read safely


def read(root: Path) -> Facts:
    """The facts of ``root`` now. Reads; changes nothing; never raises for what it finds."""
    try:
        inv = inventory.scan(root)
        escaped = [b for b in inv.backups if b.problem and "outside the backup root" in b.problem]
        if escaped:  # someone linked out of the root: do not trust anything in it
            raise BadInput(escaped[0].problem or "a file leads outside the backup root")
        return Facts(
            root=root,
            backups=tuple(_backup(root, b) for b in inv.backups),
            tier_problems={t: p for t in Tier if (p := folder_problem(layout.tier_dir(root, t)))},
            root_links=_root_links(root),
            temp_files=tuple(e for p in inv.temp_files if (e := entry(root, p))),
            strays=tuple(e for p in inv.stray_files if (e := entry(root, p))),
            forensic=_forensic(root),
            total_bytes=_root_bytes(root),
        )
    except (BadInput, OSError) as exc:
        return Facts(
            root=root,
            error=(
                f"cannot read {root} safely: {exc}. Nothing is deleted until this is fixed "
                "(a link that leads outside the root must be removed by hand)."
            ),
        )


def entry(root: Path, path: Path) -> Entry | None:
    """What ``lstat`` says of ``path`` (None if it is not there)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    kind: Kind = (
        "file" if stat.S_ISREG(st.st_mode) else "link" if stat.S_ISLNK(st.st_mode) else "other"
    )
    return Entry(
        rel,
        kind,
        st.st_size,
        datetime.fromtimestamp(st.st_mtime, tz=UTC),
        os.readlink(path) if kind == "link" else None,
    )


def _backup(root: Path, b: Backup) -> BackupFacts:
    folder = layout.tier_dir(root, b.tier)
    return BackupFacts(
        b,
        entry(root, folder / f"{b.id}{layout.DUMP_SUFFIX}"),
        entry(root, folder / f"{b.id}{layout.MANIFEST_SUFFIX}"),
    )


def _root_links(root: Path) -> tuple[Entry, ...]:
    """Links directly in the root (tier folders and forensics, when links, are the
    folder problems)."""
    known = {t.value for t in Tier} | {layout.FORENSICS_DIR}
    if not root.is_dir():
        return ()
    return tuple(
        e
        for p in sorted(root.iterdir())
        if p.name not in known and (e := entry(root, p)) and e.kind == "link"
    )


def _forensic(root: Path) -> ForensicFacts:
    problem = forensics.folder_problem(root)
    if problem:
        return ForensicFacts(folder_problem=problem)
    inv = forensics.scan(root)
    return ForensicFacts(
        dumps=tuple((d, entry(root, d.path), entry(root, d.manifest_path)) for d in inv.dumps),
        temp_files=tuple(e for p in inv.temp_files if (e := entry(root, p))),
        strays=tuple(e for p in inv.stray_files if (e := entry(root, p))),
    )


def _root_bytes(root: Path) -> int:
    """Every regular file under the root (links not followed): what the disk holds."""
    total = 0
    for folder, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            found = entry(root, Path(folder) / name)
            if found is not None and found.kind == "file":
                total += found.size_bytes
    return total
