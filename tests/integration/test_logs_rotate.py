"""logs.rotate on real files with real writers and real gzip/zcat: no line lost or
duplicated across rotations, oversized logs early, the reopen command, crashes safe."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from maintenance.results import RunStatus
from tests.conftest import ROOT, wait_for
from tests.integration.logfiles import (
    checks,
    family,
    gz,
    log_settings,
    logroot,
    read_log,
    run,
    set_age,
)

pytestmark = pytest.mark.integration

__all__ = ["logroot"]  # the fixture, imported

WRITER = ROOT / "tests" / "logwriter.py"


# --- the writers ------------------------------------------------------------------------------


def _start(mode: str, path: Path, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), mode, str(path), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    return int(out.strip().splitlines()[-1])


def test_writers_that_never_stop_lose_no_line_and_duplicate_none(
    logroot: Path, tmp_path: Path, history_db: str
) -> None:
    """A WatchedFileHandler writer and one that reopens on SIGHUP (pid file) write
    numbered lines without pause through six rotations; every line is then found
    exactly once, in order, across the live log and its rotated files, every rotated
    file but the newest is gzip, and every .gz reads back with zcat."""
    pidfile = tmp_path / "access.pid"
    settings = log_settings(logroot, log_reopen_pidfile=pidfile)
    watched = _start("watched", logroot / "app.log")
    signalled = _start("signal", logroot / "access.log", str(pidfile))
    try:
        outcomes = []
        for _ in range(6):
            time.sleep(0.4)
            outcomes.append(run("logs.rotate", settings, force=True))
        time.sleep(0.4)
    finally:
        counts = {"watched": _stop(watched), "signal": _stop(signalled)}
    for o in outcomes:
        assert o.status is RunStatus.SUCCEEDED, o.summary
        assert o.result and sorted(o.result["figures"]["rotated"]) == ["access.log", "app.log"]
        reopen = checks(o)["writers told to reopen"]
        assert reopen["status"] == "pass" and "sent to pid" in str(reopen["observed"])
    compressed_while_writing = sum(
        1 for o in outcomes for c in (o.result or {})["figures"]["compressed"] if c["ok"]
    )
    assert compressed_while_writing >= 8  # both logs, from the second rotation on

    for base, mode in (("app.log", "watched"), ("access.log", "signal")):
        files = family(logroot, base)
        assert [p.name for p in files][-2:] == [f"{base}.1", base]
        # every rotated file but the newest is compressed, and gzip -t accepts it
        for p in files[:-2]:
            assert p.name.endswith(".gz"), p.name
            subprocess.run(["gzip", "-t", str(p)], check=True)
        numbers = []
        for p in files:
            for line in read_log(p).decode().splitlines():
                who, n, *_ = line.split()
                assert who == mode
                numbers.append(int(n))
        assert numbers == list(range(counts[mode])), f"{base}: lost or duplicated lines"
        assert counts[mode] > 1000  # they really wrote throughout


# --- old, empty and oversized ---------------------------------------------------------------


def test_an_oversized_log_rotates_early_and_a_small_one_waits(
    logroot: Path, history_db: str
) -> None:
    settings = log_settings(logroot, log_max_bytes=10_000)
    (logroot / "big.log").write_bytes(b"INFO line\n" * 2000)  # 20 KB
    (logroot / "small.log").write_bytes(b"INFO line\n" * 10)
    run("logs.rotate", settings)  # the first daily rotation: both
    (logroot / "big.log").write_bytes(b"INFO more\n" * 2000)
    (logroot / "small.log").write_bytes(b"INFO more\n" * 10)
    # the same day: the daily rotation has nothing to do but the size cap applies
    o = run("logs.rotate", settings, only_oversized=True)
    assert o.status is RunStatus.SUCCEEDED, o.summary
    assert o.result and o.result["figures"]["rotated"] == ["big.log"]
    assert (logroot / "big.log.2.gz").exists() and (
        logroot / "big.log.1"
    ).read_bytes() == b"INFO more\n" * 2000
    assert not (logroot / "small.log.2.gz").exists()
    assert (logroot / "small.log").read_bytes() == b"INFO more\n" * 10
    assert (logroot / "big.log").stat().st_size == 0
    assert oct((logroot / "big.log").stat().st_mode & 0o777) == oct(0o640)  # create 0640
    o = run("logs.rotate", settings)
    assert o.result and o.result["figures"]["rotated"] == []  # daily: already done today


def test_the_reopen_command_runs_once_per_rotation_without_the_suites_settings(
    logroot: Path, tmp_path: Path, history_db: str
) -> None:
    seen = tmp_path / "env.json"
    record = (
        f"import json, os; open({str(seen)!r}, 'a').write(json.dumps(sorted(os.environ)) + '\\n')"
    )
    for name in ("a.log", "b.log"):
        (logroot / name).write_bytes(b"x\n")
    o = run(
        "logs.rotate",
        log_settings(logroot, log_reopen_command=[sys.executable, "-c", record]),
        force=True,
    )
    assert o.status is RunStatus.SUCCEEDED, o.summary
    (line,) = seen.read_text().splitlines()  # sharedscripts: once for both logs
    assert not [n for n in json.loads(line) if n.startswith("MAINT_")]
    failing = [sys.executable, "-c", "import sys; sys.stderr.write('no such app'); sys.exit(3)"]
    (logroot / "a.log").write_bytes(b"x\n")
    o = run("logs.rotate", log_settings(logroot, log_reopen_command=failing), force=True)
    assert o.status is RunStatus.FAILED
    c = checks(o)["writers told to reopen"]
    assert c["status"] == "fail" and "exited 3: no such app" in str(c["observed"])
    hanging = [sys.executable, "-c", "import time; time.sleep(60)"]
    (logroot / "a.log").write_bytes(b"x\n")
    o = run(
        "logs.rotate",
        log_settings(logroot, log_reopen_command=hanging, log_reopen_timeout_s=1),
        force=True,
    )
    assert "killed after 1s" in str(checks(o)["writers told to reopen"]["observed"])
    o = run("logs.rotate", log_settings(logroot, log_reopen_command=[sys.executable, "-c", record]))
    assert len(seen.read_text().splitlines()) == 1  # nothing rotated: nobody told to reopen


# --- crashes --------------------------------------------------------------------------------------

_CRASH = """
import sys
from pathlib import Path
from maintenance.logs import compress
from maintenance.logs.files import LogRoot
with LogRoot(Path(sys.argv[1])) as root:
    print("go", flush=True)
    compress.compress_one(root, "big.log.2", "big.log.2.gz")
