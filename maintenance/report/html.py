"""The report's data as one self-contained HTML page (pure: data and charts in, text out).

Every value from the history is escaped (:func:`html.escape`); the charts are inline SVG
made by :mod:`.charts`. The page loads nothing: a Content-Security-Policy forbids every
fetch and every script, so a mail client or a browser opens it as it is.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from maintenance.units import human_bytes

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:2em;color:#222;max-width:72em}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccc}
h3{font-size:1em;margin:1em 0 .3em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.85em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right}
.missing{color:#8a5300;font-style:italic}
.st-succeeded,.st-pass,.ok{color:#1a7f37}.st-failed,.st-lost,.st-missed,.st-fail,.bad{color:#c62828;font-weight:bold}
.st-skipped,.st-warn{color:#8a5300}
.signoff td{min-width:14em;height:1.6em}.chart svg{max-width:100%;height:auto}
.more{color:#666;font-size:.85em}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


class Page:
    """Formatting for one report: times in its zone, tables cut at ``max_rows``."""

    def __init__(self, zone: str, max_rows: int) -> None:
        self.zone = ZoneInfo(zone)
        self.max_rows = max_rows

    def when(self, iso: str | None) -> str:
        if not iso:
            return ""
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]], *, cls: str = "") -> str:
        """``rows`` are already-escaped cells (see :func:`cell`)."""
        head = "".join(f"<th>{esc(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows[: self.max_rows])
        more = (
            f'<p class="more">{len(rows) - self.max_rows} more rows in the JSON file</p>'
            if len(rows) > self.max_rows
            else ""
        )
        klass = f' class="{esc(cls)}"' if cls else ""
        return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def cell(value: Any, *, num: bool = False, status: bool = False) -> str:
    if status:
        return f'<td class="st-{esc(value)}">{esc(value)}</td>'
    return f'<td class="num">{esc(value)}</td>' if num else f"<td>{esc(value)}</td>"


def size(n: Any) -> str:
    return human_bytes(n) if isinstance(n, int | float) else ""


def seconds(s: Any) -> str:
    if not isinstance(s, int | float):
        return ""
    if s >= 3600:
        return f"{s / 3600:.2f} h"
    return f"{s / 60:.1f} min" if s >= 120 else f"{s:.1f} s"


def missing(text: str | None) -> str:
    return f'<p class="missing">{esc(text)}</p>' if text else ""


def yes_no(v: Any) -> str:
    return "" if v is None else ("yes" if v else "NO")


def chart(svg: str | None, absent: str) -> str:
    # the SVG is matplotlib's own output, not data from the history
    return f'<div class="chart">{svg}</div>' if svg else missing(absent)


# --- sections -----------------------------------------------------------------------------


def _headline(p: Page, d: dict[str, Any]) -> str:
    h = d["headline"]
    low = h["lowest_uptime"]
    rows = [
        ("Maintenance windows", h["windows"]),
        ("Runs recorded", h["runs"]),
        (
            "Failed, lost or missed runs",
            f"{h['failures']} ({h['unresolved_failures']} without a later success)",
        ),
        ("Backups made", f"{h['backups']} ({size(h['backup_bytes'])})"),
        ("Restore drills", f"{h['drills']} ({h['drills_missing_objective']} missed an objective)"),
        ("Health incidents", h["incidents"]),
        ("Lowest uptime", f"{low['component']} {low['uptime_pct']}%" if low else "not found"),
        ("Alerts and notices sent", h["alerts_sent"]),
        ("Space reclaimed by upkeep", size(h["reclaimed_bytes"])),
        ("Security findings (fail/warn)", h["security_findings"]),
    ]
    return p.table(["", "this month"], [[cell(k), cell(v)] for k, v in rows])


def _signoff(p: Page, d: dict[str, Any]) -> str:
    a = d["approvals"]
    lines = []
    for role, label in (("verified", "Verified By"), ("approved", "Approved By")):
        got = a.get(role)
        who = got["by"] if got else "_________________________"
        when = p.when(got["at"]) if got else "__________"
        note = got.get("note") if got else ""
        lines.append(
            f'<tr><th>{esc(label)}:</th><td data-role="{role}">{esc(who)}</td>'
            f"<th>Date:</th><td>{esc(when)}</td><td>{esc(note)}</td></tr>"
        )
    earlier = ""
    if len(a.get("history") or []) > len([x for x in (a.get("verified"), a.get("approved")) if x]):
        earlier = "<h3>Every sign-off</h3>" + p.table(
            ["role", "by", "at", "note", "report sha256"],
            [
                [
                    cell(x["role"]),
                    cell(x["by"]),
                    cell(p.when(x["at"])),
                    cell(x.get("note")),
                    cell((x.get("report_sha256") or "")[:16]),
                ]
                for x in a["history"]
            ],
        )
    how = (
        '<p class="more">Sign with <code>maint report approve '
        f"{esc(d['month'])} --by NAME [--role verified|approved]</code>.</p>"
    )
    return f'<table class="signoff">{"".join(lines)}</table>{how}{earlier}'


def _windows(p: Page, d: dict[str, Any]) -> str:
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


def _failures(p: Page, d: dict[str, Any]) -> str:
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


def _backups(p: Page, d: dict[str, Any], charts: dict[str, str | None]) -> str:
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


def _drills(p: Page, d: dict[str, Any], charts: dict[str, str | None]) -> str:
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


def _health(p: Page, d: dict[str, Any], charts: dict[str, str | None]) -> str:
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


def _alerts(p: Page, d: dict[str, Any]) -> str:
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


def _upkeep(p: Page, d: dict[str, Any]) -> str:
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


def _security(p: Page, d: dict[str, Any]) -> str:
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


def _capacity(p: Page, d: dict[str, Any]) -> str:
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


def _runs(p: Page, d: dict[str, Any]) -> str:
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


SECTIONS: tuple[tuple[str, str, Callable[..., str], bool], ...] = (
    ("windows", "Maintenance windows and their steps", _windows, False),
    ("failures", "Failures and what was done", _failures, False),
    ("backups", "Backups: sizes, durations, verification", _backups, True),
    ("drills", "Restore drills: RTO and RPO against objectives", _drills, True),
    ("health", "Health: uptime per component", _health, True),
    ("alerts", "Alerts and notices", _alerts, False),
    ("upkeep", "Database upkeep: space reclaimed, slow statements", _upkeep, False),
    ("security", "Security findings", _security, False),
    ("capacity", "Capacity forecast", _capacity, False),
    ("runs", "Every run by task and status", _runs, False),
)


def render(data: dict[str, Any], charts: dict[str, str | None], *, max_rows: int = 500) -> str:
    p = Page(data["zone"], max_rows)
    title = f"Maintenance report {data['month']}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',  # a constant
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>{esc(p.when(data['period']['start']))} to {esc(p.when(data['period']['end']))} "
        f"({esc(data['zone'])}); built {esc(p.when(data['generated_at']))}"
        + (f" by run {esc(data['generated_by_run'])}" if data.get("generated_by_run") else "")
        + ". Figures come from the job history; a section the history has nothing for says "
        "&ldquo;not found&rdquo;.</p>",
        '<section id="summary"><h2>Summary</h2>',
        _headline(p, data),
        "</section>",
        '<section id="signoff"><h2>Sign-off</h2>',
        _signoff(p, data),
        "</section>",
    ]
    for key, heading, fn, with_charts in SECTIONS:
        body = fn(p, data, charts) if with_charts else fn(p, data)
        parts.append(f'<section id="{key}"><h2>{esc(heading)}</h2>{body}</section>')
    parts.append("</body></html>\n")
    return "\n".join(parts)
