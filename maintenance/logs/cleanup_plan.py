"""logs.cleanup's decisions, pure over (inventory, archive contents, hashes, writers,
policy, now): which months to archive, and which files to delete.

The playbook's weekly cleanup, without its bugs:

* ``find -name "*.log.*" -mtime +30 -delete`` deletes a month of logs that no archive
  holds if the archive step failed: here a rotated log older than MAINT_LOG_MAX_AGE_DAYS
  goes only once an intact monthly archive holds its exact bytes;
* ``find -name "*.log" -empty -delete`` deletes a log a process has open (its next
  lines then go to a file nobody can find): here an empty live log goes only when no
  process holds it open for writing, and not at all when that cannot be told;
* the archive of a month is made once the month is over and settled (every rotated file
  last written in it is compressed), never rewritten (see :mod:`.archive`).

Rotated files beyond MAINT_LOG_KEEP (left when KEEP was lowered: logrotate never deletes
them) are orphans and go too; so do the temp files of interrupted writes of ours.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from maintenance.logs.archive import Identity, Part, identity
from maintenance.logs.inventory import Entry, Inventory, Member
from maintenance.logs.plan import Left, Policy, Step
from maintenance.logs.writers import Writers


def month_of(entry: Entry, zone: ZoneInfo) -> str:
    """The local month (``YYYY-MM``) a file was last written in."""
    return entry.mtime.astimezone(zone).strftime("%Y-%m")


@dataclass
class ArchiveWork:
    """One archive part to write: ``files`` of ``month`` that no intact part holds yet."""

    month: str
    number: int
    files: list[Member] = field(default_factory=list)


def archived(parts: Mapping[str, list[Part]]) -> set[Identity]:
    """Every member identity held by an intact part."""
    return {i for ps in parts.values() for p in ps if p.intact for i in p.members.values()}


def past_compressed(inv: Inventory, zone: ZoneInfo, now: datetime) -> list[Member]:
    """Compressed rotated files last written before this local month (archive candidates)."""
    current = now.astimezone(zone).strftime("%Y-%m")
    return [
        m
        for fam in inv.families.values()
        for m in fam.members
        if m.rotated.compressed and month_of(m.entry, zone) < current
    ]


def archive_plan(
    inv: Inventory,
    parts: Mapping[str, list[Part]],
    hashes: Mapping[str, str],
    now: datetime,
    zone: ZoneInfo,
) -> tuple[list[ArchiveWork], list[Left]]:
    """The parts to write: per past month, its compressed files no intact part holds."""
    current = now.astimezone(zone).strftime("%Y-%m")
    plain_months = {
        month_of(m.entry, zone)
        for fam in inv.families.values()
        for m in fam.members
        if not m.rotated.compressed
    }
    have = archived(parts)
    by_month: dict[str, list[Member]] = {}
    for m in past_compressed(inv, zone, now):
        by_month.setdefault(month_of(m.entry, zone), []).append(m)
    work, left = [], []
    for month in sorted(by_month):
        if month >= current:
            continue
        todo = [
            m
            for m in by_month[month]
            if m.name in hashes and identity(m, hashes[m.name]) not in have
        ]
        if not todo:
            continue
        if month in plain_months:
            left.append(
                Left(f"archive {month}", "waits until that month's rotated logs are all compressed")
            )
            continue
        number = max((p.number for p in parts.get(month, [])), default=0) + 1
        work.append(ArchiveWork(month, number, sorted(todo, key=lambda m: m.entry.mtime_ns)))
    return work, left


def deletions(
    inv: Inventory,
    policy: Policy,
    have: set[Identity],
    hashes: Mapping[str, str],
    writers: Writers,
    now: datetime,
) -> tuple[list[Step], list[Left]]:
    """What to delete (see the module docstring), and what is kept that a reader might
    expect gone, with the reason."""
    steps: list[Step] = []
    left: list[Left] = []
    for base in sorted(inv.families):
        fam = inv.families[base]
        dated_seen = 0
        for m in fam.members:
            if m.rotated.stamp is not None:
                dated_seen += 1
            beyond = (m.rotated.index or 0) > policy.keep or dated_seen > policy.keep
            if beyond:
                steps.append(
                    Step("delete", m.name, reason=f"orphan: beyond MAINT_LOG_KEEP={policy.keep}")
                )
                continue
            if now - m.entry.mtime <= policy.max_age:
                continue
            days = policy.max_age.days
            if not m.rotated.compressed:
                left.append(
                    Left(
                        m.name, f"older than {days} days but not compressed, so in no archive: kept"
                    )
                )
            elif m.name in hashes and identity(m, hashes[m.name]) in have:
                steps.append(
                    Step("delete", m.name, reason=f"older than {days} days; in the monthly archive")
                )
            else:
                left.append(
                    Left(m.name, f"older than {days} days but in no intact archive yet: kept")
                )
        live = fam.live
        if live is not None and live.size == 0:
            pids = writers.writing(live.key)
            if pids:
                left.append(
                    Left(
                        live.name,
                        f"empty, but open for writing by pid {', '.join(map(str, pids))}: kept",
                    )
                )
            elif not writers.visible:
                left.append(
                    Left(
                        live.name,
                        "empty, but the writers' processes cannot be seen from here (MAINT_LOG_WRITERS_VISIBLE): kept",
                    )
                )
            elif writers.unknown_for(live.key):
                left.append(
                    Left(
                        live.name,
                        f"empty, but {writers.unknown_for(live.key)} process(es) running as its owner could not be inspected: kept",
                    )
                )
            else:
                steps.append(Step("delete", live.name, reason="empty live log, open by no process"))
    for e in inv.temps:
        steps.append(Step("delete", e.name, reason="left by an interrupted write"))
    return steps, left
