"""The fast loader (maintenance/pgarchive/load.py) against the real thing: whatever path it
takes, the database it loads is the one a plain ``pg_restore --no-owner --no-acl`` of the
same archive gives, and a damaged archive fails cleanly."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import zstandard

from maintenance import dbcheck, pg, pgtools
from maintenance.config import Settings, load_settings
from maintenance.demo.seed import seed
from maintenance.pgarchive import dump, streams, toc
from maintenance.pgarchive import load as loader
from tests.conftest import LEAK_CANARY, PG_SERVER, TAG

pytestmark = pytest.mark.integration

#: Password-bearing DSNs (trust auth ignores it): it must never show up in a message.
SERVER = PG_SERVER.replace("postgresql://postgres@", f"postgresql://postgres:{LEAK_CANARY}@")

# Beside the scheduler's tables: the shapes a restore must get right. A table name with a
# newline (its COPY header spans two lines), values that look like COPY's end marker,
# partitioned tables (one with a partitioned index, one with a foreign key), sequences, a view, a populated matview, a
# trigger, a comment, an expression index, a NOT VALID check, a large object, a grant
# (which --no-acl drops).
EXTRAS = """
CREATE SCHEMA extra;
CREATE TABLE extra."Odd
Name" ("Id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text,
       doubled bigint GENERATED ALWAYS AS ("Id" * 2) STORED);
INSERT INTO extra."Odd
Name" (note)
SELECT CASE g % 5 WHEN 0 THEN E'\\\\.' WHEN 1 THEN E'line\\n\\\\.\\nline' WHEN 2 THEN E'tab\\there'
                  WHEN 3 THEN NULL ELSE repeat('é', g % 7) END
  FROM generate_series(1, 3000) g;
CREATE TABLE extra.readings (taken date NOT NULL, value double precision) PARTITION BY RANGE (taken);
CREATE TABLE extra.readings_2025 PARTITION OF extra.readings
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE extra.readings_2026 PARTITION OF extra.readings
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO extra.readings SELECT date '2025-06-01' + g, g / 3.0 FROM generate_series(0, 400) g;
CREATE INDEX readings_value_idx ON extra.readings (value);
CREATE TABLE extra.visits (person_id bigint REFERENCES public.persons (id), day date NOT NULL)
    PARTITION BY RANGE (day);
CREATE TABLE extra.visits_2025 PARTITION OF extra.visits
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
INSERT INTO extra.visits SELECT id, date '2025-03-01' + (id % 200)::int FROM public.persons;
CREATE TABLE extra.empty_one (x int);
CREATE SEQUENCE extra.ticket_seq START 1000;
SELECT setval('extra.ticket_seq', 4242);
CREATE SEQUENCE extra.unused_seq;
CREATE VIEW extra.busy_people AS
    SELECT person_id, count(*) AS n FROM public.assignments GROUP BY person_id;
CREATE MATERIALIZED VIEW extra.rotation_load AS
    SELECT rotation_id, count(*) AS n FROM public.assignments GROUP BY rotation_id;
CREATE UNIQUE INDEX rotation_load_key ON extra.rotation_load (rotation_id);
CREATE FUNCTION extra.touch() RETURNS trigger LANGUAGE plpgsql
    AS $$BEGIN NEW.note := coalesce(NEW.note, ''); RETURN NEW; END$$;
CREATE TRIGGER touch BEFORE INSERT ON extra."Odd
Name" FOR EACH ROW EXECUTE FUNCTION extra.touch();
COMMENT ON TABLE public.assignments IS 'one row per person and half-day';
CREATE INDEX assignments_lower_status_idx ON public.assignments (lower(status))
    WHERE status <> 'cancelled';
