"""The folder lock: ``flock`` on a folder, shared by readers that must not see a file
deleted under them (a backup being verified), exclusive for whoever changes the folder's
files (a manifest update, :mod:`.delete`). On the folder, not on a file: files in it are
replaced by rename (which would drop a lock on them) and deleted (which would leave a
lock file behind)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from maintenance import clock
from maintenance.errors import Busy

_POLL_S = 0.05


__all__ = ["Busy", "folder_lock"]


@contextlib.contextmanager
def folder_lock(
    folder: Path | int, *, shared: bool = False, wait_s: float | None = None
) -> Iterator[None]:
    """Hold the lock of ``folder`` (a path, or a descriptor the caller keeps open).

    ``wait_s`` None waits as long as it takes; otherwise :class:`Busy` once it has
    waited that long. Never take it exclusively while holding it shared in the same
    process: that waits forever (or until ``wait_s``).
    """
    fd = folder if isinstance(folder, int) else os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _acquire(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX, wait_s, folder)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        if not isinstance(folder, int):
            os.close(fd)


def _acquire(fd: int, mode: int, wait_s: float | None, folder: Path | int) -> None:
    if wait_s is None:
        fcntl.flock(fd, mode)
        return
    deadline = clock.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if clock.monotonic() >= deadline:
                what = "its folder" if isinstance(folder, int) else str(folder)
                raise Busy(
                    f"the lock of {what} stayed held for {wait_s}s (a reader or an update "
                    "in progress)"
                ) from None
            time.sleep(_POLL_S)
