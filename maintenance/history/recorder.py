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

import threading
import traceback
from types import TracebackType
from typing import Any, Literal, Self

import structlog

from maintenance import clock, redact
from maintenance.config import Settings
from maintenance.errors import MaintenanceError, RunSkipped
from maintenance.history import store
from maintenance.logs_setup import get_logger
from maintenance.results import Result, RunStatus

log = get_logger("maint.history")

MAX_MESSAGE = 4000


class _Heartbeat(threading.Thread):
    def __init__(self, dsn: str, run_id: int, interval: float) -> None:
        super().__init__(name=f"heartbeat-{run_id}", daemon=True)
        self.dsn, self.run_id, self.interval = dsn, run_id, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            try:
                if not store.heartbeat(self.dsn, self.run_id):
                    log.warning("history.heartbeat_orphaned", run_id=self.run_id)
            except Exception as exc:  # noqa: BLE001 - the history DB may come back; keep trying
                log.warning("history.heartbeat_failed", run_id=self.run_id, error=str(exc))

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=self.interval + 5)


#: Exceptions the worker raises into a task carry no message of their own.
_KNOWN_MESSAGES = {
    "SoftTimeLimitExceeded": "the run passed its soft time limit and was stopped "
    "(limits: `maint tasks --json`; change them with MAINT_TIME_LIMITS)",
    "KeyboardInterrupt": "interrupted (Ctrl-C)",
    "SystemExit": "the process was asked to exit while the run was in progress",
}


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(type name, message) for the history: scrubbed, bounded, never empty."""
    name = type(exc).__name__
    own = str(exc).strip()
    message = own if own and own != f"{name}()" else _KNOWN_MESSAGES.get(name, repr(exc))
    return name, redact.scrub(message)[:MAX_MESSAGE]


class RunRecorder:
    """Records one run. See the module docstring."""

    def __init__(self, settings: Settings, start: store.RunStart) -> None:
        self.settings = settings
        self.start = start
        self.dsn = settings.history_dsn.get_secret_value()
        self.run_id: int | None = None
        self.result: Result | None = None
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
            self.run_id = store.insert_run(self.dsn, self.start, started_at=self.started_at)
        except Exception as exc:  # noqa: BLE001 - the record must never stop the work
            self.history_error = str(exc)
            log.error("history.start_not_recorded", error=str(exc))
        if self.run_id is not None:
            self._log_tokens.update(structlog.contextvars.bind_contextvars(run_id=self.run_id))
            self._heartbeat = _Heartbeat(self.dsn, self.run_id, self.settings.heartbeat_interval_s)
            self._heartbeat.start()
        log.info("run.started", params=redact.redact_params(self.start.params))
        return self

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
                self.error_type = "CheckFailed"
                self.error_message = "; ".join(
                    f"{c.name}: observed {c.observed!r}, expected {c.expected!r}"
                    + (f" ({c.detail})" if c.detail else "")
                    for c in self.result.failed
                )[:MAX_MESSAGE]

    def _result_json(self) -> dict[str, Any] | None:
        if self.result is not None:
            return self.result.to_dict()
        if self.status is RunStatus.SKIPPED:
            return {"summary": self.summary, "checks": [], "figures": {}}
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
