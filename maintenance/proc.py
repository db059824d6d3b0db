"""Every child process the suite starts, started one way and ended one way.

::

    with proc.child([pg_dump, "--format=custom"], env=env, stdout=proc.PIPE) as p:
        while chunk := p.stdout.read(CHUNK):
            ...
        rc = p.wait()
    message = p.stderr_text()

    done = proc.run([binary, "--version"], timeout=30)   # a short command, output kept

Every child gets an argv list (never a shell string); the curated environment
(:func:`maintenance.childenv.child_env`, or one the caller built with it such as
:func:`maintenance.pg.libpq_env`; never ``os.environ``); a process group of its own
(``pg_restore -j`` forks workers, a hook's shell starts commands); its stderr read on a
thread into a bounded buffer (the last :data:`STDERR_LIMIT` bytes); stdin from
``/dev/null``, a pipe (``stdin=PIPE``) or an iterator a thread feeds (``feed=``); and
optionally a deadline, which a watchdog enforces even while the body is blocked reading.

It ends (docs/architecture.md, "Child processes", says why this way):

* on any exit from the ``with`` block but a clean one (an exception such as Celery's
  SoftTimeLimitExceeded, KeyboardInterrupt, SystemExit) and at its deadline: its whole
  group gets SIGTERM (pg_dump and pg_restore then cancel their server-side query and
  stop their ``-j`` workers), SIGKILL after :data:`GRACE_S`; it is reaped, our threads
  joined, then the exception goes on;
* on a clean finish, when it exits by itself; it is reaped (what it started on purpose,
  a start hook's daemon, is left alone);
* when this process dies unannounced (kill -9, the OOM killer): it is started through
  ``setpriv --pdeathsig TERM`` (util-linux), so the kernel sends it SIGTERM when the
  thread that started it is gone; a ``with`` block holds that thread until the child is
  reaped. Without setpriv (:data:`PDEATHSIG` False) only this last net is missing.

A group is signalled only while its leader is unreaped: its id cannot have been reused.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

from maintenance import childenv, redact
from maintenance.errors import PermanentError

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL

#: How much of a child's stderr is kept (the end of it: where the error is).
STDERR_LIMIT = 64 * 1024
#: How long a child's group has between SIGTERM and SIGKILL.
GRACE_S = 5.0
#: How long our own threads (stderr reader, feeder) are waited for once the child ended.
JOIN_S = 10.0

_SETPRIV = shutil.which("setpriv")
#: Whether children die with this process (see the module docstring).
PDEATHSIG = _SETPRIV is not None


class ChildTimeout(PermanentError):
    """A child did not finish within its deadline; its process group was killed."""


@dataclass(frozen=True)
class Completed:
    """What :func:`run` returns: the exit status, all of stdout, stderr as text (scrubbed
    of secrets, its last :data:`STDERR_LIMIT` bytes)."""

    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: str


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    name: str | None = None,
) -> Completed:
    """Run a command to its end and keep its output. Raise OSError if it cannot start,
    ChildTimeout if it outlives ``timeout``. A non-zero exit is the caller's to judge."""
    with child(argv, env=env, stdout=PIPE, timeout=timeout, name=name) as p:
        assert p.stdout is not None
        out = p.stdout.read()
        rc = p.wait()
    return Completed(list(argv), rc, out, p.stderr_text())


