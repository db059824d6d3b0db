"""Database facts used by backups, verification and restores: exact per-table row
counts, the integrity checks, and scratch databases that can never collide with a
real one."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from maintenance import pg, redact
from maintenance.config import Settings
from maintenance.errors import BadInput
from maintenance.schema import INTEGRITY_CHECKS

#: Every database this suite creates for its own use starts with this; nothing else
#: may (maint demo seed and restores refuse such targets).
SCRATCH_PREFIX = "maint_scratch_"

_TABLES = """
SELECT n.nspname, c.relname
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.objid = c.oid AND d.deptype = 'e')
 ORDER BY 1, 2
"""


def user_tables(conn: psycopg.Connection) -> list[tuple[str, str]]:
    """(schema, table) of every ordinary user table (partitions included, parents not)."""
    return [(r[0], r[1]) for r in conn.execute(_TABLES).fetchall()]


def exact_counts(conn: psycopg.Connection) -> dict[str, int]:
    """``schema.table`` -> ``count(*)`` for every user table, in the connection's snapshot."""
    out: dict[str, int] = {}
    for schema, table in user_tables(conn):
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table)
        )
        row = conn.execute(query).fetchone()
        out[f"{schema}.{table}"] = int(row[0]) if row else 0
    return out


def integrity_queries(settings: Settings) -> dict[str, str]:
    """Name -> SQL returning a count of violations (MAINT_INTEGRITY_CHECKS, or the
    scheduler schema's orphan, duplicate and date checks: ``schema.INTEGRITY_CHECKS``)."""
    if settings.integrity_checks is not None:
        return dict(settings.integrity_checks)
    return dict(INTEGRITY_CHECKS)


def run_integrity(
    conn: psycopg.Connection, queries: Mapping[str, str]
) -> dict[str, tuple[str, int | str]]:
    """name -> ("ok" | "violations" | "not-applicable" | "error", count or message)."""
    out: dict[str, tuple[str, int | str]] = {}
    for name, query in queries.items():
        try:
            row = conn.execute(query).fetchone()
        except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn) as exc:
            out[name] = ("not-applicable", redact.scrub(str(exc).splitlines()[0]))
            continue
        except psycopg.Error as exc:
            out[name] = ("error", redact.scrub(str(exc).splitlines()[0]))
            continue
        n = int(row[0]) if row and row[0] is not None else 0
        out[name] = ("ok" if n == 0 else "violations", n)
    return out


def unvalidated_foreign_keys(conn: psycopg.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated"
    ).fetchone()
    return int(row[0]) if row else 0


def scratch_name(purpose: str) -> str:
    name = f"{SCRATCH_PREFIX}{purpose}_{secrets.token_hex(4)}"
    return pg.check_dbname(name)


def refuse_scratch_names(name: str) -> None:
    if name.startswith(SCRATCH_PREFIX):
        raise BadInput(f"database {name!r} uses the reserved prefix {SCRATCH_PREFIX!r}")


@contextmanager
def scratch_database(server_dsn: str, purpose: str) -> Iterator[str]:
    """Create a fresh database named ``maint_scratch_<purpose>_<random>`` and drop it on
    exit, whatever happens. Creation fails rather than reuse an existing database, so
    this never drops a database it did not create."""
    name = scratch_name(purpose)
    pg.create_database(server_dsn, name, if_missing=False)
    try:
        yield name
    finally:
        pg.drop_database(server_dsn, name)


def server_facts(conn: psycopg.Connection) -> dict[str, Any]:
    """Version, database name and size, and the list of user tables."""
    # server_version reads "15.20 (Debian 15.20-0+deb12u1)": the first word is the version
    version = conn.execute("SELECT version(), current_setting('server_version')").fetchone()
    size = conn.execute(
        "SELECT current_database(), pg_database_size(current_database())"
    ).fetchone()
    tables = conn.execute(
        """SELECT n.nspname || '.' || c.relname
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg_toast%%'
            ORDER BY 1"""
    ).fetchall()
    assert version is not None
    assert size is not None
    return {
        "server_version": str(version[1]).split()[0],
        "server_version_full": version[0],
        "database": size[0],
        "database_size_bytes": int(size[1]),
        "tables": [t[0] for t in tables],
    }


def named_counts(
    conn: psycopg.Connection, queries: dict[str, str]
) -> tuple[dict[str, int], dict[str, str]]:
    """Run each named count query (``db.stats``' MAINT_STATS_COUNTS); return (counts,
    errors by name). A query that fails is an error of its own, not an exception."""
    counts: dict[str, int] = {}
    errors: dict[str, str] = {}
    for name, query in queries.items():
        try:
            # its own transaction or savepoint: a failed count must not abort the others
            with conn.transaction():
                row = conn.execute(query).fetchone()  # operator-configured, validated as a SELECT
        except psycopg.errors.QueryCanceled:
            errors[name] = "statement timeout"
            continue
        except psycopg.Error as exc:
            errors[name] = redact.scrub(str(exc).strip().splitlines()[0])
            continue
        if row is None or not isinstance(row[0], int):
            errors[name] = f"query did not return one integer (got {row!r})"
        else:
            counts[name] = int(row[0])
    return counts, errors
