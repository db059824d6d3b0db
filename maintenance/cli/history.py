"""``maint history`` and ``maint show``: what ran, what failed, why (``maint status``, the
on-call screen: :mod:`maintenance.cli.status`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TypeVar

import typer
from rich.console import Group

from maintenance import catalog, clock
from maintenance.cli.render import out, print_json, run_dict, run_parts, runs_table
from maintenance.config import Settings, get_settings
from maintenance.errors import BadInput
from maintenance.history import lost, store
from maintenance.results import RunStatus, Trigger

E = TypeVar("E", RunStatus, Trigger)

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.I)
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, settings: Settings) -> datetime:
    """``24h``, ``30m``, ``7d``, ``2w``, or an ISO date/time in the configured zone."""
    match = _SPAN.match(text)
    if match:
        amount, unit = float(match.group(1)), match.group(2).lower()
        return clock.now() - timedelta(**{_UNIT[unit]: amount})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(
            f"--since {text!r}: use a span like 24h, 30m, 7d, 2w or a date like 2026-11-01"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=settings.zone)
    return moment


def _reap(settings: Settings) -> None:
    """Reading the history also settles runs whose worker died, so on-call never sees a
    dead run as ``running`` even when no worker is up to reap it."""
    lost.reap(settings.history_dsn.get_secret_value(), lost_after_s=settings.lost_after_s)


def history(
    task: str | None = typer.Option(None, "--task", "-t", help="Only this task."),
    status: str | None = typer.Option(
        None, "--status", "-s", help="running, succeeded, failed, skipped, lost or missed."
    ),
    trigger: str | None = typer.Option(None, "--trigger", help="beat, adhoc, cli or window."),
    since: str | None = typer.Option(None, "--since", help="e.g. 24h, 7d, 2026-11-01."),
    limit: int = typer.Option(
        50, "--limit", "-n", min=1, max=10_000, help="At most this many rows."
    ),
    steps: bool = typer.Option(False, "--steps", help="Also the steps of longer runs (restores)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
) -> None:
    """Recent runs, newest first."""
    settings = get_settings()
    if task:
        catalog.get(task)  # an unknown name is a typo: say so instead of printing nothing
    status_v = _enum(RunStatus, status, "--status")
    trigger_v = _enum(Trigger, trigger, "--trigger")
    since_v = parse_since(since, settings) if since else None
    _reap(settings)
    runs = store.list_runs(
        settings.history_dsn.get_secret_value(),
        task=task,
        status=status_v,
        trigger=trigger_v,
        since=since_v,
        limit=limit,
        steps=steps,
    )
    if as_json:
        print_json([run_dict(r) for r in runs])
        return
    if not runs:
        out.print("no runs match")
        return
    out.print(runs_table(runs, settings.zone))


def show(
    run_id: int = typer.Argument(
        ..., metavar="RUN_ID", help="Run id (first column of `maint history`)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run and its steps as JSON."),
) -> None:
    """One run in full: parameters, checklist, figures, error, and its steps."""
    settings = get_settings()
    _reap(settings)
    dsn = settings.history_dsn.get_secret_value()
    run = store.get_run(dsn, run_id)
    if run is None:
        raise BadInput(f"no run with id {run_id}")
    steps = store.steps_of(dsn, run_id)
    if as_json:
        print_json(run_dict(run) | {"steps": [run_dict(s) for s in steps]})
        return
    parts = run_parts(run, settings.zone)
    if steps:
        parts.append(runs_table(steps, settings.zone, title="steps"))
    out.print(Group(*parts))


def _enum(kind: type[E], value: str | None, option: str) -> E | None:
    if value is None:
        return None
    try:
        return kind(value.lower())
    except ValueError:
        allowed = ", ".join(m.value for m in kind)
        raise BadInput(f"{option} {value!r}: use one of {allowed}") from None


def register(app: typer.Typer) -> None:
    app.command("history")(history)
    app.command("show")(show)
