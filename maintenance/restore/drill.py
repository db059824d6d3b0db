"""``restore.drill``: the disaster-recovery drill the playbook asks for monthly (and as
the quarterly DR test), run by itself.

It restores the newest verified backup into a scratch database, runs the whole restore
checklist (schema, every table's rows, db.stats counts, foreign keys, orphans,
duplicates, dates), measures

* **RTO**, recovery time: from the drill's start to a verified database, and
* **RPO**, recovery point: the age of the backup at the drill's start (the data a
  disaster at that moment would lose),

drops the scratch database, records the drill in the backup's manifest (``maint backups
list`` shows it) and in the history, and fails loudly when either objective is exceeded
(MAINT_RESTORE_RTO_OBJECTIVE_S, MAINT_RESTORE_RPO_OBJECTIVE_S).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from maintenance import clock
from maintenance.backup import inventory, manifest, proof
from maintenance.backup import verify as backup_verify
from maintenance.backup.layout import Tier
from maintenance.logs_setup import get_logger
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext

log = get_logger("maint.restore")


class DrillParams(Params):
    tier: Tier | None = Field(
        None, description="Drill the newest verified backup of this tier (default: any)."
    )
    purpose: Literal["monthly", "quarterly", "adhoc"] = Field(
        "adhoc", description="Recorded with the drill: the monthly drill or the quarterly DR test."
    )


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def drill(ctx: RunContext, params: DrillParams) -> Result:
    s = ctx.settings
    started = clock.now()
    result = Result()
    backup = inventory.scan(s.backup_root).latest(params.tier, verified=True)
    result.check(
        "a verified backup to drill",
        backup is not None,
        observed=backup.id if backup else f"none in {s.backup_root}",
        expected=f"the newest verified {params.tier.value + ' ' if params.tier else ''}backup",
    )
    if backup is None:
        result.summary = "DRILL FAILED: there is no verified backup to restore"
        log.error("restore.drill_failed", reason=result.summary)
        return result
    rpo = (started - backup.created_at).total_seconds()

    found, _ = backup_verify.verify_backup(s, backup, "checksum")
    result.checks.extend(found)
    report = None
    if backup_verify.passed(found) and backup.manifest is not None:
        report = proof.scratch_restore(result, s, backup.path, backup.manifest, "drill")
    rto = (clock.now() - started).total_seconds()
    verified = not result.failed
    result.check(
        "RTO within objective",
        verified and rto <= s.restore_rto_objective_s,
        observed=_duration(rto) if verified else f"not recovered ({_duration(rto)} spent)",
        expected=f"<= {_duration(s.restore_rto_objective_s)} (MAINT_RESTORE_RTO_OBJECTIVE_S)",
    )
    result.check(
        "RPO within objective",
        rpo <= s.restore_rpo_objective_s,
        observed=_duration(rpo),
        expected=f"<= {_duration(s.restore_rpo_objective_s)} (MAINT_RESTORE_RPO_OBJECTIVE_S)",
    )
    passed = not result.failed
    entry = manifest.Drill(
        at=started,
        passed=passed,
        purpose=params.purpose,
        run_id=ctx.run_id,
        rto_s=round(rto, 3),
        rpo_s=round(rpo, 1),
        load_s=round(report.duration_s, 3) if report else None,
        method=report.method if report else None,
    )
    if backup.manifest_path.exists():
        manifest.record_drill(backup.manifest_path, entry)
    result.figures = {
        "backup": backup.id,
        **entry.document(),
        "rto_objective_s": s.restore_rto_objective_s,
        "rpo_objective_s": s.restore_rpo_objective_s,
    }
    verdict = "passed" if passed else "DRILL FAILED"
    result.summary = (
        f"{params.purpose} drill {verdict}: {backup.id}, RTO {_duration(rto)}, RPO {_duration(rpo)}"
        + ("" if passed else ": " + ", ".join(c.name for c in result.failed))
    )
    if not passed:
        log.error(
            "restore.drill_failed",
            backup=backup.id,
            rto_s=round(rto, 1),
            rpo_s=round(rpo, 1),
            failed=[c.name for c in result.failed],
        )
    return result
