"""``maint report``: build, show and sign off the monthly report (docs/reports.md).

``build`` and ``approve`` run their tasks here (report.monthly, report.approve), recorded
like ``maint run``; ``show`` reads the kept report and the sign-offs in the history.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import RenderableType
from rich.text import Text

from maintenance.cli.fit import Column, Grid
from maintenance.cli.render import out, print_json
from maintenance.cli.verb import run_task
from maintenance.config import get_settings
from maintenance.report import build as report_build
from maintenance.report import facts, files
from maintenance.report import month as report_month

app = typer.Typer(help="The monthly report: build, show, sign off.", no_args_is_help=True)


@app.command("build")
def build_cmd(
    month: str | None = typer.Argument(None, help="YYYY-MM; default: the previous month."),
    no_send: bool = typer.Option(False, "--no-send", help="Keep it; do not send it."),
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Build MONTH's report now (report.monthly): HTML and JSON under MAINT_REPORT_DIR,
    sent through the notification channels unless --no-send."""
    params: dict[str, Any] = {"send": not no_send}
    if month is not None:
        params["month"] = month
    run_task("report.monthly", params, as_json, _built)


def _built(figures: dict[str, Any]) -> list[RenderableType]:
    if not figures.get("html"):
        return []
    return [Text(f"kept at {figures['html']} and {figures.get('json')}")]


@app.command("approve")
def approve(
    month: str = typer.Argument(..., help="YYYY-MM: the month whose report is signed."),
    by: str = typer.Option(..., "--by", help="Who signs (a name)."),
    role: str = typer.Option(
        "approved",
        "--role",
        help="approved (Approved By, the IT manager) or verified (Verified By, the backup "
        "administrator).",
    ),
    note: str | None = typer.Option(None, "--note", help="A note kept with the sign-off."),
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Sign MONTH's report off (report.approve): who, in which role and when, recorded in
    the history; the kept report is rendered again with its sign-off lines filled.
    Refused (exit 2) when MONTH has no report."""
    params: dict[str, Any] = {"month": month, "by": by, "role": role}
    if note is not None:
        params["note"] = note
    run_task("report.approve", params, as_json, _built)


@app.command("show")
def show(
    month: str = typer.Argument(..., help="YYYY-MM."),
    as_json: bool = typer.Option(False, "--json", help="Print the report's JSON."),
) -> None:
    """MONTH's report as kept: where it is, its summary, and every sign-off recorded in
    the history (the latest of each role is the one the report shows). Exit 1 when the
    month has no report."""
    settings = get_settings()
    report_month.parse_month(month)
    data = files.read(settings, month)
    signed = facts.approvals(settings.history_dsn.get_secret_value(), month)
    if data is None:
        html_path, _ = files.paths(settings, month)
        out.print(
            f"no report for {month}: {html_path} has not been built (maint report build {month})"
        )
        raise typer.Exit(1)
    if as_json:
        print_json(data | {"approvals": report_build.latest_approvals(signed)})
        return
    html_path, _ = files.paths(settings, month)
    h = data["headline"]
    out.print(f"report {month}: {html_path}")
    out.print(
        f"built {data['generated_at']}"
        + (f" by run {data['generated_by_run']}" if data.get("generated_by_run") else "")
    )
    out.print(
        Text(
            f"{h['windows']} windows, {h['runs']} runs, {h['failures']} failures "
            f"({h['unresolved_failures']} unresolved), {h['backups']} backups, {h['drills']} "
            f"drills ({h['drills_missing_objective']} missed an objective), {h['incidents']} incidents"
        )
    )
    latest = report_build.latest_approvals(signed)
    for role, label in (("verified", "Verified By"), ("approved", "Approved By")):
        got = latest.get(role)
        out.print(f"{label}: " + (f"{got['by']}  {got['at']}" if got else "(not signed)"))
    if signed:
        rows = [
            [
                str(a["id"]),
                a["role"],
                a["by"],
                a["at"].isoformat(timespec="seconds"),
                a.get("note") or "",
                a["report_sha256"][:12],
            ]
            for a in signed
        ]
        cols = [
            Column("id"),
            Column("role"),
            Column("by"),
            Column("at"),
            Column("note", flex=True),
            Column("sha256"),
        ]
        out.print(Grid(cols, rows))
