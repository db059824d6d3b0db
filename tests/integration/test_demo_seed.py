"""``maint demo seed``: the scheduler schema with realistic, reproducible data, and the
safety rules around the one database it drops (real PostgreSQL, no mocks)."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from maintenance import pg
from maintenance.demo import SCHEMA_TABLES, SeedReport, integrity_queries, seed
from maintenance.errors import BadInput, ServiceUnavailable

pytestmark = pytest.mark.integration

SERVER = os.environ.get("MAINT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PREFIX = f"maint_test_demo_{os.getpid()}_{secrets.token_hex(2)}"
SCALE = 0.05


def _dsn(name: str) -> str:
    return pg.with_dbname(SERVER, name)


def _scalar(conn: psycopg.Connection, query: str) -> Any:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def _one(name: str, query: str) -> Any:
    with psycopg.connect(_dsn(name)) as conn:
        return _scalar(conn, query)


def _fingerprints(name: str) -> dict[str, str]:
    """md5 of every table's rows in id order: equal fingerprints, identical data."""
    with psycopg.connect(_dsn(name)) as conn:
        return {
            t: _scalar(conn, f"SELECT md5(string_agg(t::text, E'\\n' ORDER BY id)) FROM {t} AS t")
            for t in SCHEMA_TABLES
        }


@pytest.fixture(scope="module")
def dbs() -> Iterator[list[str]]:
    """Names of databases the tests create; every one is dropped at the end."""
    names: list[str] = []
    yield names
    for name in names:
        pg.drop_database(SERVER, name)


@pytest.fixture(scope="module")
def demo(dbs: list[str]) -> tuple[str, SeedReport, list[str]]:
    name = f"{PREFIX}_main"
    dbs.append(name)
    messages: list[str] = []
    report = seed(SERVER, name, scale=SCALE, progress=messages.append)
    return name, report, messages


