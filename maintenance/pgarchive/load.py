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
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shutil
import tempfile
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql

from maintenance import clock, pg, pgtools, proc, redact
from maintenance.config import Settings
from maintenance.errors import MaintenanceError, PermanentError
from maintenance.pgarchive import copytext, decode

#: How much COPY text one chunk carries to one stream (and how much is read at a time).
CHUNK = 4 << 20
#: Archives (compressed size) below this load through one pg_restore stream.
SIMPLE_BELOW_BYTES = 3 << 20
#: First guess of the archive's head (header + table of contents); grown while short.
HEAD_BYTES = 1 << 20
#: Free space the temp folder must have before the head is written.
MIN_FREE_BYTES = 64 << 20
#: Tables with at least this much COPY text and a foreign key are vacuumed before the
#: post-data section: the visibility map lets each foreign key check read an index
#: instead of the whole table.
VACUUM_ABOVE_BYTES = 64 << 20

_ALTER_ADD = re.compile(
    rb"^ALTER TABLE (?:ONLY )?(?P<table>[^\n]+)\n    ADD CONSTRAINT (?P<rest>.*)$", re.M
)
_IDENT = rb'(?:"(?:[^"]|"")*"|[^\s".(]+)'
_FK_DEF = re.compile(
    rb"^"
    + _IDENT
    + rb" FOREIGN KEY \(.*?\) REFERENCES (?P<ref>"
    + _IDENT
    + rb"\."
    + _IDENT
    + rb")\("
)
_LIST_LINE = re.compile(r"^\s*\d+;\s+\d+\s+\d+\s+(?P<rest>.*)$")
_SESSION_SQL = (b"SET ", b"SELECT pg_catalog.set_config(")
_PSQL_GUARDS = (b"\\restrict ", b"\\unrestrict ")
_POLL_S = 0.2


class LoadFailed(PermanentError):
    """The archive could not be loaded; the database is half-loaded."""


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
        tmp = Path(tempfile.mkdtemp(prefix=".maint-load-", dir=workdir))
        try:
            _check_free(tmp)
            phases = _phased(
                archive, dsn, tmp, pg_restore, env,
                scratch=scratch, jobs=jobs, streams=streams,
                session=session,
            )  # fmt: skip
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        phases["sync"] = _timed(lambda: _sync(dsn))
        method = f"phased: pre-data, {streams} COPY stream(s), post-data -j{jobs}" + (
            ", unlogged" if scratch else ""
        )
    return LoadReport(clock.monotonic() - t0, method, phases)


# --------------------------------------------------------------------------- the phases


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
    data_list = _write_head(archive, head, pg_restore, env)

    def foreign_keys() -> list[tuple[bytes, bytes | None]]:
        argv = [pg_restore, *common, "--section=post-data", "--file=-", str(head)]
        return _foreign_keys(_run(argv, env, "post-data").stdout)

    fks = foreign_keys() if scratch else None
    phases["toc"] = clock.monotonic() - t

    t = clock.monotonic()
    _run([pg_restore, *common, "--section=pre-data", dbname, str(head)], env, "pre-data")
    if fks is not None:
        _make_unlogged(dsn, fks)
    phases["pre_data"] = clock.monotonic() - t

    t = clock.monotonic()
    tables = [line for line in data_list if _desc(line).startswith("TABLE DATA ")]
    others = [line for line in data_list if not _desc(line).startswith("TABLE DATA ")]
    sizes: dict[bytes, int] = {}
    if tables:
        listing = tmp / "tables.list"
        listing.write_text("\n".join(tables) + "\n")
        sizes = _copy_streams(
            archive, dsn, [pg_restore, *common, "-L", str(listing), "--file=-"], env,
            streams=streams, session=session,
        )  # fmt: skip
    if others:
        listing = tmp / "other.list"
        listing.write_text("\n".join(others) + "\n")
        argv = [pg_restore, *common, "-L", str(listing), dbname]
        if all(_desc(line).startswith("SEQUENCE SET ") for line in others):
            _run([*argv, str(head)], env, "sequence values")  # no data blocks to read
        else:  # large objects: their data is in the archive's body
            _run_fed(argv, env, archive, "data")
    phases["data"] = clock.monotonic() - t

    t = clock.monotonic()
    big = [name for name, n in sizes.items() if n >= VACUUM_ABOVE_BYTES]
    if big:
        fks = foreign_keys() if fks is None else fks
        big = [name for name in big if name in {table for table, _ in fks}]
    if big:
        _sync(dsn)  # hint bits (and so all-visible pages) wait for the commits' WAL flush
        _vacuum(dsn, big, jobs)
    phases["vacuum"] = clock.monotonic() - t

    t = clock.monotonic()
    _run(
        [pg_restore, *common, "--section=post-data", f"--jobs={jobs}", dbname, str(head)],
        env,
        "post-data",
    )
    phases["post_data"] = clock.monotonic() - t
    return phases


