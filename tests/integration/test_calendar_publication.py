"""The publication reader on a real PostgreSQL: a ``schedules`` table in a scratch
database; a missing table, an unreachable server, a writing or slow query are
"publication unknown", never an exception."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from maintenance import pg
from maintenance.calendar import publication
from maintenance.calendar.blackout import Publication
from maintenance.config import load_settings
from tests.conftest import PG_SERVER, TAG, _dsn

pytestmark = [pytest.mark.integration]


@pytest.fixture
def scratch(services: None) -> Iterator[str]:
    name = f"maint_test_{TAG}_calendar"
    pg.create_database(PG_SERVER, name, if_missing=True)
    try:
        yield _dsn(name)
    finally:
        pg.drop_database(PG_SERVER, name)


def _read(dsn: str, **kw: object) -> Publication:
    return publication.read(load_settings(target_dsn=dsn, **kw))


def test_the_last_publication_is_read_and_everything_else_is_unknown(scratch: str) -> None:
    missing = _read(scratch)
    assert missing.at is None and missing.unknown and "schedules" in missing.unknown
    with psycopg.connect(scratch, autocommit=True) as conn:
        conn.execute("CREATE TABLE schedules (id serial, published_at timestamptz)")
        assert _read(scratch) == Publication()  # no publication yet
        conn.execute(
            "INSERT INTO schedules (published_at) VALUES "
            "('2027-07-03 22:00+00'), ('2027-06-01 08:00+00'), (NULL)"
        )
        conn.execute("CREATE TABLE naive (published_at timestamp)")
        conn.execute("INSERT INTO naive VALUES ('2027-07-03 22:00')")
    assert _read(scratch) == Publication(at=datetime(2027, 7, 3, 22, tzinfo=UTC))
    naive = _read(scratch, calendar_publication_query="SELECT max(published_at) FROM naive")
    assert naive.at == datetime(2027, 7, 3, 22, tzinfo=UTC)
    # read-only: a query that writes is refused by the server
    writes = _read(
        scratch,
        calendar_publication_query="INSERT INTO schedules (published_at) VALUES (now()) "
        "RETURNING published_at",
    )
    assert writes.unknown and "read-only" in writes.unknown
    with psycopg.connect(scratch) as conn:
        assert conn.execute("SELECT count(*) FROM schedules").fetchone() == (3,)
    slow = _read(
        scratch,
        calendar_publication_query="SELECT now() FROM pg_sleep(5)",
        calendar_publication_timeout_s=0.5,
    )
    assert slow.unknown and "statement timeout" in slow.unknown
    wrong = _read(scratch, calendar_publication_query="SELECT 42")
    assert wrong.unknown and "not a timestamp" in wrong.unknown


def test_an_unreachable_database_is_publication_unknown() -> None:
    gone = _read("postgresql://postgres:s3cret-canary@127.0.0.1:1/nothing")
    assert gone.at is None and gone.unknown and "s3cret-canary" not in gone.unknown
