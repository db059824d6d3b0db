"""The manifest beside every backup: what it is, how it was made, what it contains, and
how it was last proven. Written atomically; updated under an exclusive file lock so two
verifications never lose each other's record."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from maintenance.errors import BadInput
from maintenance.fs import atomic

FORMAT_VERSION = 1

#: Verification levels, weakest first.
LEVELS = ("checksum", "full", "restore")


def level_rank(level: str | None) -> int:
    return LEVELS.index(level) + 1 if level in LEVELS else 0


def server_major(data: dict[str, Any], default: int = 15) -> int:
    """The major version of the server a manifest's backup came from."""
    head = str(data.get("server_version", "")).split(".")[0]
    return int(head) if head.isdigit() else default


def read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"no manifest at {path}") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput(f"manifest {path} is unreadable: {exc}") from None
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise BadInput(f"manifest {path} is not a version-{FORMAT_VERSION} backup manifest")
    return data


def write(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    atomic.write_bytes(path, text.encode())


@contextlib.contextmanager
def locked(path: Path, *, shared: bool = False) -> Iterator[None]:
    """Lock for a read-modify-write of a manifest (exclusive), or for reading a backup
    that must not be deleted meanwhile (``shared``: retention's deletion waits for it,
    then skips that backup until its next run). The lock is taken on the manifest's
    folder (the manifest itself is replaced by rename, which would drop a lock on it),
    so no lock file is left behind when a backup is deleted. Never take it exclusively
    while holding it shared in the same process: that waits forever."""
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def record_verification(
    path: Path,
    *,
    level: str,
    passed: bool,
    at: datetime,
    run_id: int | None,
    detail: str = "",
    figures: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Append a verification to the manifest and set it as the latest; return the manifest."""
    entry = {
        "level": level,
        "passed": passed,
        "at": at.isoformat(),
        "run_id": run_id,
        "detail": detail,
        **({"figures": figures} if figures else {}),
    }
    with locked(path):
        data = read(path)
        data["verification"] = entry
        data.setdefault("verifications", []).append(entry)
        data["verifications"] = data["verifications"][-50:]
        write(path, data)
    return data


def record(path: Path, key: str, entry: dict[str, Any], keep: int = 50) -> dict[str, Any]:
    """Append ``entry`` to the list ``key`` (drills, off-site copies, archives), keeping
    the newest ``keep``; the last item of the list is the latest."""
    with locked(path):
        data = read(path)
        items = data.setdefault(key, [])
        items.append(entry)
        data[key] = items[-keep:]
        write(path, data)
    return data
