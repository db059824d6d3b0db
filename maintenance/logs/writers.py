"""Which files some process holds open for writing, from ``/proc/*/fd``.

A file is matched by (device, inode), not by path: a process in another mount namespace
sees another path for the same file. A descriptor counts as a writer when its
``/proc/PID/fdinfo`` flags say ``O_WRONLY`` or ``O_RDWR``.

Two limits, both made explicit in the answer:

* a process whose descriptors cannot be read (another user's, without root) that runs
  as the file's owner (or whose user cannot be read) makes that file *unknown*;
* processes in another PID namespace (the application in a container of its own) cannot
  be seen at all. :func:`can_see_writers` tells: MAINT_LOG_WRITERS_VISIBLE, or, unset,
  whether this process sees the host's init (``/proc/1`` is systemd or init).

Callers decide with both (docs/logs.md): an empty live log is deleted only when the
writers can be seen and none holds it, known or unknown; a rotated file is not
compressed while a process is seen writing it or it is unknown.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from maintenance.logs.inventory import Entry

_WRITE = os.O_WRONLY | os.O_RDWR
_INITS = frozenset({"systemd", "init", "upstart", "runit", "openrc-init", "s6-svscan"})

Key = tuple[int, int]


@dataclass
class Writers:
    """What was found about the files asked about."""

    open: dict[Key, list[int]] = field(default_factory=dict)  # key -> writing pids
    unknown: dict[Key, int] = field(default_factory=dict)  # key -> uninspectable processes
    visible: bool = True  # whether the writers' processes can be seen at all

    def writing(self, key: Key) -> list[int]:
        return self.open.get(key, [])

    def unknown_for(self, key: Key) -> int:
        return self.unknown.get(key, 0)


def can_see_writers(setting: bool | None, proc: Path = Path("/proc")) -> bool:
    """MAINT_LOG_WRITERS_VISIBLE if set; otherwise whether PID 1 is the host's init (a
    container's PID 1 is its own entry point, and the application's processes in other
    containers are invisible from it)."""
    if setting is not None:
        return setting
    try:
        return (proc / "1" / "comm").read_text().strip() in _INITS
    except OSError:
        return False


def scan(entries: Iterable[Entry], *, visible: bool = True, proc: Path = Path("/proc")) -> Writers:
    """Which of ``entries`` some process has open for writing (see the module docstring)."""
    wanted: dict[Key, Entry] = {e.key: e for e in entries}
    out = Writers(visible=visible)
    if not wanted:
        return out
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        out.unknown = {k: 1 for k in wanted}
        return out
    for pid in pids:
        fd_dir = proc / pid / "fd"
        try:
            fds = os.listdir(fd_dir)
        except FileNotFoundError:
            continue  # ended meanwhile
        except PermissionError:
            uid = _uid(proc / pid)
            for key, e in wanted.items():
                if uid is None or uid == e.uid:
                    out.unknown[key] = out.unknown.get(key, 0) + 1
            continue
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(fd_dir / fd)  # follows the magic link to the open file itself
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key in wanted and _writes(proc / pid / "fdinfo" / fd):
                out.open.setdefault(key, []).append(int(pid))
    return out


def _uid(pid_dir: Path) -> int | None:
    """The effective uid of a process (``/proc/PID/status`` is readable by anyone)."""
    try:
        for line in (pid_dir / "status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[2])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _writes(fdinfo: Path) -> bool:
    try:
        for line in fdinfo.read_text().splitlines():
            if line.startswith("flags:"):
                return bool(int(line.split()[1], 8) & _WRITE)
    except (OSError, ValueError, IndexError):
        return True  # unreadable: assume the worst
    return True
