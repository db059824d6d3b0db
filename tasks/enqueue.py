"""The Celery side of :mod:`maintenance.dispatch`: send a task, read its state.

The broker and the result store are asked with short timeouts first, so an unreachable
Redis is one clear error naming its setting within seconds, not Celery's reconnect loop
and a traceback.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from kombu.exceptions import OperationalError as KombuOperationalError

from maintenance import redact
from maintenance.config import Settings, get_settings
from maintenance.errors import ServiceUnavailable
from maintenance.logs import hosts as log_hosts
from maintenance.results import Trigger

CONNECT_TIMEOUT_S = 3.0
#: The least time a ping collects replies (a worker answers in milliseconds).
MIN_COLLECT_S = 0.1
#: kombu's BRPOP timeout on the ping's own connection (Redis >= 6 takes fractions).
PING_POLL_S = 0.1


class CeleryDispatcher:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()

    def _check(self, url: str, setting: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        try:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s
            )
            try:
                client.ping()
            finally:
                client.close()
        except (redis.RedisError, OSError, ValueError) as exc:
            raise ServiceUnavailable(
                f"cannot reach {setting}={redact.mask_url(url)}: {redact.scrub(str(exc))}"
            ) from None

    def _check_services(self) -> None:
        broker = self.settings.broker_url.get_secret_value()
        if broker.startswith(("redis://", "rediss://", "unix://")):
            self._check(broker, "MAINT_BROKER_URL")
        backend = self.settings.result_backend_url
        if backend.startswith(("redis://", "rediss://")) and backend != broker:
            self._check(backend, "MAINT_RESULT_BACKEND")

    def send(self, task: str, kwargs: dict[str, Any], *, trigger: Trigger) -> str:
        from tasks.app import app
        from tasks.base import headers_for

        self._check_services()
        try:
            result = app.send_task(
                task,
                kwargs=kwargs,
                queue=log_hosts.queue_for(task, kwargs) or self.settings.queue,
                headers=headers_for(trigger),
                kwargsrepr=repr(redact.redact_params(kwargs)),
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0.5, "interval_step": 0.5},
                # the worker's own limits (its MAINT_TIME_LIMITS), never this process's:
                # send_task would copy a locally registered task's limits into the message
                time_limit=None,
                soft_time_limit=None,
            )
        except (KombuOperationalError, OSError) as exc:
            url = redact.mask_url(self.settings.broker_url.get_secret_value())
            raise ServiceUnavailable(
                f"cannot send {task} to MAINT_BROKER_URL={url}: {redact.scrub(str(exc))}"
            ) from None
        return str(result.id)

    def state(self, celery_task_id: str) -> str:
        from tasks.app import app

        try:
            return str(app.AsyncResult(celery_task_id).state)
        except (redis.RedisError, OSError):
            return "UNKNOWN"

    def ping(self, timeout_s: float) -> list[str]:
        """Workers answering a broadcast ping within ``timeout_s`` (it always waits that
        long: replies are collected until then). The broker is asked first, with the
        same timeout, so a broker that is down is an error at once, not kombu's
        reconnect loop. The whole call takes about ``timeout_s``: what importing Celery
        and asking the broker took is not waited for again."""
        start = time.monotonic()
        from tasks.app import app

        broker = self.settings.broker_url.get_secret_value()
        if broker.startswith(("redis://", "rediss://", "unix://")):
            self._check(broker, "MAINT_BROKER_URL", timeout_s)
        try:
            # A connection of its own, closed after, polling with short BRPOPs: a pooled
            # one keeps the 1 s BRPOP the previous ping left in flight, and a ping shorter
            # than that lost its replies to it (tried: every other one); closing waits for
            # the BRPOP in flight, so a short one keeps the call near ``timeout_s``.
            with app.connection_for_write(
                transport_options={"polling_interval": PING_POLL_S}
            ) as conn:
                left = max(MIN_COLLECT_S, timeout_s - (time.monotonic() - start))
                replies = app.control.ping(timeout=left, connection=conn)
        except (KombuOperationalError, OSError) as exc:
            raise ServiceUnavailable(
                f"cannot ping the workers on MAINT_BROKER_URL={redact.mask_url(broker)}: "
                f"{redact.scrub(str(exc))}"
            ) from None
        return sorted({name for reply in replies or [] for name in reply})


def dispatcher() -> CeleryDispatcher:
    """Entry point ``maintenance.dispatch:celery``."""
    return CeleryDispatcher()
