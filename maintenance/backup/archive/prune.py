"""Archive retention: archives are kept as long as monthly backups (MAINT_RETENTION_DAYS
monthly, the playbook's one year), with the same floor: the newest
MAINT_RETENTION_MIN_VERIFIED archives stay whatever their age. An archive under its
final name was written whole and read back when it was made, so it counts toward the
floor. Links and anything that is not an archive's name are never counted nor deleted;
deletions go through the one deleter, ``dry-run`` unless ``apply``."""

from __future__ import annotations

from datetime import timedelta

from maintenance import clock
from maintenance.backup import layout, policy
from maintenance.backup.archive.tar import ARCHIVE_DIR, TAR_SUFFIX, archive_path
from maintenance.errors import BadInput, MaintenanceError
from maintenance.fs import delete
from maintenance.results import Result
from maintenance.taskspec import RunContext


def prune(ctx: RunContext, result: Result, *, apply: bool) -> None:
    """Archive retention, its decisions in ``result``'s figures and summary."""
    root = ctx.settings.backup_root
    folder = root / ARCHIVE_DIR
    if not folder.is_dir() or folder.is_symlink():
        return
    candidates = []
    for path in sorted(folder.iterdir()):
        if not path.name.endswith(TAR_SUFFIX) or path.is_symlink() or not path.is_file():
            continue
        backup_id = path.name.removesuffix(TAR_SUFFIX)
        try:
            _, created = layout.parse_id(backup_id)
        except BadInput:
            continue
        candidates.append(
            policy.Candidate(backup_id, "archive", created, True, path.stat().st_size)
        )
    rules = policy.Policy(
        max_age={"archive": timedelta(days=ctx.settings.retention_days["monthly"])},
        min_verified=ctx.settings.retention_min_verified,
    )
    decisions = policy.decide(candidates, rules, clock.now())
    deleted, errors = [], []
    for d in decisions:
        if d.keep:
            continue
        try:
            done = delete.delete(
                archive_path(root, d.id), root=root, reason=d.reason, dry_run=not apply
            )
        except (MaintenanceError, OSError) as exc:
            errors.append(f"{d.id}: {exc}")
            continue
        if done.deleted:
            deleted.append(d.id)
    result.figures["archive_retention"] = {
        "applied": apply,
        "decisions": [{"id": d.id, "keep": d.keep, "reason": d.reason} for d in decisions],
        "deleted": deleted,
        **({"would_fail": errors} if errors and not apply else {}),
    }
    if errors and apply:
        result.check(
            "archive retention applied",
            False,
            observed=errors,
            expected="every expired archive deleted",
        )
    going = [d.id for d in decisions if not d.keep]
    kept = len(decisions) - len(going)
    if going:
        verb = "deleted" if apply else "would delete"
        result.summary += f"; archive retention {verb} {len(going)}, kept {kept}"
