"""Read a backup file completely: decompress every byte, let pg_restore decode the whole
archive, and count the rows of every table in what it decodes.

``pg_restore --list`` reads only the table of contents and passes a truncated file;
this reads everything. zstd checks its frame checksum at the end; pg_restore fails on
a damaged archive; the row counts must equal the ones taken in the dump's snapshot.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import zstandard

from maintenance import proc
from maintenance.pgarchive import copytext
from maintenance.pgarchive.errors import DecodeFailed

CHUNK = 1 << 20


class CopyCounter:
    """Counts the data rows of each COPY block in pg_restore's script output, fed in
    pieces of any size (:class:`maintenance.pgarchive.copytext.CopyText`)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._text = copytext.CopyText()
        self._table = ""

    def feed(self, data: bytes) -> None:
        for event in self._text.feed(data):
            if isinstance(event, copytext.Rows):
                self.counts[self._table] += event.lines()
            elif isinstance(event, copytext.Begin):
                self._table = copytext.unquote_qualified(event.table.decode())
                self.counts.setdefault(self._table, 0)

    def close(self) -> None:
        cut = self._text.close()
        if cut is not None:
            name = copytext.unquote_qualified(cut.decode(errors="replace"))
            raise DecodeFailed(f"the archive ends inside the data of {name}")


@dataclass(frozen=True)
class Decoded:
    rows: dict[str, int]
    dump_bytes: int


def chunks(path: Path, size: int = CHUNK) -> Generator[bytes, None, None]:
    """The decompressed bytes of ``path``, piece by piece. Raises DecodeFailed if it does
    not decompress or is cut short.

    zstd's streaming reader hands out every byte of a frame that is cut short (even one
    missing only its checksum) without complaint, so completeness is checked here.
    Concatenated frames are read in turn, as ``zstd -d`` does.
    """
    dctx = zstandard.ZstdDecompressor()
    dobj: Any = None
    try:
        with path.open("rb") as src:
            while data := src.read(size):
                while data:
                    if dobj is None or dobj.eof:
                        dobj = dctx.decompressobj()
                    out = dobj.decompress(data)
                    if out:
                        yield out
                    data = dobj.unused_data if dobj.eof else b""
    except zstandard.ZstdError as exc:
        raise DecodeFailed(f"{path.name} does not decompress: {exc}") from None
    except OSError as exc:
        raise DecodeFailed(f"reading {path.name}: {exc.strerror or exc}") from None
    if dobj is None or not dobj.eof:
        raise DecodeFailed(f"{path.name} is truncated: its zstd frame does not end")


def stream_into(path: Path, sink: IO[bytes]) -> int:
    """Decompress ``path`` into ``sink``; return the bytes written. Raises DecodeFailed."""
    written = 0
    for out in chunks(path):
        sink.write(out)
        written += len(out)
    return written


def decode(path: Path, *, pg_restore: str, env: dict[str, str] | None = None) -> Decoded:
    """Decompress ``path`` and decode the whole archive with ``pg_restore -f -``, counting
    every table's rows. ``env``: the child's environment (default: the curated one, no
    credentials: decoding to stdout connects nowhere). Raises DecodeFailed."""
    counter = CopyCounter()
    with (
        contextlib.closing(chunks(path)) as source,
        proc.child([pg_restore, "--file=-"], env=env, feed=source, stdout=proc.PIPE) as p,
    ):
        assert p.stdout is not None
        while chunk := p.stdout.read(CHUNK):
            counter.feed(chunk)
        rc = p.wait()
    if p.feed_error is not None:
        if isinstance(p.feed_error, DecodeFailed):
            raise p.feed_error
        raise DecodeFailed(f"reading {path.name}: {p.feed_error}")
    if rc != 0:
        text = p.stderr_text()[:2000]
        raise DecodeFailed(f"pg_restore could not decode the archive (exit {rc}): {text}")
    if not p.fed_all:
        raise DecodeFailed("pg_restore stopped reading the archive before its end")
    counter.close()
    return Decoded(rows=counter.counts, dump_bytes=p.fed_bytes)
