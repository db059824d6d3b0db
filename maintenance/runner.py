"""Execute a task spec: validate, lock, run, record. The one path every run takes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maintenance import clock, locks, redelivery
from maintenance.config import Settings
from maintenance.errors import BadInput, ParamError, RunSkipped, is_transient
from maintenance.history import store
from maintenance.history.recorder import RunRecorder
from maintenance.results import RunStatus, Trigger
from maintenance.taskspec import Params, RunContext, StepRecorder, TaskSpec

#: When the session that holds a lock belongs to a process known to be gone, PostgreSQL
#: ends it a moment later: wait this long for the lock before recording ``skipped``.
LOCK_RELEASE_WAIT_S = 10.0


@dataclass
class Outcome:
    """How a run ended, for the CLI and the Celery wrapper."""

    task: str
    run_id: int | None
    status: RunStatus
    summary: str
    duration_s: float
    error_type: str | None = None
    error_message: str | None = None
    result: dict[str, Any] | None = None
    history_error: str | None = None
    exc: BaseException | None = field(default=None, repr=False)
    #: A redelivered message whose run was lost, and the task's policy retries it: the
    #: caller sends a new attempt (the message itself was not executed).
    retry_lost: bool = False

    @property
    def bad_input(self) -> bool:
        return isinstance(self.exc, BadInput)

    @property
    def transient(self) -> bool:
        return self.exc is not None and is_transient(self.exc)

    @property
    def exit_code(self) -> int:
        return 2 if self.bad_input else self.status.exit_code

    @classmethod
    def of(cls, rec: RunRecorder, exc: BaseException | None) -> Outcome:
        """The outcome a recorder settled on, with the exception the body raised."""
        return cls(
            task=rec.start.task,
            run_id=rec.run_id,
            status=rec.status,
            summary=rec.summary,
            duration_s=rec.duration_s,
            error_type=rec.error_type,
            error_message=rec.error_message,
            result=rec.result.to_dict() if rec.result else None,
            history_error=rec.history_error,
            exc=exc,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (the Celery task's return value, ``--json`` output)."""
        return {
            "task": self.task,
            "run_id": self.run_id,
            "status": self.status.value,
            "summary": self.summary,
            "duration_s": round(self.duration_s, 3),
            "error_type": self.error_type,
            "error_message": self.error_message,
            "result": self.result,
        }


def execute(
    spec: TaskSpec[Any],
    raw_params: Mapping[str, Any],
    *,
    positional: Sequence[Any] = (),
    settings: Settings,
    trigger: Trigger,
    celery_task_id: str | None = None,
    attempt: int = 1,
    window_run_id: int | None = None,
    confirm: Callable[[str], bool] | None = None,
    redelivered: bool = False,
) -> Outcome:
    """Run ``spec`` once and record it. Exceptions become the outcome (``exc``), except
    BaseExceptions (a worker's shutdown), which are recorded and re-raised.

    A run with a ``celery_task_id`` (a delivered message) is claimed by that id and
    ``attempt`` first: a message whose run is already recorded is never executed again,
    only recorded ``skipped`` (:mod:`maintenance.redelivery`). ``redelivered`` is the
    broker's flag; such a message is not executed when the claim cannot be checked.
    """
    problem: BadInput | None = None
    params: Params | None = None
    if positional:
        problem = ParamError(
            f"{spec.name}: positional arguments are not accepted "
            f"(got {list(positional)!r}); pass parameters by name (kwargs)"
        )
    else:
        try:
            params = spec.parse(raw_params)
        except BadInput as exc:
            problem = exc
    start = store.RunStart(
        task=spec.name,
        trigger=trigger,
        # stored as validated and typed (60, not "60"); what was given, not the defaults
        params=params.model_dump(mode="json", exclude_unset=True) if params else dict(raw_params),
        celery_task_id=celery_task_id,
        attempt=attempt,
        window_run_id=window_run_id,
    )
    caught: BaseException | None = None
    retry_lost = False
    rec = RunRecorder(settings, start, claim=celery_task_id is not None)
    try:
        with rec:
            if rec.earlier is not None and rec.earlier.seen is not None:
                decision = redelivery.decide(
                    rec.earlier.seen, list(rec.earlier.runs), spec.lost_retry, clock.now()
                )
                retry_lost = decision.retry
                raise RunSkipped(decision.reason)
            if rec.claim and not rec.claim_checked and redelivered:
                raise RunSkipped(
                    "redelivered, and the job-history database could not be asked whether "
                    "its run already happened: not run (beat or on-call runs it again)"
                )
            if problem is not None:
                raise problem
            assert params is not None
            ctx = RunContext(
                settings,
                rec.run_id,
                trigger,
                spec.name,
                window_run_id,
                confirm,
                step_recorder=step_recorder(settings, start, rec.run_id),
            )
            if spec.exclusive:
                dsn = settings.history_dsn.get_secret_value()
                with locks.try_exclusive(dsn, spec.lock_name, wait_for_dead_s=LOCK_RELEASE_WAIT_S) as lock:
                    if not lock:
                        raise RunSkipped(_held_by(dsn, spec, rec.run_id))
                    rec.watch(lock)
                    rec.complete(spec.func(ctx, params))
            else:
                rec.complete(spec.func(ctx, params))
    except Exception as exc:  # noqa: BLE001 - recorded by the recorder; returned to the caller
        caught = exc
    if rec.status is RunStatus.RUNNING:  # the recorder never settled: it failed itself
        rec.status = RunStatus.FAILED
        rec.error_type, rec.error_message = type(caught).__name__, str(caught)
        rec.summary = f"{rec.error_type}: {rec.error_message}"
    outcome = Outcome.of(rec, caught)
    outcome.retry_lost = retry_lost
    return outcome


def step_recorder(settings: Settings, run: store.RunStart, run_id: int | None) -> StepRecorder:
    """Steps of this run: rows of their own pointing at it (``parent_run_id``, ``step``)."""

    def open_step(name: str, params: dict[str, Any]) -> RunRecorder:
        start = store.RunStart(
            run.task,
            run.trigger,
            params,
            window_run_id=run.window_run_id,
            parent_run_id=run_id,
            step=name,
        )
        return RunRecorder(settings, start)

    return open_step


def _held_by(dsn: str, spec: TaskSpec[Any], own_run_id: int | None) -> str:
    base = f"another run holds the {spec.lock_name!r} lock"
    try:
        others = [r for r in store.running(dsn) if r.id != own_run_id and r.task == spec.name]
    except Exception:  # noqa: BLE001 - the reason is informative only
        others = []
    if not others:
        return base
    r = others[0]
    since = f"{r.started_at:%Y-%m-%d %H:%M:%S}Z"
    return f"{base}: run {r.id} ({r.task}, {r.trigger}) on {r.host} pid {r.pid} since {since}"


def reject(
    spec: TaskSpec[Any],
    raw_params: Mapping[str, Any],
    error: BadInput,
    *,
    settings: Settings,
    trigger: Trigger,
) -> Outcome:
    """Record a run that was refused before it started (bad parameters), so that the
    history says why, and return its outcome."""
    rec = RunRecorder(settings, store.RunStart(spec.name, trigger, dict(raw_params)))
    try:
        with rec:
            raise error
    except BadInput:
        pass
    return Outcome.of(rec, error)