"""


def test_a_compression_killed_midway_leaves_the_plain_file_and_no_gz(
    logroot: Path, history_db: str
) -> None:
    plain = logroot / "big.log.2"
    with plain.open("wb") as handle:
        for i in range(400_000):
            handle.write(f"{i} {os.urandom(24).hex()} INFO something happened\n".encode())
    digest = hashlib.sha256(plain.read_bytes()).hexdigest()
    proc = subprocess.Popen(
        [sys.executable, "-c", _CRASH, str(logroot)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "go"
    wait_for(
        lambda: any(p.name.startswith(".big.log.2.gz.tmp-") for p in logroot.iterdir()),
        timeout=20,
        interval=0.01,
        what="the temp file",
    )
    proc.kill()
    proc.wait()
    assert not (logroot / "big.log.2.gz").exists()  # no half-written .gz under its name
    assert hashlib.sha256(plain.read_bytes()).hexdigest() == digest
    temps = [p for p in logroot.iterdir() if p.name.startswith(".big.log.2.gz.tmp-")]
    assert temps
    # the next cleanup removes the temp file and compresses the plain one whole
    set_age(plain, timedelta(days=2))
    o = run("logs.cleanup", log_settings(logroot))
    assert o.status is RunStatus.SUCCEEDED, o.summary
    assert not any(p.exists() for p in temps) and not plain.exists()
    assert hashlib.sha256(read_log(logroot / "big.log.2.gz")).hexdigest() == digest


def test_an_interrupted_compression_is_finished_only_when_the_gz_is_whole(
    logroot: Path, history_db: str
) -> None:
    settings = log_settings(logroot)
    (logroot / "app.log").write_bytes(b"now\n")
    (logroot / "app.log.1").write_bytes(b"one\n")
    (logroot / "app.log.2").write_bytes(b"two\n")  # a crash after the link, before the delete
    gz(logroot / "app.log.2.gz", b"two\n")
    (logroot / "err.log").write_bytes(b"now\n")
    (logroot / "err.log.1").write_bytes(b"one\n")
    (logroot / "err.log.2").write_bytes(b"two\n")
    gz(logroot / "err.log.2.gz", b"something else\n")  # not ours: both kept
    o = run("logs.rotate", settings, force=True)
    assert o.status is RunStatus.FAILED
    assert "both exist" in str(checks(o)["logs rotated"]["observed"])
    assert not (logroot / "app.log.2").exists() and read_log(logroot / "app.log.2.gz") == b"two\n"
    assert (logroot / "err.log.2").read_bytes() == b"two\n"
    assert read_log(logroot / "err.log.2.gz") == b"something else\n"
    o = run("logs.rotate", settings, force=True)  # app.log rotates now; err.log waits for a person
    assert o.result and o.result["figures"]["rotated"] == ["app.log"]
    assert read_log(logroot / "app.log.3.gz") == b"two\n"
