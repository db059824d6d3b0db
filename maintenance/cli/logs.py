"""``maint logs``: this host's logs (MAINT_LOG_ROOT): report, rotate, cleanup.

Each verb runs its task here, in this process (trigger cli, recorded in the history),
on this host's logs; the workers run the same tasks on each host from beat. ``--json``
prints the run's history row as ``maint run --json`` does.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.text import Text

from maintenance.cli.fit import Column, Grid, Note, one_line
from maintenance.cli.verb import run_task
from maintenance.units import human_bytes

app = typer.Typer(
    help="This host's logs (MAINT_LOG_ROOT): report, rotate, cleanup.", no_args_is_help=True
)

JSON_HELP = "Print the run as JSON."
DRY_HELP = "Show what would change; change nothing."


@app.command("report")
def report(as_json: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """LOG MANAGEMENT VERIFICATION: sizes, rotation, retention, disk, permissions, and the
    ERROR/CRITICAL lines since the previous report."""
    run_task("logs.report", {}, as_json, report_tables)


@app.command("rotate")
def rotate(
    force: bool = typer.Option(False, "--force", help="Rotate every non-empty log now."),
    only_oversized: bool = typer.Option(
        False, "--only-oversized", help="Rotate only the logs over MAINT_LOG_MAX_BYTES."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Rotate the logs that are due (daily, or over the size cap), as logrotate does."""
    params = {"force": force, "only_oversized": only_oversized, "dry_run": dry_run}
    run_task("logs.rotate", params, as_json, rotate_tables)


@app.command("cleanup")
def cleanup(
    dry_run: bool = typer.Option(False, "--dry-run", help=DRY_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Compress, archive last month, delete old, empty and orphaned logs; disk usage."""
    run_task("logs.cleanup", {"dry_run": dry_run}, as_json, cleanup_tables)


def report_tables(figures: dict[str, Any]) -> list[Any]:
    logs = figures.get("logs") or []
    if not logs:
        return []
    rows: list[list[Any] | Note] = []
    errors = figures.get("errors") or {}
    for item in logs:
        size = item.get("size_bytes")
        rows.append(
            [
                str(item["log"]),
                human_bytes(size) if size is not None else "-",
                f"{item.get('rotated', 0)} ({item.get('compressed', 0)} gz)",
                str(item.get("error", 0)),
                Text(
                    str(item.get("critical", 0)), style="bold red" if item.get("critical") else ""
                ),
            ]
        )
        for quote in (errors.get(item["log"]) or {}).get("quotes", []):
            rows.append(Note(one_line(quote), under=1))
    columns = [Column("log"), Column("size", right=True), Column("rotated")]
    columns += [Column("ERROR", right=True), Column("CRITICAL", right=True)]
    return [Grid(columns, rows, title=f"logs (severity {figures.get('severity', '-')})")]


def rotate_tables(figures: dict[str, Any]) -> list[Any]:
    dry = bool(figures.get("dry_run"))
    parts: list[Any] = []
    plans = figures.get("plans") or []
    if plans:
        yes = Text("would rotate" if dry else "rotate", style="green")
        rows: list[list[Any] | Note] = [
            [
                str(p["log"]),
                yes if p.get("rotate") else Text("skip", style="dim"),
                one_line(p.get("reason")),
            ]
            for p in plans
        ]
        columns = [Column("log"), Column("decision"), Column("reason", flex=True)]
        parts.append(Grid(columns, rows, title="rotation" + (" (dry run)" if dry else "")))
    parts += _compressed(figures)
    return parts


def cleanup_tables(figures: dict[str, Any]) -> list[Any]:
    dry = bool(figures.get("dry_run"))
    parts = _compressed(figures)
    gone = figures.get("deleted") or []
    if gone:
        verb = Text("would delete", style="yellow") if dry else Text("deleted", style="red")
        rows = [
            [
                str(d["path"]),
                verb if d.get("existed") else "gone",
                human_bytes(d.get("size_bytes", 0)),
                one_line(d.get("reason")),
            ]
            for d in gone
        ]
        columns = [
            Column("file"),
            Column("action"),
            Column("size", right=True),
            Column("reason", flex=True),
        ]
        parts.append(Grid(columns, rows, title="deletions" + (" (dry run)" if dry else "")))
    kept = figures.get("kept") or []
    if kept:
        rows = [[str(k["name"]), one_line(k.get("reason"))] for k in kept]
        parts.append(Grid([Column("file"), Column("kept because", flex=True)], rows, title="kept"))
    for a in figures.get("archives") or []:
        parts.append(
            Text(f"archive {a['name']}: {a['files']} file(s)" + (" (dry run)" if dry else ""))
        )
    return parts


def _compressed(figures: dict[str, Any]) -> list[Any]:
    done = figures.get("compressed") or []
    if not done:
        return []
    rows = []
    for c in done:
        before, after = c.get("plain_bytes") or 0, c.get("gz_bytes") or 0
        sizes = f"{human_bytes(before)} -> {human_bytes(after)}" if c.get("ok") and before else ""
        rows.append(
            [
                str(c["name"]),
                str(c["to"]),
                sizes,
                one_line(c.get("note")) or ("ok" if c.get("ok") else ""),
            ]
        )
    columns = [Column("file"), Column("to"), Column("size"), Column("note", flex=True)]
    return [Grid(columns, rows, title="compression")]
