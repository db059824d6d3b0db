"""The one context manager that owns a run's history row.

    with RunRecorder(settings, start) as rec:
        rec.complete(do_the_work())

On entry a ``running`` row is inserted and a heartbeat thread starts refreshing it; on
exit the row is completed: ``succeeded`` or ``failed`` from the result's checks,
``failed`` with the error's type and message if the body raised, ``skipped`` with the
reason if it raised :class:`~maintenance.errors.RunSkipped`.

The history is the record, not the work: if the history database cannot be written, the
run goes on, the failure is logged, and the body's own exception (if any) is what
propagates. A row that could not be inserted at start is written whole at the end.
"""

from __future__ import annotations

import ctypes
import threading
import traceback
from types import TracebackType
from typing import Any, Literal, Self

import structlog

from maintenance import clock, locks, redact
from maintenance.config import Settings
from maintenance.errors import CHECK_FAILED, LockLost, MaintenanceError, RunSkipped
from maintenance.history import claims, store
from maintenance.logs_setup import get_logger
from maintenance.results import Result, RunStatus

log = get_logger("maint.history")

MAX_MESSAGE = 4000


class _Heartbeat(threading.Thread):
    """Refreshes the row's heartbeat; with a lock to watch, also checks the lock's session
    and stops the run (raises LockLost in its thread) when the session is gone."""

    def __init__(self, dsn: str, run_id: int, interval: float) -> None:
        super().__init__(name=f"heartbeat-{run_id}", daemon=True)
        self.dsn, self.run_id, self.interval = dsn, run_id, interval
        self.stopped = threading.Event()
        self._guard = threading.Lock()
        self._lock: locks.Held | None = None
        self._body_thread: int | None = None

    def watch(self, lock: locks.Held, body_thread: int) -> None:
        with self._guard:
            self._lock, self._body_thread = lock, body_thread

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                if not store.heartbeat(self.dsn, self.run_id):
                    log.warning("history.heartbeat_orphaned", run_id=self.run_id)
            except Exception as exc:  # noqa: BLE001 - the history DB may come back; keep trying
                log.warning("history.heartbeat_failed", run_id=self.run_id, error=str(exc))
            self._check_lock()

    def _check_lock(self) -> None:
        lock = self._lock
        if lock is None or lock.alive():
            return
        with self._guard:
            if self._body_thread is None or self.stopped.is_set():
                return  # the body has ended meanwhile
            log.error("run.lock_lost", run_id=self.run_id, lock=lock.name)
            _raise_in(self._body_thread, LockLost)
            self._lock = self._body_thread = None

    def stop(self) -> None:
        with self._guard:  # after this, no LockLost can be raised into the body
            self.stopped.set()
            if self._body_thread is not None:
                _raise_in(self._body_thread, None)  # cancel one not yet delivered
            self._body_thread = None
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=self.interval + 5)


def _raise_in(thread_id: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in thread ``thread_id`` at its next Python instruction (None: cancel
    a pending one). It is how a watchdog stops a body that runs in another thread; a body
    blocked inside a C call sees it when the call returns."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc else None
    )


