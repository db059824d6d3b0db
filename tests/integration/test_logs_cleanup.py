"""logs.cleanup and logs.report on real files, real tar and zcat, and the real history:
old and empty logs as the playbook says without its bugs, links left alone, the report's
new lines only, the maint logs verbs."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest

from maintenance.results import RunStatus
from tests.conftest import LEAK_CANARY, history_rows, wait_for
from tests.integration.logfiles import (
    checks,
    gz,
    log_settings,
    logroot,
    month,
    read_log,
    run,
    set_age,
    snapshot,
)

pytestmark = pytest.mark.integration

__all__ = ["logroot"]  # the fixture, imported


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
        if month(timedelta(days=days)) < month(timedelta(0)):
            expected.setdefault(f"logs_{month(timedelta(days=days))}.tar", []).append(data)
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
