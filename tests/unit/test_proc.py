"""maintenance/proc.py with real child processes (sh, sleep, cat, python): a child's
whole process group ends with any exit from its with-block but a clean one, with its
deadline, and with this process itself; stderr is kept bounded; the environment is the
curated one."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import psutil
import pytest

from maintenance import proc


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _group(pgid: int) -> list[int]:
    """Live processes of process group ``pgid``."""
    out = []
    for p in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(p.pid) == pgid and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
    return out


def _wait_until(predicate, what: str, tries: int = 500) -> None:
    import time

    for _ in range(tries):
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"never: {what}")


class Boom(Exception):
    pass


#: A shell that starts two grandchildren in its group, says their pids, and waits.
FAMILY = ["sh", "-c", "sleep 300 & a=$!; sleep 300 & echo $a $!; wait"]


def test_a_clean_child_gives_its_output_status_and_stderr() -> None:
    done = proc.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out\n", "err")


def _family_then(error: BaseException, seen: dict[str, object], argv: list[str] = FAMILY) -> None:
    """Start ``argv`` (it prints pids of its group), note them in ``seen``, raise ``error``."""
    with proc.child(argv, stdout=proc.PIPE) as p:
        seen["child"] = p
        assert p.stdout is not None
        seen["grandchildren"] = [int(x) for x in p.stdout.readline().split()]
        seen["alive"] = all(map(_alive, seen["grandchildren"]))  # type: ignore[arg-type]
        raise error


@pytest.mark.parametrize("error", [Boom, KeyboardInterrupt, SystemExit])
def test_any_error_in_the_body_ends_the_whole_group(error: type[BaseException]) -> None:
    seen: dict[str, Any] = {}
    with pytest.raises(error):
        _family_then(error(), seen)
    p, grandchildren = seen["child"], seen["grandchildren"]
    assert len(grandchildren) == 2 and seen["alive"]
    assert p.returncode is not None  # reaped
    assert not _alive(p.pid) and not any(map(_alive, grandchildren))
    assert _group(p.pid) == []


def test_a_child_that_ignores_sigterm_is_killed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(proc, "GRACE_S", 0.2)
    seen: dict[str, Any] = {}
    stubborn = ["sh", "-c", "trap '' TERM; sleep 300 & echo $!; wait"]
    with pytest.raises(Boom):
        _family_then(Boom(), seen, stubborn)
    assert seen["child"].returncode == -9
    assert not any(map(_alive, seen["grandchildren"]))


def _read_past_deadline(seen: dict[str, Any]) -> None:
    with proc.child(FAMILY, stdout=proc.PIPE, timeout=0.3) as p:
        seen["child"] = p
        assert p.stdout is not None
        seen["grandchildren"] = [int(x) for x in p.stdout.readline().split()]
        seen["rest"] = p.stdout.read()  # blocks until the deadline kills the group
        p.wait()


def test_a_deadline_ends_the_group_and_wakes_a_blocked_reader() -> None:
    seen: dict[str, Any] = {}
    with pytest.raises(proc.ChildTimeout, match=r"sh did not finish within 0\.3 s"):
        _read_past_deadline(seen)
    assert seen["rest"] == b"" and seen["child"].timed_out
    assert not any(map(_alive, seen["grandchildren"]))


def test_run_has_a_deadline_too() -> None:
    with pytest.raises(proc.ChildTimeout):
        proc.run(["sleep", "300"], timeout=0.2)


def test_stderr_is_kept_bounded_and_whole_lines_from_its_end() -> None:
    script = "import sys\nfor i in range(100000): sys.stderr.write(f'line {i}\\n')\n"
    done = proc.run([sys.executable, "-c", script])
    assert done.returncode == 0  # it never blocked on a full pipe
    assert done.stderr.endswith("line 99999")
    assert len(done.stderr) < proc.STDERR_LIMIT + 100
    assert done.stderr.startswith("[") and "bytes before this left out] line " in done.stderr
    first = done.stderr.split("] ", 1)[1].split("\n", 1)[0]
    assert first.startswith("line ") and first[5:].isdigit()  # a whole line, not a tail


def test_stderr_is_scrubbed_of_secrets() -> None:
    done = proc.run(["sh", "-c", "echo 'postgresql://u:Sekret-9@db/x' >&2; exit 1"])
    assert "Sekret-9" not in done.stderr and "postgresql://u:***@db/x" in done.stderr


def _chunks(n: int, fail: bool = False) -> Iterator[bytes]:
    for i in range(n):
        yield b"%d\n" % i
    if fail:
        raise Boom("the source failed")


def test_a_feed_goes_to_stdin_and_its_errors_to_the_caller() -> None:
    with proc.child(["cat"], feed=_chunks(1000), stdout=proc.PIPE) as p:
        assert p.stdout is not None and p.stdin is None
        out = p.stdout.read()
        assert p.wait() == 0
    assert out == b"".join(_chunks(1000)) and p.fed_all and p.fed_bytes == len(out)
    assert p.feed_error is None

    with proc.child(["cat"], feed=_chunks(10, fail=True), stdout=proc.PIPE) as p:
        assert p.stdout is not None
        p.stdout.read()
        p.wait()
    assert isinstance(p.feed_error, Boom) and not p.fed_all


def test_a_child_that_stops_reading_its_feed_is_not_an_error() -> None:
    with proc.child(["head", "-c", "5"], feed=_chunks(200_000), stdout=proc.PIPE) as p:
        assert p.stdout is not None
        assert p.stdout.read() == b"0\n1\n2"
        assert p.wait() == 0
    assert not p.fed_all and p.feed_error is None


def test_the_default_environment_is_the_curated_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAINT_TARGET_DSN", "postgresql://u:pw@db/x")
    monkeypatch.setenv("SOME_TOKEN", "tok")
    env = proc.run(["env"]).stdout.decode()
    assert "MAINT_TARGET_DSN" not in env and "SOME_TOKEN" not in env
    assert f"PATH={os.environ['PATH']}\n" in env


def test_a_missing_program_is_an_oserror_and_starts_nothing() -> None:
    with pytest.raises(FileNotFoundError, match="no-such-program"):
        proc.run(["no-such-program", "--version"])


def test_argv_must_be_a_list() -> None:
    with pytest.raises(TypeError, match="not a string"):
        proc.run("echo hi")  # type: ignore[arg-type]


PARENT = textwrap.dedent(
    """
    import os, signal, sys
    from maintenance import proc
    with proc.child({family!r}, stdout=proc.PIPE) as p:
        print(p.pid, p.stdout.readline().decode().strip(), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # dies here: no line of ours runs again
    """
)


@pytest.mark.skipif(not proc.PDEATHSIG, reason="setpriv (util-linux) is not installed")
def test_children_die_with_a_parent_killed_with_sigkill() -> None:
    """What a kill -9 of a worker leaves: the leader got SIGTERM from the kernel; a
    shell passes nothing on, so its grandchildren are the ones it started on purpose."""
    family = ["sh", "-c", "trap 'kill 0' TERM; sleep 300 & sleep 300 & echo $(jobs -p); wait"]
    parent = subprocess.run(
        [sys.executable, "-c", PARENT.format(family=family)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert parent.returncode == -9, parent.stderr
    leader, *grandchildren = (int(x) for x in parent.stdout.split())
    _wait_until(lambda: not _alive(leader), "the leader to die with its parent")
    _wait_until(lambda: not any(map(_alive, grandchildren)), "its children to follow")
