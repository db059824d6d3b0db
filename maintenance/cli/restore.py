"""``maint restore``: replace a database with a backup, safely (docs/restore.md)."""

from __future__ import annotations

import sys
from typing import Any

import typer

from maintenance import catalog, runner
from maintenance.cli.render import err, out, print_json, runs_table, show_run
from maintenance.config import get_settings
from maintenance.history import store
from maintenance.results import Trigger


def _ask(question: str) -> bool:
    err.print(question)
    return typer.confirm("Swap now?", default=False, err=True)


def restore(
    backup: str = typer.Argument(
        ..., help="Backup id (maint backups list), or 'latest' (newest verified)."
    ),
    target: str | None = typer.Option(
        None, "--target", help="Database to replace (default: the target's own)."
    ),
    yes: bool = typer.Option(
        False, "--yes", help="Swap without asking once the restored copy is verified."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Restore BACKUP over --target: checksum first, forensic dump of the current database,
    load into a new database, verify it, then swap (asking first unless --yes). The
    current database is kept as <target>_pre_restore_<time>. Exit 0 restored, 1 failed,
    2 bad input, 3 not confirmed (nothing changed)."""
    settings = get_settings()
    params: dict[str, Any] = {"backup": backup, "yes": yes}
    if target:
        params["target"] = target
    confirm = _ask if (sys.stdin.isatty() and not yes) else None
    outcome = runner.execute(
        catalog.get("restore.run"), params, settings=settings, trigger=Trigger.CLI, confirm=confirm
    )
    dsn = settings.history_dsn.get_secret_value()
    if as_json:
        steps = store.steps_of(dsn, outcome.run_id) if outcome.run_id else []
        print_json(
            outcome.to_dict()
            | {"steps": [{"step": s.step, "status": s.status, "summary": s.summary} for s in steps]}
        )
    elif outcome.run_id and (row := store.get_run(dsn, outcome.run_id)):
        show_run(row, settings.zone)
        steps = store.steps_of(dsn, outcome.run_id)
        if steps:
            out.print(runs_table(steps, settings.zone, title="steps"))
    if outcome.bad_input:
        err.print(f"[red]bad input[/]: {outcome.error_message}")
    raise typer.Exit(outcome.exit_code)


def register(app: typer.Typer) -> None:
    app.command("restore")(restore)
