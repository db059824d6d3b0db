"""The monthly report's data, from the facts (pure: no database, no clock, no files).

:func:`build` turns :class:`~maintenance.report.facts.Facts` into one JSON-ready dict:
the report itself (the HTML is only a rendering of it). Each section has a ``missing``
sentence, beginning "not found:", when the history holds nothing for it: the report says
what it could not find instead of inventing it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from maintenance.errors import BadInput
from maintenance.health.document import component_status
from maintenance.history.store import REJECTED_INPUT
from maintenance.report.facts import COUNTED_ONLY, Facts

FORMAT_VERSION = 1
#: health.check's interval: the samples a month should have (coverage)
SAMPLE_INTERVAL_S = 300
BAD_STATUSES = ("failed", "lost", "missed")
#: who can type a bad input (history.store.rejected_input's rule)
PEOPLE = ("cli", "adhoc")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


# --- the month ------------------------------------------------------------------------------


def parse_month(text: str) -> tuple[int, int]:
    """``YYYY-MM`` -> (year, month); BadInput otherwise."""
    m = _MONTH.match(text.strip())
    if not m:
        raise BadInput(f"month must be YYYY-MM (e.g. 2026-11), got {text!r}")
    return int(m.group(1)), int(m.group(2))


def previous_month(now: datetime, zone: ZoneInfo) -> str:
    """The month before the one ``now`` falls in, in ``zone``."""
    local = now.astimezone(zone).date().replace(day=1) - timedelta(days=1)
    return f"{local.year:04d}-{local.month:02d}"


def span(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The month as UTC instants [first local midnight, next month's first local midnight)."""
    year, mon = parse_month(month)
    first = date(year, mon, 1)
    nxt = date(year + mon // 12, mon % 12 + 1, 1)

    def midnight(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)

    return midnight(first), midnight(nxt)


# --- helpers --------------------------------------------------------------------------------


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant as the report writes it (``...Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime | date | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return moment.isoformat()


def _figures(run: dict[str, Any]) -> dict[str, Any]:
    return dict((run.get("result") or {}).get("figures") or {})


def _checks(run: dict[str, Any]) -> list[dict[str, Any]]:
    return list((run.get("result") or {}).get("checks") or [])


def _missing(what: str, month: str) -> str:
    return f"not found: {what} in {month}"


def _run_ref(run: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run["id"],
        "task": run["task"],
        "status": run["status"],
        "trigger": run["trigger"],
        "started_at": _iso(run["started_at"]),
        "finished_at": _iso(run.get("finished_at")),
        "duration_s": run.get("duration_s"),
        "summary": run.get("summary"),
    }


@dataclass(frozen=True)
class Context:
    """What the report is about and when it was made."""

    month: str
    zone: str
    generated_at: datetime
    run_id: int | None = None
    #: a drill's objectives when its result does not carry them (settings)
    rto_objective_s: float | None = None
    rpo_objective_s: float | None = None
    #: MAINT_HEALTH_SAMPLE_RETENTION_DAYS: samples older than this were pruned
    sample_retention_days: int | None = None


# --- the sections -------------------------------------------------------------------------


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
                "local_date": _iso(w["local_date"]),
                "trigger": w["trigger"],
                "status": w["status"],
                "started_at": _iso(w["started_at"]),
                "finished_at": _iso(w.get("finished_at")),
                "duration_s": round(duration, 1) if duration is not None else None,
                "reason": w.get("reason"),
                "steps": [_run_ref(r) for r in steps],
                "step_counts": dict(Counter(r["status"] for r in steps)),
            }
        )
    return {
        "items": items,
        "by_kind": dict(Counter(w["kind"] for w in facts.windows)),
        "missing": None if items else _missing("no maintenance window recorded", month),
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
            _run_ref(run)
            | {
                "window_run_id": run.get("window_run_id"),
                "error_type": run.get("error_type"),
                "error_message": run.get("error_message"),
                "resolved_by": (
                    {"run_id": fix["id"], "at": _iso(fix["started_at"])} if fix else None
                ),
                "action": (
                    f"succeeded again in run {fix['id']} at {_iso(fix['started_at'])}"
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
        "missing": None if items else _missing("no failed, lost or missed run", month),
    }


def backups(facts: Facts, month: str) -> dict[str, Any]:
    items = []
    for run in facts.runs:
        if run["task"] != "backup.create":
            continue
        f = _figures(run)
        v = f.get("verification") or {}
        level = v.get("level")
        failed_checks = [c["name"] for c in _checks(run) if c.get("status") == "fail"]
        items.append(
            _run_ref(run)
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
        f = _figures(run)
        verifications.append(
            _run_ref(run)
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
        "missing": None if items else _missing("no backup.create run recorded", month),
        "verifications_missing": None
        if verifications
        else _missing("no separate backup.verify run recorded", month),
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
        f = _figures(run)
        rto, rpo = f.get("rto_s"), f.get("rpo_s")
        rto_obj = f.get("rto_objective_s", ctx.rto_objective_s)
        rpo_obj = f.get("rpo_objective_s", ctx.rpo_objective_s)
        items.append(
            _run_ref(run)
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
        "missing": None if items else _missing("no restore drill recorded", ctx.month),
    }


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
                "start": _iso(i["start"]),
                "end": _iso(i["end"]),
                "duration_s": round((i["end"] - i["start"]).total_seconds(), 1)
                if i["end"]
                else None,
                "samples": i["samples"],
                "open_at_month_end": i["end"] is None,
            }
            for i in incidents
        ],
        "missing": None if facts.samples else _missing("no health sample recorded", month),
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
        f"not found: samples before {_iso(min(cutoff, facts.end))} were pruned "
        f"(MAINT_HEALTH_SAMPLE_RETENTION_DAYS={ctx.sample_retention_days}); the health figures "
        "cover the rest of the month only"
    )


def alerts(facts: Facts, month: str) -> dict[str, Any]:
    sent = facts.notifications
    return {
        "notifications": [
            {
                "id": n["id"],
                "at": _iso(n["created_at"]),
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
            {"key": a["key"], "status": a["status"], "opened_at": _iso(a["opened_at"])}
            for a in facts.open_alerts
        ],
        "missing": None if sent else _missing("no alert or notice sent", month),
    }


def upkeep(facts: Facts, month: str) -> dict[str, Any]:
    items = []
    slow: list[dict[str, Any]] = []
    slow_from: int | None = None
    slow_missing: str | None = None
    for run in facts.runs:
        if not run["task"].startswith("db."):
            continue
        f = _figures(run)
        items.append(
            _run_ref(run)
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
        slow_missing = _missing("no db.report run with slow queries", month)
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
        "missing": None if items else _missing("no database upkeep (db.*) run recorded", month),
    }


def security(facts: Facts, month: str) -> dict[str, Any]:
    items = []
    for run in facts.runs:
        if not run["task"].startswith("security."):
            continue
        findings = [
            {"name": c.get("name"), "status": c.get("status"), "observed": c.get("observed")}
            for c in _checks(run)
            if c.get("status") in ("fail", "warn")
        ]
        items.append(_run_ref(run) | {"findings": findings})
    return {
        "items": items,
        "findings": sum(len(i["findings"]) for i in items),
        "failing": sum(1 for i in items for f in i["findings"] if f["status"] == "fail"),
        "missing": None
        if items
        else _missing("no security review (security.*) run recorded", month),
    }


def capacity(facts: Facts) -> dict[str, Any]:
    run = facts.capacity
    if run is None:
        return {"missing": "not found: no capacity forecast found (capacity.forecast has not run)"}
    f = _figures(run)
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
    return _run_ref(run) | {
        "warn_days": f.get("warn_days"),
        "series": series,
        "missing": None if series else "not found: the newest capacity forecast holds no series",
    }


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
        "at": _iso(a["at"]),
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
        "period": {"start": _iso(facts.start), "end": _iso(facts.end)},
        "generated_at": _iso(ctx.generated_at),
        "generated_by_run": ctx.run_id,
        "windows": windows(facts, ctx.month),
        "runs": runs(facts),
        "failures": failures(facts, ctx.month),
        "backups": backups(facts, ctx.month),
        "drills": drills(facts, ctx),
        "health": health(facts, ctx.month, period_s) | {"pruned": pruned(facts, ctx)},
        "alerts": alerts(facts, ctx.month),
        "upkeep": upkeep(facts, ctx.month),
        "security": security(facts, ctx.month),
        "capacity": capacity(facts),
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