#: Exceptions the worker raises into a task carry no message of their own.
_KNOWN_MESSAGES = {
    "SoftTimeLimitExceeded": "the run passed its soft time limit and was stopped "
    "(limits: `maint tasks --json`; change them with MAINT_TIME_LIMITS)",
    "KeyboardInterrupt": "interrupted (Ctrl-C)",
    "SystemExit": "the process was asked to exit while the run was in progress",
    "LockLost": "the database session holding this run's singleton lock is gone "
    "(connection cut, server restart, pg_terminate_backend): stopped, so that a second copy "
    "cannot run beside it",
}


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(type name, message) for the history: scrubbed, bounded, never empty."""
    name = type(exc).__name__
    own = str(exc).strip()
    message = own if own and own != f"{name}()" else _KNOWN_MESSAGES.get(name, repr(exc))
    return name, redact.scrub(message)[:MAX_MESSAGE]


class RunRecorder:
    """Records one run. See the module docstring."""

    def __init__(self, settings: Settings, start: store.RunStart, *, claim: bool = False) -> None:
        self.settings = settings
        self.start = start
        #: Claim the run by its Celery task id and attempt (a delivered message): see
        #: :func:`claims.claim_run`. ``earlier`` is then what the claim found, and
        #: ``claim_checked`` False if the history could not be asked.
        self.claim = claim and start.celery_task_id is not None
        self.earlier: claims.Claim | None = None
        self.claim_checked = False
        self.dsn = settings.history_dsn.get_secret_value()
        self.run_id: int | None = None
        self.result: Result | None = None
        self._skip_figures: dict[str, Any] = {}
        self.status: RunStatus = RunStatus.RUNNING
        self.summary: str = ""
        self.error_type: str | None = None
        self.error_message: str | None = None
        self.history_error: str | None = None
        self.duration_s: float = 0.0
        self._heartbeat: _Heartbeat | None = None
        self._t0 = 0.0
        self._log_tokens: dict[str, Any] = {}

    # --- lifecycle ----------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.started_at = clock.now()
        self._t0 = clock.monotonic()
        # tokens, so that a step's recorder hands its parent's log context back on exit
        self._log_tokens = dict(
            structlog.contextvars.bind_contextvars(
                task=self.start.task,
                trigger=self.start.trigger.value,
                celery_task_id=self.start.celery_task_id,
                step=self.start.step,
            )
        )
        try:
            self._insert()
        except Exception as exc:  # noqa: BLE001 - the record must never stop the work
            self.history_error = str(exc)
            log.error("history.start_not_recorded", error=str(exc))
        if self.run_id is not None and self.earlier is None:
            self._log_tokens.update(structlog.contextvars.bind_contextvars(run_id=self.run_id))
            self._heartbeat = _Heartbeat(self.dsn, self.run_id, self.settings.heartbeat_interval_s)
            self._heartbeat.start()
        log.info("run.started", params=redact.redact_params(self.start.params))
        return self

    def _insert(self) -> None:
        if self.claim:
            claim = claims.claim_run(self.dsn, self.start, started_at=self.started_at)
            self.claim_checked = True
            if claim.seen is None:
                self.run_id = claim.run_id
                return
            self.earlier = claim  # the body records this delivery as skipped, on a row of its own
        self.run_id = store.insert_run(self.dsn, self.start, started_at=self.started_at)

    def watch(self, lock: locks.Held) -> None:
        """Check ``lock``'s session at every heartbeat; stop the run if it dies."""
        if self._heartbeat is not None:
            self._heartbeat.watch(lock, threading.get_ident())

    def complete(self, result: Result) -> None:
        """Hand over the body's result; the status follows from its checks."""
        self.result = result

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if self._heartbeat is not None:
            self._heartbeat.stop()
        self.duration_s = clock.monotonic() - self._t0
        self._settle(exc)
        end = store.RunEnd(
            status=self.status,
            finished_at=clock.now(),
            duration_s=self.duration_s,
            summary=self.summary,
            result=self._result_json(),
            error_type=self.error_type,
            error_message=self.error_message,
        )
        self._write(end)
        level = "info" if self.status in (RunStatus.SUCCEEDED, RunStatus.SKIPPED) else "error"
        getattr(log, level)(
            "run.finished",
            status=self.status.value,
            duration_s=round(self.duration_s, 3),
            summary=self.summary,
            error_type=self.error_type,
            error=self.error_message,
            **(
                {"traceback": "".join(traceback.format_exception(exc))}
                if exc and not isinstance(exc, MaintenanceError)
                else {}
            ),
        )
        structlog.contextvars.reset_contextvars(**self._log_tokens)
        return False  # never swallow the body's exception

    # --- helpers ------------------------------------------------------------------------
    def _settle(self, exc: BaseException | None) -> None:
        if isinstance(exc, RunSkipped):
            self.status = RunStatus.SKIPPED
            self.summary = f"skipped: {redact.scrub(exc.reason)}"
            self._skip_figures = redact.scrub_value(exc.figures)
        elif exc is not None:
            self.status = RunStatus.FAILED
            self.error_type, self.error_message = describe_error(exc)
            self.summary = f"{self.error_type}: {self.error_message.splitlines()[0][:200]}"
        elif self.result is None:
            self.status = RunStatus.FAILED
            self.error_type, self.error_message = "NoResult", "the task returned no result"
            self.summary = self.error_message
        else:
            self.status = self.result.status
            self.summary = self.result.summary or _default_summary(self.result)
            if self.status is RunStatus.FAILED:
                self.error_type = CHECK_FAILED
                self.error_message = "; ".join(
                    f"{c.name}: observed {c.observed!r}, expected {c.expected!r}"
                    + (f" ({c.detail})" if c.detail else "")
                    for c in self.result.failed
                )[:MAX_MESSAGE]

    def _result_json(self) -> dict[str, Any] | None:
        if self.result is not None:
            return self.result.to_dict()
        if self.status is RunStatus.SKIPPED:
            return {"summary": self.summary, "checks": [], "figures": self._skip_figures}
        return None

    def _write(self, end: store.RunEnd) -> None:
        try:
            if self.run_id is not None:
                store.finish_run(self.dsn, self.run_id, end)
            else:
                self.run_id = store.insert_finished_run(self.dsn, self.start, self.started_at, end)
        except MaintenanceError as exc:
            self.history_error = str(exc)
            log.error(
                "history.end_not_recorded",
                error=str(exc),
                status=end.status.value,
                summary=end.summary,
                error_type=end.error_type,
            )
        except Exception as exc:  # noqa: BLE001 - never let the record hide the run's outcome
            self.history_error = f"{type(exc).__name__}: {exc}"
            log.error("history.end_not_recorded", error=self.history_error, status=end.status.value)


def _default_summary(result: Result) -> str:
    n = len(result.checks)
    fails, warns = len(result.failed), len(result.warnings)
    if fails:
        return f"{fails} of {n} checks failed: " + ", ".join(c.name for c in result.failed)
    if warns:
        return f"{n} checks, {warns} warning(s): " + ", ".join(c.name for c in result.warnings)
    return f"all {n} checks passed"