def _single_stream(archive: Path, dsn: str, pg_restore: str, env: dict[str, str]) -> None:
    argv = [pg_restore, "--no-owner", "--no-acl", "--exit-on-error", f"--dbname={pg.dbname(dsn)}"]
    _run_fed(argv, env, archive, "restore")


def _write_head(archive: Path, head: Path, pg_restore: str, env: dict[str, str]) -> list[str]:
    """Write the archive's head (header + TOC) to ``head``; return the data section's
    list (``pg_restore -l`` lines). Grows the head until pg_restore reads the whole TOC."""
    chunks = decompressed(archive)
    want, written, done = HEAD_BYTES, 0, False
    fd = os.open(head, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                while written < want and not done:
                    try:
                        piece = next(chunks)
                    except StopIteration:
                        done = True
                        break
                    out.write(piece)
                    written += len(piece)
                out.flush()
                listed = _run(
                    [pg_restore, "--list", "--section=data", str(head)],
                    env,
                    "reading the table of contents",
                    check=False,
                )
                if listed.returncode == 0:
                    return [
                        line
                        for line in listed.stdout.decode(errors="replace").splitlines()
                        if _LIST_LINE.match(line)
                    ]
                message = _message(listed.stderr)
                if done or "end of file" not in message:
                    raise LoadFailed(f"{archive.name} is not a readable archive: {message}")
                want *= 4
    except OSError as exc:
        raise LoadFailed(
            f"writing the archive's head in {head.parent}: {exc.strerror or exc}"
        ) from None
    finally:
        chunks.close()


def _foreign_keys(post_sql: bytes) -> list[tuple[bytes, bytes | None]]:
    """(table, referenced table) of every foreign key in the post-data script, names as
    the archive spells them; referenced None where the definition did not parse."""
    out: list[tuple[bytes, bytes | None]] = []
    for m in _ALTER_ADD.finditer(post_sql):
        rest = m.group("rest")
        if b" FOREIGN KEY " in rest:
            ref = _FK_DEF.match(rest)
            out.append((m.group("table"), ref.group("ref") if ref else None))
    return out


def _make_unlogged(dsn: str, fks: list[tuple[bytes, bytes | None]]) -> None:
    """Scratch only: plain tables become UNLOGGED while still empty, except those that a
    foreign key from a table staying permanent (a partitioned parent, say) will reference:
    PostgreSQL refuses a permanent table's foreign key to an unlogged one. Where a foreign
    key's tables cannot be told, nothing is converted (a logged load is always right)."""
    if any(ref is None for _, ref in fks):
        return
    with _connect(dsn) as conn:
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
                conn.execute(sql.SQL("ALTER TABLE {} SET UNLOGGED").format(_regclass(conn, oid)))
                done.add(oid)
            except psycopg.Error:  # it stays permanent, and so may what it references
                convert.discard(oid)
                settle()
        for oid in sorted(done - convert):  # an empty table: switching back is cheap
            conn.execute(sql.SQL("ALTER TABLE {} SET LOGGED").format(_regclass(conn, oid)))


def _regclass(conn: psycopg.Connection, oid: int) -> sql.Composable:
    row = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %s",
        (oid,),
    ).fetchone()
    assert row is not None
    return sql.Identifier(row[0], row[1])


def _vacuum(dsn: str, tables: list[bytes], jobs: int) -> None:
    """VACUUM the big tables that foreign keys will check: it sets their hint bits and
    visibility map, so each check scans the index on its column, not the whole heap.
    Only statistics change; the contents are those pg_restore gives."""

    def one(names: list[bytes]) -> None:
        with _connect(dsn) as conn:
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
            raise LoadFailed(f"VACUUM after the data: {_db_error(th.error)}")


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


