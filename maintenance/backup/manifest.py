"""The manifest beside every backup, as a typed model: what it is, how it was made, what
it contains, and how it was last proven (verifications, drills, off-site copies,
archives). Forensic dumps carry a smaller record of the same kind (:class:`ForensicRecord`).

This module is the only place that reads or writes these files: everyone else gets a
frozen :class:`Manifest` and reads attributes. ``format_version`` says which format a
file is in: this code reads version 1 (a file without the field, as forensic records
were first written, is version 1) and refuses any other with an error naming it. Fields
this code does not know are kept as they are when a manifest is rewritten: nothing
recorded is lost. Written atomically; updated under the folder lock taken exclusively,
so two updates never lose each other's entry and no deletion happens meanwhile.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    ValidationError,
    field_validator,
)

from maintenance.backup.layout import Tier
from maintenance.errors import BadInput
from maintenance.fs import atomic
from maintenance.fs.lock import folder_lock

FORMAT_VERSION = 1

Level = Literal["checksum", "full", "restore"]
#: Verification levels, weakest first.
LEVELS: tuple[Level, ...] = ("checksum", "full", "restore")

#: An aware timestamp, stored as Python writes it (``2026-11-27T23:00:00+00:00``).
Moment = Annotated[AwareDatetime, PlainSerializer(lambda m: m.isoformat(), return_type=str)]

#: How many entries of each list a manifest keeps (the last is the latest).
KEEP = 50


_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS, start=1)}


def level_rank(level: str | None) -> int:
    return _RANK.get(level or "", 0)


class Record(BaseModel):
    """A stored JSON object: frozen, unknown fields kept, written as it was read."""

    model_config = ConfigDict(frozen=True, extra="allow")

    def document(self) -> dict[str, Any]:
        """The JSON object as stored: the fields that were read or given, no defaults."""
        return self.model_dump(mode="json", exclude_unset=True)


class Versioned(Record):
    """A stored document with a ``format_version`` (missing: version 1). Each kind of
    document says which version it reads and writes (``FORMAT``) and what it is called
    in errors (``KIND``); any other version is refused with an error naming it."""

    FORMAT: ClassVar[int] = FORMAT_VERSION
    KIND: ClassVar[str] = "backup manifest"

    format_version: int = FORMAT_VERSION

    @field_validator("format_version")
    @classmethod
    def _known(cls, version: int) -> int:
        if version != cls.FORMAT:
            raise ValueError(
                f"format_version {version} is not one this maint reads (it reads "
                f"{cls.FORMAT}): written by a newer version? Upgrade maint to use it"
            )
        return version


class Verification(Record):
    level: Level
    passed: bool
    at: Moment
    run_id: int | None = None
    detail: str = ""
    figures: dict[str, Any] | None = None


class Drill(Record):
    """A ``restore.drill`` of this backup."""

    at: Moment
    passed: bool
    purpose: str
    run_id: int | None = None
    rto_s: float
    rpo_s: float
    load_s: float | None = None
    method: str | None = None


class OffsiteReadback(Record):
    """An off-site copy read back and checked (in the manifest and in the sidecar)."""

    passed: bool
    at: Moment
    run_id: int | None = None
    detail: str = ""
    seconds: float = 0.0


class OffsiteRecord(Record):
    """A ``backup.offsite`` copy of this backup."""

    at: Moment
    run_id: int | None = None
    action: str
    offsite_root: str
    path: str
    encrypted_bytes: int
    encrypted_sha256: str
    format: str
    key_id: str | None = None
    readback: OffsiteReadback


class MemberDigest(Record):
    size_bytes: int
    sha256: str


class ArchiveReadback(Record):
    passed: bool
    problems: tuple[str, ...] = ()


class ArchiveRecord(Record):
    """A ``backup.archive`` tar of this backup."""

    at: Moment
    run_id: int | None = None
    action: str
    path: str
    size_bytes: int
    sha256: str
    members: dict[str, MemberDigest]
    readback: ArchiveReadback


class Compression(Record):
    codec: str
    level: int
    threads: int | None = None


class Counts(Record):
    tables: dict[str, int] = Field(default_factory=dict)  # exact, per table, at backup time
    stats: dict[str, int] = Field(default_factory=dict)  # the db.stats counts


class Manifest(Versioned):
    """A backup's manifest. Only ``id``, ``tier`` and ``size_bytes`` are required: the
    rest is as ``backup.create`` writes it, and missing from hand-made manifests."""

    id: str
    tier: Tier
    size_bytes: int
    sha256: str | None = None
    file: str | None = None
    format: str | None = None
    compression: Compression | None = None
    dump_bytes: int | None = None
    compression_ratio: float | None = None
    database: JsonValue = None  # its name; for people, never decided on
    database_size_bytes: int | None = None
    server_version: str | None = None
    client_version: str | None = None
    started_at: Moment | None = None
    finished_at: Moment | None = None
    duration_s: float | None = None
    dump_duration_s: float | None = None
    tables: tuple[str, ...] = ()
    counts: Counts = Field(default_factory=Counts)
    objects: dict[str, int] | None = None  # indexes, constraints, sequences, views
    expires_at: Moment | None = None
    created_by_run: int | None = None
    verification: Verification | None = None  # the latest
    verifications: tuple[Verification, ...] = ()  # oldest first
    drills: tuple[Drill, ...] = ()
    offsite: tuple[OffsiteRecord, ...] = ()
    archives: tuple[ArchiveRecord, ...] = ()

    def server_major(self, default: int = 15) -> int:
        """The major version of the server the backup came from."""
        head = (self.server_version or "").split(".")[0]
        return int(head) if head.isdigit() else default

    def client_major(self) -> int | None:
        """The major version of the pg_dump that made it (``pg_dump (PostgreSQL) 15.4``)."""
        text = self.client_version or ""
        major = text.split("(PostgreSQL)")[-1].strip().split(".")[0]
        return int(major) if major.isdigit() else None

    def proven_level(self) -> Level | None:
        """The strongest level passed since the last failed verification (a restore
        proven on Sunday, then Monday's checksum: still proven restorable)."""
        history = self.verifications or ((self.verification,) if self.verification else ())
        best: Level | None = None
        for entry in history:
            if not entry.passed:
                best = None
            elif level_rank(entry.level) > level_rank(best):
                best = entry.level
        return best


class ForensicRecord(Versioned):
    """What restore wrote beside a forensic dump of a database it replaced."""

    KIND: ClassVar[str] = "forensic record"

    database: str
    file: str
    size_bytes: int
    sha256: str
    created_at: Moment
    restore_run_id: int | None = None
    server_version: str | None = None


V = TypeVar("V", bound=Versioned)


def parse(raw: bytes | str, where: str) -> Manifest:
    """The manifest in ``raw``; BadInput naming ``where`` and what is wrong."""
    return parse_as(Manifest, raw, where)


def parse_as(model: type[V], raw: bytes | str, where: str) -> V:
    """The document of kind ``model`` in ``raw``; BadInput naming ``where`` and what is
    wrong with it (not JSON, a field missing or of the wrong type, another version)."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'the document'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        raise BadInput(
            f"{where} is not a version-{model.FORMAT} {model.KIND}: {problems}"
        ) from None


def read(path: Path) -> Manifest:
    return read_as(Manifest, path)


def read_forensic(path: Path) -> ForensicRecord:
    return read_as(ForensicRecord, path)


def read_as(model: type[V], path: Path) -> V:
    """The document of kind ``model`` stored at ``path``; BadInput if it cannot be read."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"no {model.KIND} at {path}") from None
    except OSError as exc:
        raise BadInput(f"{model.KIND} {path} is unreadable: {exc}") from None
    return parse_as(model, raw, str(path))


def to_json(record: Record) -> bytes:
    """How a manifest is stored: sorted keys, two-space indent, a final newline; the
    format version always written (a file without it gets it when next rewritten)."""
    doc = record.document()
    if isinstance(record, Versioned):
        doc["format_version"] = record.format_version
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()


def write(path: Path, record: Versioned) -> None:
    """Write a manifest, forensic record or sidecar with the one atomic writer."""
    atomic.write_bytes(path, to_json(record))


def read_document(path: Path) -> dict[str, Any]:
    """The stored JSON object of the manifest at ``path``, checked by the model: for
    tools and tests that look at the file itself. Code reads :func:`read`."""
    return read(path).document()


def write_document(path: Path, data: dict[str, Any]) -> None:
    """Write a manifest given as its JSON object, checked by the model first."""
    write(path, parse(json.dumps(data), str(path)))


@contextlib.contextmanager
def locked(path: Path, *, shared: bool = False) -> Iterator[None]:
    """Lock for a read-modify-write of a manifest (exclusive), or for reading a backup
    that must not be deleted meanwhile (``shared``: the deleter waits for it, then
    retention skips that backup until its next run). The folder lock of the manifest's
    folder (:mod:`maintenance.fs.lock`), the one the deleter takes."""
    with folder_lock(path.parent, shared=shared):
        yield


def record_verification(
    path: Path,
    *,
    level: Level,
    passed: bool,
    at: datetime,
    run_id: int | None,
    detail: str = "",
    figures: dict[str, Any] | None = None,
) -> Manifest:
    """Append a verification to the manifest and set it as the latest; return the manifest."""
    entry = Verification(
        level=level,
        passed=passed,
        at=at,
        run_id=run_id,
        detail=detail,
        **({"figures": figures} if figures else {}),
    )
    with locked(path):
        m = read(path)
        updated = m.model_copy(
            update={"verification": entry, "verifications": (*m.verifications, entry)[-KEEP:]}
        )
        write(path, updated)
    return updated


def record_drill(path: Path, entry: Drill) -> Manifest:
    with locked(path):
        m = read(path)
        return _save(path, m.model_copy(update={"drills": (*m.drills, entry)[-KEEP:]}))


def record_offsite(path: Path, entry: OffsiteRecord) -> Manifest:
    with locked(path):
        m = read(path)
        return _save(path, m.model_copy(update={"offsite": (*m.offsite, entry)[-KEEP:]}))


def record_archive(path: Path, entry: ArchiveRecord) -> Manifest:
    with locked(path):
        m = read(path)
        return _save(path, m.model_copy(update={"archives": (*m.archives, entry)[-KEEP:]}))


def _save(path: Path, m: Manifest) -> Manifest:
    write(path, m)
    return m
