"""The report page's sections on what ran: windows, failures, backups, drills, runs by
task (pure: the report's data in, escaped HTML out)."""

from __future__ import annotations

from typing import Any

from maintenance.report.page import Page, cell, chart, esc, missing, seconds, size, yes_no


def windows(p: Page, d: dict[str, Any]) -> str:
    w = d["windows"]
    if w["missing"]:
        return missing(w["missing"])
    out = [
        p.table(
            ["window", "kind", "night", "status", "started", "duration", "steps"],
            [
                [
                    cell(f"window run {x['id']}"),
                    cell(x["kind"]),
                    cell(x["local_date"]),
                    cell(x["status"], status=True),
                    cell(p.when(x["started_at"])),
                    cell(seconds(x["duration_s"]), num=True),
                    cell(
                        ", ".join(f"{n} {s}" for s, n in sorted(x["step_counts"].items()))
                        or "none recorded"
                    ),
                ]
                for x in w["items"]
            ],
        )
    ]
    for x in w["items"]:
        title = f"Window run {x['id']}: {x['kind']} {x['local_date']} ({x['status']})"
        if x.get("reason"):
            title += f", {x['reason']}"
        out.append(f"<h3>{esc(title)}</h3>")
        if not x["steps"]:
            out.append(missing("not found: no step of this window recorded"))
            continue
        out.append(
            p.table(
                ["run", "task", "status", "started", "duration", "summary"],
                [
                    [
                        cell(s["run_id"], num=True),
                        cell(s["task"]),
                        cell(s["status"], status=True),
                        cell(p.when(s["started_at"])),
                        cell(seconds(s["duration_s"]), num=True),
                        cell(s["summary"]),
                    ]
                    for s in x["steps"]
                ],
            )
        )
    return "".join(out)


def failures(p: Page, d: dict[str, Any]) -> str:
    f = d["failures"]
    extra = "".join(
        f'<p class="more">{esc(t)}: {n} failed runs, counted only: see the health incidents.</p>'
        for t, n in f["counted_only"].items()
    )
    if f["missing"]:
        return missing(f["missing"]) + extra
    return (
        p.table(
            ["run", "task", "status", "started", "trigger", "error", "what was done"],
            [
                [
                    cell(x["run_id"], num=True),
                    cell(x["task"]),
                    cell(x["status"], status=True),
                    cell(p.when(x["started_at"])),
                    cell(
                        x["trigger"]
                        + (f" (window run {x['window_run_id']})" if x.get("window_run_id") else "")
                    ),
                    cell(
                        ": ".join(
                            v
                            for v in (
                                x.get("error_type"),
                                x.get("error_message") or x.get("summary"),
                            )
                            if v
                        )
                    ),
                    cell(
                        f"succeeded again in run {x['resolved_by']['run_id']} at {p.when(x['resolved_by']['at'])}"
                        if x["resolved_by"]
                        else x["action"]
                    ),
                ]
                for x in f["items"]
            ],
        )
        + extra
    )


def backups(p: Page, d: dict[str, Any], charts: dict[str, str | None]) -> str:
    b = d["backups"]
    out = []
    if b["missing"]:
        out.append(missing(b["missing"]))
    else:
        tiers = ", ".join(
            f"{t}: {v['count']} ({size(v['bytes'])}, largest {size(v['largest'])})"
            for t, v in sorted(b["by_tier"].items())
        )
        out.append(
            f"<p>{esc(b['made'])} backups made ({esc(size(b['bytes']))}); {esc(b['failed'])} failed. {esc(tiers)}</p>"
        )
        out.append(
            p.table(
                [
                    "run",
                    "started",
                    "tier",
                    "backup",
                    "status",
                    "size",
                    "duration",
                    "dump",
                    "ratio",
                    "verification",
                    "verified",
                ],
                [
                    [
                        cell(x["run_id"], num=True),
                        cell(p.when(x["started_at"])),
                        cell(x["tier"]),
                        cell(x["backup"]),
                        cell(x["status"], status=True),
                        cell(size(x["size_bytes"]), num=True),
                        cell(seconds(x["duration_s"]), num=True),
                        cell(seconds(x["dump_s"]), num=True),
                        cell(x["compression_ratio"], num=True),
                        cell(x["verification"] or "none"),
                        cell(yes_no(x["verified"])),
                    ]
                    for x in b["items"]
                ],
            )
        )
    out.append(chart(charts.get("backup_size"), "not found: no backup size to chart"))
    out.append(chart(charts.get("backup_duration"), "not found: no backup duration to chart"))
    out.append("<h3>Separate verifications (backup.verify)</h3>")
    if b["verifications_missing"]:
        out.append(missing(b["verifications_missing"]))
    else:
        out.append(
            p.table(
                ["run", "started", "backup", "level", "passed", "summary"],
                [
                    [
                        cell(v["run_id"], num=True),
                        cell(p.when(v["started_at"])),
                        cell(v["backup"]),
                        cell(v["level"]),
                        cell(yes_no(v["passed"])),
                        cell(v["summary"]),
                    ]
                    for v in b["verifications"]
                ],
            )
        )
    return "".join(out)


def drills(p: Page, d: dict[str, Any], charts: dict[str, str | None]) -> str:
    r = d["drills"]
    if r["missing"]:
        return missing(r["missing"]) + missing("not found: no drill RTO to chart")
    table = p.table(
        [
            "run",
            "started",
            "purpose",
            "backup",
            "status",
            "RTO",
            "RTO objective",
            "met",
            "RPO",
            "RPO objective",
            "met",
        ],
        [
            [
                cell(x["run_id"], num=True),
                cell(p.when(x["started_at"])),
                cell(x["purpose"]),
                cell(x["backup"]),
                cell(x["status"], status=True),
                cell(seconds(x["rto_s"]), num=True),
                cell(seconds(x["rto_objective_s"]), num=True),
                cell(yes_no(x["rto_met"])),
                cell(seconds(x["rpo_s"]), num=True),
                cell(seconds(x["rpo_objective_s"]), num=True),
                cell(yes_no(x["rpo_met"])),
            ]
            for x in r["items"]
        ],
    )
    return table + chart(charts.get("drill_rto"), "not found: no drill RTO to chart")


def runs(p: Page, d: dict[str, Any]) -> str:
    r = d["runs"]
    if not r["total"]:
        return missing(f"not found: no run recorded in {d['month']}")
    statuses = sorted(r["by_status"])
    return p.table(
        ["task", *statuses],
        [
            [cell(t), *(cell(c.get(s, 0), num=True) for s in statuses)]
            for t, c in r["by_task"].items()
        ],
    )
