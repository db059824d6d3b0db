"""``maint run`` and ``maint tasks``."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from maintenance import catalog, dispatch, runner
from maintenance.cli import follow
from maintenance.cli.render import err, out, print_json, show_run, styled
from maintenance.config import Settings, get_settings
from maintenance.errors import BadInput, ParamError
from maintenance.history import store
from maintenance.results import RunStatus, Trigger


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """``["a=1", "b=x=y"]`` -> ``{"a": "1", "b": "x=y"}``; BadInput names a malformed one."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ParamError(f"parameter {pair!r} is not key=value")
        if key in params:
            raise ParamError(f"parameter {key!r} given twice")
        params[key] = value
    return params


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("tasks")(tasks)


def run(
    task: str = typer.Argument(..., help="Task name, e.g. db.stats (see `maint tasks`)."),
    param: list[str] = typer.Option([], "-p", "--param", help="key=value, repeatable."),
    enqueue: bool = typer.Option(False, "--enqueue", help="Send to the workers (trigger adhoc)."),
    wait: bool = typer.Option(False, "--wait", help="With --enqueue: wait for the run to end."),
    timeout: float = typer.Option(3600, "--timeout", help="With --wait: give up after seconds."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
) -> None:
    """Run TASK in this process (trigger cli), or send it to the workers with --enqueue.

    Exit 0 succeeded, 1 failed, 2 bad input, 3 skipped.
    """
    settings = get_settings()
    spec = catalog.get(task)
    raw = parse_pairs(param)
    if wait and not enqueue:
        raise BadInput("--wait only makes sense with --enqueue")
    if enqueue:
        _enqueue(settings, spec.name, raw, wait=wait, timeout=timeout, as_json=as_json)
        return
    outcome = runner.execute(spec, raw, settings=settings, trigger=Trigger.CLI)
    _report(outcome.to_dict(), settings, as_json)
    if outcome.history_error:
        err.print(f"[yellow]warning[/]: the run was not fully recorded: {outcome.history_error}")
    if outcome.bad_input:
        err.print(f"[red]bad input[/]: {outcome.error_message}")
    raise typer.Exit(outcome.exit_code)


def _report(outcome: dict[str, Any], settings: Settings, as_json: bool) -> None:
    if as_json:
        print_json(outcome)
        return
    run_id = outcome.get("run_id")
    row = store.get_run(settings.history_dsn.get_secret_value(), run_id) if run_id else None
    if row is not None:
        show_run(row, settings.zone)
    else:
        out.print(f"{outcome['task']}: {styled(outcome['status'])} {outcome.get('summary') or ''}")


def _enqueue(
    settings: Settings, name: str, raw: dict[str, str], *, wait: bool, timeout: float, as_json: bool
) -> None:
    spec = catalog.get(name)
    try:
        spec.parse(raw)
    except BadInput as exc:
        runner.reject(spec, raw, exc, settings=settings, trigger=Trigger.ADHOC)
        raise
    dispatcher = dispatch.load()
    celery_id = dispatcher.send(name, raw, trigger=Trigger.ADHOC)
    if not wait:
        if as_json:
            print_json({"task": name, "celery_task_id": celery_id, "status": "queued"})
        else:
            out.print(f"queued {name} as {celery_id}; follow it with `maint history --task {name}`")
        return
    done = follow.follow(
        settings.history_dsn.get_secret_value(),
        celery_id,
        dispatcher.state,
        timeout=timeout,
        lost_after_s=settings.lost_after_s,
    )
    if done is None:
        err.print(
            f"[red]gave up waiting[/] for {name} ({celery_id}) after {timeout:g}s: "
            "no worker finished it; see `maint history` and the worker's log"
        )
        raise typer.Exit(1)
    last = done.last
    if as_json:
        from maintenance.cli.render import run_dict

        print_json(run_dict(last) | {"attempts": len(done.rows)})
    else:
        show_run(last, settings.zone)
    status = RunStatus(last.status)
    code = 2 if last.error_type in ("ParamError", "UnknownTask", "BadInput") else status.exit_code
    raise typer.Exit(code)


def tasks(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """List every task: name, parameters (type and default) and what it does."""
    overrides = get_settings().time_limits
    rows = [
        {
            "name": s.name,
            "description": s.description,
            "exclusive": s.exclusive,
            "soft_time_limit_s": catalog.time_limits(s, overrides)[0],
            "time_limit_s": catalog.time_limits(s, overrides)[1],
            "params": s.describe_params(),
        }
        for s in catalog.SPECS
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(header_style="bold")
    for col in ("task", "parameters", "description"):
        table.add_column(col, overflow="fold")
    for row in rows:
        spec_params: list[dict[str, Any]] = row["params"]  # type: ignore[assignment]
        params = "\n".join(
            f"{p['name']}: {p['type']}"
            + (" (required)" if p["required"] else f" = {p['default']!r}")
            for p in spec_params
        )
        extra = " [dim](exclusive)[/]" if row["exclusive"] else ""
        table.add_row(str(row["name"]), params or "-", f"{row['description']}{extra}")
    out.print(table)
