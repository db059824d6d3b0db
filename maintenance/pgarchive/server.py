"""What the loader does on the target besides COPY and pg_restore: plain tables made
UNLOGGED for a scratch load, VACUUM of the big tables before their foreign keys are
checked, the one WAL-flushing commit at the end; every failure a LoadFailed."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql

from maintenance import pg, redact
from maintenance.errors import MaintenanceError
from maintenance.pgarchive.errors import LoadFailed


def make_unlogged(dsn: str, fks: list[tuple[bytes, bytes | None]]) -> None:
    """Scratch only: plain tables become UNLOGGED while still empty, except those that a
    foreign key from a table staying permanent (a partitioned parent, say) will reference:
    PostgreSQL refuses a permanent table's foreign key to an unlogged one. Where a foreign
    key's tables cannot be told, nothing is converted (a logged load is always right)."""
    if any(ref is None for _, ref in fks):
        return
    with connect(dsn) as conn:
        try:
            names = {name.decode() for pair in fks for name in pair if name is not None}
        except UnicodeDecodeError:
            return
        oids = {
            name: row[0] if row else None
            for name in names
            for row in [conn.execute("SELECT to_regclass(%s)::oid", (name,)).fetchone()]
        }
        if any(oid is None for oid in oids.values()):
            return
        pairs = [(oids[t.decode()], oids[r.decode()]) for t, r in fks if r is not None]
        rows = conn.execute(
            """
            SELECT c.oid, c.relpersistence = 'p', c.relkind = 'r'
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                   AND n.nspname NOT LIKE 'pg_toast%'
                   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                    WHERE d.objid = c.oid AND d.deptype = 'e')
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p')
            """
        ).fetchall()
        permanent = {oid for oid, perm, _ in rows if perm}
        convert = {oid for oid, perm, plain in rows if perm and plain}

        def settle() -> None:
            changed = True
            while changed:
                changed = False
                for table, ref in pairs:
                    if table in permanent - convert and ref in convert:
                        convert.discard(ref)
                        changed = True

        settle()
        done: set[int] = set()
        for oid in sorted(convert):
            if oid not in convert:
                continue
            try:
                conn.execute(sql.SQL("ALTER TABLE {} SET UNLOGGED").format(regclass(conn, oid)))
                done.add(oid)
            except psycopg.Error:  # it stays permanent, and so may what it references
                convert.discard(oid)
                settle()
        for oid in sorted(done - convert):  # an empty table: switching back is cheap
            conn.execute(sql.SQL("ALTER TABLE {} SET LOGGED").format(regclass(conn, oid)))


def regclass(conn: psycopg.Connection, oid: int) -> sql.Composable:
    row = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s",
        (oid,),
    ).fetchone()
    assert row is not None
    return sql.Identifier(row[0], row[1])


def vacuum(dsn: str, tables: list[bytes], jobs: int) -> None:
    """VACUUM the big tables that foreign keys will check: it sets their hint bits and
    visibility map, so each check scans the index on its column, not the whole heap.
    Only statistics change; the contents are those pg_restore gives."""

    def one(names: list[bytes]) -> None:
        with connect(dsn) as conn:
            for name in names:
                conn.execute(b"VACUUM " + name)

    lanes = [tables[i :: max(1, jobs)] for i in range(max(1, jobs))]
    threads = [_Call(one, lane) for lane in lanes if lane]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for th in threads:
        if th.error is not None:
            raise LoadFailed(f"VACUUM after the data: {db_error(th.error)}")


class _Call(threading.Thread):
    def __init__(self, fn: Any, *args: Any) -> None:
        super().__init__(daemon=True)
        self.fn, self.args = fn, args
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.fn(*self.args)
        except BaseException as exc:  # noqa: BLE001  (re-raised by the caller)
            self.error = exc


def sync(dsn: str) -> None:
    """Flush the WAL of every earlier commit (made with synchronous_commit=off): WAL is
    flushed in order, so one synchronous commit that wrote WAL makes them all durable.
    A transaction that wrote no WAL commits without a flush, hence the temp table."""
    with connect(dsn) as conn:
        conn.execute("SET synchronous_commit = on")
        with conn.transaction():
            conn.execute("CREATE TEMP TABLE maint_load_sync (x int) ON COMMIT DROP")


@contextlib.contextmanager
def connect(dsn: str) -> Iterator[psycopg.Connection]:
    """A connection to the target; any failure, even to connect, is a LoadFailed."""
    try:
        with pg.connect(dsn) as conn:
            yield conn
    except (psycopg.Error, MaintenanceError) as exc:
        raise LoadFailed(db_error(exc)) from None


def db_error(exc: BaseException) -> str:
    if isinstance(exc, LoadFailed):
        return str(exc)
    text = str(exc).strip() or type(exc).__name__
    context = getattr(getattr(exc, "diag", None), "context", None)
    if context:
        text += f" ({context.strip()})"
    return redact.scrub(text)[:2000]