ALTER TABLE public.blocks ADD CONSTRAINT blocks_number_check CHECK (block_number >= 0) NOT VALID;
SELECT lo_from_bytea(0, 'a large object''s payload');
GRANT SELECT ON public.persons TO PUBLIC;
"""


def _name(what: str) -> str:
    return f"maint_test_{TAG}_load_{what}"


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="module")
def source(services: None) -> Iterator[str]:
    name = _name("src")
    seed(PG_SERVER, name, scale=0.05)
    dsn = pg.with_dbname(SERVER, name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(EXTRAS)
    yield dsn
    pg.drop_database(PG_SERVER, name)


@pytest.fixture(scope="module")
def server_major(source: str) -> int:
    with psycopg.connect(source) as conn:
        return conn.info.server_version // 10000


@pytest.fixture(scope="module")
def archive(
    source: str, settings: Settings, server_major: int, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Our backup format: ``pg_dump -Fc -Z0`` in one zstd frame."""
    path = tmp_path_factory.mktemp("archive") / "daily-test.dump.zst"
    dump.dump_to(
        path,
        pg_dump=pgtools.find("pg_dump", settings, server_major),
        dsn=source,
        snapshot=None,
        level=3,
        threads=0,
    )
    return path


def table_digests(dsn: str) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent digest of every user table's contents."""
    out = {}
    with psycopg.connect(dsn) as conn:
        for schema, table in dbcheck.user_tables(conn):
            q = psycopg.sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '')"
                " FROM {}.{} t"
            ).format(psycopg.sql.Identifier(schema), psycopg.sql.Identifier(table))
            n, digest = conn.execute(q).fetchone()  # type: ignore[misc]
            out[f"{schema}.{table}"] = (n, digest)
    return out


