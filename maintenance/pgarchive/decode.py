"""Read a backup file completely: decompress every byte, let pg_restore decode the whole
archive, and count the rows of every table in what it decodes.

``pg_restore --list`` reads only the table of contents and passes a truncated file;
this reads everything. zstd checks its frame checksum at the end; pg_restore fails on
a damaged archive; the row counts must equal the ones taken in the dump's snapshot.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import zstandard

from maintenance import redact
from maintenance.errors import PermanentError

CHUNK = 1 << 20
#: A COPY block's first line. DOTALL: a quoted table name may hold a newline, so the
#: header can span lines (see :meth:`CopyCounter.feed`).
COPY_HEADER = re.compile(rb"^COPY (?P<name>.+?) (?:\(.*\) )?FROM stdin;$", re.DOTALL)


class DecodeFailed(PermanentError):
    """The backup file could not be read back completely."""


def unquote_qualified(name: str) -> str:
    """``public."Odd Name"`` -> ``public.Odd Name`` (how the catalog spells it)."""
    parts, current, quoted, i = [], [], False, 0
    while i < len(name):
        ch = name[i]
        if quoted:
            if ch == '"' and i + 1 < len(name) and name[i + 1] == '"':
                current.append('"')
                i += 1
            elif ch == '"':
                quoted = False
            else:
                current.append(ch)
        elif ch == '"':
            quoted = True
        elif ch == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return ".".join(parts)


@dataclass
class CopyCounter:
    """Counts the data rows of each COPY block in a stream of pg_restore's SQL output.

    COPY's text format escapes newlines and backslashes inside values, so every row is
    one line and a line ``\\.`` only ever ends a block.
    """

    counts: dict[str, int] = field(default_factory=dict)
    _buf: bytes = b"\n"
    _table: str | None = None

    def feed(self, data: bytes) -> None:
        buf = self._buf + data
        pos = 0
        while True:
            if self._table is None:
                i = buf.find(b"\nCOPY ", pos)
                if i < 0:
                    self._buf = buf[max(pos, len(buf) - 5) :]
                    return
                j = buf.find(b"\n", i + 1)
                # a newline inside a quoted name: the header goes on to the next line
                while j >= 0 and buf.count(b'"', i + 1, j) % 2 == 1:
                    j = buf.find(b"\n", j + 1)
                if j < 0:
                    self._buf = buf[i:]
                    return
                match = COPY_HEADER.match(buf[i + 1 : j])
                if match is None:  # "COPY" at a line start that is not a data block
                    pos = j
                    continue
                self._table = unquote_qualified(match.group("name").decode())
                self.counts.setdefault(self._table, 0)
                pos = j  # invariant: buf[pos] is the newline that ended the previous line
            else:
                k = buf.find(b"\n\\.\n", pos)
                if k >= 0:
                    self.counts[self._table] += buf.count(b"\n", pos + 1, k + 1)
                    self._table = None
                    pos = k + 3
                    continue
                last = buf.rfind(b"\n", pos + 1)
                if last < 0:
                    self._buf = buf[pos:]
                    return
                self.counts[self._table] += buf.count(b"\n", pos + 1, last + 1)
                self._buf = buf[last:]
                return

    def close(self) -> None:
        if self._table is not None:
            raise DecodeFailed(f"the archive ends inside the data of {self._table}")


@dataclass(frozen=True)
class Decoded:
    rows: dict[str, int]
    dump_bytes: int


def chunks(path: Path, size: int = CHUNK) -> Iterator[bytes]:
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


def _feed(path: Path, proc: subprocess.Popen[bytes], outcome: dict[str, object]) -> None:
    assert proc.stdin is not None
    try:
        outcome["bytes"] = stream_into(path, proc.stdin)
    except DecodeFailed as exc:
        outcome["error"] = exc
    except BrokenPipeError:
        outcome["error"] = DecodeFailed("pg_restore stopped reading the archive")
    finally:
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()


def decode(path: Path, *, pg_restore: str, env: dict[str, str]) -> Decoded:
    """Decompress ``path`` and decode the whole archive with ``pg_restore -f -``."""
    proc = subprocess.Popen(
        [pg_restore, "--file=-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    outcome: dict[str, object] = {}
    feeder = threading.Thread(target=_feed, args=(path, proc, outcome), daemon=True)
    errors: list[bytes] = []
    err_reader = threading.Thread(
        target=lambda: errors.append(proc.stderr.read() if proc.stderr else b""), daemon=True
    )
    feeder.start()
    err_reader.start()
    counter = CopyCounter()
    assert proc.stdout is not None
    while chunk := proc.stdout.read(CHUNK):
        counter.feed(chunk)
    rc = proc.wait()
    feeder.join()
    err_reader.join()
    if isinstance(outcome.get("error"), DecodeFailed):
        raise outcome["error"]  # type: ignore[misc]
    if rc != 0:
        text = redact.scrub(b"".join(errors).decode(errors="replace").strip())
        raise DecodeFailed(f"pg_restore could not decode the archive (exit {rc}): {text[:2000]}")
    counter.close()
    return Decoded(rows=counter.counts, dump_bytes=int(outcome.get("bytes", 0)))  # type: ignore[call-overload]
