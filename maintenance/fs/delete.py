"""The one deleter. Everything that removes a file (backup retention, archive and
off-site pruning, leftovers of crashed writers, log cleanup) goes through it.

:func:`delete` removes one regular file below a ``root`` and says what it did in a
:class:`Deletion`; :func:`delete_group` removes several files of one folder under one
hold of its lock, in the order given. The rules, for every caller alike:

* the path must lie below ``root`` as written: ``..`` anywhere, the root itself, or a
  path outside it is :class:`Refused`;
* no link is ever followed: the root is opened with ``O_NOFOLLOW`` (a root that is a
  symbolic link is refused), then each folder below it, relative to the one before; the
  file is unlinked relative to its folder. So a link anywhere on the way, even one that
  leads back inside the root, refuses the deletion, and a link itself is never deleted
  either (it is for a person to look at), nor is its target;
* only regular files: folders, sockets, devices are refused;
* under the folder lock (:mod:`.lock`) taken exclusively, waited for at most
  ``LOCK_WAIT_S``: a reader holding it shared (a verification reading a backup) is
  never pulled from under; :class:`~.lock.Busy` if it stays held;
* ``dry_run`` checks all of the above but takes no lock and removes nothing: the
  :class:`Deletion` says what *would* be deleted, and why.

A file already gone is not an error (``existed`` is False): a deleter that runs twice
does the same as once.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maintenance.errors import Refused
from maintenance.fs import temp
from maintenance.fs.lock import Busy, folder_lock
from maintenance.logs_setup import get_logger

log = get_logger("maint.fs.delete")

#: How long a deletion waits for its folder's lock (manifest updates hold it for
#: milliseconds; a verification for as long as it reads).
LOCK_WAIT_S = 10.0

__all__ = [
    "LOCK_WAIT_S",
    "Busy",
    "Deletion",
    "Refused",
    "delete",
    "delete_group",
    "discard",
    "folder_problem",
    "remove_leftovers",
]


@dataclass(frozen=True)
class Deletion:
    """One file deleted, or that would be (``dry_run``), or that was already gone."""

    path: Path  # as given: never its resolution
    relpath: str  # below the root, for reports
    reason: str
    dry_run: bool
    existed: bool = True
    size_bytes: int = 0  # what deleting it frees (0 if it was gone)

    @property
    def deleted(self) -> bool:
        """Whether this call removed the file."""
        return self.existed and not self.dry_run

    def describe(self) -> str:
        if not self.existed:
            return f"{self.relpath}: already gone"
        verb = "would delete" if self.dry_run else "deleted"
        return f"{verb} {self.relpath} ({self.size_bytes} bytes): {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.relpath,
            "reason": self.reason,
            "dry_run": self.dry_run,
            "existed": self.existed,
            "deleted": self.deleted,
            "size_bytes": self.size_bytes,
        }


def delete(
    path: Path, *, root: Path, reason: str, dry_run: bool, lock_wait_s: float | None = None
) -> Deletion:
    """Delete the regular file ``path`` below ``root`` (see the module's rules).

    Raise :class:`Refused` for a path the rules forbid, :class:`~.lock.Busy` if the
    folder's lock stays held; return the :class:`Deletion` otherwise.
    """
    (done,) = delete_group(
        [path], root=root, reason=reason, dry_run=dry_run, lock_wait_s=lock_wait_s
    )
    return done


def delete_group(
    paths: Sequence[Path],
    *,
    root: Path,
    reason: str,
    dry_run: bool,
    unless_present: Sequence[Path] = (),
    lock_wait_s: float | None = None,
) -> list[Deletion]:
    """Delete ``paths`` (all in one folder below ``root``) in the order given, under one
    hold of that folder's lock. Every file is checked before the first is removed, so a
    refusal removes nothing. With ``unless_present``, refuse if any of those (in the same
    folder) exists: "delete this manifest only while its backup file is still missing".
    """
    if not paths:
        return []
    rels = [_below(root, p) for p in [*paths, *unless_present]]
    folder = rels[0].parent
    if any(r.parent != folder for r in rels):
        raise ValueError(f"delete_group: {[str(r) for r in rels]} are not in one folder")
    names = [r.name for r in rels[: len(paths)]]
    absent = [r.name for r in rels[len(paths) :]]
    with _folder(root, folder) as dir_fd:
        if dir_fd is None:  # the folder is gone: so are its files
            return [_gone(p, r, reason, dry_run) for p, r in zip(paths, rels, strict=False)]
        wait = LOCK_WAIT_S if lock_wait_s is None else lock_wait_s
        hold = contextlib.nullcontext() if dry_run else folder_lock(dir_fd, wait_s=wait)
        with hold:
            for name in absent:
                if _lstat(dir_fd, name) is not None:
                    raise Refused(f"{folder / name} exists: refused ({reason})")
            sizes = [_check(dir_fd, folder / name) for name in names]
            out = []
            for path, rel, size in zip(paths, rels, sizes, strict=False):
                existed = size is not None
                if existed and not dry_run:
                    with contextlib.suppress(FileNotFoundError):  # gone meanwhile: fine
                        os.unlink(rel.name, dir_fd=dir_fd)
                    log.info("file.deleted", path=str(path), bytes=size, reason=reason)
                out.append(Deletion(path, str(rel), reason, dry_run, existed, size or 0))
    return out


def discard(path: Path) -> None:
    """Remove a temp file its own writer gives up on (or has linked into place). Only a
    name in the one temp format (:mod:`.temp`), only a regular file, never a link; a
    missing one is fine. For writers only: everything else deletes with :func:`delete`."""
    if not temp.is_temp(path):
        raise Refused(f"{path} is not a temp file: a writer discards only its own temp files")
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise Refused(f"{path} is {_what(st)}: refused")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def remove_leftovers(final: Path, *, root: Path, dry_run: bool = False) -> list[Deletion]:
    """Delete the temp files interrupted writers of ``final`` left beside it. Only for
    callers that exclude every other writer of ``final`` (a run under its task's lock)."""
    return [
        delete(
            p, root=root, reason=f"left by an interrupted write of {final.name}", dry_run=dry_run
        )
        for p in temp.leftovers_of(final)
    ]


# --- the rules -------------------------------------------------------------------------


def _below(root: Path, path: Path) -> Path:
    """``path`` relative to ``root``, as written; Refused unless it lies below it."""
    if ".." in path.parts or ".." in root.parts:
        raise Refused(f"{path}: a path with '..' is never deleted: refused")
    try:
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
    except ValueError:
        raise Refused(f"{path} is outside the root {root}: refused") from None
    if not rel.parts:
        raise Refused(f"{path} is the root itself: refused")
    return rel


@contextlib.contextmanager
def _folder(root: Path, folder: Path) -> Iterator[int | None]:
    """A descriptor of ``root / folder``, walked without following any link; None if a
    folder on the way does not exist."""
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        fd = os.open(root, flags)
    except FileNotFoundError:
        yield None
        return
    except OSError as exc:  # ELOOP, ENOTDIR: a link, or not a folder
        raise Refused(f"the root {root} is {_what_path(root)}: refused ({exc.strerror})") from None
    try:
        walked = Path()
        for part in folder.parts:
            walked /= part
            try:
                nfd = os.open(part, flags, dir_fd=fd)
            except FileNotFoundError:
                yield None
                return
            except OSError as exc:
                what = _what_path(root / walked)
                raise Refused(
                    f"{walked} is {what}: never followed, refused ({exc.strerror})"
                ) from None
            os.close(fd)
            fd = nfd
        yield fd
    finally:
        os.close(fd)


def _check(dir_fd: int, rel: Path) -> int | None:
    """Size of the regular file ``rel.name`` in ``dir_fd``; None if it is not there;
    Refused if it is anything but a regular file."""
    st = _lstat(dir_fd, rel.name)
    if st is None:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise Refused(f"{rel} is {_what(st)}: never followed, never deleted")
    return st.st_size


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _what(st: os.stat_result) -> str:
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link"
    return "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"


def folder_problem(path: Path) -> str | None:
    """Why ``path`` is not a plain folder ("a symbolic link to X", "not a folder"), or
    None when it is one or does not exist. Read with ``lstat``: never followed."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return None
    if stat.S_ISLNK(st.st_mode):
        return f"a symbolic link to {os.readlink(path)}"
    return "not a folder"


def _what_path(path: Path) -> str:
    return folder_problem(path) or "not a folder"


def _gone(path: Path, rel: Path, reason: str, dry_run: bool) -> Deletion:
    return Deletion(path, str(rel), reason, dry_run, existed=False)
