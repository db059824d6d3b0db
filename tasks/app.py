"""The Celery app, configured for long unattended jobs on a Redis broker.

``celery -A tasks``, ``-A tasks.app`` and ``-A tasks.celery`` all find it. Importing this
module reads no setting: :func:`create_app` defers the configuration until Celery needs it.
"""

from __future__ import annotations

from typing import Any

from celery import Celery

import beat_schedule
from maintenance import catalog, logs_setup
from maintenance.config import Settings, get_settings
from maintenance.logs import hosts as log_hosts

#: Above the longest hard time limit: a task still running when Redis's visibility
#: timeout expires is delivered a second time (Celery + Redis + acks_late).
VISIBILITY_MARGIN_S = 1800


def visibility_timeout(settings: Settings) -> int:
    return catalog.longest_time_limit(settings.time_limits) + VISIBILITY_MARGIN_S


def celery_config(settings: Settings) -> dict[str, Any]:
    catalog.check_overrides(settings.time_limits)
    vt = visibility_timeout(settings)
    return {
        "broker_url": settings.broker_url.get_secret_value(),
        "result_backend": settings.result_backend_url,
        # JSON only: no pickle from a shared broker.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        # UTC inside; the configured zone is only beat's calendar.
        "enable_utc": True,
        "timezone": settings.timezone,
        # A message is acknowledged when the task ends, not when it starts, and a worker
        # reserves one message at a time: a long backup never sits on a second one.
        "task_acks_late": True,
        "worker_prefetch_multiplier": 1,
        # A killed child's task is recorded lost and not re-run blindly (it may be what
        # killed the child); beat or on-call runs it again.
        "task_reject_on_worker_lost": False,
        "task_acks_on_failure_or_timeout": True,
        "broker_transport_options": {"visibility_timeout": vt},
        "result_backend_transport_options": {"visibility_timeout": vt},
        "broker_connection_retry_on_startup": True,
        # With acks_late, a connection loss would otherwise leave a running task's
        # message to be redelivered while it still runs.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "task_default_queue": settings.queue,
        # A log task naming its host goes to that host's queue (logs.<host>), from Flower
        # too; beat's entries name the queue themselves.
        "task_routes": (route,),
        "task_create_missing_queues": True,
        "task_track_started": True,
        "result_extended": True,
        "result_expires": 7 * 24 * 3600,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "worker_max_tasks_per_child": 200,
        "beat_schedule": beat_schedule.build(settings),
        # Each task's time limits, overridable with MAINT_TIME_LIMITS: applied when the
        # tasks are bound, so defining a task reads no setting.
        "task_annotations": {
            spec.name: dict(zip(("soft_time_limit", "time_limit"), catalog.time_limits(spec, settings.time_limits), strict=True))
            for spec in catalog.SPECS
        },
    }


def route(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **_: Any) -> Any:
    queue = log_hosts.queue_for(name, kwargs or {})
    return {"queue": queue} if queue else None


def create_app() -> Celery:
    """The Celery app, its configuration read from the settings when Celery first needs
    it (a worker, beat or Flower starting), not when this module is imported: a bad
    setting still stops them at start with a message naming it."""
    celery = Celery(
        "maintenance",
        include=[
            "tasks.backup",
            "tasks.cache",
            "tasks.capacity",
            "tasks.db",
            "tasks.diag",
            "tasks.health",
            "tasks.logs",
            "tasks.notify",
            "tasks.report",
            "tasks.restore",
            "tasks.security",
            "tasks.signals",
            "tasks.smoke",
            "tasks.window",
        ],
    )
    celery.add_defaults(_configure)
    return celery


def _configure() -> dict[str, Any]:
    settings = get_settings()
    logs_setup.configure(settings.log_level, settings.log_format)
    return celery_config(settings)


app = create_app()
