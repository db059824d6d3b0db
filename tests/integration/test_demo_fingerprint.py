"""``maint demo seed`` writes exactly the rows it always wrote for a given rng_seed and
scale: a golden md5 of every table, so refactoring the generators cannot change the data
unnoticed (real PostgreSQL, real COPY).

Why a golden value is sound here: nothing the seeder writes depends on the clock, the
host, the server's settings or hash order (every timestamp is derived from fixed dates,
``random.Random(rng_seed)`` is the only source of variety), and the rows are read back as
text in a session pinned to UTC and ISO dates, so the server's own time zone does not
show. Python guarantees the ``random()`` sequence of a seed across versions; the draws
built on it (``randrange``, ``choice``, ``choices``, ``sample``, ``shuffle``) are stable in
practice but not promised. If a new Python changes them, or the data is changed on
purpose, regenerate these values and say why in the commit.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest

from maintenance import pg
from maintenance.demo import SCHEMA_TABLES, seed

pytestmark = pytest.mark.integration

SERVER = os.environ.get("MAINT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

GOLDEN = {
    (0.05, 42): {
        "persons": "d6547535c601064dbec8a309deb702c4",
        "rotations": "5d212532b33679e0ace5c1c43919aa78",
        "blocks": "a4f000a5e29528d88cbfb3d2914c95e9",
        "schedules": "4e7484678d385d8ed6b8727f3db88b85",
        "assignments": "6da1a4e43e23a74622fe0b8d78c16740",
        "swaps": "4266fb5ab955888b4dc361cc6e2395bb",
    },
    (0.01, 7): {
        "persons": "5fa097d36729b748c7e5c557176d3ee7",
        "rotations": "5d212532b33679e0ace5c1c43919aa78",
        "blocks": "a4f000a5e29528d88cbfb3d2914c95e9",
        "schedules": "3468bd048f9e892ffa88214c50e2f516",
        "assignments": "bf5bb0cd39bb79486cdfabf78c79e66d",
        "swaps": "59d0742adacf9c9573ff8532c1790a4d",
    },
}


@pytest.fixture
def database() -> Iterator[str]:
    name = f"maint_test_demofp_{os.getpid()}_{secrets.token_hex(3)}"
    yield name
    pg.drop_database(SERVER, name)


def fingerprints(name: str) -> dict[str, str]:
    """md5 of each table's rows as text, in id order, read in a UTC, ISO-dated session."""
    with psycopg.connect(pg.with_dbname(SERVER, name)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("SET DateStyle = 'ISO, MDY'")
        conn.execute("SET IntervalStyle = 'postgres'")
        out = {}
        for table in SCHEMA_TABLES:
            row = conn.execute(
                f"SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM {table} AS t"
            ).fetchone()
            assert row is not None
            out[table] = row[0]
        return out


@pytest.mark.parametrize(("scale", "rng_seed"), list(GOLDEN), ids=lambda v: str(v))
def test_same_rows_as_ever_for_seed_and_scale(database: str, scale: float, rng_seed: int) -> None:
    seed(SERVER, database, scale=scale, rng_seed=rng_seed)
    assert fingerprints(database) == GOLDEN[(scale, rng_seed)]
