"""ERROR and CRITICAL lines written since the previous ``logs.report``.

A line counts once, at its highest level: a word ``ERROR``, ``CRITICAL`` or ``FATAL``
(counted as CRITICAL), or a JSON ``"level": "error"`` (structlog, python-json-logger).
The first few lines of each log are quoted, cut to :data:`LINE_MAX` characters, with
secrets masked (every known secret, URL and conninfo passwords, ``Bearer`` tokens, and
the value of any ``key=value`` or ``"key": "value"`` whose key is a secret name).

"Since the previous report": the report records, for each file it read, its (device,
inode), the offset it read up to (whole lines only) and a hash of its first bytes. The
next report reads every file of the log written since then, oldest first, each from
where the previous one stopped in it (found by inode while plain, by its first bytes once
compressed), or whole if it had not read it. With no previous report, the files written
in the last day are read whole.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any, cast

from maintenance import redact
from maintenance.errors import MaintenanceError
from maintenance.logs.files import LogRoot
from maintenance.logs.inventory import Entry, Family
from maintenance.logs.state import Position

HEAD_BYTES = 4096
QUOTE = 5
LINE_MAX = 240
CHUNK = 1 << 20
#: mtimes come from a coarse clock: a file written just before the previous report
#: started may carry a time a little earlier than the report's own.
SLACK = timedelta(seconds=2)

_LEVEL = re.compile(
    rb"\b(ERROR|CRITICAL|FATAL)\b"
    rb'|"(?:level|levelname|severity)"\s*:\s*"(?i:(error|critical|fatal))"'
)
_BEARER = re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]+")
_PAIR = re.compile(
    r"""(?P<key>[A-Za-z][A-Za-z0-9_.-]*)(?P<sep>"?\s*[:=]\s*"?)(?P<value>[^\s",;&]+)"""
)


@dataclass
class LogErrors:
    """What one log's new lines held."""

    counts: dict[str, int] = field(default_factory=lambda: {"ERROR": 0, "CRITICAL": 0})
    quotes: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    bytes_read: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "quotes": list(self.quotes),
            "files": list(self.files),
            "bytes_read": self.bytes_read,
            "problems": list(self.problems),
        }


def redact_line(text: str) -> str:
    """A log line as it may be quoted in a report (see the module docstring)."""
    text = redact.scrub(text)
    text = _BEARER.sub(lambda m: m.group(1) + redact.MASK, text)

    def pair(m: re.Match[str]) -> str:
        if redact.is_secret_name(m.group("key")):
            return m.group("key") + m.group("sep") + redact.MASK
        return m.group(0)

    return _PAIR.sub(pair, text)


def count_lines(data: bytes, found: LogErrors, where: str) -> None:
    """Count the level words of the whole lines in ``data``."""
    last_start, last_level = -1, ""
    for m in _LEVEL.finditer(data):
        start = data.rfind(b"\n", 0, m.start()) + 1
        level = (
            "CRITICAL"
            if (m.group(1) or m.group(2) or b"").upper() in (b"CRITICAL", b"FATAL")
            else "ERROR"
        )
        if start == last_start:
            if level == "CRITICAL" and last_level == "ERROR":
                found.counts["ERROR"] -= 1
                found.counts["CRITICAL"] += 1
                last_level = level
            continue
        last_start, last_level = start, level
        found.counts[level] += 1
        if len(found.quotes) < QUOTE:
            end = data.find(b"\n", m.end())
            line = data[start : end if end >= 0 else len(data)].decode("utf-8", errors="replace")
            line = line if len(line) <= LINE_MAX else line[: LINE_MAX - 1] + "…"
            found.quotes.append(f"{where}: {redact_line(line)}")


def _lines(stream: IO[bytes], skip: int, *, whole: bool) -> Iterator[bytes]:
    """Chunks of whole lines from ``stream`` after ``skip`` bytes; with ``whole`` the
    last line counts even without its newline (a rotated file is complete)."""
    while skip > 0:
        got = stream.read(min(skip, CHUNK))
        if not got:
            return
        skip -= len(got)
    rest = b""
    while chunk := stream.read(CHUNK):
        data = rest + chunk
        cut = data.rfind(b"\n") + 1
        rest = data[cut:]
        if cut:
            yield data[:cut]
    if rest and whole:
        yield rest


def head_hash(data: bytes) -> str:
    return hashlib.sha256(data[:HEAD_BYTES]).hexdigest()


def scan_family(
    root: LogRoot,
    fam: Family,
    previous: list[Position] | None,
    previous_at: datetime | None,
) -> tuple[LogErrors, list[Position]]:
    """Count ``fam``'s lines written since the previous report; return them and the
    positions to record: where reading stopped in each file read."""
    found = LogErrors()
    files: list[tuple[Entry, bool]] = []
    if previous_at is not None:
        since = previous_at - SLACK
        files += [
            (m.entry, m.rotated.compressed) for m in reversed(fam.members) if m.entry.mtime >= since
        ]
    if fam.live is not None:
        files.append((fam.live, False))
    positions: list[Position] = []
    for entry, compressed in files:
        is_live = entry is fam.live
        try:
            with root.open_read(entry.name, expect=entry) as raw:
                head = (gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw).read(
                    HEAD_BYTES
                )
                raw.seek(0)
                stream = (
                    cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if compressed else raw
                )
                skip = _resume(entry, compressed, head, previous or [])
                read = skip
                for data in _lines(stream, skip, whole=not is_live):
                    count_lines(data, found, entry.name)
                    read += len(data)
                found.bytes_read += read - skip
                found.files.append(entry.name)
                positions.append(Position(entry.dev, entry.ino, read, head_hash(head[:read])))
        except (OSError, EOFError, MaintenanceError) as exc:
            found.problems.append(f"{entry.name}: {exc}")
    return found, positions


def _resume(entry: Entry, compressed: bool, head: bytes, previous: list[Position]) -> int:
    """Where to start reading this file: where the previous report stopped in it, if it
    read it (the same inode while plain; the same first bytes once compressed, the
    longest such), else at 0."""
    best = 0
    for p in previous:
        if p.offset == 0 or p.offset <= best:
            continue
        if not compressed and (entry.key != (p.dev, p.ino) or entry.size < p.offset):
            continue
        if head_hash(head[: min(p.offset, HEAD_BYTES)]) == p.head:
            best = p.offset
    return best


def severity(counts: dict[str, int]) -> str:
    """The checklist's Low / Medium / High: High with any CRITICAL line, Medium with 100
    or more ERROR lines, Low with fewer, none without."""
    if counts.get("CRITICAL"):
        return "High"
    errors = counts.get("ERROR", 0)
    return "Medium" if errors >= 100 else "Low" if errors else "none"
