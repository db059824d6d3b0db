"""MAINT_LOG_ROOT, reached without ever following a link.

:class:`LogRoot` opens the root with ``O_NOFOLLOW`` (a root that is a symbolic link is
refused) and does everything else relative to that descriptor, by plain names (no
``/``): ``lstat`` for the listing, ``O_NOFOLLOW`` to read a file, a no-clobber rename
for rotation, ``O_EXCL | O_NOFOLLOW`` to create a new live log. So a log replaced by a
link between the listing and the act is refused, and nothing outside the root is read
or written. Deleting goes through :mod:`maintenance.fs.delete`; whole files (``.gz``,
archives, the state) through :mod:`maintenance.fs.atomic`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from maintenance.errors import BadInput, Refused
from maintenance.fs import atomic, delete
from maintenance.logs.inventory import Entry

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class LogRoot:
    """An open MAINT_LOG_ROOT (a context manager)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        problem = delete.folder_problem(path)
        if problem:
            raise Refused(f"MAINT_LOG_ROOT {path} is {problem}: refused (give the real folder)")
        try:
            self.fd = os.open(path, _DIR_FLAGS)
        except FileNotFoundError:
            raise BadInput(f"MAINT_LOG_ROOT {path} does not exist") from None

    def __enter__(self) -> LogRoot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    # --- reading --------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every entry of the root, ``lstat``-ed (a link is described, never followed)."""
        out = []
        for name in os.listdir(self.fd):
            st = self.lstat(name)
            if st is None:
                continue  # gone meanwhile
            target = None
            if stat.S_ISLNK(st.st_mode):
                with contextlib.suppress(OSError):
                    target = os.readlink(name, dir_fd=self.fd)
            out.append(Entry.of(name, st, target))
        return out

    def lstat(self, name: str) -> os.stat_result | None:
        _plain(name)
        try:
            return os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return None

    @contextlib.contextmanager
    def open_read(self, name: str, expect: Entry | None = None) -> Iterator[IO[bytes]]:
        """Read the regular file ``name``; Refused if it is a link or not a regular file,
        or (``expect``) no longer the file the listing saw."""
        _plain(name)
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=self.fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise Refused(f"{name} is a symbolic link: never followed") from None
            raise
        handle = os.fdopen(fd, "rb")
        with handle:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise Refused(f"{name} is not a regular file: not read")
            if expect is not None and (st.st_dev, st.st_ino) != expect.key:
                raise Refused(f"{name} was replaced since it was listed: left alone")
            yield handle

    # --- changing -------------------------------------------------------------------------

    def rename(self, src: str, dst: str) -> None:
        """Rename ``src`` to ``dst`` in the root; never over an existing ``dst``, never a
        link (the rotation of a live log or the shift of a numbered one)."""
        st = self.lstat(src)
        if st is None:
            raise FileNotFoundError(errno.ENOENT, "no such file", src)
        if not stat.S_ISREG(st.st_mode):
            raise Refused(f"{src} is not a regular file: not renamed")
        if self.lstat(dst) is not None:
            raise Refused(f"{dst} already exists: {src} not renamed over it")
        os.rename(src, dst, src_dir_fd=self.fd, dst_dir_fd=self.fd)

    def create(self, name: str, mode: int, uid: int, gid: int) -> bool:
        """logrotate's ``create``: a new, empty ``name`` with ``mode``, owner and group.
        If a writer already made it (WatchedFileHandler reopens at once), its mode and
        owner are set instead. Return whether this call created it."""
        _plain(name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_NONBLOCK
        created = True
        try:
            fd = os.open(name, flags, 0o600, dir_fd=self.fd)
        except FileExistsError:
            created = False
            try:
                fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=self.fd)
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise Refused(f"{name} became a symbolic link: left alone") from None
                raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise Refused(f"{name} is not a regular file: left alone")
            with contextlib.suppress(PermissionError):  # not root: the owner stays ours
                os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)
        finally:
            os.close(fd)
        return created

    def subdir(self, name: str) -> Path:
        """``root/name`` as a private folder (0700), refused if it is a link or a file."""
        path = self.path / _plain(name)
        problem = delete.folder_problem(path)
        if problem:
            raise Refused(f"{path} is {problem}: refused")
        return atomic.private_dir(path)

    def fsync(self) -> None:
        atomic.fsync_dir(self.path)


def _plain(name: str) -> str:
    if not name or "/" in name or name in (".", ".."):
        raise Refused(f"{name!r} is not a plain file name in MAINT_LOG_ROOT: refused")
    return name


def disk_usage(path: Path) -> int:
    """What ``du -s`` counts under ``path`` (allocated bytes), links not followed."""
    total = 0
    for top, dirs, files in os.walk(path, followlinks=False):
        for name in [*dirs, *files]:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(top, name)).st_blocks * 512
    with contextlib.suppress(OSError):
        total += os.lstat(path).st_blocks * 512
    return total
