"""A load that stops in the middle of a table's COPY ends that COPY on its open
connection (psycopg sends CopyFail) instead of leaving it to the garbage collector,
which logged "error ignored terminating <psycopg.Copy [BAD]>: the connection is
closed" on stderr, once per COPY stream, after every such failed restore."""

from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from maintenance import pg, pgtools
from maintenance.config import Settings, load_settings
from maintenance.demo.seed import seed
from maintenance.pgarchive import dump
from maintenance.pgarchive import load as loader
from tests.conftest import PG_SERVER, TAG

pytestmark = pytest.mark.integration


def _name(what: str) -> str:
    return f"maint_test_{TAG}_abort_{what}"


@pytest.fixture(scope="module")
def big_archive(
    services: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, int]]:
    """Large enough (about 2 MB) that pg_restore is writing COPY rows when the
    decompression of a truncated copy fails."""
    name = _name("src")
    seed(PG_SERVER, name, scale=0.3)
    try:
        src = pg.with_dbname(PG_SERVER, name)
        with psycopg.connect(src) as conn:
            major = conn.info.server_version // 10000
        path = tmp_path_factory.mktemp("abort") / "daily-test.dump.zst"
        dump.dump_to(
            path,
            pg_dump=pgtools.find("pg_dump", load_settings(), major),
            dsn=src,
            snapshot=None,
            level=3,
            threads=0,
        )
        yield path, major
    finally:
        pg.drop_database(PG_SERVER, name)


@pytest.fixture
def empty_target() -> Iterator[str]:
    name = _name(secrets.token_hex(3))
    pg.create_database(PG_SERVER, name, if_missing=False)
    yield pg.with_dbname(PG_SERVER, name)
    pg.drop_database(PG_SERVER, name)


@pytest.mark.parametrize("streams", [1, 3])
def test_a_load_cut_short_mid_copy_ends_its_copies_without_psycopg_warnings(
    streams: int,
    big_archive: tuple[Path, int],
    empty_target: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    archive, server_major = big_archive
    data = archive.read_bytes()
    bad = tmp_path / "bad.dump.zst"
    bad.write_bytes(data[: len(data) * 6 // 10])
    settings: Settings = load_settings()
    caplog.set_level(logging.WARNING, logger="psycopg")
    with pytest.raises(loader.LoadFailed, match="truncated"):
        loader.load(
            bad,
            empty_target,
            settings=settings,
            server_major=server_major,
            workdir=tmp_path / "work",
            simple_below_bytes=0,  # the phased path: COPY streams
            streams=streams,
        )
    gc.collect()  # anything left open is finalised now, while the log is captured
    warnings = [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")]
    assert warnings == []
    # the COPYs were ended, not left running: no session of ours is still in the database
    with psycopg.connect(PG_SERVER) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (pg.dbname(empty_target),)
        ).fetchone()
    assert left == (0,)
