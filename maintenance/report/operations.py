"""The report's sections on what ran: windows and their steps, runs by task and status,
failures and what was done, backups, drills (pure: facts in, JSON-ready dicts out)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from maintenance.history.store import REJECTED_INPUT
from maintenance.report.common import (
    BAD_STATUSES,
    PEOPLE,
    Context,
    checks,
    figures,
    iso,
    missing,
    run_ref,
)
from maintenance.report.facts import COUNTED_ONLY, Facts


def windows(facts: Facts, month: str) -> dict[str, Any]:
    by_window: dict[int, list[dict[str, Any]]] = {}
    for run in facts.runs:
        if run.get("window_run_id") is not None:
            by_window.setdefault(run["window_run_id"], []).append(run)
    items = []
    for w in facts.windows:
        steps = sorted(by_window.get(w["id"], []), key=lambda r: (r["started_at"], r["id"]))
        duration = (
            (w["finished_at"] - w["started_at"]).total_seconds() if w.get("finished_at") else None
        )
        items.append(
            {
                "id": w["id"],
                "kind": w["kind"],
                "local_date": iso(w["local_date"]),
                "trigger": w["trigger"],
                "status": w["status"],
                "started_at": iso(w["started_at"]),
                "finished_at": iso(w.get("finished_at")),
                "duration_s": round(duration, 1) if duration is not None else None,
                "reason": w.get("reason"),
                "steps": [run_ref(r) for r in steps],
                "step_counts": dict(Counter(r["status"] for r in steps)),
            }
        )
    return {
        "items": items,
        "by_kind": dict(Counter(w["kind"] for w in facts.windows)),
        "missing": None if items else missing("no maintenance window recorded", month),
    }


def runs(facts: Facts) -> dict[str, Any]:
    by_status: Counter[str] = Counter()
    for statuses in facts.counts.values():
        by_status.update(statuses)
    return {
        "total": sum(by_status.values()),
        "by_status": dict(sorted(by_status.items())),
        "by_task": {t: dict(sorted(s.items())) for t, s in sorted(facts.counts.items())},
    }


def failures(facts: Facts, month: str) -> dict[str, Any]:
    """Failed, lost and missed runs (bad input a person typed at the CLI is not a
    failure of the suite), each with what came of it: the first later success of the same
    task, or nothing yet."""
    later: dict[str, list[dict[str, Any]]] = {}
    for s in facts.successes:
        later.setdefault(s["task"], []).append(s)
    items = []
    for run in facts.runs:
        if run["status"] not in BAD_STATUSES:
            continue
        if run["trigger"] in PEOPLE and run.get("error_type") in REJECTED_INPUT:
            continue  # input a person typed and was told about (history.store's rule)
        fix = next(
            (s for s in later.get(run["task"], []) if s["started_at"] > run["started_at"]), None
        )
        items.append(
            run_ref(run)
            | {
                "window_run_id": run.get("window_run_id"),
                "error_type": run.get("error_type"),
                "error_message": run.get("error_message"),
                "resolved_by": (
                    {"run_id": fix["id"], "at": iso(fix["started_at"])} if fix else None
                ),
                "action": (
                    f"succeeded again in run {fix['id']} at {iso(fix['started_at'])}"
                    if fix
                    else "no later success of this task recorded"
                ),
            }
        )
    counted = {
        t: sum(n for st, n in c.items() if st in BAD_STATUSES)
        for t, c in facts.counts.items()
        if t in COUNTED_ONLY
    }
    return {
        "items": items,
        "by_status": dict(Counter(i["status"] for i in items)),
        "unresolved": sum(1 for i in items if i["resolved_by"] is None),
        "counted_only": {t: n for t, n in counted.items() if n},
        "missing": None if items else missing("no failed, lost or missed run", month),
    }


def backups(facts: Facts, month: str) -> dict[str, Any]:
    items = []
    for run in facts.runs:
        if run["task"] != "backup.create":
            continue
        f = figures(run)
        v = f.get("verification") or {}
        level = v.get("level")
        failed_checks = [c["name"] for c in checks(run) if c.get("status") == "fail"]
        items.append(
            run_ref(run)
            | {
                "tier": (run.get("params") or {}).get("tier") or _tier_of(f.get("backup")),
                "backup": f.get("backup"),
                "size_bytes": f.get("size_bytes"),
                "dump_s": f.get("dump_s"),
                "compression_ratio": f.get("compression_ratio"),
                "verification": level,
                "verified": (None if level is None else run["status"] == "succeeded"),
                "failed_checks": failed_checks,
            }
        )
    verifications = []
    for run in facts.runs:
        if run["task"] != "backup.verify":
            continue
        f = figures(run)
        verifications.append(
            run_ref(run)
            | {
                "backup": f.get("backup"),
                "level": f.get("level"),
                "passed": run["status"] == "succeeded",
            }
        )
    made = [b for b in items if b["status"] == "succeeded" and b["size_bytes"] is not None]
    by_tier: dict[str, dict[str, Any]] = {}
    for b in made:
        t = by_tier.setdefault(b["tier"] or "unknown", {"count": 0, "bytes": 0, "largest": 0})
        t["count"] += 1
        t["bytes"] += b["size_bytes"]
        t["largest"] = max(t["largest"], b["size_bytes"])
    return {
        "items": items,
        "verifications": verifications,
        "made": len(made),
        "failed": sum(1 for b in items if b["status"] in BAD_STATUSES),
        "bytes": sum(b["size_bytes"] for b in made),
        "by_tier": by_tier,
        "verified": sum(1 for b in items if b["verified"])
        + sum(1 for v in verifications if v["passed"]),
        "missing": None if items else missing("no backup.create run recorded", month),
        "verifications_missing": None
        if verifications
        else missing("no separate backup.verify run recorded", month),
    }


def _tier_of(backup_id: Any) -> str | None:
    if isinstance(backup_id, str):
        for tier in ("daily", "weekly", "monthly"):
            if tier in backup_id:
                return tier
    return None


def drills(facts: Facts, ctx: Context) -> dict[str, Any]:
    items = []
    for run in facts.runs:
        if run["task"] != "restore.drill":
            continue
        f = figures(run)
        rto, rpo = f.get("rto_s"), f.get("rpo_s")
        rto_obj = f.get("rto_objective_s", ctx.rto_objective_s)
        rpo_obj = f.get("rpo_objective_s", ctx.rpo_objective_s)
        items.append(
            run_ref(run)
            | {
                "purpose": f.get("purpose") or (run.get("params") or {}).get("purpose"),
                "backup": f.get("backup"),
                "rto_s": rto,
                "rpo_s": rpo,
                "rto_objective_s": rto_obj,
                "rpo_objective_s": rpo_obj,
                "rto_met": None
                if rto is None or rto_obj is None
                else rto <= rto_obj and bool(f.get("passed", True)),
                "rpo_met": None if rpo is None or rpo_obj is None else rpo <= rpo_obj,
                "passed": run["status"] == "succeeded",
                "method": f.get("method"),
            }
        )
    return {
        "items": items,
        "passed": sum(1 for d in items if d["passed"]),
        "objective_missed": sum(1 for d in items if d["rto_met"] is False or d["rpo_met"] is False),
        "missing": None if items else missing("no restore drill recorded", ctx.month),
    }
