"""Forensic dumps: each database's state just before ``maint restore`` replaced it.

``BACKUP_ROOT/forensics/<database>-<UTC time>.dump.zst`` (the backup format) with
``<same>.manifest.json`` beside it, the record restore wrote: database, size, SHA-256,
restore run. Names are made and read by :func:`layout.forensic_name` /
:func:`layout.parse_forensic_name` only.

They are restore's evidence of the previous state, so retention keeps them by a rule of
their own (:func:`decide`, pure): for each database, the newest MAINT_FORENSICS_MIN_KEEP
are kept whatever their age; the others until they are MAINT_FORENSICS_KEEP_DAYS old. A
record whose dump is missing (a run died between the two) is garbage after a day.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from maintenance.backup import layout, manifest
from maintenance.backup.manifest import ForensicRecord
from maintenance.errors import BadInput
from maintenance.fs import temp
from maintenance.results import Check, CheckStatus


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


# --- what retention does with them -------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A forensic dump (``kind`` ``dump``, decided by :func:`decide`) or a record whose
    dump is missing (``orphan_record``: garbage once older than a day)."""

    decision: Decision
    kind: str
    status: str
    disk_bytes: int = 0
    files: tuple[str, ...] = ()  # file names in the forensics folder, dump first

    @property
    def name(self) -> str:
        return self.decision.name

    @property
    def keep(self) -> bool:
        return self.decision.keep

    def to_dict(self) -> dict[str, Any]:
        d = self.decision
        return {
            "name": d.name,
            "database": d.database,
            "keep": d.keep,
            "reason": d.reason,
            "created_at": d.created_at.isoformat(),
            "size_bytes": self.disk_bytes,
            "kind": self.kind,
            "status": self.status,
        }


@dataclass
class Plan:
    rule: Rule
    items: list[Item] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)  # judged like every temp file
    strays: list[str] = field(default_factory=list)  # relative to the root, never deleted
    refused: list[str] = field(default_factory=list)  # "path: why", never deleted
    found: int = 0  # forensic names found (what `maint backups list --forensics` lists)

    @property
    def to_delete(self) -> list[Item]:
        return [i for i in self.items if not i.keep]

    def floor(self) -> dict[str, dict[str, Any]]:
        return floor([i.decision for i in self.items if i.kind == "dump"], self.rule)

    @property
    def floor_holds(self) -> bool:
        return all(f["holds"] for f in self.floor().values())


def folder_problem(root: Path) -> str | None:
    """Why the forensics folder must not be touched (a link, not a folder), or None."""
    folder = layout.forensics_dir(root)
    try:
        st = folder.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None
    if stat.S_ISLNK(st.st_mode):
        return f"a symbolic link to {os.readlink(folder)}"
    return "not a folder"


def plan(root: Path, rule: Rule, now: datetime, *, garbage_age: timedelta) -> Plan:
    """What retention does in the forensics folder at ``now``. Reads; changes nothing."""
    out = Plan(rule)
    problem = folder_problem(root)
    if problem:
        out.refused.append(f"{layout.FORENSICS_DIR}/: {problem}")
        return out
    inv = scan(root)
    out.found = len(inv.dumps)
    candidates: list[Candidate] = []
    pending: list[ForensicDump] = []
    for d in inv.dumps:
        where = f"{layout.FORENSICS_DIR}/{d.name}"
        odd = [p.name for p in (d.path, d.manifest_path) if _odd(p)]
        if d.link or odd:
            why = d.link or f"{', '.join(odd)} is not a regular file"
            out.refused.append(f"{where}: {why}: never followed, never deleted")
            continue
        if not d.has_dump:
            st = d.manifest_path.lstat()
            age = now - max(d.created_at, datetime.fromtimestamp(st.st_mtime, tz=now.tzinfo))
            garbage = age > garbage_age
            reason = f"record without its dump, {age.total_seconds() / 3600:.1f} hours old: " + (
                "left by a crashed restore, delete"
                if garbage
                else "a restore may be writing it, kept"
            )
            decision = Decision(d.name, d.database, not garbage, reason, d.created_at)
            files: tuple[str, ...] = (d.manifest_path.name,)
            out.items.append(Item(decision, "orphan_record", d.status, st.st_size, files))
            continue
        candidates.append(Candidate(d.name, d.database, d.created_at))
        pending.append(d)
    for d, decision in zip(pending, decide(candidates, rule, now), strict=True):
        files = tuple(p.name for p in (d.path, d.manifest_path) if os.path.lexists(p))
        size = sum(p.lstat().st_size for p in (d.path, d.manifest_path) if os.path.lexists(p))
        out.items.append(Item(decision, "dump", d.status, size, files))
    out.items.sort(key=lambda i: (i.decision.created_at, i.name))
    out.temp_files = list(inv.temp_files)
    for path in inv.stray_files:
        rel = f"{layout.FORENSICS_DIR}/{path.name}"
        if path.is_symlink():
            out.refused.append(f"{rel}: a symbolic link to {os.readlink(path)}")
        else:
            out.strays.append(rel)
    return out


