"""How the CLI shows runs and checklists to a person (and as JSON to a pipe).

Everything here fits the width it is printed at (COLUMNS, the terminal, or
:data:`~maintenance.cli.fit.DEFAULT_WIDTH` for a pipe): ids, task names and statuses are
never cut, summaries end in an ellipsis, figures are ``key: value`` lines. Text from the
history (summaries, errors, check names) is never read as rich markup.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.errors import MarkupError
from rich.markup import escape
from rich.text import Text

from maintenance import units
from maintenance.cli.fit import Column, FirstFit, Grid, KeyValues, Note, one_line, width_for
from maintenance.history.models import JobRun
from maintenance.units import human_age


class _Console(Console):
    """A console that prints a line whose markup is broken as plain text instead of
    raising: messages carry what an operator typed (``-p 'x=[/y]'``), and a typo must be
    answered with "bad input", not a traceback. Our own output builds :class:`Text`
    (never parsed) or escapes what it interpolates."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        try:
            return super().render_str(text, **kwargs)
        except MarkupError:
            return super().render_str(text, **(kwargs | {"markup": False}))


out = _Console(highlight=False, soft_wrap=False, width=width_for(sys.stdout))
# Messages are one line each, whatever their length: grep and log collectors read them.
err = _Console(stderr=True, highlight=False, soft_wrap=True, width=width_for(sys.stderr))

STATUS_STYLE = {
    "succeeded": "green",
    "failed": "bold red",
    "lost": "bold magenta",
    "missed": "bold yellow",
    "skipped": "yellow",
    "running": "cyan",
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
    # health and alerts
    "healthy": "green",
    "degraded": "yellow",
    "critical": "bold red",
    "sent": "green",
    "sending": "cyan",
}


def styled(status: str) -> str:
    """``status`` as rich markup in its colour (for text we write ourselves)."""
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/]" if style else status


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status.split(":")[0].split(" (")[0], ""))


