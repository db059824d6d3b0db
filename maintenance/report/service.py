"""The report's sections on the service: health uptime and incidents, alerts, upkeep,
security findings, the capacity forecast (pure: facts in, JSON-ready dicts out)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from maintenance.health.document import component_status
from maintenance.report.common import Context, checks, figures, iso, missing, run_ref
from maintenance.report.facts import Facts

#: health.check's interval: the samples a month should have (coverage)
SAMPLE_INTERVAL_S = 300


def health(facts: Facts, month: str, period_s: float) -> dict[str, Any]:
    """Per component: samples by status, uptime (share of samples not ``fail``) and the
    share fully healthy; incidents: each stretch of consecutive samples in which a
    component was not ``pass``, from its first such sample to the first ``pass`` after it
    (open when the month ended on it)."""
    per: dict[str, Counter[str]] = {}
    open_: dict[str, dict[str, Any]] = {}
    incidents: list[dict[str, Any]] = []
    rank = {"pass": 0, "warn": 1, "fail": 2}
    for sample in facts.samples:
        statuses = component_status({"checks": sample["checks"]})
        at = sample["taken_at"]
        for comp, st in statuses.items():
            per.setdefault(comp, Counter())[st] += 1
            cur = open_.get(comp)
            if st == "pass":
                if cur is not None:
                    cur["end"] = at
                    incidents.append(cur)
                    del open_[comp]
            elif cur is None:
                open_[comp] = {
                    "component": comp,
                    "start": at,
                    "end": None,
                    "worst": st,
                    "samples": 1,
                }
            else:
                cur["samples"] += 1
                if rank[st] > rank[cur["worst"]]:
                    cur["worst"] = st
    incidents.extend(open_.values())
    incidents.sort(key=lambda i: (i["start"], i["component"]))
    components = []
    for comp, c in per.items():
        n = sum(c.values())
        components.append(
            {
                "component": comp,
                "samples": n,
                "pass": c["pass"],
                "warn": c["warn"],
                "fail": c["fail"],
                "uptime_pct": round(100 * (n - c["fail"]) / n, 3) if n else None,
                "healthy_pct": round(100 * c["pass"] / n, 3) if n else None,
            }
        )
    expected = int(period_s // SAMPLE_INTERVAL_S)
    return {
        "samples": len(facts.samples),
        "expected_samples": expected,
        "coverage_pct": round(100 * len(facts.samples) / expected, 1) if expected else None,
        "by_status": dict(Counter(s["status"] for s in facts.samples)),
        "components": components,
        "incidents": [
            {
                "component": i["component"],
                "worst": i["worst"],
                "start": iso(i["start"]),
                "end": iso(i["end"]),
                "duration_s": round((i["end"] - i["start"]).total_seconds(), 1)
                if i["end"]
                else None,
                "samples": i["samples"],
                "open_at_month_end": i["end"] is None,
            }
            for i in incidents
        ],
        "missing": None if facts.samples else missing("no health sample recorded", month),
    }


def pruned(facts: Facts, ctx: Context) -> str | None:
    """Why the samples of the month's start are gone, when health.check's pruning took
    them before the report was built (a report built on the first Sunday with 30 days
    kept misses the month's first days)."""
    if ctx.sample_retention_days is None:
        return None
    cutoff = ctx.generated_at - timedelta(days=ctx.sample_retention_days)
    if cutoff <= facts.start or (facts.samples and facts.samples[0]["taken_at"] < cutoff):
        return None  # nothing the pruning would have taken, or it did not take it
    return (
        f"not found: samples before {iso(min(cutoff, facts.end))} were pruned "
        f"(MAINT_HEALTH_SAMPLE_RETENTION_DAYS={ctx.sample_retention_days}); the health figures "
        "cover the rest of the month only"
    )


def alerts(facts: Facts, month: str) -> dict[str, Any]:
    sent = facts.notifications
    return {
        "notifications": [
            {
                "id": n["id"],
                "at": iso(n["created_at"]),
                "kind": n["kind"],
                "severity": n["severity"],
                "subject": n["subject"],
                "channel": n["channel"],
                "status": n["status"],
                "run_id": n.get("run_id"),
            }
            for n in sent
        ],
        "by_kind": dict(Counter(n["kind"] for n in sent)),
        "delivery_failed": sum(1 for n in sent if n["status"] == "failed"),
        "open": [
            {"key": a["key"], "status": a["status"], "opened_at": iso(a["opened_at"])}
            for a in facts.open_alerts
        ],
        "missing": None if sent else missing("no alert or notice sent", month),
    }


def upkeep(facts: Facts, month: str) -> dict[str, Any]:
    items = []
    slow: list[dict[str, Any]] = []
    slow_from: int | None = None
    slow_missing: str | None = None
    for run in facts.runs:
        if not run["task"].startswith("db."):
            continue
        f = figures(run)
        items.append(
            run_ref(run)
            | {
                "reclaimed_bytes": f.get("reclaimed_bytes"),
                "dead_tuples_before": f.get("dead_tuples_before"),
                "dead_tuples_after": f.get("dead_tuples_after"),
                "dry_run": f.get("dry_run"),
            }
        )
        statements = f.get("statements")
        if run["task"] == "db.report" and isinstance(statements, dict):
            if "slowest" in statements:  # the newest report of the month wins
                slow = [
                    {
                        "query": q.get("query"),
                        "mean_ms": q.get("mean_ms"),
                        "calls": q.get("calls"),
                        "total_ms": q.get("total_ms"),
                    }
                    for q in statements.get("slowest") or []
                ]
                slow_from, slow_missing = run["id"], None
            elif not slow:
                slow_missing = (
                    f"not found: pg_stat_statements unreadable ({statements.get('unavailable')})"
                )
    if not slow and slow_missing is None:
        slow_missing = missing("no db.report run with slow queries", month)
    return {
        "items": items,
        "reclaimed_bytes": sum(
            i["reclaimed_bytes"] or 0
            for i in items
            if i["status"] == "succeeded" and not i["dry_run"]
        ),
        "slow_queries": slow,
        "slow_queries_run": slow_from,
        "slow_queries_missing": slow_missing,
        "missing": None if items else missing("no database upkeep (db.*) run recorded", month),
    }


def security(facts: Facts, month: str) -> dict[str, Any]:
    items = []
    for run in facts.runs:
        if not run["task"].startswith("security."):
            continue
        findings = [
            {"name": c.get("name"), "status": c.get("status"), "observed": c.get("observed")}
            for c in checks(run)
            if c.get("status") in ("fail", "warn")
        ]
        items.append(run_ref(run) | {"findings": findings})
    return {
        "items": items,
        "findings": sum(len(i["findings"]) for i in items),
        "failing": sum(1 for i in items for f in i["findings"] if f["status"] == "fail"),
        "missing": None
        if items
        else missing("no security review (security.*) run recorded", month),
    }


def capacity(facts: Facts) -> dict[str, Any]:
    run = facts.capacity
    if run is None:
        return {"missing": "not found: no capacity forecast found (capacity.forecast has not run)"}
    f = figures(run)
    series = []
    for s in f.get("series") or []:
        if not isinstance(s, dict):
            continue
        series.append(
            {
                key: s.get(key)
                for key in (
                    "key",
                    "label",
                    "unit",
                    "current",
                    "limit",
                    "slope_per_day",
                    "crossing_at",
                    "days_left",
                    "verdict",
                    "status",
                    "note",
                )
            }
        )
    return run_ref(run) | {
        "warn_days": f.get("warn_days"),
        "series": series,
        "missing": None if series else "not found: the newest capacity forecast holds no series",
    }
