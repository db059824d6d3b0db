"""Log housekeeping: which files under MAINT_LOG_ROOT are logs, how logs.rotate rotates
them (logrotate's semantics), what logs.cleanup keeps, what logs.report checks, and which
host's queue the log tasks of each host are sent to."""

from __future__ import annotations

import re
import signal
import socket
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from maintenance.config._base import Section, check_absolute

#: strftime directives a MAINT_LOG_DATEFORMAT may use: each reads back as digits.
DATE_DIRECTIVES = frozenset("YmdHMSs")
_HOST = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def _this_host() -> str:
    return socket.gethostname().split(".")[0] or "localhost"


class LogsSection(Section):
    TITLE = "Logs"

    log_patterns: list[str] = Field(
        default_factory=lambda: ["*.log"],
        description="JSON list of glob patterns of the live logs directly in MAINT_LOG_ROOT "
        "(app.log, error.log, access.log, database.log ...). Their rotated files "
        "(app.log.1, app.log.2.gz, or app.log-20261201[.gz] with MAINT_LOG_DATEEXT) belong "
        "to them; nothing else is rotated, compressed or deleted.",
    )
    log_keep: int = Field(
        30,
        ge=1,
        le=10_000,
        description="logrotate's `rotate`: rotated files kept per log; logs.rotate deletes "
        "the ones beyond it.",
    )
    log_max_bytes: int = Field(
        100 * 1024 * 1024,
        ge=1,
        description="Size cap in bytes: a live log this big is rotated at the next logs.rotate "
        "even if it was rotated today (logrotate's `maxsize`); logs.report fails a log over it.",
    )
    log_max_age_days: int = Field(
        30,
        ge=1,
        description="logs.cleanup deletes rotated logs older than this (by modification time), "
        "once its monthly archive holds them; logs.report checks this many days are kept.",
    )
    log_create_mode: int = Field(
        0o640,
        description="logrotate's `create` mode (octal, e.g. 0640) of the new, empty live log.",
    )
    log_create_owner: str | None = Field(
        None,
        description="`create` owner (user name or uid) of the new live log; unset: the owner "
        "of the log it replaces (logrotate's default).",
    )
    log_create_group: str | None = Field(
        None,
        description="`create` group (group name or gid); unset: the replaced log's group.",
    )
    log_dateext: bool = Field(
        False,
        description="logrotate's `dateext`: rotated files are named app.log-20261201 "
        "(MAINT_LOG_DATEFORMAT) instead of app.log.1, app.log.2.gz ...",
    )
    log_dateformat: str = Field(
        "-%Y%m%d",
        description="logrotate's `dateformat` with MAINT_LOG_DATEEXT: only %Y %m %d %H %M %S "
        "%s. A second rotation the same day is skipped unless it has %H or %s.",
    )
    log_reopen_command: list[str] | None = Field(
        None,
        description="JSON argv run once after logs.rotate renamed any log (logrotate's "
        "`postrotate` with `sharedscripts`), so writers reopen their files; no shell. "
        "Python writers with WatchedFileHandler need none.",
    )
    log_reopen_pidfile: Path | None = Field(
        None,
        description="A pid file: after a rotation, MAINT_LOG_REOPEN_SIGNAL is sent to the "
        "process it names (the playbook's `kill -HUP $(cat /var/run/app.pid)`).",
    )
    log_reopen_signal: str = Field(
        "HUP", description="The signal sent to MAINT_LOG_REOPEN_PIDFILE's process (HUP, USR1 ...)."
    )
    log_reopen_timeout_s: float = Field(
        30.0, gt=0, le=3600, description="MAINT_LOG_REOPEN_COMMAND is killed after this long."
    )
    log_disk_limit_bytes: int = Field(
        50 * 1000**3,
        ge=1,
        description="logs.report fails when everything under MAINT_LOG_ROOT takes more disk "
        "than this (the playbook's 50 GB).",
    )
    log_writers_visible: bool | None = Field(
        None,
        description="Whether this worker sees the processes that write the logs (same host "
        "or PID namespace): only then is an empty live log deleted (when none holds it open). "
        "Unset: yes when PID 1 is the host's init, no in a container of its own.",
    )
    log_compress_workers: int = Field(
        0,
        ge=0,
        le=64,
        description="Threads compressing rotated logs at once; 0: one per core.",
    )
    log_host: str = Field(
        default_factory=_this_host,
        description="This host's name for the log tasks: its worker consumes the queue "
        "logs.<name>, and a log task sent for another host refuses to run here.",
    )
    log_hosts: list[str] = Field(
        default_factory=list,
        description="JSON list of the hosts whose logs beat manages: one beat entry per task "
        "and host, sent to the queue logs.<host>. Empty: MAINT_LOG_HOST only.",
    )

    @field_validator("log_patterns")
    @classmethod
    def _log_patterns(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('needs at least one pattern, e.g. ["*.log"]')
        for pattern in value:
            if not pattern or "/" in pattern or pattern.startswith(".") or ".." in pattern:
                raise ValueError(
                    f"{pattern!r}: a pattern names files directly in MAINT_LOG_ROOT "
                    "(no '/', no leading '.')"
                )
            if pattern.endswith((".gz", "*")) or pattern in ("*", "*.*"):
                raise ValueError(
                    f"{pattern!r} would match rotated or compressed logs too: name the live "
                    "logs, e.g. *.log"
                )
        return value

    @field_validator("log_create_mode", mode="before")
    @classmethod
    def _log_mode(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().removeprefix("0o")
            if not re.fullmatch(r"[0-7]{3,4}", text):
                raise ValueError(f"{value!r} is not an octal mode like 0640")
            value = int(text, 8)
        if isinstance(value, int) and not 0 <= value <= 0o777:
            raise ValueError(f"{oct(value)} is not a permission mode (0000-0777)")
        if isinstance(value, int) and value & 0o002:
            raise ValueError(f"{oct(value)}: a world-writable log is refused")
        return value

    @field_validator("log_dateformat")
    @classmethod
    def _log_dateformat(cls, value: str) -> str:
        directives = re.findall(r"%(.)", value)
        if not directives or set(directives) - DATE_DIRECTIVES:
            raise ValueError(
                f"{value!r}: use only %Y %m %d %H %M %S %s (each reads back as digits)"
            )
        if "/" in value or value.endswith(".gz"):
            raise ValueError(f"{value!r} must not contain '/' or end in .gz")
        return value

    @field_validator("log_reopen_command")
    @classmethod
    def _log_argv(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and (not value or not all(isinstance(a, str) and a for a in value)):
            raise ValueError(
                'must be a JSON list of arguments, e.g. ["docker", "compose", "kill", '
                '"-s", "HUP", "backend"]'
            )
        return value

    @field_validator("log_reopen_pidfile")
    @classmethod
    def _log_pidfile(cls, value: Path | None) -> Path | None:
        return check_absolute(value)

    @field_validator("log_reopen_signal")
    @classmethod
    def _log_signal(cls, value: str) -> str:
        name = value.upper().removeprefix("SIG")
        if f"SIG{name}" not in signal.Signals.__members__:
            raise ValueError(f"{value!r} is not a signal name (HUP, USR1, USR2 ...)")
        if name in ("KILL", "STOP", "TERM", "INT", "QUIT"):
            raise ValueError(f"{value!r} would stop the application, not make it reopen its logs")
        return name

    @field_validator("log_host")
    @classmethod
    def _log_host(cls, value: str) -> str:
        if not _HOST.match(value):
            raise ValueError(
                f"{value!r}: use letters, digits, '.', '-' and '_' (a queue name part)"
            )
        return value

    @field_validator("log_hosts")
    @classmethod
    def _log_hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not _HOST.match(host):
                raise ValueError(f"{host!r}: use letters, digits, '.', '-' and '_'")
        if len(set(value)) != len(value):
            raise ValueError("a host is named twice")
        return value

    @property
    def log_signal(self) -> signal.Signals:
        return signal.Signals[f"SIG{self.log_reopen_signal}"]

    @property
    def managed_log_hosts(self) -> list[str]:
        """The hosts beat sends log tasks to."""
        return self.log_hosts or [self.log_host]
