"""Put a restored database in place of the live one.

The live database is renamed ``<target>_pre_restore_<UTC time>`` and kept (never dropped
here); the restored one takes the target's name. New connections to the target are
refused and existing ones terminated for the moment of the renames; if the second
rename fails, the first is undone.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from maintenance import pg
from maintenance.errors import BadInput, PermanentError

PRE_RESTORE_MARK = "_pre_restore_"


class SwapFailed(PermanentError):
    """The databases could not be renamed; the live one was put back."""


def pre_restore_name(target: str, moment: datetime) -> str:
    stamp = moment.astimezone(UTC).strftime("%Y%m%d_%H%M%S")
    suffix = f"{PRE_RESTORE_MARK}{stamp}"
    return pg.check_dbname(f"{target[: 63 - len(suffix)]}{suffix}")


def is_pre_restore(name: str) -> bool:
    return PRE_RESTORE_MARK in name


def pre_restore_time(name: str) -> datetime | None:
    """When a ``*_pre_restore_*`` database was set aside, from its name."""
    stamp = name.rsplit(PRE_RESTORE_MARK, 1)[-1]
    try:
        return datetime.strptime(stamp, "%Y%m%d_%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _ident(name: str) -> sql.Identifier:
    return sql.Identifier(pg.check_dbname(name))


def _exists(conn: psycopg.Connection, name: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
    )


def _rename(conn: psycopg.Connection, old: str, new: str, attempts: int = 10) -> None:
    """Rename, terminating whatever reconnects in between (the application may retry)."""
    for attempt in range(attempts):
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (old,),
        )
        try:
            conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(_ident(old), _ident(new)))
            return
        except psycopg.errors.ObjectInUse:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2)


def swap(server_dsn: str, target: str, restored: str, moment: datetime) -> str | None:
    """Rename ``target`` aside and ``restored`` to ``target``; return the aside name
    (None when there was no live database to set aside)."""
    aside = pre_restore_name(target, moment)
    with pg.connect(pg.with_dbname(server_dsn, "postgres")) as conn:
        if not _exists(conn, restored):
            raise SwapFailed(f"the restored database {restored} is gone")
        if _exists(conn, aside):
            raise BadInput(f"{aside} already exists: refusing to overwrite it")
        live = _exists(conn, target)
        if live:
            conn.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(_ident(target))
            )
            try:
                _rename(conn, target, aside)
            except psycopg.Error as exc:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(_ident(target))
                )
                raise SwapFailed(f"could not set {target} aside: {str(exc).strip()}") from None
            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(_ident(aside)))
        try:
            _rename(conn, restored, target)
        except psycopg.Error as exc:
            if live:  # put the live database back under its name
                _rename(conn, aside, target)
            raise SwapFailed(
                f"could not rename {restored} to {target}: {str(exc).strip()}"
            ) from None
    return aside if live else None
