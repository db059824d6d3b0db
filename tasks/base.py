"""The thin wrapper: a Celery task that runs a TaskSpec through the shared runner.

It reads who started it from the message headers (``maint_trigger``,
``maint_window_run_id``; absent means a person sent it: ``adhoc``), runs the spec (which
first claims the run by its Celery task id and attempt, so a redelivered message never
runs twice), retries only transient errors with backoff, sends a new attempt when a lost
run's policy says so, and reports a failed run as a Celery failure so that Flower shows
it red.
"""

from __future__ import annotations

from typing import Any

from celery import Task

from maintenance import runner
from maintenance.config import get_settings
from maintenance.errors import PermanentError
from maintenance.results import RunStatus, Trigger
from maintenance.taskspec import TaskSpec
from tasks.app import app

TRIGGER_HEADER = "maint_trigger"
WINDOW_HEADER = "maint_window_run_id"


class RunFailed(PermanentError):
    """The run ended failed; its history row says why."""


def headers_for(trigger: Trigger, window_run_id: int | None = None) -> dict[str, Any]:
    """Message headers that tell the worker who started a run."""
    out: dict[str, Any] = {TRIGGER_HEADER: trigger.value}
    if window_run_id is not None:
        out[WINDOW_HEADER] = window_run_id
    return out


def _header(request: Any, name: str) -> Any:
    value = getattr(request, name, None)
    if value is None:
        value = (getattr(request, "headers", None) or {}).get(name)
    return value


def trigger_of(request: Any) -> tuple[Trigger, int | None]:
    raw = _header(request, TRIGGER_HEADER)
    try:
        trigger = Trigger(raw) if raw else Trigger.ADHOC
    except ValueError:
        trigger = Trigger.ADHOC
    if trigger is Trigger.CLI:  # only an in-process run is a cli run
        trigger = Trigger.ADHOC
    window = _header(request, WINDOW_HEADER)
    return trigger, int(window) if window is not None else None


def backoff_s(retries: int) -> float:
    """Delay before retry number ``retries + 1``: doubling from MAINT_RETRY_BACKOFF_S."""
    return float(min(600.0, get_settings().retry_backoff_s * 2**retries))


def redelivered(request: Any) -> bool:
    """The broker's flag on a message it handed out again (kombu sets it on restore)."""
    return bool((getattr(request, "delivery_info", None) or {}).get("redelivered"))


def define(spec: TaskSpec[Any]) -> Task:
    """Register ``spec`` as a Celery task under its own name (time limits come from the
    app's ``task_annotations``, read with the settings)."""

    @app.task(name=spec.name, bind=True, max_retries=spec.max_retries, acks_late=True)
    def run(self: Task, *args: Any, **params: Any) -> dict[str, Any]:
        trigger, window_run_id = trigger_of(self.request)
        outcome = runner.execute(
            spec,
            params,
            positional=args,
            settings=get_settings(),
            trigger=trigger,
            celery_task_id=self.request.id,
            attempt=self.request.retries + 1,
            window_run_id=window_run_id,
            redelivered=redelivered(self.request),
        )
        if outcome.retry_lost:  # a lost run the task's policy retries: a new attempt, now
            raise self.retry(countdown=0, max_retries=self.request.retries + 1)
        if outcome.transient and self.request.retries < spec.max_retries:
            raise self.retry(countdown=backoff_s(self.request.retries), exc=outcome.exc)
        if outcome.status in (RunStatus.FAILED, RunStatus.LOST):
            raise RunFailed(f"run {outcome.run_id}: {outcome.summary}")
        return outcome.to_dict()

    run.__doc__ = spec.description
    return run
