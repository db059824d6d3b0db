"""One exception root for the whole suite.

The tree tells callers what is worth retrying (classes defined elsewhere name their
module; ``tests/unit/test_errors.py`` checks this drawing against the code)::

    MaintenanceError
    ├── TransientError        retry later: the same call may succeed (a database restarting)
    │   ├── ServiceUnavailable    a database, Redis or the API did not answer
    │   ├── LockLost              the session holding the run's singleton lock died
    │   ├── Busy                  a file lock stayed held (retention skips that backup for now)
    │   └── LockTimeout           upkeep.session: an upkeep statement met its lock_timeout
    ├── PermanentError        retrying will not help: fix the input or the system first
    │   ├── ServiceRefused        a service answered and said no (wrong password, no such database)
    │   ├── ConfigError           a setting is missing or malformed (named in the message)
    │   ├── BadInput              a task parameter, CLI argument or identifier is invalid
    │   │   ├── UnknownTask
    │   │   ├── ParamError
    │   │   └── Refused           a file the suite will not delete (a link, not a regular file)
    │   ├── HistorySchemaError    history.store: the job-history tables are not this version's
    │   ├── ArchiveError          pgarchive.errors: an archive could not be written or read back
    │   │   ├── DumpFailed            pg_dump or the write of its output failed
    │   │   │   └── DiskFull              the backup folder ran out of space
    │   │   ├── DecodeFailed          a backup file could not be read back whole
    │   │   └── LoadFailed            an archive could not be loaded
    │   ├── ChildTimeout          proc: a child did not finish within its deadline (group killed)
    │   ├── DecryptError          backup.crypto: encrypted data that is not authentic
    │   │   └── WrongKeyError         made with another key
    │   ├── LocalMismatch         backup.archive.tar: the backup changed while it was archived
    │   ├── SwapFailed            restore.swap: the databases could not be renamed
    │   ├── HookFailed            restore.run: a configured hook command failed
    │   ├── RunFailed             tasks.base: the Celery task's run ended failed (for Celery)
    │   └── StatementTimeout      upkeep.session: an upkeep statement met its statement_timeout
    └── RunSkipped            not an error: the run chose not to act (lock held, blackout)

Only what :func:`is_transient` calls transient is retried by the Celery wrappers: a
``TransientError``, or a psycopg ``OperationalError`` that says the connection was lost
(a server restart mid-query), which reaches us without passing through our own code.

A failed check is not an exception: a run whose checklist has a failed check returned its
result, and its status follows from its checks (:data:`CHECK_FAILED` is the history's
label for it). Private classes (``_Aborted``) are signals raised and caught inside one
module, never seen outside it.
"""

from __future__ import annotations

from typing import Any

import psycopg


class MaintenanceError(Exception):
    """Root of every error this suite raises on purpose."""

    #: Whether a retry of the same call could succeed.
    transient: bool = False


class TransientError(MaintenanceError):
    """A failure that a later attempt may not meet (connection refused, timeout)."""

    transient = True


class ServiceUnavailable(TransientError):
    """A service the run needs (PostgreSQL, Redis, the scheduler API) did not answer."""


class LockLost(TransientError):
    """The session holding the run's singleton lock is gone: another copy could start,
    so the run stops. A retry takes the lock again."""


class Busy(TransientError):
    """A file lock another process holds (a backup folder's manifest lock) stayed held
    for longer than the caller waits: that file is left alone, and the next run retries."""


class PermanentError(MaintenanceError):
    """A failure that repeats until a person changes something."""


class ServiceRefused(PermanentError):
    """A service answered and refused: bad credentials, a database that does not exist."""


class ConfigError(PermanentError):
    """A setting is missing or malformed. The message names the setting."""


class BadInput(PermanentError):
    """Input from a person or a caller is invalid. The message names the problem."""


class UnknownTask(BadInput):
    """No task has this name."""


class ParamError(BadInput):
    """A task parameter is unknown, missing or has a bad value."""


class Refused(BadInput):
    """A file the suite will not delete: a link, not a regular file, not the kind of file
    the caller may delete, or in a folder that leads outside its root. Nothing is deleted."""


class RunSkipped(MaintenanceError):
    """The run decided not to act; the reason is recorded. Not a failure.

    ``figures`` (optional) are recorded as the skipped run's figures: what it saw that
    made it decide so (the sessions that block an upkeep task, say)."""

    def __init__(self, reason: str, figures: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.figures = dict(figures or {})


#: ``error_type`` of a run that finished its work but whose checklist has a failed check.
#: A label of the history, not an exception class: nothing raises it, because the run
#: returned its result (and the work it did, a backup file say, stands); its status
#: follows from its checks. ``maint show``, the runbook and people's queries use it.
CHECK_FAILED = "CheckFailed"


#: SQLSTATEs of an OperationalError that a later attempt may not meet: connection
#: exceptions (class 08), an administrator's or crash shutdown, "cannot connect now"
#: (starting up), too many connections. Not 57014 (a statement timeout repeats) nor
#: 53100 (a full disk stays full).
_TRANSIENT_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def is_transient(exc: BaseException) -> bool:
    """Whether a retry of the call that raised ``exc`` could succeed."""
    if isinstance(exc, MaintenanceError):
        return exc.transient
    if isinstance(exc, psycopg.OperationalError):
        state = exc.sqlstate
        return state is None or state.startswith("08") or state in _TRANSIENT_SQLSTATES
    return False
