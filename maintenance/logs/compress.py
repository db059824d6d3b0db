"""Compress rotated logs: ordinary gzip (level 6, what ``gzip`` does), several files at
once on all cores (zlib and crc32 release the GIL, so threads compress in parallel).

Each file is compressed whole or not at all: the ``.gz`` is written under a temp name,
fsynced and linked into place by :func:`maintenance.fs.atomic.atomic_write` (never over an
existing file), and only then is the plain file deleted, through
:func:`maintenance.fs.delete.delete`. A crash leaves either the plain file alone, or both
(the ``.gz`` complete); the next run finds both, checks the ``.gz`` holds exactly the
plain file's bytes, and only then deletes the plain one. A file written to while it was
being compressed is left plain (the temp file discarded).

The ``.gz`` keeps the plain file's modification time (as ``gzip`` does: ages and the
monthly archive go by it), mode, owner and group.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any, cast

from maintenance.errors import MaintenanceError
from maintenance.fs import atomic, delete
from maintenance.logs.files import LogRoot
from maintenance.logs.plan import Step

LEVEL = 6
CHUNK = 4 << 20


@dataclass(frozen=True)
class Compressed:
    """How compressing one file went."""

    name: str
    to: str
    ok: bool
    plain_bytes: int = 0
    gz_bytes: int = 0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "to": self.to,
            "ok": self.ok,
            "plain_bytes": self.plain_bytes,
            "gz_bytes": self.gz_bytes,
            "note": self.note,
        }


class _Changed(Exception):
    """The plain file grew or changed while it was being compressed."""


def workers(configured: int) -> int:
    return configured or os.cpu_count() or 1


def compress_all(root: LogRoot, steps: Sequence[Step], threads: int) -> list[Compressed]:
    """Run the ``compress`` steps, ``threads`` at a time, largest file first (so no thread
    is left with one big file at the end); one outcome each, in the steps' order."""
    jobs = [s for s in steps if s.kind == "compress" and s.to]
    if not jobs:
        return []
    if threads <= 1 or len(jobs) == 1:
        return [compress_one(root, s.name, s.to or "") for s in jobs]

    def size(s: Step) -> int:
        st = root.lstat(s.name)
        return st.st_size if st else 0

    order = sorted(range(len(jobs)), key=lambda i: -size(jobs[i]))
    workers = min(threads, len(jobs))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gzip") as pool:
        futures = {
            i: pool.submit(compress_one, root, jobs[i].name, jobs[i].to or "") for i in order
        }
        return [futures[i].result() for i in range(len(jobs))]


def compress_one(root: LogRoot, name: str, to: str) -> Compressed:
    """Compress ``name`` into ``to`` (both in the root) and delete ``name``."""
    try:
        if root.lstat(to) is not None:
            return _finish_interrupted(root, name, to)
        with root.open_read(name) as src:
            st = os.fstat(src.fileno())
            final = root.path / to
            with atomic.atomic_write(final, replace=False) as out:
                _gzip(src, out, name, st.st_mtime)
                after = os.fstat(src.fileno())
                if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
                    raise _Changed
                out.flush()
                os.fchmod(out.fileno(), st.st_mode & 0o777)
                with contextlib.suppress(PermissionError):
                    os.fchown(out.fileno(), st.st_uid, st.st_gid)
                os.utime(out.fileno(), ns=(st.st_atime_ns, st.st_mtime_ns))
                gz_bytes = out.tell()
        delete.delete(
            root.path / name, root=root.path, reason=f"compressed into {to}", dry_run=False
        )
        return Compressed(name, to, True, st.st_size, gz_bytes)
    except _Changed:
        return Compressed(name, to, False, note="written to while compressing: left plain")
    except (OSError, EOFError, MaintenanceError, zlib.error) as exc:
        return Compressed(name, to, False, note=f"{type(exc).__name__}: {exc}")


def _gzip(src: IO[bytes], out: IO[bytes], name: str, mtime: float) -> None:
    with gzip.GzipFile(
        filename=name, mode="wb", compresslevel=LEVEL, fileobj=out, mtime=int(mtime)
    ) as gz:
        while chunk := src.read(CHUNK):
            gz.write(chunk)


def _finish_interrupted(root: LogRoot, name: str, to: str) -> Compressed:
    """Both ``name`` and ``to`` exist: delete ``name`` only if ``to`` decompresses to
    exactly its bytes (the compression that crashed had completed the ``.gz``)."""
    plain_crc, plain_len = _crc(root, name, compressed=False)
    gz_crc, gz_len = _crc(root, to, compressed=True)
    if (plain_crc, plain_len) != (gz_crc, gz_len):
        return Compressed(
            name, to, False, note=f"{to} exists and differs from {name}: both left for a person"
        )
    delete.delete(
        root.path / name, root=root.path, reason=f"already compressed into {to}", dry_run=False
    )
    st = root.lstat(to)
    return Compressed(
        name, to, True, plain_len, st.st_size if st else 0, "finished an interrupted compression"
    )


def _crc(root: LogRoot, name: str, *, compressed: bool) -> tuple[int, int]:
    crc, size = 0, 0
    with root.open_read(name) as raw:
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if compressed else raw
        while chunk := stream.read(CHUNK):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return crc, size