def local(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def compact(moment: datetime | None, zone: ZoneInfo) -> str:
    """``MM-DD HH:MM``: the form a time takes where the room is short."""
    if moment is None:
        return "-"
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def duration(seconds: float | None) -> str:
    return "-" if seconds is None else units.human_duration(seconds)


def ago(now: datetime, moment: datetime | None) -> str:
    """How long before ``now`` (:func:`maintenance.units.human_age`)."""
    return "-" if moment is None else human_age((now - moment).total_seconds())


# --- JSON ----------------------------------------------------------------------------------


def run_dict(run: JobRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "task": run.task,
        "status": run.status,
        "trigger": run.trigger,
        "celery_task_id": run.celery_task_id,
        "attempt": run.attempt,
        "window_run_id": run.window_run_id,
        "parent_run_id": run.parent_run_id,
        "step": run.step,
        "params": run.params,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
        "duration_s": run.duration_s,
        "host": run.host,
        "pid": run.pid,
        "summary": run.summary,
        "error_type": run.error_type,
        "error_message": run.error_message,
        "result": run.result,
    }


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def print_run(
    run: JobRun,
    zone: ZoneInfo,
    *,
    as_json: bool,
    exit_code: int,
    attempts: int = 1,
    history_error: str | None = None,
) -> None:
    """How ``maint run`` shows the run it ran or waited for, in-process or on a worker.

    JSON: the history row (:func:`run_dict`) plus ``run_id`` (the same as ``id``),
    ``exit_code`` (what the command exits with: 2 for bad input, although the row says
    ``failed``), ``attempts`` (rows of this Celery task id; 1 in-process) and
    ``history_error`` (why the row could not be written, if it could not; ``id`` is then
    null). Otherwise the run in full, as ``maint show`` prints it.
    """
    if as_json:
        print_json(
            run_dict(run)
            | {
                "run_id": run.id,
                "exit_code": exit_code,
                "attempts": attempts,
                "history_error": history_error,
            }
        )
    else:
        show_run(run, zone)


# --- run tables ------------------------------------------------------------------------


def runs_table(
    runs: Sequence[JobRun],
    zone: ZoneInfo,
    title: str | None = None,
    *,
    now: datetime | None = None,
) -> FirstFit:
    """Runs, one a line: id, task, status, trigger and duration whole; the start time
    compact where the room is short; the summary takes what is left. With ``now``, also
    how long ago each started (``maint status``)."""
    steps = bool(runs) and all(r.step for r in runs) and len({r.parent_run_id for r in runs}) == 1
    heading = f"{title} (times in {zone.key})" if title else f"times in {zone.key}"

    def grid(when: Any) -> Grid:
        columns = [
            Column("id", right=True),
            Column("step" if steps else "task"),
            Column("status"),
            Column("trigger"),
            *([Column("started")] if when else []),
            *([Column("age", right=True)] if now else []),
            Column("duration", right=True),
            Column("summary", flex=True),
        ]
        rows = [
            [
                str(r.id),
                (r.step or "") if steps else (f"{r.task} > {r.step}" if r.step else r.task),
                status_text(r.status),
                r.trigger,
                *([when(r.started_at, zone)] if when else []),
                *([ago(now, r.started_at)] if now else []),
                duration(r.duration_s),
                one_line(r.summary),
            ]
            for r in runs
        ]
        return Grid(columns, rows, title=heading)

    # The start time is the one column that may go, and only where nothing else fits.
    return FirstFit([grid(local), grid(compact)], fallback=[grid(None)])


# --- checklists and figures ----------------------------------------------------------------


class Checklist:
    """A result's checks: a table where every value fits on its line, else one block per
    check with ``observed`` and ``expected`` on lines of their own (a SHA-256 whole)."""

    def __init__(self, checks: Sequence[dict[str, Any]], title: str = "checklist") -> None:
        self.checks = checks
        self.title = title

    def table(self) -> Grid:
        columns = [Column("status"), Column("check"), Column("observed"), Column("expected")]
        rows: list[list[Any] | Note] = []
        for c in self.checks:
            rows.append(
                [
                    status_text(str(c.get("status"))),
                    one_line(str(c.get("name"))),
                    _cell(c.get("observed")),
                    _cell(c.get("expected")),
                ]
            )
            if c.get("detail"):
                rows.append(Note(str(c["detail"]), under=1))
        return Grid(columns, rows, title=self.title)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = self.table()
        if table.fits(options.max_width):
            yield table
            return
        yield Text(self.title, style="bold")
        for c in self.checks:
            status = str(c.get("status"))
            line = status_text(status.ljust(4))
            line.append("  " + one_line(str(c.get("name"))), style="")
            yield line
            fields: dict[str, Any] = {"observed": c.get("observed"), "expected": c.get("expected")}
            if c.get("detail"):
                fields["detail"] = c["detail"]
            yield KeyValues(fields, base=6)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return one_line(str(value))


def checklist(result: dict[str, Any] | None) -> Checklist | None:
    if not result or not result.get("checks"):
        return None
    return Checklist(result["checks"])


def figures(result: dict[str, Any] | None) -> KeyValues | None:
    data = (result or {}).get("figures")
    return KeyValues(data, title="figures") if isinstance(data, dict) and data else None


# --- one run in full -------------------------------------------------------------------------


def run_parts(run: JobRun, zone: ZoneInfo) -> list[RenderableType]:
    head = Text(f"run {run.id}" if run.id is not None else "run (not recorded)", style="bold")
    head.append(f"  {run.task}" + (f" > {run.step}" if run.step else "") + "  ")
    head.append_text(status_text(run.status))
    about: dict[str, Any] = {
        "trigger": run.trigger + (f", attempt {run.attempt}" if (run.attempt or 1) > 1 else ""),
        "started": f"{local(run.started_at, zone)} {zone.key}" if run.started_at else "-",
        "finished": f"{local(run.finished_at, zone)}, took {duration(run.duration_s)}",
        "host": f"{run.host or '-'}, pid {run.pid or '-'}",
    }
    if run.window_run_id:
        about["window run"] = run.window_run_id
    if run.params:
        about["params"] = ", ".join(f"{k}={_param(v)}" for k, v in run.params.items())
    if run.summary and not (run.error_type and run.summary.startswith(run.error_type)):
        about["summary"] = run.summary
    if run.error_type:
        about["error"] = f"{run.error_type}: {run.error_message or ''}"
    parts: list[RenderableType] = [head, KeyValues(about)]
    for part in (checklist(run.result), figures(run.result)):
        if part is not None:
            parts.append(part)
    return parts


def _param(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def show_run(run: JobRun, zone: ZoneInfo) -> None:
    out.print(Group(*run_parts(run, zone)))


def end_run(exit_code: int, *, history_error: str | None, bad_input: str | None) -> NoReturn:
    """How every command that ran a task ends: say what the record missed and what input
    was refused (on stderr), then exit with the run's code."""
    if history_error:
        err.print("[yellow]warning[/]: the run was not fully recorded: " + escape(history_error))
    if bad_input is not None:
        err.print("[red]bad input[/]: " + escape(bad_input))
    raise typer.Exit(exit_code)
