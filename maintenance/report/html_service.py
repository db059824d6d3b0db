"""The report page's sections on the service: health, alerts, upkeep, security, capacity
(pure: the report's data in, escaped HTML out)."""

from __future__ import annotations

from typing import Any

from maintenance.report.page import Page, cell, chart, esc, missing, seconds, size


def health(p: Page, d: dict[str, Any], charts: dict[str, str | None]) -> str:
    h = d["health"]
    if h["missing"]:
        return missing(h["missing"]) + missing("not found: no uptime to chart")
    out = [
        f"<p>{esc(h['samples'])} samples of the {esc(h['expected_samples'])} a 5-minute check takes "
        f"in the month ({esc(h['coverage_pct'])}% covered). Uptime: share of samples in which the "
        "component was not failing; healthy: share in which it passed.</p>",
        missing(h.get("pruned")),
        p.table(
            ["component", "samples", "pass", "warn", "fail", "uptime %", "healthy %"],
            [
                [
                    cell(c["component"]),
                    cell(c["samples"], num=True),
                    cell(c["pass"], num=True),
                    cell(c["warn"], num=True),
                    cell(c["fail"], num=True),
                    cell(c["uptime_pct"], num=True),
                    cell(c["healthy_pct"], num=True),
                ]
                for c in h["components"]
            ],
        ),
        chart(charts.get("uptime"), "not found: no uptime to chart"),
        "<h3>Incidents (a component not passing, from the first such sample to its recovery)</h3>",
    ]
    if not h["incidents"]:
        out.append(missing("not found: no health incident this month"))
    else:
        out.append(
            p.table(
                ["component", "worst", "from", "to", "duration", "samples"],
                [
                    [
                        cell(i["component"]),
                        cell(i["worst"], status=True),
                        cell(p.when(i["start"])),
                        cell(p.when(i["end"]) if i["end"] else "still open at the month's end"),
                        cell(seconds(i["duration_s"]), num=True),
                        cell(i["samples"], num=True),
                    ]
                    for i in h["incidents"]
                ],
            )
        )
    return "".join(out)


def alerts(p: Page, d: dict[str, Any]) -> str:
    a = d["alerts"]
    out = []
    if a["missing"]:
        out.append(missing(a["missing"]))
    else:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(a["by_kind"].items()))
        out.append(f"<p>{esc(kinds)}; {esc(a['delivery_failed'])} deliveries failed.</p>")
        out.append(
            p.table(
                ["sent", "kind", "severity", "channel", "delivery", "subject"],
                [
                    [
                        cell(p.when(n["at"])),
                        cell(n["kind"]),
                        cell(n["severity"]),
                        cell(n["channel"]),
                        cell(n["status"]),
                        cell(n["subject"]),
                    ]
                    for n in a["notifications"]
                ],
            )
        )
    out.append("<h3>Alerts open when the report was built</h3>")
    if a["open"]:
        out.append(
            p.table(
                ["alert", "status", "open since"],
                [
                    [cell(o["key"]), cell(o["status"], status=True), cell(p.when(o["opened_at"]))]
                    for o in a["open"]
                ],
            )
        )
    else:
        out.append("<p>none</p>")
    return "".join(out)


def upkeep(p: Page, d: dict[str, Any]) -> str:
    u = d["upkeep"]
    out = []
    if u["missing"]:
        out.append(missing(u["missing"]))
    else:
        out.append(f"<p>Space reclaimed: {esc(size(u['reclaimed_bytes']))}.</p>")
        out.append(
            p.table(
                [
                    "run",
                    "task",
                    "started",
                    "status",
                    "reclaimed",
                    "dead tuples before -> after",
                    "summary",
                ],
                [
                    [
                        cell(x["run_id"], num=True),
                        cell(x["task"]),
                        cell(p.when(x["started_at"])),
                        cell(x["status"], status=True),
                        cell(size(x["reclaimed_bytes"]), num=True),
                        cell(
                            f"{x['dead_tuples_before']} -> {x['dead_tuples_after']}"
                            if x["dead_tuples_before"] is not None
                            else ""
                        ),
                        cell(x["summary"]),
                    ]
                    for x in u["items"]
                ],
            )
        )
    out.append("<h3>Slowest statements (pg_stat_statements, newest db.report)</h3>")
    if u["slow_queries_missing"]:
        out.append(missing(u["slow_queries_missing"]))
    else:
        out.append(
            p.table(
                ["mean ms", "calls", "total ms", "statement"],
                [
                    [
                        cell(q["mean_ms"], num=True),
                        cell(q["calls"], num=True),
                        cell(q["total_ms"], num=True),
                        cell(q["query"]),
                    ]
                    for q in u["slow_queries"]
                ],
            )
        )
    return "".join(out)


def security(p: Page, d: dict[str, Any]) -> str:
    s = d["security"]
    if s["missing"]:
        return missing(s["missing"])
    rows = []
    for x in s["items"]:
        found = "; ".join(f"[{f['status']}] {f['name']}" for f in x["findings"]) or "no finding"
        rows.append(
            [
                cell(x["run_id"], num=True),
                cell(x["task"]),
                cell(p.when(x["started_at"])),
                cell(x["status"], status=True),
                cell(x["summary"]),
                cell(found),
            ]
        )
    return p.table(["run", "task", "started", "status", "summary", "findings (fail/warn)"], rows)


def capacity(p: Page, d: dict[str, Any]) -> str:
    c = d["capacity"]
    if "run_id" not in c:
        return missing(c["missing"])
    head = f"<p>From capacity.forecast run {esc(c['run_id'])} of {esc(p.when(c['started_at']))}: {esc(c['summary'])}</p>"
    if c["missing"]:
        return head + missing(c["missing"])
    return head + p.table(
        ["series", "now", "limit", "per day", "crosses", "days left", "verdict", "note"],
        [
            [
                cell(s["label"] or s["key"]),
                cell(size(s["current"]) if s.get("unit") == "bytes" else s["current"], num=True),
                cell(size(s["limit"]) if s.get("unit") == "bytes" else s["limit"], num=True),
                cell(
                    size(s["slope_per_day"])
                    if s.get("unit") == "bytes" and s["slope_per_day"] is not None
                    else s["slope_per_day"],
                    num=True,
                ),
                cell((s["crossing_at"] or "")[:10]),
                cell(s["days_left"], num=True),
                cell(s["status"] or s["verdict"], status=True),
                cell(s["note"]),
            ]
            for s in c["series"]
        ],
    )
