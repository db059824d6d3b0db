"""Tell the writers of rotated logs to reopen them (logrotate's ``postrotate`` with
``sharedscripts``: once per run, after every rename).

Two ways, either or both: a signal to the process a pid file names (the playbook's
``kill -HUP $(cat /var/run/app.pid)``), and a command, run through
:func:`maintenance.proc.run` (an argv list, no shell, the allow-listed child environment,
its process group killed at the timeout). Python writers that use
``logging.handlers.WatchedFileHandler`` reopen by themselves and need neither.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from maintenance import childenv, proc, redact

_PID_FILE_MAX = 64


@dataclass(frozen=True)
class Reopened:
    how: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"how": self.how, "ok": self.ok, "detail": self.detail}


def reopen(settings: Any) -> list[Reopened]:
    """Signal and/or run the configured reopen command; one outcome each (never raises)."""
    out = []
    if settings.log_reopen_pidfile is not None:
        out.append(_signal(settings.log_reopen_pidfile, settings.log_signal))
    if settings.log_reopen_command:
        out.append(_command(settings.log_reopen_command, settings.log_reopen_timeout_s))
    return out


def _signal(pidfile: Any, sig: Any) -> Reopened:
    how = f"SIG{sig.name.removeprefix('SIG')} to the pid in {pidfile}"
    try:
        fd = os.open(pidfile, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            text = handle.read(_PID_FILE_MAX).decode("ascii", errors="replace").strip()
    except OSError as exc:
        return Reopened(how, False, f"pid file unreadable: {exc.strerror or exc}")
    if not text.isdigit() or int(text) <= 1:
        return Reopened(how, False, f"pid file holds {text[:20]!r}, not a process id")
    pid = int(text)
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return Reopened(how, False, f"no process {pid} (a stale pid file)")
    except PermissionError:
        return Reopened(how, False, f"not allowed to signal process {pid}")
    return Reopened(how, True, f"sent to pid {pid}")


def _command(argv: list[str], timeout_s: float) -> Reopened:
    how = f"{argv[0]} (MAINT_LOG_REOPEN_COMMAND)"
    try:
        done = proc.run(argv, env=childenv.child_env(), timeout=timeout_s, name="reopen")
    except proc.ChildTimeout:
        return Reopened(how, False, f"killed after {timeout_s:g}s")
    except OSError as exc:
        return Reopened(how, False, redact.scrub(str(exc)))
    if done.returncode != 0:
        tail = (done.stderr or redact.scrub(done.stdout.decode(errors="replace"))).strip()[-300:]
        return Reopened(how, False, f"exited {done.returncode}: {tail}")
    return Reopened(how, True, "exited 0")
