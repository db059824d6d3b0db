"""What BACKUP_ROOT holds: every backup with its manifest, and what is wrong with the rest
(temp files of crashed runs, files without a manifest, manifests without a file)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from maintenance.backup import layout, manifest
from maintenance.backup.layout import Tier
from maintenance.backup.manifest import Level, Manifest, Verification
from maintenance.errors import BadInput


class BackupStatus(StrEnum):
    """What is known of a backup, stored by value (``maint backups list --json`` and
    retention's decisions print these strings)."""

    BROKEN = "broken"  # cannot be trusted: see its problem
    CHANGED = "changed: size differs from the manifest"
    UNVERIFIED = "unverified"
    FAILED_CHECKSUM = "failed:checksum"
    FAILED_FULL = "failed:full"
    FAILED_RESTORE = "failed:restore"
    VERIFIED_CHECKSUM = "verified:checksum"
    VERIFIED_FULL = "verified:full"
    VERIFIED_RESTORE = "verified:restore"

    @classmethod
    def failed(cls, level: Level) -> BackupStatus:
        return cls(f"failed:{level}")

    @classmethod
    def verified(cls, level: Level) -> BackupStatus:
        return cls(f"verified:{level}")

    @property
    def word(self) -> str:
        """The status without its level: broken, changed, unverified, failed, verified."""
        return self.value.split(":")[0]


@dataclass(frozen=True)
class Backup:
    """One backup as found on disk."""

    id: str
    tier: Tier
    created_at: datetime
    path: Path
    manifest_path: Path
    size_bytes: int
    manifest: Manifest | None
    problem: str | None = None  # why it cannot be trusted, if it cannot

    @property
    def verification(self) -> Verification | None:
        return self.manifest.verification if self.manifest else None

    @property
    def size_matches(self) -> bool:
        return self.manifest is not None and self.manifest.size_bytes == self.size_bytes

    @property
    def proven_level(self) -> Level | None:
        """The strongest level passed since the last failed verification."""
        return self.manifest.proven_level() if self.manifest else None

    @property
    def verified(self) -> bool:
        """Proven decodable (full) or restorable (restore) since its last failed
        verification, and not visibly changed (its size equals the manifest's)."""
        return bool(
            self.problem is None
            and self.size_matches
            and manifest.level_rank(self.proven_level) >= manifest.level_rank("full")
        )

    @property
    def status(self) -> BackupStatus:
        if self.problem:
            return BackupStatus.BROKEN
        if not self.size_matches:
            return BackupStatus.CHANGED
        v = self.verification
        if v is None:
            return BackupStatus.UNVERIFIED
        if not v.passed:
            return BackupStatus.failed(v.level)
        return BackupStatus.verified(self.proven_level or v.level)


@dataclass
class Inventory:
    backups: list[Backup] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)  # fs.temp names of backup writes
    stray_files: list[Path] = field(default_factory=list)  # neither backup, manifest nor temp

    def of_tier(self, tier: Tier) -> list[Backup]:
        return [b for b in self.backups if b.tier is tier]

    def get(self, backup_id: str) -> Backup:
        layout.parse_id(backup_id)
        for b in self.backups:
            if b.id == backup_id:
                return b
        raise BadInput(f"no backup {backup_id!r} (`maint backups list` shows them)")

    def latest(self, tier: Tier | None = None, *, verified: bool = False) -> Backup | None:
        pool = [
            b
            for b in self.backups
            if (tier is None or b.tier is tier)
            and b.problem is None
            and (b.verified or not verified)
        ]
        return max(pool, key=lambda b: b.created_at, default=None)

    def leftovers(self) -> str:
        """How many temp files and strays were found, in the words ``maint backups list``
        and retention's root check both use."""
        return describe_leftovers(len(self.temp_files), len(self.stray_files))

    @property
    def total_bytes(self) -> int:
        """Bytes of every file found (links counted as links, never followed)."""
        files = [b.path for b in self.backups] + [b.manifest_path for b in self.backups]
        files += self.temp_files + self.stray_files
        return sum(p.lstat().st_size for p in files if os.path.lexists(p))


def describe_leftovers(temps: int, strays: int) -> str:
    temp = "temp file" if temps == 1 else "temp files"
    stray = "stray file" if strays == 1 else "stray files"
    return f"{temps} {temp} of interrupted runs, {strays} {stray}"


def scan(root: Path) -> Inventory:
    """Read every tier folder of ``root`` (missing folders are empty tiers).

    Entries are grouped by the id their name carries, in the folder they were found in:
    a backup in the wrong tier's folder, a link leading out of the root, or a name that
    is not an id becomes a backup with a ``problem`` (or a stray file), never a crash
    and never a path to some other file.
    """
    inv = Inventory()
    for tier in Tier:
        folder = layout.tier_dir(root, tier)
        if not folder.is_dir():
            continue
        groups: dict[str, dict[str, Path]] = {}
        for entry in sorted(folder.iterdir()):
            name = entry.name
            if layout.temp_backup_id(name) is not None:
                inv.temp_files.append(entry)  # of a backup or manifest write (layout's format)
            elif name.endswith(layout.DUMP_SUFFIX):
                groups.setdefault(name.removesuffix(layout.DUMP_SUFFIX), {})["dump"] = entry
            elif name.endswith(layout.MANIFEST_SUFFIX):
                groups.setdefault(name.removesuffix(layout.MANIFEST_SUFFIX), {})["manifest"] = entry
            else:
                inv.stray_files.append(entry)
        for backup_id, files in sorted(groups.items()):
            loaded = _load(root, tier, folder, backup_id, files)
            if loaded is None:
                inv.stray_files.extend(files.values())
            else:
                inv.backups.append(loaded)
    inv.backups.sort(key=lambda b: b.created_at)
    return inv


def _load(
    root: Path, tier: Tier, folder: Path, backup_id: str, files: dict[str, Path]
) -> Backup | None:
    try:
        id_tier, created = layout.parse_id(backup_id)
    except BadInput:
        return None  # not a backup's name: the files are strays
    dump = folder / f"{backup_id}{layout.DUMP_SUFFIX}"  # as found, when found
    man = folder / f"{backup_id}{layout.MANIFEST_SUFFIX}"
    problem = None
    data: Manifest | None = None
    for path in (dump, man):
        if path.is_symlink():
            problem = f"{path.name} is a symbolic link: backups are regular files"
        try:
            layout.inside(root, path)
        except BadInput as exc:
            problem = str(exc)
    if problem is None and id_tier is not tier:
        problem = f"a {id_tier.value} backup in the {tier.value} folder"
    if problem is None and "dump" not in files:
        problem = "manifest without its backup file (the run died before the final rename)"
    if problem is None:
        try:
            data = manifest.read(man)
        except BadInput as exc:
            problem = f"backup file without a readable manifest: {exc}"
        else:
            if data.id != backup_id:
                problem = f"its manifest describes {data.id!r}"
    size = dump.lstat().st_size if "dump" in files else 0
    return Backup(backup_id, tier, created, dump, man, size, data, problem)
