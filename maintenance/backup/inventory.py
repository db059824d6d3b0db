"""What BACKUP_ROOT holds: every backup with its manifest, and what is wrong with the rest
(temp files of crashed runs, files without a manifest, manifests without a file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    def verified(self) -> bool:
        """Proven decodable (full) or restorable (restore) by its last verification."""
        v = self.verification
        return bool(
            self.problem is None
            and v
            and v.get("passed")
            and manifest.level_rank(v.get("level")) >= manifest.level_rank("full")
        )

    @property
    def status(self) -> str:
        if self.problem:
            return "broken"
        v = self.verification
        if not v:
            return "unverified"
        return f"verified:{v['level']}" if v.get("passed") else f"failed:{v['level']}"


@dataclass
class Inventory:
    backups: list[Backup] = field(default_factory=list)
    temp_files: list[Path] = field(default_factory=list)
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
            b for b in self.backups
            if (tier is None or b.tier is tier) and b.problem is None and (b.verified or not verified)
        ]
        return max(pool, key=lambda b: b.created_at, default=None)

    @property
    def total_bytes(self) -> int:
        files = [b.path for b in self.backups] + [b.manifest_path for b in self.backups]
        files += self.temp_files
        return sum(p.stat().st_size for p in files if p.exists())


def scan(root: Path) -> Inventory:
    """Read every tier folder of ``root`` (missing folders are empty tiers)."""
    inv = Inventory()
    for tier in Tier:
        folder = layout.tier_dir(root, tier)
        if not folder.is_dir():
            continue
        ids: set[str] = set()
        for entry in sorted(folder.iterdir()):
            name = entry.name
            if layout.is_temp(entry):
                inv.temp_files.append(entry)
            elif name.endswith(layout.DUMP_SUFFIX):
                ids.add(name.removesuffix(layout.DUMP_SUFFIX))
            elif name.endswith(layout.MANIFEST_SUFFIX):
                ids.add(name.removesuffix(layout.MANIFEST_SUFFIX))
            elif not (name.startswith(".") and name.endswith(".lock")):
                inv.stray_files.append(entry)
        for backup_id in sorted(ids):
            inv.backups.append(_load(root, tier, backup_id, inv))
    inv.backups.sort(key=lambda b: b.created_at)
    return inv


def _load(root: Path, tier: Tier, backup_id: str, inv: Inventory) -> Backup:
    try:
        id_tier, created = layout.parse_id(backup_id)
    except BadInput:
        folder = layout.tier_dir(root, tier)
        inv.stray_files.extend(p for p in folder.glob(f"{backup_id}*") if p.is_file())
        return Backup(backup_id, tier, datetime.min.replace(tzinfo=UTC), folder / backup_id,
                      folder / backup_id, 0, None, problem="not a backup id")
    dump = layout.dump_path(root, backup_id)
    man = layout.manifest_path(root, backup_id)
    problem = None
    data: dict[str, Any] | None = None
    if id_tier is not tier:
        problem = f"a {id_tier.value} backup in the {tier.value} folder"
    if not dump.exists():
        problem = "manifest without its backup file (the run died before the final rename)"
    try:
        data = manifest.read(man)
    except BadInput as exc:
        problem = problem or f"backup file without a readable manifest: {exc}"
    size = dump.stat().st_size if dump.exists() else 0
    if data and problem is None and data.get("size_bytes") != size:
        problem = f"size {size} differs from the manifest's {data.get('size_bytes')}"
    return Backup(backup_id, tier, created, dump, man, size, data, problem)
