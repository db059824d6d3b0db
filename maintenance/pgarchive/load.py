"""Load a backup file (``.dump.zst``) into an existing, empty database, fast.

The result is what a plain ``pg_restore --no-owner --no-acl`` of the same archive gives
(same tables, rows, indexes, constraints, sequence values, views, populated materialized
views), loaded in phases, each timed in :class:`LoadReport` ``phases``:

``toc``
    Decompress only the archive's head (header and table of contents, usually a few
    hundred KB) into a private temp folder. Everything pg_restore needs except table
    data is in there, seekable, so no decompressed copy of the whole archive is ever
    written (no disk space needed beyond the head).
``pre_data``
    ``pg_restore --section=pre-data`` from the head: schemas, types, functions, tables.
    ``scratch=True``: every plain table is then made ``UNLOGGED`` (no WAL for its rows
    and indexes; a scratch database is only verified and dropped).
``data``
    One sequential decompression of the archive through ``pg_restore -L <table data>
    -f -``. Its COPY text is cut into large newline-aligned chunks (COPY's text format
    escapes newlines, so every row is one line), dealt round-robin over ``streams``
    psycopg connections, each in its own ``COPY ... FROM STDIN``: one dominant table
    loads on every core instead of through one backend, small tables go to the streams
    in turn. No per-row Python work. Sequence values (and large objects, if any) follow
    through ``pg_restore``.
``vacuum``
    ``VACUUM`` of each large table that has a foreign key (per the archive): it sets the
    tables' hint bits and visibility map, so the foreign key checks of the next phase read
    the index on their column instead of the whole table. Only statistics differ from a
    plain pg_restore (the tables are vacuumed), never contents.
``post_data``
    ``pg_restore --section=post-data -j jobs`` from the head: indexes, constraints,
    foreign keys, triggers, materialized view data.

Every session runs with ``synchronous_commit=off`` and a ``maintenance_work_mem`` sized
to the machine (``PGOPTIONS``); one final synchronous commit that writes WAL (``sync``
phase) flushes the WAL of all of them, so the load is durable before :func:`load`
returns. Archives smaller than ``simple_below_bytes`` (compressed) load through one
``pg_restore`` stream fed by the decompressor (phase ``restore``): below that size the
fixed costs of the phases (a few process starts and connections) are not worth it.

Failure anywhere raises :class:`LoadFailed` with pg_restore's or the server's message
(scrubbed of secrets); child processes are killed and the temp folder removed. The
caller drops the half-loaded database. Credentials travel only through the environment
(:func:`maintenance.pg.libpq_env`) or psycopg, never argv.

The phases run here; their parts are :mod:`.toc` (the head), :mod:`.streams` (the COPY
streams), :mod:`.server` (UNLOGGED, VACUUM, the final flush) and :mod:`.pgrestore`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from maintenance import clock, pg, pgtools
from maintenance.config import Settings
from maintenance.pgarchive import pgrestore, server, toc
from maintenance.pgarchive.errors import LoadFailed
from maintenance.pgarchive.streams import copy_streams

#: Archives (compressed size) below this load through one pg_restore stream.
SIMPLE_BELOW_BYTES = 3 << 20
#: Free space the temp folder must have before the head is written.
MIN_FREE_BYTES = 64 << 20
#: Tables with at least this much COPY text and a foreign key are vacuumed before the
#: post-data section: the visibility map lets each foreign key check read an index
#: instead of the whole table.
VACUUM_ABOVE_BYTES = 64 << 20

__all__ = ["LoadFailed", "LoadReport", "load"]


@dataclass(frozen=True)
class LoadReport:
    duration_s: float
    method: str
    phases: dict[str, float] = field(default_factory=dict)


def load(
    archive: Path,
    dsn: str,
    *,
    settings: Settings,
    server_major: int,
    scratch: bool = False,
    jobs: int = 2,
    workdir: Path | None = None,
    streams: int | None = None,
    simple_below_bytes: int = SIMPLE_BELOW_BYTES,
    maintenance_work_mem_mb: int | None = None,
) -> LoadReport:
    """Restore ``archive`` into the empty database of ``dsn``.

    ``scratch``: the database will only be verified and dropped, so its plain tables are
    loaded ``UNLOGGED``. ``jobs``: pg_restore's ``-j`` for the post-data section;
    ``streams``: concurrent COPY streams for table data (default ``jobs``). ``workdir``:
    where the private temp folder goes (default: the system's temp dir); it needs only
    room for the archive's head. ``simple_below_bytes``: archives smaller than this
    (compressed) load through a single pg_restore stream. ``maintenance_work_mem_mb``:
    per session; default a sixteenth of this machine's memory, 64 MB to 1 GB.

    Raises LoadFailed; the caller drops the half-loaded database.
    """
    t0 = clock.monotonic()
    jobs = max(1, jobs)
    streams = max(1, streams or jobs)
    try:
        size = archive.stat().st_size
    except OSError as exc:
        raise LoadFailed(f"cannot read {archive.name}: {exc.strerror or exc}") from None
    pg_restore = _client("pg_restore", settings, server_major)
    mwm = maintenance_work_mem_mb or _default_mwm_mb()
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if size < simple_below_bytes:
        # synchronous_commit=off gains nothing measurable here: no final flush needed
        env = _env(dsn, {"maintenance_work_mem": f"{mwm}MB"})
        phases = {"restore": _timed(lambda: _single_stream(archive, dsn, pg_restore, env))}
        method = "pg_restore single stream"
    else:
        session = {"synchronous_commit": "off", "maintenance_work_mem": f"{mwm}MB"}
        env = _env(dsn, session)
        # a private scratch folder for pg_restore's TOC lists, gone whatever happens
        with tempfile.TemporaryDirectory(prefix=".maint-load-", dir=workdir) as name:
            tmp = Path(name)
            _check_free(tmp)
            phases = _phased(
                archive, dsn, tmp, pg_restore, env,
                scratch=scratch, jobs=jobs, streams=streams,
                session=session,
            )  # fmt: skip
        phases["sync"] = _timed(lambda: server.sync(dsn))
        method = f"phased: pre-data, {streams} COPY stream(s), post-data -j{jobs}" + (
            ", unlogged" if scratch else ""
        )
    return LoadReport(clock.monotonic() - t0, method, phases)


def _phased(
    archive: Path,
    dsn: str,
    tmp: Path,
    pg_restore: str,
    env: dict[str, str],
    *,
    scratch: bool,
    jobs: int,
    streams: int,
    session: dict[str, str],
) -> dict[str, float]:
    phases: dict[str, float] = {}
    dbname = f"--dbname={pg.dbname(dsn)}"
    common = ["--no-owner", "--no-acl", "--exit-on-error"]

    t = clock.monotonic()
    head = tmp / "head.dump"
    data_list = toc.write_head(archive, head, pg_restore, env)

    def foreign_keys() -> list[tuple[bytes, bytes | None]]:
        argv = [pg_restore, *common, "--section=post-data", "--file=-", str(head)]
        return toc.foreign_keys(pgrestore.run(argv, env, "post-data").stdout)

    fks = foreign_keys() if scratch else None
    phases["toc"] = clock.monotonic() - t

    t = clock.monotonic()
    pgrestore.run([pg_restore, *common, "--section=pre-data", dbname, str(head)], env, "pre-data")
    if fks is not None:
        server.make_unlogged(dsn, fks)
    phases["pre_data"] = clock.monotonic() - t

    t = clock.monotonic()
    tables = [line for line in data_list if toc.desc(line).startswith("TABLE DATA ")]
    others = [line for line in data_list if not toc.desc(line).startswith("TABLE DATA ")]
    sizes: dict[bytes, int] = {}
    if tables:
        listing = tmp / "tables.list"
        listing.write_text("\n".join(tables) + "\n")
        sizes = copy_streams(
            archive, dsn, [pg_restore, *common, "-L", str(listing), "--file=-"], env,
            streams=streams, session=session,
        )  # fmt: skip
    if others:
        listing = tmp / "other.list"
        listing.write_text("\n".join(others) + "\n")
        argv = [pg_restore, *common, "-L", str(listing), dbname]
        if all(toc.desc(line).startswith("SEQUENCE SET ") for line in others):
            pgrestore.run([*argv, str(head)], env, "sequence values")  # no data blocks to read
        else:  # large objects: their data is in the archive's body
            pgrestore.run_fed(argv, env, archive, "data")
    phases["data"] = clock.monotonic() - t

    t = clock.monotonic()
    big = [name for name, n in sizes.items() if n >= VACUUM_ABOVE_BYTES]
    if big:
        fks = foreign_keys() if fks is None else fks
        big = [name for name in big if name in {table for table, _ in fks}]
    if big:
        server.sync(dsn)  # hint bits (and so all-visible pages) wait for the commits' WAL flush
        server.vacuum(dsn, big, jobs)
    phases["vacuum"] = clock.monotonic() - t

    t = clock.monotonic()
    pgrestore.run(
        [pg_restore, *common, "--section=post-data", f"--jobs={jobs}", dbname, str(head)],
        env,
        "post-data",
    )
    phases["post_data"] = clock.monotonic() - t
    return phases


def _single_stream(archive: Path, dsn: str, pg_restore: str, env: dict[str, str]) -> None:
    argv = [pg_restore, "--no-owner", "--no-acl", "--exit-on-error", f"--dbname={pg.dbname(dsn)}"]
    pgrestore.run_fed(argv, env, archive, "restore")


_CLIENTS: dict[tuple[str, str, int], str] = {}


def _client(name: str, settings: Settings, server_major: int) -> str:
    """pgtools.find, once per process (it runs ``--version`` each time)."""
    key = (name, str(settings.pg_bin_dir), server_major)
    if key not in _CLIENTS:
        _CLIENTS[key] = pgtools.find(name, settings, server_major)
    return _CLIENTS[key]


def _env(dsn: str, session: dict[str, str]) -> dict[str, str]:
    """libpq environment for ``dsn``, with ``session`` settings appended to PGOPTIONS."""
    env = pg.libpq_env(dsn)
    options = [env.get("PGOPTIONS", ""), *(f"-c {k}={v}" for k, v in session.items())]
    env["PGOPTIONS"] = " ".join(options).strip()
    return env


def _default_mwm_mb() -> int:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (OSError, ValueError):
        return 256
    return int(min(1024, max(64, total // 16 >> 20)))


def _check_free(folder: Path) -> None:
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        raise LoadFailed(
            f"only {free >> 20} MB free in {folder.parent}: the restore needs {MIN_FREE_BYTES >> 20} MB"
        )


def _timed(fn: Any) -> float:
    t = clock.monotonic()
    fn()
    return clock.monotonic() - t
