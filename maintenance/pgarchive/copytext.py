"""The one reader of COPY text: pg_restore's script output cut into its COPY blocks.

``pg_restore -f -`` writes a SQL script: comments, ``SET`` lines, statements, and for
each table's data a block::

    COPY public.t (id, note) FROM stdin;
    1	one
    2	two
    \\.

COPY's text format escapes newlines and backslashes inside values, so every row is one
line and a line ``\\.`` only ever ends a block; a quoted table name may hold a newline,
so a header can span lines. Full verification counts the rows
(:class:`maintenance.pgarchive.decode.CopyCounter`); the loader deals them out to its
COPY streams (:mod:`maintenance.pgarchive.streams`). Both read the script through
:class:`CopyText`, which hands out rows in large pieces of whole lines, never row by
row: no per-row Python work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: A COPY block's first line. DOTALL: a quoted table name may hold a newline.
COPY_HEADER = re.compile(rb"^COPY (?P<name>.+?) (?:\(.*\) )?FROM stdin;$", re.DOTALL)
#: A COPY header longer than this is not one (a runaway quote in garbage).
MAX_HEADER = 1 << 20


@dataclass(frozen=True, slots=True)
class Begin:
    """A COPY block starts: ``table`` as the archive spells it (quoted), ``sql`` the COPY
    statement without its semicolon."""

    table: bytes
    sql: bytes


@dataclass(frozen=True, slots=True)
class Rows:
    """Whole rows of ``table``: ``buf[start:end]``, each line ending in a newline."""

    table: bytes
    buf: bytes
    start: int
    end: int

    def view(self) -> memoryview:
        return memoryview(self.buf)[self.start : self.end]

    def lines(self) -> int:
        return self.buf.count(b"\n", self.start, self.end)

    def __len__(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class End:
    """The block of ``table`` ended (its ``\\.`` line)."""

    table: bytes


@dataclass(frozen=True, slots=True)
class Statement:
    """A line outside any block that is not blank or a comment (``SET ...``, DDL)."""

    line: bytes


Event = Begin | Rows | End | Statement


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


class CopyText:
    """Feed it the script in pieces of any size; each :meth:`feed` yields the events its
    piece completes (a :class:`Rows` is valid until the next :meth:`feed`)."""

    def __init__(self) -> None:
        self._rest = b""  # an unfinished line, carried to the next piece
        self._table: bytes | None = None  # inside this table's block
        self._header: bytes | None = None  # a COPY header that goes on past a newline

    def feed(self, data: bytes) -> Iterator[Event]:
        buf = self._rest + data if self._rest else data
        pos = 0  # invariant: buf[pos] starts a line
        try:
            while True:
                if self._table is None:
                    nl = buf.find(b"\n", pos)
                    if nl < 0:
                        return
                    line, pos = buf[pos:nl], nl + 1
                    event = self._line(line)
                    if event is not None:
                        yield event
                    continue
                table = self._table
                if buf.startswith(b"\\.\n", pos):
                    end, after = pos, pos + 3
                else:
                    k = buf.find(b"\n\\.\n", pos)
                    if k < 0:  # the block goes on: hand out every whole line
                        last = buf.rfind(b"\n", pos)
                        if last >= pos:
                            yield Rows(table, buf, pos, last + 1)
                            pos = last + 1
                        return
                    end, after = k + 1, k + 4
                if end > pos:
                    yield Rows(table, buf, pos, end)
                self._table, pos = None, after
                yield End(table)
        finally:
            self._rest = buf[pos:]

    def close(self) -> bytes | None:
        """The end of the script: the table whose block (or COPY header) it ended in,
        or None if it ended between blocks."""
        if self._table is not None:
            return self._table
        if self._header is not None:
            return self._header[len(b"COPY ") :]
        return None

    def _line(self, line: bytes) -> Event | None:
        if self._header is not None:  # a quoted name with a newline in it
            line, self._header = self._header + b"\n" + line, None
        elif not line or line.startswith(b"--"):
            return None
        if line.startswith(b"COPY "):
            if line.count(b'"') % 2 and len(line) < MAX_HEADER:
                self._header = line
                return None
            match = COPY_HEADER.match(line)
            if match:
                self._table = match.group("name")
                return Begin(self._table, line[:-1])
        return Statement(line)
