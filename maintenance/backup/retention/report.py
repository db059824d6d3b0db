"""Retention's last step: the checklist of a run, from its plan and what applying it did.

A check that could not run because retention refused is never shown as passed: it is a
warning whose observed value reads ``not run: <why>``. Observed and expected values are
sentences, never Python values. Besides the plan's own checks (floor, deletions done)
come the playbook's checks of what the root holds: nothing kept past its age without a
reason, a daily backup younger than 24 hours, the total size within its budget, no
strays, no links or misplaced backups.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from maintenance.backup.inventory import BackupStatus
from maintenance.backup.layout import Tier
from maintenance.backup.retention import forensic
from maintenance.backup.retention.apply import Applied
from maintenance.backup.retention.plan import Item, Plan, age_text
from maintenance.results import Check, CheckStatus, Result
from maintenance.units import human_bytes

#: The playbook's "current backup < 24 hours old".
CURRENT_DAILY_AGE = timedelta(hours=24)


def report(p: Plan, applied: Applied) -> Result:
    """The checklist of a retention run: ``applied`` is what :func:`.apply.apply` did,
    or (``dry_run``) would do."""
    dry_run = applied.dry_run
    done = None if dry_run else applied
    result = Result()
    result.check(
        "backup root read safely",
        p.scan_error is None,
        observed=p.scan_error or f"{len(p.items)} backup ids, {p.found}",
        expected="every entry inside the root",
    )
    blind = "not run: the backup root was not read safely" if p.scan_error else None

    def not_run(name: str, why: str, expected: str) -> None:
        result.checks.append(Check(name, CheckStatus.WARN, why, expected))

    floor = p.floor()
    floor_rule = (
        f"every tier keeps >= min(MAINT_RETENTION_MIN_VERIFIED={p.policy.min_verified}, "
        "its verified backups), incl. its newest verified"
    )
    if blind:
        not_run("floor holds per tier", blind, floor_rule)
    else:
        result.check(
            "floor holds per tier",
            p.floor_holds,
            observed=_floor_kept(floor),
            expected=_floor_wanted(floor),
            detail=None if p.floor_holds else "nothing was deleted",
        )
    if done is not None and done.refused:
        not_run("planned deletions done", f"not run: {done.refused}", "every planned deletion")
    elif done is not None:
        result.check(
            "planned deletions done",
            not done.errors,
            observed="; ".join(done.errors) or _n(len(done.deleted), "file"),
            expected="every planned deletion",
            detail="; ".join(done.skipped) or None,
        )
    if blind:
        for name, expected in _ROOT_CHECKS.items():
            not_run(name, blind, expected.format(budget=_budget(p)))
        after = p.total_bytes
    else:
        after = _root_checks(result, p, done)
    result.checks.extend(
        forensic.checks(
            p.forensic,
            done.forensics_deleted if done else None,
            blind=blind,
            refused=f"not run: {p.refusal}" if p.refusal else None,
        )
    )

    kept = [i for i in p.backups if i.keep]
    gone = [i for i in p.to_delete if i.kind == "backup"]
    orphans = [i for i in p.to_delete if i.kind == "orphan_manifest"]
    fp = p.forensic
    result.figures = {
        "dry_run": dry_run,
        "now": p.now.isoformat(),
        "policy": {
            "max_age_days": {t: a.days for t, a in p.policy.max_age.items()},
            "min_verified": p.policy.min_verified,
        },
        "decisions": p.rows(),
        "temp_files": [t.to_dict() for t in p.temp_files],
        "strays": p.strays,
        "refused": p.refused,
        "floor": {} if blind else floor,
        "forensics": [i.to_dict() for i in fp.items] if fp else [],
        "forensics_policy": (
            {"keep_days": fp.rule.keep_days, "min_keep": fp.rule.min_keep} if fp else {}
        ),
        "forensics_floor": fp.floor() if fp else {},
        "backups_kept": len(kept),
        "backups_to_delete": len(gone),
        "bytes_to_free": p.bytes_to_free,
        "deleted": done.deleted if done else [],
        **({"would_delete": applied.would_delete} if dry_run else {}),
        **({"would_fail": applied.errors} if dry_run and applied.errors else {}),
        "bytes_freed": done.bytes_freed if done else 0,
        "total_bytes_before": p.total_bytes,
        "total_bytes_after": after,
        "budget_bytes": p.budget_bytes,
    }
    result.summary = _summary(p, done, kept, gone, orphans)
    return result


def _floor_kept(floor: dict[str, dict[str, Any]]) -> str:
    parts = [f"{t} {f['verified_kept']}" for t, f in floor.items()]
    return f"{parts[0]} verified kept, " + ", ".join(parts[1:]) if parts else "no tiers"


def _floor_wanted(floor: dict[str, dict[str, Any]]) -> str:
    return "; ".join(
        f"{t} >= {f['required']} incl. the newest verified {f['newest_verified']}"
        if f["newest_verified"]
        else f"{t}: no verified backup"
        for t, f in floor.items()
    )


#: The checks of what the root holds, and what each expects.
_ROOT_CHECKS = {
    "backups within retention age": "none older than its tier's retention",
    "current daily backup < 24 hours old": "< 24 hours",
    "total size within budget": "{budget}",
    "no stray files": "only backups, manifests, forensic dumps and temp files",
    "no links or misplaced backups": "regular files in their tier folder, no links in the root",
}


def _budget(p: Plan) -> str:
    return f"<= {human_bytes(p.budget_bytes)} (MAINT_BACKUP_BUDGET_BYTES={p.budget_bytes})"


def _root_checks(result: Result, p: Plan, done: Applied | None) -> int:
    """The checks of what the root holds; the total size after the run."""
    aged = [
        i.id
        for i in p.backups
        if i.keep and p.now - i.decision.created_at > p.policy.max_age.get(i.tier, timedelta.max)
    ]
    result.check(
        "backups within retention age",
        not aged,
        observed=", ".join(aged) or "none older",
        expected=_ROOT_CHECKS["backups within retention age"],
        warn_only=True,
        detail=(
            f"the floor keeps {len(aged)} backups past their age because newer ones are not "
            "verified (failed, unverified or broken): look at backup.verify"
            if aged
            else None
        ),
    )
    current = max(
        (i for i in p.backups if i.tier == Tier.DAILY and i.status is not BackupStatus.BROKEN),
        key=lambda i: i.decision.created_at,
        default=None,
    )
    current_age = p.now - current.decision.created_at if current else None
    result.check(
        "current daily backup < 24 hours old",
        current_age is not None and current_age < CURRENT_DAILY_AGE,
        observed=(
            f"{current.id} ({current.status}), {age_text(current_age)} old"
            if current and current_age is not None
            else "no daily backup"
        ),
        expected="< 24 hours",
        warn_only=True,
    )
    after = p.total_bytes - (p.bytes_to_free if done is None else done.bytes_freed)
    result.check(
        "total size within budget",
        after <= p.budget_bytes,
        observed=human_bytes(after),
        expected=_budget(p),
        warn_only=True,
        detail=f"{human_bytes(p.total_bytes)} before retention",
    )
    result.check(
        "no stray files",
        not p.strays,
        observed="; ".join(p.strays) or "none",
        expected=_ROOT_CHECKS["no stray files"],
        warn_only=True,
    )
    result.check(
        "no links or misplaced backups",
        not p.refused,
        observed="; ".join(p.refused) or "none",
        expected=_ROOT_CHECKS["no links or misplaced backups"],
        warn_only=True,
    )
    return after


def _summary(
    p: Plan, done: Applied | None, kept: list[Item], gone: list[Item], orphans: list[Item]
) -> str:
    if p.scan_error:
        return f"refused: {p.scan_error}"
    if p.refusal:
        return f"refused: {p.refusal}; nothing deleted"
    f_gone = [f for f in p.forensics_to_delete if f.kind == "dump"]
    f_orphans = [f for f in p.forensics_to_delete if f.kind == "orphan_record"]
    if done is None:
        size = human_bytes(sum(i.disk_bytes for i in gone))
        text = f"dry run: would delete {_n(len(gone), 'backup')} ({size}), keep {len(kept)}"
        extras = _extras(len(p.temp_to_remove), len(orphans) + len(f_orphans), len(f_gone))
        return text + (f"; would remove {extras}" if extras else "")
    deleted = set(done.backups_deleted)
    n = sum(1 for i in gone if i.id in deleted)
    freed = human_bytes(done.bytes_freed)
    text = f"deleted {_n(n, 'backup')} ({freed} freed), kept {len(kept) + len(gone) - n}"
    temps = {t.relpath for t in p.temp_to_remove} & set(done.deleted)
    f_done = set(done.forensics_deleted)
    extras = _extras(
        len(temps),
        sum(1 for i in orphans if i.id in deleted) + sum(1 for f in f_orphans if f.name in f_done),
        sum(1 for f in f_gone if f.name in f_done),
    )
    text += f"; removed {extras}" if extras else ""
    if done.errors or done.skipped:
        text += f"; {len(done.errors)} failed, {len(done.skipped)} skipped (folder locked)"
    return text


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _extras(temps: int, orphans: int, forensic: int = 0) -> str:
    parts = []
    if temps:
        parts.append(_n(temps, "temp file"))
    if orphans:
        parts.append(_n(orphans, "orphan manifest"))
    if forensic:
        parts.append(_n(forensic, "forensic dump"))
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
