"""The log tasks on real files with real writers, real gzip/zcat/tar, and the real
job history: no line lost or duplicated across rotations, old/empty/oversized logs
handled as the playbook says (without its bugs), links left alone, crashes safe."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from maintenance import catalog, runner
from maintenance.config import Settings, load_settings
from maintenance.results import RunStatus, Trigger
from tests.conftest import LEAK_CANARY, ROOT, history_rows, wait_for

pytestmark = pytest.mark.integration

WRITER = ROOT / "tests" / "logwriter.py"
_NUMBERED = re.compile(r"^(?P<base>.+?)\.(?P<n>[0-9]+)(\.gz)?$")


def log_settings(root: Path, **kw: object) -> Settings:
    return load_settings(log_root=root, **kw)


def run(task: str, settings: Settings, **params: object) -> runner.Outcome:
    return runner.execute(catalog.get(task), params, settings=settings, trigger=Trigger.CLI)


def checks(outcome: runner.Outcome) -> dict[str, dict[str, object]]:
    return {c["name"]: c for c in (outcome.result or {}).get("checks", [])}


def read_log(path: Path) -> bytes:
    """A log's bytes: plain, or through the real zcat."""
    if path.name.endswith(".gz"):
        return subprocess.run(["zcat", str(path)], check=True, capture_output=True).stdout
    return path.read_bytes()


def family(root: Path, base: str) -> list[Path]:
    """Every file of a log, oldest first: the highest number first, the live log last."""
    rotated = []
    for p in root.iterdir():
        m = _NUMBERED.match(p.name)
        if m and m.group("base") == base:
            rotated.append((int(m.group("n")), p))
    out = [p for _, p in sorted(rotated, reverse=True)]
    live = root / base
    return out + ([live] if live.exists() else [])


def set_age(path: Path, age: timedelta) -> None:
    t = (datetime.now(UTC) - age).timestamp()
    os.utime(path, (t, t), follow_symlinks=False)


def gz(path: Path, data: bytes, age: timedelta | None = None) -> Path:
    path.write_bytes(gzip.compress(data))
    if age is not None:
        set_age(path, age)
    return path


def snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every entry under ``root`` (links not followed): size, mtime, content hash."""
    out = {}
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(top) / name
            st = p.lstat()
            digest = (
                hashlib.sha256(p.read_bytes()).hexdigest()
                if p.is_file() and not p.is_symlink()
                else ""
            )
            out[str(p.relative_to(root))] = (st.st_size, st.st_mtime_ns, digest)
    return out


@pytest.fixture
def logroot(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    root.mkdir()
    return root


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


def test_cleanup_archives_then_deletes_old_logs_and_empty_ones_nobody_holds(
    logroot: Path, tmp_path: Path, history_db: str
) -> None:
    settings = log_settings(logroot, log_keep=5, log_writers_visible=True)
    (logroot / "app.log").write_bytes(b"live\n")
    old_gz = gz(logroot / "app.log.4.gz", b"forty days ago\n", timedelta(days=40))
    old_plain = logroot / "app.log.5"
    old_plain.write_bytes(b"forty-one days ago, never compressed\n")
    set_age(old_plain, timedelta(days=41))
    recent = gz(logroot / "app.log.2.gz", b"three days ago\n", timedelta(days=3))
    yesterday = logroot / "app.log.1"
    yesterday.write_bytes(b"two days ago, plain\n")
    set_age(yesterday, timedelta(days=2))
    orphan = gz(logroot / "app.log.9.gz", b"beyond keep\n", timedelta(days=9))
    empty = logroot / "empty.log"
    empty.touch()
    held = logroot / "held.log"
    held.touch()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"f = open({str(held)!r}, 'a'); import time; time.sleep(120)"]
    )
    try:
        wait_for(
            lambda: any(
                Path(f"/proc/{holder.pid}/fd/{fd}").resolve() == held
                for fd in os.listdir(f"/proc/{holder.pid}/fd")
            ),
            what="the holder to open held.log",
        )
        o = run("logs.cleanup", settings)
    finally:
        holder.kill()
        holder.wait()
    assert o.status is RunStatus.SUCCEEDED, o.summary
    # every past month's compressed logs were archived (read back), the old ones first
    # compressed if plain, then deleted; the current month's are not archived yet
    members: dict[str, list[bytes]] = {}
    assert oct((logroot / "archive").stat().st_mode & 0o777) == oct(0o700)
    for a in sorted((logroot / "archive").iterdir()):
        assert oct(a.stat().st_mode & 0o777) == oct(0o600)
        listing = subprocess.run(
            ["tar", "-tf", str(a)], check=True, capture_output=True, text=True
        ).stdout.split()
        with tarfile.open(a) as tar:
            members[a.name] = sorted(gzip.decompress(tar.extractfile(n).read()) for n in listing)  # type: ignore[union-attr]
    ages = {
        b"forty days ago\n": 40,
        b"forty-one days ago, never compressed\n": 41,
        b"three days ago\n": 3,
        b"two days ago, plain\n": 2,
        b"beyond keep\n": 9,
    }
    expected: dict[str, list[bytes]] = {}
    for data, days in ages.items():
        if _month(timedelta(days=days)) < _month(timedelta(0)):
            expected.setdefault(f"logs_{_month(timedelta(days=days))}.tar", []).append(data)
    assert members == {k: sorted(v) for k, v in expected.items()}
    assert not old_gz.exists() and not old_plain.exists() and not Path(f"{old_plain}.gz").exists()
    # younger ones kept, the one over a day old compressed; the orphan beyond keep gone
    assert recent.exists() and not yesterday.exists()
    assert read_log(logroot / "app.log.1.gz") == b"two days ago, plain\n"
    assert not orphan.exists()
    # the empty log nobody holds is gone; the one a process holds open stays
    assert not empty.exists() and held.exists()
    kept = {k["name"]: k["reason"] for k in (o.result or {})["figures"]["kept"]}
    assert "open for writing" in kept["held.log"]
    assert checks(o)["disk usage within the limit"]["status"] == "pass"


def _month(age: timedelta) -> str:
    from zoneinfo import ZoneInfo

    return (datetime.now(UTC) - age).astimezone(ZoneInfo("America/New_York")).strftime("%Y-%m")


def test_an_old_log_no_archive_holds_is_kept(logroot: Path, history_db: str) -> None:
    """The playbook's `find -mtime +30 -delete` deletes it whatever happened to the
    archive; here an archive folder that cannot be used keeps it."""
    settings = log_settings(logroot)
    old = gz(logroot / "app.log.3.gz", b"old\n", timedelta(days=45))
    (logroot / "archive").write_text("not a folder")
    o = run("logs.cleanup", settings)
    assert o.status is RunStatus.FAILED
    archives = checks(o)["monthly archives written and read back"]
    assert archives["status"] == "fail" and "not a folder" in str(archives["observed"])
    assert old.exists() and read_log(old) == b"old\n"
    assert (logroot / "archive").read_text() == "not a folder"


def test_dry_runs_change_nothing(logroot: Path, history_db: str) -> None:
    settings = log_settings(logroot, log_writers_visible=True)
    (logroot / "app.log").write_bytes(b"x\n" * 100)
    (logroot / "app.log.1").write_bytes(b"y\n")
    set_age(logroot / "app.log.1", timedelta(days=3))
    gz(logroot / "app.log.2.gz", b"z\n", timedelta(days=50))
    (logroot / "empty.log").touch()
    before = snapshot(logroot)
    o1 = run("logs.rotate", settings, dry_run=True, force=True)
    o2 = run("logs.cleanup", settings, dry_run=True)
    after = snapshot(logroot)
    assert {k: v for k, v in after.items() if not k.startswith(".maint-logs")} == before
    assert o1.result and o1.result["figures"]["plans"][0]["rotate"] is True
    deleted = {d["path"] for d in (o2.result or {})["figures"]["deleted"]}
    assert "empty.log" in deleted


# --- links ------------------------------------------------------------------------------------


def test_a_link_out_of_the_log_root_is_left_alone_with_its_target(
    logroot: Path, tmp_path: Path, history_db: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "secret.log"
    target.write_bytes(b"ERROR not ours\n" * 100)
    set_age(target, timedelta(days=60))
    target_gz = gz(outside / "old.gz", b"not ours either\n", timedelta(days=60))
    (logroot / "evil.log").symlink_to(target)
    (logroot / "evil.log.3.gz").symlink_to(target_gz)
    (logroot / "dir.log").symlink_to(outside)
    (logroot / "app.log").write_bytes(b"mine\n")
    before = snapshot(outside)
    settings = log_settings(logroot)
    outcomes = [
        run("logs.rotate", settings, force=True),
        run("logs.cleanup", settings),
        run("logs.report", settings),
    ]
    assert snapshot(outside) == before
    for name in ("evil.log", "evil.log.3.gz", "dir.log"):
        assert (logroot / name).is_symlink()
    assert os.readlink(logroot / "evil.log") == str(target)
    for o in outcomes:
        c = checks(o)["symbolic links left alone"]
        assert c["status"] == "warn" and f"evil.log -> {target}" in c["observed"]  # type: ignore[operator]
    # the report did not read the target's ERROR lines
    report = outcomes[2].result or {}
    assert report["figures"]["error_counts"] == {"ERROR": 0, "CRITICAL": 0}
    assert (logroot / "app.log.1").read_bytes() == b"mine\n"


def test_a_log_root_that_is_a_link_is_refused(tmp_path: Path, history_db: str) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "app.log").write_bytes(b"x\n")
    link = tmp_path / "link"
    link.symlink_to(real)
    o = run("logs.rotate", log_settings(link), force=True)
    assert o.status is RunStatus.FAILED and "symbolic link" in (o.error_message or "")
    assert sorted(p.name for p in real.iterdir()) == ["app.log"]


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


# --- the report -----------------------------------------------------------------------------------


def test_the_report_counts_only_lines_written_since_the_previous_one(
    logroot: Path, clean_history: str
) -> None:
    settings = log_settings(logroot)
    app = logroot / "app.log"
    app.write_bytes(b"INFO a\nERROR first\nCRITICAL boom\n")
    o = run("logs.report", settings)
    assert o.result and o.result["figures"]["error_counts"] == {"ERROR": 1, "CRITICAL": 1}
    with app.open("ab") as f:
        f.write(b"ERROR second password=" + LEAK_CANARY.encode() + b"\nhalf a line ERR")
    o = run("logs.report", settings)
    assert o.result and o.result["figures"]["error_counts"] == {"ERROR": 1, "CRITICAL": 0}
    quotes = o.result["figures"]["errors"]["app.log"]["quotes"]
    assert quotes == ["app.log: ERROR second password=***"]
    # the half line is completed, then the log rotates twice (the old part is compressed)
    with app.open("ab") as f:
        f.write(b"OR third\n")
    run("logs.rotate", settings, force=True)
    app.write_bytes(b"ERROR fourth\n")
    run("logs.rotate", settings, force=True)
    assert (logroot / "app.log.2.gz").exists()
    app.write_bytes(b"ERROR fifth\n")
    o = run("logs.report", settings)
    assert o.result
    assert o.result["figures"]["error_counts"] == {"ERROR": 3, "CRITICAL": 0}
    assert [q.split(": ", 1)[1] for q in o.result["figures"]["errors"]["app.log"]["quotes"]] == [
        "half a line ERROR third",
        "ERROR fourth",
        "ERROR fifth",
    ]
    o = run("logs.report", settings)
    assert o.result and o.result["figures"]["error_counts"] == {"ERROR": 0, "CRITICAL": 0}
    assert not [r for r in history_rows() if LEAK_CANARY in str(r)]


def test_the_report_fails_what_needs_attention(logroot: Path, history_db: str) -> None:
    settings = log_settings(logroot, log_max_bytes=1000, log_disk_limit_bytes=10_000)
    (logroot / "app.log").write_bytes(b"x" * 5000)
    os.chmod(logroot / "app.log", 0o666)  # noqa: S103 - the problem the report must find
    (logroot / "filler.bin").write_bytes(os.urandom(20_000))
    o = run("logs.report", settings)
    assert o.status is RunStatus.FAILED
    c = checks(o)
    assert c["no log over the size cap"]["status"] == "fail"
    assert c["disk space within limits"]["status"] == "fail"
    assert (
        c["no permission issues"]["status"] == "fail"
        and "app.log is 0666" in c["no permission issues"]["observed"]
    )  # type: ignore[operator]
    assert o.summary.startswith("NEEDS ATTENTION")


def test_maint_logs_verbs_print_tables_and_json(
    logroot: Path, history_db: str, maint_env: dict[str, str]
) -> None:
    from tests.conftest import run_cli

    (logroot / "app.log").write_bytes(b"ERROR x\n" * 10)
    env = maint_env | {"MAINT_LOG_ROOT": str(logroot), "COLUMNS": "80"}
    p = run_cli("logs", "rotate", "--dry-run", env=env)
    assert p.returncode == 0, p.stderr
    assert "would rotate" in p.stdout and "app.log" in p.stdout
    assert all(len(line) <= 80 for line in p.stdout.splitlines())
    assert not (logroot / "app.log.1").exists()
    p = run_cli("logs", "report", "--json", env=env)
    data = json.loads(p.stdout)
    assert (
        data["task"] == "logs.report" and data["result"]["figures"]["error_counts"]["ERROR"] == 10
    )
    p = run_cli("logs", "cleanup", "--dry-run", env=env)
    assert p.returncode == 0, p.stderr
    p = run_cli("logs", "rotate", env=env)
    assert p.returncode == 0 and (logroot / "app.log.1").exists()


def test_a_bad_root_is_a_clear_error_in_history(tmp_path: Path, clean_history: str) -> None:
    o = run("logs.report", log_settings(tmp_path / "nowhere"))
    assert o.status is RunStatus.FAILED and "does not exist" in (o.error_message or "")
    (row,) = history_rows("task = 'logs.report'")
    assert row["status"] == "failed" and "MAINT_LOG_ROOT" in str(row["error_message"])


def test_the_reopen_command_runs_once_per_rotation_without_the_suites_settings(
    logroot: Path, tmp_path: Path, history_db: str
) -> None:
    seen = tmp_path / "env.json"
    record = f"import json, os; open({str(seen)!r}, 'a').write(json.dumps(sorted(os.environ)) + '\\n')"
    for name in ("a.log", "b.log"):
        (logroot / name).write_bytes(b"x\n")
    o = run("logs.rotate", log_settings(logroot, log_reopen_command=[sys.executable, "-c", record]), force=True)
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
    o = run("logs.rotate", log_settings(logroot, log_reopen_command=hanging, log_reopen_timeout_s=1), force=True)
    assert "killed after 1s" in str(checks(o)["writers told to reopen"]["observed"])
    o = run("logs.rotate", log_settings(logroot, log_reopen_command=[sys.executable, "-c", record]))
    assert len(seen.read_text().splitlines()) == 1  # nothing rotated: nobody told to reopen
