"""Worker life-cycle hooks: logging, and turning dead runs into ``lost`` rows.

Three nets, fastest first:

1. the worker's parent process sees a child die (``WorkerLostError``) or kill a task at
   its hard time limit: the run's row is completed at once;
2. at start-up, a worker marks lost the rows of its own host whose process is gone;
3. every worker's main process reaps, every ``MAINT_REAP_INTERVAL_S``, any row whose
   heartbeat is older than ``MAINT_LOST_AFTER_S`` (a whole worker or host died).
"""

from __future__ import annotations

import threading
from typing import Any

from billiard.exceptions import WorkerLostError
from celery import signals
from celery.exceptions import TimeLimitExceeded

from maintenance import logs_setup
from maintenance.config import get_settings
from maintenance.errors import MaintenanceError
from maintenance.history import lost

log = logs_setup.get_logger("maint.worker")
_reaper_started = threading.Event()


@signals.setup_logging.connect
def _setup_logging(**_: Any) -> None:
    settings = get_settings()
    logs_setup.configure(settings.log_level, settings.log_format, force=True)


def reap_once() -> list[int]:
    settings = get_settings()
    dsn = settings.history_dsn.get_secret_value()
    dead = lost.sweep_dead_local(dsn, heartbeat_interval_s=settings.heartbeat_interval_s)
    dead += lost.reap(dsn, lost_after_s=settings.lost_after_s)
    if dead:
        log.warning("history.runs_lost", run_ids=dead)
    return dead


def _reaper_loop(stop: threading.Event) -> None:
    while not stop.wait(get_settings().reap_interval_s):
        try:
            reap_once()
        except MaintenanceError as exc:
            log.warning("history.reap_failed", error=str(exc))


def check_history_schema() -> str | None:
    """A message if the history database is not at the schema this version needs."""
    from maintenance.history import migrate

    try:
        current = migrate.current(get_settings().history_dsn.get_secret_value())
    except Exception as exc:  # noqa: BLE001 - reported, never fatal: tasks run without a record
        return f"cannot read the job-history schema: {exc}"
    if current != migrate.head():
        return f"the job-history schema is at {current or 'nothing'}, this version needs {migrate.head()}: run `maint db upgrade`"
    return None


@signals.worker_ready.connect
def _on_worker_ready(**_: Any) -> None:
    problem = check_history_schema()
    if problem:
        log.error("history.schema_outdated", problem=problem)
    try:
        reap_once()
    except MaintenanceError as exc:
        log.warning("history.reap_failed", error=str(exc))
    if not _reaper_started.is_set():
        _reaper_started.set()
        threading.Thread(
            target=_reaper_loop, args=(threading.Event(),), name="maint-reaper", daemon=True
        ).start()


@signals.task_failure.connect
def _on_task_failure(
    task_id: str | None = None, exception: BaseException | None = None, **_: Any
) -> None:
    """Runs in the worker's parent for these two; in the child the row is already done."""
    if not task_id or not isinstance(exception, WorkerLostError | TimeLimitExceeded):
        return
    dsn = get_settings().history_dsn.get_secret_value()
    try:
        if isinstance(exception, TimeLimitExceeded):
            ids = lost.fail_running_by_celery_id(
                dsn,
                task_id,
                "TimeLimitExceeded",
                f"hard time limit ({exception}s) exceeded: the worker killed the task",
            )
        else:
            ids = lost.mark_lost_by_celery_id(
                dsn, task_id, f"the worker process running it died ({exception})"
            )
    except MaintenanceError as exc:
        log.warning("history.update_failed", error=str(exc), celery_task_id=task_id)
        return
    if ids:
        log.warning("history.run_ended_by_worker", run_ids=ids, reason=type(exception).__name__)
