"""pg_restore, run for the loader: to its end, or reading the decompressed archive on
its stdin; every failure a LoadFailed with pg_restore's message (scrubbed of secrets)."""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from pathlib import Path

from maintenance import proc
from maintenance.pgarchive import decode
from maintenance.pgarchive.errors import DecodeFailed, LoadFailed


def run(argv: list[str], env: dict[str, str], what: str, *, check: bool = True) -> proc.Completed:
    """Run pg_restore to its end; raise LoadFailed if it fails and ``check``."""
    done = proc.run(argv, env=env, name="pg_restore")
    if check and done.returncode != 0:
        raise LoadFailed(
            f"pg_restore ({what}) failed (exit {done.returncode}): {message(done.stderr)}"
        )
    return done


def run_fed(argv: list[str], env: dict[str, str], archive: Path, what: str) -> None:
    """Run pg_restore reading the decompressed archive on its stdin."""
    with contextlib.closing(decompressed(archive)) as source:
        with proc.child(argv, env=env, feed=source, name="pg_restore") as p:
            rc = p.wait()
        check_feed(p, source)
    if rc != 0:
        raise LoadFailed(f"pg_restore ({what}) failed (exit {rc}): {message(p.stderr_text())}")


def check_feed(p: proc.Child, source: Iterator[bytes]) -> None:
    """Raise the decompression's error, if any. Once the child has succeeded without
    reading all of the archive, read the rest: zstd's checksum is at its end."""
    if p.feed_error is not None:
        raise p.feed_error
    if not p.fed_all and p.returncode == 0:
        for _ in source:
            pass


def decompressed(archive: Path, size: int = 1 << 20) -> Generator[bytes, None, None]:
    """The decompressed bytes of ``archive`` (:func:`decode.chunks`), as LoadFailed."""
    try:
        yield from decode.chunks(archive, size)
    except DecodeFailed as exc:
        raise LoadFailed(str(exc)) from None


def message(stderr: str) -> str:
    return stderr[:2000] or "no message"
