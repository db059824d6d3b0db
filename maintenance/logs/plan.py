"""Rotation and compression as pure decisions over a listing: (inventory, policy, state,
now) -> ordered steps. Nothing here reads a file or changes one; :mod:`.rotate` and
:mod:`.cleanup` act on what these functions decide.

Rotation is logrotate's with ``daily``, ``rotate KEEP``, ``maxsize``, ``compress``,
``delaycompress``, ``missingok``, ``notifempty``, ``create`` and ``sharedscripts``, by
rename (never ``copytruncate``, which loses the lines written while it copies):

1. a live log is due when it is not empty and is over the size cap, or was last rotated
   on an earlier local day (or never, by this suite), or the run is forced;
2. numbered: the rotated files beyond KEEP are deleted, every other one shifts up by one
   (``app.log.2.gz`` -> ``app.log.3.gz``, highest first, so no rename lands on a file),
   the live log becomes ``app.log.1`` and a new empty ``app.log`` is created; ``dateext``:
   the live log becomes ``app.log-<date>`` (skipped if that name is taken, as logrotate
   does) and the oldest beyond KEEP go;
3. after every renamed writer was told to reopen, the rotated files are compressed except
   the newest of each log (``delaycompress``), and never one a process still writes to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from maintenance.logs import naming
from maintenance.logs.inventory import Entry, Family, Inventory, Member
from maintenance.logs.naming import Scheme
from maintenance.logs.writers import Writers
from maintenance.units import human_bytes


@dataclass(frozen=True)
class Policy:
    patterns: list[str]
    keep: int = 30
    max_bytes: int = 100 * 1024 * 1024
    max_age: timedelta = timedelta(days=30)
    scheme: Scheme = field(default_factory=Scheme)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    @classmethod
    def of(cls, settings: Any) -> Policy:
        return cls(
            patterns=list(settings.log_patterns),
            keep=settings.log_keep,
            max_bytes=settings.log_max_bytes,
            max_age=timedelta(days=settings.log_max_age_days),
            scheme=Scheme(settings.log_dateext, settings.log_dateformat),
            zone=settings.zone,
        )


@dataclass(frozen=True)
class Step:
    """One act: delete, rename, create (the new live log) or compress a file."""

    kind: Literal["delete", "rename", "create", "compress"]
    name: str
    to: str | None = None
    reason: str = ""
    like: Entry | None = None  # what a new live log copies its owner from

    def describe(self) -> str:
        arrow = f" -> {self.to}" if self.to else ""
        return f"{self.kind} {self.name}{arrow}" + (f": {self.reason}" if self.reason else "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"step": self.kind, "name": self.name}
        if self.to:
            out["to"] = self.to
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class FamilyPlan:
    """What rotation decided for one log."""

    base: str
    due: bool
    reason: str
    steps: list[Step] = field(default_factory=list)
    blocked: str | None = None  # due, but cannot be rotated safely (a person looks)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"log": self.base, "rotate": self.due and not self.blocked}
        out["reason"] = self.blocked or self.reason
        out["steps"] = [s.to_dict() for s in self.steps]
        return out


def due(
    fam: Family,
    policy: Policy,
    last_rotated: datetime | None,
    now: datetime,
    *,
    force: bool = False,
    only_oversized: bool = False,
) -> tuple[bool, str]:
    """Whether ``fam``'s live log is rotated now, and why (or why not)."""
    live = fam.live
    if live is None:
        return False, "no live log (missingok)"
    if live.size == 0:
        return False, "empty (notifempty)"
    if live.size >= policy.max_bytes:
        return (
            True,
            f"over the size cap ({human_bytes(live.size)} >= {human_bytes(policy.max_bytes)})",
        )
    if only_oversized:
        return False, f"under the size cap ({human_bytes(live.size)})"
    if force:
        return True, "forced"
    if last_rotated is None:
        return True, "daily: not rotated before by this suite"
    last_day = last_rotated.astimezone(policy.zone).date()
    if last_day < now.astimezone(policy.zone).date():
        return True, f"daily: last rotated {last_day.isoformat()}"
    return False, f"rotated today at {last_rotated.astimezone(policy.zone):%H:%M}"


