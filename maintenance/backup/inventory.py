"""What BACKUP_ROOT holds: every backup with its manifest, and what is wrong with the rest
(temp files of crashed runs, files without a manifest, manifests without a file)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from maintenance.backup import layout, manifest
from maintenance.backup.layout import Tier
from maintenance.errors import BadInput


@dataclass(frozen=True)
class Backup:
    """One backup as found on disk."""

    id: str
    tier: Tier
    created_at: datetime
    path: Path
    manifest_path: Path
    size_bytes: int
    manifest: dict[str, Any] | None
    problem: str | None = None  # why it cannot be trusted, if it cannot

    @property
    def verification(self) -> dict[str, Any] | None:
        return (self.manifest or {}).get("verification")

    @property
    def size_matches(self) -> bool:
        return bool(self.manifest) and self.manifest.get("size_bytes") == self.size_bytes  # type: ignore[union-attr]

    @property
    def proven_level(self) -> str | None:
        """The strongest level passed since the last failed verification (a restore
        proven on Sunday, then Monday's checksum: still proven restorable)."""
        history = (self.manifest or {}).get("verifications") or []
        if not history and self.verification:
            history = [self.verification]
        best: str | None = None
        for entry in history:
            if not entry.get("passed"):
                best = None
            elif manifest.level_rank(entry.get("level")) > manifest.level_rank(best):
                best = entry.get("level")
        return best

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
    def status(self) -> str:
        if self.problem:
            return "broken"
        if not self.size_matches:
            return "changed: size differs from the manifest"
        v = self.verification
        if not v:
            return "unverified"
        if not v.get("passed"):
            return f"failed:{v['level']}"
        return f"verified:{self.proven_level}"


@dataclass
class Inventory:
    backups: list[Backup] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)  # named by layout.temp_path
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
    dump = files.get("dump", folder / f"{backup_id}{layout.DUMP_SUFFIX}")
    man = files.get("manifest", folder / f"{backup_id}{layout.MANIFEST_SUFFIX}")
    problem = None
    data: dict[str, Any] | None = None
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
            if data.get("id") != backup_id:
                problem = f"its manifest describes {data.get('id')!r}"
    size = dump.lstat().st_size if "dump" in files else 0
    return Backup(backup_id, tier, created, dump, man, size, data, problem)
