"""Retention in ``BACKUP_ROOT/forensics``: restore's forensic dumps, by their own rule
(:func:`..forensics.decide`: the newest MAINT_FORENSICS_MIN_KEEP of each database kept
whatever their age, the others until MAINT_FORENSICS_KEEP_DAYS), a record whose dump is
missing removed once older than a day, links and strays reported and never deleted.
:func:`plan` is pure; :func:`checks` are the checklist lines it adds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from maintenance.backup import forensics, layout
from maintenance.backup.forensics import ForensicDump
from maintenance.backup.retention.facts import Entry, ForensicFacts
from maintenance.results import Check, CheckStatus


@dataclass(frozen=True)
class ForensicItem:
    """A forensic dump (``kind`` ``dump``, decided by the rule) or a record whose dump is
    missing (``orphan_record``: garbage once older than a day)."""

    decision: forensics.Decision
    kind: Literal["dump", "orphan_record"]
    status: str
    disk_bytes: int = 0
    files: tuple[str, ...] = ()  # file names in the forensics folder, dump first

    @property
    def name(self) -> str:
        return self.decision.name

    @property
    def keep(self) -> bool:
        return self.decision.keep

    def to_dict(self) -> dict[str, Any]:
        d = self.decision
        return {
            "name": d.name,
            "database": d.database,
            "keep": d.keep,
            "reason": d.reason,
            "created_at": d.created_at.isoformat(),
            "size_bytes": self.disk_bytes,
            "kind": self.kind,
            "status": self.status,
        }


@dataclass
class ForensicPlan:
    rule: forensics.Rule
    items: list[ForensicItem] = field(default_factory=list)
    temp_files: list[Entry] = field(default_factory=list)  # judged like every temp file
    strays: list[str] = field(default_factory=list)  # relative to the root, never deleted
    refused: list[str] = field(default_factory=list)  # "path: why", never deleted
    found: int = 0  # forensic names found (what `maint backups list --forensics` lists)

    @property
    def to_delete(self) -> list[ForensicItem]:
        return [i for i in self.items if not i.keep]

    def floor(self) -> dict[str, dict[str, Any]]:
        return forensics.floor([i.decision for i in self.items if i.kind == "dump"], self.rule)

    @property
    def floor_holds(self) -> bool:
        return all(f["holds"] for f in self.floor().values())


def plan(
    facts: ForensicFacts, rule: forensics.Rule, now: datetime, *, garbage_age: timedelta
) -> ForensicPlan:
    """What retention does in the forensics folder at ``now``. Pure."""
    out = ForensicPlan(rule)
    if facts.folder_problem:
        out.refused.append(f"{layout.FORENSICS_DIR}/: {facts.folder_problem}")
        return out
    out.found = len(facts.dumps)
    candidates: list[forensics.Candidate] = []
    pending: list[tuple[ForensicDump, tuple[Entry, ...]]] = []
    for d, dump, record in facts.dumps:
        where = f"{layout.FORENSICS_DIR}/{d.name}"
        present = tuple(e for e in (dump, record) if e is not None)
        odd = [e.name for e in present if e.kind != "file"]
        if d.link or odd:
            why = d.link or f"{', '.join(odd)} is not a regular file"
            out.refused.append(f"{where}: {why}: never followed, never deleted")
            continue
        if dump is None:
            if record is None:
                continue  # gone since the scan
            age = now - max(d.created_at, record.mtime)
            garbage = age > garbage_age
            reason = f"record without its dump, {age.total_seconds() / 3600:.1f} hours old: " + (
                "left by a crashed restore, delete"
                if garbage
                else "a restore may be writing it, kept"
            )
            decision = forensics.Decision(d.name, d.database, not garbage, reason, d.created_at)
            out.items.append(
                ForensicItem(decision, "orphan_record", d.status, record.size_bytes, (record.name,))
            )
            continue
        candidates.append(forensics.Candidate(d.name, d.database, d.created_at))
        pending.append((d, present))
    for (d, present), decision in zip(
        pending, forensics.decide(candidates, rule, now), strict=True
    ):
        size = sum(e.size_bytes for e in present)
        out.items.append(
            ForensicItem(decision, "dump", d.status, size, tuple(e.name for e in present))
        )
    out.items.sort(key=lambda i: (i.decision.created_at, i.name))
    out.temp_files = list(facts.temp_files)
    for e in facts.strays:
        if e.kind == "link":
            out.refused.append(f"{e.relpath}: a symbolic link to {e.link_to}")
        else:
            out.strays.append(e.relpath)
    return out


def checks(
    p: ForensicPlan | None, deleted: list[str] | None, *, blind: str | None, refused: str | None
) -> list[Check]:
    """Retention's forensic checklist lines. ``deleted``: names deleted (None for a dry
    run); ``blind``: the folder could not be looked at (both checks not run);
    ``refused``: retention deletes nothing (the deletions did not run)."""
    rule = p.rule if p else None
    floor_expected = (
        f"the newest {rule.min_keep} of each database whatever their age "
        "(MAINT_FORENSICS_MIN_KEEP), incl. its newest"
        if rule
        else "the newest MAINT_FORENSICS_MIN_KEEP of each database"
    )
    age_expected = (
        f"deleted once older than {rule.keep_days} days (MAINT_FORENSICS_KEEP_DAYS), "
        f"except the newest {rule.min_keep} of each database"
        if rule
        else "deleted once older than MAINT_FORENSICS_KEEP_DAYS"
    )
    floor_name, age_name = "forensic floor holds per database", "old forensic dumps removed"
    if blind or p is None:
        why = blind or "not run: the forensics folder was not read"
        return [
            Check(floor_name, CheckStatus.WARN, why, floor_expected),
            Check(age_name, CheckStatus.WARN, why, age_expected),
        ]
    fl = p.floor()
    out = [
        Check(
            floor_name,
            CheckStatus.PASS if p.floor_holds else CheckStatus.FAIL,
            "; ".join(f"{db}: {f['kept']} kept of {f['dumps']}" for db, f in fl.items())
            or "no forensic dumps",
            floor_expected,
            None if p.floor_holds else "nothing was deleted",
        )
    ]
    going = p.to_delete
    if refused and going:
        out.append(Check(age_name, CheckStatus.WARN, refused, age_expected))
        return out
    if not going:
        kept = sum(1 for i in p.items if i.keep)
        out.append(Check(age_name, CheckStatus.PASS, f"none ({kept} kept)", age_expected))
        return out
    listed = "; ".join(f"{i.name} ({i.decision.reason})" for i in going)
    if deleted is None:
        out.append(
            Check(age_name, CheckStatus.PASS, f"would delete {len(going)}: {listed}", age_expected)
        )
        return out
    done = [i for i in going if i.name in set(deleted)]
    failed = [i.name for i in going if i.name not in set(deleted)]
    observed = f"deleted {len(done)}: " + "; ".join(f"{i.name} ({i.decision.reason})" for i in done)
    if failed:
        observed += f"; not deleted (see planned deletions done): {', '.join(failed)}"
    status = CheckStatus.WARN if failed else CheckStatus.PASS
    out.append(Check(age_name, status, observed, age_expected))
    return out
