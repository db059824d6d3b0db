"""What the off-site root holds: where each copy's files live, the sidecar that
describes a copy (read and written here only), and a scan of every copy found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar, Final, Literal

from maintenance.backup import layout, manifest
from maintenance.backup.layout import Tier
from maintenance.backup.manifest import Moment, OffsiteReadback, Record, Versioned
from maintenance.errors import BadInput
from maintenance.fs import temp

ENC_SUFFIX = layout.DUMP_SUFFIX + ".enc"
MANIFEST_ENC_SUFFIX = layout.MANIFEST_SUFFIX + ".enc"
SIDECAR_SUFFIX = ".offsite.json"
SIDECAR_KIND: Final = "maint-offsite-copy"
SIDECAR_VERSION = 1
#: Read-backs a sidecar keeps (the last is the latest).
KEEP_READBACKS = 20


# --- the sidecar --------------------------------------------------------------------------


class FileDigest(Record):
    name: str
    size_bytes: int
    sha256: str


class CopyFiles(Record):
    dump: FileDigest
    manifest: FileDigest


class Encryption(Record):
    format: str
    chunk_bytes: int


class SourceVerification(Record):
    """The local backup's verification when it was copied."""

    level: str | None = None
    passed: bool | None = None
    at: Moment | None = None


class Sidecar(Versioned):
    """``<id>.offsite.json``: plain, so retention and checks need no key; only what they
    need (the manifest's other fields travel encrypted)."""

    FORMAT: ClassVar[int] = SIDECAR_VERSION
    KIND: ClassVar[str] = "off-site sidecar"

    format_version: int = SIDECAR_VERSION
    kind: Literal["maint-offsite-copy"] = SIDECAR_KIND
    id: str
    tier: Tier
    created_at: Moment
    size_bytes: int  # of the plaintext backup
    sha256: str  # of the plaintext backup
    manifest_sha256: str  # of the plaintext manifest
    manifest_size_bytes: int
    source_verification: SourceVerification
    encryption: Encryption
    key_id: str
    files: CopyFiles  # the ciphertexts
    copied_at: Moment
    copied_by_run: int | None = None
    readback: OffsiteReadback  # the latest
    readbacks: tuple[OffsiteReadback, ...] = ()

    def read_back(self, entry: OffsiteReadback) -> Sidecar:
        """This sidecar with ``entry`` as its latest read-back."""
        return self.model_copy(
            update={"readback": entry, "readbacks": (*self.readbacks, entry)[-KEEP_READBACKS:]}
        )


def read_sidecar(path: Path) -> Sidecar:
    """The sidecar at ``path``; BadInput saying why it cannot be used."""
    return manifest.read_as(Sidecar, path)


def write_sidecar(path: Path, sidecar: Sidecar) -> None:
    manifest.write(path, sidecar)


# --- where copies live --------------------------------------------------------------------


@dataclass(frozen=True)
class CopyPaths:
    dump: Path
    manifest: Path
    sidecar: Path

    @property
    def all(self) -> tuple[Path, Path, Path]:
        """Dump, manifest, sidecar: the order they are deleted in (the sidecar last, so
        a copy cut short by a crash stays visible as incomplete)."""
        return (self.dump, self.manifest, self.sidecar)


def inside(root: Path, path: Path) -> Path:
    """``path`` itself, if it lies inside the off-site ``root``; BadInput otherwise."""
    try:
        return layout.inside(root, path)
    except BadInput:
        raise BadInput(f"{path} is outside the off-site root {root}: refused") from None


def copy_paths(root: Path, backup_id: str) -> CopyPaths:
    tier, _ = layout.parse_id(backup_id)
    folder = root / tier.value
    return CopyPaths(
        dump=inside(root, folder / f"{backup_id}{ENC_SUFFIX}"),
        manifest=inside(root, folder / f"{backup_id}{MANIFEST_ENC_SUFFIX}"),
        sidecar=inside(root, folder / f"{backup_id}{SIDECAR_SUFFIX}"),
    )


def expected_sha256(src: Path) -> str | None:
    """The plaintext SHA-256 that the sidecar beside an off-site file records for it
    (``maint backups decrypt`` checks it), or None when there is no usable sidecar."""
    for suffix in (ENC_SUFFIX, MANIFEST_ENC_SUFFIX):
        if src.name.endswith(suffix):
            beside = src.with_name(src.name.removesuffix(suffix) + SIDECAR_SUFFIX)
            try:
                sidecar = read_sidecar(beside)
            except BadInput:
                return None
            return sidecar.sha256 if suffix == ENC_SUFFIX else sidecar.manifest_sha256
    return None


# --- what is there ------------------------------------------------------------------------


@dataclass(frozen=True)
class OffsiteCopy:
    """One backup's copy as found in the off-site root."""

    id: str
    tier: Tier
    created_at: datetime
    paths: CopyPaths
    size_bytes: int  # of the encrypted dump
    sidecar: Sidecar | None
    problem: str | None = None

    @property
    def verified(self) -> bool:
        """Counts toward the retention floor: complete, and its last read-back passed."""
        return self.problem is None and self.sidecar is not None and self.sidecar.readback.passed


@dataclass
class OffsiteInventory:
    copies: list[OffsiteCopy]
    temp_files: list[Path]
    stray_files: list[Path]


def scan(root: Path) -> OffsiteInventory:
    """Every copy under ``root``, oldest first, with leftovers of crashed runs."""
    inv = OffsiteInventory([], [], [])
    for tier in Tier:
        folder = root / tier.value
        if not folder.is_dir():
            continue
        ids: set[str] = set()
        for entry in sorted(folder.iterdir()):
            name = entry.name
            if temp.is_temp(entry):
                inv.temp_files.append(entry)
                continue
            for suffix in (ENC_SUFFIX, MANIFEST_ENC_SUFFIX, SIDECAR_SUFFIX):
                if name.endswith(suffix):
                    ids.add(name.removesuffix(suffix))
                    break
            else:
                inv.stray_files.append(entry)
        for backup_id in sorted(ids):
            try:
                id_tier, created = layout.parse_id(backup_id)
            except BadInput:
                inv.stray_files.extend(p for p in folder.glob(f"{backup_id}.*") if p.is_file())
                continue
            if id_tier is not tier:  # not where this suite puts it: not ours to judge
                inv.stray_files.extend(p for p in folder.glob(f"{backup_id}.*") if p.is_file())
                continue
            inv.copies.append(_copy(root, backup_id, id_tier, created))
    inv.copies.sort(key=lambda c: c.created_at)
    return inv


def _copy(root: Path, backup_id: str, tier: Tier, created: datetime) -> OffsiteCopy:
    paths = copy_paths(root, backup_id)
    sidecar: Sidecar | None = None
    problem = None
    if not paths.dump.exists():
        problem = "sidecar without its encrypted backup"
    else:
        try:
            sidecar = read_sidecar(paths.sidecar)
        except BadInput as exc:
            problem = f"encrypted backup without a readable sidecar (an interrupted copy): {exc}"
    size = paths.dump.stat().st_size if paths.dump.exists() else 0
    return OffsiteCopy(backup_id, tier, created, paths, size, sidecar, problem)
