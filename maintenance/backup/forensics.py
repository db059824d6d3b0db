"""Forensic dumps: each database's state just before ``maint restore`` replaced it.

``BACKUP_ROOT/forensics/<database>-<UTC time>.dump.zst`` (the backup format) with
``<same>.manifest.json`` beside it, the record restore wrote: database, size, SHA-256,
restore run. Names are made and read by :func:`layout.forensic_name` /
:func:`layout.parse_forensic_name` only.

They are restore's evidence of the previous state, so retention keeps them by a rule of
their own (:func:`decide`, pure): for each database, the newest MAINT_FORENSICS_MIN_KEEP
are kept whatever their age; the others until they are MAINT_FORENSICS_KEEP_DAYS old. A
record whose dump is missing (a run died between the two) is garbage after a day
(:mod:`.retention.forensic` applies all this).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from maintenance.backup import layout, manifest
from maintenance.backup.manifest import ForensicRecord
from maintenance.errors import BadInput
from maintenance.fs import delete, temp


@dataclass(frozen=True)
class ForensicDump:
    """One forensic dump as found on disk (``path`` may be missing: a record alone)."""

    name: str  # <database>-<UTC time>
    database: str
    created_at: datetime
    path: Path
    manifest_path: Path
    has_dump: bool
    size_bytes: int  # of the dump file, 0 without one
    record: ForensicRecord | None
    link: str | None = None  # which of its files is a symbolic link: never deleted

    @property
    def status(self) -> str:
        if self.link:
            return f"refused: {self.link}"
        if not self.has_dump:
            return "record without its dump"
        if self.record is None:
            return "dump without a readable record"
        if self.record.size_bytes != self.size_bytes:
            return "changed: size differs from its record"
        return "complete"

    def to_dict(self) -> dict[str, Any]:
        rec = self.record
        return {
            "name": self.name,
            "database": self.database,
            "created_at": self.created_at.isoformat(),
            "size_bytes": self.size_bytes,
            "status": self.status,
            "sha256": rec.sha256 if rec else None,
            "restore_run_id": rec.restore_run_id if rec else None,
            "server_version": rec.server_version if rec else None,
            "path": str(self.path),
        }


@dataclass
class ForensicInventory:
    dumps: list[ForensicDump] = field(default_factory=list)  # oldest first
    temp_files: list[Path] = field(default_factory=list)  # of a dump or record write
    stray_files: list[Path] = field(default_factory=list)


def file_name(name: str) -> tuple[str, str] | None:
    """(forensic name, suffix) of a forensic dump's or record's file name, else None."""
    for suffix in (layout.DUMP_SUFFIX, layout.MANIFEST_SUFFIX):
        if name.endswith(suffix):
            stem = name.removesuffix(suffix)
            try:
                layout.parse_forensic_name(stem)
            except BadInput:
                return None
            return stem, suffix
    return None


def is_temp_of_dump(name: str) -> bool:
    """A temp file (layout's one format) of a forensic dump's or record's write."""
    final = temp.temp_target(name)
    return final is not None and file_name(final) is not None


def scan(root: Path) -> ForensicInventory:
    """Read ``BACKUP_ROOT/forensics`` (missing: nothing). Links are listed, never followed:
    a dump with a linked file carries ``link``. The caller checks the folder itself."""
    inv = ForensicInventory()
    folder = layout.forensics_dir(root)
    if folder.is_symlink() or not folder.is_dir():
        return inv
    groups: dict[str, dict[str, Path]] = {}
    for entry in sorted(folder.iterdir()):
        parsed = file_name(entry.name)
        if is_temp_of_dump(entry.name):
            inv.temp_files.append(entry)
        elif parsed is not None:
            groups.setdefault(parsed[0], {})[parsed[1]] = entry
        else:
            inv.stray_files.append(entry)
    for name, files in sorted(groups.items()):
        database, created = layout.parse_forensic_name(name)
        dump = files.get(layout.DUMP_SUFFIX, folder / f"{name}{layout.DUMP_SUFFIX}")
        man = files.get(layout.MANIFEST_SUFFIX, folder / f"{name}{layout.MANIFEST_SUFFIX}")
        links = [p.name for p in files.values() if p.is_symlink()]
        has_dump = layout.DUMP_SUFFIX in files
        inv.dumps.append(
            ForensicDump(
                name,
                database,
                created,
                dump,
                man,
                has_dump,
                dump.lstat().st_size if has_dump else 0,
                None if links else _read_record(man),
                f"{', '.join(links)} is a symbolic link" if links else None,
            )
        )
    inv.dumps.sort(key=lambda d: d.created_at)
    return inv


def _read_record(path: Path) -> ForensicRecord | None:
    try:
        return manifest.read_forensic(path)
    except BadInput:
        return None


# --- the rule --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    keep_days: int  # MAINT_FORENSICS_KEEP_DAYS
    min_keep: int  # MAINT_FORENSICS_MIN_KEEP: the floor, per database


@dataclass(frozen=True)
class Candidate:
    name: str
    database: str
    created_at: datetime


@dataclass(frozen=True)
class Decision:
    name: str
    database: str
    keep: bool
    reason: str
    created_at: datetime


def decide(candidates: Sequence[Candidate], rule: Rule, now: datetime) -> list[Decision]:
    """One decision per candidate, in the order given. Pure: no I/O, no clock.

    Per database: the newest ``max(1, min_keep)`` are kept whatever their age; the others
    are kept while no older than ``keep_days`` and deleted after.
    """
    floor = max(1, rule.min_keep)
    limit = timedelta(days=rule.keep_days)
    protected: set[str] = set()
    by_db: dict[str, list[Candidate]] = {}
    for c in candidates:
        by_db.setdefault(c.database, []).append(c)
    for items in by_db.values():
        newest = sorted(items, key=lambda c: c.created_at, reverse=True)
        protected.update(c.name for c in newest[:floor])
    out = []
    for c in candidates:
        age = f"{(now - c.created_at).total_seconds() / 86400:.1f} days old"
        if c.name in protected:
            keep, why = (
                True,
                (
                    f"one of the newest {floor} of {c.database} "
                    f"(floor MAINT_FORENSICS_MIN_KEEP={rule.min_keep}): kept whatever its age"
                ),
            )
        elif now - c.created_at <= limit:
            keep, why = True, f"within {rule.keep_days} days: kept"
        else:
            keep, why = (
                False,
                f"older than {rule.keep_days} days (MAINT_FORENSICS_KEEP_DAYS): delete",
            )
        sep = "; " if c.name in protected else ", "
        out.append(Decision(c.name, c.database, keep, f"{age}{sep}{why}", c.created_at))
    return out


def floor(decisions: Sequence[Decision], rule: Rule) -> dict[str, dict[str, Any]]:
    """Per database: dumps, how many a plan keeps, how many it must, and whether the
    newest is among them. Computed from the decisions alone: the safety net."""
    out: dict[str, dict[str, Any]] = {}
    by_db: dict[str, list[Decision]] = {}
    for d in decisions:
        by_db.setdefault(d.database, []).append(d)
    for db, items in sorted(by_db.items()):
        kept = [d for d in items if d.keep]
        newest = max(items, key=lambda d: d.created_at)
        required = min(max(1, rule.min_keep), len(items))
        out[db] = {
            "dumps": len(items),
            "kept": len(kept),
            "required": required,
            "newest": newest.name,
            "holds": len(kept) >= required and newest.keep,
        }
    return out


def folder_problem(root: Path) -> str | None:
    """Why the forensics folder must not be touched (a link, not a folder), or None."""
    return delete.folder_problem(layout.forensics_dir(root))
