"""How an area's verb (``maint logs report``, ``maint db report`` ...) runs its task.

In this process, through the runner (trigger ``cli``, recorded like ``maint run``); then
the status line, the summary, the area's tables of the run's figures and its checklist;
or, with ``--json``, the run's history row as ``maint run --json`` prints it. Exit codes
are ``maint run``'s: 0 succeeded, 1 failed, 2 bad input, 3 skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from rich.text import Text

from maintenance import catalog, runner
from maintenance.cli.fit import one_line
from maintenance.cli.render import Checklist, end_run, out, print_json, print_run, styled
from maintenance.config import get_settings
from maintenance.errors import MaintenanceError
from maintenance.history import store
from maintenance.results import Trigger

#: Renders a run's figures as a list of printable parts (tables, notes).
Tables = Callable[[dict[str, Any]], list[Any]]


def run_task(task: str, params: dict[str, Any], as_json: bool, tables: Tables) -> None:
    """Run ``task`` here, print it, and exit with its code (module text)."""
    settings = get_settings()
    outcome = runner.execute(catalog.get(task), params, settings=settings, trigger=Trigger.CLI)
    if as_json:
        row = None
        if outcome.run_id is not None and not outcome.history_error:
            with contextlib.suppress(MaintenanceError):
                row = store.get_run(settings.history_dsn.get_secret_value(), outcome.run_id)
        if row is not None:  # the history row, as maint run --json prints it
            print_run(row, settings.zone, as_json=True, exit_code=outcome.exit_code)
        else:
            print_json(
                outcome.to_dict()
                | {"exit_code": outcome.exit_code, "history_error": outcome.history_error}
            )
    else:
        run = f"run {outcome.run_id}" if outcome.run_id is not None else "run (not recorded)"
        out.print(f"{task} {run}: {styled(outcome.status.value)}")
        out.print(Text(one_line(outcome.summary)))
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
