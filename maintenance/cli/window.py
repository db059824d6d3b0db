"""``maint window run KIND``: run a maintenance window here (docs/calendar.md,
"window.run"): its steps in slot order, each recorded as a run linked to the window run,
then its checklist. ``--dry-run`` shows the plan and runs nothing. Exit codes are
``maint run``'s: 0 succeeded, 1 failed, 2 bad input, 3 skipped.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import RenderableType

from maintenance.cli.fit import Column, Grid
from maintenance.cli.verb import run_task

app = typer.Typer(help="Maintenance windows: run one now.", no_args_is_help=True)


@app.command("run")
def run(
    kind: str = typer.Argument(..., help="daily, weekly, monthly, quarterly or emergency."),
    date: str | None = typer.Option(
        None, "--date", metavar="DATE", help="The night (YYYY-MM-DD); default today."
    ),
    force_reason: str | None = typer.Option(
        None, "--force-reason", help="Run disruptive steps despite a blackout (recorded)."
    ),
    reason: str | None = typer.Option(None, "--reason", help="Why (required for emergency)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan; run nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the run as JSON."),
) -> None:
    """Run the window of KIND now: its steps in slot order, dependencies chained, blackout
    and buffer skips, status updates and the all-clear or problem notice."""
    params: dict[str, Any] = {"kind": kind, "dry_run": dry_run}
    for key, value in (("date", date), ("force_reason", force_reason), ("reason", reason)):
        if value is not None:
            params[key] = value
    run_task("window.run", params, as_json, tables)


def tables(figures: dict[str, Any]) -> list[RenderableType]:
    steps = figures.get("steps") or []
    if not steps:
        return []
    rows = [
        [
            s["name"],
            s["task"],
            s.get("slot") or "",
            s.get("status") or ("skip" if s.get("skip") else "runs"),
            str(s.get("run_id") or ""),
            s.get("reason") or s.get("skip") or "",
        ]
        for s in steps
    ]
    cols = [Column("step"), Column("task"), Column("slot"), Column("status"), Column("run")]
    return [Grid([*cols, Column("reason", flex=True)], rows)]
