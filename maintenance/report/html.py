"""The report's data as one self-contained HTML page (pure: data and charts in, text out).

Every value from the history is escaped (:func:`.page.esc`); the charts are inline SVG
made by :mod:`.charts`. The page loads nothing: a Content-Security-Policy forbids every
fetch and every script, so a mail client or a browser opens it as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from maintenance.report import html_operations, html_service
from maintenance.report.page import Page, cell, esc, size

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


SECTIONS: tuple[tuple[str, str, Callable[..., str], bool], ...] = (
    ("windows", "Maintenance windows and their steps", html_operations.windows, False),
    ("failures", "Failures and what was done", html_operations.failures, False),
    ("backups", "Backups: sizes, durations, verification", html_operations.backups, True),
    ("drills", "Restore drills: RTO and RPO against objectives", html_operations.drills, True),
    ("health", "Health: uptime per component", html_service.health, True),
    ("alerts", "Alerts and notices", html_service.alerts, False),
    ("upkeep", "Database upkeep: space reclaimed, slow statements", html_service.upkeep, False),
    ("security", "Security findings", html_service.security, False),
    ("capacity", "Capacity forecast", html_service.capacity, False),
    ("runs", "Every run by task and status", html_operations.runs, False),
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
