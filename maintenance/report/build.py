"""The monthly report's data, from the facts (pure: no database, no clock, no files).

:func:`build` turns :class:`~maintenance.report.facts.Facts` into one JSON-ready dict:
the report itself (the HTML is only a rendering of it). Each section has a ``missing``
sentence, beginning "not found:", when the history holds nothing for it: the report says
what it could not find instead of inventing it.
"""

from __future__ import annotations

from typing import Any

from maintenance.report import operations, service
from maintenance.report.common import Context, iso
from maintenance.report.facts import Facts

FORMAT_VERSION = 1


def latest_approvals(approvals: list[dict[str, Any]]) -> dict[str, Any]:
    """Per role, the newest sign-off (every one is kept in ``history``)."""
    latest: dict[str, Any] = {}
    for a in sorted(approvals, key=lambda a: (a["at"], a["id"])):
        latest[a["role"]] = _approval(a)
    return {
        "verified": latest.get("verified"),
        "approved": latest.get("approved"),
        "history": [_approval(a) for a in approvals],
    }


def _approval(a: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": a["id"],
        "role": a["role"],
        "by": a["by"],
        "at": iso(a["at"]),
        "note": a.get("note"),
        "report_sha256": a.get("report_sha256"),
    }


def build(facts: Facts, ctx: Context) -> dict[str, Any]:
    """The whole report (JSON-ready)."""
    period_s = (facts.end - facts.start).total_seconds()
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "month": ctx.month,
        "zone": ctx.zone,
        "period": {"start": iso(facts.start), "end": iso(facts.end)},
        "generated_at": iso(ctx.generated_at),
        "generated_by_run": ctx.run_id,
        "windows": operations.windows(facts, ctx.month),
        "runs": operations.runs(facts),
        "failures": operations.failures(facts, ctx.month),
        "backups": operations.backups(facts, ctx.month),
        "drills": operations.drills(facts, ctx),
        "health": service.health(facts, ctx.month, period_s)
        | {"pruned": service.pruned(facts, ctx)},
        "alerts": service.alerts(facts, ctx.month),
        "upkeep": service.upkeep(facts, ctx.month),
        "security": service.security(facts, ctx.month),
        "capacity": service.capacity(facts),
        "approvals": latest_approvals(facts.approvals),
    }
    data["headline"] = headline(data)
    return data


def headline(data: dict[str, Any]) -> dict[str, Any]:
    """The first lines of the report: the figures an approver looks at first."""
    h = data["health"]
    worst = min(
        (c for c in h["components"] if c["uptime_pct"] is not None),
        key=lambda c: c["uptime_pct"],
        default=None,
    )
    return {
        "windows": len(data["windows"]["items"]),
        "runs": data["runs"]["total"],
        "failures": len(data["failures"]["items"]),
        "unresolved_failures": data["failures"]["unresolved"],
        "backups": data["backups"]["made"],
        "backup_bytes": data["backups"]["bytes"],
        "drills": len(data["drills"]["items"]),
        "drills_missing_objective": data["drills"]["objective_missed"],
        "incidents": len(h["incidents"]),
        "lowest_uptime": {"component": worst["component"], "uptime_pct": worst["uptime_pct"]}
        if worst
        else None,
        "alerts_sent": len(data["alerts"]["notifications"]),
        "reclaimed_bytes": data["upkeep"]["reclaimed_bytes"],
        "security_findings": data["security"]["findings"],
    }