def rotation(
    inv: Inventory,
    policy: Policy,
    last_rotated: Mapping[str, datetime],
    now: datetime,
    *,
    force: bool = False,
    only_oversized: bool = False,
) -> list[FamilyPlan]:
    """The rotation of every log family, in name order (see the module docstring)."""
    plans = []
    for base in sorted(inv.families):
        fam = inv.families[base]
        is_due, reason = due(
            fam, policy, last_rotated.get(base), now, force=force, only_oversized=only_oversized
        )
        plan = FamilyPlan(base, is_due, reason)
        if is_due:
            if policy.scheme.dateext:
                _dated(plan, fam, policy, now)
            else:
                _numbered(plan, fam, policy)
        plans.append(plan)
    return plans


def _numbered(plan: FamilyPlan, fam: Family, policy: Policy) -> None:
    by_index: dict[int, list[Member]] = {}
    for m in fam.members:
        if m.rotated.index is not None:
            by_index.setdefault(m.rotated.index, []).append(m)
    twice = sorted(i for i, ms in by_index.items() if len(ms) > 1 and i < policy.keep)
    if twice:
        names = ", ".join(m.name for m in by_index[twice[0]])
        plan.blocked = (
            f"{names} both exist (an interrupted compression): the compression step "
            "finishes it, then the log rotates at the next run"
        )
        return
    for index in sorted(by_index, reverse=True):
        for m in by_index[index]:
            if index >= policy.keep:
                plan.steps.append(
                    Step("delete", m.name, reason=f"beyond MAINT_LOG_KEEP={policy.keep}")
                )
            else:
                plan.steps.append(Step("rename", m.name, m.rotated.shifted().name))
    assert fam.live is not None
    plan.steps.append(Step("rename", fam.live.name, naming.numbered(fam.base, 1).name, plan.reason))
    plan.steps.append(Step("create", fam.live.name, like=fam.live))


def _dated(plan: FamilyPlan, fam: Family, policy: Policy, now: datetime) -> None:
    stamp = policy.scheme.stamp(now.astimezone(policy.zone))
    target = naming.dated(fam.base, stamp)
    taken = {m.name for m in fam.members}
    if target.name in taken or target.compressed_name() in taken:
        plan.due = False
        plan.reason = (
            f"{target.name} already exists: rotated this period already (logrotate skips "
            "too; put %H or %s in MAINT_LOG_DATEFORMAT to rotate by size within a day)"
        )
        return
    older = [m for m in fam.members if m.rotated.stamp is not None]
    for m in older[policy.keep - 1 :]:
        plan.steps.append(Step("delete", m.name, reason=f"beyond MAINT_LOG_KEEP={policy.keep}"))
    assert fam.live is not None
    plan.steps.append(Step("rename", fam.live.name, target.name, plan.reason))
    plan.steps.append(Step("create", fam.live.name, like=fam.live))


@dataclass
class Left:
    """A file a plan leaves alone this time, and why."""

    name: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason}


def compression(
    inv: Inventory,
    writers: Writers,
    now: datetime,
    *,
    keep_newest_plain: bool,
    min_age: timedelta = timedelta(0),
) -> tuple[list[Step], list[Left]]:
    """Which plain rotated files to compress: every one, except the newest of its log
    with ``keep_newest_plain`` (delaycompress), one younger than ``min_age``, and one a
    process may still be writing to (its writer has not reopened yet)."""
    steps, left = [], []
    for base in sorted(inv.families):
        fam = inv.families[base]
        for i, m in enumerate(fam.members):
            if m.rotated.compressed:
                continue
            if keep_newest_plain and i == 0:
                left.append(Left(m.name, "the newest rotated file stays plain (delaycompress)"))
                continue
            age = now - m.entry.mtime
            if age < min_age:
                left.append(
                    Left(m.name, f"last written {_ago(age)} ago: compressed after {_ago(min_age)}")
                )
                continue
            pids, unknown = writers.writing(m.entry.key), writers.unknown_for(m.entry.key)
            if pids or unknown:
                why = (
                    f"open for writing by pid {', '.join(map(str, pids))}: its writer has not reopened"
                    if pids
                    else f"{unknown} process(es) running as its owner could not be inspected: it may be open"
                )
                left.append(Left(m.name, why + "; left plain"))
                continue
            steps.append(Step("compress", m.name, m.rotated.compressed_name(), "rotated"))
    return steps, left


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f}h" if hours < 48 else f"{hours / 24:.0f} days"
