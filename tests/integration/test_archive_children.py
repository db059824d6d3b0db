"""The archive code's child processes end with it: an exception that reaches
``decode``'s read loop (a Celery soft time limit is one: SIGUSR1, then
SoftTimeLimitExceeded raised in the task's thread) leaves no pg_restore behind, and the
error it raises is the one that arrived."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import psutil
import pytest
from celery.exceptions import SoftTimeLimitExceeded

from maintenance import pgtools
from maintenance.config import load_settings
from maintenance.pgarchive import decode, dump
from tests.conftest import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def archive(target_db: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import psycopg

    with psycopg.connect(target_db) as conn:
        major = conn.info.server_version // 10000
    path = tmp_path_factory.mktemp("children") / "daily-test.dump.zst"
    dump.dump_to(
        path,
        pg_dump=pgtools.find("pg_dump", load_settings(), major),
        dsn=target_db,
        snapshot=None,
        level=3,
        threads=0,
    )
    return path


def _live_children(name: str) -> list[psutil.Process]:
    """This process's descendants called ``name`` that have not exited."""
    out = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if child.name() == name and child.status() != psutil.STATUS_ZOMBIE:
                out.append(child)
    return out


@pytest.fixture
def soft_time_limit() -> Iterator[threading.Event]:
    """SIGUSR1 raises SoftTimeLimitExceeded in the main thread, as in a Celery pool child;
    the event is set when it was raised."""
    raised = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        raised.set()
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGUSR1, handler)
    yield raised
    signal.signal(signal.SIGUSR1, previous)
    for leftover in _live_children("pg_restore"):  # what a failing run left behind
        with contextlib.suppress(psutil.NoSuchProcess):
            leftover.kill()


def test_a_soft_time_limit_in_decodes_read_loop_leaves_no_pg_restore(
    archive: Path, soft_time_limit: threading.Event, tmp_path: Path
) -> None:
    data = archive.read_bytes()
    # A FIFO holds the decode in the middle: pg_restore has the first half and waits
    # for more while decode waits for its output. The second half follows the signal,
    # as a real file's rest would.
    fifo = tmp_path / "slow.dump.zst"
    os.mkfifo(fifo)

    def writer() -> None:
        with contextlib.suppress(BrokenPipeError), fifo.open("wb") as out:
            out.write(data[: len(data) // 2])
            out.flush()
            soft_time_limit.wait(60)
            out.write(data[len(data) // 2 :])

    def limit() -> None:
        wait_for(lambda: _live_children("pg_restore"), timeout=60, what="pg_restore to start")
        # pg_restore shows up while Popen is still waiting for its exec; the limit is meant
        # for decode's read loop, which starts right after (a limit landing inside Popen
        # itself is a narrower gap: docs/architecture.md, "Child processes")
        time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGUSR1)

    threads = [threading.Thread(target=f, daemon=True) for f in (writer, limit)]
    for t in threads:
        t.start()
    with pytest.raises(SoftTimeLimitExceeded):
        decode.decode(fifo, pg_restore="pg_restore", env={"PATH": os.environ["PATH"]})
    assert soft_time_limit.is_set()
    # pg_restore was stopped with the decode, not left writing into a pipe nobody reads
    wait_for(lambda: not _live_children("pg_restore"), timeout=15, what="pg_restore to end")
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive()