def _sync(dsn: str) -> None:
    """Flush the WAL of every earlier commit (made with synchronous_commit=off): WAL is
    flushed in order, so one synchronous commit that wrote WAL makes them all durable.
    A transaction that wrote no WAL commits without a flush, hence the temp table."""
    with _connect(dsn) as conn:
        conn.execute("SET synchronous_commit = on")
        with conn.transaction():
            conn.execute("CREATE TEMP TABLE maint_load_sync (x int) ON COMMIT DROP")


# --------------------------------------------------------------------------- COPY streams


class _Stream(threading.Thread):
    """One connection, one ``COPY ... FROM STDIN`` at a time, fed through a queue."""

    def __init__(self, dsn: str, session: dict[str, str], failed: threading.Event) -> None:
        super().__init__(daemon=True)
        self.dsn = dsn
        self.session = session
        self.failed = failed
        self.inbox: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with _connect(self.dsn) as conn:
                for name, value in self.session.items():
                    conn.execute("SELECT set_config(%s, %s, false)", (name, value))
                while (message := self._next()) is not None:
                    kind, payload = message
                    if kind == "sql":
                        conn.execute(payload)
                    elif kind == "begin":
                        # A real ``with``: a COPY cut short (stop, another stream's
                        # failure) is ended with CopyFail while the connection is open,
                        # not by the garbage collector after it closed.
                        with conn.cursor().copy(payload) as copy:
                            self._rows(copy)
        except _Aborted:
            pass  # the reader stopped mid-table and reports why; this stream did not fail
        except BaseException as exc:  # noqa: BLE001  (reported by the reader)
            self.error = exc
            self.failed.set()
            with contextlib.suppress(BaseException):
                while True:  # unblock a reader waiting on a full queue
                    self.inbox.get_nowait()

    def _next(self) -> tuple[str, Any] | None:
        """The next message to act on; None at "stop". Once any stream failed, the rest
        is drained unread (the reader may still be putting)."""
        while True:
            kind, payload = self.inbox.get()
            if kind == "stop":
                return None
            if not self.failed.is_set():
                return kind, payload

    def _rows(self, copy: Any) -> None:
        """Write "data" messages into the open COPY until its "end"; raise _Aborted if
        the load stops first, so that the COPY is failed, not committed half-written."""
        while (message := self._next()) is not None:
            kind, payload = message
            if kind == "end":
                return
            copy.write(payload)
        raise _Aborted

    def stop(self) -> None:
        while self.is_alive():
            try:
                self.inbox.put(("stop", None), timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def put(self, kind: str, payload: Any = None) -> None:
        while True:
            if self.failed.is_set():
                raise _Aborted
            try:
                self.inbox.put((kind, payload), timeout=_POLL_S)
                return
            except queue.Full:
                continue


class _Aborted(Exception):
    """A stream failed; its own error is the one to report."""


def _copy_streams(
    archive: Path,
    dsn: str,
    argv: list[str],
    env: dict[str, str],
    *,
    streams: int,
    session: dict[str, str],
) -> dict[bytes, int]:
    """Feed the decompressed archive to ``argv`` (pg_restore writing COPY text to its
    stdout) and deal that text out to ``streams`` COPY connections. Return the bytes of
    COPY text of each table (by its name in the archive)."""
    failed = threading.Event()
    workers = [_Stream(dsn, session, failed) for _ in range(streams)]
    for w in workers:
        w.start()
    table: bytes | None = None
    sizes: dict[bytes, int] = {}
    with contextlib.closing(decompressed(archive)) as source:
        with proc.child(
            argv, env=env, feed=source, stdout=proc.PIPE, name="pg_restore", pipe_size=1 << 20
        ) as p:
            assert p.stdout is not None
            try:
                table = _deal(p.stdout, workers, sizes)
            except _Aborted:
                pass
            finally:
                for w in workers:
                    w.stop()
                if failed.is_set():
                    p.kill()
            rc = p.wait()
        for w in workers:
            w.join(timeout=60)
        _check_feed(p, source)
    errors = [w.error for w in workers if w.error is not None]
    if errors:
        raise LoadFailed(f"loading table data: {_db_error(errors[0])}")
    if rc != 0:
        raise LoadFailed(f"pg_restore (table data) failed (exit {rc}): {_message(p.stderr_text())}")
    if table is not None:
        raise LoadFailed(f"the archive ends inside the data of {table.decode(errors='replace')}")
    return sizes


def _deal(src: IO[bytes], workers: list[_Stream], sizes: dict[bytes, int]) -> bytes | None:
    """Read pg_restore's script output; send each COPY block's rows in newline-aligned
    chunks round-robin to the workers, counting each table's bytes in ``sizes``. Return
    the table whose data was cut short, if any."""
    n = len(workers)
    turn = 0
    text = copytext.CopyText()
    copy_sql, started = b"", [False] * n
    while block := src.read(CHUNK):
        for event in text.feed(block):
            if isinstance(event, copytext.Rows):
                turn = _send(workers, started, turn, copy_sql, event.view())
                sizes[event.table] += len(event)
            elif isinstance(event, copytext.Begin):
                copy_sql, started = event.sql, [False] * n
                sizes[event.table] = 0
            elif isinstance(event, copytext.End):
                for i, w in enumerate(workers):
                    if started[i]:
                        w.put("end")
            elif event.line.startswith(_PSQL_GUARDS):
                continue
            elif event.line.startswith(_SESSION_SQL) and event.line.endswith(b";"):
                for w in workers:
                    w.put("sql", event.line)
            else:
                raise LoadFailed(
                    "unexpected statement in the archive's table data (only COPY data "
                    f"is supported): {event.line[:120].decode(errors='replace')}"
                )
    return text.close()


def _send(
    workers: list[_Stream], started: list[bool], turn: int, copy_sql: bytes, rows: memoryview
) -> int:
    i = turn % len(workers)
    if not started[i]:
        workers[i].put("begin", copy_sql)
        started[i] = True
    workers[i].put("data", rows)
    return turn + 1


# --------------------------------------------------------------------------- children


def _run(argv: list[str], env: dict[str, str], what: str, *, check: bool = True) -> proc.Completed:
    """Run pg_restore to its end; raise LoadFailed if it fails and ``check``."""
    done = proc.run(argv, env=env, name="pg_restore")
    if check and done.returncode != 0:
        raise LoadFailed(
            f"pg_restore ({what}) failed (exit {done.returncode}): {_message(done.stderr)}"
        )
    return done


def _run_fed(argv: list[str], env: dict[str, str], archive: Path, what: str) -> None:
    """Run pg_restore reading the decompressed archive on its stdin."""
    with contextlib.closing(decompressed(archive)) as source:
        with proc.child(argv, env=env, feed=source, name="pg_restore") as p:
            rc = p.wait()
        _check_feed(p, source)
    if rc != 0:
        raise LoadFailed(f"pg_restore ({what}) failed (exit {rc}): {_message(p.stderr_text())}")


def _check_feed(p: proc.Child, source: Iterator[bytes]) -> None:
    """Raise the decompression's error, if any. Once the child has succeeded without
    reading all of the archive, read the rest: zstd's checksum is at its end."""
    if p.feed_error is not None:
        raise p.feed_error
    if not p.fed_all and p.returncode == 0:
        for _ in source:
            pass


# --------------------------------------------------------------------------- helpers


def decompressed(archive: Path, size: int = CHUNK // 4) -> Generator[bytes, None, None]:
    """The decompressed bytes of ``archive`` (:func:`decode.chunks`), as LoadFailed."""
    try:
        yield from decode.chunks(archive, size)
    except decode.DecodeFailed as exc:
        raise LoadFailed(str(exc)) from None


@contextlib.contextmanager
def _connect(dsn: str) -> Iterator[psycopg.Connection]:
    """A connection to the target; any failure, even to connect, is a LoadFailed."""
    try:
        with pg.connect(dsn) as conn:
            yield conn
    except (psycopg.Error, MaintenanceError) as exc:
        raise LoadFailed(_db_error(exc)) from None


def _db_error(exc: BaseException) -> str:
    if isinstance(exc, LoadFailed):
        return str(exc)
    text = str(exc).strip() or type(exc).__name__
    context = getattr(getattr(exc, "diag", None), "context", None)
    if context:
        text += f" ({context.strip()})"
    return redact.scrub(text)[:2000]


def _message(stderr: str) -> str:
    return stderr[:2000] or "no message"


def _desc(line: str) -> str:
    """``3434; 0 29592 TABLE DATA public t owner`` -> ``TABLE DATA public t owner``."""
    match = _LIST_LINE.match(line)
    return match.group("rest") if match else ""


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
