"""``backup.retention``, the four steps in order: read the facts, plan, apply (unless
``dry_run``, the default), report every decision."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from maintenance import clock
from maintenance.backup.retention import apply, facts, plan, report
from maintenance.config import Settings
from maintenance.results import Result
from maintenance.taskspec import Params, RunContext


class RetentionParams(Params):
    dry_run: bool = Field(
        True,
        description="Only report what would be deleted (the default); dry_run=false deletes.",
    )


def survey(settings: Settings, now: datetime) -> plan.Plan:
    """What retention would do at ``now``: reads the backup root, changes nothing."""
    return plan.plan(facts.read(settings.backup_root), plan.rules_of(settings), now)


def run(ctx: RunContext, params: RetentionParams, *, now: datetime | None = None) -> Result:
    """Plan, apply (or, with ``dry_run``, only check what would be deleted), report."""
    p = survey(ctx.settings, now or clock.now())
    return report.report(p, apply.apply(p, dry_run=params.dry_run))
