"""Where backups live, what they are called, and how files are written safely.

``BACKUP_ROOT/<tier>/<id>.dump.zst`` with ``<id>.manifest.json`` beside it, where
``<id>`` is ``<tier>-<UTC timestamp>`` (``daily-20261127T230000Z``). Folders are 0700,
files 0600, whatever the umask. A file appears under its final name only complete:
it is written as a hidden temp name in the same folder, fsynced, renamed, and the
folder fsynced. Nothing is ever written or deleted outside the configured root:
every path is built from a validated id and checked to resolve inside it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

from pydantic import AfterValidator

from maintenance.errors import BadInput


class Tier(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


DUMP_SUFFIX = ".dump.zst"
MANIFEST_SUFFIX = ".manifest.json"
TEMP_MARK = ".tmp-"
DIR_MODE = 0o700
FILE_MODE = 0o600

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


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700 and make sure it still is."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


#: The one temp-name format, ``.<final name>.tmp-<pid>-<8 hex>``: :func:`temp_path` makes
#: it, :func:`temp_target` reads it. Every writer of a temp file and everything that
#: counts or removes leftovers (inventory, ``maint backups list``, retention, off-site,
#: archive) goes through these two, so they cannot disagree about what a leftover is.
_TEMP_NAME = re.compile(
    r"^\.(?P<final>[^/]+?)" + re.escape(TEMP_MARK) + r"(?P<pid>[0-9]+)-(?P<rand>[0-9a-f]{8})$"
)


def temp_path(final: Path) -> Path:
    """A hidden, unique temp name beside ``final`` (same folder, so the rename is atomic).
    Random as well as the pid: container pids repeat after a crash."""
    return final.with_name(f".{final.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}")


def temp_target(name: str) -> str | None:
    """The final name a temp file named ``name`` was being written for (what
    :func:`temp_path` put in it), or None if ``name`` is not such a temp name."""
    match = _TEMP_NAME.match(name)
    return match.group("final") if match else None


def is_temp(path: Path) -> bool:
    return temp_target(path.name) is not None


def temp_backup_id(name: str) -> str | None:
    """The backup id of the temp file of a backup's dump or manifest write
    (``.<id>.dump.zst.tmp-<pid>-<hex>``), or None if ``name`` is not one."""
    final = temp_target(name)
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


def fsync_dir(path: Path) -> None:
    """fsync a folder after a rename, so the rename survives a power cut. Tolerated where
    the filesystem cannot (some NFS and FUSE mounts answer EINVAL)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF):
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(final: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Write ``final`` atomically: temp file (0600) beside it, fsync, rename, fsync folder.

    If the body raises, the temp file is removed and ``final`` is untouched.
    """
    tmp = temp_path(final)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, final)
        fsync_dir(final.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_json(final: Path, data: dict[str, Any]) -> None:
    with atomic_file(final, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")
