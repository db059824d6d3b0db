"""The log tasks' own small state, and the lock that keeps two of them apart on a host.

Both live in ``MAINT_LOG_ROOT/.maint-logs/`` (0700; never a log, never rotated):

* ``state.json`` (0600, written whole by :func:`maintenance.fs.atomic.atomic_write`):
  when each log was last rotated (logrotate keeps the same in its status file), and
  where the previous ``logs.report`` stopped reading each live log (device, inode,
  offset, a hash of the first bytes), so the next report counts only newer lines;
* ``lock``: ``flock``-ed for the whole of a ``logs.rotate``, ``logs.cleanup`` or
  ``logs.report``. It is a local lock on purpose: logs belong to their host, and two
  hosts rotating at the same minute must not exclude each other (a PostgreSQL advisory
  lock would be one name for every host). It dies with its process.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from maintenance.errors import RunSkipped
from maintenance.fs import atomic, delete
from maintenance.logs.files import LogRoot
from maintenance.logs.inventory import STATE_DIR

STATE_FILE = "state.json"
LOCK_FILE = "lock"
VERSION = 2


@dataclass
class Position:
    """Where the previous report stopped in one file of a log (the live one, or a
    rotated one it read whole)."""

    dev: int
    ino: int
    offset: int
    head: str  # SHA-256 of the file's first min(offset, HEAD_BYTES) bytes

    def to_dict(self) -> dict[str, Any]:
        return {"dev": self.dev, "ino": self.ino, "offset": self.offset, "head": self.head}


@dataclass
class State:
    rotated: dict[str, datetime] = field(default_factory=dict)
    report_at: datetime | None = None
    positions: dict[str, list[Position]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "rotated": {k: v.isoformat() for k, v in sorted(self.rotated.items())},
            "report_at": self.report_at.isoformat() if self.report_at else None,
            "positions": {k: [p.to_dict() for p in ps] for k, ps in sorted(self.positions.items())},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> State:
        out = cls()
        for k, v in (data.get("rotated") or {}).items():
            out.rotated[str(k)] = datetime.fromisoformat(v)
        if data.get("report_at"):
            out.report_at = datetime.fromisoformat(data["report_at"])
        for k, ps in (data.get("positions") or {}).items():
            out.positions[str(k)] = [
                Position(int(p["dev"]), int(p["ino"]), int(p["offset"]), str(p["head"])) for p in ps
            ]
        return out


def load(root: LogRoot) -> tuple[State, str | None]:
    """The state, and a problem if it could not be read (then an empty state: rotation
    goes by the day again, the report counts from the start of the live logs)."""
    folder = root.path / STATE_DIR
    path = folder / STATE_FILE
    problem = delete.folder_problem(folder)
    if problem:
        return State(), f"{folder} is {problem}: not read"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            data = json.loads(handle.read())
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return State(), f"{path}: not a state of this version; started afresh"
        return State.from_dict(data), None
    except FileNotFoundError:
        return State(), None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return State(), f"{path}: unreadable ({exc}); started afresh"


def save(root: LogRoot, state: State) -> None:
    folder = root.subdir(STATE_DIR)
    data = json.dumps(state.to_dict(), indent=2, sort_keys=True).encode() + b"\n"
    atomic.write_bytes(folder / STATE_FILE, data)


@contextlib.contextmanager
def host_lock(root: LogRoot, task: str) -> Iterator[None]:
    """Hold this host's log lock for ``task``; RunSkipped if another log task holds it."""
    folder = root.subdir(STATE_DIR)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another log task"
            raise RunSkipped(
                f"{holder} holds the log lock of {root.path} on this host: not run"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{task} pid {os.getpid()}\n".encode(), 0)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
