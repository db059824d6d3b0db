"""The data phase's COPY streams: pg_restore's COPY text for the table data (read with
:class:`maintenance.pgarchive.copytext.CopyText`) dealt round-robin, in large
newline-aligned chunks, to several connections, each in its own ``COPY ... FROM
STDIN``: one dominant table loads on every core instead of through one backend."""

from __future__ import annotations

import contextlib
import queue
import threading
from pathlib import Path
from typing import IO, Any

from maintenance import proc
from maintenance.pgarchive import copytext, pgrestore, server
from maintenance.pgarchive.errors import LoadFailed

#: How much COPY text one chunk carries to one stream (and how much is read at a time).
CHUNK = 4 << 20
#: The session settings pg_restore's script starts with: every stream applies them.
SESSION_SQL = (b"SET ", b"SELECT pg_catalog.set_config(")
#: psql meta-commands newer pg_restore versions write around the script.
PSQL_GUARDS = (b"\\restrict ", b"\\unrestrict ")
POLL_S = 0.2


class Stream(threading.Thread):
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
            with server.connect(self.dsn) as conn:
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
                self.inbox.put(("stop", None), timeout=POLL_S)
                return
            except queue.Full:
                continue

    def put(self, kind: str, payload: Any = None) -> None:
        while True:
            if self.failed.is_set():
                raise _Aborted
            try:
                self.inbox.put((kind, payload), timeout=POLL_S)
                return
            except queue.Full:
                continue


class _Aborted(Exception):
    """A stream failed; its own error is the one to report."""


def copy_streams(
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
    workers = [Stream(dsn, session, failed) for _ in range(streams)]
    for w in workers:
        w.start()
    table: bytes | None = None
    sizes: dict[bytes, int] = {}
    with contextlib.closing(pgrestore.decompressed(archive)) as source:
        with proc.child(
            argv, env=env, feed=source, stdout=proc.PIPE, name="pg_restore", pipe_size=1 << 20
        ) as p:
            assert p.stdout is not None
            try:
                table = deal(p.stdout, workers, sizes)
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
        pgrestore.check_feed(p, source)
    errors = [w.error for w in workers if w.error is not None]
    if errors:
        raise LoadFailed(f"loading table data: {server.db_error(errors[0])}")
    if rc != 0:
        raise LoadFailed(
            f"pg_restore (table data) failed (exit {rc}): {pgrestore.message(p.stderr_text())}"
        )
    if table is not None:
        raise LoadFailed(f"the archive ends inside the data of {table.decode(errors='replace')}")
    return sizes


def deal(src: IO[bytes], workers: list[Stream], sizes: dict[bytes, int]) -> bytes | None:
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
                turn = send(workers, started, turn, copy_sql, event.view())
                sizes[event.table] += len(event)
            elif isinstance(event, copytext.Begin):
                copy_sql, started = event.sql, [False] * n
                sizes[event.table] = 0
            elif isinstance(event, copytext.End):
                for i, w in enumerate(workers):
                    if started[i]:
                        w.put("end")
            elif event.line.startswith(PSQL_GUARDS):
                continue
            elif event.line.startswith(SESSION_SQL) and event.line.endswith(b";"):
                for w in workers:
                    w.put("sql", event.line)
            else:
                raise LoadFailed(
                    "unexpected statement in the archive's table data (only COPY data "
                    f"is supported): {event.line[:120].decode(errors='replace')}"
                )
    return text.close()


def send(
    workers: list[Stream], started: list[bool], turn: int, copy_sql: bytes, rows: memoryview
) -> int:
    i = turn % len(workers)
    if not started[i]:
        workers[i].put("begin", copy_sql)
        started[i] = True
    workers[i].put("data", rows)
    return turn + 1
