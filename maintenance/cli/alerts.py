"""``maint alerts``: the alert channels. ``test`` sends one test message through every
configured channel (the ``alerts.test`` task, in this process, recorded like ``maint
run``); docs/notices.md."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import RenderableType

from maintenance.cli.verb import run_task

app = typer.Typer(help="Alerts: their channels.", no_args_is_help=True)

_JSON = typer.Option(False, "--json", help="Print the run as JSON.")


@app.command("test")
def send_test(as_json: bool = _JSON) -> None:
    """Send one test message through every configured channel (webhook, e-mail); each
    channel's result is a line of the checklist. Exit 1 if a channel failed or none is
    configured."""
    run_task("alerts.test", {}, as_json, _no_tables)


def _no_tables(figures: dict[str, Any]) -> list[RenderableType]:
    return []  # the checklist has one line per channel
