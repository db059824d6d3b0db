"""The one atomic writer: a file appears under its final name only complete.

It is written under a temp name (:func:`.temp.temp_path`) in the same folder, private
(0600), fsynced, renamed over (or, with ``replace=False``, hard-linked to) its final
name, and the folder is fsynced so the rename survives a power cut. If the writer fails,
the temp file is discarded and the final name is untouched. Folders made here are 0700,
whatever the umask.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

from maintenance.errors import BadInput
from maintenance.fs import delete, temp

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create ``path`` as 0700 and make sure it still is. Missing parents are created
    0700 too (``mkdir(parents=True)`` would make them 0755 under the usual umask: a
    first report would leave the backup root itself readable); existing ones are left
    as they are."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True, mode=DIR_MODE)
        os.chmod(folder, DIR_MODE)
    path.mkdir(exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


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
def atomic_write(
    final: Path, mode: Literal["wb", "w"] = "wb", *, replace: bool = True
) -> Iterator[IO[Any]]:
    """Write ``final`` whole or not at all (see the module's docstring).

    With ``replace=False`` an existing ``final`` is never overwritten (hard link, so even
    a racing writer cannot be clobbered): BadInput if it exists.
    """
    if not replace and (final.exists() or final.is_symlink()):
        raise BadInput(f"{final} already exists: refusing to overwrite it")
    tmp = temp.temp_path(final)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, mode) as handle:
            os.fchmod(handle.fileno(), FILE_MODE)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, final)
        else:
            _link_no_clobber(tmp, final)
        fsync_dir(final.parent)
    except BaseException:
        delete.discard(tmp)
        raise


def write_bytes(final: Path, data: bytes, *, replace: bool = True) -> None:
    with atomic_write(final, replace=replace) as handle:
        handle.write(data)


def commit(tmp: Path, final: Path) -> None:
    """Give a finished temp file that another writer produced (pg_dump's output) its
    final name: rename, then fsync the folder. ``tmp`` must be a temp name of ``final``."""
    if tmp.parent != final.parent or temp.temp_target(tmp.name) != final.name:
        raise ValueError(f"{tmp.name} is not a temp name of {final}")
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, final)
    fsync_dir(final.parent)


def _link_no_clobber(tmp: Path, final: Path) -> None:
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise BadInput(f"{final} already exists: refusing to overwrite it") from None
    except OSError:  # a filesystem without hard links: check, then rename
        if final.exists():
            raise BadInput(f"{final} already exists: refusing to overwrite it") from None
        os.rename(tmp, final)
        return
    delete.discard(tmp)  # the final name holds the data now
