"""What logrotate calls rotated files, made and read in one place.

A live log ``app.log`` has rotated files named as logrotate names them, so that tools
which read them (zgrep, log shippers, an operator's habits) keep working:

* numbered (the default): ``app.log.1`` (the newest, plain: ``delaycompress``),
  ``app.log.2.gz`` ... ``app.log.30.gz``; each rotation shifts every number up by one;
* ``dateext``: ``app.log-20261201`` and ``app.log-20261130.gz`` (``dateformat``,
  default ``-%Y%m%d``), with the rotation's local date; nothing is shifted.

Compressed files end in ``.gz`` and are ordinary gzip. Pure functions only.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

GZ = ".gz"

_NUMBERED = re.compile(r"^(?P<base>.+?)\.(?P<n>[1-9][0-9]{0,5})(?P<gz>\.gz)?$")
_DIGITS = {"Y": r"[0-9]{4}", "m": r"[0-9]{2}", "d": r"[0-9]{2}", "H": r"[0-9]{2}"}
_DIGITS |= {"M": r"[0-9]{2}", "S": r"[0-9]{2}", "s": r"[0-9]{1,12}"}


@dataclass(frozen=True)
class Scheme:
    """How rotated files are named: numbered, or ``dateext`` with ``dateformat``."""

    dateext: bool = False
    dateformat: str = "-%Y%m%d"

    @cached_property
    def _dated(self) -> re.Pattern[str]:
        parts, pos = [], 0
        for m in re.finditer(r"%(.)", self.dateformat):
            parts.append(re.escape(self.dateformat[pos : m.start()]))
            parts.append(_DIGITS[m.group(1)])
            pos = m.end()
        parts.append(re.escape(self.dateformat[pos:]))
        return re.compile(r"^(?P<base>.+?)(?P<stamp>" + "".join(parts) + r")(?P<gz>\.gz)?$")

    def stamp(self, local: datetime) -> str:
        """The ``dateext`` suffix of a rotation at ``local`` (its local time)."""
        fmt = self.dateformat.replace("%s", str(int(local.timestamp())))
        return local.strftime(fmt)

    def stamp_time(self, stamp: str) -> datetime | None:
        """The moment a ``dateext`` suffix names (naive local wall time, for ordering),
        None if it is not a real date."""
        fmt = self.dateformat
        if "%s" in fmt:
            digits = re.sub(r"[^0-9]", " ", stamp).split()
            return datetime.fromtimestamp(int(max(digits, key=len)), UTC).replace(tzinfo=None)
        try:
            return datetime.strptime(stamp, fmt)  # noqa: DTZ007 - a wall-clock label, for order
        except ValueError:
            return None


@dataclass(frozen=True)
class Rotated:
    """A rotated file's name, read: which live log, which generation, compressed or not."""

    base: str
    compressed: bool
    index: int | None = None  # numbered
    stamp: str | None = None  # dateext

    @property
    def name(self) -> str:
        middle = f".{self.index}" if self.index is not None else (self.stamp or "")
        return f"{self.base}{middle}{GZ if self.compressed else ''}"

    def compressed_name(self) -> str:
        return self.name if self.compressed else self.name + GZ

    def shifted(self) -> Rotated:
        """The same file one number further (numbered scheme)."""
        assert self.index is not None
        return Rotated(self.base, self.compressed, self.index + 1)


def numbered(base: str, index: int, *, compressed: bool = False) -> Rotated:
    return Rotated(base, compressed, index=index)


def dated(base: str, stamp: str, *, compressed: bool = False) -> Rotated:
    return Rotated(base, compressed, stamp=stamp)


def parse_rotated(name: str, scheme: Scheme) -> Rotated | None:
    """The rotated file ``name`` is, in either scheme (a folder may hold both after the
    scheme changed), or None if it is not one."""
    m = _NUMBERED.match(name)
    if m:
        return Rotated(m.group("base"), bool(m.group("gz")), index=int(m.group("n")))
    m = scheme._dated.match(name)
    if m and scheme.stamp_time(m.group("stamp")) is not None:
        return Rotated(m.group("base"), bool(m.group("gz")), stamp=m.group("stamp"))
    return None


def is_live_name(name: str, patterns: list[str]) -> bool:
    """Whether ``name`` is a live log: it matches a pattern, is not hidden and is not
    compressed."""
    if name.startswith(".") or name.endswith(GZ):
        return False
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def age_order(items: list[Rotated], scheme: Scheme) -> list[Rotated]:
    """Rotated files newest first: by number (1 is the newest), then by the date in
    their name; numbered files before dated ones."""

    def key(r: Rotated) -> tuple[int, float]:
        if r.index is not None:
            return (0, float(r.index))
        when = scheme.stamp_time(r.stamp or "")
        return (1, -(when.replace(tzinfo=UTC).timestamp() if when else 0.0))

    return sorted(items, key=key)
