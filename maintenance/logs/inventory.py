"""The log folder as facts: every entry of MAINT_LOG_ROOT (read with ``lstat``, never
followed), sorted into families, a live log and its rotated files. Pure: the listing is
read by :mod:`.files`; this module only classifies it.

An entry is one of:

* a **live log**: a regular file whose name matches MAINT_LOG_PATTERNS;
* a **rotated** file of a live log (numbered or ``dateext``, plain or ``.gz``) whose
  base name matches the patterns, whether or not the live log still exists;
* a **link** or **not regular** (a folder, a socket) that would be one of those: it is
  reported and left alone, never read, followed, rotated or deleted;
* a **temp** file of an interrupted write of ours (:mod:`maintenance.fs.temp`);
* anything else (``other``): not ours, never touched.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime

from maintenance.fs import temp
from maintenance.logs import naming
from maintenance.logs.naming import Rotated, Scheme

#: The suite's own folder in MAINT_LOG_ROOT (state, lock): never a log.
STATE_DIR = ".maint-logs"
#: Monthly tar archives: MAINT_LOG_ROOT/archive/logs_YYYY-MM.tar.
ARCHIVE_DIR = "archive"


@dataclass(frozen=True)
class Entry:
    """One directory entry, as ``lstat`` saw it."""

    name: str
    kind: str  # "file", "link", "dir", "other"
    size: int = 0
    mtime_ns: int = 0
    ino: int = 0
    dev: int = 0
    mode: int = 0  # permission bits
    uid: int = 0
    gid: int = 0
    disk_bytes: int = 0  # st_blocks * 512: what du counts
    target: str | None = None  # a link's target, as written

    @classmethod
    def of(cls, name: str, st: object, target: str | None = None) -> Entry:
        mode = st.st_mode  # type: ignore[attr-defined]
        kind = (
            "file"
            if stat.S_ISREG(mode)
            else "link"
            if stat.S_ISLNK(mode)
            else "dir"
            if stat.S_ISDIR(mode)
            else "other"
        )
        return cls(
            name=name,
            kind=kind,
            size=st.st_size,  # type: ignore[attr-defined]
            mtime_ns=st.st_mtime_ns,  # type: ignore[attr-defined]
            ino=st.st_ino,  # type: ignore[attr-defined]
            dev=st.st_dev,  # type: ignore[attr-defined]
            mode=stat.S_IMODE(mode),
            uid=st.st_uid,  # type: ignore[attr-defined]
            gid=st.st_gid,  # type: ignore[attr-defined]
            disk_bytes=getattr(st, "st_blocks", 0) * 512,
            target=target,
        )

    @property
    def mtime(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, UTC)

    @property
    def key(self) -> tuple[int, int]:
        """Which file this is, whatever it is called now (a rename keeps it)."""
        return (self.dev, self.ino)


@dataclass(frozen=True)
class Member:
    """A rotated file of a family."""

    rotated: Rotated
    entry: Entry

    @property
    def name(self) -> str:
        return self.entry.name


@dataclass
class Family:
    """A live log (if it exists) and its rotated files, newest first."""

    base: str
    live: Entry | None = None
    members: list[Member] = field(default_factory=list)

    def newest(self) -> Member | None:
        return self.members[0] if self.members else None


@dataclass
class Inventory:
    families: dict[str, Family] = field(default_factory=dict)
    links: list[Entry] = field(default_factory=list)
    irregular: list[Entry] = field(default_factory=list)
    temps: list[Entry] = field(default_factory=list)
    others: list[Entry] = field(default_factory=list)

    def family(self, base: str) -> Family:
        return self.families.setdefault(base, Family(base))

    def names(self) -> set[str]:
        out = {f.live.name for f in self.families.values() if f.live}
        out |= {m.name for f in self.families.values() for m in f.members}
        return out


def classify(entries: list[Entry], patterns: list[str], scheme: Scheme) -> Inventory:
    """Sort the root's entries into families (see the module docstring)."""
    inv = Inventory()
    for e in sorted(entries, key=lambda x: x.name):
        if e.name in (STATE_DIR, ARCHIVE_DIR):
            continue
        if temp.temp_target(e.name) is not None:
            (inv.temps if e.kind == "file" else inv.others).append(e)
            continue
        rotated = naming.parse_rotated(e.name, scheme)
        is_rotated = rotated is not None and naming.is_live_name(rotated.base, patterns)
        if not is_rotated and not naming.is_live_name(e.name, patterns):
            inv.others.append(e)
            continue
        if e.kind == "link":
            inv.links.append(e)
        elif e.kind != "file":
            inv.irregular.append(e)
        elif is_rotated:
            assert rotated is not None
            inv.family(rotated.base).members.append(Member(rotated, e))
        else:
            inv.family(e.name).live = e
    for fam in inv.families.values():
        order = {
            r: i for i, r in enumerate(naming.age_order([m.rotated for m in fam.members], scheme))
        }
        fam.members.sort(key=lambda m: order[m.rotated])
    return inv
