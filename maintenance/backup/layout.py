"""Where backups live and what they are called.

``BACKUP_ROOT/<tier>/<id>.dump.zst`` with ``<id>.manifest.json`` beside it, where
``<id>`` is ``<tier>-<UTC timestamp>`` (``daily-20261127T230000Z``). Folders are 0700,
files 0600, whatever the umask; files are written by the one atomic writer
(:mod:`maintenance.fs.atomic`) and deleted by the one deleter (:mod:`maintenance.fs.delete`).
Nothing is ever written or deleted outside the configured root: every path is built
from a validated id and checked to resolve inside it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from maintenance.errors import BadInput
from maintenance.fs import atomic, temp


class Tier(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


DUMP_SUFFIX = ".dump.zst"
MANIFEST_SUFFIX = ".manifest.json"
#: Backup files and folders are private: the atomic writer's modes.
DIR_MODE = atomic.DIR_MODE
FILE_MODE = atomic.FILE_MODE

_ID = re.compile(r"^(?P<tier>daily|weekly|monthly)-(?P<ts>[0-9]{8}T[0-9]{6}Z)$")
_TS_FORMAT = "%Y%m%dT%H%M%SZ"


def make_id(tier: Tier, moment: datetime) -> str:
    return f"{tier.value}-{moment.astimezone(UTC).strftime(_TS_FORMAT)}"


def parse_id(backup_id: str) -> tuple[Tier, datetime]:
    """(tier, UTC time) of a backup id; BadInput for anything else (``../x``, ``/etc``)."""
    match = _ID.match(backup_id or "")
    moment = _moment(match.group("ts")) if match else None
    if match is None or moment is None:
        raise BadInput(
            f"backup id {backup_id!r} is not valid: ids look like daily-20261127T230000Z "
            "(`maint backups list` shows them)"
        )
    return Tier(match.group("tier")), moment


def _moment(stamp: str) -> datetime | None:
    """The UTC time of a ``20261127T230000Z`` stamp; None if no such time (month 13)."""
    try:
        return datetime.strptime(stamp, _TS_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


#: Restore's "previous state" dumps: ``BACKUP_ROOT/forensics/<database>-<UTC time>.dump.zst``
#: with ``<same>.manifest.json`` (the record of what was dumped) beside it.
FORENSICS_DIR = "forensics"
# a database name as pg.check_dbname allows it (no '-'), so the split is unambiguous
_FORENSIC = re.compile(r"^(?P<db>[a-z_][a-z0-9_]{0,62})-(?P<ts>[0-9]{8}T[0-9]{6}Z)$")


def forensic_name(database: str, moment: datetime) -> str:
    """The name (without suffix) of the forensic dump of ``database`` taken at ``moment``."""
    name = f"{database}-{moment.astimezone(UTC).strftime(_TS_FORMAT)}"
    parse_forensic_name(name)
    return name


def parse_forensic_name(name: str) -> tuple[str, datetime]:
    """(database, UTC time) of a forensic dump's name; BadInput for anything else."""
    match = _FORENSIC.match(name or "")
    moment = _moment(match.group("ts")) if match else None
    if match is None or moment is None:
        raise BadInput(
            f"{name!r} is not a forensic dump's name: they look like "
            "residency_scheduler-20261127T031502Z (`maint backups list --forensics`)"
        )
    return match.group("db"), moment


def forensics_dir(root: Path) -> Path:
    return root / FORENSICS_DIR


def check_ref(value: str) -> str:
    """A task parameter naming a backup: ``latest`` or a valid id (never a path)."""
    if value != "latest":
        try:
            parse_id(value)
        except BadInput as exc:
            raise ValueError(str(exc)) from None
    return value


#: A backup id or ``latest``, validated when task parameters are parsed: ``../x`` or an
#: absolute path is a ParamError before the task touches anything.
BackupRef = Annotated[str, AfterValidator(check_ref)]


def inside(root: Path, path: Path) -> Path:
    """``path`` itself (not its resolution: deleting it never touches a link's target),
    if it and whatever it resolves to lie inside ``root``; BadInput otherwise."""
    real_root = root.resolve()
    for candidate in (path.resolve(), path.parent.resolve() / path.name):
        if candidate != real_root and real_root not in candidate.parents:
            raise BadInput(f"{path} is outside the backup root {root}: refused")
    return path


def tier_dir(root: Path, tier: Tier) -> Path:
    return root / tier.value


def dump_path(root: Path, backup_id: str) -> Path:
    tier, _ = parse_id(backup_id)
    return inside(root, tier_dir(root, tier) / f"{backup_id}{DUMP_SUFFIX}")


def manifest_path(root: Path, backup_id: str) -> Path:
    tier, _ = parse_id(backup_id)
    return inside(root, tier_dir(root, tier) / f"{backup_id}{MANIFEST_SUFFIX}")


def temp_backup_id(name: str) -> str | None:
    """The backup id of the temp file of a backup's dump or manifest write
    (``.<id>.dump.zst.tmp-<pid>-<hex>``, :mod:`maintenance.fs.temp`'s one format), or
    None if ``name`` is not one."""
    final = temp.temp_target(name)
    if final is None:
        return None
    for suffix in (DUMP_SUFFIX, MANIFEST_SUFFIX):
        if final.endswith(suffix):
            backup_id = final.removesuffix(suffix)
            try:
                parse_id(backup_id)
            except BadInput:
                return None
            return backup_id
    return None