class Child:
    """A child process and its group, started when its ``with`` block is entered (see the
    module docstring); :func:`child` makes one. ``stdin``: None (``/dev/null``) or PIPE;
    ``feed``: chunks a thread writes to its stdin, then closes it; ``stdout``: None
    (``/dev/null``), PIPE or a file; ``pipe_size``: the stdout pipe's capacity (Linux:
    fewer, larger reads)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        stdin: int | None = None,
        feed: Iterable[bytes] | None = None,
        stdout: int | IO[Any] | None = None,
        timeout: float | None = None,
        name: str | None = None,
        pipe_size: int | None = None,
    ) -> None:
        if isinstance(argv, str | bytes) or not argv:
            raise TypeError("argv must be a non-empty list of arguments, not a string")
        if stdin not in (None, PIPE) or (stdin is not None and feed is not None):
            raise ValueError("stdin is None or PIPE (not with feed=, which fills it)")
        self.argv = [str(a) for a in argv]
        self.name = name or os.path.basename(self.argv[0])
        self._env = dict(childenv.child_env() if env is None else env)
        self._stdin = PIPE if stdin == PIPE or feed is not None else DEVNULL
        self._feed_source = feed
        self._stdout = DEVNULL if stdout is None else stdout
        self._timeout = timeout
        self._pipe_size = pipe_size
        self._popen: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()  # reaping and signalling the group never overlap
        self._ended = threading.Event()
        self._threads: list[threading.Thread] = []
        self._feeder: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._err = bytearray()
        self._err_dropped = 0
        self._err_lock = threading.Lock()
        self.timed_out = False
        self._timeout_reported = False
        #: Bytes the feeder wrote, whether it wrote all of ``feed``, and the error ``feed``
        #: itself raised (the caller decides what it means).
        self.fed_bytes = 0
        self.fed_all = False
        self.feed_error: BaseException | None = None

    # --- the with block -----------------------------------------------------------------

    def __enter__(self) -> Child:
        self._popen = subprocess.Popen(
            _launch(self.argv, self._env),
            stdin=self._stdin,
            stdout=self._stdout,
            stderr=PIPE,
            env=self._env,
            start_new_session=True,
        )
        try:
            self._start_threads()
        except BaseException:
            self._abort()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self._abort()
            return
        try:
            self.wait()
        except BaseException:
            self._abort()
            raise
        self._close()

    # --- what the body uses ---------------------------------------------------------------

    @property
    def pid(self) -> int:
        return self._popen_().pid

    @property
    def stdin(self) -> IO[bytes] | None:
        return None if self._feed_source is not None else self._popen_().stdin

    @property
    def stdout(self) -> IO[bytes] | None:
        return self._popen_().stdout

    @property
    def returncode(self) -> int | None:
        return self._popen_().returncode

    def wait(self) -> int:
        """Wait for the child to end, reap it, wait for the feeder; return its exit
        status. Raise ChildTimeout if the deadline ended it."""
        popen = self._popen_()
        if popen.stdin is not None and self._feed_source is None:
            with contextlib.suppress(OSError, ValueError):
                popen.stdin.close()  # the caller's pipe: nothing more will come
        _wait_exited(popen.pid)
        self._ended.set()  # the leader is done: from here on no deadline fires
        with self._lock:
            timed_out = self.timed_out
        if timed_out and self._watchdog is not None:
            self._watchdog.join()  # it is ending the group: the leader stays unreaped till then
        with self._lock:
            rc = popen.wait()
        if self._feeder is not None:
            self._feeder.join(JOIN_S)
        if self.timed_out and not self._timeout_reported:
            self._timeout_reported = True
            raise ChildTimeout(
                f"{self.name} did not finish within {self._timeout:g} s; "
                "it and its process group were stopped"
            )
        return rc

    def kill(self) -> None:
        """End the child's whole group now (:meth:`_end_group`) and reap it."""
        self._end_group()
        with self._lock:
            self._popen_().wait()
        self._ended.set()

    def stderr_text(self) -> str:
        """What the child wrote to stderr (its end, if it wrote more than STDERR_LIMIT),
        decoded and scrubbed of secrets."""
        with self._err_lock:
            data, dropped = bytes(self._err), self._err_dropped
        text = redact.scrub(data.decode(errors="replace").strip())
        return f"[{dropped} bytes before this left out] {text}" if dropped else text

    # --- inside -----------------------------------------------------------------------------

    def _popen_(self) -> subprocess.Popen[bytes]:
        if self._popen is None:
            raise RuntimeError("the child has not started: use it in a with block")
        return self._popen

    def _start_threads(self) -> None:
        popen = self._popen_()
        assert popen.stderr is not None
        starts = [threading.Thread(target=self._read_stderr, name=f"{self.name}-stderr")]
        if self._feed_source is not None:
            self._feeder = threading.Thread(target=self._feed, name=f"{self.name}-stdin")
            starts.append(self._feeder)
        if self._timeout is not None:
            self._watchdog = threading.Thread(target=self._watch, name=f"{self.name}-watchdog")
            starts.append(self._watchdog)
        if self._pipe_size and popen.stdout is not None:
            setpipe = getattr(fcntl, "F_SETPIPE_SZ", None)
            if setpipe is not None:
                with contextlib.suppress(OSError):
                    fcntl.fcntl(popen.stdout.fileno(), setpipe, self._pipe_size)
        for thread in starts:
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def _read_stderr(self) -> None:
        stream = self._popen_().stderr
        assert stream is not None
        with contextlib.suppress(OSError, ValueError):
            while data := os.read(stream.fileno(), 65536):
                with self._err_lock:
                    self._err += data
                    excess = len(self._err) - STDERR_LIMIT
                    if excess > 0:
                        cut = self._err.find(b"\n", excess)  # keep whole lines
                        cut = excess if cut < 0 else cut + 1
                        del self._err[:cut]
                        self._err_dropped += cut

    def _feed(self) -> None:
        sink = self._popen_().stdin
        assert sink is not None
        assert self._feed_source is not None
        try:
            for piece in self._feed_source:
                try:
                    sink.write(piece)
                except (OSError, ValueError):  # it stopped reading: its exit status says why
                    return
                self.fed_bytes += len(piece)
            self.fed_all = True
        except BaseException as exc:  # noqa: BLE001  (the source's own error: the caller's)
            self.feed_error = exc
        finally:
            with contextlib.suppress(OSError, ValueError):
                sink.close()

    def _watch(self) -> None:
        assert self._timeout is not None
        if self._ended.wait(self._timeout):
            return
        with self._lock:
            if self._ended.is_set():
                return  # it ended just in time
            self.timed_out = True
        self._end_group()

    def _end_group(self) -> None:
        """SIGTERM the group; once the leader has exited and no other member runs, or
        GRACE_S has passed, SIGKILL what is left. The leader is left unreaped."""
        pid = self._popen_().pid
        if not self._signal(signal.SIGTERM):
            return  # already reaped
        deadline = time.monotonic() + GRACE_S
        while time.monotonic() < deadline and (not _exited(pid) or _group_alive(pid, but=pid)):
            time.sleep(0.02)
        if self._signal(signal.SIGKILL):
            deadline = time.monotonic() + 1.0  # SIGKILL is not instant: see them gone
            while time.monotonic() < deadline and _group_alive(pid, but=pid):
                time.sleep(0.01)

    def _signal(self, sig: int) -> bool:
        """Signal the child's group while its leader is unreaped; False if it is reaped."""
        popen = self._popen_()
        with self._lock:
            if popen.returncode is not None:
                return False
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(popen.pid, sig)
            return True

    def _abort(self) -> None:
        """The body failed: end the group, then tidy up; never raise over its error."""
        with contextlib.suppress(Exception):
            self.kill()
        with contextlib.suppress(Exception):
            self._close()

    def _close(self) -> None:
        self._ended.set()
        for thread in self._threads:
            thread.join(JOIN_S)
        popen = self._popen_()
        # A thread still stuck on a pipe (a grandchild holds its other end) keeps it:
        # closed under the thread, its fd number could be reused by another file.
        busy = {t.name for t in self._threads if t.is_alive()}
        for what in ("stdin", "stdout", "stderr"):
            stream = getattr(popen, what)
            if stream is not None and f"{self.name}-{what}" not in busy:
                with contextlib.suppress(OSError, ValueError):
                    stream.close()


child = Child  #: ``with proc.child(argv, ...) as p:``


def _launch(argv: list[str], env: Mapping[str, str]) -> list[str]:
    """``argv`` with its program found on the child's PATH (OSError if it is not there)
    and, where setpriv exists, behind ``setpriv --pdeathsig TERM``."""
    program = shutil.which(argv[0], path=env.get("PATH", os.defpath))
    if program is None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), argv[0])
    if _SETPRIV is None:
        return [program, *argv[1:]]
    return [_SETPRIV, "--pdeathsig", "TERM", "--", program, *argv[1:]]


def _wait_exited(pid: int) -> None:
    """Block until ``pid`` has exited, leaving it unreaped (its group id stays ours)."""
    with contextlib.suppress(ChildProcessError):
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)


def _exited(pid: int) -> bool:
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None
    except ChildProcessError:
        return True


def _group_alive(pgid: int, *, but: int) -> bool:
    """Whether a process of group ``pgid`` other than ``but`` still runs (Linux /proc;
    False where it cannot be told)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit() or int(entry.name) == but:
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(b")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
                return True
    return False
