"""How the CLI shows runs and checklists to a person (and as JSON to a pipe)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from maintenance.history.models import JobRun


def _width(stream: Any) -> int | None:
    # Piped output is read by people too (| less, | grep): do not fold it at 80 columns.
    return None if stream.isatty() else 200


out = Console(highlight=False, soft_wrap=False, width=_width(sys.stdout))
err = Console(stderr=True, highlight=False, width=_width(sys.stderr))

STATUS_STYLE = {
    "succeeded": "green",
    "failed": "bold red",
    "lost": "bold magenta",
    "skipped": "yellow",
    "running": "cyan",
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
}


def styled(status: str) -> str:
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/]" if style else status


def local(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


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


def runs_table(runs: list[JobRun], zone: ZoneInfo, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for col in ("id", "task", "status", "trigger", f"started ({zone.key})", "duration"):
        table.add_column(col, no_wrap=True)
    table.add_column("summary", no_wrap=True, overflow="ellipsis", max_width=100)
    for run in runs:
        table.add_row(
            str(run.id),
            f"{run.task} > {run.step}" if run.step else run.task,
            styled(run.status),
            run.trigger,
            local(run.started_at, zone),
            duration(run.duration_s),
            (run.summary or "")[:160],
        )
    return table


def checklist_table(result: dict[str, Any] | None) -> Table | None:
    if not result or not result.get("checks"):
        return None
    table = Table(header_style="bold", title="checklist", title_justify="left")
    for col in ("status", "check", "observed", "expected"):
        table.add_column(col, overflow="fold")
    for check in result["checks"]:
        table.add_row(
            styled(check["status"]),
            check["name"] + (f"\n[dim]{check['detail']}[/]" if check.get("detail") else ""),
            _cell(check.get("observed")),
            _cell(check.get("expected")),
        )
    return table


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def show_run(run: JobRun, zone: ZoneInfo) -> None:
    out.print(
        f"[bold]run {run.id}[/]  {run.task}  {styled(run.status)}  trigger {run.trigger}"
        + (f"  attempt {run.attempt}" if run.attempt and run.attempt > 1 else "")
    )
    out.print(
        f"started {local(run.started_at, zone)}  finished {local(run.finished_at, zone)}  "
        f"took {duration(run.duration_s)}  on {run.host or '-'} pid {run.pid or '-'}"
    )
    if run.params:
        out.print("params " + json.dumps(run.params, default=str))
    if run.summary and not (run.error_type and run.summary.startswith(run.error_type)):
        out.print(run.summary)
    if run.error_type:
        out.print(f"[red]{run.error_type}[/]: {run.error_message or ''}")
    table = checklist_table(run.result)
    if table is not None:
        out.print(table)
    figures = (run.result or {}).get("figures")
    if figures:
        out.print("figures " + json.dumps(figures, default=str))
