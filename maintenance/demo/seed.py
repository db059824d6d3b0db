"""``maint demo seed``: a residency scheduler database with realistic demo data.

Given a server and a database name, :func:`seed` drops and recreates *that* database and
loads the scheduler schema (``schema.sql`` beside this file: persons, rotations, blocks,
schedules, assignments, swaps) at a chosen scale. Scale 1 is about 50 MB on disk; other
scales are proportional (persons scale linearly, the academic year of half-day blocks
stays fixed).

This module is the database work: the safety checks, the drop and create, the COPY
load. The rows come from pure generators (:mod:`maintenance.demo.generate` for the
small tables, :mod:`maintenance.demo.assignments` for the bulk), drawing on the
constant vocabulary of :mod:`maintenance.demo.words`.

How it stays fast: tables are created bare, filled with ``COPY ... (FREEZE)`` in the
transaction that created them (no row inserts, no later hint-bit or freeze rewrites),
and only then get their primary keys, unique constraints, foreign keys and indexes,
built in bulk. Python's per-row work is a few random draws and one tuple: every string
that can be precomputed (names, notes, reasons, JSON fragments) comes from a pool.

How it stays realistic: names come from lists, notes are varied free text with numbers,
dates and times, ``jsonb`` documents have varying keys, timestamps carry microseconds.
A plain ``pg_dump`` compresses about 5x with gzip, not 30x (docs/demo-data.md).

The same ``rng_seed`` and scale always produce identical rows: one ``random.Random``
feeds every generator, in the order :func:`_load` calls them
(tests/integration/test_demo_fingerprint.py holds their md5s).
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import psycopg
from psycopg import sql

from maintenance import pg, schema
from maintenance.demo.assignments import (
    ASSIGNMENT_COLS,
    SWAP_COLS,
    SwapCandidate,
    assignment_rows,
    swap_rows,
)
from maintenance.demo.generate import (
    BLOCK_COLS,
    PERSON_COLS,
    ROTATION_COLS,
    SCHEDULE_COLS,
    Pools,
    make_blocks,
    make_persons,
    make_schedules,
    rotation_rows,
)
from maintenance.errors import BadInput, MaintenanceError

#: The scheduler's tables, parents before children.
SCHEMA_TABLES = schema.TABLES

#: The keys of :attr:`SeedReport.counts`, in report order: each table, with the persons
#: split by role right after them.
COUNT_KEYS = (SCHEMA_TABLES[0], "residents", "faculty", *SCHEMA_TABLES[1:])

#: Databases every server has; never dropped, whatever ``force`` says.
BUILTIN_DATABASES = frozenset({"postgres", "template0", "template1"})

MAX_SCALE = 200.0


@dataclass(frozen=True)
class SeedReport:
    """What one :func:`seed` call loaded."""

    database: str
    scale: float
    counts: dict[str, int]  # COUNT_KEYS -> rows loaded
    size_bytes: int  # pg_database_size after the load
    duration_s: float


# --------------------------------------------------------------------------- schema


@cache
def schema_sql() -> tuple[str, str]:
    """The DDL of ``schema.sql``: (tables, constraints and indexes added after the load)."""
    text = resources.files("maintenance.demo").joinpath("schema.sql").read_text("utf-8")
    tables, _, rest = text.partition("\n-- @constraints")
    return tables, rest.partition("\n")[2]


def integrity_queries() -> dict[str, str]:
    """Name -> SQL returning one integer: how many rows break that rule (0 when sound);
    a copy of :data:`maintenance.schema.INTEGRITY_CHECKS`."""
    return dict(schema.INTEGRITY_CHECKS)


# --------------------------------------------------------------------------- safety


def check_target(
    database: str,
    *,
    scale: float,
    refuse: Mapping[str, str] | None = None,
    production: str | None = None,
    force: bool = False,
) -> None:
    """Raise BadInput if ``database`` may not be (re)seeded at ``scale``."""
    if (
        isinstance(scale, bool)
        or not isinstance(scale, int | float)
        or not math.isfinite(scale)
        or not 0 < scale <= MAX_SCALE
    ):
        raise BadInput(f"scale must be greater than 0 and at most {MAX_SCALE:g}, got {scale!r}")
    if not isinstance(database, str) or not database:
        raise BadInput("a database name is required")
    pg.check_dbname(database)
    if database in BUILTIN_DATABASES:
        raise BadInput(f"database {database!r} is a built-in database of the server: never seeded")
    if refuse and database in refuse:
        raise BadInput(f"database {database!r} is never seeded: {refuse[database]}")
    if production and database == production and not force:
        raise BadInput(
            f"database {database!r} is the configured production target: seeding drops it; "
            "pass --force only if you really mean to replace it with demo data"
        )


# --------------------------------------------------------------------------- entry point


def seed(
    server_dsn: str,
    database: str,
    *,
    scale: float = 1.0,
    rng_seed: int = 42,
    refuse: Mapping[str, str] | None = None,
    production: str | None = None,
    force: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Drop and recreate `database` on the server of `server_dsn` (a postgresql:// URL; its own
    dbname is irrelevant) and load demo data at `scale`.

    refuse: names that are never seeded, whatever `force` says (name -> reason shown in the
    error). production: the configured production target's name: refused unless force=True.
    Raise BadInput (message naming the problem) for an unsafe name, a refused name, the
    production name without force, scale <= 0 or > 200, and postgres/template0/template1;
    nothing is dropped when it raises BadInput. ServiceUnavailable if the server does not
    answer. A load that fails after the drop drops the half-loaded database and re-raises.
    """
    check_target(database, scale=scale, refuse=refuse, production=production, force=force)
    say = progress or (lambda _msg: None)
    started = time.monotonic()

    say(f"dropping and recreating database {database!r}")
    pg.drop_database(server_dsn, database)
    pg.create_database(server_dsn, database, if_missing=False)
    try:
        with pg.connect(pg.with_dbname(server_dsn, database), autocommit=False) as conn:
            counts = _load(conn, scale=float(scale), rng_seed=rng_seed, say=say)
            comment = f"maint demo seed: scale={scale:g} rng_seed={rng_seed}"
            conn.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                    sql.Identifier(database), sql.Literal(comment)
                )
            )
            conn.commit()
            say("analyzing")
            conn.autocommit = True
            conn.execute("ANALYZE")
            row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
            size = int(row[0]) if row else 0
    except BaseException:
        # A half-loaded demo database would mislead whatever benchmark uses it next.
        with contextlib.suppress(MaintenanceError, psycopg.Error):
            pg.drop_database(server_dsn, database)
        raise
    duration = time.monotonic() - started
    say(f"loaded {database!r}: {size / 1e6:.1f} MB in {duration:.1f} s")
    return SeedReport(database, float(scale), counts, size, duration)


