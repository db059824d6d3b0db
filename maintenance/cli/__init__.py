"""``maint``: the operator CLI over the same functions the workers run.

Exit codes: 0 succeeded, 1 failed (or lost), 2 bad input (unknown task or parameter,
bad value, bad configuration), 3 skipped.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

import psycopg
import typer
from rich.markup import escape

from maintenance import logs_setup, redact
from maintenance.cli import (
    alerts,
    backups,
    cache,
    capacity,
    db,
    demo,
    health,
    history,
    logs,
    metrics,
    notice,
    report,
    restore,
    run,
    schedule,
    security,
    status,
    window,
)
from maintenance.cli.render import err
from maintenance.errors import BadInput, ConfigError, MaintenanceError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_SKIPPED = 0, 1, 2, 3

app = typer.Typer(
    name="maint",
    help="Run and inspect the residency scheduler's maintenance tasks. "
    "Put -v first (maint -v run ...) to see the log stream on stderr.",
    no_args_is_help=True,
    add_completion=False,
    # Plain help, as click formats it: rich's panels label every flag `<bool>` and keep
    # a docstring's line breaks in the command list.
    rich_markup_mode=None,
    # Never print a traceback's local variables: they can hold DSNs.
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(alerts.app, name="alerts")
app.add_typer(backups.app, name="backups")
app.add_typer(cache.app, name="cache")
app.add_typer(db.app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(logs.app, name="logs")
app.add_typer(metrics.app, name="metrics")
app.add_typer(notice.app, name="notice")
app.add_typer(report.app, name="report")
app.add_typer(security.app, name="security")
app.add_typer(window.app, name="window")
run.register(app)
history.register(app)
status.register(app)
restore.register(app)
health.register(app)
schedule.register(app)
capacity.register(app)


def command() -> Any:
    """The click command tree of :data:`app`, its help made to read well at 80 columns:
    each command listed with its whole first paragraph (click would cut it at about 45
    characters, mid-sentence), and arguments shown as NAME."""
    root = typer.main.get_command(app)
    pending = [root]
    while pending:
        cmd = pending.pop()
        pending.extend(getattr(cmd, "commands", {}).values())
        if cmd.short_help is None and cmd.help:
            cmd.short_help = " ".join(inspect.cleandoc(cmd.help).split("\n\n")[0].split())
        for param in cmd.params:
            if param.param_type_name == "argument" and param.metavar is None and param.name:
                param.metavar = param.name.upper()
    return root


def main() -> None:
    """Console-script entry point: maps our errors to exit codes with a clear message."""
    # People read the tables on stdout; the log stream is for workers. -v shows it here.
    verbose = "-v" in sys.argv[1:2] or "--verbose" in sys.argv[1:2]
    if verbose:
        sys.argv.pop(1)
    logs_setup.configure("INFO" if verbose else "CRITICAL", "console")
    try:
        code = command()(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(EXIT_FAILED)
    except ConfigError as exc:
        err.print(f"[red]configuration error[/]: {escape(str(exc))}")
        sys.exit(EXIT_BAD_INPUT)
    except BadInput as exc:
        err.print(f"[red]bad input[/]: {escape(str(exc))}")
        sys.exit(EXIT_BAD_INPUT)
    except MaintenanceError as exc:  # DecryptError and the like: the operation failed
        err.print(f"[red]error[/]: {escape(str(exc))}")
        sys.exit(EXIT_FAILED)
    except psycopg.Error as exc:  # a database error outside a recorded run (demo seed ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        err.print(f"[red]database error[/]: {escape(redact.scrub(first))}")
        sys.exit(EXIT_FAILED)
    except typer.TyperException as exc:  # usage errors: bad option value, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err.print(f"[red]usage error[/]: {escape(str(exc))}")
        sys.exit(getattr(exc, "exit_code", EXIT_BAD_INPUT))
    sys.exit(code if isinstance(code, int) else EXIT_OK)
