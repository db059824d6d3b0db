"""``maint security``: audit (vulnerabilities, outdated packages, server end of life) and
access (the access review); docs/security.md.

Each verb runs its task in this process (trigger ``cli``, recorded like ``maint run``) and
prints its checklist and tables; ``--json`` prints the run's history row as ``maint run
--json`` does. Exit codes are ``maint run``'s: 0 succeeded, 1 failed, 2 bad input.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import typer
from rich.console import RenderableType
from rich.text import Text

from maintenance import catalog, runner
from maintenance.cli.fit import Column, Grid, KeyValues, Note, one_line
from maintenance.cli.render import (
    STATUS_STYLE,
    Checklist,
    end_run,
    out,
    print_json,
    print_run,
    status_text,
)
from maintenance.config import get_settings
from maintenance.errors import MaintenanceError
from maintenance.history import store
from maintenance.results import Trigger

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


def run_task(
    task: str,
    params: dict[str, Any],
    as_json: bool,
    tables: Callable[[dict[str, Any]], list[RenderableType]],
) -> None:
    settings = get_settings()
    outcome = runner.execute(catalog.get(task), params, settings=settings, trigger=Trigger.CLI)
    if as_json:
        row = None
        if outcome.run_id is not None and not outcome.history_error:
            with contextlib.suppress(MaintenanceError):
                row = store.get_run(settings.history_dsn.get_secret_value(), outcome.run_id)
        if row is not None:
            print_run(row, settings.zone, as_json=True, exit_code=outcome.exit_code)
        else:
            print_json(
                outcome.to_dict()
                | {"exit_code": outcome.exit_code, "history_error": outcome.history_error}
            )
    else:
        head = Text(f"run {outcome.run_id}" if outcome.run_id is not None else "run (not recorded)")
        head.append(f"  {task}  ")
        head.append_text(status_text(outcome.status.value))
        out.print(head)
        about = (
            {"error": f"{outcome.error_type}: {outcome.error_message}"}
            if outcome.error_type
            else {"summary": outcome.summary}
        )
        out.print(KeyValues(about))
        result = outcome.result or {}
        for part in tables(result.get("figures") or {}):
            out.print(part)
        if result.get("checks"):
            out.print(Checklist(result["checks"]))
    end_run(
        outcome.exit_code,
        history_error=outcome.history_error,
        bad_input=(outcome.error_message or "") if outcome.bad_input else None,
    )


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
                one_line(x["subject"] or "-"),
                one_line(x["what"]),
            ]
        )
        rows.append(Note("-> " + one_line(x["action"]), under=3))
    cols = [Column("severity"), Column("area"), Column("subject"), Column("finding", flex=True)]
    return [Grid(cols, rows, title="findings (-> suggested action)")]