def _snapshot(dsn: str) -> dict[str, Any]:
    """Everything the restore must reproduce."""
    out: dict[str, Any] = {"tables": table_digests(dsn)}
    with psycopg.connect(dsn) as conn:

        def rows(query: str) -> list[tuple[Any, ...]]:
            return sorted(conn.execute(query).fetchall(), key=repr)

        out["indexes"] = rows(
            "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        out["constraints"] = rows(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid),"
            " convalidated FROM pg_constraint WHERE connamespace::regnamespace::text"
            " NOT IN ('pg_catalog', 'information_schema')"
        )
        out["sequences"] = rows("SELECT schemaname, sequencename, last_value FROM pg_sequences")
        out["views"] = rows(
            "SELECT schemaname, viewname, definition FROM pg_views"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        out["matviews"] = rows("SELECT schemaname, matviewname, ispopulated FROM pg_matviews")
        out["rotation_load"] = rows("SELECT * FROM extra.rotation_load")
        out["triggers"] = rows(
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal"
        )
        out["comments"] = rows("SELECT obj_description('public.assignments'::regclass)")
        out["large_objects"] = rows("SELECT oid, md5(lo_get(oid)) FROM pg_largeobject_metadata")
        out["owners"] = rows(
            "SELECT DISTINCT relowner::regrole::text FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname IN ('public', 'extra')"
        )
        out["acls"] = rows(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname IN ('public', 'extra') AND c.relacl IS NOT NULL"
        )
    return out


@pytest.fixture(scope="module")
def reference(archive: Path, server_major: int) -> dict[str, Any]:
    """What a plain ``pg_restore --no-owner --no-acl`` of the same archive gives."""
    name = _name("ref")
    pg.create_database(PG_SERVER, name, if_missing=False)
    try:
        data = zstandard.ZstdDecompressor().stream_reader(archive.open("rb")).read()
        dsn = pg.with_dbname(SERVER, name)
        subprocess.run(
            ["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", f"--dbname={name}"],
            input=data,
            env=pg.libpq_env(dsn),
            check=True,
            capture_output=True,
        )
        return _snapshot(dsn)
    finally:
        pg.drop_database(PG_SERVER, name)


@pytest.fixture
def target() -> Iterator[str]:
    name = _name(secrets.token_hex(3))
    pg.create_database(PG_SERVER, name, if_missing=False)
    yield pg.with_dbname(SERVER, name)
    pg.drop_database(PG_SERVER, name)


def _our_children() -> list[str]:
    """Live pg_restore children of this process (the loader's, and their -j workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        state, ppid = rest.split()[0], int(rest.split()[1])
        if ppid == os.getpid() and state != "Z" and comm == "pg_restore":
            found.append(comm)
    return found


def test_the_small_archive_path_equals_pg_restore(
    archive: Path,
    reference: dict[str, Any],
    target: str,
    settings: Settings,
    server_major: int,
    tmp_path: Path,
) -> None:
    assert archive.stat().st_size < loader.SIMPLE_BELOW_BYTES  # the single-stream path
    work = tmp_path / "work"
    report = loader.load(
        archive, target, settings=settings, server_major=server_major, workdir=work
    )
    assert report.method == "pg_restore single stream"
    assert set(report.phases) == {"restore"}
    assert _snapshot(target) == reference
    assert list(work.iterdir()) == []


def test_the_multi_stream_path_equals_pg_restore(
    archive: Path,
    reference: dict[str, Any],
    target: str,
    settings: Settings,
    server_major: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streams, "CHUNK", 32 << 10)  # every table of some size: many chunks
    monkeypatch.setattr(loader, "VACUUM_ABOVE_BYTES", 1 << 20)  # assignments and swaps
    work = tmp_path / "work"
    report = loader.load(
        archive,
        target,
        settings=settings,
        server_major=server_major,
        workdir=work,
        simple_below_bytes=0,
        jobs=2,
        streams=3,
    )
    assert report.method.startswith("phased")
    assert set(report.phases) == {"toc", "pre_data", "data", "vacuum", "post_data", "sync"}
    assert _snapshot(target) == reference
    with psycopg.connect(target) as conn:
        # each stream commits its own share: three transactions wrote the big table
        (writers,) = conn.execute(  # type: ignore[misc]
            "SELECT count(DISTINCT xmin::text) FROM public.assignments"
        ).fetchone()
        # vacuumed before the post-data section: it has foreign keys
        (vacuumed,) = conn.execute(  # type: ignore[misc]
            "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables"
            " WHERE relid = 'public.assignments'::regclass"
        ).fetchone()
    assert writers == 3
    assert vacuumed
    assert list(work.iterdir()) == []
    assert _our_children() == []


def test_a_scratch_load_is_unlogged_with_identical_contents(
    archive: Path,
    reference: dict[str, Any],
    target: str,
    settings: Settings,
    server_major: int,
    tmp_path: Path,
) -> None:
    report = loader.load(
        archive,
        target,
        settings=settings,
        server_major=server_major,
        scratch=True,
        workdir=tmp_path,
        simple_below_bytes=0,
    )
    assert "unlogged" in report.method
    snap = _snapshot(target)
    assert snap["tables"] == reference["tables"]
    assert snap == reference
    with psycopg.connect(target) as conn:
        persistence: dict[str, str] = dict(
            conn.execute(
                "SELECT c.oid::regclass::text, c.relpersistence FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname IN ('public', 'extra') AND c.relkind IN ('r', 'p')"
            ).fetchall()
        )
    assert persistence["assignments"] == "u" and persistence["extra.visits_2025"] == "u"
    # a partitioned table stays permanent, and so must what its foreign key references
    assert persistence["extra.visits"] == "p" and persistence["persons"] == "p"


def _truncated(data: bytes) -> bytes:
    return data[: len(data) * 6 // 10]


def _flipped(data: bytes) -> bytes:
    out = bytearray(data)
    out[len(out) * 6 // 10] ^= 0x55
    return bytes(out)


def _checksum_flipped(data: bytes) -> bytes:
    """Every byte of the archive intact, zstd's checksum at the very end wrong."""
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _garbage(data: bytes) -> bytes:
    return b"this is not a backup\n" * 100


@pytest.mark.parametrize(
    "damage", [_truncated, _flipped, _checksum_flipped, _garbage], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("simple_below", [0, 1 << 40], ids=["phased", "single"])
def test_a_damaged_archive_fails_cleanly(
    damage: Any,
    simple_below: int,
    archive: Path,
    target: str,
    settings: Settings,
    server_major: int,
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.dump.zst"
    bad.write_bytes(damage(archive.read_bytes()))
    work = tmp_path / "work"
    with pytest.raises(loader.LoadFailed) as caught:
        loader.load(
            bad,
            target,
            settings=settings,
            server_major=server_major,
            workdir=work,
            simple_below_bytes=simple_below,
        )
    message = str(caught.value)
    assert re.search(r"truncated|does not decompress|not a readable archive|pg_restore", message)
    assert LEAK_CANARY not in message
    assert list(work.iterdir()) == []
    assert _our_children() == []


def test_a_row_the_server_rejects_fails_with_its_message(
    archive: Path, target: str, settings: Settings, server_major: int, tmp_path: Path
) -> None:
    """A COPY stream's own error (here a month 13 in the rows) reaches the caller."""
    plain = zstandard.ZstdDecompressor().stream_reader(archive.open("rb")).read()
    stamp = re.compile(rb"\t(\d{4})-(\d{2})-(\d{2}) \d{2}:\d{2}:\d{2}")
    found = stamp.search(plain, plain.index(b"public"))
    assert found is not None
    broken = plain[: found.start(2)] + b"13" + plain[found.end(2) :]  # same length
    bad = tmp_path / "bad.dump.zst"
    bad.write_bytes(zstandard.ZstdCompressor(write_checksum=True).compress(broken))
    with pytest.raises(loader.LoadFailed, match="out of range") as caught:
        loader.load(
            bad,
            target,
            settings=settings,
            server_major=server_major,
            workdir=tmp_path / "work",
            simple_below_bytes=0,
        )
    assert LEAK_CANARY not in str(caught.value)
    assert list((tmp_path / "work").iterdir()) == []
    assert _our_children() == []


def test_a_database_that_is_not_empty_fails_with_pg_restores_message(
    archive: Path, target: str, settings: Settings, server_major: int, tmp_path: Path
) -> None:
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.persons (id int)")
    with pytest.raises(loader.LoadFailed, match="already exists") as caught:
        loader.load(
            archive,
            target,
            settings=settings,
            server_major=server_major,
            workdir=tmp_path / "work",
            simple_below_bytes=0,
        )
    assert LEAK_CANARY not in str(caught.value)
    assert list((tmp_path / "work").iterdir()) == []


@pytest.mark.parametrize("simple_below", [0, 1 << 40], ids=["phased", "single"])
def test_a_missing_database_fails_without_showing_the_password(
    simple_below: int, archive: Path, settings: Settings, server_major: int, tmp_path: Path
) -> None:
    missing = pg.with_dbname(SERVER, _name("missing"))
    with pytest.raises(loader.LoadFailed, match="does not exist") as caught:
        loader.load(
            archive,
            missing,
            settings=settings,
            server_major=server_major,
            workdir=tmp_path / "work",
            simple_below_bytes=simple_below,
        )
    assert LEAK_CANARY not in str(caught.value)
    assert list((tmp_path / "work").iterdir()) == []
    assert _our_children() == []


# --- the COPY text dealer, at every read boundary (no database) ---------------------------

SCRIPT = (
    b"--\n-- PostgreSQL database dump\n--\n\n\\restrict k3y\n\n"
    b"SET client_encoding = 'UTF8';\n"
    b"SELECT pg_catalog.set_config('search_path', '', false);\n\n"
    b"--\n-- Data for Name: t; Type: TABLE DATA; Schema: public; Owner: -\n--\n\n"
    b"COPY public.t (a, b) FROM stdin;\n1\tx\n2\t\\\\.\n3\t\\N\n4\tline\\nnext\n\\.\n\n\n"
    b'COPY extra."Odd\nName" ("Id") FROM stdin;\n\\.\n\n\n'
    b"COPY public.u (a) FROM stdin;\n10\n11\n\\.\n\n\n"
    b"--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict k3y\n\n"
)
ROWS = {
    b"public.t": [b"1\tx", b"2\t\\\\.", b"3\t\\N", b"4\tline\\nnext"],
    b'extra."Odd\nName"': [],
    b"public.u": [b"10", b"11"],
}


class _Collector:
    def __init__(self) -> None:
        self.messages: list[tuple[str, Any]] = []

    def put(self, kind: str, payload: Any = None) -> None:
        self.messages.append((kind, bytes(payload) if isinstance(payload, memoryview) else payload))


def _dealt(script: bytes, chunk: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    import io

    monkeypatch.setattr(streams, "CHUNK", chunk)
    workers = [_Collector(), _Collector()]
    sizes: dict[bytes, int] = {}
    cut = streams.deal(io.BytesIO(script), workers, sizes)  # type: ignore[arg-type]
    rows: dict[bytes, list[bytes]] = {}
    for w in workers:
        current = None
        for kind, payload in w.messages:
            if kind == "begin":
                assert current is None
                current = re.sub(rb"^COPY (.+?) (\(.*\) )?FROM stdin$", rb"\1", payload, flags=re.S)
                rows.setdefault(current, [])
            elif kind == "data":
                assert current is not None and payload.endswith(b"\n")
                rows[current] += payload.splitlines()
            elif kind == "end":
                current = None
        assert current is None or cut is not None
    sqls = [[p for k, p in w.messages if k == "sql"] for w in workers]
    return cut, rows, sizes, sqls


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 13, 64, 1 << 20])
def test_the_dealer_cuts_copy_text_only_between_rows(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    cut, rows, sizes, sqls = _dealt(SCRIPT, chunk, monkeypatch)
    assert cut is None
    assert {t: sorted(r) for t, r in rows.items() if r} == {
        t: sorted(r) for t, r in ROWS.items() if r
    }
    assert sizes == {t: sum(len(r) + 1 for r in rs) for t, rs in ROWS.items()}
    session = [
        b"SET client_encoding = 'UTF8';",
        b"SELECT pg_catalog.set_config('search_path', '', false);",
    ]
    assert sqls == [session, session]  # every stream gets the archive's session settings


def test_the_dealer_reports_data_cut_short_and_refuses_other_sql(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short = SCRIPT[: SCRIPT.index(b"11\n")]
    assert _dealt(short, 4, monkeypatch)[0] == b"public.u"
    with pytest.raises(loader.LoadFailed, match="unexpected statement"):
        _dealt(
            SCRIPT.replace(b"\n\n\\unrestrict", b"\nINSERT INTO t VALUES (1);\n\\unrestrict"),
            64,
            monkeypatch,
        )


def test_foreign_keys_are_read_from_the_post_data_script() -> None:
    script = (
        b"ALTER TABLE ONLY public.a\n    ADD CONSTRAINT a_pkey PRIMARY KEY (id);\n\n"
        b'ALTER TABLE ONLY "Odd"."T 1"\n    ADD CONSTRAINT "fk ""x""" FOREIGN KEY ("b c")'
        b' REFERENCES "Odd"."Ref.(1)"(id) ON DELETE CASCADE;\n\n'
        b"ALTER TABLE public.parted\n    ADD CONSTRAINT parted_fk FOREIGN KEY (p) REFERENCES public.a(id);\n"
    )
    assert toc.foreign_keys(script) == [
        (b'"Odd"."T 1"', b'"Odd"."Ref.(1)"'),
        (b"public.parted", b"public.a"),
    ]