def _odd(path: Path) -> bool:
    """Present, but not a regular file."""
    try:
        return not stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        return False


def checks(
    p: Plan | None, deleted: list[str] | None, *, blind: str | None, refused: str | None
) -> list[Check]:
    """Retention's forensic checklist lines. ``deleted``: names deleted (None for a dry
    run); ``blind``: the folder could not be looked at (both checks not run);
    ``refused``: retention deletes nothing (the deletions did not run)."""
    rule = p.rule if p else None
    floor_expected = (
        f"the newest {rule.min_keep} of each database whatever their age "
        "(MAINT_FORENSICS_MIN_KEEP), incl. its newest"
        if rule
        else "the newest MAINT_FORENSICS_MIN_KEEP of each database"
    )
    age_expected = (
        f"deleted once older than {rule.keep_days} days (MAINT_FORENSICS_KEEP_DAYS), "
        f"except the newest {rule.min_keep} of each database"
        if rule
        else "deleted once older than MAINT_FORENSICS_KEEP_DAYS"
    )
    floor_name, age_name = "forensic floor holds per database", "old forensic dumps removed"
    if blind or p is None:
        why = blind or "not run: the forensics folder was not read"
        return [
            Check(floor_name, CheckStatus.WARN, why, floor_expected),
            Check(age_name, CheckStatus.WARN, why, age_expected),
        ]
    fl = p.floor()
    out = [
        Check(
            floor_name,
            CheckStatus.PASS if p.floor_holds else CheckStatus.FAIL,
            "; ".join(f"{db}: {f['kept']} kept of {f['dumps']}" for db, f in fl.items())
            or "no forensic dumps",
            floor_expected,
            None if p.floor_holds else "nothing was deleted",
        )
    ]
    going = p.to_delete
    if refused and going:
        out.append(Check(age_name, CheckStatus.WARN, refused, age_expected))
        return out
    if not going:
        kept = sum(1 for i in p.items if i.keep)
        out.append(Check(age_name, CheckStatus.PASS, f"none ({kept} kept)", age_expected))
        return out
    listed = "; ".join(f"{i.name} ({i.decision.reason})" for i in going)
    if deleted is None:
        out.append(
            Check(age_name, CheckStatus.PASS, f"would delete {len(going)}: {listed}", age_expected)
        )
        return out
    done = [i for i in going if i.name in set(deleted)]
    failed = [i.name for i in going if i.name not in set(deleted)]
    observed = f"deleted {len(done)}: " + "; ".join(f"{i.name} ({i.decision.reason})" for i in done)
    if failed:
        observed += f"; not deleted (see planned deletions done): {', '.join(failed)}"
    status = CheckStatus.WARN if failed else CheckStatus.PASS
    out.append(Check(age_name, status, observed, age_expected))
    return out