# --------------------------------------------------------------------------- the load


def _load(
    conn: psycopg.Connection, *, scale: float, rng_seed: int, say: Callable[[str], None]
) -> dict[str, int]:
    """Create, fill and constrain every table in the open transaction of ``conn``."""
    rng = random.Random(rng_seed)  # noqa: S311 - reproducible demo data, not secrets
    tables_ddl, constraints_ddl = schema_sql()
    conn.execute("SET synchronous_commit = off")
    conn.execute("SET maintenance_work_mem = '256MB'")
    conn.execute(tables_ddl.encode())

    pools = Pools(rng)
    persons = make_persons(rng, pools, scale)
    blocks = make_blocks()
    periods = make_schedules(rng, pools)
    counts: dict[str, int] = {}
    with conn.cursor() as cur:
        say(f"loading persons, rotations, blocks, schedules ({len(persons)} persons)")
        counts["persons"] = _copy(cur, "persons", PERSON_COLS, [p.row for p in persons])
        counts["residents"] = sum(1 for p in persons if p.resident)
        counts["faculty"] = counts["persons"] - counts["residents"]
        counts["rotations"] = _copy(cur, "rotations", ROTATION_COLS, rotation_rows())
        counts["blocks"] = _copy(cur, "blocks", BLOCK_COLS, [b.row for b in blocks])
        counts["schedules"] = _copy(cur, "schedules", SCHEDULE_COLS, [s.row for s in periods])
        say("loading assignments")
        candidates: list[SwapCandidate] = []
        rows = assignment_rows(rng, pools, persons, blocks, periods, candidates)
        counts["assignments"] = _copy(cur, "assignments", ASSIGNMENT_COLS, rows)
        say(f"loading swaps ({len(candidates)})")
        swaps = swap_rows(rng, pools, persons, blocks, candidates)
        counts["swaps"] = _copy(cur, "swaps", SWAP_COLS, swaps)
        say("adding primary keys, unique constraints, foreign keys and indexes")
        cur.execute(constraints_ddl.encode())
        for table in SCHEMA_TABLES:  # the next id the application inserts
            cur.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence({t}, 'id'), "
                    "coalesce((SELECT max(id) FROM {i}), 0) + 1, false)"
                ).format(t=sql.Literal(table), i=sql.Identifier(table))
            )
    return {key: counts[key] for key in COUNT_KEYS}


def _copy_sql(table: str, cols: Sequence[str]) -> sql.Composed:
    # FREEZE: the table was created in this transaction, so its rows are written frozen
    # and all-visible: no hint-bit rewrite or anti-wraparound vacuum later.
    return sql.SQL("COPY {} ({}) FROM STDIN WITH (FREEZE)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols))
    )


def _copy(cur: psycopg.Cursor, table: str, cols: Sequence[str], rows: Iterable[tuple]) -> int:
    """Stream ``rows`` into ``table``; return how many there were."""
    n = 0
    with cur.copy(_copy_sql(table, cols)) as cp:
        write = cp.write_row
        for row in rows:
            write(row)
            n += 1
    return n
