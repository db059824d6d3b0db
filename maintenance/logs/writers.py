"""Which files some process holds open for writing, from ``/proc/*/fd``.

A file is matched by (device, inode), not by path: a process in another mount namespace
(a container sharing the log volume) sees another path for the same file. A descriptor
counts as a writer when its ``/proc/PID/fdinfo`` flags say ``O_WRONLY`` or ``O_RDWR``.

A process whose descriptors cannot be read (another user's, without root) makes the
answer uncertain: :attr:`Writers.uncertain` counts them, and callers treat every file as
possibly open (an empty log is then not deleted, a rotated one not compressed).
Processes in another PID namespace cannot be seen at all: the log worker runs on the
host that writes the logs, or in the writers' PID namespace (docs/logs.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_WRITE = os.O_WRONLY | os.O_RDWR


@dataclass
class Writers:
    """Open-for-write files among those asked about: key -> pids."""

    open: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    uncertain: int = 0  # processes whose descriptors could not be read

    def writing(self, key: tuple[int, int]) -> list[int]:
        return self.open.get(key, [])

    def may_write(self, key: tuple[int, int]) -> bool:
        return bool(self.open.get(key)) or self.uncertain > 0


def scan(keys: Iterable[tuple[int, int]], proc: Path = Path("/proc")) -> Writers:
    """Which of ``keys`` ((st_dev, st_ino) pairs) some process has open for writing."""
    wanted = set(keys)
    out = Writers()
    if not wanted:
        return out
    try:
        pids = [int(p) for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        out.uncertain = 1
        return out
    for pid in pids:
        fd_dir = proc / str(pid) / "fd"
        try:
            fds = os.listdir(fd_dir)
        except FileNotFoundError:
            continue  # ended meanwhile
        except PermissionError:
            out.uncertain += 1
            continue
        except OSError:
            continue
        for fd in fds:
            try:
                st = os.stat(fd_dir / fd)  # follows the magic link to the open file itself
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key not in wanted or not _writes(proc / str(pid) / "fdinfo" / fd):
                continue
            out.open.setdefault(key, []).append(pid)
    return out


def _writes(fdinfo: Path) -> bool:
    try:
        for line in fdinfo.read_text().splitlines():
            if line.startswith("flags:"):
                return bool(int(line.split()[1], 8) & _WRITE)
    except (OSError, ValueError, IndexError):
        return True  # unreadable: assume the worst
    return True
