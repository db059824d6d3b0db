"""Off-site retention: the backup policy (:func:`..policy.decide`) over the copies found
off-site, with MAINT_OFFSITE_RETENTION_DAYS for every tier and the same floor of
verified copies (a copy counts once its last read-back passed); deletions through the
one deleter, ``dry-run`` unless ``apply``. Temp files of interrupted copies go too
(only with ``apply``: the task runs under the backups lock, so no writer is live)."""

from __future__ import annotations

from datetime import timedelta

from maintenance.backup import policy
from maintenance.backup.layout import Tier
from maintenance.backup.offsite import copies
from maintenance.backup.offsite.state import OffsiteRun
from maintenance.errors import MaintenanceError
from maintenance.fs import delete
from maintenance.logs_setup import get_logger

log = get_logger("maint.backup.offsite")


def rules(retention_days: int, min_verified: int) -> policy.Policy:
    return policy.Policy(
        max_age={t.value: timedelta(days=retention_days) for t in Tier},
        min_verified=min_verified,
    )


def prune_stage(state: OffsiteRun, apply: bool) -> None:
    settings = state.ctx.settings
    inv = copies.scan(state.root)
    candidates = [
        policy.Candidate(c.id, c.tier.value, c.created_at, c.verified, c.size_bytes)
        for c in inv.copies
    ]
    decisions = policy.decide(
        candidates,
        rules(settings.offsite_retention_days, settings.retention_min_verified),
        state.now(),
    )
    by_id = {c.id: c for c in inv.copies}
    doomed = [d for d in decisions if not d.keep]
    deleted: list[str] = []
    errors: list[str] = []
    for d in doomed:
        try:
            delete.delete_group(
                by_id[d.id].paths.all, root=state.root, reason=d.reason, dry_run=not apply
            )
        except (MaintenanceError, OSError) as exc:
            errors.append(f"{d.id}: {exc}")
            continue
        if apply:
            deleted.append(d.id)
    for tmp in inv.temp_files if apply else []:
        try:
            delete.delete(tmp, root=state.root, reason="left by an interrupted copy", dry_run=False)
        except (MaintenanceError, OSError) as exc:
            errors.append(f"{tmp.name}: {exc}")
    freed = sum(d.size_bytes for d in doomed if d.id in deleted)
    kept_verified: dict[str, int] = {}
    for d in decisions:
        if d.keep and by_id[d.id].verified:
            kept_verified[d.tier] = kept_verified.get(d.tier, 0) + 1
    state.figures["retention"] = {
        "mode": "apply" if apply else "dry-run",
        "max_age_days": settings.offsite_retention_days,
        "min_verified": settings.retention_min_verified,
        "copies": len(decisions),
        "kept": len(decisions) - len(doomed),
        "verified_kept_by_tier": kept_verified,
        "deleted": deleted,
        "would_delete": [] if apply else [d.id for d in doomed],
        "freed_bytes": freed if apply else 0,
        "would_free_bytes": 0 if apply else sum(d.size_bytes for d in doomed),
        "temp_files": [p.name for p in inv.temp_files],
        "stray_files": [p.name for p in inv.stray_files],
        "decisions": [{"id": d.id, "keep": d.keep, "reason": d.reason} for d in decisions],
    }
    if apply:
        state.result.check(
            "off-site retention applied",
            not errors,
            observed=errors or f"{len(deleted)} deleted",
            expected="every expired copy deleted",
        )
    incomplete = [f"{c.id}: {c.problem}" for c in inv.copies if c.problem]
    state.result.check(
        "every off-site copy is complete",
        not incomplete,
        observed=incomplete or f"{len(inv.copies)} complete",
        expected="an encrypted backup with its sidecar",
        warn_only=True,
    )
    state.result.check(
        "no leftover temp files off-site",
        not inv.temp_files or apply,
        observed=[p.name for p in inv.temp_files],
        expected="none (left by interrupted copies; prune=apply removes them)",
        warn_only=True,
    )
    verb = "deleted" if apply else "would delete"
    state.phrases.append(
        f"off-site retention ({'apply' if apply else 'dry-run'}): "
        f"{len(decisions) - len(doomed)} kept, {verb} {len(doomed)}"
    )
    if doomed:
        log.info(
            "offsite.retention", mode="apply" if apply else "dry-run", ids=[d.id for d in doomed]
        )
