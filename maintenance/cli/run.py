"""``maint run`` and ``maint tasks``."""

from __future__ import annotations

import json
import os
from typing import Any

import typer
from rich.markup import escape
from rich.text import Text

from maintenance import catalog, dispatch, redact, runner
from maintenance.cli import follow
from maintenance.cli.fit import wrap
from maintenance.cli.render import end_run, err, out, print_json, print_run
from maintenance.config import Settings, get_settings
from maintenance.errors import BadInput, MaintenanceError, ParamError
from maintenance.history import store
from maintenance.history.models import JobRun
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
    task: str = typer.Argument(
        ..., metavar="TASK", help="Task name, e.g. db.stats (see `maint tasks`)."
    ),
    param: list[str] = typer.Option(
        [], "-p", "--param", metavar="KEY=VALUE", help="A task parameter; repeatable."
    ),
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
    _report(outcome, raw, settings, as_json)
    end_run(
        outcome.exit_code,
        history_error=outcome.history_error,
        bad_input=(outcome.error_message or "") if outcome.bad_input else None,
    )


def _report(
    outcome: runner.Outcome, raw: dict[str, str], settings: Settings, as_json: bool
) -> None:
    """The run as its history row shows it (the same shape as ``--enqueue --wait``)."""
    print_run(
        _row_of(outcome, raw, settings),
        settings.zone,
        as_json=as_json,
        exit_code=outcome.exit_code,
        history_error=outcome.history_error,
    )


def _row_of(outcome: runner.Outcome, raw: dict[str, str], settings: Settings) -> JobRun:
    """The run's history row, read back; when it was not (fully) written, the same row
    built from the outcome, so that the output says what happened all the same."""
    if outcome.run_id is not None and not outcome.history_error:
        try:
            row = store.get_run(settings.history_dsn.get_secret_value(), outcome.run_id)
        except MaintenanceError:
            row = None
        if row is not None:
            return row
    return JobRun(
        id=outcome.run_id,
        task=outcome.task,
        trigger=Trigger.CLI.value,
        attempt=1,
        params=redact.redact_params(raw),
        status=outcome.status.value,
        duration_s=round(outcome.duration_s, 3),
        host=store.HOSTNAME,
        pid=os.getpid(),
        summary=redact.scrub(outcome.summary) if outcome.summary else None,
        result=redact.scrub_value(outcome.result) if outcome.result is not None else None,
        error_type=outcome.error_type,
        error_message=redact.scrub(outcome.error_message) if outcome.error_message else None,
    )


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
            f"[red]gave up waiting[/] for {escape(name)} ({celery_id}) after {timeout:g}s: "
            "no worker finished it; see `maint history` and the worker's log"
        )
        raise typer.Exit(1)
    last = done.last
    status = RunStatus(last.status)
    code = 2 if store.is_rejected_input(last) else status.exit_code
    print_run(last, settings.zone, as_json=as_json, exit_code=code, attempts=len(done.rows))
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
            "lost_retry": {"attempts": s.lost_retry.attempts, "within_s": s.lost_retry.within_s},
            "params": s.describe_params(),
        }
        for s in catalog.SPECS
    ]
    if as_json:
        print_json(rows)
        return
    width = out.width
    for i, row in enumerate(rows):
        if i:
            out.print()
        head = Text(str(row["name"]), style="bold")
        notes = ["exclusive"] if row["exclusive"] else []
        lost: dict[str, float] = row["lost_retry"]  # type: ignore[assignment]
        if lost["attempts"]:
            times = "once" if lost["attempts"] == 1 else f"{lost['attempts']:g} times"
            notes.append(f"lost run retried {times} within {lost['within_s'] / 3600:g} h")
        if notes:
            head.append(f"  ({'; '.join(notes)})", style="dim")
        out.print(head)
        for line in wrap(str(row["description"]), max(width - 2, 20)):
            out.print(Text("  " + line))
        for p in row["params"]:  # type: ignore[attr-defined]
            out.print(Text("  " + param_line(p), style="cyan"))
            for line in wrap(p["help"], max(width - 6, 20)) if p["help"] else []:
                out.print(Text("      " + line, style="dim"))


def param_line(p: dict[str, Any]) -> str:
    """``tier: daily|weekly|monthly = daily``, ``backup: str (required)``."""
    line = f"{p['name']}: {p['type']}"
    if p["required"]:
        return line + " (required)"
    default = p["default"]
    if default is None:
        return line + " (optional)"
    if isinstance(default, bool):
        return f"{line} = {'true' if default else 'false'}"
    if isinstance(default, str):
        return f"{line} = {default}"
    return f"{line} = {json.dumps(default, default=str)}"
