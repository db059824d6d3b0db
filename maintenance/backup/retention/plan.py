"""Retention's decision: :func:`plan` (facts, rules, now) -> :class:`Plan`. Pure: no
I/O, no clock; everything it knows came from :mod:`.facts`.

* a backup is decided by the policy (:func:`..policy.decide`): younger than its tier's
  age (MAINT_RETENTION_DAYS) is kept; the newest MAINT_RETENTION_MIN_VERIFIED *verified*
  backups of a tier and the newest verified one are kept whatever their age; a failed,
  unverified or broken backup never counts toward that floor and goes once it is older
  than its tier's age;
* temp files of crashed runs (:mod:`maintenance.fs.temp`'s names around a backup id or
  a forensic name) and manifests without their backup file go once older than a day;
* strays, links (also directly in the root), misplaced backups and whatever sits in a
  tier folder that is not a plain folder are never deleted: they are reported;
* forensic dumps follow their own rule (:mod:`.forensic`);
* a plan that would leave a tier with fewer verified backups than the floor, or a
  database with fewer forensic dumps than its floor, is refused whole (impossible by
  construction of the rules: this is the safety net, computed from the plan itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from maintenance.backup import forensics, inventory, layout, policy
from maintenance.backup.inventory import BackupStatus
from maintenance.backup.layout import Tier
from maintenance.backup.policy import Candidate, Decision, Policy
from maintenance.backup.retention import forensic
from maintenance.backup.retention.facts import BackupFacts, Entry, Facts
from maintenance.backup.retention.forensic import ForensicItem, ForensicPlan
from maintenance.config import Settings

#: A temp file of a crashed run, or a manifest without its file, older than this goes.
GARBAGE_AGE = timedelta(days=1)

Kind = Literal["backup", "orphan_manifest", "refused"]


@dataclass(frozen=True)
class Rules:
    """Everything retention decides by, from the settings."""

    policy: Policy  # MAINT_RETENTION_DAYS, MAINT_RETENTION_MIN_VERIFIED
    forensic: forensics.Rule  # MAINT_FORENSICS_KEEP_DAYS, MAINT_FORENSICS_MIN_KEEP
    budget_bytes: int  # MAINT_BACKUP_BUDGET_BYTES
    garbage_age: timedelta = GARBAGE_AGE


def rules_of(settings: Settings) -> Rules:
    return Rules(
        Policy(
            max_age={t: timedelta(days=days) for t, days in settings.retention_days.items()},
            min_verified=settings.retention_min_verified,
        ),
        forensics.Rule(settings.forensics_keep_days, settings.forensics_min_keep),
        settings.backup_budget_bytes,
    )


@dataclass(frozen=True)
class Item:
    """One backup id found in a tier folder, and what happens to it.

    ``kind``: ``backup`` (its dump file exists; decided by the policy),
    ``orphan_manifest`` (a manifest without its file; garbage once older than a day) or
    ``refused`` (a link or a misplaced backup: never deleted, reported).
    """

    decision: Decision
    kind: Kind
    status: BackupStatus
    verified: bool  # counts toward the floor
    disk_bytes: int = 0  # dump + manifest, what deleting it frees
    files: tuple[str, ...] = ()  # relative paths deleting it removes, in that order

    @property
    def id(self) -> str:
        return self.decision.id

    @property
    def tier(self) -> str:
        return self.decision.tier

    @property
    def keep(self) -> bool:
        return self.decision.keep

    def to_dict(self) -> dict[str, Any]:
        d = self.decision
        return {
            "id": d.id,
            "tier": d.tier,
            "keep": d.keep,
            "reason": d.reason,
            "created_at": d.created_at.isoformat(),
            "size_bytes": d.size_bytes,
            "kind": self.kind,
            "status": self.status.value,
        }


@dataclass(frozen=True)
class TempFile:
    """A temp file of a (crashed or running) backup, manifest or forensic dump write."""

    folder: str  # a tier's, or forensics
    name: str
    age: timedelta
    size_bytes: int
    remove: bool
    reason: str

    @property
    def relpath(self) -> str:
        return f"{self.folder}/{self.name}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.relpath,
            "age_hours": round(self.age.total_seconds() / 3600, 1),
            "size_bytes": self.size_bytes,
            "remove": self.remove,
            "reason": self.reason,
        }


@dataclass
class Plan:
    """Everything retention would do, and why. :func:`.apply.apply` carries it out."""

    root: Path
    now: datetime
    rules: Rules
    items: list[Item] = field(default_factory=list)
    temp_files: list[TempFile] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)  # relative paths, never deleted
    refused: list[str] = field(default_factory=list)  # "path: why", never deleted
    total_bytes: int = 0  # every regular file under the root, now
    found: str = ""  # what the scan found besides backups (inventory's words)
    scan_error: str | None = None  # the root could not be read safely: delete nothing
    forensic: ForensicPlan | None = None  # BACKUP_ROOT/forensics, by its own rule

    @property
    def policy(self) -> Policy:
        return self.rules.policy

    @property
    def budget_bytes(self) -> int:
        return self.rules.budget_bytes

    @property
    def decisions(self) -> list[Decision]:
        return [i.decision for i in self.items]

    @property
    def backups(self) -> list[Item]:
        return [i for i in self.items if i.kind == "backup"]

    @property
    def to_delete(self) -> list[Item]:
        return [i for i in self.items if not i.keep]

    @property
    def temp_to_remove(self) -> list[TempFile]:
        return [t for t in self.temp_files if t.remove]

    @property
    def forensics_to_delete(self) -> list[ForensicItem]:
        return self.forensic.to_delete if self.forensic else []

    @property
    def bytes_to_free(self) -> int:
        """What applying the plan frees; nothing if it would be refused."""
        if not self.safe_to_apply:
            return 0
        return (
            sum(i.disk_bytes for i in self.to_delete)
            + sum(t.size_bytes for t in self.temp_to_remove)
            + sum(i.disk_bytes for i in self.forensics_to_delete)
        )

    def floor(self) -> dict[str, dict[str, Any]]:
        """Per tier: verified backups, how many the plan keeps, how many it must keep.

        Computed from the plan itself, independently of the policy's reasoning: the
        safety net that :func:`.apply.apply` insists on.
        """
        out: dict[str, dict[str, Any]] = {}
        for tier in Tier:
            verified = [i for i in self.backups if i.tier == tier and i.verified]
            kept = [i for i in verified if i.keep]
            required = min(max(1, self.policy.min_verified), len(verified))
            newest = max(verified, key=lambda i: i.decision.created_at, default=None)
            out[tier.value] = {
                "verified": len(verified),
                "verified_kept": len(kept),
                "required": required,
                "newest_verified": newest.id if newest else None,
                "holds": len(kept) >= required and (newest is None or newest.keep),
            }
        return out

    @property
    def floor_holds(self) -> bool:
        return all(t["holds"] for t in self.floor().values())

    @property
    def forensic_floor_holds(self) -> bool:
        return self.forensic is None or self.forensic.floor_holds

    @property
    def safe_to_apply(self) -> bool:
        return self.scan_error is None and self.floor_holds and self.forensic_floor_holds

    @property
    def refusal(self) -> str | None:
        """Why the plan deletes nothing at all, or None."""
        if self.scan_error:
            return "the backup root was not read safely"
        if not self.floor_holds:
            return "the plan would break the floor of verified backups"
        if not self.forensic_floor_holds:
            return "the plan would break the floor of forensic dumps"
        return None

    def rows(self) -> list[dict[str, Any]]:
        """Every decision as a dict (the ``decisions`` figure; what the CLI prints)."""
        return [i.to_dict() for i in self.items]


def plan(facts: Facts, rules: Rules, now: datetime) -> Plan:
    """What retention does with ``facts`` at ``now``, and why. Pure."""
    out = Plan(facts.root, now, rules, total_bytes=facts.total_bytes)
    if facts.error:
        out.scan_error = facts.error
        return out
    fplan = forensic.plan(facts.forensic, rules.forensic, now, garbage_age=rules.garbage_age)
    unsafe = facts.tier_problems
    out.refused.extend(f"{t.value}/: {why}" for t, why in sorted(unsafe.items()))
    out.refused.extend(f"{e.relpath}: a symbolic link to {e.link_to}" for e in facts.root_links)
    out.refused.extend(fplan.refused)
    out.items = _backup_items(out, facts)
    unsafe_folders = {t.value for t in unsafe}
    for e in [*facts.temp_files, *fplan.temp_files]:
        if e.folder in unsafe_folders:
            out.refused.append(f"{e.relpath}: its tier folder is not a plain folder")
        elif e.kind != "file":
            kind = "a symbolic link" if e.kind == "link" else "not a regular file"
            out.refused.append(f"{e.relpath}: a temp name but {kind}")
        else:
            age = now - e.mtime
            remove = age > rules.garbage_age
            reason = f"temp file last written {age_text(age)} ago: " + (
                "left by a crashed run, delete" if remove else "a run may be writing it, kept"
            )
            out.temp_files.append(TempFile(e.folder, e.name, age, e.size_bytes, remove, reason))
    strays = []
    for e in facts.strays:
        if e.kind == "link":  # never followed, never deleted: for a person to look at
            out.refused.append(f"{e.relpath}: a symbolic link to {e.link_to}")
        else:
            strays.append(e.relpath)
    out.strays = sorted(set(strays + fplan.strays))
    out.forensic = fplan
    out.found = inventory.describe_leftovers(len(facts.temp_files), len(facts.strays))
    if fplan.found or fplan.temp_files or fplan.strays:
        out.found += f"; forensics: {fplan.found} dump{'' if fplan.found == 1 else 's'}, " + (
            inventory.describe_leftovers(len(fplan.temp_files), len(fplan.strays))
        )
    return out


def _backup_items(out: Plan, facts: Facts) -> list[Item]:
    """Every backup id of the tier folders: refused, orphan manifest, or decided by the
    policy (one call for all, so the floor counts every tier's verified backups)."""
    candidates: list[Candidate] = []
    pending: list[tuple[BackupFacts, str | None, int, tuple[str, ...]]] = []
    extra: list[Item] = []
    for f in facts.backups:
        b = f.backup
        id_tier, created = layout.parse_id(b.id)
        present = [e for e in (f.dump, f.manifest) if e is not None]

        def refuse(why: str, b: inventory.Backup = b, created: datetime = created) -> None:
            reason = f"{why}: never deleted by retention; look at it and remove it by hand"
            decision = Decision(b.id, b.tier.value, True, reason, created, 0)
            extra.append(Item(decision, "refused", b.status, False))
            out.refused.append(f"{b.tier.value}/{b.id}: {why}")

        if b.tier in facts.tier_problems:
            refuse(f"its tier folder is not a plain folder ({facts.tier_problems[b.tier]})")
            continue
        if id_tier is not b.tier:
            refuse(f"a {id_tier.value} backup in the {b.tier.value} folder")
            continue
        odd = [e for e in present if e.kind != "file"]
        if odd:
            what = "a symbolic link" if any(e.kind == "link" for e in odd) else "not a regular file"
            refuse(f"{', '.join(e.name for e in odd)} is {what}")
            continue
        disk = sum(e.size_bytes for e in present)
        files = tuple(e.relpath for e in present)
        if f.dump is None:
            if f.manifest is None:
                continue  # gone since the scan
            extra.append(_orphan(out, b, created, f.manifest, disk, files))
            continue
        # the manifest must describe this very file: its id is the file's id
        named = b.manifest.id if b.manifest else None
        own = b.manifest is None or named == b.id
        problem = b.problem or (None if own else f"its manifest is that of {named!r}")
        verified = b.verified and problem is None
        candidates.append(Candidate(b.id, b.tier.value, created, verified, b.size_bytes))
        pending.append((f, problem, disk, files))

    by_id = {d.id: d for d in policy.decide(candidates, out.policy, out.now)}
    items = []
    for (f, problem, disk, files), c in zip(pending, candidates, strict=True):
        decision = by_id[c.id]
        if problem:  # say why it does not count
            decision = replace(decision, reason=f"{decision.reason} [broken: {problem}]")
        status = BackupStatus.BROKEN if problem else f.backup.status
        items.append(Item(decision, "backup", status, c.verified, disk, files))
    return sorted(items + extra, key=lambda i: (i.decision.created_at, i.tier, i.id))


def _orphan(
    out: Plan, b: inventory.Backup, created: datetime, man: Entry, disk: int, files: tuple[str, ...]
) -> Item:
    """A manifest without its backup file: a run died before its final rename (garbage
    after a day), or one is writing right now."""
    age = out.now - max(created, man.mtime)
    garbage = age > out.rules.garbage_age
    reason = f"manifest without its backup file, {age_text(age)} old: " + (
        "garbage from a crashed run, delete" if garbage else "may be a backup in progress, kept"
    )
    decision = Decision(b.id, b.tier.value, not garbage, reason, created, 0)
    return Item(decision, "orphan_manifest", BackupStatus.BROKEN, False, disk, files)


def age_text(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours:.1f} hours" if abs(hours) < 48 else f"{hours / 24:.1f} days"
