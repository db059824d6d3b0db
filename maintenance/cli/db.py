"""``maint db``: the job-history database."""

from __future__ import annotations

import typer

from maintenance import pg
from maintenance.cli.render import out
from maintenance.config import get_settings

app = typer.Typer(help="The job-history database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create the history database if needed and migrate it to the latest schema (idempotent)."""
    from maintenance.history import migrate  # alembic is slow to import: only here

    settings = get_settings()
    dsn = settings.history_dsn.get_secret_value()
    before, after, created = migrate.upgrade(dsn)
    host, port = pg.server_identity(dsn)
    where = f"{pg.dbname(dsn)} on {host}:{port}"
    if created:
        out.print(f"created database {where}")
    if before == after:
        out.print(f"history database {where} is up to date (revision {after})")
    else:
        out.print(f"history database {where} migrated {before or 'empty'} -> {after}")


@app.command("current")
def current() -> None:
    """Print the history database's schema revision and the latest one."""
    from maintenance.history import migrate

    dsn = get_settings().history_dsn.get_secret_value()
    rev = migrate.current(dsn)
    out.print(f"current {rev or 'none'}, head {migrate.head()}")
    if rev != migrate.head():
        raise typer.Exit(1)