def test_report_counts_equal_select_count(demo: tuple[str, SeedReport, list[str]]) -> None:
    name, report, messages = demo
    assert report.database == name
    assert report.scale == SCALE
    assert report.duration_s > 0
    queries = {t: f"SELECT count(*) FROM {t}" for t in SCHEMA_TABLES}
    queries["residents"] = "SELECT count(*) FROM persons WHERE role = 'RESIDENT'"
    queries["faculty"] = "SELECT count(*) FROM persons WHERE role = 'FACULTY'"
    actual = {key: _one(name, sql) for key, sql in queries.items()}
    assert report.counts == actual
    assert list(report.counts) == [
        "persons", "residents", "faculty", "rotations", "blocks", "schedules", "assignments",
        "swaps",
    ]  # fmt: skip
    # Scale 0.05: 12 persons over an academic year of AM/PM blocks, assignments dominate.
    assert report.counts["persons"] == 12
    assert report.counts["blocks"] == 730
    assert 5_000 < report.counts["assignments"] < 7_000
    assert report.counts["swaps"] > 0
    size = _one(name, "SELECT pg_database_size(current_database())")
    assert isinstance(size, int)
    assert abs(report.size_bytes - size) < 0.05 * size
    assert any("assignments" in m for m in messages)
    assert any("loaded" in m for m in messages)
    comment = _one(name, "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                         "WHERE datname = current_database()")  # fmt: skip
    assert comment == f"maint demo seed: scale={SCALE:g} rng_seed=42"


def test_persons_are_residents_and_faculty(demo: tuple[str, SeedReport, list[str]]) -> None:
    name, _, _ = demo
    with psycopg.connect(_dsn(name)) as conn:
        roles: dict[str, int] = dict(
            conn.execute("SELECT role, count(*) FROM persons GROUP BY role").fetchall()
        )
        no_pgy = conn.execute(
            "SELECT count(*) FROM persons WHERE (role = 'RESIDENT') <> (pgy_level IS NOT NULL)"
        ).fetchone()
        emails = conn.execute("SELECT count(DISTINCT email), count(*) FROM persons").fetchone()
    assert set(roles) == {"RESIDENT", "FACULTY"}
    assert min(roles.values()) > 0
    assert no_pgy == (0,)
    assert emails is not None
    assert emails[0] == emails[1]


def test_keys_unique_rule_and_foreign_keys_exist(demo: tuple[str, SeedReport, list[str]]) -> None:
    name, _, _ = demo
    with psycopg.connect(_dsn(name)) as conn:
        rows = conn.execute(
            """SELECT c.contype, c.conrelid::regclass::text, c.confrelid::regclass::text,
                      array_agg(a.attname::text ORDER BY k.ord)
                 FROM pg_constraint c
                 CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
                WHERE c.connamespace = 'public'::regnamespace AND c.contype IN ('p', 'u', 'f')
                GROUP BY c.oid, c.contype, c.conrelid, c.confrelid"""
        ).fetchall()
    found = {
        (kind, table, ref if kind == "f" else None, tuple(cols)) for kind, table, ref, cols in rows
    }
    for table in SCHEMA_TABLES:
        assert ("p", table, None, ("id",)) in found, table
    assert ("u", "assignments", None, ("person_id", "block_id")) in found
    assert {
        ("f", "assignments", "persons", ("person_id",)),
        ("f", "assignments", "blocks", ("block_id",)),
        ("f", "assignments", "rotations", ("rotation_id",)),
        ("f", "assignments", "schedules", ("schedule_id",)),
        ("f", "swaps", "assignments", ("assignment_id",)),
        ("f", "swaps", "assignments", ("target_assignment_id",)),
        ("f", "swaps", "persons", ("requester_id",)),
        ("f", "swaps", "persons", ("target_id",)),
    } <= found


def test_published_schedules_carry_published_at(demo: tuple[str, SeedReport, list[str]]) -> None:
    name, _, _ = demo
    with psycopg.connect(_dsn(name)) as conn:
        rows = conn.execute(
            "SELECT status, count(*), count(published_at) FROM schedules GROUP BY status"
        ).fetchall()
    by_status = {status: (n, with_date) for status, n, with_date in rows}
    published, published_dated = by_status.pop("published")
    assert published > 0
    assert published_dated == published
    assert by_status
    assert all(dated == 0 for _, dated in by_status.values())


def test_data_is_realistic_not_repetitive(demo: tuple[str, SeedReport, list[str]]) -> None:
    name, _, _ = demo
    with psycopg.connect(_dsn(name)) as conn:
        row = conn.execute(
            """SELECT count(DISTINCT notes), count(notes), count(DISTINCT created_at), count(*),
                      count(DISTINCT (SELECT array_agg(k ORDER BY k)
                                        FROM jsonb_object_keys(metadata) AS k))
                 FROM assignments"""
        ).fetchone()
    assert row is not None
    distinct_notes, notes, distinct_stamps, total, key_sets = row
    assert notes > total / 4
    assert distinct_notes > notes / 2
    assert distinct_stamps > total * 0.99
    assert key_sets >= 5


def test_integrity_queries_are_zero_on_fresh_data(demo: tuple[str, SeedReport, list[str]]) -> None:
    name, _, _ = demo
    queries = integrity_queries()
    assert {
        "assignments_missing_person", "assignments_missing_block", "assignments_missing_rotation",
        "assignments_missing_schedule", "assignments_duplicate_person_block",
        "blocks_end_before_start", "swaps_missing_assignment",
    } <= set(queries)  # fmt: skip
    assert {q: _one(name, sql) for q, sql in queries.items()} == dict.fromkeys(queries, 0)


def test_integrity_queries_find_what_a_restore_without_constraints_lets_in(
    demo: tuple[str, SeedReport, list[str]],
) -> None:
    name, _, _ = demo
    breakage = """
        ALTER TABLE assignments DROP CONSTRAINT assignments_person_id_fkey;
        ALTER TABLE assignments DROP CONSTRAINT assignments_person_block_key;
        ALTER TABLE blocks DROP CONSTRAINT blocks_dates_check;
        ALTER TABLE swaps DROP CONSTRAINT swaps_assignment_id_fkey;
        INSERT INTO assignments (schedule_id, person_id, block_id, rotation_id, role, status)
            SELECT schedule_id, 999999, block_id, rotation_id, role, status
              FROM assignments ORDER BY id LIMIT 1;
        INSERT INTO assignments (schedule_id, person_id, block_id, rotation_id, role, status)
            SELECT schedule_id, person_id, block_id, rotation_id, role, status
              FROM assignments ORDER BY id LIMIT 2;
        UPDATE blocks SET end_date = start_date - 1 WHERE id = 7;
        INSERT INTO swaps (requester_id, target_id, assignment_id, swap_type, status, reason,
                           requested_at)
            SELECT requester_id, target_id, 999999999, 'giveaway', 'pending', 'x', now()
              FROM swaps LIMIT 1;
    """
    with psycopg.connect(_dsn(name)) as conn:  # one transaction, rolled back
        conn.execute(breakage)
        found = {q: _scalar(conn, sql) for q, sql in integrity_queries().items()}
        conn.rollback()
    expected = dict.fromkeys(found, 0)
    # The orphan's person does not exist, so it is not a duplicate of the row it copies.
    expected.update(
        assignments_missing_person=1,
        assignments_duplicate_person_block=2,
        blocks_end_before_start=1,
        swaps_missing_assignment=1,
    )
    assert found == expected
    assert {q: _one(name, sql) for q, sql in integrity_queries().items()} == dict.fromkeys(found, 0)


def test_same_seed_same_data_other_seed_other_data(
    demo: tuple[str, SeedReport, list[str]], dbs: list[str]
) -> None:
    name, report, _ = demo
    twin = f"{PREFIX}_twin"
    dbs.append(twin)
    again = seed(SERVER, twin, scale=SCALE, rng_seed=42)
    assert again.counts == report.counts
    assert _fingerprints(twin) == _fingerprints(name)

    other = seed(SERVER, twin, scale=SCALE, rng_seed=7)  # reseeding drops and recreates
    assert other.counts["persons"] == report.counts["persons"]
    first = _fingerprints(name)
    differ = {t for t, md5 in _fingerprints(twin).items() if md5 != first[t]}
    assert {"persons", "assignments", "swaps"} <= differ
    assert "blocks" not in differ  # the calendar does not depend on the seed


@pytest.fixture
def sentinel(dbs: list[str]) -> str:
    """An existing database with a table in it, to prove a refused seed drops nothing."""
    name = f"{PREFIX}_sentinel"
    if name not in dbs:
        dbs.append(name)
    pg.drop_database(SERVER, name)
    pg.create_database(SERVER, name)
    with psycopg.connect(_dsn(name), autocommit=True) as conn:
        conn.execute("CREATE TABLE keep_me (note text); INSERT INTO keep_me VALUES ('still here')")
    return name


REFUSALS = [  # (keyword arguments given the sentinel's name, expected message)
    pytest.param(lambda db: {"production": db}, "production target", id="production"),
    pytest.param(
        lambda db: {"refuse": {db: "the job-history database"}, "production": db, "force": True},
        "never seeded: the job-history database",
        id="refused-even-with-force",
    ),
    pytest.param(lambda db: {"scale": 0}, "scale", id="scale-0"),
    pytest.param(lambda db: {"scale": -1}, "scale", id="scale-negative"),
    pytest.param(lambda db: {"scale": 200.5}, "scale", id="scale-too-big"),
    pytest.param(lambda db: {"scale": math.nan}, "scale", id="scale-nan"),
]


@pytest.mark.parametrize(("kwargs", "message"), REFUSALS)
def test_refusals_drop_nothing(
    sentinel: str, kwargs: Callable[[str], dict[str, Any]], message: str
) -> None:
    with pytest.raises(BadInput, match=message):
        seed(SERVER, sentinel, **kwargs(sentinel))
    assert _one(sentinel, "SELECT note FROM keep_me") == "still here"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Bad-Name", "not allowed"),
        ("x; drop database postgres", "not allowed"),
        ("", "required"),
        ("postgres", "built-in"),
        ("template0", "built-in"),
        ("template1", "built-in"),
    ],
)
def test_unsafe_and_builtin_names_are_refused(sentinel: str, name: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        seed(SERVER, name, scale=SCALE, force=True)
    assert pg.database_exists(SERVER, "postgres")
    assert pg.database_exists(SERVER, "template1")
    assert _one(sentinel, "SELECT note FROM keep_me") == "still here"


@pytest.fixture
def unsafe_existing() -> Iterator[str]:
    """A database whose name the seeder must refuse (upper case, a hyphen), with a table."""
    name = f"{PREFIX}_Bad-Name"
    ident = sql.Identifier(name)
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
    try:
        with psycopg.connect(_dsn(name), autocommit=True) as conn:
            conn.execute("CREATE TABLE keep_me (note text); INSERT INTO keep_me VALUES ('ok')")
        yield name
    finally:  # pg.drop_database refuses this name too: drop it by hand
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))


def test_an_existing_database_with_an_unsafe_name_is_left_alone(unsafe_existing: str) -> None:
    with pytest.raises(BadInput, match="not allowed"):
        seed(SERVER, unsafe_existing, scale=SCALE, force=True)
    assert _one(unsafe_existing, "SELECT note FROM keep_me") == "ok"


def test_force_replaces_the_production_name(sentinel: str) -> None:
    report = seed(SERVER, sentinel, scale=0.01, production=sentinel, force=True)
    assert report.counts["persons"] == 4
    assert report.counts["assignments"] > 0
    assert _one(sentinel, "SELECT to_regclass('keep_me') IS NULL") is True


def test_unreachable_server_is_service_unavailable() -> None:
    with pytest.raises(ServiceUnavailable, match="cannot connect"):
        seed("postgresql://postgres@127.0.0.1:1/postgres", f"{PREFIX}_nowhere", scale=SCALE)
