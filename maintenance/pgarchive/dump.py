"""pg_dump streamed through zstd into a private temp file.

The archive is pg_dump's custom format, uncompressed (``-Fc -Z0``), inside one zstd
frame with a content checksum. PostgreSQL 15's pg_dump compresses only with
single-threaded zlib, several times slower than the dump itself; zstd on the stream
is smaller than ``pg_dump | gzip`` and runs at the dump's own speed. Decompressed,
it is a plain custom archive: ``pg_restore`` (with ``-j``) restores it.

The SHA-256 of the written file is computed on the way, so no second read is needed.

Whether a failed dump is worth retrying is asked of the server, not read from pg_dump's
stderr: pg_dump exits 1 whatever went wrong, and its messages quote names from the
database (a table called "could not connect" made a lock timeout look like a lost
server). After a failure a fresh connection is tried: one that does not get through
means the server is gone (ServiceUnavailable, retried); one the server refuses is its
answer (ServiceRefused); one that works means the server is fine and pg_dump's failure
will repeat (DumpFailed). stderr is kept as the message.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass
from pathlib import Path

import psycopg
import zstandard

from maintenance import clock, errors, pg, proc
from maintenance.errors import ServiceRefused, ServiceUnavailable
from maintenance.fs.digest import HashingWriter
from maintenance.pgarchive.errors import DiskFull, DumpFailed

CHUNK = 1 << 20
#: A backup file is its owner's only (backup/layout.py writes the same mode).
FILE_MODE = 0o600


@dataclass(frozen=True)
class DumpResult:
    size_bytes: int  # the .dump.zst file
    dump_bytes: int  # the custom archive inside it
    sha256: str
    duration_s: float


def dump_to(
    temp: Path,
    *,
    pg_dump: str,
    dsn: str,
    snapshot: str | None,
    level: int,
    threads: int,
    lock_wait_timeout_s: int = 300,
) -> DumpResult:
    """Run pg_dump on the database of ``dsn`` (its credentials through the environment,
    never argv) into ``temp``, zstd-compressed.

    ``temp`` is created exclusively (0600) and removed if anything fails; the caller
    renames it to its final name. Raises DiskFull, DumpFailed, ServiceUnavailable when
    the server is gone, ServiceRefused when it refuses a connection.
    """
    argv = [
        pg_dump,
        "--format=custom",
        "--compress=0",
        "--no-password",
        f"--lock-wait-timeout={lock_wait_timeout_s * 1000}",
    ]
    if snapshot:
        argv.append(f"--snapshot={snapshot}")
    t0 = clock.monotonic()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    dump_bytes = 0
    ok = False
    try:
        with (
            os.fdopen(fd, "wb") as handle,
            proc.child(argv, env=pg.libpq_env(dsn), stdout=proc.PIPE, name="pg_dump") as p,
        ):
            assert p.stdout is not None
            sink = HashingWriter(handle)
            cctx = zstandard.ZstdCompressor(level=level, threads=threads or -1, write_checksum=True)
            try:
                with cctx.stream_writer(sink, closefd=False) as zw:  # type: ignore[arg-type]
                    while chunk := p.stdout.read(CHUNK):
                        zw.write(chunk)
                        dump_bytes += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise DiskFull(
                        f"no space left in {temp.parent} after {sink.bytes} bytes"
                    ) from None
                raise DumpFailed(f"writing {temp.name}: {exc.strerror or exc}") from None
            rc = p.wait()
        if rc != 0:
            message = p.stderr_text() or f"exit {rc}"
            _raise_if_unreachable(dsn, message)
            raise DumpFailed(f"pg_dump failed (exit {rc}): {message}")
        ok = True
        return DumpResult(sink.bytes, dump_bytes, sink.hexdigest(), clock.monotonic() - t0)
    finally:
        if not ok:
            # the file this call created (O_EXCL) and never completed: ours alone to remove;
            # callers pass a temp name (backups) or a path of their own (tests, benchmarks)
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def _raise_if_unreachable(dsn: str, message: str) -> None:
    """After pg_dump failed: raise ServiceUnavailable if the server does not answer a new
    connection (or loses it at once), ServiceRefused if it refuses one; return if it
    answers (pg_dump's failure is then its own)."""
    try:
        with pg.connect(dsn) as conn:
            conn.execute("SELECT 1")
    except ServiceUnavailable:
        raise ServiceUnavailable(f"pg_dump lost the database: {message}") from None
    except ServiceRefused as exc:
        raise ServiceRefused(f"{exc} (pg_dump: {message})") from None
    except psycopg.OperationalError as exc:
        if errors.is_transient(exc):
            raise ServiceUnavailable(f"pg_dump lost the database: {message}") from None
