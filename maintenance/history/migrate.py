"""``maint db upgrade``: create the history database if needed and migrate it to head.

Idempotent and safe to run concurrently (the compose file's migrate service and a
developer's shell): the migration runs under a PostgreSQL advisory lock.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from maintenance import pg
from maintenance.history import store

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_KEY = 0x6D61696E74_01  # "maint" + 1: the migration lock


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head() -> str:
    head_rev = ScriptDirectory.from_config(_config()).get_current_head()
    assert head_rev is not None
    return head_rev


def current(dsn: str) -> str | None:
    with store.engine(dsn).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(dsn: str, revision: str = "head") -> tuple[str | None, str, bool]:
    """Migrate to ``revision`` (head). Return (revision before, after, database created)."""
    created = pg.create_database(dsn, pg.dbname(dsn), if_missing=True)
    eng = store.engine(dsn)
    with eng.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
        try:
            before = MigrationContext.configure(conn).get_current_revision()
            cfg = _config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
            after = MigrationContext.configure(conn).get_current_revision()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
            conn.commit()
    return before, after or head(), created
