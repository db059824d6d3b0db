"""``maint security``: audit (vulnerabilities, outdated packages, server end of life) and
access (the access review); docs/security.md.

Each verb runs its task in this process (trigger ``cli``, recorded like ``maint run``) and
prints its checklist and tables; ``--json`` prints the run's history row as ``maint run
--json`` does. Exit codes are ``maint run``'s: 0 succeeded, 1 failed, 2 bad input.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import RenderableType
from rich.text import Text

from maintenance.cli.fit import Column, Grid, Note, one_line
from maintenance.cli.render import (
    STATUS_STYLE,
    status_text,
)
from maintenance.cli.verb import run_task

_SEVERITY = {"critical": "fail", "high": "fail", "medium": "warn", "low": "pass", "info": "pass"}

app = typer.Typer(help="Security reports (read-only): audit, access.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print the run as JSON.")


@app.command("audit")
def audit(
    no_outdated: bool = typer.Option(
        False, "--no-outdated", help="Skip the package index (only vulnerabilities and EOL)."
    ),
    as_json: bool = _JSON,
) -> None:
    """Known vulnerabilities (pip-audit), outdated packages as patch/minor/major, and the
    PostgreSQL and Redis versions against their end of life."""
    run_task("security.audit", {"outdated": not no_outdated}, as_json, audit_tables)


@app.command("access")
def access(as_json: bool = _JSON) -> None:
    """Access review: PostgreSQL roles, Redis and Flower authentication, file modes; each
    finding with its severity and a suggested action."""
    run_task("security.access_review", {}, as_json, access_tables)


def audit_tables(f: dict[str, Any]) -> list[RenderableType]:
    shown: list[RenderableType] = []
    vulns = f.get("vulnerabilities") or []
    if vulns:
        rows: list[Any] = [
            [
                v["package"],
                v["version"],
                v["id"],
                ", ".join(v.get("fix_versions") or []) or "-",
                one_line(v.get("description") or ""),
            ]
            for v in vulns
        ]
        cols = [
            Column("package"),
            Column("version"),
            Column("id"),
            Column("fixed in"),
            Column("what", flex=True),
        ]
        shown.append(Grid(cols, rows, title="known vulnerabilities"))
    outdated = f.get("outdated") or []
    if outdated:
        rows = [
            [
                o["class"],
                o["name"],
                o["installed"],
                o["latest"] or "-",
                o.get("latest_patch") or "-",
                o["advice"],
            ]
            for o in outdated
        ]
        cols = [
            Column("class"),
            Column("package"),
            Column("installed"),
            Column("latest"),
            Column("patch"),
            Column("advice", flex=True),
        ]
        shown.append(Grid(cols, rows, title="outdated packages"))
    servers = f.get("servers") or []
    if servers:
        rows = [
            [
                s["product"],
                s["version"],
                s.get("end_of_life") or "-",
                status_text(s["status"]),
                one_line(s["observed"]),
            ]
            for s in servers
        ]
        cols = [
            Column("server"),
            Column("version"),
            Column("end of life"),
            Column("status"),
            Column("observed", flex=True),
        ]
        shown.append(Grid(cols, rows, title="server end of life"))
    return shown


def access_tables(f: dict[str, Any]) -> list[RenderableType]:
    found = f.get("findings") or []
    if not found:
        return []
    rows: list[Any] = []
    for x in found:
        style = STATUS_STYLE[_SEVERITY.get(x["severity"], "pass")]
        rows.append(
            [
                Text(x["severity"], style=style),
                x["area"],
                # a subject (a path, a pg_hba line) can be long: it shares the flexible column
                one_line(f"{x['subject']}: {x['what']}" if x["subject"] else x["what"]),
            ]
        )
        rows.append(Note("-> " + one_line(x["action"]), under=2))
    cols = [Column("severity"), Column("area"), Column("subject: finding", flex=True)]
    return [Grid(cols, rows, title="findings (-> suggested action)")]
